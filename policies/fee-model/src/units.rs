//! Numeric helpers: f64 → ppm rounding and channel ratios.
//!
//! Invariants:
//! - Nothing here panics or produces NaN/inf for any input: NaN, infinities and
//!   negatives round to 0 ppm, values past `u32::MAX` saturate.
//! - Ratios are always finite and within their documented range.

/// Rounds a fee computed in f64 to whole ppm (half away from zero), saturating.
pub fn round_ppm(fee_ppm: f64) -> u32 {
    if !fee_ppm.is_finite() || fee_ppm <= 0.0 {
        return 0;
    }
    // `as` saturates on overflow; the explicit min documents the intent.
    fee_ppm.round().min(f64::from(u32::MAX)) as u32
}

/// Our share of the channel, in [0, 1]. A zero-capacity channel has no
/// meaningful balance, so it counts as balanced (0.5) rather than depleted,
/// which would otherwise trigger scarcity pricing on garbage input.
pub fn local_ratio(local_msat: u64, capacity_msat: u64) -> f64 {
    if capacity_msat == 0 {
        return 0.5;
    }
    (local_msat as f64 / capacity_msat as f64).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_explicit_and_saturating() {
        assert_eq!(round_ppm(149.5), 150);
        assert_eq!(round_ppm(149.49), 149);
        assert_eq!(round_ppm(-3.0), 0);
        assert_eq!(round_ppm(f64::NAN), 0);
        assert_eq!(round_ppm(f64::INFINITY), 0);
        assert_eq!(round_ppm(1e20), u32::MAX);
    }

    #[test]
    fn ratios_stay_in_range_on_odd_channels() {
        assert_eq!(local_ratio(10, 0), 0.5);
        assert_eq!(local_ratio(200, 100), 1.0);
        assert_eq!(local_ratio(25, 100), 0.25);
    }
}
