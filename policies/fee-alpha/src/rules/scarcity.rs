//! Rule 3, scarcity: when little outbound liquidity is left, each remaining
//! satoshi is worth more, so the hill-climbing base fee is multiplied.
//!
//! Invariants:
//! - The multiplier is 1× at the threshold and rises linearly to 3× at an
//!   empty local side; at or above the threshold the rule does not apply.

/// Local ratio below which scarcity pricing applies (reference: 0.35).
pub const SCARCITY_RATIO: f64 = 0.35;
/// Extra multiple at a fully drained channel (so 1× .. 3× overall).
const MAX_EXTRA_MULTIPLE: f64 = 2.0;

/// The multiplier for `local_ratio`, or `None` when liquidity is not scarce.
pub fn multiplier(local_ratio: f64) -> Option<f64> {
    (local_ratio < SCARCITY_RATIO)
        .then(|| 1.0 + MAX_EXTRA_MULTIPLE * (1.0 - local_ratio / SCARCITY_RATIO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplier_runs_from_one_to_three() {
        assert_eq!(multiplier(0.35), None);
        assert_eq!(multiplier(0.9), None);
        assert_eq!(multiplier(0.0), Some(3.0));
        let at_ten_percent = multiplier(0.10).unwrap();
        assert!(
            (at_ten_percent - 2.428_571).abs() < 1e-5,
            "{at_ten_percent}"
        );
    }
}
