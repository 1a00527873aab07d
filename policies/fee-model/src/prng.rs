//! Deterministic randomness from the input's `seed` (splitmix64, and
//! Box–Muller for normal draws).
//!
//! Invariants:
//! - The same seed always yields the same draws: a policy has no other source
//!   of randomness, which keeps every decision replayable.
//! - [`unit_draw`] and [`SplitMix64::next_unit`] are uniform in [0, 1);
//!   [`SplitMix64::next_standard_normal`] is always finite.

/// Steele, Lea & Flood's splitmix64 (2014): a 64-bit counter with a strong
/// output mix. The host hands out a fresh seed per channel per cycle, so a
/// policy only needs a few well-mixed draws from it, not a long-period
/// generator.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform draw in [0, 1) from the top 53 bits (an f64's mantissa).
    pub fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box–Muller, cosine branch). Uses two uniform
    /// draws; the first is mapped to (0, 1] so the logarithm stays finite.
    pub fn next_standard_normal(&mut self) -> f64 {
        let radius_draw = 1.0 - self.next_unit();
        let angle_draw = self.next_unit();
        (-2.0 * radius_draw.ln()).sqrt() * (std::f64::consts::TAU * angle_draw).cos()
    }
}

/// The first uniform draw in [0, 1) of a generator seeded with `seed`.
pub fn unit_draw(seed: u64) -> f64 {
    SplitMix64::new(seed).next_unit()
}

/// The first standard normal draw of a generator seeded with `seed`.
pub fn standard_normal(seed: u64) -> f64 {
    SplitMix64::new(seed).next_standard_normal()
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
            assert_eq!(standard_normal(seed), standard_normal(seed));
            assert!(standard_normal(seed).is_finite());
        }
    }

    #[test]
    fn unit_draw_is_the_first_splitmix64_output() {
        // Reference value of splitmix64 seeded with 0 (first output).
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(
            unit_draw(0),
            (0xE220_A839_7B1D_CDAFu64 >> 11) as f64 / (1u64 << 53) as f64
        );
    }

    #[test]
    fn draws_spread_over_the_unit_interval() {
        let below_half = (0..1000u64).filter(|&s| unit_draw(s) < 0.5).count();
        assert!((400..600).contains(&below_half), "{below_half}");
    }

    #[test]
    fn normal_draws_have_about_zero_mean_and_unit_variance() {
        let n = 4000;
        let draws: Vec<f64> = (0..n).map(standard_normal).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let variance = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.06, "{mean}");
        assert!((0.9..1.1).contains(&variance), "{variance}");
    }
}
