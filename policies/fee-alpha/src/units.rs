//! Numeric helpers shared by the rules: f64 → ppm rounding, channel ratios and
//! bound sanitising (the first three from `revops-fee-model`, re-exported).
//!
//! Invariants:
//! - Nothing here panics or produces NaN/inf for any input: NaN, infinities and
//!   negatives round to 0 ppm, values past `u32::MAX` saturate.
//! - Ratios are always finite and within their documented range.

pub use revops_fee_model::{Bounds, local_ratio, round_ppm};

/// Fraction of HTLC slots in use, or `None` when the channel reports no slots
/// (then occupancy is unknown, not infinite).
pub fn htlc_occupancy(htlcs_in_flight: u32, max_htlcs: u32) -> Option<f64> {
    (max_htlcs > 0).then(|| f64::from(htlcs_in_flight) / f64::from(max_htlcs))
}

/// Formats a ratio as a whole percentage for reason strings.
pub fn percent(ratio: f64) -> String {
    format!("{:.0}%", ratio * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occupancy_is_unknown_without_slots() {
        assert_eq!(htlc_occupancy(5, 0), None);
        assert_eq!(htlc_occupancy(9, 10), Some(0.9));
    }

    #[test]
    fn percentages_are_whole() {
        assert_eq!(percent(0.123), "12%");
    }
}
