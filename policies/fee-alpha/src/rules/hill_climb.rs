//! Rule 4, hill climbing: move the fee one step at a time and keep going while
//! the smoothed revenue rate improves; reverse and shorten the step when it
//! does not.
//!
//! Revenue is the fees the channel actually earned (msat) per hour of the
//! observation window — not the reference's volume × current fee estimate.
//!
//! Invariants:
//! - No move without at least [`MIN_OBSERVATION_SECS`] of observation; short
//!   windows are accumulated in the state until they add up to an hour.
//! - The stored step stays within [`MIN_STEP_PPM`, `MAX_STEP_PPM`]; the step
//!   actually taken is also at least [`STEP_FRACTION_OF_FEE`] of the fee.
//! - The returned base fee lies within the (plain, not Vegas-raised) bounds.

use crate::rules::scarcity::SCARCITY_RATIO;
use crate::state::{Direction, MAX_STEP_PPM, MIN_STEP_PPM, PolicyState};
use crate::units::{Bounds, round_ppm};

/// Shortest observation the revenue rate is judged on. The reference used
/// 1 h, but the host sends at most 4 fee updates per channel per day: a
/// climber moving hourly would mostly judge fees it never got to charge.
/// Six hours lets every move be broadcast and observed.
pub const MIN_OBSERVATION_SECS: u64 = 6 * 3600;
/// Weight of the newest rate in the EMA (reference issue #28: 0.3).
pub const EMA_WEIGHT: f64 = 0.3;
/// Relative improvement above which the step doubles.
pub const STRONG_IMPROVEMENT: f64 = 0.2;
/// The step taken is at least this fraction of the current fee.
pub const STEP_FRACTION_OF_FEE: f64 = 0.05;
/// Local ratio from which a first move goes down (excess outbound).
pub const EXCESS_OUTBOUND_RATIO: f64 = 0.5;
/// An EMA below this counts as no revenue at all: an EMA decays towards zero
/// but never reaches it, and sub-msat/h "revenue" should not steer anything.
const IDLE_EMA_MSAT_PER_HOUR: f64 = 1.0;
/// Improvement must beat float noise, not merely differ from it.
const IMPROVEMENT_EPSILON: f64 = 1e-9;

/// Why the climber went the way it did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// No earlier move to compare with: start in the balance's direction.
    First,
    /// No revenue before or now: move down to find demand.
    Idle,
    /// No revenue before or now, but the channel is depleted: the lack of
    /// liquidity, not the price, explains it. Hold the base.
    IdleDepleted,
    /// Revenue improved by `ratio` (relative; infinite from zero).
    Improved { ratio: f64, step_doubled: bool },
    /// Revenue fell or stayed flat: reverse and halve the step.
    Worse,
}

/// A completed observation and the move made on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Move {
    pub rate_msat_per_hour: f64,
    pub ema_msat_per_hour: f64,
    /// The EMA at the previous move, if any.
    pub previous_ema_msat_per_hour: Option<f64>,
    pub verdict: Verdict,
    pub direction: Direction,
    /// The climber's step after this observation (within 10..=200 ppm).
    pub step_ppm: u32,
    /// The step actually taken: `step_ppm`, or 5% of the fee if larger.
    pub step_taken_ppm: u32,
    pub from_ppm: u32,
}

/// The climber's output for one call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Climb {
    /// The hill-climbing fee, before the other rules' overlays.
    pub base_fee_ppm: u32,
    /// `None`: not enough observation yet, the base fee was held.
    pub moved: Option<Move>,
    /// Observation gathered towards the next judgement (0 right after a move).
    pub pending_secs: u64,
}

/// Adds this window's earnings to the pending observation without judging it
/// (used while another rule has taken over, e.g. congestion).
pub fn accumulate(state: &mut PolicyState, fees_earned_msat: u64, window_secs: u64) {
    state.pending_fees_msat = state.pending_fees_msat.saturating_add(fees_earned_msat);
    state.pending_secs = state.pending_secs.saturating_add(window_secs);
}

/// Runs one hill-climbing call from `current_base_ppm`.
pub fn climb(
    state: &mut PolicyState,
    current_base_ppm: u32,
    local_ratio: f64,
    fees_earned_msat: u64,
    window_secs: u64,
    bounds: Bounds,
) -> Climb {
    accumulate(state, fees_earned_msat, window_secs);
    if state.pending_secs < MIN_OBSERVATION_SECS {
        return Climb {
            base_fee_ppm: bounds.clamp(current_base_ppm),
            moved: None,
            pending_secs: state.pending_secs,
        };
    }

    let hours = state.pending_secs as f64 / 3600.0;
    let rate_msat_per_hour = state.pending_fees_msat as f64 / hours;
    state.pending_fees_msat = 0;
    state.pending_secs = 0;
    let ema = match state.ema_msat_per_hour {
        Some(previous) => EMA_WEIGHT * rate_msat_per_hour + (1.0 - EMA_WEIGHT) * previous,
        None => rate_msat_per_hour,
    };
    state.ema_msat_per_hour = Some(ema);

    let balance_direction = if local_ratio >= EXCESS_OUTBOUND_RATIO {
        Direction::Down
    } else {
        Direction::Up
    };
    let previous_ema = state.last_move.map(|(previous, _)| previous);
    let (verdict, direction) = match state.last_move {
        None => (Verdict::First, balance_direction),
        // Raising an idle channel's fee never finds demand: only a cheaper
        // fee can. A depleted channel earns nothing because it has nothing to
        // sell; lowering it would only sell its next liquidity cheap.
        Some((previous, direction)) if is_idle(previous) && is_idle(ema) => {
            if local_ratio < SCARCITY_RATIO {
                (Verdict::IdleDepleted, direction)
            } else {
                (Verdict::Idle, Direction::Down)
            }
        }
        Some((previous, direction))
            if ema > previous * (1.0 + IMPROVEMENT_EPSILON) + IMPROVEMENT_EPSILON =>
        {
            let ratio = if previous > 0.0 {
                (ema - previous) / previous
            } else {
                f64::INFINITY
            };
            let step_doubled = ratio > STRONG_IMPROVEMENT && state.step_ppm < MAX_STEP_PPM;
            if step_doubled {
                state.step_ppm = (state.step_ppm * 2).min(MAX_STEP_PPM);
            }
            (
                Verdict::Improved {
                    ratio,
                    step_doubled,
                },
                direction,
            )
        }
        Some((_, direction)) => {
            state.step_ppm = (state.step_ppm / 2).max(MIN_STEP_PPM);
            (Verdict::Worse, direction.reversed())
        }
    };

    let step_taken_ppm = if verdict == Verdict::IdleDepleted {
        0
    } else {
        state.step_ppm.max(round_ppm(
            f64::from(current_base_ppm) * STEP_FRACTION_OF_FEE,
        ))
    };
    let moved_ppm = match direction {
        Direction::Up => current_base_ppm.saturating_add(step_taken_ppm),
        Direction::Down => current_base_ppm.saturating_sub(step_taken_ppm),
    };
    state.last_move = Some((ema, direction));
    Climb {
        base_fee_ppm: bounds.clamp(moved_ppm),
        moved: Some(Move {
            rate_msat_per_hour,
            ema_msat_per_hour: ema,
            previous_ema_msat_per_hour: previous_ema,
            verdict,
            direction,
            step_ppm: state.step_ppm,
            step_taken_ppm,
            from_ppm: current_base_ppm,
        }),
        pending_secs: 0,
    }
}

fn is_idle(ema_msat_per_hour: f64) -> bool {
    ema_msat_per_hour < IDLE_EMA_MSAT_PER_HOUR
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::INITIAL_STEP_PPM;

    const WIDE: Bounds = Bounds {
        floor_ppm: 0,
        ceiling_ppm: 100_000,
    };
    const WINDOW_SECS: u64 = MIN_OBSERVATION_SECS;

    /// One full-observation call earning `fees_msat`, from a 100 ppm base (5% of it is
    /// below the minimum step, so the stored step is what moves the fee).
    fn hour(state: &mut PolicyState, fees_msat: u64) -> Climb {
        climb(state, 100, 0.4, fees_msat, WINDOW_SECS, WIDE)
    }

    #[test]
    fn short_windows_accumulate_until_the_observation_is_complete() {
        let third_secs = MIN_OBSERVATION_SECS / 3;
        let mut state = PolicyState::default();
        let first = climb(&mut state, 300, 0.4, 500, third_secs, WIDE);
        assert_eq!(first.moved, None);
        assert_eq!(first.base_fee_ppm, 300);
        let second = climb(&mut state, 300, 0.4, 500, third_secs, WIDE);
        assert_eq!(second.pending_secs, 2 * third_secs);
        let third = climb(&mut state, 300, 0.4, 500, third_secs, WIDE)
            .moved
            .unwrap();
        // 1500 msat over exactly one observation window.
        let hours = MIN_OBSERVATION_SECS as f64 / 3600.0;
        assert_eq!(third.rate_msat_per_hour, 1500.0 / hours);
        assert_eq!(state.pending_secs, 0);
    }

    #[test]
    fn strong_improvements_double_the_step_up_to_the_maximum() {
        let mut state = PolicyState::default();
        hour(&mut state, 1000);
        let mut fees_msat = 1000;
        let mut steps = Vec::new();
        for _ in 0..5 {
            fees_msat *= 4;
            let moved = hour(&mut state, fees_msat).moved.unwrap();
            assert_eq!(moved.direction, Direction::Up);
            steps.push(state.step_ppm);
        }
        assert_eq!(steps, [100, 200, 200, 200, 200]);
    }

    #[test]
    fn falling_revenue_reverses_and_halves_down_to_the_minimum() {
        let mut state = PolicyState::default();
        hour(&mut state, 1_000_000);
        let mut directions = Vec::new();
        let mut steps = Vec::new();
        for _ in 0..5 {
            let moved = hour(&mut state, 0).moved.unwrap();
            directions.push(moved.direction);
            steps.push(state.step_ppm);
        }
        assert_eq!(steps, [25, 12, 10, 10, 10]);
        // Each worse observation flips the direction (starting up at 40% local).
        assert_eq!(directions[0], Direction::Down);
        assert_eq!(directions[1], Direction::Up);
        assert_eq!(directions[2], Direction::Down);
    }

    #[test]
    fn an_idle_depleted_channel_holds_its_base() {
        let mut state = PolicyState::default();
        climb(&mut state, 500, 0.1, 0, WINDOW_SECS, WIDE);
        let c = climb(&mut state, 500, 0.1, 0, WINDOW_SECS, WIDE);
        assert_eq!(c.moved.unwrap().verdict, Verdict::IdleDepleted);
        assert_eq!(c.base_fee_ppm, 500);
    }

    #[test]
    fn an_idle_channel_with_liquidity_moves_down_whatever_its_balance() {
        for local_ratio in [0.4, 0.9] {
            let mut state = PolicyState::default();
            climb(&mut state, 500, local_ratio, 0, WINDOW_SECS, WIDE);
            let moved = climb(&mut state, 500, local_ratio, 0, WINDOW_SECS, WIDE)
                .moved
                .unwrap();
            assert_eq!(moved.verdict, Verdict::Idle);
            assert_eq!(moved.direction, Direction::Down, "local {local_ratio}");
        }
    }

    #[test]
    fn the_step_taken_is_at_least_five_percent_of_the_fee() {
        let mut state = PolicyState::default();
        let climb = climb(&mut state, 4000, 0.9, 0, WINDOW_SECS, WIDE);
        assert_eq!(state.step_ppm, INITIAL_STEP_PPM);
        assert_eq!(climb.moved.unwrap().step_taken_ppm, 200);
        assert_eq!(climb.base_fee_ppm, 3800);
    }

    #[test]
    fn the_base_fee_stays_within_the_bounds() {
        let mut state = PolicyState::default();
        let bounds = Bounds {
            floor_ppm: 90,
            ceiling_ppm: 5000,
        };
        let climb = climb(&mut state, 100, 0.9, 0, WINDOW_SECS, bounds);
        assert_eq!(climb.base_fee_ppm, 90);
    }
}
