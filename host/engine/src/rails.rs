//! The host's money rails for fees: whatever a policy proposes, this decides
//! what may be sent to lightningd. Pure functions, unit-tested here.

use serde::Serialize;

/// The fee range for one channel after global and per-peer bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bounds {
    pub floor_ppm: u32,
    pub ceiling_ppm: u32,
}

impl Bounds {
    /// Per-peer bounds replace the node's where given; the ceiling never
    /// drops below the floor.
    pub fn resolve(
        node_min_ppm: u32,
        node_max_ppm: u32,
        peer_min_ppm: Option<u32>,
        peer_max_ppm: Option<u32>,
    ) -> Bounds {
        let floor_ppm = peer_min_ppm.unwrap_or(node_min_ppm);
        let ceiling_ppm = peer_max_ppm.unwrap_or(node_max_ppm).max(floor_ppm);
        Bounds {
            floor_ppm,
            ceiling_ppm,
        }
    }

    pub fn clamp(self, fee_ppm: u32) -> u32 {
        fee_ppm.clamp(self.floor_ppm, self.ceiling_ppm)
    }

    pub fn contains(self, fee_ppm: u32) -> bool {
        (self.floor_ppm..=self.ceiling_ppm).contains(&fee_ppm)
    }
}

/// What the rails allow for one proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Send `target_ppm`.
    Send,
    /// The clamped target equals the current fee: nothing to do.
    Unchanged,
    /// The change is below the hysteresis threshold.
    Hysteresis,
    /// The channel has had its share of broadcasts in the last 24 h.
    RateLimited,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RailDecision {
    pub target_ppm: u32,
    pub verdict: Verdict,
}

pub struct RailInput {
    pub current_ppm: u32,
    pub proposed_ppm: u32,
    pub bounds: Bounds,
    pub broadcasts_last_24h: u32,
    pub max_broadcasts_per_day: u32,
    pub hysteresis_fraction: f64,
    /// Operator intent (static policies) is exempt from hysteresis, not from
    /// the broadcast limit.
    pub apply_hysteresis: bool,
}

pub fn decide(input: &RailInput) -> RailDecision {
    let target_ppm = input.bounds.clamp(input.proposed_ppm);
    let verdict = if target_ppm == input.current_ppm {
        Verdict::Unchanged
    } else if input.apply_hysteresis
        && !crosses_bounds(input.current_ppm, input.bounds)
        && below_hysteresis(input.current_ppm, target_ppm, input.hysteresis_fraction)
    {
        Verdict::Hysteresis
    } else if input.broadcasts_last_24h >= input.max_broadcasts_per_day {
        Verdict::RateLimited
    } else {
        Verdict::Send
    };
    RailDecision {
        target_ppm,
        verdict,
    }
}

/// A current fee outside the bounds is always corrected, however small the step.
fn crosses_bounds(current_ppm: u32, bounds: Bounds) -> bool {
    !bounds.contains(current_ppm)
}

fn below_hysteresis(current_ppm: u32, target_ppm: u32, fraction: f64) -> bool {
    let delta = current_ppm.abs_diff(target_ppm) as f64;
    delta <= fraction * current_ppm.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(current: u32, proposed: u32) -> RailInput {
        RailInput {
            current_ppm: current,
            proposed_ppm: proposed,
            bounds: Bounds {
                floor_ppm: 10,
                ceiling_ppm: 5000,
            },
            broadcasts_last_24h: 0,
            max_broadcasts_per_day: 4,
            hysteresis_fraction: 0.05,
            apply_hysteresis: true,
        }
    }

    #[test]
    fn proposals_are_clamped_to_the_bounds() {
        let d = decide(&input(100, 9_999));
        assert_eq!((d.target_ppm, d.verdict), (5000, Verdict::Send));
        let d = decide(&input(100, 0));
        assert_eq!((d.target_ppm, d.verdict), (10, Verdict::Send));
    }

    #[test]
    fn small_changes_are_held_back() {
        assert_eq!(decide(&input(1000, 1040)).verdict, Verdict::Hysteresis);
        assert_eq!(decide(&input(1000, 1050)).verdict, Verdict::Hysteresis);
        assert_eq!(decide(&input(1000, 1051)).verdict, Verdict::Send);
        let mut exempt = input(1000, 1040);
        exempt.apply_hysteresis = false;
        assert_eq!(decide(&exempt).verdict, Verdict::Send);
    }

    #[test]
    fn a_fee_outside_the_bounds_is_always_corrected() {
        // Current 5 ppm is under the 10 ppm floor: fixed even though the step is tiny.
        assert_eq!(decide(&input(5, 5)).verdict, Verdict::Send);
        assert_eq!(decide(&input(5, 5)).target_ppm, 10);
    }

    #[test]
    fn unchanged_fees_send_nothing() {
        assert_eq!(decide(&input(300, 300)).verdict, Verdict::Unchanged);
    }

    #[test]
    fn broadcasts_are_rate_limited() {
        let mut i = input(100, 500);
        i.broadcasts_last_24h = 4;
        assert_eq!(decide(&i).verdict, Verdict::RateLimited);
    }

    #[test]
    fn peer_bounds_replace_node_bounds_and_never_invert() {
        assert_eq!(
            Bounds::resolve(10, 5000, Some(100), None),
            Bounds {
                floor_ppm: 100,
                ceiling_ppm: 5000
            }
        );
        assert_eq!(
            Bounds::resolve(10, 5000, Some(6000), None),
            Bounds {
                floor_ppm: 6000,
                ceiling_ppm: 6000
            }
        );
    }
}
