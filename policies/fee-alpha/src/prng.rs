//! Deterministic randomness from the input's `seed` (splitmix64).
//!
//! Invariants:
//! - The same seed always yields the same draw: a policy has no other source
//!   of randomness, which keeps every decision replayable.
//! - Draws are uniform in [0, 1).

/// One splitmix64 output for `seed` (Steele, Lea & Flood 2014). A single
/// round is enough here: the host already hands out a fresh seed per channel
/// per cycle, we only need its bits well mixed.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform draw in [0, 1) from the top 53 bits (an f64's mantissa).
pub fn unit_draw(seed: u64) -> f64 {
    (splitmix64(seed) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_in_range() {
        for seed in [0, 1, 42, u64::MAX] {
            let draw = unit_draw(seed);
            assert_eq!(draw, unit_draw(seed));
            assert!((0.0..1.0).contains(&draw));
        }
    }

    #[test]
    fn draws_spread_over_the_unit_interval() {
        let below_half = (0..1000u64).filter(|&s| unit_draw(s) < 0.5).count();
        assert!((400..600).contains(&below_half), "{below_half}");
    }
}
