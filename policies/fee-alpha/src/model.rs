//! The policy's native input and output, mirroring the WIT records
//! `channel-fee-input` and `fee-decision` (package `revops:policy@0.1.0`).
//! The types live in `revops-fee-model`, shared with the other built-in
//! policies; this module re-exports them and names fee-alpha's steps.
//!
//! Invariants:
//! - Every field carries its unit in its name, as in the WIT contract.
//! - Any input value is accepted; [`crate::decide`] copes with all of them.
//! - A decision's `step` is one of [`step`]'s names.

pub use revops_fee_model::{FeeDecision, FeeInput, FlowState, Guidance};

/// The `step` names a decision can carry, in the Alpha sequence's priority order.
pub mod step {
    pub const CONGESTION: &str = "congestion";
    pub const VEGAS_REFLEX: &str = "vegas-reflex";
    pub const SCARCITY: &str = "scarcity";
    pub const HILL_CLIMB: &str = "hill-climb";
    pub const HOLD: &str = "hold";
}
