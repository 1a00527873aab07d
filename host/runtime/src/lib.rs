//! The policy runtime: the one crate that knows wasmtime.
//!
//! A policy is a WebAssembly component built against `revops:policy@0.1.x`
//! (`wit/policy.wit`) implementing one or more roles: world `fee-policy`,
//! world `rebalance-policy` (since 0.1.1) or both (`all-roles`). This crate
//! loads it ([`PolicyRuntime::load`]: size cap, compile, import check, role
//! discovery, link, metadata check, sha256) and calls it
//! ([`PolicyRuntime::decide_fees`], [`PolicyRuntime::score_rebalances`]:
//! fresh store, fuel, epoch deadline, memory cap, output validation; a role
//! the component lacks is a `missing_role` failure). What a policy may
//! import is the loader's caller's choice ([`Imports`], via
//! [`PolicyRuntime::load_with`]): built-ins only `revops:policy/host`;
//! operator policies also the WASI 0.2 interfaces of a deterministic,
//! capability-free shim (`wasi_shim`), which Python policies need.
//! Failures come back
//! as a [`PolicyFailure`] whose [`FailureKind`] tells out-of-fuel, interrupt,
//! out-of-memory, trap, guest error and invalid output apart, and every call
//! is counted per policy ([`PolicyRuntime::stats`]: calls, failures by kind,
//! fuel percentiles, last error, consecutive failures); what the host does
//! about them (fallbacks, quarantine) is the engine's business.
//!
//! Invariants:
//! - One [`PolicyRuntime`] (one `Engine`, one epoch ticker) per process.
//! - The API is synchronous; async callers use `spawn_blocking`.
//! - Money safety is not here: whatever fee a policy returns, the engine
//!   clamps it.
//!
//! Measured on the built-in `fee-alpha` policy (see [`Limits::default`]):
//! ≈ 1.8k fuel to instantiate and call with
//! no channels, ≈ 6.4k fuel per channel on a first cycle and ≈ 21k in steady
//! state, ≈ 2.3 MiB peak memory for 2,000 channels.

pub mod bindings;
mod cache;
mod call;
mod engine;
mod failure;
mod host_log;
mod imports;
mod limits;
mod load;
mod score;
mod selftest;
mod stats;
mod wasi_shim;

pub use bindings::v0_1::{
    ChannelFeeInput, FeeBounds, FeeDecision, FeeGuidance, FeerateInfo, FlowState, KellyInput,
    LogLevel, PolicyMetadata, RebalanceCandidate, RebalanceChannel, RebalanceVerdict, Role,
    WIT_VERSION,
};
pub use call::{FeeBatch, MAX_REASON_BYTES, MAX_STEP_CHARS};
pub use engine::{EPOCH_TICK_MS, PolicyRuntime, RuntimeError};
pub use failure::{FailureKind, PolicyFailure};
pub use host_log::POLICY_LOG_TARGET;
pub use limits::{Limits, RoleLimits};
pub use load::{
    Imports, LoadError, LoadedPolicy, MAX_COMPONENT_BYTES, MAX_OPERATOR_COMPONENT_BYTES,
};
pub use score::RebalanceBatch;
pub use selftest::{SelfTestFailure, SelfTestReport};
pub use stats::{FUEL_WINDOW, LastError, MAX_LAST_ERROR_BYTES, PolicyStats};
pub use wasi_shim::MONOTONIC_TICK_NS;

#[cfg(test)]
mod tests {
    /// The runtime is shared across `spawn_blocking` threads; its products
    /// cross threads too.
    #[test]
    fn public_types_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::PolicyRuntime>();
        send_sync::<super::LoadedPolicy>();
        send_sync::<super::PolicyFailure>();
        send_sync::<super::LoadError>();
        send_sync::<super::RuntimeError>();
        send_sync::<super::FeeBatch>();
        send_sync::<super::RebalanceBatch>();
        send_sync::<super::PolicyStats>();
    }
}
