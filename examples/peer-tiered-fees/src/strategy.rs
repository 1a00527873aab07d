//! The fee decision for one channel: scarcity × tier × time of day, moved
//! toward a bounded step at a time (see the crate docs).

use crate::revops::policy::types::{ChannelFeeInput, FeeDecision, FlowState};
use crate::state::ChannelState;
use crate::tiers::Tier;
use crate::time_of_day;

/// What a balanced channel (half of it ours) of a `standard` peer charges at
/// ordinary hours: the operator's idea of a normal fee for this node.
pub const BASE_FEE_PPM: f64 = 300.0;
/// A move changes the fee by at most this share of it per cycle…
pub const MAX_STEP_PERCENT: u64 = 20;
/// …and by at least this much, so a low fee is not stuck.
pub const MIN_STEP_PPM: u64 = 10;
/// Within this share of the target, hold: fewer changes to gossip.
pub const HOLD_WITHIN_PERCENT: u64 = 5;

/// The scarcity factor of a channel with `local_share` (0–1) of it ours:
/// 2^(1 − 2 × share) — ×2 when empty, ×1 half full, ×0.5 when full.
pub fn scarcity(local_share: f64) -> f64 {
    (1.0 - 2.0 * local_share.clamp(0.0, 1.0)).exp2()
}

/// The decision for one channel. Total: every input gets an answer.
pub fn decide(input: &ChannelFeeInput) -> FeeDecision {
    let state = ChannelState::decode(input.state.as_deref())
        .observe(input.fees_earned_msat, input.window_secs);
    let earned = state.earned_msat_per_day.unwrap_or(0.0);
    let tier = Tier::of(&input.peer_id, earned, input.guidance.idle_secs);
    let (hour_percent, hours) = time_of_day::percent(input.now);

    // 1. Scarcity: the base fee, dearer as our side empties.
    let local_share = if input.capacity_msat == 0 {
        0.0
    } else {
        input.local_msat.min(input.capacity_msat) as f64 / input.capacity_msat as f64
    };
    let local_pct = (local_share * 100.0).round() as u64;
    // 2. and 3. Tier and time of day.
    let price = BASE_FEE_PPM * scarcity(local_share) * tier.percent() as f64 / 100.0
        * hour_percent as f64
        / 100.0;
    // Within the host's recommendation: its floor already covers chain
    // costs, rebalancing costs and a drained channel's protection.
    let floor = u64::from(input.guidance.floor_ppm);
    let ceiling = u64::from(input.guidance.ceiling_ppm).max(floor);
    let target = (price.round() as u64).clamp(floor, ceiling);

    // 4. A bounded step toward the target.
    let current = u64::from(input.fee_ppm);
    let max_step = (current * MAX_STEP_PERCENT / 100).max(MIN_STEP_PPM);
    let (fee, step) = if input.flow_state == FlowState::Congested {
        // HTLC slots are scarce: price them up, whatever the target says.
        (current + max_step, "congestion")
    } else if current.abs_diff(target) * 100 <= target * HOLD_WITHIN_PERCENT {
        (current, "hold")
    } else if target > current {
        (current + (target - current).min(max_step), "raise")
    } else {
        (current - (current - target).min(max_step), "lower")
    };
    // The host clamps into the operator's bounds anyway; doing it here keeps
    // the reason true to what happens.
    let bounds = &input.bounds;
    let fee = fee.clamp(
        u64::from(bounds.floor_ppm),
        u64::from(bounds.ceiling_ppm.max(bounds.floor_ppm)),
    );

    FeeDecision {
        short_channel_id: input.short_channel_id.clone(),
        fee_ppm: u32::try_from(fee).unwrap_or(u32::MAX),
        step: step.to_string(),
        reason: format!(
            "{} peer ({:.1} sat/day earned), {local_pct}% ours, {hours} (UTC {}h): \
             target {target} ppm; fee {current} -> {fee} ppm",
            tier.name(),
            earned / 1000.0,
            time_of_day::utc_hour(input.now),
        ),
        state: Some(state.encode()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revops::policy::types::{FeeBounds, FeeGuidance, FeerateInfo};
    use crate::tiers::{DISCOUNT_PEERS, PREMIUM_PEERS};

    /// 2025-01-01T09:00:00Z: ordinary hours.
    const NINE_AM: u64 = 1_735_722_000;
    const SOMEONE: &str = "02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    /// A 10M-sat channel, `local_pct` % ours, at `fee_ppm`; recommended
    /// range 100–1100 ppm inside bounds 10–2000.
    fn channel(peer: &str, local_pct: u64, fee_ppm: u32) -> ChannelFeeInput {
        ChannelFeeInput {
            short_channel_id: "800000x1x0".to_string(),
            peer_id: peer.to_string(),
            now: NINE_AM,
            seed: 1,
            capacity_msat: 10_000_000_000,
            local_msat: 100_000_000 * local_pct,
            fee_ppm,
            fee_base_msat: 1000,
            htlcs_in_flight: 0,
            max_htlcs: 30,
            fees_earned_msat: 0,
            forwarded_out_msat: 0,
            window_secs: 1800,
            flow_state: FlowState::Balanced,
            bounds: FeeBounds {
                floor_ppm: 10,
                ceiling_ppm: 2000,
            },
            guidance: FeeGuidance {
                floor_ppm: 100,
                ceiling_ppm: 1100,
                economic_floor_ppm: 0,
                balance_floor_ppm: 0,
                rebalance_cost_floor_ppm: 0,
                flow_multiplier: 1.0,
                liquidity_multiplier: 1.0,
                profitability_multiplier: 1.0,
                idle_multiplier: 1.0,
                idle_secs: 600,
                peer_success_ratio: None,
                marginal_roi: None,
            },
            feerates: FeerateInfo {
                current_perkw: 1000,
                average_24h_perkw: 1000,
            },
            state: None,
        }
    }

    #[test]
    fn scarcity_doubles_when_empty_and_halves_when_full() {
        assert_eq!(scarcity(0.0), 2.0);
        assert_eq!(scarcity(0.5), 1.0);
        assert_eq!(scarcity(1.0), 0.5);
    }

    #[test]
    fn a_standard_channel_moves_toward_its_price_a_step_at_a_time() {
        // Half ours: 300 ppm. From 400, one 20 % step down.
        let decision = decide(&channel(SOMEONE, 50, 400));
        assert_eq!((decision.step.as_str(), decision.fee_ppm), ("lower", 320));
        assert!(
            decision.reason.starts_with("standard peer"),
            "{}",
            decision.reason
        );
        // Within 5 %: hold.
        let decision = decide(&channel(SOMEONE, 50, 310));
        assert_eq!((decision.step.as_str(), decision.fee_ppm), ("hold", 310));
        // Empty: 600.
        assert_eq!(decide(&channel(SOMEONE, 0, 600)).step, "hold");
    }

    #[test]
    fn listed_peers_pay_their_tier_within_the_host_s_range() {
        // Half ours: 300 × 1.5 for a premium peer, × 0.5 for a discounted one.
        assert_eq!(decide(&channel(PREMIUM_PEERS[0], 50, 450)).step, "hold");
        assert_eq!(decide(&channel(DISCOUNT_PEERS[0], 50, 150)).step, "hold");
        // Never past the recommended range: a drained premium channel would
        // be 900, but the host recommends at most 800 here.
        let mut drained = channel(PREMIUM_PEERS[0], 0, 800);
        drained.guidance.ceiling_ppm = 800;
        assert_eq!(decide(&drained).step, "hold");
        // Nor below it: a full discounted channel (75) stays at the floor.
        let full = decide(&channel(DISCOUNT_PEERS[0], 100, 100));
        assert_eq!((full.step.as_str(), full.fee_ppm), ("hold", 100));
    }

    #[test]
    fn peak_hours_cost_more() {
        let mut input = channel(SOMEONE, 50, 330);
        input.now = NINE_AM + 6 * 3_600; // 15:00 UTC: 300 × 1.1.
        let decision = decide(&input);
        assert_eq!(decision.step, "hold");
        assert!(
            decision.reason.contains("peak hours (UTC 15h)"),
            "{}",
            decision.reason
        );
    }

    #[test]
    fn earnings_are_remembered_and_make_an_earner() {
        let mut input = channel(SOMEONE, 50, 360);
        input.fees_earned_msat = 1_000; // 48,000 msat/day over half an hour.
        let first = decide(&input);
        assert_eq!(
            first.step, "hold",
            "an earner's 300 × 1.2: {}",
            first.reason
        );
        assert!(
            first.reason.starts_with("earner peer (48.0 sat/day"),
            "{}",
            first.reason
        );
        // Next cycle: nothing earned, but the average remembers.
        let mut next = channel(SOMEONE, 50, first.fee_ppm);
        next.state = first.state.clone();
        let second = decide(&next);
        assert!(
            second.reason.starts_with("earner peer (47.7"),
            "{}",
            second.reason
        );
    }

    #[test]
    fn congestion_raises_and_the_bounds_always_hold() {
        let mut input = channel(SOMEONE, 50, 1990);
        input.flow_state = FlowState::Congested;
        let decision = decide(&input);
        assert_eq!(
            (decision.step.as_str(), decision.fee_ppm),
            ("congestion", 2000)
        );
        // A fee of 0 is not stuck, and corrupt state is survived.
        let mut input = channel(SOMEONE, 50, 0);
        input.state = Some(b"garbage".to_vec());
        let decision = decide(&input);
        assert_eq!(decision.fee_ppm, 10);
        assert_eq!(decision.state.unwrap().len(), 9);
    }
}
