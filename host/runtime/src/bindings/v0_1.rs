//! Bindings for `revops:policy@0.1.x`, world `fee-policy`.
//!
//! Generated from `wit/policy.wit` at the workspace root. Imports are
//! synchronous and infallible (the `log` import cannot trap: the host drops
//! or truncates lines rather than failing the guest).

wasmtime::component::bindgen!({
    world: "fee-policy",
    path: "../../wit",
    // Callers compare decisions (tests, replay) and inputs (caching). Not
    // `Eq`: guidance carries `f64` factors.
    additional_derives: [PartialEq],
});

/// The WIT package version these bindings were generated from; guests built
/// against any `0.1.x` are accepted.
pub const WIT_VERSION: &str = "0.1.0";

pub use revops::policy::host::LogLevel;
pub use revops::policy::types::{
    ChannelFeeInput, FeeBounds, FeeDecision, FeeGuidance, FeerateInfo, FlowState, PolicyMetadata,
    Role,
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
