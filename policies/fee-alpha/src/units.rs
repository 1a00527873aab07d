//! Numeric helpers shared by the rules: f64 → ppm rounding, channel ratios and
//! bound sanitising.
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

/// Fee bounds with `floor_ppm <= ceiling_ppm` guaranteed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub floor_ppm: u32,
    pub ceiling_ppm: u32,
}

impl Bounds {
    /// Inverted bounds collapse onto the lower value: a policy should never
    /// price above what the host meant as a ceiling.
    pub fn sanitised(floor_ppm: u32, ceiling_ppm: u32) -> Self {
        if ceiling_ppm < floor_ppm {
            Bounds {
                floor_ppm: ceiling_ppm,
                ceiling_ppm,
            }
        } else {
            Bounds {
                floor_ppm,
                ceiling_ppm,
            }
        }
    }

    pub fn clamp(self, fee_ppm: u32) -> u32 {
        fee_ppm.clamp(self.floor_ppm, self.ceiling_ppm)
    }
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
    fn rounding_is_explicit_and_saturating() {
        assert_eq!(round_ppm(149.5), 150);
        assert_eq!(round_ppm(149.49), 149);
        assert_eq!(round_ppm(-3.0), 0);
        assert_eq!(round_ppm(f64::NAN), 0);
        assert_eq!(round_ppm(f64::INFINITY), 0);
        assert_eq!(round_ppm(1e20), u32::MAX);
    }

    #[test]
    fn inverted_bounds_collapse_to_the_lower_value() {
        let b = Bounds::sanitised(500, 100);
        assert_eq!((b.floor_ppm, b.ceiling_ppm), (100, 100));
        assert_eq!(b.clamp(7), 100);
    }

    #[test]
    fn ratios_stay_in_range_on_odd_channels() {
        assert_eq!(local_ratio(10, 0), 0.5);
        assert_eq!(local_ratio(200, 100), 1.0);
        assert_eq!(htlc_occupancy(5, 0), None);
        assert_eq!(htlc_occupancy(9, 10), Some(0.9));
    }
}
