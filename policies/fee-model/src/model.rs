//! The policies' native input and output, mirroring the WIT records
//! `channel-fee-input` and `fee-decision` (package `revops:policy@0.1.0`).
//!
//! Invariants:
//! - Every field carries its unit in its name, as in the WIT contract.
//! - These are plain data: any value is accepted (zero capacity, ceiling below
//!   floor, zero feerates); every policy's `decide` copes with all of them.
//! - `state` is the opaque blob the policy returned last time; the host never
//!   interprets it.

/// The host's view of a channel's traffic (WIT `flow-state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowState {
    /// Not enough history to say.
    #[default]
    Unknown,
    /// Our local side fills up.
    Source,
    /// Our local side drains.
    Sink,
    Balanced,
    /// HTLC slots in use above the host's congestion threshold.
    Congested,
}

/// Everything a fee policy may know about one channel (WIT `channel-fee-input`,
/// with `bounds` and `feerates` flattened into `*_ppm` / `*_perkw` fields).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeeInput {
    /// Short channel id, `BLOCKxTXxOUT`.
    pub short_channel_id: String,
    /// The peer's node id (66 hex characters).
    pub peer_id: String,
    /// WIT `now`: unix seconds from the host's (possibly simulated) clock.
    pub now_unix_secs: u64,
    /// Per-channel, per-cycle random seed; the policy's only randomness.
    pub seed: u64,
    pub capacity_msat: u64,
    /// Our spendable side of the channel.
    pub local_msat: u64,
    /// The channel's current proportional fee.
    pub fee_ppm: u32,
    pub fee_base_msat: u32,
    /// HTLCs in flight on the channel, both directions.
    pub htlcs_in_flight: u32,
    /// The most HTLCs the channel can carry at once.
    pub max_htlcs: u32,
    /// Routing fees earned as the outgoing side since the previous decision.
    pub fees_earned_msat: u64,
    /// Amount forwarded out through the channel in the same window.
    pub forwarded_out_msat: u64,
    /// Length of that window; 0 on the first decision for the channel.
    pub window_secs: u64,
    pub flow_state: FlowState,
    /// WIT `bounds.floor-ppm`: the lowest fee the host will apply.
    pub floor_ppm: u32,
    /// WIT `bounds.ceiling-ppm`: the highest fee the host will apply.
    pub ceiling_ppm: u32,
    /// WIT `feerates.current-perkw`: the opening feerate now.
    pub feerate_current_perkw: u32,
    /// WIT `feerates.average-24h-perkw`: the host's 24 h moving average.
    pub feerate_average_24h_perkw: u32,
    /// WIT `guidance`: the host's recommended floor and ceiling; `None`
    /// decides within the bounds alone.
    pub guidance: Option<Guidance>,
    /// The state this policy returned last time, `None` on the first call.
    pub state: Option<Vec<u8>>,
}

/// The parts of WIT `fee-guidance` the built-in policies use.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Guidance {
    /// The host's recommended floor (economic, rebalance-cost and balance
    /// floors with the flow and liquidity multipliers applied).
    pub floor_ppm: u32,
    /// The host's recommended ceiling (profitability and idle decay applied,
    /// lifted above a balance floor).
    pub ceiling_ppm: u32,
    /// Share of the peer's forwards that settled; `None` without data.
    pub peer_success_ratio: Option<f64>,
}

/// A policy's answer for one channel (WIT `fee-decision` without the echoed
/// short channel id, which the guest glue adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeDecision {
    /// The proportional fee the policy wants, always within the input's
    /// (sanitised) `[floor_ppm, ceiling_ppm]`.
    pub fee_ppm: u32,
    /// The rule that determined the fee: one of the policy's `step` names.
    pub step: &'static str,
    /// A sentence with the numbers, for `revenue-fee-debug` and the audit log.
    pub reason: String,
    /// State to hand back next time (at most 4096 bytes).
    pub state: Option<Vec<u8>>,
}
