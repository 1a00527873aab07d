//! The side-by-side table `simulate` prints when it compares policies.
//!
//! Invariants:
//! - Pure rendering: the same rows give the same text (no clock, no locale).
//! - Every line of a table has the same width; the policy column is
//!   left-aligned and every other column right-aligned, each as wide as its
//!   widest cell (header included).
//! - "vs static" is always against the net of the run with fees left alone
//!   on the same seed (and the same rebalancer), whether or not `static` is
//!   one of the listed rows.
//! - Net = gross routing revenue − rebalance fees the simulated sling
//!   actually paid; without rebalancing net = gross.

use super::rebalance::{RebalanceSummary, percent};
use std::fmt::Write;

/// A channel counts as depleted when our side holds less than this
/// fraction of its capacity (1/10 = 10 %).
pub const DEPLETED_BELOW_DENOMINATOR: u128 = 10;

/// Whether a channel with `local_msat` of `capacity_msat` on our side is depleted.
pub fn is_depleted(local_msat: u64, capacity_msat: u64) -> bool {
    // local < capacity / 10, without losing the remainder to integer division.
    u128::from(local_msat) * DEPLETED_BELOW_DENOMINATOR < u128::from(capacity_msat)
}

/// What was run: printed once above the table.
#[derive(Debug, Clone)]
pub struct Setup {
    pub scenario: String,
    pub seed: u64,
    pub days: u32,
    pub channels: usize,
    pub fee_interval_secs: u64,
    /// `None` when no run rebalanced (`--no-rebalance`).
    pub rebalance_interval_secs: Option<u64>,
    pub dry_run: bool,
}

/// One policy's whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `static` or `name@version`.
    pub policy: String,
    /// Fees earned by forwards during the run.
    pub revenue_msat: u64,
    pub fee_changes: u64,
    pub channels: usize,
    pub days: u32,
    pub depleted_at_end: usize,
    /// Depleted channels summed over the daily samples.
    pub channel_days_depleted: u64,
    /// How many daily samples `channel_days_depleted` sums over.
    pub day_samples: u32,
    pub forwards: u64,
    /// Forwards that failed here for lack of outbound liquidity or HTLC slots.
    pub local_failures: u64,
    /// Fee cycles whose policy call failed; `None` when no policy ran (`static`).
    pub policy_failures: Option<u32>,
    pub cycle_errors: Vec<String>,
    /// Per channel, in scenario order: its label and the fees it earned.
    pub channel_revenue_msat: Vec<(String, u64)>,
    /// `None` when no rebalancer ran.
    pub rebalancing: Option<RebalanceSummary>,
}

impl Row {
    /// Rebalance fees actually paid.
    pub fn rebalance_fees_msat(&self) -> u64 {
        self.rebalancing.as_ref().map_or(0, |r| r.fees_paid_msat)
    }

    /// Gross revenue minus rebalance fees actually paid.
    pub fn net_msat(&self) -> i64 {
        self.revenue_msat as i64 - self.rebalance_fees_msat() as i64
    }

    /// Applied fee changes per channel per simulated day.
    pub fn fee_changes_per_channel_day(&self) -> f64 {
        self.fee_changes as f64 / self.channels.max(1) as f64 / f64::from(self.days.max(1))
    }
}

/// The runs of one comparison, in the order they were asked for.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub setup: Setup,
    /// Net of the same seed with fees left alone (same rebalancer).
    pub static_net_msat: i64,
    pub rows: Vec<Row>,
}

/// `net` relative to `baseline`, signed, one decimal: `+12.3%`.
/// `n/a` when the baseline kept nothing (no meaningful ratio exists).
pub fn vs_static(revenue_msat: i64, baseline_msat: i64) -> String {
    if baseline_msat <= 0 {
        return "n/a".to_string();
    }
    let change = (revenue_msat as f64 - baseline_msat as f64) / baseline_msat as f64 * 100.0;
    format!("{change:+.1}%")
}

/// A plain-text table: first column left-aligned, the rest right-aligned,
/// two spaces between columns, no trailing spaces. A header cell may span
/// several lines (`\n`); shorter ones sit on the bottom line, so narrow
/// numeric columns can carry long names.
pub(super) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let header_lines = header.iter().map(|h| h.lines().count()).max().unwrap_or(0);
    let header_rows: Vec<Vec<String>> = (0..header_lines)
        .map(|line| {
            header
                .iter()
                .map(|h| {
                    let parts: Vec<&str> = h.lines().collect();
                    let skip = header_lines - parts.len();
                    line.checked_sub(skip)
                        .and_then(|i| parts.get(i))
                        .map_or_else(String::new, |p| p.to_string())
                })
                .collect()
        })
        .collect();
    let all: Vec<&Vec<String>> = header_rows.iter().chain(rows).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            all.iter()
                .map(|cells| cells[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for cells in all {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == 0 {
                let _ = write!(line, "{cell:<w$}", w = widths[0]);
            } else {
                let _ = write!(line, "  {cell:>w$}", w = widths[i]);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

const NOT_APPLICABLE: &str = "—";

impl Comparison {
    pub fn render(&self) -> String {
        let s = &self.setup;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "cl-revenue-ops simulate: policy comparison, scenario {}, seed {}, {} days, {} channels, fee cycle every {} s, {}{}",
            s.scenario,
            s.seed,
            s.days,
            s.channels,
            s.fee_interval_secs,
            match s.rebalance_interval_secs {
                Some(secs) => format!("rebalance cycle every {secs} s"),
                None => "no rebalancing".to_string(),
            },
            if s.dry_run { " (dry-run)" } else { "" }
        );
        let _ = writeln!(
            out,
            "Simulated network, not mainnet: compare runs on the same seed; this promises no income.\n"
        );
        out.push_str(&self.summary_table());
        if self.rows.iter().any(|r| r.rebalancing.is_some()) {
            let _ = writeln!(out, "\nrebalancing:");
            out.push_str(&self.rebalance_table());
        }
        out.push('\n');
        for note in self.footnotes() {
            let _ = writeln!(out, "{note}");
        }
        let _ = writeln!(out, "\nrevenue sat by channel:");
        out.push_str(&self.channel_table());
        out
    }

    fn summary_table(&self) -> String {
        let header = [
            "policy",
            "gross\nsat",
            "rebalance\nfees sat",
            "net\nsat",
            "vs\nstatic",
            "fee changes\nper ch-day",
            "depleted\nat end",
            "depleted\nch-days",
            "forwards",
            "local\nfailures",
            "policy\nfailures",
        ];
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.policy.clone(),
                    (r.revenue_msat / 1000).to_string(),
                    (r.rebalance_fees_msat() / 1000).to_string(),
                    (r.net_msat() / 1000).to_string(),
                    match r.policy_failures {
                        // The static row is the baseline itself.
                        None => NOT_APPLICABLE.to_string(),
                        Some(_) => vs_static(r.net_msat(), self.static_net_msat),
                    },
                    format!("{:.2}", r.fee_changes_per_channel_day()),
                    format!("{}/{}", r.depleted_at_end, r.channels),
                    r.channel_days_depleted.to_string(),
                    r.forwards.to_string(),
                    r.local_failures.to_string(),
                    r.policy_failures
                        .map_or_else(|| NOT_APPLICABLE.to_string(), |n| n.to_string()),
                ]
            })
            .collect();
        table(&header, &rows)
    }

    /// Per policy: what its run's rebalancer did and the budget audit.
    fn rebalance_table(&self) -> String {
        let header = [
            "policy",
            "started",
            "succeeded",
            "success,\nno payment",
            "failed",
            "moved\nsat",
            "fees\nsat",
            "spend/\nrevenue",
            "budget\nviolations",
        ];
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| match &r.rebalancing {
                None => {
                    let mut cells = vec![r.policy.clone()];
                    cells.extend((1..header.len()).map(|_| NOT_APPLICABLE.to_string()));
                    cells
                }
                Some(b) => vec![
                    r.policy.clone(),
                    b.started.to_string(),
                    b.succeeded.to_string(),
                    b.successes_without_payment.to_string(),
                    b.failed.to_string(),
                    (b.moved_msat / 1000).to_string(),
                    (b.fees_paid_msat / 1000).to_string(),
                    percent(b.spend_per_revenue()),
                    b.budget_violations().to_string(),
                ],
            })
            .collect();
        table(&header, &rows)
    }

    fn footnotes(&self) -> Vec<String> {
        let rebalanced: Vec<&RebalanceSummary> = self
            .rows
            .iter()
            .filter_map(|r| r.rebalancing.as_ref())
            .collect();
        let mut notes = vec![if rebalanced.is_empty() {
            "gross: routing fees earned during the run. No rebalancing (--no-rebalance), so nothing is spent: net = gross.".to_string()
        } else {
            "gross: routing fees earned during the run; rebalance fees: what the simulated sling actually paid for settled rebalances, measured on the network (not the engine's ledger); net = gross − rebalance fees. vs static compares nets. Every run, static included, has the same rebalancer; static never changes a fee.".to_string()
        }];
        if !rebalanced.is_empty() {
            notes.push("rebalancing: started = rebalances that held budget; succeeded = judged so by the engine (with bookkeeper, as in the default scenario: a rebalance payment arrived; without it: the destination's balance rose), of which 'no payment' had no rebalance payment settled (its balance rose through forwards); failed includes timeouts; moved and fees are the sling payments that settled. Budget violations: an audit independent of the engine's bookkeeping, from the network's own records: 24-h windows (one ending at each settled payment) whose fees actually paid exceeded the daily budget in force (daily_budget_msat with the routing revenue of the 24 h before), starts whose commitment (fees paid in the 24 h before + every running hold + its own) exceeded it, and rebalances whose effective fee ppm exceeded their max fee ppm.".to_string());
            let gross: u64 = self
                .rows
                .iter()
                .filter(|r| r.rebalancing.is_some())
                .map(|r| r.revenue_msat)
                .sum();
            let spent: u64 = rebalanced.iter().map(|b| b.fees_paid_msat).sum();
            let violations: u64 = rebalanced.iter().map(|b| b.budget_violations()).sum();
            notes.push(format!(
                "in all: rebalance fees {} sat against {} sat gross ({} spend/revenue) over {} runs; {} budget violations.",
                spent / 1000,
                gross / 1000,
                percent((gross > 0).then(|| spent as f64 / gross as f64)),
                rebalanced.len(),
                violations
            ));
        }
        notes.extend([
            format!(
                "depleted: our side below 10% of capacity. At end: after the last day; ch-days: channels depleted, summed over one sample per simulated day ({} samples, each at the first fee cycle at or after a day boundary).",
                self.rows.first().map_or(0, |r| r.day_samples)
            ),
            "forwards: settled. Local failures: forwards that failed at this node for lack of outbound liquidity or a free HTLC slot (the simulator counts both together).".to_string(),
            "policy failures: fee cycles whose policy call failed (fees left as they were); static runs no policy.".to_string(),
        ]);
        if !self.rows.iter().any(|r| r.policy_failures.is_none()) {
            notes.push(format!(
                "vs static: against a net of {} sat on the same seed with fees left alone (run for reference, not listed).",
                self.static_net_msat / 1000
            ));
        }
        for r in self.rows.iter().filter(|r| !r.cycle_errors.is_empty()) {
            notes.push(format!(
                "{}: {} cycle errors, first: {}",
                r.policy,
                r.cycle_errors.len(),
                r.cycle_errors[0]
            ));
        }
        notes
    }

    /// Channels down, policies across: where each policy earned.
    fn channel_table(&self) -> String {
        let mut header = vec!["channel"];
        header.extend(self.rows.iter().map(|r| r.policy.as_str()));
        let Some(first) = self.rows.first() else {
            return table(&header, &[]);
        };
        let rows: Vec<Vec<String>> = first
            .channel_revenue_msat
            .iter()
            .enumerate()
            .map(|(i, (label, _))| {
                let mut cells = vec![label.clone()];
                cells.extend(self.rows.iter().map(|r| {
                    r.channel_revenue_msat
                        .get(i)
                        .map_or_else(String::new, |(_, msat)| (msat / 1000).to_string())
                }));
                cells
            })
            .collect();
        table(&header, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(policy: &str, revenue_sat: u64, failures: Option<u32>) -> Row {
        Row {
            policy: policy.to_string(),
            revenue_msat: revenue_sat * 1000,
            fee_changes: 48,
            channels: 8,
            days: 3,
            depleted_at_end: 2,
            channel_days_depleted: 5,
            day_samples: 3,
            forwards: 1234,
            local_failures: 7,
            policy_failures: failures,
            cycle_errors: Vec::new(),
            channel_revenue_msat: vec![
                ("balanced-a".to_string(), revenue_sat * 600),
                ("depleting-sink".to_string(), revenue_sat * 400),
            ],
            rebalancing: None,
        }
    }

    fn comparison(rows: Vec<Row>, static_revenue_sat: u64) -> Comparison {
        Comparison {
            setup: Setup {
                scenario: "default".to_string(),
                seed: 1,
                days: 3,
                channels: 8,
                fee_interval_secs: 1800,
                rebalance_interval_secs: None,
                dry_run: false,
            },
            static_net_msat: static_revenue_sat as i64 * 1000,
            rows,
        }
    }

    fn summary_lines(c: &Comparison) -> Vec<String> {
        c.summary_table().lines().map(String::from).collect()
    }

    #[test]
    fn depleted_means_below_a_tenth_of_capacity() {
        assert!(is_depleted(0, 1_000));
        assert!(is_depleted(99, 1_000));
        assert!(!is_depleted(100, 1_000));
        assert!(!is_depleted(1_000, 1_000));
        // No overflow near u64::MAX, no rounding at odd capacities.
        assert!(!is_depleted(u64::MAX / 10 + 1, u64::MAX));
        assert!(is_depleted(100, 1_001));
    }

    #[test]
    fn vs_static_is_signed_with_one_decimal() {
        assert_eq!(vs_static(150, 100), "+50.0%");
        assert_eq!(vs_static(50, 100), "-50.0%");
        assert_eq!(vs_static(100, 100), "+0.0%");
        assert_eq!(vs_static(1, 3), "-66.7%");
        assert_eq!(vs_static(5, 0), "n/a");
        assert_eq!(vs_static(5, -10), "n/a");
        assert_eq!(vs_static(-50, 100), "-150.0%");
    }

    #[test]
    fn columns_line_up_whatever_the_cell_widths() {
        let c = comparison(
            vec![
                row("static", 74_123, None),
                row("fee-alpha@0.1.0", 9, Some(0)),
                row(
                    "a-much-longer-policy-name@10.20.30 (mine.wasm)",
                    1_234_567_890,
                    Some(12),
                ),
            ],
            74_123,
        );
        let lines = summary_lines(&c);
        assert_eq!(lines.len(), 5, "two header lines and one line per policy");
        // Every line but the first header line (which may end in a blank
        // cell) spans the whole table.
        let width = lines[1].chars().count();
        for line in &lines {
            assert!(line.chars().count() <= width, "{line:?}");
        }
        for line in &lines[1..] {
            assert_eq!(line.chars().count(), width, "{line:?}");
        }
        // Right-aligned: the revenue column's digits end where its header
        // ends, on both header lines.
        let header_end = lines[0].find("gross").unwrap() + "gross".len();
        assert_eq!(lines[1].find("sat").unwrap() + "sat".len(), header_end);
        for line in &lines[2..] {
            let before = &line[..header_end];
            assert!(before.ends_with(|ch: char| ch.is_ascii_digit()), "{line:?}");
            assert_eq!(line.as_bytes()[header_end], b' ', "{line:?}");
        }
        assert!(lines[1].starts_with("policy "));
        assert!(lines[4].starts_with("a-much-longer-policy-name@10.20.30 (mine.wasm)  "));
        assert!(lines[4].ends_with("  12"), "{:?}", lines[4]);
    }

    #[test]
    fn the_static_row_is_the_baseline_and_others_compare_with_it() {
        let c = comparison(
            vec![
                row("static", 1000, None),
                row("fee-alpha@0.1.0", 500, Some(0)),
            ],
            1000,
        );
        let lines = summary_lines(&c);
        let cells = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
        let st = cells(&lines[2]);
        let alpha = cells(&lines[3]);
        assert_eq!(st[0], "static");
        assert_eq!(st[4], NOT_APPLICABLE);
        assert_eq!(st.last().unwrap(), NOT_APPLICABLE);
        assert_eq!(alpha[1], "500");
        // No rebalancing: nothing spent, net = gross.
        assert_eq!(alpha[2], "0");
        assert_eq!(alpha[3], "500");
        assert_eq!(alpha[4], "-50.0%");
        // 48 changes / 8 channels / 3 days.
        assert_eq!(alpha[5], "2.00");
        assert_eq!(alpha[6], "2/8");
        assert_eq!(alpha[7], "5");
        assert!(!c.render().contains("not listed"));
    }

    #[test]
    fn a_comparison_without_static_says_what_it_compares_with() {
        let c = comparison(vec![row("fee-alpha@0.1.0", 1100, Some(0))], 1000);
        let text = c.render();
        assert!(text.contains("+10.0%"), "{text}");
        assert!(text.contains("against a net of 1000 sat"), "{text}");
        assert!(text.contains("net = gross"), "{text}");
        assert!(!text.contains("\nrebalancing:"), "{text}");
    }

    #[test]
    fn with_rebalancing_net_is_gross_minus_fees_and_vs_static_compares_nets() {
        let rebalancing = |fees_sat: u64, gross_sat: u64| RebalanceSummary {
            started: 4,
            succeeded: 3,
            failed: 1,
            moved_msat: 2_000_000 * 1000,
            fees_paid_msat: fees_sat * 1000,
            gross_revenue_msat: gross_sat * 1000,
            ..RebalanceSummary::default()
        };
        let mut st = row("static", 1000, None);
        st.rebalancing = Some(rebalancing(100, 1000));
        let mut alpha = row("fee-alpha@0.1.0", 1200, Some(0));
        alpha.rebalancing = Some(rebalancing(300, 1200));
        let mut c = comparison(vec![st, alpha], 0);
        c.static_net_msat = c.rows[0].net_msat();
        c.setup.rebalance_interval_secs = Some(900);
        let lines = summary_lines(&c);
        let cells = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(cells(&lines[2])[1..4], ["1000", "100", "900"]);
        // 900 net vs 900 net.
        assert_eq!(cells(&lines[3])[1..5], ["1200", "300", "900", "+0.0%"]);
        let text = c.render();
        assert!(text.contains("rebalance cycle every 900 s"), "{text}");
        let rebalance_lines: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != "rebalancing:")
            .take(5)
            .collect();
        assert_eq!(
            cells(rebalance_lines[4]),
            [
                "fee-alpha@0.1.0",
                "4",
                "3",
                "0",
                "1",
                "2000000",
                "300",
                "25.00%",
                "0"
            ],
            "{text}"
        );
        assert!(text.contains("net = gross − rebalance fees"), "{text}");
        assert!(
            text.contains("rebalance fees 400 sat against 2200 sat gross (18.18% spend/revenue) over 2 runs; 0 budget violations"),
            "{text}"
        );
    }

    #[test]
    fn the_channel_table_has_a_column_per_policy() {
        let c = comparison(
            vec![
                row("static", 1000, None),
                row("fee-alpha@0.1.0", 500, Some(0)),
            ],
            1000,
        );
        let text = c.channel_table();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("channel"));
        assert!(lines[0].ends_with("static  fee-alpha@0.1.0"), "{text}");
        let sink: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(sink, ["depleting-sink", "400", "200"]);
    }
}
