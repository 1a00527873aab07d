//! What the engine knows about channels, forwards and feerates, independent of
//! how lightningd spells them.

use crate::amount::Msat;
use serde::{Deserialize, Serialize};

/// One of our channels as lightningd reports it now.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChannelSnapshot {
    pub short_channel_id: String,
    pub peer_id: String,
    pub peer_connected: bool,
    /// lightningd's state name, e.g. `CHANNELD_NORMAL`.
    pub state: String,
    pub capacity_msat: Msat,
    /// Our side of the channel (`to_us_msat`).
    pub local_msat: Msat,
    pub fee_base_msat: u32,
    pub fee_ppm: u32,
    pub htlcs_in_flight: u32,
    /// Most HTLCs the channel carries at once (our `max_accepted_htlcs`).
    pub max_htlcs: u32,
}

impl ChannelSnapshot {
    /// Fees can only be set on channels in these states (setchannel's rule).
    pub fn accepts_fee_updates(&self) -> bool {
        matches!(
            self.state.as_str(),
            "CHANNELD_NORMAL" | "CHANNELD_AWAITING_LOCKIN" | "DUALOPEND_AWAITING_LOCKIN"
        )
    }

    pub fn local_ratio(&self) -> f64 {
        self.local_msat.ratio_of(self.capacity_msat)
    }

    pub fn htlc_utilisation(&self) -> f64 {
        if self.max_htlcs == 0 {
            0.0
        } else {
            self.htlcs_in_flight as f64 / self.max_htlcs as f64
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardStatus {
    Offered,
    Settled,
    Failed,
    LocalFailed,
}

impl ForwardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardStatus::Offered => "offered",
            ForwardStatus::Settled => "settled",
            ForwardStatus::Failed => "failed",
            ForwardStatus::LocalFailed => "local_failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "offered" => ForwardStatus::Offered,
            "settled" => ForwardStatus::Settled,
            "failed" => ForwardStatus::Failed,
            "local_failed" => ForwardStatus::LocalFailed,
            _ => return None,
        })
    }
}

/// One entry of `listforwards`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForwardRecord {
    /// lightningd's `created_index`: the cursor for incremental ingestion.
    pub created_index: u64,
    pub in_channel: String,
    pub out_channel: Option<String>,
    pub in_msat: Msat,
    pub out_msat: Option<Msat>,
    pub fee_msat: Option<Msat>,
    pub status: ForwardStatus,
    /// Unix seconds (lightningd reports fractional seconds; we keep whole ones).
    pub received_time: u64,
    pub resolved_time: Option<u64>,
}

/// On-chain feerates, in sat per 1000 weight units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feerates {
    /// The feerate lightningd would use to open a channel now.
    pub opening_perkw: u32,
}

/// One circular payment (a rebalance) as CLN's bookkeeper recorded it: the
/// `type: channel` events of one `payment_id` that bookkeeper marked
/// `is_rebalance`. The destination's account was credited the amount moved;
/// the source's was debited amount + routing fees, so the fee is the
/// difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebalancePayment {
    /// bookkeeper's `payment_id` (the payment hash).
    pub payment_id: String,
    /// The channel whose account was credited, by short channel id.
    pub destination: String,
    /// Credited to the destination: the amount that arrived.
    pub credited_msat: Msat,
    /// Debited from the source account(s): amount + routing fees.
    pub debited_msat: Msat,
    /// Unix seconds of the destination's credit (the latest one, if in parts).
    pub timestamp: u64,
}

impl RebalancePayment {
    /// What the payment cost: debit − credit (never negative).
    pub fn fee_msat(&self) -> Msat {
        self.debited_msat.saturating_sub(self.credited_msat)
    }
}
