//! One run of the scenario under one policy choice, on simulated time.
//!
//! Invariants:
//! - Every run, `static` included, starts from `SimNetwork::new(scenario.clone())`
//!   and advances the network through the same instants (every fee interval,
//!   then the end), sampling days at the same instants, so runs differ only in
//!   what their policy did. (The network's traffic is event-driven, so where
//!   it is stopped does not change what happens; only fees and balances do.)
//! - A policy run has its own engine and its own SQLite store in a temporary
//!   directory removed when the run ends: nothing carries over between runs.
//! - The wall clock is never read for decisions.

use super::SimulateArgs;
use super::report::Report;
use super::selection::PolicyChoice;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use revops_engine::{FeeEngine, FeeSettings, PolicySet};
use revops_runtime::PolicyRuntime;
use revops_sim::{Scenario, SimClock, SimNetwork, SimNode};
use revops_store::Store;
use std::sync::{Arc, Mutex};

/// The plugin's default flow-analysis interval.
const FLOW_INTERVAL_SECS: u64 = 3600;
use revops_store::DAY_SECS;

type SimEngine = FeeEngine<SimNode, SimClock>;

/// Run the whole scenario under `choice` and report what happened.
pub async fn run_policy(
    args: &SimulateArgs,
    scenario: &Scenario,
    choice: &PolicyChoice,
    runtime: &Arc<PolicyRuntime>,
) -> anyhow::Result<Report> {
    let label = choice.label();
    let network = Arc::new(Mutex::new(SimNetwork::new(scenario.clone())));
    // The store's directory must outlive the engine: both drop at the end.
    let (engine, _store_dir) = match choice.policy() {
        None => (None, None),
        Some(policy) => {
            let dir = tempfile::tempdir().context("creating a scratch directory")?;
            let store = Arc::new(
                Store::open(&dir.path().join("revenue_ops.db"))
                    .with_context(|| format!("opening the scratch store for {label}"))?,
            );
            let mut policies = PolicySet::default();
            policies.insert(Arc::clone(policy));
            let settings = FeeSettings {
                fee_interval_secs: args.fee_interval,
                dry_run: args.dry_run,
                // Every channel is `dynamic` in a fresh store, so this decides them all.
                default_fee_policy: policy.name().to_string(),
                ..FeeSettings::default()
            };
            let engine = FeeEngine::new(
                Arc::new(SimNode::new(Arc::clone(&network))),
                SimClock::new(Arc::clone(&network)),
                store,
                Arc::clone(runtime),
                policies,
                settings,
            );
            (Some(engine), Some(dir))
        }
    };

    let start = scenario.start_time_secs;
    let end = start + u64::from(args.days) * DAY_SECS;
    let cycles = (end - start) / args.fee_interval;
    let progress = ProgressBar::new(cycles);
    progress.set_style(
        ProgressStyle::with_template("{prefix} {bar:40} {pos}/{len} fee cycles, day {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_prefix(label.clone());
    let mut report = Report::new(scenario, args, label, &lock(&network));
    let mut next_flow_at = start;
    for cycle in 1..=cycles {
        let t = start + cycle * args.fee_interval;
        lock(&network).advance_to(t);
        if let Some(engine) = &engine {
            run_loops(engine, t, &mut next_flow_at, &mut report).await;
        }
        if (t - start) % DAY_SECS < args.fee_interval {
            report.record_day(&lock(&network));
        }
        progress.set_message(((t - start) / DAY_SECS).to_string());
        progress.inc(1);
    }
    lock(&network).advance_to(end);
    progress.finish_and_clear();
    report.finish(&lock(&network));
    Ok(report)
}

/// The plugin's flow loop (hourly), then its fee loop, as in lightningd.
async fn run_loops(engine: &SimEngine, t: u64, next_flow_at: &mut u64, report: &mut Report) {
    if t >= *next_flow_at {
        if let Err(e) = engine.run_flow_analysis(None).await {
            report.record_error(t, &e.to_string());
        }
        *next_flow_at = t + FLOW_INTERVAL_SECS;
    }
    match engine.run_fee_cycle().await {
        Ok(cycle_report) => report.record_cycle(&cycle_report),
        Err(e) => report.record_error(t, &e.to_string()),
    }
}

fn lock(network: &Arc<Mutex<SimNetwork>>) -> std::sync::MutexGuard<'_, SimNetwork> {
    network.lock().unwrap_or_else(|p| p.into_inner())
}
