//! rebalance-ev, the built-in rebalance scorer of cl-revenue-ops.
//!
//! It implements the reference rebalancer's expected-value model
//! (REFERENCE §1.8): the spread between what the refilled destination earns
//! and what the liquidity costs (inbound routing fee plus the source's
//! opportunity cost), a routing budget and fee cap derived from it, the
//! expected utilisation of the refilled liquidity over the cooldown, the
//! expected income and source loss, and an acceptance threshold scaled by
//! the NNLB health multiplier — plus optional (half-)Kelly sizing of the
//! budget. It is a pure function [`score`]`(&`[`Candidate`]`) -> `[`Verdict`];
//! the same code runs natively (unit tests, the host's native-vs-WASM
//! benchmark) and, compiled for `wasm32-unknown-unknown`, as a component of
//! the WIT world `revops:policy/rebalance-policy` (see `guest`).
//!
//! Invariants:
//! - Deterministic: no clock, no randomness (the candidate's `seed` is not
//!   needed); the same candidate always yields the same verdict.
//! - Total: every candidate yields a verdict that keeps the host's contract
//!   (amount ≤ the proposed amount, sources taken from the candidate's,
//!   distinct, reason ≤ [`MAX_REASON_BYTES`]); nothing panics, whatever the
//!   numbers (zero capacity, zero amount, NaN factors, `u64::MAX`).
//! - A rejected verdict moves nothing: amount 0, max fee 0, no sources.
//! - The wasm32 build imports nothing but `revops:policy/host` (no WASI).

mod ev;
mod kelly;
mod model;
mod score;
mod sources;

#[cfg(target_arch = "wasm32")]
mod guest;

pub use model::{Candidate, Channel, FlowState, Kelly, Verdict};
pub use score::{MAX_REASON_BYTES, score};

/// The policy's name, as reported by `metadata`.
pub const POLICY_NAME: &str = "rebalance-ev";
/// The policy's own version (the crate version).
pub const POLICY_VERSION: &str = env!("CARGO_PKG_VERSION");
/// What `revenue-status` and `revenue-wasm inspect` show operators.
pub const POLICY_DESCRIPTION: &str = "The default rebalance scorer: the reference expected-value \
     model (spread over inbound fee and source opportunity cost, expected utilisation, income \
     minus budget minus source loss against an NNLB-scaled threshold), with optional half-Kelly \
     budget sizing.";
