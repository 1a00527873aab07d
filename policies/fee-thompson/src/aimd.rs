//! The AIMD overlay (additive increase, multiplicative decrease): a fast
//! defence on top of the slowly learning posterior. Windows without a single
//! forward out ("failures") cut the fee multiplicatively; long runs of windows
//! with forwards ("successes") let it creep back up.
//!
//! Invariants:
//! - The modifier stays within [[`MIN_MODIFIER`], [`MAX_MODIFIER`]] and starts
//!   at 1.0.
//! - Every [`FAILURE_THRESHOLD`] consecutive failures cut it by
//!   [`DECREASE_FACTOR`], but never twice within [`DECREASE_COOLDOWN_SECS`] of
//!   the input's `now`: during the cooldown failures keep counting, and the
//!   cut fires on the first failure after it.
//! - Every [`SUCCESS_THRESHOLD`] consecutive successes add [`INCREASE_STEP`].
//! - A success resets the failure count and vice versa; a counter resets
//!   whenever its change fires.
//! - Unlike the reference, the modifier always scales the sampled fee (there
//!   it applies only while a "defence mode" is on); a modifier above 1.0 thus
//!   lets a channel that keeps forwarding price above its posterior.

/// Consecutive windows without forwards before a decrease (reference: 3).
pub const FAILURE_THRESHOLD: u16 = 3;
/// Consecutive windows with forwards before an increase (reference: 10).
pub const SUCCESS_THRESHOLD: u16 = 10;
/// Multiplicative decrease (reference: 0.85).
pub const DECREASE_FACTOR: f64 = 0.85;
/// Additive increase of the modifier (reference: 0.02).
pub const INCREASE_STEP: f64 = 0.02;
pub const MIN_MODIFIER: f64 = 0.5;
pub const MAX_MODIFIER: f64 = 1.5;
/// Shortest time between two decreases (reference: 1 h), in the host's
/// (possibly simulated) `now`: stops a burst of short windows from cutting
/// the fee to half in minutes.
pub const DECREASE_COOLDOWN_SECS: u64 = 3600;

/// The AIMD state of one channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aimd {
    /// Factor on the sampled fee, within [`MIN_MODIFIER`, `MAX_MODIFIER`].
    pub modifier: f64,
    pub consecutive_failures: u16,
    /// Always below [`SUCCESS_THRESHOLD`] between calls.
    pub consecutive_successes: u16,
    /// When the last decrease fired; `None` before the first.
    pub last_decrease_unix_secs: Option<u64>,
}

impl Default for Aimd {
    fn default() -> Self {
        Aimd {
            modifier: 1.0,
            consecutive_failures: 0,
            consecutive_successes: 0,
            last_decrease_unix_secs: None,
        }
    }
}

/// A change of the modifier on this call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AimdChange {
    Decreased { from: f64, to: f64 },
    Increased { from: f64, to: f64 },
}

impl Aimd {
    /// Records one observation window: `forwarded` is whether anything was
    /// forwarded out through the channel in it.
    pub fn record(&mut self, forwarded: bool, now_unix_secs: u64) -> Option<AimdChange> {
        let from = self.modifier;
        if forwarded {
            self.consecutive_failures = 0;
            self.consecutive_successes = self.consecutive_successes.saturating_add(1);
            if self.consecutive_successes < SUCCESS_THRESHOLD {
                return None;
            }
            self.consecutive_successes = 0;
            self.modifier = (from + INCREASE_STEP).clamp(MIN_MODIFIER, MAX_MODIFIER);
            return (self.modifier != from).then_some(AimdChange::Increased {
                from,
                to: self.modifier,
            });
        }

        self.consecutive_successes = 0;
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        if self.consecutive_failures < FAILURE_THRESHOLD || self.cooling_down(now_unix_secs) {
            return None;
        }
        self.consecutive_failures = 0;
        self.last_decrease_unix_secs = Some(now_unix_secs);
        self.modifier = (from * DECREASE_FACTOR).clamp(MIN_MODIFIER, MAX_MODIFIER);
        // At the minimum the cut is a no-op, but it still counts as fired
        // (counter and cooldown reset), as in the reference.
        Some(AimdChange::Decreased {
            from,
            to: self.modifier,
        })
    }

    /// Within the cooldown of the last decrease. A `now` before the last
    /// decrease (a clock set back) does not block: the recorded time is then
    /// meaningless, and blocking on it could last arbitrarily long.
    fn cooling_down(&self, now_unix_secs: u64) -> bool {
        self.last_decrease_unix_secs
            .and_then(|last| now_unix_secs.checked_sub(last))
            .is_some_and(|elapsed_secs| elapsed_secs < DECREASE_COOLDOWN_SECS)
    }

    /// Whether a decoded state is one `record` can produce.
    pub(crate) fn is_valid(&self) -> bool {
        (MIN_MODIFIER..=MAX_MODIFIER).contains(&self.modifier)
            && self.consecutive_successes < SUCCESS_THRESHOLD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    #[test]
    fn three_failures_cut_by_fifteen_percent_and_reset() {
        let mut aimd = Aimd::default();
        assert_eq!(aimd.record(false, T0), None);
        assert_eq!(aimd.record(false, T0 + 600), None);
        assert_eq!(
            aimd.record(false, T0 + 1200),
            Some(AimdChange::Decreased {
                from: 1.0,
                to: 0.85
            })
        );
        assert_eq!(aimd.consecutive_failures, 0);
        assert_eq!(aimd.last_decrease_unix_secs, Some(T0 + 1200));
    }

    #[test]
    fn the_cooldown_delays_the_next_cut_until_an_hour_has_passed() {
        let mut aimd = Aimd::default();
        for i in 0..3 {
            aimd.record(false, T0 + i);
        }
        for i in 0..3 {
            assert_eq!(aimd.record(false, T0 + 10 + i), None, "cooling down");
        }
        assert_eq!(aimd.consecutive_failures, 3, "failures keep counting");
        let cut = aimd.record(false, T0 + 2 + DECREASE_COOLDOWN_SECS);
        assert!(matches!(cut, Some(AimdChange::Decreased { .. })), "{cut:?}");
        assert!((aimd.modifier - 0.85 * 0.85).abs() < 1e-12);
    }

    #[test]
    fn a_success_breaks_a_failure_streak() {
        let mut aimd = Aimd::default();
        aimd.record(false, T0);
        aimd.record(false, T0);
        aimd.record(true, T0);
        assert_eq!(aimd.record(false, T0), None);
        assert_eq!(aimd.modifier, 1.0);
    }

    #[test]
    fn ten_successes_add_two_percent_up_to_the_maximum() {
        let mut aimd = Aimd::default();
        for _ in 0..9 {
            assert_eq!(aimd.record(true, T0), None);
        }
        assert_eq!(
            aimd.record(true, T0),
            Some(AimdChange::Increased {
                from: 1.0,
                to: 1.02
            })
        );
        assert_eq!(aimd.consecutive_successes, 0);
        for _ in 0..1000 {
            aimd.record(true, T0);
        }
        assert_eq!(aimd.modifier, MAX_MODIFIER);
    }

    #[test]
    fn the_modifier_never_drops_below_half() {
        let mut aimd = Aimd::default();
        for hour in 0..100 {
            aimd.record(false, T0 + hour * DECREASE_COOLDOWN_SECS);
        }
        assert_eq!(aimd.modifier, MIN_MODIFIER);
        assert!(aimd.is_valid());
    }

    #[test]
    fn a_clock_set_back_does_not_block_decreases() {
        let mut aimd = Aimd {
            last_decrease_unix_secs: Some(T0),
            consecutive_failures: 2,
            ..Aimd::default()
        };
        assert!(aimd.record(false, T0 - 86_400).is_some());
    }
}
