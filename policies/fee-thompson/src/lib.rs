//! fee-thompson, a built-in fee policy of cl-revenue-ops: Gaussian Thompson
//! sampling with an AIMD overlay, after the reference plugin's
//! `GaussianThompsonState` and `AIMDDefenseState`.
//!
//! Per channel it keeps the fees it observed and what each earned (sat/hour),
//! fits a Gaussian posterior over the fee that earns best (prior
//! N(200, 100) ppm; see `posterior`), and samples the next fee from it with
//! the input's `seed`. An AIMD modifier scales the sample: it drops ×0.85
//! after 3 windows without forwards and creeps back +0.02 after 10 windows
//! with some (see `aimd`). A congested channel goes to the ceiling.
//!
//! The same code runs natively (tests) and, compiled for
//! `wasm32-unknown-unknown`, as a component of the WIT world
//! `revops:policy/fee-policy` (see `guest`).
//!
//! Invariants:
//! - Deterministic: no clock, no ambient randomness; the input's `seed`,
//!   `now` and saved `state` are the only sources of variation, so the same
//!   input always yields the same decision.
//! - Total: every input yields a decision within the working range (the
//!   sanitised bounds narrowed to the guidance), nothing panics, corrupt or
//!   foreign state is replaced by a fresh one.
//! - The state never exceeds [`MAX_ENCODED_LEN`] bytes (< 4096): at most
//!   [`MAX_OBSERVATIONS`] observations are kept, the oldest dropped first.
//! - The wasm32 build imports nothing but `revops:policy/host` (no WASI).

mod aimd;
mod decide;
mod explain;
mod model;
mod posterior;
mod state;

#[cfg(target_arch = "wasm32")]
mod guest;

pub use aimd::{Aimd, AimdChange};
pub use decide::{EXPLORE_MODIFIER, decide};
pub use model::{FeeDecision, FeeInput, FlowState, Guidance, step};
pub use posterior::Posterior;
pub use state::{MAX_ENCODED_LEN, MAX_OBSERVATIONS, Observation, STATE_VERSION, ThompsonState};

/// The policy's name, as reported by `metadata` and selected per peer.
pub const POLICY_NAME: &str = "fee-thompson";
/// The policy's own version (the crate version).
pub const POLICY_VERSION: &str = env!("CARGO_PKG_VERSION");
/// What `revenue-status` and `revenue-wasm inspect` show operators.
pub const POLICY_DESCRIPTION: &str = "Gaussian Thompson sampling: each channel's fee is drawn \
     from a posterior over the fees that earned (prior 200 ± 100 ppm, 7-day half-life), \
     scaled by an AIMD modifier that backs off after windows without forwards.";
