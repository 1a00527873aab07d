//! The plain-Rust model the built-in fee policies share: their native input
//! and output ([`FeeInput`], [`FeeDecision`]), mirroring the WIT records of
//! package `revops:policy@0.1.0`, the numeric helpers every policy needs
//! ([`Bounds`], [`round_ppm`], [`local_ratio`]) and the seed-driven PRNG
//! ([`prng`]).
//!
//! Invariants:
//! - Pure data and pure functions: no I/O, no clock, no ambient randomness,
//!   so anything built on it stays deterministic and runs unchanged natively
//!   and in `wasm32-unknown-unknown`.
//! - Total: no function here panics or yields NaN/infinity for any input.
//! - No WIT bindings: they are generated per guest crate; [`fee_policy_guest!`]
//!   writes each crate's conversions to and from these types.

mod bounds;
pub mod codec;
mod guest;
mod model;
pub mod prng;
mod units;

pub use bounds::{Bounds, is_own_fee};
pub use model::{FeeDecision, FeeInput, FlowState, Guidance};
pub use units::{local_ratio, round_ppm};
