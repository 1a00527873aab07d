//! The Alpha sequence's rules, one module each, in priority order:
//! congestion → Vegas reflex → scarcity → hill climbing.
//!
//! Invariants:
//! - Each rule is a pure function of its arguments (plus the state it is
//!   handed explicitly); none of them clamps to the fee bounds — that happens
//!   once, in [`crate::decide`], so the decision can tell which rule set the fee.

pub mod congestion;
pub mod hill_climb;
pub mod scarcity;
pub mod vegas;
