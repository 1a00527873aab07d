//! Per-method-group circuit breakers.
//!
//! Closed → (FAILURES_TO_OPEN consecutive failures) → open for the configured
//! period → half-open: the next call is let through; success closes the
//! breaker, failure opens it again.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consecutive failures that open a breaker.
pub const FAILURES_TO_OPEN: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodGroup {
    Channels,
    Forwards,
    Feerates,
    FeeUpdates,
    /// `plugin list` and other plugins' methods (CLBoss).
    Plugins,
    /// sling's methods: creating, starting, stopping and reading rebalance jobs.
    Rebalance,
    /// bookkeeper's methods (`bkpr-*`): measured rebalance costs.
    Bookkeeper,
}

impl MethodGroup {
    pub const ALL: [MethodGroup; 7] = [
        MethodGroup::Channels,
        MethodGroup::Forwards,
        MethodGroup::Feerates,
        MethodGroup::FeeUpdates,
        MethodGroup::Plugins,
        MethodGroup::Rebalance,
        MethodGroup::Bookkeeper,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MethodGroup::Channels => "channels",
            MethodGroup::Forwards => "forwards",
            MethodGroup::Feerates => "feerates",
            MethodGroup::FeeUpdates => "fee_updates",
            MethodGroup::Plugins => "plugins",
            MethodGroup::Rebalance => "rebalance",
            MethodGroup::Bookkeeper => "bookkeeper",
        }
    }
}

#[derive(Debug, Default)]
struct GroupState {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    last_error: Option<String>,
}

/// What `revenue-status` shows for one group.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BreakerSnapshot {
    pub group: MethodGroup,
    /// `closed`, `open` or `half_open`.
    pub state: &'static str,
    pub consecutive_failures: u32,
    pub retry_in_secs: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Breakers {
    groups: Mutex<HashMap<MethodGroup, GroupState>>,
}

impl Breakers {
    /// `Err(seconds until retry)` while the group's breaker is open.
    pub(crate) fn admit(&self, group: MethodGroup, now: Instant) -> Result<(), u64> {
        let groups = self.lock();
        match groups.get(&group).and_then(|g| g.open_until) {
            Some(until) if until > now => Err((until - now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    pub(crate) fn record_success(&self, group: MethodGroup) {
        let mut groups = self.lock();
        let g = groups.entry(group).or_default();
        g.consecutive_failures = 0;
        g.open_until = None;
    }

    pub(crate) fn record_failure(
        &self,
        group: MethodGroup,
        now: Instant,
        open_for: Duration,
        error: String,
    ) {
        let mut groups = self.lock();
        let g = groups.entry(group).or_default();
        g.consecutive_failures = g.consecutive_failures.saturating_add(1);
        g.last_error = Some(error);
        if g.consecutive_failures >= FAILURES_TO_OPEN {
            g.open_until = Some(now + open_for);
        }
    }

    pub(crate) fn snapshot(&self, now: Instant) -> Vec<BreakerSnapshot> {
        let groups = self.lock();
        MethodGroup::ALL
            .iter()
            .map(|&group| {
                let g = groups.get(&group);
                let failures = g.map(|g| g.consecutive_failures).unwrap_or(0);
                let open_until = g.and_then(|g| g.open_until);
                let (state, retry_in_secs) = match open_until {
                    Some(until) if until > now => ("open", (until - now).as_secs().max(1)),
                    Some(_) => ("half_open", 0),
                    None => ("closed", 0),
                };
                BreakerSnapshot {
                    group,
                    state,
                    consecutive_failures: failures,
                    retry_in_secs,
                    last_error: g.and_then(|g| g.last_error.clone()),
                }
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<MethodGroup, GroupState>> {
        self.groups.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_repeated_failures_and_closes_on_success() {
        let b = Breakers::default();
        let t0 = Instant::now();
        let period = Duration::from_secs(60);
        for _ in 0..FAILURES_TO_OPEN - 1 {
            b.record_failure(MethodGroup::Forwards, t0, period, "boom".into());
            assert!(b.admit(MethodGroup::Forwards, t0).is_ok());
        }
        b.record_failure(MethodGroup::Forwards, t0, period, "boom".into());
        assert_eq!(b.admit(MethodGroup::Forwards, t0), Err(60));
        // Other groups are unaffected.
        assert!(b.admit(MethodGroup::Channels, t0).is_ok());
        // After the period the next call is let through (half-open).
        let later = t0 + Duration::from_secs(61);
        assert!(b.admit(MethodGroup::Forwards, later).is_ok());
        assert_eq!(
            b.snapshot(later)
                .iter()
                .find(|s| s.group == MethodGroup::Forwards)
                .unwrap()
                .state,
            "half_open"
        );
        b.record_success(MethodGroup::Forwards);
        assert_eq!(b.snapshot(later)[1].state, "closed");
    }
}
