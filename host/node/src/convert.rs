//! cln-rpc's generated response types → the engine's domain types.
//!
//! Invariant: a channel without a short channel id (not yet confirmed) is
//! skipped, because fees cannot be set on it by scid and it forwards nothing.

use cln_rpc::model::responses::{
    FeeratesResponse, ListforwardsForwards, ListforwardsForwardsStatus, ListfundsOutputsStatus,
    ListfundsResponse, ListpeerchannelsResponse, PluginResponse,
};
use revops_core::{ChannelSnapshot, Feerates, ForwardRecord, ForwardStatus, Msat};

/// Fallback when lightningd has no opening estimate yet (its own floor).
const FALLBACK_OPENING_PERKW: u32 = 253;

pub fn channels(resp: ListpeerchannelsResponse) -> Vec<ChannelSnapshot> {
    resp.channels
        .into_iter()
        .filter_map(|c| {
            let scid = c.short_channel_id?;
            let state = serde_json::to_value(c.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "UNKNOWN".to_string());
            Some(ChannelSnapshot {
                short_channel_id: scid.to_string(),
                peer_id: c.peer_id.to_string(),
                peer_connected: c.peer_connected,
                state,
                capacity_msat: Msat(c.total_msat.map(|a| a.msat()).unwrap_or(0)),
                local_msat: Msat(c.to_us_msat.map(|a| a.msat()).unwrap_or(0)),
                fee_base_msat: c
                    .fee_base_msat
                    .map(|a| u32::try_from(a.msat()).unwrap_or(u32::MAX))
                    .unwrap_or(0),
                fee_ppm: c.fee_proportional_millionths.unwrap_or(0),
                htlcs_in_flight: c
                    .htlcs
                    .as_ref()
                    .map(|h| u32::try_from(h.len()).unwrap_or(u32::MAX))
                    .unwrap_or(0),
                max_htlcs: c.max_accepted_htlcs.unwrap_or(0),
            })
        })
        .collect()
}

pub fn forward(f: ListforwardsForwards) -> ForwardRecord {
    let status = match f.status {
        ListforwardsForwardsStatus::OFFERED => ForwardStatus::Offered,
        ListforwardsForwardsStatus::SETTLED => ForwardStatus::Settled,
        ListforwardsForwardsStatus::FAILED => ForwardStatus::Failed,
        ListforwardsForwardsStatus::LOCAL_FAILED => ForwardStatus::LocalFailed,
    };
    ForwardRecord {
        created_index: f.created_index,
        in_channel: f.in_channel.to_string(),
        out_channel: f.out_channel.map(|s| s.to_string()),
        in_msat: Msat(f.in_msat.msat()),
        out_msat: f.out_msat.map(|a| Msat(a.msat())),
        fee_msat: f.fee_msat.map(|a| Msat(a.msat())),
        status,
        received_time: seconds(f.received_time),
        resolved_time: f.resolved_time.map(seconds),
    }
}

pub fn feerates(resp: FeeratesResponse) -> Feerates {
    let opening_perkw = resp
        .perkw
        .as_ref()
        .and_then(|p| p.opening.or(p.mutual_close).or(Some(p.floor)))
        .unwrap_or(FALLBACK_OPENING_PERKW);
    Feerates { opening_perkw }
}

/// The plugins' paths from `plugin list`.
/// Confirmed outputs not reserved for a pending transaction, in sat.
pub fn confirmed_onchain_sat(resp: &ListfundsResponse) -> u64 {
    resp.outputs
        .iter()
        .filter(|o| o.status == ListfundsOutputsStatus::CONFIRMED && !o.reserved)
        .map(|o| o.amount_msat.msat() / 1000)
        .sum()
}

pub fn plugin_names(resp: PluginResponse) -> Vec<String> {
    resp.plugins
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.name)
        .collect()
}

fn seconds(t: f64) -> u64 {
    if t.is_finite() && t > 0.0 {
        t as u64
    } else {
        0
    }
}
