//! Rule 1, congestion: a channel whose HTLC slots are nearly full is priced at
//! the ceiling, so the remaining slots go to the forwards that pay most.
//!
//! Invariants:
//! - A channel reporting zero slots is never congested by occupancy (unknown,
//!   not infinite); the host's own `congested` flow state still counts.

use crate::model::FlowState;
use crate::units::htlc_occupancy;

/// Occupancy above which the channel counts as congested (reference: 0.8).
pub const CONGESTED_OCCUPANCY: f64 = 0.8;

/// Why the channel is congested.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Congestion {
    /// More than [`CONGESTED_OCCUPANCY`] of the slots are in use.
    Occupancy(f64),
    /// The host classified the channel as congested (its own threshold).
    ReportedByHost,
}

pub fn check(htlcs_in_flight: u32, max_htlcs: u32, flow_state: FlowState) -> Option<Congestion> {
    match htlc_occupancy(htlcs_in_flight, max_htlcs) {
        Some(occupancy) if occupancy > CONGESTED_OCCUPANCY => {
            Some(Congestion::Occupancy(occupancy))
        }
        _ if flow_state == FlowState::Congested => Some(Congestion::ReportedByHost),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn congestion_needs_more_than_eighty_percent_of_slots() {
        assert_eq!(check(8, 10, FlowState::Balanced), None);
        assert_eq!(
            check(9, 10, FlowState::Balanced),
            Some(Congestion::Occupancy(0.9))
        );
        assert_eq!(check(3, 0, FlowState::Sink), None);
        assert_eq!(
            check(0, 0, FlowState::Congested),
            Some(Congestion::ReportedByHost)
        );
    }
}
