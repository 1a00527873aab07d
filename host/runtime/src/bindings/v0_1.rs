//! Bindings for `revops:policy@0.1.x`, world `all-roles` (every role this
//! host calls: `fee-strategy` and, since 0.1.1, `rebalance-scorer`).
//!
//! Generated from `wit/policy.wit` at the workspace root. Imports are
//! synchronous and infallible (the `log` import cannot trap: the host drops
//! or truncates lines rather than failing the guest).
//!
//! Invariants:
//! - One bindgen per API track: the role worlds (`fee-policy`,
//!   `rebalance-policy`) are subsets of `all-roles`, so their types are
//!   shared rather than generated twice.
//! - A component need not export every role: callers use the per-interface
//!   `GuestIndices` (see [`exports`]) for the roles it has, never the
//!   world-level `AllRolesPre`, which would demand them all.
//! - Export and import names are matched semver-compatibly by wasmtime, so a
//!   guest built against `0.1.0` binds to these `0.1.1` bindings.

wasmtime::component::bindgen!({
    world: "all-roles",
    path: "../../wit",
    // Callers compare decisions (tests, replay) and inputs (caching). Not
    // `Eq`: guidance and rebalance candidates carry `f64` factors.
    additional_derives: [PartialEq],
});

/// The WIT package version these bindings were generated from; guests built
/// against any `0.1.x` (0.1.0 included) are accepted.
pub const WIT_VERSION: &str = "0.1.1";

pub use exports::revops::policy::{fee_strategy, metadata, rebalance_scorer};
pub use revops::policy::host::LogLevel;
pub use revops::policy::types::{
    ChannelFeeInput, FeeBounds, FeeDecision, FeeGuidance, FeerateInfo, FlowState, KellyInput,
    PolicyMetadata, RebalanceCandidate, RebalanceChannel, RebalanceVerdict, Role,
};

impl FeeGuidance {
    /// Guidance that adds nothing to `bounds`: floor and ceiling are the
    /// bounds', every multiplier 1.0, nothing measured.
    pub fn neutral(bounds: FeeBounds) -> Self {
        FeeGuidance {
            floor_ppm: bounds.floor_ppm,
            ceiling_ppm: bounds.ceiling_ppm,
            economic_floor_ppm: 0,
            balance_floor_ppm: 0,
            rebalance_cost_floor_ppm: 0,
            flow_multiplier: 1.0,
            liquidity_multiplier: 1.0,
            profitability_multiplier: 1.0,
            idle_multiplier: 1.0,
            idle_secs: 0,
            peer_success_ratio: None,
            marginal_roi: None,
        }
    }
}

impl Role {
    /// The role's WIT name, e.g. `"rebalance-scorer"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::FeeStrategy => "fee-strategy",
            Role::RebalanceScorer => "rebalance-scorer",
            Role::HealthScorer => "health-scorer",
            Role::SpliceGuard => "splice-guard",
        }
    }
}
