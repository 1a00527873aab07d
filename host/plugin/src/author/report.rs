//! The `policy check` report: what was found, as JSON (`--json`, the
//! structs' serde form) or as text for a terminal (`render`).
//!
//! Invariants:
//! - The text and the JSON carry the same facts; the last text line is the
//!   verdict, and `verdict.exit_code` is the process's exit status.
//! - Failures are grouped by kind, in the order first seen, each with its
//!   count and the first call and message.

use crate::author::validate::Refusal;
use revops_runtime::{Limits, SelfTestReport};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub file: String,
    pub size_bytes: Option<usize>,
    pub sha256: Option<String>,
    /// What the policy says about itself (absent when it did not load).
    pub policy: Option<PolicyInfo>,
    #[serde(serialize_with = "serialize_limits")]
    pub limits: Limits,
    /// Why the plugin would refuse it, if it would.
    pub refused: Option<Refusal>,
    pub self_test: Option<SelfTestReport>,
    pub randomised: Option<Randomised>,
    pub failures: Vec<FailureEntry>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub roles: Vec<String>,
    /// e.g. `revops:policy@0.1.1`.
    pub wit_version: String,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// It imports WASI and runs on the host's deterministic WASI shim.
    pub uses_wasi_shim: bool,
    /// A built-in fee policy has this name: loading the file replaces it.
    pub replaces_built_in: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Randomised {
    pub seed: u64,
    pub rounds: usize,
    pub channels: usize,
    /// Rebalance candidates scored per round (0 without the scorer role).
    pub candidates_per_round: usize,
    /// The first batch, repeated, gave the same answers (`None`: the first
    /// batch failed, so nothing was compared).
    pub deterministic: Option<bool>,
    pub fees: Option<FeeRounds>,
    pub rebalance: Option<ScoreRounds>,
}

/// Nearest-rank percentiles; all 0 with no samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

impl Percentiles {
    pub fn of(samples: &[u64]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let rank = |p: usize| sorted[(p * sorted.len()).div_ceil(100).max(1) - 1];
        Percentiles {
            p50: rank(50),
            p99: rank(99),
            max: sorted[sorted.len() - 1],
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FeeRounds {
    pub batches: u32,
    pub batches_ok: u32,
    /// The rounds stopped after 3 failed batches in a row.
    pub stopped_early: bool,
    pub decisions: u64,
    /// Decisions that would change the fee (after the host's clamp).
    pub fee_changes: u64,
    pub fuel_budget_per_batch: u64,
    pub fuel_per_batch: Percentiles,
    pub fuel_per_channel: Percentiles,
    pub micros_per_batch: Percentiles,
    pub clamped_below_floor: u64,
    pub clamped_above_ceiling: u64,
    pub first_clamped: Option<String>,
    pub max_state_bytes: usize,
    /// Decisions per `step`.
    pub steps: BTreeMap<String, u64>,
    pub logs_dropped: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoreRounds {
    pub batches: u32,
    pub batches_ok: u32,
    /// The rounds stopped after 3 failed batches in a row.
    pub stopped_early: bool,
    pub candidates: u64,
    pub accepted: u64,
    /// Accepted with less than the proposed amount.
    pub amount_reduced: u64,
    pub fuel_budget_per_batch: u64,
    pub fuel_per_batch: Percentiles,
    pub fuel_per_candidate: Percentiles,
    pub micros_per_batch: Percentiles,
    pub logs_dropped: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailureEntry {
    /// A `FailureKind` name (`out_of_fuel`, `trap`, …), a load refusal
    /// (`forbidden_import`, …) or `nondeterministic`.
    pub kind: String,
    pub count: u64,
    /// e.g. `self-test decide-fees (first decision)`, `decide-fees round 3`.
    pub first_call: String,
    pub first_message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub passed: bool,
    /// 0 passes, 1 fails, 2 could not be loaded.
    pub exit_code: u8,
    pub summary: String,
}

impl Verdict {
    pub fn pass(summary: String) -> Self {
        Verdict {
            passed: true,
            exit_code: 0,
            summary,
        }
    }

    pub fn fail(summary: String) -> Self {
        Verdict {
            passed: false,
            exit_code: 1,
            summary,
        }
    }

    pub fn refused(refusal: &Refusal) -> Self {
        Self::fail(format!("the plugin would refuse this policy: {refusal}"))
    }

    pub fn unloadable(summary: String) -> Self {
        Verdict {
            passed: false,
            exit_code: 2,
            summary,
        }
    }
}

fn serialize_limits<S: serde::Serializer>(limits: &Limits, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut out = s.serialize_struct("Limits", 5)?;
    out.serialize_field("fuel_per_batch_base", &limits.fuel_per_batch_base)?;
    out.serialize_field("fuel_per_channel", &limits.fuel_per_channel)?;
    out.serialize_field("fuel_per_candidate", &limits.fuel_per_candidate)?;
    out.serialize_field("memory_bytes", &limits.memory_bytes)?;
    out.serialize_field("wall_clock_ms", &limits.wall_clock_ms)?;
    out.serialize_field("max_state_bytes", &limits.max_state_bytes)?;
    out.end()
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0 %".to_string();
    }
    let pct = part as f64 * 100.0 / whole as f64;
    if pct > 0.0 && pct < 0.1 {
        "< 0.1 %".to_string()
    } else {
        format!("{pct:.1} %")
    }
}

fn stopped(early: bool) -> &'static str {
    if early {
        " (stopped after 3 failed in a row)"
    } else {
        ""
    }
}

fn millis(micros: u64) -> String {
    format!("{:.2} ms", micros as f64 / 1000.0)
}

/// The report's "time per batch" line.
fn time_line(micros: &Percentiles) -> String {
    format!(
        "    {:<18} p50 {:>11}  max {:>11}\n",
        "time per batch",
        millis(micros.p50),
        millis(micros.max)
    )
}

impl Report {
    pub fn new(file: String, limits: Limits) -> Self {
        Report {
            file,
            size_bytes: None,
            sha256: None,
            policy: None,
            limits,
            refused: None,
            self_test: None,
            randomised: None,
            failures: Vec::new(),
            verdict: Verdict::fail(String::new()),
        }
    }

    /// Counts a failure under its kind (the first call and message kept).
    pub fn note_failure(&mut self, kind: &str, call: &str, message: &str) {
        match self.failures.iter_mut().find(|f| f.kind == kind) {
            Some(entry) => entry.count += 1,
            None => self.failures.push(FailureEntry {
                kind: kind.to_string(),
                count: 1,
                first_call: call.to_string(),
                first_message: message.to_string(),
            }),
        }
    }

    /// The report for a terminal.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = self.write_text(&mut out);
        out
    }

    fn write_text(&self, out: &mut String) -> std::fmt::Result {
        writeln!(out, "policy check: {}", self.file)?;
        if let (Some(size), Some(hash)) = (self.size_bytes, &self.sha256) {
            writeln!(
                out,
                "  size       {} bytes, sha256 {hash}",
                thousands(size as u64)
            )?;
        }
        if let Some(p) = &self.policy {
            writeln!(out, "  policy     {} {}", p.name, p.version)?;
            if !p.description.is_empty() {
                writeln!(out, "             {}", p.description)?;
            }
            writeln!(out, "  roles      {}", p.roles.join(", "))?;
            writeln!(
                out,
                "  WIT        {} (this host: revops:policy@0.1.x)",
                if p.wit_version.is_empty() {
                    "unknown"
                } else {
                    &p.wit_version
                }
            )?;
            let imports = if p.imports.is_empty() {
                "none".to_string()
            } else {
                p.imports.join(", ")
            };
            writeln!(out, "  imports    {imports}")?;
            if !p.exports.is_empty() {
                writeln!(out, "  exports    {}", p.exports.join(", "))?;
            }
            if p.uses_wasi_shim {
                writeln!(
                    out,
                    "  note       imports WASI: runs on the host's deterministic shim \
                     (no files, network or environment; clock and randomness from the input)"
                )?;
            }
            if p.replaces_built_in {
                writeln!(
                    out,
                    "  note       a built-in policy is named `{}`: loading this file replaces it",
                    p.name
                )?;
            }
        }
        let l = &self.limits;
        writeln!(
            out,
            "  limits     fuel {} per batch + {} per channel / {} per candidate; memory {} MiB; \
             wall clock {} ms; state {} bytes",
            thousands(l.fuel_per_batch_base),
            thousands(l.fuel_per_channel),
            thousands(l.fuel_per_candidate),
            l.memory_bytes / (1024 * 1024),
            l.wall_clock_ms,
            l.max_state_bytes
        )?;
        writeln!(out)?;

        let loaded = self.policy.is_some();
        match (&self.refused, loaded) {
            (Some(r), false) => writeln!(out, "load        REFUSED ({}): {}", r.kind, r.message)?,
            _ if loaded => writeln!(
                out,
                "load        ok (compile, imports, WIT version, exports, metadata)"
            )?,
            _ => {}
        }
        if loaded {
            match (&self.self_test, &self.refused) {
                (Some(t), _) => {
                    let mut parts = Vec::new();
                    if t.fee_batches > 0 {
                        parts.push(format!(
                            "{} fee batches, {} decisions, at most {} fuel",
                            t.fee_batches,
                            t.fee_decisions,
                            thousands(t.max_fee_batch_fuel)
                        ));
                    }
                    if t.scorer_batches > 0 {
                        parts.push(format!(
                            "{} scorer batch, {} verdicts, at most {} fuel",
                            t.scorer_batches,
                            t.verdicts,
                            thousands(t.max_scorer_batch_fuel)
                        ));
                    }
                    writeln!(out, "self-test   ok: {}", parts.join("; "))?;
                }
                (None, Some(r)) => writeln!(
                    out,
                    "self-test   FAILED in {} ({}): {}",
                    r.call.as_deref().unwrap_or("a call"),
                    r.kind,
                    r.message
                )?,
                (None, None) => {}
            }
        }
        if let Some(r) = &self.randomised {
            self.write_randomised(out, r)?;
        }
        writeln!(out)?;
        if self.failures.is_empty() {
            // A file that could not even be read was not tried.
            if self.size_bytes.is_some() {
                writeln!(out, "failures    none")?;
            }
        } else {
            writeln!(out, "failures")?;
            for f in &self.failures {
                writeln!(
                    out,
                    "  {:<17} {}×, first in {}: {}",
                    f.kind, f.count, f.first_call, f.first_message
                )?;
            }
        }
        let word = match self.verdict.exit_code {
            0 => "PASS",
            1 => "FAIL",
            _ => "CANNOT LOAD",
        };
        writeln!(out, "verdict: {word} — {}", self.verdict.summary)
    }

    fn write_randomised(&self, out: &mut String, r: &Randomised) -> std::fmt::Result {
        let mut per_round = Vec::new();
        if r.fees.is_some() {
            per_round.push(format!("a fee batch of {} channels", r.channels));
        }
        if r.rebalance.is_some() {
            per_round.push(format!("{} rebalance candidates", r.candidates_per_round));
        }
        writeln!(
            out,
            "randomised  {} rounds (seed {}) of {}; balances drift and each channel's \
             state and clamped fee carry over",
            r.rounds,
            r.seed,
            per_round.join(" and ")
        )?;
        let fuel_line = |label: &str, p: &Percentiles, budget: Option<u64>| {
            let share = budget
                .map(|b| {
                    format!(
                        "   (budget {}: {} used at most)",
                        thousands(b),
                        percent(p.max, b)
                    )
                })
                .unwrap_or_default();
            format!(
                "    {label:<18} p50 {:>11}  p99 {:>11}  max {:>11}{share}\n",
                thousands(p.p50),
                thousands(p.p99),
                thousands(p.max)
            )
        };
        if let Some(f) = &r.fees {
            write!(
                out,
                "  decide-fees       {}/{} batches ok{}",
                f.batches_ok,
                f.batches,
                stopped(f.stopped_early)
            )?;
            if f.decisions > 0 {
                write!(
                    out,
                    ", {} decisions, {} would change a fee",
                    thousands(f.decisions),
                    percent(f.fee_changes, f.decisions)
                )?;
            }
            writeln!(out)?;
            if f.batches_ok > 0 {
                out.push_str(&fuel_line("fuel per channel", &f.fuel_per_channel, None));
                out.push_str(&fuel_line(
                    "fuel per batch",
                    &f.fuel_per_batch,
                    Some(f.fuel_budget_per_batch),
                ));
                out.push_str(&time_line(&f.micros_per_batch));
                let clamped = f.clamped_below_floor + f.clamped_above_ceiling;
                write!(
                    out,
                    "    {:<18} {} of {} decisions ({}; {} below the floor, {} above the ceiling)",
                    "would be clamped",
                    thousands(clamped),
                    thousands(f.decisions),
                    percent(clamped, f.decisions),
                    f.clamped_below_floor,
                    f.clamped_above_ceiling
                )?;
                match &f.first_clamped {
                    Some(first) => writeln!(out, "; first: {first}")?,
                    None => writeln!(out)?,
                }
                writeln!(
                    out,
                    "    {:<18} at most {} bytes per channel (limit {})",
                    "state", f.max_state_bytes, self.limits.max_state_bytes
                )?;
                let mut steps: Vec<(&String, &u64)> = f.steps.iter().collect();
                steps.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let steps: Vec<String> = steps
                    .iter()
                    .map(|(step, n)| format!("{step} {}", percent(**n, f.decisions)))
                    .collect();
                writeln!(out, "    {:<18} {}", "steps", steps.join(", "))?;
                if f.logs_dropped > 0 {
                    writeln!(
                        out,
                        "    {:<18} {} (over the per-call cap)",
                        "log lines dropped", f.logs_dropped
                    )?;
                }
            }
        }
        if let Some(s) = &r.rebalance {
            write!(
                out,
                "  score-rebalances  {}/{} batches ok{}",
                s.batches_ok,
                s.batches,
                stopped(s.stopped_early)
            )?;
            if s.candidates > 0 {
                write!(
                    out,
                    ", {} candidates, {} accepted ({} with a smaller amount)",
                    s.candidates, s.accepted, s.amount_reduced
                )?;
            }
            writeln!(out)?;
            if s.batches_ok > 0 {
                out.push_str(&fuel_line(
                    "fuel per candidate",
                    &s.fuel_per_candidate,
                    None,
                ));
                out.push_str(&fuel_line(
                    "fuel per batch",
                    &s.fuel_per_batch,
                    Some(s.fuel_budget_per_batch),
                ));
                out.push_str(&time_line(&s.micros_per_batch));
            }
        }
        let deterministic = match r.deterministic {
            Some(true) => "yes (the first batch, repeated, got the same answers)",
            Some(false) => "NO (the first batch, repeated, got different answers)",
            None => "not compared (the first batch failed)",
        };
        writeln!(out, "  deterministic     {deterministic}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(Percentiles::of(&[]), Percentiles::default());
        let p = Percentiles::of(&[5, 1, 4, 2, 3]);
        assert_eq!((p.p50, p.p99, p.max), (3, 5, 5));
        let hundred: Vec<u64> = (1..=100).collect();
        let p = Percentiles::of(&hundred);
        assert_eq!((p.p50, p.p99, p.max), (50, 99, 100));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(128_000_000), "128,000,000");
        assert_eq!(percent(1, 3), "33.3 %");
        assert_eq!(percent(1, 10_000), "< 0.1 %");
        assert_eq!(percent(0, 0), "0 %");
    }

    #[test]
    fn failures_are_grouped_by_kind_keeping_the_first() {
        let mut report = Report::new("x.wasm".to_string(), Limits::default());
        report.note_failure("trap", "a", "first");
        report.note_failure("out_of_fuel", "b", "other");
        report.note_failure("trap", "c", "second");
        assert_eq!(report.failures.len(), 2);
        assert_eq!(report.failures[0].count, 2);
        assert_eq!(report.failures[0].first_call, "a");
        assert_eq!(report.failures[0].first_message, "first");
    }
}
