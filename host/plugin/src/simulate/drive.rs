//! One run of the scenario under one policy choice, on simulated time.
//!
//! Invariants:
//! - Every run, `static` included, starts from `SimNetwork::new(scenario.clone())`
//!   and advances the network through the same instants (every fee interval
//!   and, when rebalancing, every rebalance interval, then the end), sampling
//!   days at the same instants, so runs differ only in what their policy did.
//!   (The network's traffic is event-driven, so where it is stopped does not
//!   change what happens; only fees and balances do.)
//! - Rebalancing is the same in every run: unless `--no-rebalance`, each run
//!   (`static` included) has the plugin's rebalancer with the built-in scorer
//!   and default settings, cycling every rebalance interval, over the same
//!   store as its flow analysis. The `static` run analyses flow (hourly, as
//!   the plugin does) so the rebalancer sees how channels move, but never
//!   runs a fee cycle: its fees stay as they were.
//! - A run has its own engines and its own SQLite store in a temporary
//!   directory removed when the run ends: nothing carries over between runs.
//! - The wall clock is never read for decisions.

use super::SimulateArgs;
use super::rebalance::RebalanceSummary;
use super::report::Report;
use super::selection::PolicyChoice;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use revops_core::Node;
use revops_engine::rebalance::WalletFunds;
use revops_engine::{FeeEngine, FeeSettings, PolicySet, RebalanceEngine, RebalanceSettings};
use revops_runtime::{LoadedPolicy, PolicyRuntime};
use revops_sim::{Scenario, SimClock, SimNetwork, SimNode};
use revops_store::{DAY_SECS, Store};
use std::sync::{Arc, Mutex};

/// The plugin's default flow-analysis interval.
const FLOW_INTERVAL_SECS: u64 = 3600;
/// Every ledger row fits: the audit reads the whole ledger.
const WHOLE_LEDGER: u32 = u32::MAX;

type SimEngine = FeeEngine<SimNode, SimClock>;
type SimRebalancer = RebalanceEngine<SimNode, SimClock>;

/// The rebalancer of one run and what it has done so far.
struct Rebalancing {
    engine: SimRebalancer,
    summary: RebalanceSummary,
}

/// Run the whole scenario under `choice` and report what happened.
/// `scorer` is the rebalance scorer; `None` runs no rebalancer.
pub async fn run_policy(
    args: &SimulateArgs,
    scenario: &Scenario,
    choice: &PolicyChoice,
    runtime: &Arc<PolicyRuntime>,
    scorer: Option<&Arc<LoadedPolicy>>,
) -> anyhow::Result<Report> {
    let label = choice.label();
    let network = Arc::new(Mutex::new(SimNetwork::new(scenario.clone())));
    let node = Arc::new(SimNode::new(Arc::clone(&network)));
    // A store when anything needs one; its directory must outlive the
    // engines: all drop at the end.
    let (store, _store_dir) = if choice.policy().is_some() || scorer.is_some() {
        let dir = tempfile::tempdir().context("creating a scratch directory")?;
        let store = Arc::new(
            Store::open(&dir.path().join("revenue_ops.db"))
                .with_context(|| format!("opening the scratch store for {label}"))?,
        );
        (Some(store), Some(dir))
    } else {
        (None, None)
    };
    let engine = store.as_ref().map(|store| {
        let mut policies = PolicySet::default();
        let mut settings = FeeSettings {
            fee_interval_secs: args.fee_interval,
            dry_run: args.dry_run,
            ..FeeSettings::default()
        };
        if let Some(policy) = choice.policy() {
            policies.insert(Arc::clone(policy));
            // Every channel is `dynamic` in a fresh store, so this decides them all.
            settings.default_fee_policy = policy.name().to_string();
        }
        FeeEngine::new(
            Arc::clone(&node),
            SimClock::new(Arc::clone(&network)),
            Arc::clone(store),
            Arc::clone(runtime),
            policies,
            settings,
        )
    });
    let rebalance_settings = RebalanceSettings {
        dry_run: args.dry_run,
        ..RebalanceSettings::default()
    };
    let mut rebalancing = match (scorer, &store) {
        (Some(scorer), Some(store)) => Some(Rebalancing {
            engine: RebalanceEngine::new(
                Arc::clone(&node),
                SimClock::new(Arc::clone(&network)),
                Arc::clone(store),
                Arc::clone(runtime),
                Arc::clone(scorer),
                rebalance_settings.clone(),
            ),
            summary: RebalanceSummary::new(args.rebalance_interval, args.dry_run),
        }),
        _ => None,
    };

    let start = scenario.start_time_secs;
    let end = start + u64::from(args.days) * DAY_SECS;
    let rebalance_every = rebalancing.as_ref().map(|_| args.rebalance_interval);
    let instants = Instants::new(start, end, args.fee_interval, rebalance_every);
    let progress = ProgressBar::new(instants.clone().count() as u64);
    progress.set_style(
        ProgressStyle::with_template("{prefix} {bar:40} {pos}/{len} cycles, day {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_prefix(label.clone());
    let mut report = Report::new(scenario, args, label, &lock(&network));
    let mut next_flow_at = start;
    for Instant { t, fee, rebalance } in instants {
        lock(&network).advance_to(t);
        if fee {
            if let Some(engine) = &engine {
                let fee_cycle = choice.policy().is_some();
                run_loops(engine, fee_cycle, t, &mut next_flow_at, &mut report).await;
            }
            if (t - start) % DAY_SECS < args.fee_interval {
                report.record_day(&lock(&network));
            }
        }
        if rebalance && let Some(r) = &mut rebalancing {
            rebalance_cycle(r, &node, t, &mut report).await;
        }
        progress.set_message(((t - start) / DAY_SECS).to_string());
        progress.inc(1);
    }
    lock(&network).advance_to(end);
    progress.finish_and_clear();
    report.finish(&lock(&network));
    if let Some(mut r) = rebalancing {
        let ledger = r
            .engine
            .store()
            .rebalance_log(WHOLE_LEDGER)
            .context("reading the rebalance ledger")?;
        r.summary
            .finish(&lock(&network), &ledger, &rebalance_settings.capital);
        report.set_rebalancing(r.summary);
    }
    Ok(report)
}

/// The plugin's flow loop (hourly), then its fee loop, as in lightningd.
/// Without `fee_cycle` (the `static` run) only flow is analysed.
async fn run_loops(
    engine: &SimEngine,
    fee_cycle: bool,
    t: u64,
    next_flow_at: &mut u64,
    report: &mut Report,
) {
    if t >= *next_flow_at {
        if let Err(e) = engine.run_flow_analysis(None).await {
            report.record_error(t, &e.to_string());
        }
        *next_flow_at = t + FLOW_INTERVAL_SECS;
    }
    if !fee_cycle {
        return;
    }
    match engine.run_fee_cycle().await {
        Ok(cycle_report) => report.record_cycle(&cycle_report),
        Err(e) => report.record_error(t, &e.to_string()),
    }
}

/// One rebalance cycle, with the wallet read from `listfunds` as the plugin reads it.
async fn rebalance_cycle(r: &mut Rebalancing, node: &SimNode, t: u64, report: &mut Report) {
    let wallet = match node.confirmed_onchain_sat().await {
        Ok(confirmed_onchain_sat) => WalletFunds {
            confirmed_onchain_sat,
        },
        Err(e) => {
            report.record_error(t, &format!("rebalance cycle: listfunds: {e}"));
            return;
        }
    };
    match r.engine.run_rebalance_cycle(wallet).await {
        Ok(cycle) => r.summary.record_cycle(&cycle),
        Err(e) => report.record_error(t, &format!("rebalance cycle: {e}")),
    }
}

/// A simulated instant at which something runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Instant {
    t: u64,
    /// A fee interval ends here (flow and fee loops, the daily sample).
    fee: bool,
    /// A rebalance interval ends here.
    rebalance: bool,
}

/// Every instant in `(start, end]` where a fee or rebalance interval ends,
/// in time order, each once.
#[derive(Debug, Clone)]
struct Instants {
    end: u64,
    fee_every: u64,
    rebalance_every: Option<u64>,
    next_fee: u64,
    next_rebalance: u64,
}

impl Instants {
    fn new(start: u64, end: u64, fee_every: u64, rebalance_every: Option<u64>) -> Instants {
        Instants {
            end,
            fee_every,
            rebalance_every,
            next_fee: start + fee_every,
            next_rebalance: rebalance_every.map_or(u64::MAX, |every| start + every),
        }
    }
}

impl Iterator for Instants {
    type Item = Instant;

    fn next(&mut self) -> Option<Instant> {
        let t = self.next_fee.min(self.next_rebalance);
        if t > self.end {
            return None;
        }
        let fee = t == self.next_fee;
        let rebalance = t == self.next_rebalance;
        if fee {
            self.next_fee += self.fee_every;
        }
        if let (true, Some(every)) = (rebalance, self.rebalance_every) {
            self.next_rebalance += every;
        }
        Some(Instant { t, fee, rebalance })
    }
}

fn lock(network: &Arc<Mutex<SimNetwork>>) -> std::sync::MutexGuard<'_, SimNetwork> {
    network.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_merge_both_intervals_once_each() {
        let all: Vec<(u64, bool, bool)> = Instants::new(0, 3600, 1800, Some(900))
            .map(|i| (i.t, i.fee, i.rebalance))
            .collect();
        assert_eq!(
            all,
            [
                (900, false, true),
                (1800, true, true),
                (2700, false, true),
                (3600, true, true)
            ]
        );
        let fees_only: Vec<u64> = Instants::new(100, 4000, 1800, None).map(|i| i.t).collect();
        assert_eq!(fees_only, [1900, 3700]);
        // Intervals that do not divide each other.
        let odd: Vec<u64> = Instants::new(0, 2000, 1000, Some(700))
            .map(|i| i.t)
            .collect();
        assert_eq!(odd, [700, 1000, 1400, 2000]);
    }
}
