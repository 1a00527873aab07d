//! What one policy's run did, channel by channel: the detailed report
//! `simulate` prints for a single policy, and the source of that policy's
//! row when several are compared.
//!
//! Invariant: everything here is recorded from the simulated network and the
//! engine's cycle reports at simulated times, so equal runs give equal reports.

use super::SimulateArgs;
use super::compare::{Row, is_depleted};
use super::rebalance::RebalanceSummary;
use revops_engine::{ChannelAction, FeeCycleReport};
use revops_sim::{Scenario, SimNetwork};
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Default, Clone)]
struct ChannelLine {
    label: String,
    capacity_msat: u64,
    start_local_msat: u64,
    end_local_msat: u64,
    start_fee_ppm: u32,
    end_fee_ppm: u32,
    min_fee_ppm: u32,
    max_fee_ppm: u32,
    fee_changes: u32,
    /// Fee at the end of each simulated day.
    fee_path_ppm: Vec<u32>,
    revenue_msat: u64,
    forwards: u64,
    local_failures: u64,
    /// Daily samples at which the channel was depleted.
    days_depleted: u32,
    steps: BTreeMap<String, u32>,
}

#[derive(Debug, Clone)]
pub struct Report {
    header: String,
    days: u32,
    /// How many times `record_day` sampled the network.
    day_samples: u32,
    channels: BTreeMap<String, ChannelLine>,
    order: Vec<String>,
    policy_failures: u32,
    cycle_errors: Vec<String>,
    total_revenue_msat: u64,
    baseline_revenue_msat: u64,
    /// The same seed's net with fees left alone (equal to its revenue without rebalancing).
    baseline_net_msat: i64,
    /// `None` when no rebalancer ran (`--no-rebalance`).
    rebalancing: Option<RebalanceSummary>,
}

impl Report {
    pub(super) fn new(
        scenario: &Scenario,
        args: &SimulateArgs,
        policy: String,
        network: &SimNetwork,
    ) -> Report {
        let mut channels = BTreeMap::new();
        let mut order = Vec::new();
        for c in network.channels() {
            order.push(c.short_channel_id.clone());
            channels.insert(
                c.short_channel_id.clone(),
                ChannelLine {
                    label: c.label.clone(),
                    capacity_msat: c.capacity_msat,
                    start_local_msat: c.local_msat,
                    start_fee_ppm: c.fee_ppm,
                    min_fee_ppm: c.fee_ppm,
                    max_fee_ppm: c.fee_ppm,
                    ..ChannelLine::default()
                },
            );
        }
        let header = format!(
            "cl-revenue-ops simulate: scenario {}, seed {}, {} days, {} channels, fee cycle every {} s, {}, policy {}{}",
            args.scenario,
            scenario.seed,
            args.days,
            scenario.channels.len(),
            args.fee_interval,
            super::rebalancing_words(args),
            policy,
            if args.dry_run { " (dry-run)" } else { "" }
        );
        Report {
            header,
            days: args.days,
            day_samples: 0,
            channels,
            order,
            policy_failures: 0,
            cycle_errors: Vec::new(),
            total_revenue_msat: 0,
            baseline_revenue_msat: 0,
            baseline_net_msat: 0,
            rebalancing: None,
        }
    }

    pub(super) fn record_cycle(&mut self, cycle: &FeeCycleReport) {
        if cycle.policy_failure.is_some() {
            self.policy_failures += 1;
        }
        for c in &cycle.channels {
            let Some(line) = self.channels.get_mut(&c.short_channel_id) else {
                continue;
            };
            if c.action == ChannelAction::Applied {
                line.fee_changes += 1;
                line.min_fee_ppm = line.min_fee_ppm.min(c.new_fee_ppm);
                line.max_fee_ppm = line.max_fee_ppm.max(c.new_fee_ppm);
                if let Some(step) = &c.step {
                    *line.steps.entry(step.clone()).or_default() += 1;
                }
            }
        }
    }

    pub(super) fn record_error(&mut self, at: u64, error: &str) {
        self.cycle_errors.push(format!("t={at}: {error}"));
    }

    pub(super) fn record_day(&mut self, network: &SimNetwork) {
        self.day_samples += 1;
        for c in network.channels() {
            if let Some(line) = self.channels.get_mut(&c.short_channel_id) {
                line.fee_path_ppm.push(c.fee_ppm);
                if is_depleted(c.local_msat, c.capacity_msat) {
                    line.days_depleted += 1;
                }
            }
        }
    }

    pub(super) fn finish(&mut self, network: &SimNetwork) {
        for c in network.channels() {
            if let Some(line) = self.channels.get_mut(&c.short_channel_id) {
                line.end_local_msat = c.local_msat;
                line.end_fee_ppm = c.fee_ppm;
                line.revenue_msat = c.fees_earned_msat;
                line.forwards = c.forwards_settled_out;
                line.local_failures = c.forwards_local_failed_out;
            }
        }
        self.total_revenue_msat = network.total_fees_earned_msat();
    }

    /// What the same seed's run with fees left alone earned, and kept after
    /// rebalancing (the detailed report's comparison).
    pub(super) fn set_baseline(&mut self, baseline: &Report) {
        self.baseline_revenue_msat = baseline.total_revenue_msat;
        self.baseline_net_msat = baseline.net_msat();
    }

    /// The run's rebalancing, measured after the run.
    pub(super) fn set_rebalancing(&mut self, summary: RebalanceSummary) {
        self.rebalancing = Some(summary);
    }

    #[cfg(test)]
    pub fn rebalancing(&self) -> Option<&RebalanceSummary> {
        self.rebalancing.as_ref()
    }

    /// Routing revenue minus the rebalance fees actually paid.
    pub fn net_msat(&self) -> i64 {
        let spent = self.rebalancing.as_ref().map_or(0, |r| r.fees_paid_msat);
        self.total_revenue_msat as i64 - spent as i64
    }

    /// This run as one row of a comparison; `policy_ran` is false for `static`.
    pub(super) fn comparison_row(&self, policy: String, policy_ran: bool) -> Row {
        let lines = || self.order.iter().filter_map(|scid| self.channels.get(scid));
        Row {
            policy,
            revenue_msat: self.total_revenue_msat,
            fee_changes: lines().map(|c| u64::from(c.fee_changes)).sum(),
            channels: self.channels.len(),
            days: self.days,
            depleted_at_end: lines()
                .filter(|c| is_depleted(c.end_local_msat, c.capacity_msat))
                .count(),
            channel_days_depleted: lines().map(|c| u64::from(c.days_depleted)).sum(),
            day_samples: self.day_samples,
            forwards: lines().map(|c| c.forwards).sum(),
            local_failures: lines().map(|c| c.local_failures).sum(),
            policy_failures: policy_ran.then_some(self.policy_failures),
            cycle_errors: self.cycle_errors.clone(),
            channel_revenue_msat: lines().map(|c| (c.label.clone(), c.revenue_msat)).collect(),
            rebalancing: self.rebalancing.clone(),
        }
    }

    #[cfg(test)]
    pub fn total_revenue_msat(&self) -> u64 {
        self.total_revenue_msat
    }

    #[cfg(test)]
    pub fn baseline_revenue_msat(&self) -> u64 {
        self.baseline_revenue_msat
    }

    pub fn total_fee_changes(&self) -> u32 {
        self.channels.values().map(|c| c.fee_changes).sum()
    }

    #[cfg(test)]
    pub fn policy_failures(&self) -> u32 {
        self.policy_failures
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.header);
        let _ = writeln!(
            out,
            "Simulated network, not mainnet: compare runs on the same seed; this promises no income.\n"
        );
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>13} {:>18} {:>6} {:>8} {:>9} {:>12}  steps",
            "channel", "capacity", "local", "fee ppm", "chg", "fwds", "failed", "revenue sat",
        );
        let pct = |a: u64, b: u64| (a * 100).checked_div(b).unwrap_or(0);
        for scid in &self.order {
            let Some(c) = self.channels.get(scid) else {
                continue;
            };
            let steps = c
                .steps
                .iter()
                .map(|(s, n)| format!("{s}×{n}"))
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(
                out,
                "{:<24} {:>10} {:>13} {:>18} {:>6} {:>8} {:>9} {:>12}  {}",
                c.label,
                format!("{:.1}M", c.capacity_msat as f64 / 1e9),
                format!(
                    "{}%→{}%",
                    pct(c.start_local_msat, c.capacity_msat),
                    pct(c.end_local_msat, c.capacity_msat)
                ),
                format!(
                    "{}→{} ({}..{})",
                    c.start_fee_ppm, c.end_fee_ppm, c.min_fee_ppm, c.max_fee_ppm
                ),
                c.fee_changes,
                c.forwards,
                c.local_failures,
                c.revenue_msat / 1000,
                steps
            );
        }
        let channels = self.channels.len().max(1) as f64;
        match &self.rebalancing {
            None => {
                let _ = writeln!(
                    out,
                    "\nrevenue: {} sat with the engine vs {} sat with fees left alone (same seed); no rebalancing",
                    self.total_revenue_msat / 1000,
                    self.baseline_revenue_msat / 1000
                );
            }
            Some(r) => {
                let _ = writeln!(
                    out,
                    "\nrevenue: gross {} sat − rebalance fees {} sat = net {} sat with the engine",
                    self.total_revenue_msat / 1000,
                    r.fees_paid_msat / 1000,
                    self.net_msat() / 1000,
                );
                let _ = writeln!(
                    out,
                    "  vs gross {} sat, net {} sat with fees left alone (same seed, same rebalancer)",
                    self.baseline_revenue_msat / 1000,
                    self.baseline_net_msat / 1000
                );
            }
        }
        let _ = writeln!(
            out,
            "fee changes: {} ({:.2} per channel per day); policy failures: {}; cycle errors: {}",
            self.total_fee_changes(),
            self.total_fee_changes() as f64 / channels / self.days.max(1) as f64,
            self.policy_failures,
            self.cycle_errors.len()
        );
        for e in self.cycle_errors.iter().take(5) {
            let _ = writeln!(out, "  cycle error {e}");
        }
        if let Some(r) = &self.rebalancing {
            out.push('\n');
            out.push_str(&r.render());
        }
        {
            let _ = writeln!(out, "\nfee path (ppm at the end of each day):");
            for scid in &self.order {
                if let Some(c) = self.channels.get(scid) {
                    let path = c
                        .fee_path_ppm
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(" ");
                    let _ = writeln!(out, "  {:<24} {path}", c.label);
                }
            }
        }
        out
    }
}
