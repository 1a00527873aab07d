//! The CLN face: manifest (options, RPC methods), start-up, the loops.
//!
//! Invariants: nothing is ever printed to stdout (it is the protocol
//! channel; logs go to lightningd through the `log` crate); no hooks are
//! registered; a start-up failure disables the plugin with a reason instead
//! of crashing lightningd's start.

use crate::config::{Config, KEYS, find_key, parse_value};
use crate::forward_events;
use crate::loops::{self, Loop};
use crate::options;
use crate::policies;
use crate::registry::PolicyRegistry;
use crate::rpc;
use crate::state::{Inner, LoopStatus, Rebalancer, State};
use crate::watch;
use anyhow::Context;
use cln_plugin::{Builder, ConfiguredPlugin, options::Value as OptValue};
use revops_core::{Clock, SystemClock};
use revops_engine::quarantine::Quarantine;
use revops_engine::{FeeEngine, PolicySet, RebalanceEngine, RebalanceSettings};
use revops_node::{ClnNode, RpcSettings};
use revops_runtime::{Limits, LoadedPolicy, PolicyRuntime, Role};
use revops_store::Store;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{Stdin, Stdout};

pub fn run() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(serve())
}

async fn serve() -> anyhow::Result<()> {
    let builder = Builder::new(tokio::io::stdin(), tokio::io::stdout())
        .option(options::db_path())
        .option(options::policy_dir())
        .option(options::fee_interval())
        .option(options::min_fee_ppm())
        .option(options::max_fee_ppm())
        .option(options::dry_run())
        .option(options::rpc_timeout())
        .option(options::rpc_breaker())
        .option(options::default_fee_policy())
        .option(options::flow_interval())
        .option(options::flow_window_days())
        .option(options::htlc_congestion_threshold())
        .option(options::flow_source_threshold())
        .option(options::flow_sink_threshold())
        .option(options::hive_fee_ppm())
        .option(options::rebalance_interval())
        .option(options::min_wallet_reserve())
        .option(options::daily_budget_sats())
        .option(options::proportional_budget())
        .option(options::proportional_budget_pct())
        .option(options::max_concurrent_jobs())
        .option(options::reservation_timeout_hours())
        .option(options::rebalance_min_profit())
        .option(options::enable_kelly())
        .option(options::kelly_fraction())
        .option(options::enable_reputation())
        .option(options::reputation_decay())
        .option(options::rebalance_scorer());
    let builder = options::policy_limits()
        .into_iter()
        .chain(options::policy_quarantine())
        .fold(builder, |builder, option| builder.option(option));
    let builder = builder
        .setconfig_callback(rpc::config::setconfig)
        .subscribe("shutdown", on_shutdown)
        .subscribe("forward_event", forward_events::on_forward_event);
    let builder = rpc::register(builder);
    let Some(configured) = builder.configure().await? else {
        // `--help` or getmanifest only.
        return Ok(());
    };
    let state = match build_state(&configured) {
        Ok(state) => state,
        Err(e) => {
            let reason = format!("cl-revenue-ops cannot start: {e:#}");
            log::error!("{reason}");
            configured.disable(&reason).await?;
            return Ok(());
        }
    };
    let plugin = configured.start(state.clone()).await?;
    log::info!(
        "cl-revenue-ops {} started: database {}, {} fee policies loaded{}",
        env!("CARGO_PKG_VERSION"),
        state.0.db_path.display(),
        state.0.engine.policies().iter().count(),
        if state.0.engine.settings().dry_run {
            ", DRY-RUN"
        } else {
            ""
        }
    );
    tokio::spawn(forward_events::run(state.clone()));
    tokio::spawn(loops::run(state.clone(), Loop::Flow));
    tokio::spawn(loops::run(state.clone(), Loop::Fee));
    match state.rebalancer() {
        Ok(_) => {
            tokio::spawn(reconcile_rebalances(state.clone()));
            tokio::spawn(loops::run(state.clone(), Loop::Rebalance));
        }
        Err(why) => log::warn!("rebalancing is disabled: {why}"),
    }
    watch::spawn(state.clone());
    tokio::spawn(on_sigterm(state));
    plugin.join().await
}

/// Settles rebalances left running by the previous run: a job sling no
/// longer has is finished and its budget hold released; one it still runs
/// is resumed. Needs sling, which may start after us: retried a few times.
async fn reconcile_rebalances(state: State) {
    const ATTEMPTS: u32 = 5;
    const RETRY: Duration = Duration::from_secs(10);
    let Ok(rebalancer) = state.rebalancer() else {
        return;
    };
    for attempt in 1..=ATTEMPTS {
        let running = rebalancer
            .store()
            .running_rebalances()
            .map_or(0, |r| r.len());
        if running == 0 {
            return;
        }
        match rebalancer.reconcile().await {
            Ok((finished, sling_answered)) => {
                let left = rebalancer
                    .store()
                    .running_rebalances()
                    .map_or(0, |r| r.len());
                if sling_answered || left < running {
                    log::info!(
                        "start-up: {running} rebalances were running; {} finished ({}), {left} resumed",
                        finished.len(),
                        finished
                            .iter()
                            .map(|f| format!("#{} {}", f.rebalance_id, f.outcome.as_str()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                // Without sling's answer the jobs are judged again shortly.
                if sling_answered {
                    return;
                }
            }
            Err(e) => log::warn!("start-up reconciliation of rebalances failed: {e}"),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(RETRY).await;
        }
    }
}

/// Stops sling on our running rebalances, within a few seconds. When
/// lightningd itself shuts down it refuses our calls (-5) and sling stops
/// with it; the rows stay running and the next start-up reconciles them
/// (resumed if sling still runs the job, finished if it is gone).
async fn stop_rebalances(state: &State) {
    const STOP_WITHIN: Duration = Duration::from_secs(5);
    let Ok(rebalancer) = state.rebalancer() else {
        return;
    };
    if rebalancer.settings().dry_run {
        return;
    }
    match tokio::time::timeout(STOP_WITHIN, rebalancer.stop_running_jobs()).await {
        Ok(Ok(stopped)) if !stopped.is_empty() => {
            log::info!(
                "stopped {} rebalance jobs: {}",
                stopped.len(),
                stopped.join(", ")
            )
        }
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            log::info!("could not stop rebalance jobs ({e}); the next start reconciles them")
        }
        Err(_) => {
            log::warn!("stopping rebalance jobs took longer than {STOP_WITHIN:?}; left to sling")
        }
    }
}

async fn on_shutdown(plugin: cln_plugin::Plugin<State>, _params: Value) -> anyhow::Result<()> {
    log::info!("lightningd is shutting down; stopping cl-revenue-ops");
    stop_rebalances(plugin.state()).await;
    // The database is consistent at every commit; nothing to flush.
    std::process::exit(0);
}

/// SIGTERM without lightningd's shutdown notification (e.g. a service
/// manager stopping the plugin): the same orderly stop.
async fn on_sigterm(state: State) {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return;
    };
    if term.recv().await.is_some() {
        log::info!("SIGTERM: stopping cl-revenue-ops");
        stop_rebalances(&state).await;
        std::process::exit(0);
    }
}

fn option_json(v: Option<OptValue>) -> Value {
    match v {
        Some(OptValue::Integer(i)) => json!(i),
        Some(OptValue::Boolean(b)) => json!(b),
        Some(OptValue::String(s)) => json!(s),
        _ => Value::Null,
    }
}

fn build_state(configured: &ConfiguredPlugin<State, Stdin, Stdout>) -> anyhow::Result<State> {
    let cfg = configured.configuration();
    let lightning_dir = PathBuf::from(&cfg.lightning_dir);
    let rpc_path = lightning_dir.join(&cfg.rpc_file);
    let path_option = |name: &str, default: PathBuf| -> anyhow::Result<PathBuf> {
        Ok(match configured.option_str(name)? {
            Some(OptValue::String(s)) if !s.is_empty() => {
                let p = PathBuf::from(s);
                if p.is_absolute() {
                    p
                } else {
                    lightning_dir.join(p)
                }
            }
            _ => default,
        })
    };
    let db_path = path_option(
        options::db_path().name,
        lightning_dir.join("revenue_ops.db"),
    )?;
    let policy_dir = path_option(
        options::policy_dir().name,
        lightning_dir.join("revenue-ops").join("policies"),
    )?;

    let mut option_values = BTreeMap::new();
    for key in KEYS {
        let raw = option_json(configured.option_str(key.option)?);
        let value =
            parse_value(key, &raw).map_err(|e| anyhow::anyhow!("option {}: {e}", key.option))?;
        option_values.insert(key.key, value);
    }
    let mut config = Config::new(option_values);

    let store =
        Arc::new(Store::open(&db_path).with_context(|| format!("opening {}", db_path.display()))?);
    for (key, raw) in store.config_overrides()? {
        match find_key(&key).map(|k| (k, parse_value(k, &Value::String(raw.clone())))) {
            Some((k, Ok(v))) => config.set_override(k.key, v),
            _ => log::warn!("ignoring stored override {key}={raw}: not a valid setting"),
        }
    }
    config
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;

    let mut runtime =
        PolicyRuntime::new(Limits::default()).context("starting the policy runtime")?;
    runtime.set_role_limits(config.role_limits());
    // Compiled policies are kept in a directory the plugin owns so a restart
    // does not compile them again. Without it the plugin still runs, only
    // slower to start.
    let compiled_dir = lightning_dir.join("revenue-ops").join("compiled");
    if let Err(e) = runtime.set_code_cache(&compiled_dir) {
        log::warn!("{e}; policies will be compiled at every start");
    }
    let runtime = Arc::new(runtime);
    let (policies, policy_sources, policy_load_errors) = policies::load_all(&runtime, &policy_dir);

    let rpc_settings = RpcSettings::new(config.rpc_timeout_secs(), config.rpc_breaker_secs());
    let node = Arc::new(ClnNode::new(rpc_path, Arc::clone(&rpc_settings)));
    let settings = config.fee_settings();
    let rebalance_settings = config.rebalance_settings(&RebalanceSettings::default());
    let built_in_scorer = runtime
        .load(revops_policy_artifacts::REBALANCE_EV)
        .map(Arc::new)
        .map_err(|e| format!("the built-in rebalance scorer failed to load: {e}"));
    let engine = FeeEngine::new(
        Arc::clone(&node),
        SystemClock,
        Arc::clone(&store),
        Arc::clone(&runtime),
        policies.clone(),
        settings,
    );
    engine.set_flow_settings(config.flow_settings());
    engine
        .quarantine()
        .set_settings(config.quarantine_settings());
    let rebalancer = rebalancer(
        &node,
        &store,
        &runtime,
        &built_in_scorer,
        &policies,
        rebalance_settings,
        engine.quarantine(),
    );
    if let Ok(rebalancer) = &rebalancer {
        rebalancer.set_policy_book(Arc::clone(engine.policy_book()));
    }
    Ok(State(Arc::new(Inner {
        started_at: SystemClock.now_secs(),
        engine,
        config: Mutex::new(config),
        rpc_settings,
        db_path,
        policy_dir,
        fee_loop: Mutex::new(LoopStatus::default()),
        flow_loop: Mutex::new(LoopStatus::default()),
        rebalance_loop: Mutex::new(LoopStatus::default()),
        rebalance_loop_wake: tokio::sync::Notify::new(),
        registry: PolicyRegistry::new(policy_sources, policy_load_errors, SystemClock.now_secs()),
        fee_loop_wake: tokio::sync::Notify::new(),
        forward_event_wake: tokio::sync::Notify::new(),
        forward_events: Mutex::default(),
        flow_loop_wake: tokio::sync::Notify::new(),
        policy_changes: Mutex::new(Default::default()),
        rebalancer,
        built_in_scorer: built_in_scorer.ok(),
        last_rebalance: Mutex::new(None),
    })))
}

/// The rebalancer with its scorer, or why there is none.
fn rebalancer(
    node: &Arc<ClnNode>,
    store: &Arc<Store>,
    runtime: &Arc<PolicyRuntime>,
    built_in: &Result<Arc<LoadedPolicy>, String>,
    policies: &PolicySet,
    settings: RebalanceSettings,
    quarantine: &Arc<Quarantine>,
) -> Result<Rebalancer, String> {
    let built_in = built_in.as_ref().map_err(Clone::clone)?;
    let scorer = select_scorer(policies, built_in, &settings.scorer_policy);
    let rebalancer = RebalanceEngine::new(
        Arc::clone(node),
        SystemClock,
        Arc::clone(store),
        Arc::clone(runtime),
        scorer,
        settings,
    );
    rebalancer.set_quarantine(Arc::clone(quarantine), Arc::clone(built_in));
    Ok(rebalancer)
}

/// The scorer named `name`: the built-in one, or a loaded policy with the
/// rebalance-scorer role; anything else keeps the built-in one, logged.
pub fn select_scorer(
    policies: &PolicySet,
    built_in: &Arc<LoadedPolicy>,
    name: &str,
) -> Arc<LoadedPolicy> {
    if name == built_in.name() {
        return Arc::clone(built_in);
    }
    match policies.get(name) {
        Some(p) if p.has_role(Role::RebalanceScorer) => Arc::clone(p),
        Some(_) => {
            log::warn!(
                "policy {name} has no rebalance-scorer role; scoring with {}",
                built_in.name()
            );
            Arc::clone(built_in)
        }
        None => {
            log::warn!(
                "no policy named {name} is loaded; scoring with {}",
                built_in.name()
            );
            Arc::clone(built_in)
        }
    }
}
