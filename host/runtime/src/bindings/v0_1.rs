//! Bindings for `revops:policy@0.1.x`, world `fee-policy`.
//!
//! Generated from `wit/policy.wit` at the workspace root. Imports are
//! synchronous and infallible (the `log` import cannot trap: the host drops
//! or truncates lines rather than failing the guest).

wasmtime::component::bindgen!({
    world: "fee-policy",
    path: "../../wit",
    // Callers compare decisions (tests, replay) and inputs (caching).
    additional_derives: [PartialEq, Eq],
});

/// The WIT package version these bindings were generated from; guests built
/// against any `0.1.x` are accepted.
pub const WIT_VERSION: &str = "0.1.0";

pub use revops::policy::host::LogLevel;
pub use revops::policy::types::{
    ChannelFeeInput, FeeBounds, FeeDecision, FeerateInfo, FlowState, PolicyMetadata, Role,
};
