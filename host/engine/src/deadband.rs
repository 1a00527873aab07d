//! The deadband: a channel whose revenue rate stays flat for
//! [`FLAT_CYCLES_TO_SLEEP`] decisions sleeps for two fee intervals — the
//! policy is not asked, nothing is broadcast — and wakes early when its
//! revenue rate moves by more than [`WAKE_CHANGE`] or it becomes congested.
//! `revenue-wake-all` wakes every channel.
//!
//! Invariants:
//! - Sleeping never changes a fee; it only saves gossip and policy calls.
//! - The revenue rate is measured over the window since the channel's last
//!   decision, so a sleeping channel's rate covers its whole sleep.
//! - Rates are compared relatively: 0 and 0 are equal (flat), 0 and
//!   anything positive differ by 100 %.

use revops_store::SleepState;

/// Decisions in a row with a flat revenue rate before a channel sleeps.
pub const FLAT_CYCLES_TO_SLEEP: u32 = 3;
/// Relative change of the revenue rate that still counts as flat.
pub const FLAT_CHANGE: f64 = 0.01;
/// Relative change of the revenue rate that wakes a sleeping channel.
pub const WAKE_CHANGE: f64 = 0.20;
/// A sleep lasts this many fee intervals.
pub const SLEEP_INTERVALS: u64 = 2;

/// What the deadband says about a channel before its policy is asked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Wakefulness {
    Awake,
    /// Asleep: skip the channel this cycle.
    Asleep {
        reason: String,
    },
    /// Was asleep, woken early: decide now.
    Woken {
        reason: String,
    },
}

/// `|a − b|` relative to the larger of the two, above `fraction`.
fn changed(a: f64, b: f64, fraction: f64) -> bool {
    let larger = a.abs().max(b.abs());
    larger > 0.0 && (a - b).abs() > fraction * larger
}

pub(crate) fn check(
    state: Option<&SleepState>,
    rate_msat_per_hour: f64,
    congested: bool,
    now: u64,
) -> Wakefulness {
    let Some(state) = state else {
        return Wakefulness::Awake;
    };
    let Some(until) = state.asleep_until.filter(|until| *until > now) else {
        return Wakefulness::Awake;
    };
    let asleep_rate = state.asleep_rate_msat_per_hour.unwrap_or(0.0);
    if congested {
        return Wakefulness::Woken {
            reason: "woken early: HTLC slots congested".to_string(),
        };
    }
    if changed(rate_msat_per_hour, asleep_rate, WAKE_CHANGE) {
        return Wakefulness::Woken {
            reason: format!(
                "woken early: revenue rate moved from {:.0} to {:.0} msat/h",
                asleep_rate, rate_msat_per_hour
            ),
        };
    }
    Wakefulness::Asleep {
        reason: format!(
            "asleep until {until}: revenue flat at {asleep_rate:.0} msat/h for {FLAT_CYCLES_TO_SLEEP} cycles \
             (wakes on a change over {:.0}%)",
            WAKE_CHANGE * 100.0
        ),
    }
}

/// The channel's deadband after a decision at `rate_msat_per_hour`.
pub(crate) fn after_decision(
    state: Option<&SleepState>,
    short_channel_id: &str,
    rate_msat_per_hour: f64,
    now: u64,
    fee_interval_secs: u64,
) -> SleepState {
    let flat = state
        .and_then(|s| s.last_rate_msat_per_hour)
        .is_some_and(|last| !changed(rate_msat_per_hour, last, FLAT_CHANGE));
    let flat_cycles = if flat {
        state.map_or(0, |s| s.flat_cycles) + 1
    } else {
        0
    };
    let sleeps = flat_cycles >= FLAT_CYCLES_TO_SLEEP;
    SleepState {
        short_channel_id: short_channel_id.to_string(),
        flat_cycles: if sleeps { 0 } else { flat_cycles },
        last_rate_msat_per_hour: Some(rate_msat_per_hour),
        asleep_until: sleeps.then(|| now + SLEEP_INTERVALS * fee_interval_secs),
        asleep_rate_msat_per_hour: sleeps.then_some(rate_msat_per_hour),
    }
}

/// Revenue per hour over a window; 0 for an empty window.
pub(crate) fn rate_msat_per_hour(fees_earned_msat: u64, window_secs: u64) -> f64 {
    if window_secs == 0 {
        0.0
    } else {
        fees_earned_msat as f64 * 3600.0 / window_secs as f64
    }
}

impl<N: revops_core::Node, C: revops_core::Clock> crate::FeeEngine<N, C> {
    /// `revenue-wake-all`: end every channel's sleep so the next cycle
    /// decides for all of them. Returns how many were asleep.
    pub fn wake_all(&self) -> Result<u64, crate::EngineError> {
        Ok(self.store.wake_all(self.clock.now_secs())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: u64 = 1800;

    fn run(rates: &[f64]) -> (Option<SleepState>, u64) {
        let mut state: Option<SleepState> = None;
        let mut now = 0;
        for rate in rates {
            now += INTERVAL;
            state = Some(after_decision(
                state.as_ref(),
                "1x1x1",
                *rate,
                now,
                INTERVAL,
            ));
        }
        (state, now)
    }

    #[test]
    fn three_flat_cycles_put_a_channel_to_sleep_for_two_intervals() {
        let (state, now) = run(&[1000.0, 1000.0, 1005.0, 1000.0]);
        let state = state.unwrap();
        assert_eq!(state.asleep_until, Some(now + 2 * INTERVAL));
        assert!(matches!(
            check(Some(&state), 1000.0, false, now + INTERVAL),
            Wakefulness::Asleep { .. }
        ));
        // The sleep ends by itself.
        assert_eq!(
            check(Some(&state), 1000.0, false, now + 2 * INTERVAL),
            Wakefulness::Awake
        );
    }

    #[test]
    fn a_moving_rate_never_sleeps() {
        let (state, _) = run(&[1000.0, 1100.0, 1000.0, 1100.0, 1000.0]);
        assert_eq!(state.unwrap().asleep_until, None);
    }

    #[test]
    fn idle_channels_sleep_and_the_first_earnings_wake_them() {
        let (state, now) = run(&[0.0, 0.0, 0.0, 0.0]);
        let state = state.unwrap();
        assert!(state.asleep_until.is_some());
        assert!(matches!(
            check(Some(&state), 0.0, false, now + 1),
            Wakefulness::Asleep { .. }
        ));
        assert!(matches!(
            check(Some(&state), 50.0, false, now + 1),
            Wakefulness::Woken { .. }
        ));
    }

    #[test]
    fn a_change_over_twenty_percent_or_congestion_wakes_early() {
        let (state, now) = run(&[1000.0; 4]);
        let state = state.unwrap();
        assert!(matches!(
            check(Some(&state), 1150.0, false, now + 1),
            Wakefulness::Asleep { .. }
        ));
        assert!(matches!(
            check(Some(&state), 1300.0, false, now + 1),
            Wakefulness::Woken { .. }
        ));
        assert!(matches!(
            check(Some(&state), 700.0, false, now + 1),
            Wakefulness::Woken { .. }
        ));
        assert!(matches!(
            check(Some(&state), 1000.0, true, now + 1),
            Wakefulness::Woken { .. }
        ));
    }
}
