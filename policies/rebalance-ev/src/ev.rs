//! The reference rebalancer's economic quantities (REFERENCE §1.8), one
//! small function each. All arithmetic is in f64 on msat and ppm.
//!
//! Invariants:
//! - Total and finite: every function returns a finite, non-negative value
//!   (except [`spread_ppm`], finite but signed) for any input — zero
//!   capacity, zero amount, NaN or infinite factors included.

use crate::model::{Channel, FlowState};

/// Millionths: ppm × amount ÷ this = fee.
pub const PPM: f64 = 1_000_000.0;
/// The loss the reference tolerates on a slightly negative spread, and the
/// budget it then grants: 50 sat.
pub const TOLERANCE_MSAT: f64 = 50_000.0;
/// The smallest budget granted on a non-negative spread: 1 sat.
pub const MIN_BUDGET_MSAT: f64 = 1_000.0;
/// Expected utilisation is clamped into this range.
pub const MIN_UTILISATION: f64 = 0.05;
pub const MAX_UTILISATION: f64 = 1.0;
/// The acceptance threshold never drops below −50 sat.
pub const THRESHOLD_FLOOR_MSAT: f64 = -50_000.0;
/// The NNLB multiplier's range (struggling 2.0 … thriving 0.75, clamped).
pub const MIN_HEALTH_MULTIPLIER: f64 = 0.5;
pub const MAX_HEALTH_MULTIPLIER: f64 = 2.5;

/// `x`, or `fallback` when `x` is NaN or infinite.
pub fn finite_or(x: f64, fallback: f64) -> f64 {
    if x.is_finite() { x } else { fallback }
}

/// Daily outbound volume ÷ capacity; 0 for a zero-capacity channel.
pub fn turnover_per_day(channel: &Channel) -> f64 {
    if channel.capacity_msat == 0 {
        return 0.0;
    }
    channel.daily_out_msat as f64 / channel.capacity_msat as f64
}

/// Our share of the channel in [0, 1]; 0 for a zero-capacity channel (it
/// has nothing to give as a source).
pub fn local_ratio(channel: &Channel) -> f64 {
    if channel.capacity_msat == 0 {
        return 0.0;
    }
    (channel.local_msat as f64 / channel.capacity_msat as f64).clamp(0.0, 1.0)
}

/// How much of a source's fee its liquidity would really have earned: slow
/// channels barely (`max(0.01, t)` below 0.1 turnover a day), busy ones
/// fully (`min(1, 7t)` from 0.1 up) — the reference's step at 0.1 included.
pub fn turnover_weight(turnover_per_day: f64) -> f64 {
    let t = finite_or(turnover_per_day, 0.0).max(0.0);
    if t < 0.10 {
        t.max(0.01)
    } else {
        (7.0 * t).min(1.0)
    }
}

/// Draining a sink costs little (it refills by itself), draining a source
/// costs more (its liquidity is what earns).
pub fn flow_multiplier(flow_state: FlowState) -> f64 {
    match flow_state {
        FlowState::Sink => 0.3,
        FlowState::Source => 1.5,
        FlowState::Balanced | FlowState::Unknown | FlowState::Congested => 1.0,
    }
}

/// The fee a source's liquidity would have earned where it is, in ppm.
pub fn opportunity_cost_ppm(source: &Channel) -> f64 {
    f64::from(source.fee_ppm)
        * turnover_weight(turnover_per_day(source))
        * flow_multiplier(source.flow_state)
}

/// What the refilled destination earns per unit moved, minus what moving
/// it costs: `dest fee − inbound fee estimate − source opportunity cost`.
pub fn spread_ppm(destination: &Channel, inbound_fee_ppm: u32, source: &Channel) -> f64 {
    f64::from(destination.fee_ppm) - f64::from(inbound_fee_ppm) - opportunity_cost_ppm(source)
}

/// The tolerated negative spread: 50 sat over the amount, in ppm. Infinite
/// for a zero amount (callers reject that first).
pub fn tolerance_ppm(amount_msat: u64) -> f64 {
    TOLERANCE_MSAT * PPM / amount_msat as f64
}

/// The most the rebalance may pay: the whole spread (at least 1 sat), or
/// the 50 sat tolerance when the spread is negative.
pub fn max_budget_msat(spread_ppm: f64, amount_msat: u64) -> f64 {
    if spread_ppm < 0.0 {
        TOLERANCE_MSAT
    } else {
        (spread_ppm * amount_msat as f64 / PPM).max(MIN_BUDGET_MSAT)
    }
}

/// Share of the moved liquidity expected to be routed out again before the
/// next rebalance: destination turnover × cooldown, in [0.05, 1].
pub fn expected_utilisation(destination: &Channel, cooldown_days: f64) -> f64 {
    let days = finite_or(cooldown_days, 0.0).max(0.0);
    finite_or(turnover_per_day(destination) * days, MAX_UTILISATION)
        .clamp(MIN_UTILISATION, MAX_UTILISATION)
}

/// What the used part of the moved liquidity earns at the destination.
pub fn expected_income_msat(amount_msat: u64, utilisation: f64, destination: &Channel) -> f64 {
    amount_msat as f64 * utilisation * f64::from(destination.fee_ppm) / PPM
}

/// What the source loses by giving that liquidity up:
/// `amount × util × src fee × min(1, 7 · src turnover)`.
pub fn expected_source_loss_msat(amount_msat: u64, utilisation: f64, source: &Channel) -> f64 {
    let busy = (7.0 * turnover_per_day(source)).min(1.0);
    amount_msat as f64 * utilisation * f64::from(source.fee_ppm) * busy / PPM
}

/// The health multiplier clamped to [0.5, 2.5]; non-finite means neutral.
pub fn health_multiplier(raw: f64) -> f64 {
    finite_or(raw, 1.0).clamp(MIN_HEALTH_MULTIPLIER, MAX_HEALTH_MULTIPLIER)
}

/// The least EV worth accepting: min profit ÷ health multiplier (a
/// struggling node accepts thinner margins), floored at −50 sat.
pub fn threshold_msat(min_profit_msat: u64, health_multiplier_raw: f64) -> f64 {
    (min_profit_msat as f64 / health_multiplier(health_multiplier_raw)).max(THRESHOLD_FLOOR_MSAT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(capacity_msat: u64, daily_out_msat: u64) -> Channel {
        Channel {
            short_channel_id: "1x1x1".into(),
            peer_id: String::new(),
            capacity_msat,
            local_msat: 0,
            fee_ppm: 100,
            daily_out_msat,
            flow_state: FlowState::Balanced,
        }
    }

    #[test]
    fn turnover_weight_follows_the_reference_step() {
        assert_eq!(turnover_weight(0.0), 0.01);
        assert_eq!(turnover_weight(0.05), 0.05);
        assert!((turnover_weight(0.10) - 0.7).abs() < 1e-12);
        assert_eq!(turnover_weight(0.5), 1.0);
        assert_eq!(turnover_weight(f64::NAN), 0.01);
        assert_eq!(turnover_weight(-1.0), 0.01);
    }

    #[test]
    fn zero_capacity_and_zero_amount_stay_finite_or_are_named() {
        let empty = channel(0, 5);
        assert_eq!(turnover_per_day(&empty), 0.0);
        assert_eq!(local_ratio(&empty), 0.0);
        assert_eq!(expected_utilisation(&empty, f64::INFINITY), 0.05);
        assert!(tolerance_ppm(0).is_infinite());
        assert_eq!(max_budget_msat(-1.0, 0), TOLERANCE_MSAT);
        assert_eq!(max_budget_msat(10.0, 1), MIN_BUDGET_MSAT);
    }

    #[test]
    fn utilisation_is_clamped() {
        let busy = channel(1_000, 1_000);
        assert_eq!(expected_utilisation(&busy, 3.0), 1.0);
        assert_eq!(expected_utilisation(&busy, 0.5), 0.5);
        assert_eq!(expected_utilisation(&busy, f64::NAN), 0.05);
    }

    #[test]
    fn threshold_is_divided_by_the_clamped_multiplier() {
        assert_eq!(threshold_msat(10_000, 2.0), 5_000.0);
        assert_eq!(threshold_msat(10_000, 0.75), 10_000.0 / 0.75);
        assert_eq!(threshold_msat(10_000, 100.0), 4_000.0);
        assert_eq!(threshold_msat(10_000, 0.0), 20_000.0);
        assert_eq!(threshold_msat(10_000, f64::NAN), 10_000.0);
    }
}
