//! The fee range a policy decides in, and telling the policy's own fee apart
//! from one someone else set.
//!
//! Invariants:
//! - A [`Bounds`] always has `floor_ppm <= ceiling_ppm`, whatever the input.
//! - [`FeeInput::working_bounds`] lies within the sanitised host bounds:
//!   guidance narrows them, never widens them.

use crate::model::FeeInput;
use crate::units::round_ppm;

/// How far the channel's fee may be from the fee a policy returned last time
/// and still count as the policy's own (host hysteresis can leave a small
/// difference): the larger of these two.
const OWN_FEE_TOLERANCE_PPM: u32 = 5;
const OWN_FEE_TOLERANCE_FRACTION: f64 = 0.10;

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

impl FeeInput {
    /// The range a policy decides in: the host's bounds, narrowed to its
    /// guidance when there is some. Guidance never widens the bounds.
    pub fn working_bounds(&self) -> Bounds {
        let bounds = Bounds::sanitised(self.floor_ppm, self.ceiling_ppm);
        match self.guidance {
            None => bounds,
            Some(guidance) => {
                let floor_ppm = bounds.clamp(guidance.floor_ppm);
                let ceiling_ppm = bounds.clamp(guidance.ceiling_ppm).max(floor_ppm);
                Bounds::sanitised(floor_ppm, ceiling_ppm)
            }
        }
    }
}

/// Whether the channel still carries (about) the fee the policy returned last
/// time: within max(5 ppm, 10 % of it). If not, someone else (the operator,
/// another tool) set the fee, and a policy should follow it.
pub fn is_own_fee(channel_fee_ppm: u32, last_fee_ppm: u32) -> bool {
    let tolerance_ppm = OWN_FEE_TOLERANCE_PPM.max(round_ppm(
        f64::from(last_fee_ppm) * OWN_FEE_TOLERANCE_FRACTION,
    ));
    channel_fee_ppm.abs_diff(last_fee_ppm) <= tolerance_ppm
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Guidance;

    #[test]
    fn inverted_bounds_collapse_to_the_lower_value() {
        let b = Bounds::sanitised(500, 100);
        assert_eq!((b.floor_ppm, b.ceiling_ppm), (100, 100));
        assert_eq!(b.clamp(7), 100);
    }

    #[test]
    fn guidance_narrows_but_never_widens_the_bounds() {
        let mut input = FeeInput {
            floor_ppm: 50,
            ceiling_ppm: 5000,
            ..FeeInput::default()
        };
        assert_eq!(input.working_bounds(), Bounds::sanitised(50, 5000));
        input.guidance = Some(Guidance {
            floor_ppm: 100,
            ceiling_ppm: 900,
            peer_success_ratio: None,
        });
        assert_eq!(input.working_bounds(), Bounds::sanitised(100, 900));
        input.guidance = Some(Guidance {
            floor_ppm: 1,
            ceiling_ppm: 9000,
            peer_success_ratio: None,
        });
        assert_eq!(input.working_bounds(), Bounds::sanitised(50, 5000));
        // A guided ceiling below the guided floor lifts to the floor.
        input.guidance = Some(Guidance {
            floor_ppm: 700,
            ceiling_ppm: 300,
            peer_success_ratio: None,
        });
        assert_eq!(input.working_bounds(), Bounds::sanitised(700, 700));
    }

    #[test]
    fn own_fee_tolerance_is_five_ppm_or_ten_percent() {
        assert!(is_own_fee(105, 100));
        assert!(is_own_fee(110, 100));
        assert!(!is_own_fee(111, 100));
        assert!(is_own_fee(15, 10));
        assert!(!is_own_fee(16, 10));
        assert!(is_own_fee(0, 0));
    }
}
