//! `cl-revenue-ops simulate`: the plugin's full fee stack — same engine,
//! same policy, same rails, real SQLite in a temporary directory — against
//! the seeded simulated network, on simulated time.
//!
//! Invariant: a run is a pure function of (scenario, seed, days, settings);
//! the wall clock is never read for decisions.

mod report;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use revops_engine::{FeeEngine, FeeSettings, PolicySet};
use revops_runtime::{Limits, PolicyRuntime};
use revops_sim::{Scenario, SimClock, SimNetwork, SimNode};
use revops_store::Store;
use std::sync::{Arc, Mutex};

pub use report::Report;

/// The plugin's default flow-analysis interval.
const FLOW_INTERVAL_SECS: u64 = 3600;

#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Simulated days to run.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Seed of the simulated network (same seed, same run).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// `default` (8 channels of distinct characters) or `large`.
    #[arg(long, default_value = "default")]
    pub scenario: String,
    /// Channels in the `large` scenario.
    #[arg(long, default_value_t = 2000)]
    pub channels: usize,
    /// Seconds between fee cycles.
    #[arg(long, default_value_t = 1800)]
    pub fee_interval: u64,
    /// Decide and record, never change a fee.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let scenario = match args.scenario.as_str() {
        "default" => Scenario::default_node(args.seed),
        "large" => Scenario::large(args.seed, args.channels, 0),
        other => anyhow::bail!("unknown scenario `{other}` (expected default or large)"),
    };
    anyhow::ensure!(args.days >= 1, "--days must be at least 1");
    anyhow::ensure!(
        args.fee_interval >= 60,
        "--fee-interval must be at least 60 seconds"
    );
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = tokio.block_on(simulate(&args, scenario))?;
    print!("{}", report.render());
    Ok(())
}

/// Run the scenario twice on the same seed: once with fees left alone (the
/// baseline), once under the engine.
pub async fn simulate(args: &SimulateArgs, scenario: Scenario) -> anyhow::Result<Report> {
    let baseline = run_baseline(args, scenario.clone());
    let dir = tempfile::tempdir().context("creating a scratch directory")?;
    let store = Arc::new(Store::open(&dir.path().join("revenue_ops.db"))?);
    let runtime = Arc::new(PolicyRuntime::new(Limits::default())?);
    let mut policies = PolicySet::default();
    let policy = Arc::new(
        runtime
            .load(revops_policy_artifacts::FEE_ALPHA)
            .context("loading the built-in fee policy")?,
    );
    let policy_label = format!("{}@{}", policy.name(), policy.version());
    policies.insert(policy);
    let network = Arc::new(Mutex::new(SimNetwork::new(scenario.clone())));
    let settings = FeeSettings {
        fee_interval_secs: args.fee_interval,
        dry_run: args.dry_run,
        ..FeeSettings::default()
    };
    let engine = FeeEngine::new(
        Arc::new(SimNode::new(Arc::clone(&network))),
        SimClock::new(Arc::clone(&network)),
        Arc::clone(&store),
        runtime,
        policies,
        settings,
    );

    let start = scenario.start_time_secs;
    let end = start + u64::from(args.days) * 86_400;
    let cycles = (end - start) / args.fee_interval;
    let progress = ProgressBar::new(cycles);
    progress.set_style(
        ProgressStyle::with_template("simulating {bar:40} {pos}/{len} fee cycles, day {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut report = Report::new(&scenario, args, policy_label, &lock(&network));
    let mut next_flow_at = start;
    for cycle in 1..=cycles {
        let t = start + cycle * args.fee_interval;
        lock(&network).advance_to(t);
        // The plugin's flow loop (hourly), then its fee loop, as in lightningd.
        if t >= next_flow_at {
            if let Err(e) = engine.run_flow_analysis(None).await {
                report.record_error(t, &e.to_string());
            }
            next_flow_at = t + FLOW_INTERVAL_SECS;
        }
        let outcome = engine.run_fee_cycle().await;
        match outcome {
            Ok(cycle_report) => report.record_cycle(&cycle_report),
            Err(e) => report.record_error(t, &e.to_string()),
        }
        if (t - start) % 86_400 < args.fee_interval {
            report.record_day(&lock(&network));
        }
        progress.set_message(((t - start) / 86_400).to_string());
        progress.inc(1);
    }
    lock(&network).advance_to(end);
    progress.finish_and_clear();
    report.finish(&lock(&network), baseline);
    Ok(report)
}

/// The same seeded network with nobody touching fees.
fn run_baseline(args: &SimulateArgs, scenario: Scenario) -> u64 {
    let end = scenario.start_time_secs + u64::from(args.days) * 86_400;
    let mut network = SimNetwork::new(scenario);
    network.advance_to(end);
    network.total_fees_earned_msat()
}

fn lock(network: &Arc<Mutex<SimNetwork>>) -> std::sync::MutexGuard<'_, SimNetwork> {
    network.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(days: u32) -> SimulateArgs {
        SimulateArgs {
            days,
            seed: 3,
            scenario: "default".to_string(),
            channels: 0,
            fee_interval: 1800,
            dry_run: false,
        }
    }

    #[tokio::test]
    async fn the_same_seed_gives_the_same_report() {
        let a = simulate(&args(3), Scenario::default_node(3)).await.unwrap();
        let b = simulate(&args(3), Scenario::default_node(3)).await.unwrap();
        assert_eq!(a.render(), b.render());
        assert_eq!(a.policy_failures(), 0);
        assert!(a.total_fee_changes() > 0, "{}", a.render());
        assert!(a.total_revenue_msat() > 0);
    }

    #[tokio::test]
    async fn dry_run_changes_no_fee() {
        let mut a = args(2);
        a.dry_run = true;
        let report = simulate(&a, Scenario::default_node(3)).await.unwrap();
        assert_eq!(report.total_fee_changes(), 0);
        assert_eq!(report.total_revenue_msat(), report.baseline_revenue_msat());
    }
}
