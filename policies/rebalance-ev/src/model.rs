//! The scorer's native input and output, mirroring the WIT records
//! `rebalance-channel`, `rebalance-candidate`, `kelly-input` and
//! `rebalance-verdict` of `revops:policy@0.1.1` (units in every name).
//!
//! Invariants:
//! - Plain data, no bindings: the wasm32 glue (`guest`) converts to and from
//!   the generated types, so the model is tested natively.

/// The host's view of a channel's traffic (WIT `flow-state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowState {
    Unknown,
    /// Our side drains: more leaves than arrives.
    Source,
    /// Our side fills up: more arrives than leaves.
    Sink,
    Balanced,
    Congested,
}

/// A destination or source channel (WIT `rebalance-channel`).
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub short_channel_id: String,
    pub peer_id: String,
    pub capacity_msat: u64,
    pub local_msat: u64,
    pub fee_ppm: u32,
    /// EMA of the amount forwarded out per day.
    pub daily_out_msat: u64,
    pub flow_state: FlowState,
}

/// Kelly sizing parameters (WIT `kelly-input`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kelly {
    /// In [0, 1]; out-of-range or NaN values are clamped (NaN → 0).
    pub success_probability: f64,
    /// In (0, 1]; out-of-range values are clamped, NaN means 0.5.
    pub fraction: f64,
}

/// One proposed rebalance (WIT `rebalance-candidate`).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub now_unix_secs: u64,
    pub seed: u64,
    pub destination: Channel,
    pub sources: Vec<Channel>,
    pub amount_msat: u64,
    pub inbound_fee_estimate_ppm: u32,
    pub cooldown_days: f64,
    /// NNLB multiplier, clamped to [0.5, 2.5] (non-finite means 1.0).
    pub health_multiplier: f64,
    pub min_profit_msat: u64,
    pub kelly: Option<Kelly>,
}

/// The scorer's answer (WIT `rebalance-verdict`).
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub accept: bool,
    pub amount_msat: u64,
    pub max_fee_ppm: u32,
    /// Source short channel ids, best first.
    pub sources: Vec<String>,
    pub expected_profit_msat: i64,
    pub reason: String,
}
