//! Quarantine: a policy that keeps failing stops deciding for a while.
//!
//! A circuit breaker per loaded policy build (keyed by its sha256, so a new
//! build starts clean):
//! - **healthy** — called normally. `failure_streak` failed calls in a row
//!   quarantine it.
//! - **quarantined** until `retry_at` — never called; its peers (or the
//!   rebalancer) use the built-in fallback. The backoff is
//!   `backoff_secs × 2^(strikes − 1)`, capped at [`MAX_BACKOFF_SECS`], where
//!   `strikes` counts quarantines since the policy was last released.
//! - **probation** — after `retry_at` the policy is called again for real.
//!   One failure sends it straight back to quarantine with a doubled
//!   backoff; `healthy_secs` without a failure releases it (strikes reset).
//!
//! Invariants:
//! - The fallback itself is never quarantined away: the caller does not ask
//!   for a policy that is its own fallback (a failing built-in holds fees as
//!   before; there is nothing safer to fall back to).
//! - Time is the engine's clock (simulated time in `simulate`).
//! - State lives in memory: a restart gives every policy a clean slate,
//!   as does an operator's `load`/`reload`/`rollback` of it ([`Quarantine::clear`]).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use revops_runtime::LoadedPolicy;

/// The longest a policy stays quarantined before it is retried.
pub const MAX_BACKOFF_SECS: u64 = 86_400;

/// When to quarantine and release (`revenue-ops-policy-quarantine-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuarantineSettings {
    /// Failed calls in a row that quarantine a healthy policy.
    pub failure_streak: u32,
    /// The first quarantine's length; each further one doubles it.
    pub backoff_secs: u64,
    /// Failure-free time on probation after which a policy is released.
    pub healthy_secs: u64,
}

impl Default for QuarantineSettings {
    fn default() -> Self {
        Self {
            // One bad batch can be bad luck (a huge node tripping the wall
            // clock once); three in a row (1.5 h of fee cycles) is a policy
            // problem.
            failure_streak: 3,
            // Two fee cycles.
            backoff_secs: 3_600,
            // Twelve fee cycles.
            healthy_secs: 21_600,
        }
    }
}

/// What the caller should do with a policy now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Call it.
    Call,
    /// Call it: this is the retry after a quarantine (on probation).
    Retry,
    /// Do not call it; use the fallback. It is retried from `retry_at`.
    Quarantined { retry_at: u64, reason: String },
}

/// What [`Quarantine::record_failure`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureEffect {
    /// Counted; the policy stays callable.
    Counted { streak: u32 },
    /// The policy is quarantined until `retry_at`.
    Quarantined { retry_at: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Healthy,
    Quarantined { retry_at: u64 },
    Probation { since: u64 },
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    version: String,
    phase: Phase,
    /// Failed calls in a row.
    streak: u32,
    /// Quarantines since the last release (the backoff exponent).
    strikes: u32,
    /// Quarantines since this build was first seen (or cleared).
    quarantines_total: u32,
    last_failure: Option<String>,
    last_change_at: u64,
}

/// One policy's quarantine state, for `revenue-wasm status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QuarantineView {
    pub policy: String,
    pub version: String,
    pub hash: String,
    /// `healthy`, `quarantined` or `probation`.
    pub state: &'static str,
    pub consecutive_failures: u32,
    pub strikes: u32,
    pub quarantines_total: u32,
    /// When a quarantined policy is retried.
    pub retry_at: Option<u64>,
    /// When a policy on probation is released if it does not fail.
    pub release_at: Option<u64>,
    pub last_failure: Option<String>,
    pub since: u64,
}

/// Which build a quarantine entry is about.
#[derive(Debug, Clone, Copy)]
pub struct PolicyKey<'a> {
    pub hash: &'a str,
    pub name: &'a str,
    pub version: &'a str,
}

impl<'a> From<&'a LoadedPolicy> for PolicyKey<'a> {
    fn from(policy: &'a LoadedPolicy) -> Self {
        PolicyKey {
            hash: policy.hash(),
            name: policy.name(),
            version: policy.version(),
        }
    }
}

/// Quarantine state of every policy build that has been called.
#[derive(Debug, Default)]
pub struct Quarantine {
    settings: Mutex<QuarantineSettings>,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Quarantine {
    pub fn new(settings: QuarantineSettings) -> Self {
        Self {
            settings: Mutex::new(settings),
            entries: Mutex::default(),
        }
    }

    pub fn settings(&self) -> QuarantineSettings {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// New thresholds apply from the next call; a running quarantine keeps
    /// its `retry_at`.
    pub fn set_settings(&self, settings: QuarantineSettings) {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = settings;
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // Every update below leaves an entry whole, so a poisoned map is
        // still consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `policy` may be called at `now`. A quarantine whose backoff
    /// has run out turns into probation here, so exactly one caller gets
    /// [`Admission::Retry`].
    pub fn admit<'a>(&self, policy: impl Into<PolicyKey<'a>>, now: u64) -> Admission {
        let policy = policy.into();
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(policy.hash) else {
            return Admission::Call;
        };
        match entry.phase {
            Phase::Healthy | Phase::Probation { .. } => Admission::Call,
            Phase::Quarantined { retry_at } if now >= retry_at => {
                entry.phase = Phase::Probation { since: now };
                entry.last_change_at = now;
                log::info!(
                    "policy {}@{} leaves quarantine on probation: retrying it",
                    entry.name,
                    entry.version
                );
                Admission::Retry
            }
            Phase::Quarantined { retry_at } => Admission::Quarantined {
                retry_at,
                reason: format!(
                    "policy {}@{} is quarantined after {} ({} quarantine{} in a row); retried from {retry_at}",
                    entry.name,
                    entry.version,
                    entry.last_failure.as_deref().unwrap_or("repeated failures"),
                    entry.strikes,
                    if entry.strikes == 1 { "" } else { "s" },
                ),
            },
        }
    }

    /// Whether `policy` is quarantined at `now`, without moving it to
    /// probation (for reports and selection previews).
    pub fn is_quarantined<'a>(&self, policy: impl Into<PolicyKey<'a>>, now: u64) -> bool {
        let policy = policy.into();
        matches!(
            self.entries().get(policy.hash).map(|e| e.phase),
            Some(Phase::Quarantined { retry_at }) if now < retry_at
        )
    }

    /// A successful call: resets the streak; releases a policy whose
    /// probation has lasted `healthy_secs`.
    pub fn record_success<'a>(&self, policy: impl Into<PolicyKey<'a>>, now: u64) {
        let policy = policy.into();
        let healthy_secs = self.settings().healthy_secs;
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(policy.hash) else {
            return;
        };
        entry.streak = 0;
        if let Phase::Probation { since } = entry.phase
            && now.saturating_sub(since) >= healthy_secs
        {
            log::info!(
                "policy {}@{} released from quarantine: no failure for {} s",
                entry.name,
                entry.version,
                now.saturating_sub(since)
            );
            entry.phase = Phase::Healthy;
            entry.strikes = 0;
            entry.last_change_at = now;
        }
    }

    /// A failed call (`kind` as in `FailureKind::as_str`).
    pub fn record_failure<'a>(
        &self,
        policy: impl Into<PolicyKey<'a>>,
        kind: &str,
        now: u64,
    ) -> FailureEffect {
        let policy = policy.into();
        let settings = self.settings();
        let mut entries = self.entries();
        let entry = entries
            .entry(policy.hash.to_string())
            .or_insert_with(|| Entry {
                name: policy.name.to_string(),
                version: policy.version.to_string(),
                phase: Phase::Healthy,
                streak: 0,
                strikes: 0,
                quarantines_total: 0,
                last_failure: None,
                last_change_at: now,
            });
        entry.streak = entry.streak.saturating_add(1);
        entry.last_failure = Some(format!(
            "{} failure{} in a row, the last {kind}",
            entry.streak,
            if entry.streak == 1 { "" } else { "s" }
        ));
        let trips = match entry.phase {
            Phase::Probation { .. } => true,
            Phase::Healthy => entry.streak >= settings.failure_streak.max(1),
            Phase::Quarantined { retry_at } => return FailureEffect::Quarantined { retry_at },
        };
        if !trips {
            return FailureEffect::Counted {
                streak: entry.streak,
            };
        }
        entry.strikes = entry.strikes.saturating_add(1);
        entry.quarantines_total = entry.quarantines_total.saturating_add(1);
        let backoff = backoff_secs(settings.backoff_secs, entry.strikes);
        let retry_at = now.saturating_add(backoff);
        entry.phase = Phase::Quarantined { retry_at };
        entry.last_change_at = now;
        log::warn!(
            "policy {}@{} quarantined for {backoff} s ({}): its peers use the built-in fallback until then",
            entry.name,
            entry.version,
            entry.last_failure.as_deref().unwrap_or_default()
        );
        FailureEffect::Quarantined { retry_at }
    }

    /// Forgets `hash` (the operator loaded, reloaded or rolled back to it).
    pub fn clear(&self, hash: &str) {
        self.entries().remove(hash);
    }

    /// The state of every policy build that has failed at least once.
    pub fn views(&self, now: u64) -> Vec<QuarantineView> {
        let healthy_secs = self.settings().healthy_secs;
        let mut views: Vec<QuarantineView> = self
            .entries()
            .iter()
            .map(|(hash, e)| {
                let (state, retry_at, release_at) = match e.phase {
                    Phase::Healthy => ("healthy", None, None),
                    Phase::Quarantined { retry_at } if now < retry_at => {
                        ("quarantined", Some(retry_at), None)
                    }
                    // Due for its retry at the next call.
                    Phase::Quarantined { retry_at } => ("quarantined", Some(retry_at), None),
                    Phase::Probation { since } => {
                        ("probation", None, Some(since.saturating_add(healthy_secs)))
                    }
                };
                QuarantineView {
                    policy: e.name.clone(),
                    version: e.version.clone(),
                    hash: hash.clone(),
                    state,
                    consecutive_failures: e.streak,
                    strikes: e.strikes,
                    quarantines_total: e.quarantines_total,
                    retry_at,
                    release_at,
                    last_failure: e.last_failure.clone(),
                    since: e.last_change_at,
                }
            })
            .collect();
        views.sort_by(|a, b| (&a.policy, &a.version).cmp(&(&b.policy, &b.version)));
        views
    }

    /// The view of one build, if it has failed.
    pub fn view(&self, hash: &str, now: u64) -> Option<QuarantineView> {
        self.views(now).into_iter().find(|v| v.hash == hash)
    }
}

/// `base × 2^(strikes − 1)`, capped at [`MAX_BACKOFF_SECS`].
fn backoff_secs(base: u64, strikes: u32) -> u64 {
    let doublings = strikes.saturating_sub(1).min(32);
    base.max(1)
        .saturating_mul(1u64 << doublings)
        .min(MAX_BACKOFF_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_secs(3_600, 1), 3_600);
        assert_eq!(backoff_secs(3_600, 2), 7_200);
        assert_eq!(backoff_secs(3_600, 3), 14_400);
        assert_eq!(backoff_secs(3_600, 10), MAX_BACKOFF_SECS);
        assert_eq!(backoff_secs(3_600, u32::MAX), MAX_BACKOFF_SECS);
    }

    const KEY: PolicyKey<'static> = PolicyKey {
        hash: "abc",
        name: "mine",
        version: "1.0.0",
    };

    fn quarantine() -> Quarantine {
        Quarantine::new(QuarantineSettings {
            failure_streak: 3,
            backoff_secs: 100,
            healthy_secs: 1_000,
        })
    }

    #[test]
    fn a_streak_quarantines_and_a_success_resets_it() {
        let q = quarantine();
        assert_eq!(
            q.record_failure(KEY, "trap", 0),
            FailureEffect::Counted { streak: 1 }
        );
        assert_eq!(
            q.record_failure(KEY, "trap", 1),
            FailureEffect::Counted { streak: 2 }
        );
        q.record_success(KEY, 2);
        assert_eq!(
            q.record_failure(KEY, "trap", 3),
            FailureEffect::Counted { streak: 1 }
        );
        assert_eq!(q.admit(KEY, 3), Admission::Call);
        q.record_failure(KEY, "trap", 4);
        assert_eq!(
            q.record_failure(KEY, "out_of_fuel", 5),
            FailureEffect::Quarantined { retry_at: 105 }
        );
        match q.admit(KEY, 50) {
            Admission::Quarantined { retry_at, reason } => {
                assert_eq!(retry_at, 105);
                assert!(
                    reason.contains("3 failures in a row, the last out_of_fuel"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(q.is_quarantined(KEY, 104));
        assert_eq!(q.views(50)[0].state, "quarantined");
    }

    #[test]
    fn a_failed_retry_doubles_the_backoff_and_a_healthy_period_releases() {
        let q = quarantine();
        for t in 0..3 {
            q.record_failure(KEY, "trap", t);
        }
        // Quarantined at 2 until 102; the first caller after that retries.
        assert_eq!(q.admit(KEY, 102), Admission::Retry);
        assert_eq!(q.admit(KEY, 102), Admission::Call);
        // One failure on probation: back in, for twice as long.
        assert_eq!(
            q.record_failure(KEY, "trap", 103),
            FailureEffect::Quarantined { retry_at: 303 }
        );
        assert_eq!(q.views(103)[0].strikes, 2);
        assert_eq!(q.admit(KEY, 303), Admission::Retry);
        q.record_success(KEY, 303);
        let view = q.view("abc", 400).unwrap();
        assert_eq!((view.state, view.release_at), ("probation", Some(1_303)));
        // Not yet healthy long enough.
        q.record_success(KEY, 1_000);
        assert_eq!(q.views(1_000)[0].state, "probation");
        q.record_success(KEY, 1_303);
        let view = q.view("abc", 1_303).unwrap();
        assert_eq!((view.state, view.strikes), ("healthy", 0));
        // Released: a single failure no longer quarantines.
        assert_eq!(
            q.record_failure(KEY, "trap", 1_400),
            FailureEffect::Counted { streak: 1 }
        );
    }

    #[test]
    fn clearing_forgets_the_build() {
        let q = quarantine();
        for t in 0..3 {
            q.record_failure(KEY, "trap", t);
        }
        q.clear("abc");
        assert_eq!(q.admit(KEY, 10), Admission::Call);
        assert!(q.views(10).is_empty());
    }
}
