//! Rule 2, the Vegas reflex: when on-chain feerates spike, opening and closing
//! channels (and rebalancing on-chain) get expensive, so the fee floor is
//! raised until the spike has passed.
//!
//! Unlike the reference implementation, the raised floor is *applied*
//! (DESIGN.md §8: "a Vegas reflex floor that is computed but never applied").
//!
//! Invariants:
//! - Intensity stays within [0, 1]; the floor multiplier within [1, 3].
//! - The raised floor never exceeds the ceiling.
//! - Randomness comes only from the input seed.

use crate::prng::unit_draw;
use crate::units::{Bounds, round_ppm};

/// Spike ratio (current / 24 h average) at which the reflex fires fully.
pub const FULL_SPIKE: f64 = 4.0;
/// Spike ratio from which a feerate counts as a spike at all.
pub const SPIKE: f64 = 2.0;
/// Per-call decay of the intensity once the spike is over.
pub const DECAY_PER_CALL: f64 = 0.85;
/// Largest boost a partial spike adds to the intensity.
const MAX_PARTIAL_BOOST: f64 = 0.3;
/// Below this the reflex has decayed away; snapping to zero keeps the state
/// (and the decisions) from carrying an invisible 0.0001% floor raise forever.
const NEGLIGIBLE_INTENSITY: f64 = 1e-6;

/// The reflex after this call's feerate observation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reflex {
    /// current / average, or `None` when there is no average to compare with.
    pub spike_ratio: Option<f64>,
    /// Intensity in [0, 1] after this call's update.
    pub intensity: f64,
    /// Whether this call saw a spike (≥ [`SPIKE`]).
    pub spiking: bool,
}

impl Reflex {
    /// Floor multiplier = 1 + 2·√intensity, in [1, 3].
    pub fn floor_multiplier(&self) -> f64 {
        1.0 + 2.0 * self.intensity.sqrt()
    }

    /// The floor to apply: `floor × multiplier`, never above the ceiling.
    pub fn raised_floor_ppm(&self, bounds: Bounds) -> u32 {
        let raised_ppm = round_ppm(f64::from(bounds.floor_ppm) * self.floor_multiplier());
        raised_ppm.clamp(bounds.floor_ppm, bounds.ceiling_ppm)
    }
}

/// Updates the reflex from this call's feerates.
///
/// A partial spike (2×..4×) only adds to the intensity when the previous call
/// was also a spike, or by chance (probability half the boost): one noisy
/// feerate reading should rarely move fees.
pub fn update(
    current_perkw: u32,
    average_24h_perkw: u32,
    intensity_before: f64,
    previous_spike: bool,
    seed: u64,
) -> Reflex {
    // No average means no history to call a spike against.
    let spike_ratio =
        (average_24h_perkw > 0).then(|| f64::from(current_perkw) / f64::from(average_24h_perkw));
    let intensity_before = intensity_before.clamp(0.0, 1.0);
    let ratio = spike_ratio.unwrap_or(1.0);

    let (intensity, spiking) = if ratio >= FULL_SPIKE {
        (1.0, true)
    } else if ratio >= SPIKE {
        let boost = MAX_PARTIAL_BOOST * (ratio - SPIKE) / (FULL_SPIKE - SPIKE);
        let boosted = previous_spike || unit_draw(seed) < 0.5 * boost;
        let intensity = if boosted {
            (intensity_before + boost).min(1.0)
        } else {
            intensity_before
        };
        (intensity, true)
    } else {
        let decayed = intensity_before * DECAY_PER_CALL;
        (
            if decayed < NEGLIGIBLE_INTENSITY {
                0.0
            } else {
                decayed
            },
            false,
        )
    };
    Reflex {
        spike_ratio,
        intensity,
        spiking,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds {
        floor_ppm: 100,
        ceiling_ppm: 1000,
    };

    #[test]
    fn a_full_spike_triples_the_floor() {
        let reflex = update(50_000, 10_000, 0.0, false, 7);
        assert_eq!(reflex.intensity, 1.0);
        assert_eq!(reflex.raised_floor_ppm(BOUNDS), 300);
    }

    #[test]
    fn the_raised_floor_never_exceeds_the_ceiling() {
        let reflex = update(50_000, 10_000, 0.0, false, 7);
        let tight = Bounds {
            floor_ppm: 100,
            ceiling_ppm: 150,
        };
        assert_eq!(reflex.raised_floor_ppm(tight), 150);
    }

    #[test]
    fn a_repeated_partial_spike_builds_up() {
        // 3× the average: boost 0.15, applied because the last call spiked too.
        let reflex = update(30_000, 10_000, 0.2, true, 7);
        assert!((reflex.intensity - 0.35).abs() < 1e-12);
        assert!(reflex.spiking);
    }

    #[test]
    fn intensity_decays_after_the_spike_and_eventually_vanishes() {
        let mut reflex = update(50_000, 10_000, 0.0, false, 1);
        reflex = update(10_000, 10_000, reflex.intensity, reflex.spiking, 2);
        assert!((reflex.intensity - 0.85).abs() < 1e-12);
        for seed in 0..200 {
            reflex = update(10_000, 10_000, reflex.intensity, reflex.spiking, seed);
        }
        assert_eq!(reflex.intensity, 0.0);
        assert_eq!(reflex.raised_floor_ppm(BOUNDS), 100);
    }

    #[test]
    fn a_missing_average_is_not_a_spike() {
        let reflex = update(50_000, 0, 0.0, false, 7);
        assert_eq!(reflex.spike_ratio, None);
        assert!(!reflex.spiking);
        assert_eq!(reflex.intensity, 0.0);
    }
}
