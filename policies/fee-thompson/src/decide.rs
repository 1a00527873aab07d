//! One call of the policy for one channel: record what the last window
//! taught, update the AIMD overlay, then price — congestion, hold, or a
//! Thompson sample scaled by the AIMD modifier.
//!
//! Invariants:
//! - `decide` is total and deterministic: any input yields a decision, the
//!   same input yields the same decision, nothing panics.
//! - The fee is always within the working range (`FeeInput::working_bounds`).
//! - A window is recorded as an observation of the fee that was in force
//!   during it, and only when it is non-empty and the fee was not forced to
//!   the ceiling by congestion; the AIMD overlay sees every non-empty window.
//! - The seed is used for exactly one normal draw per Thompson decision.

use crate::aimd::AimdChange;
use crate::explain;
use crate::model::{FeeDecision, FeeInput, FlowState, step};
use crate::posterior::{Posterior, window_weight};
use crate::state::{Observation, ThompsonState};
use revops_fee_model::{Bounds, is_own_fee, round_ppm};

/// Factor on the posterior's spread when sampling. The reference derives it
/// from hive "pheromone" levels and corridor roles, which this host does not
/// provide; 1.0 samples the posterior as fitted. (The AIMD modifier scales
/// the sampled fee, not the spread.)
pub const EXPLORE_MODIFIER: f64 = 1.0;

const MSAT_PER_SAT: f64 = 1000.0;
const SECS_PER_HOUR: f64 = 3600.0;

/// Decides the fee for one channel.
pub fn decide(input: &FeeInput) -> FeeDecision {
    let bounds = input.working_bounds();
    let congested = input.flow_state == FlowState::Congested;
    let records_window = input.window_secs > 0 && !congested;
    let mut state = ThompsonState::load(input.state.as_deref(), records_window);
    let fee_in_force_ppm = fee_in_force_ppm(&state, input.fee_ppm);
    let now_unix_secs = input.now_unix_secs;

    let (fee_ppm, step, reason) = if input.window_secs == 0 {
        // Nothing was observed since the last call (or ever): no evidence to
        // move on, and re-sampling with every new seed would only jitter.
        let fee_ppm = bounds.clamp(fee_in_force_ppm);
        let first_call = state.last_fee_ppm.is_none();
        (
            fee_ppm,
            step::HOLD,
            explain::hold(first_call, fee_in_force_ppm, fee_ppm),
        )
    } else {
        let forwarded = input.forwarded_out_msat > 0;
        let change = state.aimd.record(forwarded, now_unix_secs);
        if congested {
            // The ceiling is forced, not chosen: revenue at it says nothing
            // about the fee the posterior should learn.
            let reason = explain::congestion(bounds, &state, change);
            (bounds.ceiling_ppm, step::CONGESTION, reason)
        } else {
            state.record(observation(input, fee_in_force_ppm));
            thompson(input, bounds, &state, change)
        }
    };

    state.last_fee_ppm = Some(fee_ppm);
    FeeDecision {
        fee_ppm,
        step,
        reason,
        state: Some(state.into_encoded()),
    }
}

/// Fits the posterior, samples it with the input's seed, and applies the
/// AIMD modifier, clamping both the sample and the result to `bounds`.
fn thompson(
    input: &FeeInput,
    bounds: Bounds,
    state: &ThompsonState,
    change: Option<AimdChange>,
) -> (u32, &'static str, String) {
    let posterior = Posterior::fit(state.observations(), input.now_unix_secs);
    // round_ppm maps a (rare) negative draw to 0 ppm.
    let draw_ppm = round_ppm(posterior.sample_ppm(input.seed, EXPLORE_MODIFIER));
    let sampled_fee_ppm = bounds.clamp(draw_ppm);
    let modifier = state.aimd.modifier;
    let fee_ppm = bounds.clamp(round_ppm(f64::from(sampled_fee_ppm) * modifier));
    let step = match change {
        Some(AimdChange::Decreased { .. }) => step::AIMD_DECREASE,
        _ => step::THOMPSON,
    };
    let reason = explain::thompson(
        &posterior,
        draw_ppm,
        sampled_fee_ppm,
        modifier,
        fee_ppm,
        bounds,
        change,
    );
    (fee_ppm, step, reason)
}

/// The fee that was in force during the window: the one we returned last
/// time while the channel still carries (about) it — host hysteresis can
/// leave a small difference — otherwise someone else set the channel's fee,
/// and that is what forwards paid.
fn fee_in_force_ppm(state: &ThompsonState, channel_fee_ppm: u32) -> u32 {
    match state.last_fee_ppm {
        Some(last_fee_ppm) if is_own_fee(channel_fee_ppm, last_fee_ppm) => last_fee_ppm,
        _ => channel_fee_ppm,
    }
}

/// The window as an observation: the fee in force, its revenue rate and how
/// much the window says (its weight before decay).
fn observation(input: &FeeInput, fee_in_force_ppm: u32) -> Observation {
    let window_hours = input.window_secs as f64 / SECS_PER_HOUR;
    let rate_sat_per_hour = input.fees_earned_msat as f64 / MSAT_PER_SAT / window_hours;
    Observation {
        fee_ppm: fee_in_force_ppm,
        // f32 keeps the state compact; ~7 significant digits is plenty for
        // a weight. The rate is finite (window ≥ 1 s) and at most
        // u64::MAX msat per second ≈ 6.6e19 sat/h, far below f32::MAX.
        rate_sat_per_hour: rate_sat_per_hour as f32,
        weight: window_weight(input.window_secs, rate_sat_per_hour) as f32,
        observed_at_unix_secs: input.now_unix_secs,
    }
}
