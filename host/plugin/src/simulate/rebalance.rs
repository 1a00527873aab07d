//! Rebalancing in a `simulate` run: what the rebalance cycles decided, what
//! the simulated sling actually paid and moved, and an independent audit of
//! that spend against the daily budget.
//!
//! Invariants:
//! - Money is measured on the simulated network, never taken from the
//!   engine's bookkeeping: fees paid and liquidity moved are the simulated
//!   sling's settled payments (`SimNetwork::rebalances`); revenue is
//!   lightningd's settled forwards. The engine's ledger is read only for
//!   which rebalances it started (when, into which channel, with which max
//!   fee ppm and hold) and how it judged them.
//! - The budget in force at time `t` is
//!   `daily_budget_msat(capital settings, revenue of forwards resolved in
//!   [t − 24 h, t])`: the engine's rule, fed from the network's forwards.
//! - Every sling payment belongs to at most one ledger row: the row for the
//!   payment's job channel that was running when it was sent (the engine
//!   runs one rebalance per destination at a time and stops the job when it
//!   finishes the row). Payments with no row are counted, not dropped.

use revops_core::{ForwardStatus, Msat};
use revops_engine::rebalance::controls::{CapitalSettings, daily_budget_msat};
use revops_engine::rebalance::{Decision, RebalanceCycleReport};
use revops_sim::{RebalanceOutcome as PaymentOutcome, SimNetwork};
use revops_store::{DAY_SECS, RebalanceEntry, RebalanceOutcome};
use std::collections::BTreeMap;
use std::fmt::Write;

const DAY_MS: u64 = DAY_SECS * 1000;

/// One destination's rebalancing over the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DestinationLine {
    pub label: String,
    /// Ledger rows (rebalances started into it).
    pub started: u64,
    pub succeeded: u64,
    /// Settled sling payments into it.
    pub moved_msat: u64,
    pub fees_paid_msat: u64,
    /// The highest max fee ppm any of its rebalances was allowed.
    pub max_fee_ppm: u32,
}

/// Everything one run's rebalancing did, measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RebalanceSummary {
    /// Seconds between rebalance cycles.
    pub interval_secs: u64,
    pub dry_run: bool,
    // ---- the engine's cycles ------------------------------------------------
    pub cycles: u64,
    /// Cycles that did nothing (sling absent, ...), and the first reason.
    pub cycles_disabled: u64,
    pub disabled_reason: Option<String>,
    pub scorer_failures: u64,
    /// How candidates' turns ended, summed over every cycle (decision key → count).
    pub decisions: BTreeMap<String, u64>,
    /// The first reason given for each decision key (what a refusal looks like).
    pub first_reasons: BTreeMap<String, String>,
    /// Node-wide refusals summed over every cycle (rule → cycles).
    pub capital_refusals: BTreeMap<String, u64>,
    // ---- the ledger ---------------------------------------------------------
    /// Rebalances started (ledger rows that held budget; dry-run rows excluded).
    pub started: u64,
    pub succeeded: u64,
    /// Failed or timed out (sling refusals included).
    pub failed: u64,
    pub timed_out: u64,
    pub running_at_end: u64,
    /// Dry-run rows: what would have started.
    pub would_start: u64,
    /// Fees the engine booked for its rebalances (measured by bookkeeper, or
    /// estimated from sling's weighted ppm × the balance rise).
    pub booked_fee_msat: u64,
    /// Ledger rows whose booked fee is an estimate.
    pub booked_estimates: u64,
    // ---- measured on the network --------------------------------------------
    pub payments_sent: u64,
    pub payments_settled: u64,
    pub moved_msat: u64,
    pub fees_paid_msat: u64,
    /// Routing fees earned during the run.
    pub gross_revenue_msat: u64,
    pub destinations: Vec<DestinationLine>,
    // ---- the budget audit ---------------------------------------------------
    /// 24-h windows checked: one ending at each settled payment.
    pub spend_windows: u64,
    /// Windows whose fees actually paid exceeded the budget in force at their end.
    pub spend_windows_over_budget: u64,
    /// Highest fees paid in a window as a share of its budget.
    pub peak_spend_share_of_budget: f64,
    /// Starts whose commitment (fees paid in the 24 h before + the rest of
    /// every running hold + its own hold) exceeded the budget in force.
    pub starts_over_budget: u64,
    /// Rebalances whose effective fee ppm (paid ÷ moved, rounded up) exceeded their max fee ppm.
    pub rebalances_over_max_ppm: u64,
    /// Settled payments whose own ppm exceeded their rebalance's max fee ppm.
    pub payments_over_max_ppm: u64,
    /// Sling payments no ledger row accounts for.
    pub unattributed_payments: u64,
    /// Rows the engine judged successful with no settled payment behind them
    /// (the balance rose through forwards instead).
    pub successes_without_payment: u64,
}

impl RebalanceSummary {
    pub fn new(interval_secs: u64, dry_run: bool) -> RebalanceSummary {
        RebalanceSummary {
            interval_secs,
            dry_run,
            ..RebalanceSummary::default()
        }
    }

    /// Fold in one cycle's report.
    pub fn record_cycle(&mut self, cycle: &RebalanceCycleReport) {
        self.cycles += 1;
        if let Some(reason) = &cycle.disabled {
            self.cycles_disabled += 1;
            self.disabled_reason.get_or_insert_with(|| reason.clone());
        }
        if cycle.scorer_failure.is_some() {
            self.scorer_failures += 1;
        }
        for c in &cycle.candidates {
            let key = c.decision.key();
            *self.decisions.entry(key.to_string()).or_default() += 1;
            let reason = match &c.decision {
                Decision::Refused { detail, .. } | Decision::Skipped { detail, .. } => detail,
                Decision::Rejected { reason, .. } => reason,
                Decision::ScorerFailed { message } => message,
                _ => continue,
            };
            self.first_reasons
                .entry(key.to_string())
                .or_insert_with(|| format!("{} ({})", reason, c.destination));
        }
        for r in &cycle.capital_refusals {
            *self
                .capital_refusals
                .entry(r.rule().to_string())
                .or_default() += 1;
        }
    }

    /// Every budget violation the audit found, of any kind.
    pub fn budget_violations(&self) -> u64 {
        self.spend_windows_over_budget + self.starts_over_budget + self.rebalances_over_max_ppm
    }

    /// Gross routing revenue minus the rebalance fees actually paid.
    pub fn net_msat(&self) -> i64 {
        self.gross_revenue_msat as i64 - self.fees_paid_msat as i64
    }

    /// Rebalance fees paid per unit of routing revenue; `None` without revenue.
    pub fn spend_per_revenue(&self) -> Option<f64> {
        (self.gross_revenue_msat > 0)
            .then(|| self.fees_paid_msat as f64 / self.gross_revenue_msat as f64)
    }

    /// After the run: read the ledger and the network, measure and audit.
    pub fn finish(
        &mut self,
        network: &SimNetwork,
        ledger: &[RebalanceEntry],
        capital: &CapitalSettings,
    ) {
        let mut rows: Vec<&RebalanceEntry> = ledger
            .iter()
            .filter(|r| r.outcome != RebalanceOutcome::DryRun)
            .collect();
        rows.sort_by_key(|r| r.id);
        self.would_start = (ledger.len() - rows.len()) as u64;
        self.started = rows.len() as u64;
        for r in &rows {
            match r.outcome {
                RebalanceOutcome::Success => self.succeeded += 1,
                RebalanceOutcome::Running => self.running_at_end += 1,
                RebalanceOutcome::Timeout => {
                    self.timed_out += 1;
                    self.failed += 1;
                }
                _ => self.failed += 1,
            }
            self.booked_fee_msat += r.fee_msat.map_or(0, |f| f.msat());
            self.booked_estimates += u64::from(r.fee_is_estimate);
        }
        self.gross_revenue_msat = network.total_fees_earned_msat();

        let payments = network.rebalances();
        self.payments_sent = payments.len() as u64;
        // Settled payments: (time, fee) in time order, and which row each belongs to.
        let mut settled: Vec<(u64, u64)> = Vec::new();
        // Per row (by position in `rows`): its settled payments' (time, amount, fee).
        let mut by_row: Vec<Vec<(u64, u64, u64)>> = vec![Vec::new(); rows.len()];
        for p in payments {
            let row = rows.iter().rposition(|r| {
                r.to_channel == p.job_scid
                    && r.started_at * 1000 <= p.at_ms
                    && r.finished_at.is_none_or(|f| p.at_ms <= f * 1000)
            });
            if row.is_none() {
                self.unattributed_payments += 1;
            }
            if p.outcome != PaymentOutcome::Settled {
                continue;
            }
            self.payments_settled += 1;
            self.moved_msat += p.amount_msat;
            self.fees_paid_msat += p.fee_msat;
            settled.push((p.at_ms, p.fee_msat));
            if let Some(i) = row {
                by_row[i].push((p.at_ms, p.amount_msat, p.fee_msat));
                if p.fee_ppm > u64::from(rows[i].max_fee_ppm) {
                    self.payments_over_max_ppm += 1;
                }
            }
        }
        settled.sort_unstable();
        let revenue = Revenue::of(network);
        let paid = Cumulative::new(&settled);
        let budget_at = |t_secs: u64| {
            let from = t_secs.saturating_sub(DAY_SECS);
            daily_budget_msat(capital, Msat(revenue.between(from, t_secs))).msat()
        };

        // Fees actually paid in each 24 h window ending at a payment.
        for &(at_ms, _) in &settled {
            let spent = paid.between(at_ms.saturating_sub(DAY_MS), at_ms);
            let budget = budget_at(at_ms / 1000);
            self.spend_windows += 1;
            if spent > budget {
                self.spend_windows_over_budget += 1;
            }
            if budget > 0 {
                self.peak_spend_share_of_budget = self
                    .peak_spend_share_of_budget
                    .max(spent as f64 / budget as f64);
            }
        }

        // What was committed at each start, against the budget then.
        for (i, r) in rows.iter().enumerate() {
            let s = r.started_at;
            let s_ms = s * 1000;
            let mut committed = paid.between(s_ms.saturating_sub(DAY_MS), s_ms) + hold_msat(r);
            for (j, q) in rows.iter().enumerate() {
                let started_before = q.started_at < s || (q.started_at == s && q.id < r.id);
                let still_running = q.finished_at.is_none_or(|f| f > s);
                if j != i && started_before && still_running {
                    let paid_so_far: u64 = by_row[j]
                        .iter()
                        .filter(|(at, _, _)| *at <= s_ms)
                        .map(|(_, _, fee)| fee)
                        .sum();
                    committed += hold_msat(q).saturating_sub(paid_so_far);
                }
            }
            if committed > budget_at(s) {
                self.starts_over_budget += 1;
            }
        }

        // Effective ppm of each rebalance against its cap; destinations.
        let labels: BTreeMap<String, String> = network
            .channels()
            .into_iter()
            .map(|c| (c.short_channel_id, c.label))
            .collect();
        let mut destinations: BTreeMap<String, DestinationLine> = BTreeMap::new();
        for (r, payments) in rows.iter().zip(&by_row) {
            let moved: u64 = payments.iter().map(|(_, amount, _)| amount).sum();
            let fees: u64 = payments.iter().map(|(_, _, fee)| fee).sum();
            if moved > 0 && effective_ppm(fees, moved) > u64::from(r.max_fee_ppm) {
                self.rebalances_over_max_ppm += 1;
            }
            if r.outcome == RebalanceOutcome::Success && payments.is_empty() {
                self.successes_without_payment += 1;
            }
            let line =
                destinations
                    .entry(r.to_channel.clone())
                    .or_insert_with(|| DestinationLine {
                        label: labels
                            .get(&r.to_channel)
                            .cloned()
                            .unwrap_or_else(|| r.to_channel.clone()),
                        ..DestinationLine::default()
                    });
            line.started += 1;
            line.succeeded += u64::from(r.outcome == RebalanceOutcome::Success);
            line.moved_msat += moved;
            line.fees_paid_msat += fees;
            line.max_fee_ppm = line.max_fee_ppm.max(r.max_fee_ppm);
        }
        self.destinations = destinations.into_values().collect();
    }
}

impl RebalanceSummary {
    /// The detailed report's rebalancing section.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let sat = |msat: u64| msat / 1000;
        let _ = writeln!(
            out,
            "rebalancing: the plugin's rebalancer (built-in scorer, default capital controls), a cycle every {} s{}",
            self.interval_secs,
            if self.dry_run { ", dry-run" } else { "" }
        );
        if self.cycles_disabled > 0 {
            let _ = writeln!(
                out,
                "  disabled in {} of {} cycles: {}",
                self.cycles_disabled,
                self.cycles,
                self.disabled_reason.as_deref().unwrap_or("")
            );
        }
        if self.dry_run {
            let _ = writeln!(
                out,
                "  dry-run: {} rebalances would have started; sling was told nothing",
                self.would_start
            );
        }
        let _ = writeln!(
            out,
            "  rebalances: {} started, {} succeeded, {} failed ({} timed out), {} running at the end; scorer failures: {}",
            self.started,
            self.succeeded,
            self.failed,
            self.timed_out,
            self.running_at_end,
            self.scorer_failures
        );
        let _ = writeln!(
            out,
            "  sling payments: {} sent, {} settled, moving {} sat",
            self.payments_sent,
            self.payments_settled,
            sat(self.moved_msat)
        );
        let _ = writeln!(
            out,
            "  rebalance fees paid: {} sat (the engine booked {} sat, {} of its rows' fees estimated from sling's stats, the rest measured by bookkeeper)",
            sat(self.fees_paid_msat),
            sat(self.booked_fee_msat),
            self.booked_estimates
        );
        let _ = writeln!(
            out,
            "  gross routing revenue {} sat − rebalance fees {} sat = net {} sat; spend/revenue {}",
            sat(self.gross_revenue_msat),
            sat(self.fees_paid_msat),
            self.net_msat() / 1000,
            percent(self.spend_per_revenue())
        );
        let _ = writeln!(
            out,
            "  budget violations: {} — {} of {} 24-h windows paid more than the budget in force (peak {:.1}% of it); {} of {} starts committed more than it; {} rebalances paid above their max fee ppm ({} payments)",
            self.budget_violations(),
            self.spend_windows_over_budget,
            self.spend_windows,
            self.peak_spend_share_of_budget * 100.0,
            self.starts_over_budget,
            self.started,
            self.rebalances_over_max_ppm,
            self.payments_over_max_ppm
        );
        if self.unattributed_payments > 0 || self.successes_without_payment > 0 {
            let _ = writeln!(
                out,
                "  ledger vs network: {} sling payments match no rebalance; {} successes had no settled payment (the balance rose through forwards)",
                self.unattributed_payments, self.successes_without_payment
            );
        }
        if !self.destinations.is_empty() {
            let header = [
                "  into",
                "started",
                "succeeded",
                "moved sat",
                "fees sat",
                "ppm",
                "max ppm",
            ];
            let rows: Vec<Vec<String>> = self
                .destinations
                .iter()
                .map(|d| {
                    vec![
                        format!("  {}", d.label),
                        d.started.to_string(),
                        d.succeeded.to_string(),
                        sat(d.moved_msat).to_string(),
                        sat(d.fees_paid_msat).to_string(),
                        if d.moved_msat > 0 {
                            effective_ppm(d.fees_paid_msat, d.moved_msat).to_string()
                        } else {
                            "—".to_string()
                        },
                        d.max_fee_ppm.to_string(),
                    ]
                })
                .collect();
            out.push_str(&super::compare::table(&header, &rows));
        }
        let decisions = |counts: &BTreeMap<String, u64>| {
            counts
                .iter()
                .map(|(k, n)| format!("{k}×{n}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if !self.decisions.is_empty() {
            let _ = writeln!(
                out,
                "  candidate decisions over the run: {}",
                decisions(&self.decisions)
            );
        }
        for (key, reason) in &self.first_reasons {
            let _ = writeln!(out, "    first {key}: {reason}");
        }
        if !self.capital_refusals.is_empty() {
            let _ = writeln!(
                out,
                "  cycles refused node-wide: {}",
                decisions(&self.capital_refusals)
            );
        }
        out
    }
}

/// A share as a percentage with two decimals; `n/a` without a base.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "n/a".to_string(), |s| format!("{:.2}%", s * 100.0))
}

/// What a running rebalance holds: its amount at its max fee ppm (the
/// ledger's reservation rule).
fn hold_msat(r: &RebalanceEntry) -> u64 {
    (u128::from(r.amount_msat.msat()) * u128::from(r.max_fee_ppm) / 1_000_000) as u64
}

/// Fee ppm of `amount`, rounded up as sling reports it.
pub fn effective_ppm(fee_msat: u64, amount_msat: u64) -> u64 {
    if amount_msat == 0 {
        return 0;
    }
    (u128::from(fee_msat) * 1_000_000).div_ceil(u128::from(amount_msat)) as u64
}

/// Sums of amounts over closed time ranges, from `(time, amount)` in time order.
struct Cumulative {
    times: Vec<u64>,
    /// `sums[i]` = amounts of the first `i` entries.
    sums: Vec<u64>,
}

impl Cumulative {
    fn new(entries: &[(u64, u64)]) -> Cumulative {
        let mut sums = Vec::with_capacity(entries.len() + 1);
        sums.push(0u64);
        for (_, amount) in entries {
            sums.push(sums.last().copied().unwrap_or(0) + amount);
        }
        Cumulative {
            times: entries.iter().map(|(t, _)| *t).collect(),
            sums,
        }
    }

    /// Amounts at times in `[from, to]`.
    fn between(&self, from: u64, to: u64) -> u64 {
        let lo = self.times.partition_point(|t| *t < from);
        let hi = self.times.partition_point(|t| *t <= to);
        self.sums[hi.max(lo)] - self.sums[lo]
    }
}

/// Routing fees by resolution time (seconds), from lightningd's forwards.
struct Revenue(Cumulative);

impl Revenue {
    fn of(network: &SimNetwork) -> Revenue {
        let count = usize::try_from(network.forwards_count()).unwrap_or(usize::MAX);
        let mut fees: Vec<(u64, u64)> = network
            .forward_records(0, count)
            .into_iter()
            .filter(|f| f.status == ForwardStatus::Settled)
            .map(|f| {
                (
                    f.resolved_time.unwrap_or(f.received_time),
                    f.fee_msat.map_or(0, |m| m.msat()),
                )
            })
            .collect();
        fees.sort_unstable();
        Revenue(Cumulative::new(&fees))
    }

    fn between(&self, from_secs: u64, to_secs: u64) -> u64 {
        self.0.between(from_secs, to_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_sums_closed_ranges() {
        let c = Cumulative::new(&[(10, 1), (20, 2), (20, 4), (30, 8)]);
        assert_eq!(c.between(0, 100), 15);
        assert_eq!(c.between(20, 20), 6);
        assert_eq!(c.between(11, 29), 6);
        assert_eq!(c.between(10, 10), 1);
        assert_eq!(c.between(31, 40), 0);
        assert_eq!(c.between(30, 10), 0);
        assert_eq!(Cumulative::new(&[]).between(0, 10), 0);
    }

    #[test]
    fn effective_ppm_rounds_up() {
        assert_eq!(effective_ppm(61_005, 200_000_000), 306);
        assert_eq!(effective_ppm(60_000, 200_000_000), 300);
        assert_eq!(effective_ppm(5, 0), 0);
    }

    #[test]
    fn net_and_ratio_come_from_what_was_paid() {
        let s = RebalanceSummary {
            gross_revenue_msat: 10_000,
            fees_paid_msat: 2_500,
            ..RebalanceSummary::default()
        };
        assert_eq!(s.net_msat(), 7_500);
        assert_eq!(s.spend_per_revenue(), Some(0.25));
        let nothing = RebalanceSummary::default();
        assert_eq!(nothing.spend_per_revenue(), None);
        let loss = RebalanceSummary {
            gross_revenue_msat: 1_000,
            fees_paid_msat: 3_000,
            ..RebalanceSummary::default()
        };
        assert_eq!(loss.net_msat(), -2_000);
    }
}
