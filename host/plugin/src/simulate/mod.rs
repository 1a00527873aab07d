//! `cl-revenue-ops simulate`: the plugin's full fee stack — same engine,
//! same policy, same rails, real SQLite in a temporary directory — against
//! the seeded simulated network, on simulated time.
//!
//! With one policy it prints that policy's detailed per-channel report; with
//! several (`--policies`, default `static` plus every built-in) it runs each
//! in turn on the same seed and prints them side by side (`compare.rs`).
//!
//! Invariants:
//! - A run is a pure function of (scenario, seed, days, settings, policy);
//!   the wall clock is never read for decisions.
//! - Policies in a comparison share nothing but the scenario: each starts
//!   from a fresh network and a fresh store (`drive.rs`).

mod compare;
mod drive;
mod report;
mod selection;

use anyhow::Context;
use revops_runtime::{Limits, PolicyRuntime};
use revops_sim::Scenario;
use std::sync::Arc;

pub use compare::Comparison;
pub use report::Report;
pub use selection::PolicyChoice;

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
    /// Fee policies to compare, comma-separated: `static` (fees left alone),
    /// a built-in policy's name (e.g. fee-alpha) or a path to a .wasm file.
    /// Default: static and every built-in. A single policy prints the
    /// detailed per-channel report instead of the comparison table.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub policies: Vec<String>,
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
    let runtime =
        Arc::new(PolicyRuntime::new(Limits::default()).context("starting the policy runtime")?);
    let choices = selection::resolve(&args.policies, &runtime)?;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let text = match choices.as_slice() {
        // One policy: today's detailed report, channel by channel.
        [choice @ PolicyChoice::Wasm { .. }] => tokio
            .block_on(simulate(&args, scenario, &runtime, choice))
            .with_context(|| format!("simulating {}", choice.label()))?
            .render(),
        _ => tokio
            .block_on(compare(&args, scenario, &runtime, &choices))?
            .render(),
    };
    print!("{text}");
    Ok(())
}

/// Run the scenario under one policy, and on the same seed with fees left
/// alone (the baseline the detailed report quotes).
pub async fn simulate(
    args: &SimulateArgs,
    scenario: Scenario,
    runtime: &Arc<PolicyRuntime>,
    choice: &PolicyChoice,
) -> anyhow::Result<Report> {
    let baseline = drive::run_policy(args, &scenario, &PolicyChoice::Static, runtime).await?;
    let mut report = drive::run_policy(args, &scenario, choice, runtime).await?;
    report.set_baseline_revenue_msat(baseline.total_revenue_msat());
    Ok(report)
}

/// Run the scenario under each choice in turn (one after another: runs are
/// deterministic and the machine small), each from the same seed in its own
/// store, and put them side by side.
pub async fn compare(
    args: &SimulateArgs,
    scenario: Scenario,
    runtime: &Arc<PolicyRuntime>,
    choices: &[PolicyChoice],
) -> anyhow::Result<Comparison> {
    let mut rows = Vec::with_capacity(choices.len());
    let mut static_revenue_msat = None;
    for choice in choices {
        let label = choice.label();
        let report = drive::run_policy(args, &scenario, choice, runtime)
            .await
            .with_context(|| format!("simulating {label}"))?;
        if choice.policy().is_none() {
            static_revenue_msat = Some(report.total_revenue_msat());
        }
        rows.push(report.comparison_row(label, choice.policy().is_some()));
    }
    // "vs static" needs the baseline even when `static` is not a listed row.
    let static_revenue_msat = match static_revenue_msat {
        Some(msat) => msat,
        None => drive::run_policy(args, &scenario, &PolicyChoice::Static, runtime)
            .await?
            .total_revenue_msat(),
    };
    Ok(Comparison {
        setup: compare::Setup {
            scenario: args.scenario.clone(),
            seed: scenario.seed,
            days: args.days,
            channels: scenario.channels.len(),
            fee_interval_secs: args.fee_interval,
            dry_run: args.dry_run,
        },
        static_revenue_msat,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use revops_sim::SimNetwork;

    fn args(days: u32) -> SimulateArgs {
        SimulateArgs {
            days,
            seed: 3,
            scenario: "default".to_string(),
            channels: 0,
            fee_interval: 1800,
            dry_run: false,
            policies: Vec::new(),
        }
    }

    fn runtime() -> Arc<PolicyRuntime> {
        Arc::new(PolicyRuntime::new(Limits::default()).unwrap())
    }

    fn choices(runtime: &PolicyRuntime, list: &[&str]) -> Vec<PolicyChoice> {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        selection::resolve(&list, runtime).unwrap()
    }

    fn fee_alpha(runtime: &PolicyRuntime) -> PolicyChoice {
        choices(runtime, &["fee-alpha"]).remove(0)
    }

    #[tokio::test]
    async fn the_same_seed_gives_the_same_report() {
        let rt = runtime();
        let alpha = fee_alpha(&rt);
        let a = simulate(&args(3), Scenario::default_node(3), &rt, &alpha)
            .await
            .unwrap();
        let b = simulate(&args(3), Scenario::default_node(3), &rt, &alpha)
            .await
            .unwrap();
        assert_eq!(a.render(), b.render());
        assert_eq!(a.policy_failures(), 0);
        assert!(a.total_fee_changes() > 0, "{}", a.render());
        assert!(a.total_revenue_msat() > 0);
    }

    #[tokio::test]
    async fn dry_run_changes_no_fee() {
        let mut a = args(2);
        a.dry_run = true;
        let rt = runtime();
        let report = simulate(&a, Scenario::default_node(3), &rt, &fee_alpha(&rt))
            .await
            .unwrap();
        assert_eq!(report.total_fee_changes(), 0);
        assert_eq!(report.total_revenue_msat(), report.baseline_revenue_msat());
    }

    /// The static run steps through the same instants as a policy run; the
    /// network must earn exactly what it earns when advanced in one jump.
    #[tokio::test]
    async fn the_static_run_is_fees_left_alone() {
        let a = args(2);
        let scenario = Scenario::default_node(3);
        let report = drive::run_policy(&a, &scenario, &PolicyChoice::Static, &runtime())
            .await
            .unwrap();
        let mut network = SimNetwork::new(scenario.clone());
        network.advance_to(scenario.start_time_secs + 2 * 86_400);
        assert_eq!(
            report.total_revenue_msat(),
            network.total_fees_earned_msat()
        );
        assert_eq!(report.total_fee_changes(), 0);
    }

    #[tokio::test]
    async fn a_comparison_has_a_row_per_policy_and_is_deterministic() {
        let rt = runtime();
        let list = choices(&rt, &["static", "fee-alpha"]);
        let a = compare(&args(2), Scenario::default_node(3), &rt, &list)
            .await
            .unwrap();
        let b = compare(&args(2), Scenario::default_node(3), &rt, &list)
            .await
            .unwrap();
        assert_eq!(a.render(), b.render(), "same seed, same comparison");
        assert_eq!(a.rows, b.rows);

        let [st, alpha] = a.rows.as_slice() else {
            panic!("two rows expected: {}", a.render());
        };
        assert_eq!(st.policy, "static");
        assert!(alpha.policy.starts_with("fee-alpha@"), "{}", alpha.policy);
        assert_eq!(st.fee_changes, 0);
        assert_eq!(st.policy_failures, None);
        assert_eq!(alpha.policy_failures, Some(0));
        assert_eq!(a.static_revenue_msat, st.revenue_msat);
        assert_eq!(st.day_samples, 2);
        for row in &a.rows {
            assert_eq!(row.channels, 8);
            assert!(row.forwards > 0, "{}", a.render());
            assert_eq!(
                row.channel_revenue_msat.iter().map(|(_, m)| m).sum::<u64>(),
                row.revenue_msat
            );
        }
        let text = a.render();
        assert!(text.contains("seed 3, 2 days"), "{text}");
        assert!(text.lines().any(|l| l.starts_with("static ")), "{text}");
    }
}
