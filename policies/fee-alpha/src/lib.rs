//! fee-alpha, the built-in default fee policy of cl-revenue-ops.
//!
//! It implements the reference plugin's Alpha sequence — congestion → Vegas
//! reflex → scarcity → hill climbing — as a pure function
//! [`decide`]`(&`[`FeeInput`]`) -> `[`FeeDecision`]. The same code runs
//! natively (unit tests, the host's native-vs-WASM benchmark) and, compiled
//! for `wasm32-unknown-unknown`, as a component of the WIT world
//! `revops:policy/fee-policy` (see `guest`).
//!
//! Invariants:
//! - Deterministic: no clock, no ambient randomness; the input's `seed` and
//!   saved `state` are the only sources of variation.
//! - Total: every input yields a decision within the sanitised fee bounds,
//!   nothing panics, corrupt state is replaced by a fresh one.
//! - The wasm32 build imports nothing but `revops:policy/host` (no WASI).

mod decide;
mod explain;
mod model;
mod rules;
mod state;
mod units;

/// The seed-driven PRNG, shared with the other built-in policies.
use revops_fee_model::prng;

#[cfg(target_arch = "wasm32")]
mod guest;

pub use decide::decide;
pub use model::{FeeDecision, FeeInput, FlowState, Guidance, step};

/// The policy's name, as reported by `metadata` and selected per peer.
pub const POLICY_NAME: &str = "fee-alpha";
/// The policy's own version (the crate version).
pub const POLICY_VERSION: &str = env!("CARGO_PKG_VERSION");
/// What `revenue-status` and `revenue-wasm inspect` show operators.
pub const POLICY_DESCRIPTION: &str = "The default fee strategy: the Alpha sequence of \
     congestion pricing, the Vegas reflex floor on feerate spikes, scarcity pricing for \
     drained channels, and revenue hill climbing.";
