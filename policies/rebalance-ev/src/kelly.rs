//! Kelly sizing of the rebalance budget (REFERENCE §1.8, off by default).
//!
//! The bet: pay `inbound + opportunity cost` per unit to earn the
//! destination's fee, so the odds are `b = dest fee ÷ (inbound + opp cost)`;
//! with success probability `p` the Kelly stake is `f = p − (1 − p) ÷ b`.
//! The budget is multiplied by `min(f × fraction, 1)`; `f ≤ 0` (no edge)
//! rejects the rebalance.
//!
//! Invariants:
//! - Total: `p` is clamped to [0, 1] (NaN → 0), `fraction` to [0, 1]
//!   (NaN → 0.5); a free rebalance (zero cost) has infinite odds, so
//!   `f = p`; a destination earning nothing has zero odds, so no edge.

use crate::ev::finite_or;
use crate::model::Kelly;

/// Half Kelly, the reference's default fraction.
pub const DEFAULT_FRACTION: f64 = 0.5;

/// The Kelly stake `f`; ≤ 0 means no edge.
pub fn stake(success_probability: f64, destination_fee_ppm: u32, cost_ppm: f64) -> f64 {
    let p = if success_probability.is_nan() {
        0.0
    } else {
        success_probability.clamp(0.0, 1.0)
    };
    let cost = finite_or(cost_ppm, f64::MAX).max(0.0);
    let fee = f64::from(destination_fee_ppm);
    if fee == 0.0 {
        // Nothing to win: no edge, whatever p is.
        return if p >= 1.0 { 0.0 } else { -1.0 };
    }
    if cost == 0.0 {
        return p;
    }
    let odds = fee / cost;
    p - (1.0 - p) / odds
}

/// The budget factor `min(f × fraction, 1)`, or `None` when there is no
/// edge (`f ≤ 0`).
pub fn budget_factor(kelly: &Kelly, destination_fee_ppm: u32, cost_ppm: f64) -> Option<f64> {
    let f = stake(kelly.success_probability, destination_fee_ppm, cost_ppm);
    if f.is_nan() || f <= 0.0 {
        return None;
    }
    let fraction = finite_or(kelly.fraction, DEFAULT_FRACTION).clamp(0.0, 1.0);
    let factor = (f * fraction).min(1.0);
    (factor > 0.0).then_some(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half(p: f64) -> Kelly {
        Kelly {
            success_probability: p,
            fraction: DEFAULT_FRACTION,
        }
    }

    #[test]
    fn stake_is_p_minus_q_over_b() {
        // b = 1000 / 250 = 4; f = 0.8 − 0.2 / 4 = 0.75.
        assert!((stake(0.8, 1000, 250.0) - 0.75).abs() < 1e-12);
        // b = 1: f = 2p − 1.
        assert!((stake(0.4, 500, 500.0) + 0.2).abs() < 1e-12);
        assert_eq!(stake(0.7, 1000, 0.0), 0.7);
        assert!(stake(0.99, 0, 10.0) <= 0.0);
    }

    #[test]
    fn factor_is_capped_and_none_without_edge() {
        assert!((budget_factor(&half(0.8), 1000, 250.0).unwrap() - 0.375).abs() < 1e-12);
        assert_eq!(budget_factor(&half(0.4), 500, 500.0), None);
        let full = Kelly {
            success_probability: 1.0,
            fraction: 5.0,
        };
        assert_eq!(budget_factor(&full, 1000, 0.0), Some(1.0));
        assert_eq!(budget_factor(&half(f64::NAN), 1000, 10.0), None);
        let zero_fraction = Kelly {
            success_probability: 0.9,
            fraction: 0.0,
        };
        assert_eq!(budget_factor(&zero_fraction, 1000, 10.0), None);
    }
}
