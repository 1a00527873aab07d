//! The Alpha sequence: runs every rule for one channel and picks the fee by
//! priority (congestion → Vegas reflex → scarcity → hill climbing / hold).
//!
//! Invariants:
//! - `decide` is total and deterministic: any input yields a decision, the
//!   same input yields the same decision, nothing panics.
//! - The fee is always within the sanitised `[floor_ppm, ceiling_ppm]`.
//! - The reported step is the rule that determined the final fee.
//! - Per-call state (Vegas intensity, observation accumulators) advances on
//!   every call, whichever rule wins.

use crate::explain;
use crate::model::{FeeDecision, FeeInput, step};
use crate::rules::{congestion, hill_climb, scarcity, vegas};
use crate::state::PolicyState;
use crate::units::{Bounds, local_ratio, round_ppm};
use revops_fee_model::is_own_fee;

/// Decides the fee for one channel.
pub fn decide(input: &FeeInput) -> FeeDecision {
    let bounds = input.working_bounds();
    let mut state = PolicyState::decode_or_fresh(input.state.as_deref());
    let local = local_ratio(input.local_msat, input.capacity_msat);

    let reflex = vegas::update(
        input.feerate_current_perkw,
        input.feerate_average_24h_perkw,
        state.vegas_intensity,
        state.previous_spike,
        input.seed,
    );
    state.vegas_intensity = reflex.intensity;
    state.previous_spike = reflex.spiking;

    let current_base_ppm = tracked_base_ppm(&state, input.fee_ppm);
    let earned_msat = reputation_weighted_msat(input);
    let (fee_ppm, step, reason, base_fee_ppm) =
        match congestion::check(input.htlcs_in_flight, input.max_htlcs, input.flow_state) {
            Some(cause) => {
                // The climber did not choose this fee, so it must not judge
                // revenue on it as a move; keep observing for later.
                hill_climb::accumulate(&mut state, earned_msat, input.window_secs);
                let reason = explain::congestion(cause, input, bounds);
                (
                    bounds.ceiling_ppm,
                    step::CONGESTION,
                    reason,
                    bounds.clamp(current_base_ppm),
                )
            }
            None => {
                let climb = hill_climb::climb(
                    &mut state,
                    current_base_ppm,
                    local,
                    earned_msat,
                    input.window_secs,
                    bounds,
                );
                let (fee_ppm, step, reason) = overlay(&climb, reflex, local, input, bounds);
                (fee_ppm, step, reason, climb.base_fee_ppm)
            }
        };

    state.base_fee_ppm = Some(base_fee_ppm);
    state.last_fee_ppm = Some(fee_ppm);
    FeeDecision {
        fee_ppm,
        step,
        reason,
        state: Some(state.encode()),
    }
}

/// Applies scarcity and the Vegas floor to the climber's base fee, clamps,
/// and names the rule that determined the result.
fn overlay(
    climb: &hill_climb::Climb,
    reflex: vegas::Reflex,
    local: f64,
    input: &FeeInput,
    bounds: Bounds,
) -> (u32, &'static str, String) {
    let base_ppm = climb.base_fee_ppm;
    let scarcity_multiplier = scarcity::multiplier(local);
    let candidate_ppm =
        scarcity_multiplier.map_or(base_ppm, |m| round_ppm(f64::from(base_ppm) * m));
    let raised_floor_ppm = reflex.raised_floor_ppm(bounds);
    let fee_ppm = candidate_ppm.clamp(raised_floor_ppm, bounds.ceiling_ppm);

    if fee_ppm > bounds.clamp(candidate_ppm) {
        let reason = explain::vegas(reflex, input, bounds, raised_floor_ppm, candidate_ppm);
        return (fee_ppm, step::VEGAS_REFLEX, reason);
    }
    if let Some(multiplier) = scarcity_multiplier
        && fee_ppm > bounds.clamp(base_ppm)
    {
        let reason = explain::scarcity(local, multiplier, base_ppm, candidate_ppm, fee_ppm);
        return (fee_ppm, step::SCARCITY, reason);
    }
    match &climb.moved {
        Some(moved) => {
            let reason = explain::hill_climb(moved, local, base_ppm, fee_ppm);
            (fee_ppm, step::HILL_CLIMB, reason)
        }
        None => {
            let reason = explain::hold(climb.pending_secs, base_ppm, fee_ppm);
            (fee_ppm, step::HOLD, reason)
        }
    }
}

/// Fees earned, weighted by how reliably the peer's forwards settle (the
/// reference's reputation weighting): revenue that depends on a flaky peer
/// counts for less when the climber judges a move.
fn reputation_weighted_msat(input: &FeeInput) -> u64 {
    match input.guidance.and_then(|g| g.peer_success_ratio) {
        Some(ratio) if ratio.is_finite() => {
            (input.fees_earned_msat as f64 * ratio.clamp(0.0, 1.0)).round() as u64
        }
        _ => input.fees_earned_msat,
    }
}

/// The base fee to climb from. When the channel still carries (about) the fee
/// we returned last time, our overlays are in it: climb from our own base so
/// scarcity does not compound call after call. Otherwise someone else set the
/// fee (operator, another tool): follow it.
fn tracked_base_ppm(state: &PolicyState, channel_fee_ppm: u32) -> u32 {
    match (state.base_fee_ppm, state.last_fee_ppm) {
        (Some(base_ppm), Some(last_fee_ppm)) if is_own_fee(channel_fee_ppm, last_fee_ppm) => {
            base_ppm
        }
        _ => channel_fee_ppm,
    }
}
