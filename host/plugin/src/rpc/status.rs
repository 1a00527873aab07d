//! `revenue-status`.

use crate::loops::Loop;
use crate::params::Params;
use crate::state::State;
use cln_plugin::Plugin;
use serde_json::{Value, json};

pub async fn status(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    Params::parse("revenue-status", &params, &[])?;
    let state = p.state();
    let engine = &state.0.engine;
    let settings = engine.settings();
    let status = engine.status();
    let now = engine.now();
    let policies: Vec<Value> = engine
        .policies()
        .iter()
        .map(|policy| {
            let meta = policy.metadata();
            json!({
                "name": policy.name(),
                "version": policy.version(),
                "description": meta.description,
                "roles": meta.roles.iter().map(|r| format!("{r:?}").to_lowercase()).collect::<Vec<_>>(),
                "sha256": policy.hash(),
                "size_bytes": policy.size_bytes(),
                "source": state.0.registry.source(policy.name()),
                "default_for_dynamic_peers": policy.name() == settings.default_fee_policy,
            })
        })
        .collect();
    let default_loaded = engine
        .policies()
        .get(&settings.default_fee_policy)
        .is_some();
    let fee_loop = state.loop_status(Loop::Fee).clone();
    let flow_loop = state.loop_status(Loop::Flow).clone();
    let rebalance_loop = state.loop_status(Loop::Rebalance).clone();
    let rebalancing = super::rebalance::status(state).await;
    let flow_settings = engine.flow_settings();
    let store = engine.store();
    let (changes_total, changes_pending) = store.fee_change_counts()?;
    let last_change = store.fee_changes(None, 1)?.into_iter().next();
    Ok(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "started_at": state.0.started_at,
        "uptime_secs": now.saturating_sub(state.0.started_at),
        "dry_run": settings.dry_run,
        "database": {
            "path": state.0.db_path.display().to_string(),
            "schema_version": engine.store().schema_version()?,
        },
        "forward_events": *state.forward_events(),
        "loops": [{
            "name": Loop::Fee.name(),
            "interval_secs": settings.fee_interval_secs,
            "last_run_at": fee_loop.last_run_at,
            "next_run_at": fee_loop.next_run_at,
            "cycles_run": status.fee_cycles_run,
            "last_cycle": status.last_fee_cycle,
        }, {
            "name": Loop::Flow.name(),
            "interval_secs": state.config().flow_interval_secs(),
            "last_run_at": flow_loop.last_run_at,
            "next_run_at": flow_loop.next_run_at,
            "window_days": flow_settings.window_days,
        }, {
            "name": Loop::Rebalance.name(),
            "interval_secs": state.config().rebalance_interval_secs(),
            "last_run_at": rebalance_loop.last_run_at,
            "next_run_at": rebalance_loop.next_run_at,
        }],
        "rebalancing": rebalancing,
        "fee_policy": {
            "default": settings.default_fee_policy,
            "loaded": default_loaded,
            "min_fee_ppm": settings.min_fee_ppm,
            "max_fee_ppm": settings.max_fee_ppm,
        },
        "fee_changes": {
            "total": changes_total,
            "pending": changes_pending,
            "last": last_change,
        },
        "policies": policies,
        "policy_dir": state.0.policy_dir.display().to_string(),
        "policy_load_errors": state.0.registry.rejected(),
        "policy_failures": {
            "total": status.policy_failures_total,
            "by_kind": status.policy_failures_by_kind,
            "last": status.last_policy_failure,
        },
        "lightningd_rpc": {
            "timeout_secs": state.0.rpc_settings.timeout_secs(),
            "circuit_breaker_secs": state.0.rpc_settings.breaker_secs(),
            "breakers": engine.node().breaker_status(),
        },
    }))
}
