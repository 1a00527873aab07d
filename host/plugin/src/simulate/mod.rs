//! `cl-revenue-ops simulate`: the plugin's full fee stack — same engine,
//! same policy, same rails, real SQLite in a temporary directory — against
//! the seeded simulated network, on simulated time.
//!
//! With one policy it prints that policy's detailed per-channel report; with
//! several (`--policies`, default `static` plus every built-in, and any
//! `--policy <file.wasm>` added to them) it runs each in turn on the same
//! seed and prints them side by side (`compare.rs`).
//!
//! Unless `--no-rebalance`, every run (`static` included) also runs the
//! plugin's rebalancer against the scenario's simulated sling, and the
//! reports give its spend against the routing revenue, with an independent
//! budget audit (`rebalance.rs`).
//!
//! Invariants:
//! - A run is a pure function of (scenario, seed, days, settings, policy);
//!   the wall clock is never read for decisions.
//! - Policies in a comparison share nothing but the scenario: each starts
//!   from a fresh network and a fresh store (`drive.rs`).
//! - Every run of one invocation rebalances alike (or none does), so runs
//!   stay comparable.

mod compare;
mod drive;
mod rebalance;
mod report;
mod selection;

use anyhow::Context;
use revops_runtime::{Limits, LoadedPolicy, PolicyRuntime};
use revops_sim::{PluginSpec, Scenario};
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
    /// `default` (the default node's 8 channels of distinct characters plus
    /// `busy-drain`, a channel worth refilling) or `large`. Both have sling.
    #[arg(long, default_value = "default")]
    pub scenario: String,
    /// Channels in the `large` scenario.
    #[arg(long, default_value_t = 2000)]
    pub channels: usize,
    /// Seconds between fee cycles.
    #[arg(long, default_value_t = 1800)]
    pub fee_interval: u64,
    /// Decide and record, never change a fee or start a rebalance.
    #[arg(long)]
    pub dry_run: bool,
    /// Run no rebalancer (in any run). By default every run, `static`
    /// included, rebalances through the scenario's simulated sling.
    #[arg(long)]
    pub no_rebalance: bool,
    /// Seconds between rebalance cycles (the plugin's default).
    #[arg(long, default_value_t = 900)]
    pub rebalance_interval: u64,
    /// Fee policies to compare, comma-separated: `static` (fees left alone),
    /// a built-in policy's name (e.g. fee-alpha) or a path to a .wasm file.
    /// Default: static and every built-in. A single policy prints the
    /// detailed per-channel report instead of the comparison table.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub policies: Vec<String>,
    /// A fee policy file to run against the others (repeatable): validated
    /// as the plugin validates one (load checks and self-test), then added
    /// to the comparison with `static` and every built-in (or with the
    /// `--policies` list, when given).
    #[arg(long = "policy", value_name = "FILE.wasm")]
    pub policy_files: Vec<std::path::PathBuf>,
}

/// The named scenario, with sling installed (so the rebalancer can act; a
/// sling with no job changes nothing in a run) and bookkeeper (lightningd
/// ships it enabled; the rebalancer measures its fees with it). `default`
/// is the default node plus `busy-drain`: on the eight default channels
/// alone the rebalance scorer accepts nothing, so rebalancing could not be
/// seen.
pub fn scenario(name: &str, seed: u64, channels: usize) -> anyhow::Result<Scenario> {
    let mut scenario = match name {
        "default" => Scenario::rebalancing_node(seed),
        "large" => Scenario::large(seed, channels, 0).with_sling(),
        other => anyhow::bail!("unknown scenario `{other}` (expected default or large)"),
    };
    let bookkeeper = PluginSpec::bookkeeper();
    if !scenario.other_plugins.contains(&bookkeeper) {
        scenario.other_plugins.push(bookkeeper);
    }
    Ok(scenario)
}

/// How the headers describe the rebalancing of a run.
fn rebalancing_words(args: &SimulateArgs) -> String {
    if args.no_rebalance {
        "no rebalancing".to_string()
    } else {
        format!("rebalance cycle every {} s", args.rebalance_interval)
    }
}

/// The built-in rebalance scorer, unless rebalancing is off.
fn scorer(
    args: &SimulateArgs,
    runtime: &PolicyRuntime,
) -> anyhow::Result<Option<Arc<LoadedPolicy>>> {
    if args.no_rebalance {
        return Ok(None);
    }
    let scorer = runtime
        .load(revops_policy_artifacts::REBALANCE_EV)
        .context("loading the built-in rebalance scorer")?;
    Ok(Some(Arc::new(scorer)))
}

pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let scenario = scenario(&args.scenario, args.seed, args.channels)?;
    anyhow::ensure!(args.days >= 1, "--days must be at least 1");
    anyhow::ensure!(
        args.fee_interval >= 60,
        "--fee-interval must be at least 60 seconds"
    );
    anyhow::ensure!(
        args.rebalance_interval >= 60,
        "--rebalance-interval must be at least 60 seconds"
    );
    let runtime =
        Arc::new(PolicyRuntime::new(Limits::default()).context("starting the policy runtime")?);
    let mut choices = selection::resolve(&args.policies, &runtime)?;
    for file in &args.policy_files {
        choices.push(selection::validated_file(file, &runtime)?);
    }
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
    let scorer = scorer(args, runtime)?;
    let scorer = scorer.as_ref();
    let baseline =
        drive::run_policy(args, &scenario, &PolicyChoice::Static, runtime, scorer).await?;
    let mut report = drive::run_policy(args, &scenario, choice, runtime, scorer).await?;
    report.set_baseline(&baseline);
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
    let scorer = scorer(args, runtime)?;
    let scorer = scorer.as_ref();
    let mut rows = Vec::with_capacity(choices.len());
    let mut static_net_msat = None;
    for choice in choices {
        let label = choice.label();
        let report = drive::run_policy(args, &scenario, choice, runtime, scorer)
            .await
            .with_context(|| format!("simulating {label}"))?;
        if choice.policy().is_none() {
            static_net_msat = Some(report.net_msat());
        }
        rows.push(report.comparison_row(label, choice.policy().is_some()));
    }
    // "vs static" needs the baseline even when `static` is not a listed row.
    let static_net_msat = match static_net_msat {
        Some(msat) => msat,
        None => drive::run_policy(args, &scenario, &PolicyChoice::Static, runtime, scorer)
            .await?
            .net_msat(),
    };
    Ok(Comparison {
        setup: compare::Setup {
            scenario: args.scenario.clone(),
            seed: scenario.seed,
            days: args.days,
            channels: scenario.channels.len(),
            fee_interval_secs: args.fee_interval,
            rebalance_interval_secs: (!args.no_rebalance).then_some(args.rebalance_interval),
            dry_run: args.dry_run,
        },
        static_net_msat,
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
            no_rebalance: false,
            rebalance_interval: 900,
            policies: Vec::new(),
            policy_files: Vec::new(),
        }
    }

    /// The default scenario as `simulate` runs it (sling installed).
    fn default_scenario(seed: u64) -> Scenario {
        scenario("default", seed, 0).unwrap()
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
        let a = simulate(&args(3), default_scenario(3), &rt, &alpha)
            .await
            .unwrap();
        let b = simulate(&args(3), default_scenario(3), &rt, &alpha)
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
        let report = simulate(&a, default_scenario(3), &rt, &fee_alpha(&rt))
            .await
            .unwrap();
        assert_eq!(report.total_fee_changes(), 0);
        assert_eq!(report.total_revenue_msat(), report.baseline_revenue_msat());
    }

    /// Without rebalancing the static run steps through the same instants as
    /// a policy run; the network must earn exactly what it earns when
    /// advanced in one jump.
    #[tokio::test]
    async fn the_static_run_is_fees_left_alone() {
        let mut a = args(2);
        a.no_rebalance = true;
        let scenario = default_scenario(3);
        let report = drive::run_policy(&a, &scenario, &PolicyChoice::Static, &runtime(), None)
            .await
            .unwrap();
        assert!(report.rebalancing().is_none());
        assert_eq!(report.net_msat(), report.total_revenue_msat() as i64);
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
        let a = compare(&args(2), default_scenario(3), &rt, &list)
            .await
            .unwrap();
        let b = compare(&args(2), default_scenario(3), &rt, &list)
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
        assert_eq!(a.static_net_msat, st.net_msat());
        assert_eq!(st.day_samples, 2);
        for row in &a.rows {
            assert_eq!(row.channels, 9);
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

    /// In the default scenario the rebalancer refills channels and pays
    /// real fees, the independent audit finds no budget violation, and the
    /// comparison's net is gross − the fees actually paid.
    #[tokio::test]
    async fn the_default_scenario_rebalances_within_budget() {
        let rt = runtime();
        let list = choices(&rt, &["static", "fee-thompson"]);
        let c = compare(&args(3), default_scenario(2), &rt, &list)
            .await
            .unwrap();
        let text = c.render();
        assert_eq!(c.setup.rebalance_interval_secs, Some(900));
        let cells = |policy: &str| -> Vec<String> {
            let line = text
                .lines()
                .find(|l| l.starts_with(policy))
                .unwrap_or_else(|| panic!("no {policy} row: {text}"));
            line.split_whitespace().map(String::from).collect()
        };
        for row in &c.rows {
            let r = row
                .rebalancing
                .as_ref()
                .expect("rebalancing is on by default");
            assert_eq!(r.cycles, 3 * 96, "a cycle every 900 s: {text}");
            assert_eq!(r.cycles_disabled, 0, "{text}");
            assert_eq!(r.budget_violations(), 0, "{}: {text}", row.policy);
            assert_eq!(r.unattributed_payments, 0, "{text}");
            assert_eq!(r.started, r.succeeded + r.failed + r.running_at_end);
            assert_eq!(r.gross_revenue_msat, row.revenue_msat);
            assert_eq!(
                row.net_msat(),
                row.revenue_msat as i64 - r.fees_paid_msat as i64
            );
            // The summary table prints gross, fees and net = gross − fees.
            let line = cells(&row.policy);
            assert_eq!(line[1], (row.revenue_msat / 1000).to_string(), "{text}");
            assert_eq!(line[2], (r.fees_paid_msat / 1000).to_string(), "{text}");
            assert_eq!(line[3], (row.net_msat() / 1000).to_string(), "{text}");
        }
        // Fees left alone, the busy channel drains and is refilled for real
        // (a success with a settled payment behind it).
        let st = c.rows[0].rebalancing.as_ref().unwrap();
        assert!(st.succeeded > st.successes_without_payment, "{text}");
        assert!(st.payments_settled >= 1 && st.moved_msat > 0, "{text}");
        assert!(st.fees_paid_msat > 0, "{text}");
        assert!(st.spend_windows > 0, "the audit checked windows: {text}");
        assert!(text.contains("0 budget violations"), "{text}");
    }

    /// The static run rebalances like the others but never sets a fee; its
    /// detailed report states net = gross − spend and the audit.
    #[tokio::test]
    async fn the_static_run_rebalances_too_but_never_sets_a_fee() {
        let rt = runtime();
        let a = args(3);
        let scorer = scorer(&a, &rt).unwrap();
        let report = drive::run_policy(
            &a,
            &default_scenario(2),
            &PolicyChoice::Static,
            &rt,
            scorer.as_ref(),
        )
        .await
        .unwrap();
        let text = report.render();
        assert_eq!(report.total_fee_changes(), 0, "{text}");
        let r = report.rebalancing().unwrap();
        assert!(r.succeeded > r.successes_without_payment, "{text}");
        assert!(r.fees_paid_msat > 0, "{text}");
        assert_eq!(r.budget_violations(), 0, "{text}");
        let line = format!(
            "gross {} sat − rebalance fees {} sat = net {} sat",
            report.total_revenue_msat() / 1000,
            r.fees_paid_msat / 1000,
            report.net_msat() / 1000
        );
        assert!(text.contains(&line), "{line} not in {text}");
        assert!(text.contains("budget violations: 0 "), "{text}");
    }

    #[tokio::test]
    async fn no_rebalance_turns_it_off_for_every_run() {
        let mut a = args(1);
        a.no_rebalance = true;
        let rt = runtime();
        let list = choices(&rt, &["static", "fee-alpha"]);
        let c = compare(&a, default_scenario(3), &rt, &list).await.unwrap();
        for row in &c.rows {
            assert!(row.rebalancing.is_none(), "{}", row.policy);
            assert_eq!(row.net_msat(), row.revenue_msat as i64);
        }
        let text = c.render();
        assert!(text.contains("no rebalancing"), "{text}");
        assert!(!text.contains("\nrebalancing:"), "{text}");
    }
}
