//! Per-policy call statistics, for an operator's `revenue-wasm status` and
//! for the engine's quarantine decision.
//!
//! Invariants:
//! - Every [`PolicyRuntime::decide_fees`] and
//!   [`PolicyRuntime::score_rebalances`] call is recorded exactly once, after
//!   it has finished, whatever its outcome: a success, a failure the guest
//!   caused (trap, fuel, epoch, memory, guest error), a contract violation
//!   (`invalid_output`) and a failure found before the guest ran
//!   (`missing_role`). Loading a policy (its `metadata` call) is not a call.
//! - Statistics are keyed by the policy's `name@version` tag
//!   ([`LoadedPolicy::tag`]): both roles of one component share one entry,
//!   and a policy reloaded under the same tag continues its entry until
//!   [`PolicyRuntime::reset_stats`] forgets it (do that when unloading).
//! - The lock is taken only to update or copy an entry, never during a guest
//!   call, and percentiles are computed from a copy outside it. A poisoned
//!   lock is recovered: a panic elsewhere never stops calls or their
//!   accounting.
//! - Fuel percentiles are over the `fuel_used` of the last [`FUEL_WINDOW`]
//!   *successful* calls (a ring buffer; failed calls have no meaningful fuel
//!   figure), by the nearest-rank method: the p-th percentile of `n` sorted
//!   samples is the sample of rank `ceil(p/100 · n)` (1-based), always an
//!   observed value, `None` with no samples.
//! - `consecutive_failures` counts failures since the last success (a success
//!   resets it to 0); `last_error` is the most recent failure ever and is not
//!   cleared by a success.
//! - Counters saturate rather than wrap. Times are seconds since the Unix
//!   epoch from the host's `SystemTime` (0 if the clock is before 1970).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::engine::PolicyRuntime;
use crate::failure::{FailureKind, PolicyFailure};
use crate::host_log::truncate_on_char_boundary;
use crate::load::LoadedPolicy;

/// How many recent successful calls the fuel percentiles cover.
pub const FUEL_WINDOW: usize = 1024;

/// Longest `last_error` message kept, in bytes (cut on a char boundary).
pub const MAX_LAST_ERROR_BYTES: usize = 1024;

/// A policy's call statistics (see the module docs for what is counted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct PolicyStats {
    /// Calls made, successful or not.
    pub calls: u64,
    /// Calls that failed, of any kind.
    pub failures: u64,
    /// Failures per [`FailureKind::as_str`]; kinds never seen are absent.
    pub failures_by_kind: BTreeMap<String, u64>,
    /// Nearest-rank median `fuel_used` of the last [`FUEL_WINDOW`]
    /// successful calls; `None` before the first success.
    pub fuel_p50: Option<u64>,
    /// Nearest-rank 99th percentile, over the same window.
    pub fuel_p99: Option<u64>,
    /// The most recent failure (kept after later successes).
    pub last_error: Option<LastError>,
    /// When the most recent call finished, in Unix seconds.
    pub last_call_at_unix_secs: Option<u64>,
    /// Failures since the last success; 0 after a success.
    pub consecutive_failures: u32,
}

/// A policy's most recent failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct LastError {
    /// When the failed call finished, in Unix seconds.
    pub at_unix_secs: u64,
    /// Serialized as [`FailureKind::as_str`].
    #[serde(serialize_with = "serialize_kind")]
    pub kind: FailureKind,
    /// The failure's message, at most [`MAX_LAST_ERROR_BYTES`].
    pub message: String,
}

fn serialize_kind<S: serde::Serializer>(kind: &FailureKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.as_str())
}

/// The statistics of every policy a runtime has called, by tag.
#[derive(Debug, Default)]
pub(crate) struct StatsBook {
    by_tag: Mutex<HashMap<String, Entry>>,
}

impl StatsBook {
    fn entries(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.by_tag.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one finished call of the policy tagged `tag`: its fuel if it
    /// succeeded, its failure otherwise.
    pub(crate) fn record(&self, tag: &str, outcome: Result<u64, &PolicyFailure>) {
        let at = unix_secs_now();
        // Built before locking: the only allocation the failure path needs.
        let last_error = outcome.err().map(|failure| LastError {
            at_unix_secs: at,
            kind: failure.kind,
            message: truncate_on_char_boundary(&failure.message, MAX_LAST_ERROR_BYTES).to_owned(),
        });
        let mut entries = self.entries();
        if !entries.contains_key(tag) {
            entries.insert(tag.to_owned(), Entry::default());
        }
        if let Some(entry) = entries.get_mut(tag) {
            entry.record(at, outcome.ok(), last_error);
        }
    }

    /// The statistics of `tag` (zeroed if never called).
    pub(crate) fn get(&self, tag: &str) -> PolicyStats {
        let copy = self.entries().get(tag).cloned();
        copy.map(Entry::into_stats).unwrap_or_default()
    }

    /// The statistics of every policy called since its last reset, by tag.
    pub(crate) fn all(&self) -> BTreeMap<String, PolicyStats> {
        let copies: Vec<(String, Entry)> = self
            .entries()
            .iter()
            .map(|(tag, entry)| (tag.clone(), entry.clone()))
            .collect();
        copies
            .into_iter()
            .map(|(tag, entry)| (tag, entry.into_stats()))
            .collect()
    }

    /// Forgets `tag`.
    pub(crate) fn reset(&self, tag: &str) {
        self.entries().remove(tag);
    }
}

/// One policy's running totals.
#[derive(Debug, Clone, Default)]
struct Entry {
    calls: u64,
    failures: u64,
    failures_by_kind: [u64; FailureKind::ALL.len()],
    fuel: FuelRing,
    last_error: Option<LastError>,
    last_call_at_unix_secs: Option<u64>,
    consecutive_failures: u32,
}

impl Entry {
    /// `fuel_used` is `Some` for a success; `last_error` is `Some` for a
    /// failure.
    fn record(&mut self, at: u64, fuel_used: Option<u64>, last_error: Option<LastError>) {
        self.calls = self.calls.saturating_add(1);
        self.last_call_at_unix_secs = Some(at);
        if let Some(fuel_used) = fuel_used {
            self.fuel.push(fuel_used);
            self.consecutive_failures = 0;
        }
        if let Some(error) = last_error {
            self.failures = self.failures.saturating_add(1);
            let slot = &mut self.failures_by_kind[kind_index(error.kind)];
            *slot = slot.saturating_add(1);
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            self.last_error = Some(error);
        }
    }

    fn into_stats(self) -> PolicyStats {
        let failures_by_kind = FailureKind::ALL
            .iter()
            .zip(self.failures_by_kind)
            .filter(|(_, count)| *count > 0)
            .map(|(kind, count)| (kind.as_str().to_owned(), count))
            .collect();
        let mut fuel = self.fuel.samples;
        fuel.sort_unstable();
        PolicyStats {
            calls: self.calls,
            failures: self.failures,
            failures_by_kind,
            fuel_p50: nearest_rank(&fuel, 50),
            fuel_p99: nearest_rank(&fuel, 99),
            last_error: self.last_error,
            last_call_at_unix_secs: self.last_call_at_unix_secs,
            consecutive_failures: self.consecutive_failures,
        }
    }
}

fn kind_index(kind: FailureKind) -> usize {
    FailureKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or_default()
}

/// The last `capacity` samples, in no particular order once full.
#[derive(Debug, Clone)]
struct FuelRing {
    samples: Vec<u64>,
    capacity: usize,
    /// The slot the next sample overwrites once full.
    next: usize,
}

impl Default for FuelRing {
    fn default() -> Self {
        FuelRing::with_capacity(FUEL_WINDOW)
    }
}

impl FuelRing {
    fn with_capacity(capacity: usize) -> Self {
        FuelRing {
            samples: Vec::new(),
            capacity: capacity.max(1),
            next: 0,
        }
    }

    fn push(&mut self, sample: u64) {
        if self.samples.len() < self.capacity {
            self.samples.push(sample);
        } else {
            self.samples[self.next] = sample;
        }
        self.next = (self.next + 1) % self.capacity;
    }
}

/// The `percentile`-th (1–100) nearest-rank percentile of `sorted`
/// (ascending): the sample of 1-based rank `ceil(percentile/100 · n)`.
fn nearest_rank(sorted: &[u64], percentile: usize) -> Option<u64> {
    let rank = (percentile.clamp(1, 100) * sorted.len()).div_ceil(100);
    sorted.get(rank.checked_sub(1)?).copied()
}

fn unix_secs_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

impl PolicyRuntime {
    /// The call statistics of `policy` (by its tag): zeroed if it has not
    /// been called since the runtime started or its stats were reset.
    pub fn stats(&self, policy: &LoadedPolicy) -> PolicyStats {
        self.stats.get(policy.tag())
    }

    /// The call statistics of every policy called since the runtime started
    /// (or its last reset), by `name@version` tag.
    pub fn all_stats(&self) -> BTreeMap<String, PolicyStats> {
        self.stats.all()
    }

    /// Forgets the statistics of the policy tagged `tag` (`name@version`),
    /// e.g. when it is unloaded. Unknown tags are ignored.
    pub fn reset_stats(&self, tag: &str) {
        self.stats.reset(tag);
    }

    /// Records a finished call of `policy` and passes its result through.
    pub(crate) fn recorded<T>(
        &self,
        policy: &LoadedPolicy,
        result: Result<T, PolicyFailure>,
        fuel_used: impl FnOnce(&T) -> u64,
    ) -> Result<T, PolicyFailure> {
        self.stats
            .record(policy.tag(), result.as_ref().map(fuel_used));
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: FailureKind, message: &str) -> PolicyFailure {
        PolicyFailure::new(kind, message)
    }

    #[test]
    fn nearest_rank_picks_observed_samples() {
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&hundred, 50), Some(50));
        assert_eq!(nearest_rank(&hundred, 99), Some(99));
        assert_eq!(nearest_rank(&hundred, 100), Some(100));
        assert_eq!(nearest_rank(&hundred, 1), Some(1));
        // ceil(0.5 · 10) = 5, ceil(0.99 · 10) = 10.
        let ten: Vec<u64> = (1..=10).map(|n| n * 10).collect();
        assert_eq!(nearest_rank(&ten, 50), Some(50));
        assert_eq!(nearest_rank(&ten, 99), Some(100));
        // ceil(0.5 · 3) = 2, ceil(0.99 · 3) = 3.
        assert_eq!(nearest_rank(&[7, 8, 9], 50), Some(8));
        assert_eq!(nearest_rank(&[7, 8, 9], 99), Some(9));
        assert_eq!(nearest_rank(&[42], 50), Some(42));
        assert_eq!(nearest_rank(&[42], 99), Some(42));
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[], 99), None);
    }

    #[test]
    fn percentiles_sort_the_samples() {
        let book = StatsBook::default();
        for fuel in [300, 100, 200] {
            book.record("p@1", Ok(fuel));
        }
        let stats = book.get("p@1");
        assert_eq!((stats.fuel_p50, stats.fuel_p99), (Some(200), Some(300)));
    }

    #[test]
    fn the_ring_keeps_the_last_samples() {
        let mut ring = FuelRing::with_capacity(4);
        for sample in 1..=6 {
            ring.push(sample);
        }
        let mut kept = ring.samples.clone();
        kept.sort_unstable();
        assert_eq!(kept, [3, 4, 5, 6]);
        for sample in 7..=12 {
            ring.push(sample);
        }
        let mut kept = ring.samples.clone();
        kept.sort_unstable();
        assert_eq!(kept, [9, 10, 11, 12]);
    }

    #[test]
    fn fuel_percentiles_cover_only_the_last_window() {
        let book = StatsBook::default();
        // Ten huge samples first, then a full window of 1..=FUEL_WINDOW.
        for _ in 0..10 {
            book.record("p@1", Ok(u64::MAX));
        }
        for fuel in 1..=FUEL_WINDOW as u64 {
            book.record("p@1", Ok(fuel));
        }
        let stats = book.get("p@1");
        assert_eq!(stats.calls, 10 + FUEL_WINDOW as u64);
        // ceil(0.5 · 1024) = 512, ceil(0.99 · 1024) = 1014.
        assert_eq!(stats.fuel_p50, Some(512));
        assert_eq!(stats.fuel_p99, Some(1014));
    }

    #[test]
    fn failures_are_counted_by_kind_and_a_success_resets_the_streak() {
        let book = StatsBook::default();
        book.record("p@1", Ok(1_000));
        book.record("p@1", Err(&failure(FailureKind::Trap, "boom")));
        book.record("p@1", Err(&failure(FailureKind::OutOfFuel, "spent")));
        book.record("p@1", Err(&failure(FailureKind::Trap, "boom again")));
        let stats = book.get("p@1");
        assert_eq!(stats.calls, 4);
        assert_eq!(stats.failures, 3);
        assert_eq!(stats.consecutive_failures, 3);
        assert_eq!(
            stats.failures_by_kind,
            BTreeMap::from([("out_of_fuel".to_owned(), 1), ("trap".to_owned(), 2)])
        );
        let last = stats.last_error.expect("a failure was recorded");
        assert_eq!(last.kind, FailureKind::Trap);
        assert_eq!(last.message, "boom again");
        // Failed calls leave the fuel window alone.
        assert_eq!((stats.fuel_p50, stats.fuel_p99), (Some(1_000), Some(1_000)));

        book.record("p@1", Ok(2_000));
        let stats = book.get("p@1");
        assert_eq!(stats.consecutive_failures, 0);
        assert_eq!(stats.failures, 3);
        assert_eq!(stats.calls, 5);
        assert_eq!(
            stats.last_error.map(|e| e.message).as_deref(),
            Some("boom again"),
            "a success keeps the last error"
        );
    }

    #[test]
    fn tags_are_separate_and_reset_forgets_one() {
        let book = StatsBook::default();
        assert_eq!(book.get("a@1"), PolicyStats::default());
        book.record("a@1", Ok(1));
        book.record("b@1", Err(&failure(FailureKind::MissingRole, "no")));
        let all = book.all();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["a@1", "b@1"]);
        assert_eq!(all["a@1"].failures, 0);
        assert_eq!(all["b@1"].failures_by_kind["missing_role"], 1);
        book.reset("b@1");
        book.reset("never-seen@1");
        assert_eq!(book.all().keys().collect::<Vec<_>>(), ["a@1"]);
        assert_eq!(book.get("b@1"), PolicyStats::default());
    }

    #[test]
    fn long_error_messages_are_cut() {
        let book = StatsBook::default();
        let long = "é".repeat(MAX_LAST_ERROR_BYTES);
        book.record("p@1", Err(&failure(FailureKind::GuestError, &long)));
        let message = book.get("p@1").last_error.unwrap().message;
        assert!(message.len() <= MAX_LAST_ERROR_BYTES);
        assert!(message.chars().all(|c| c == 'é'));
    }

    #[test]
    fn a_never_failing_policy_has_no_zero_kind_entries() {
        let book = StatsBook::default();
        book.record("p@1", Ok(5));
        let stats = book.get("p@1");
        assert!(stats.failures_by_kind.is_empty());
        assert!(stats.last_error.is_none());
        assert!(stats.last_call_at_unix_secs.is_some());
    }
}
