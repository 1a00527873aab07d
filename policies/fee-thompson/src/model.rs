//! The policy's native input and output, mirroring the WIT records
//! `channel-fee-input` and `fee-decision` (package `revops:policy@0.1.0`).
//! The types live in `revops-fee-model`, shared with the other built-in
//! policies; this module re-exports them and names fee-thompson's steps.
//!
//! Invariants:
//! - Any input value is accepted; [`crate::decide`] copes with all of them.
//! - A decision's `step` is one of [`step`]'s names.

pub use revops_fee_model::{FeeDecision, FeeInput, FlowState, Guidance};

/// The `step` names a decision can carry.
pub mod step {
    /// The host reports the channel congested: the working ceiling.
    pub const CONGESTION: &str = "congestion";
    /// A fee sampled from the posterior (times the AIMD modifier).
    pub const THOMPSON: &str = "thompson";
    /// As `thompson`, on the call where the AIMD modifier was just cut.
    pub const AIMD_DECREASE: &str = "aimd-decrease";
    /// Nothing observed yet (a zero-length window): the fee in force, kept.
    pub const HOLD: &str = "hold";
}
