//! `listpeerchannels`: the method the engine reads most; every field CLN emits
//! for a live channel, with the in-flight HTLC list matching `htlcs_in_flight`.

use super::SimRpcError;
use super::format::iso8601_utc;
use super::params::{Params, bad};
use crate::channel::{ChannelState, SimChannel};
use crate::ids::{Domain, hash_hex, mix64};
use crate::network::SimNetwork;
use serde_json::{Map, Value, json};

/// lightningd's default dust limit (546 sat).
const DUST_LIMIT_MSAT: u64 = 546_000;
/// Mainnet `cltv-delta` default.
const CLTV_EXPIRY_DELTA: u32 = 34;
const TO_SELF_DELAY_BLOCKS: u32 = 144;
/// Weight of an anchor commitment transaction without HTLC outputs.
const COMMITMENT_WEIGHT: u64 = 1_124;

pub(crate) fn listpeerchannels(net: &SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    let p = Params::parse(params, &["id", "short_channel_id", "channel_id"])?;
    let id = p.string("id")?;
    let scid = p.string("short_channel_id")?;
    let channel_id = p.string("channel_id")?;
    if [id.is_some(), scid.is_some(), channel_id.is_some()]
        .iter()
        .filter(|b| **b)
        .count()
        > 1
    {
        return Err(super::params::invalid(
            "Can only specify one of id, short_channel_id or channel_id".to_string(),
        ));
    }
    if let Some(id) = id
        && !is_pubkey(id)
    {
        return Err(bad("id", "should be a node id", &json!(id)));
    }
    let channels: Vec<Value> = net
        .channels
        .iter()
        .filter(|c| id.is_none_or(|id| c.spec.peer_id == id))
        .filter(|c| scid.is_none_or(|s| c.spec.short_channel_id == s || c.alias_local == s))
        .filter(|c| channel_id.is_none_or(|cid| c.channel_id == cid))
        .map(|c| channel_json(net, c))
        .collect();
    Ok(json!({ "channels": channels }))
}

pub(crate) fn is_pubkey(s: &str) -> bool {
    s.len() == 66
        && (s.starts_with("02") || s.starts_with("03"))
        && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn channel_json(net: &SimNetwork, c: &SimChannel) -> Value {
    let now_ms = net.now_ms;
    let perkw = (net.feerate.perkw(now_ms) / 2).max(net.feerate.floor_perkw());
    let reserve = c.reserve_msat();
    let opened_by_us = c.spec.opened_by_us;
    let htlc_max = c.effective_htlc_max_msat();
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("peer_id", json!(c.spec.peer_id));
    put("peer_connected", json!(c.peer_connected));
    if c.peer_connected {
        put("reestablished", json!(true));
    }
    put(
        "channel_type",
        json!({"bits": [12, 22], "names": ["static_remotekey/even", "anchors/even"]}),
    );
    put(
        "updates",
        json!({
            "local": {
                "htlc_minimum_msat": c.htlc_minimum_msat,
                "htlc_maximum_msat": htlc_max,
                "cltv_expiry_delta": CLTV_EXPIRY_DELTA,
                "fee_base_msat": c.fee.base_msat,
                "fee_proportional_millionths": c.fee.ppm,
            },
            // The peer's own policy towards us: we take the market price.
            "remote": {
                "htlc_minimum_msat": 1_000,
                "htlc_maximum_msat": c.carry_limit_msat(),
                "cltv_expiry_delta": CLTV_EXPIRY_DELTA,
                "fee_base_msat": 1_000,
                "fee_proportional_millionths": c.spec.alternatives_fee_ppm,
            },
        }),
    );
    put(
        "last_stable_connection",
        json!(c.state_changes.last().map(|s| s.at_secs).unwrap_or(0)),
    );
    put("state", json!(c.state.as_str()));
    put("scratch_txid", json!(c.scratch_txid));
    put("last_tx_fee_msat", json!(perkw as u64 * COMMITMENT_WEIGHT));
    put("lost_state", json!(false));
    put("feerate", json!({"perkw": perkw, "perkb": perkw * 4}));
    if c.peer_connected
        && let Some(owner) = c.state.owner()
    {
        put("owner", json!(owner));
    }
    put("short_channel_id", json!(c.spec.short_channel_id));
    put(
        "direction",
        json!(if net.our_node_id < c.spec.peer_id {
            0
        } else {
            1
        }),
    );
    put("channel_id", json!(c.channel_id));
    put("funding_txid", json!(c.funding_txid));
    put("funding_outnum", json!(c.funding_outnum));
    put("private", json!(false));
    put(
        "opener",
        json!(if opened_by_us { "local" } else { "remote" }),
    );
    if is_closing(c.state) {
        put("closer", json!("local"));
    }
    put(
        "alias",
        json!({"local": c.alias_local, "remote": c.alias_remote}),
    );
    put(
        "features",
        json!(["option_static_remotekey", "option_anchors"]),
    );
    put(
        "funding",
        json!({
            "local_funds_msat": if opened_by_us { c.capacity_msat } else { 0 },
            "remote_funds_msat": if opened_by_us { 0 } else { c.capacity_msat },
            "pushed_msat": 0,
            "withheld": false,
        }),
    );
    put("to_us_msat", json!(c.local_msat));
    put("min_to_us_msat", json!(c.min_local_msat));
    put("max_to_us_msat", json!(c.max_local_msat));
    put("total_msat", json!(c.capacity_msat));
    put("fee_base_msat", json!(c.fee.base_msat));
    put("fee_proportional_millionths", json!(c.fee.ppm));
    put("dust_limit_msat", json!(DUST_LIMIT_MSAT));
    put("their_max_htlc_value_in_flight_msat", json!(u64::MAX));
    put("our_max_htlc_value_in_flight_msat", json!(u64::MAX));
    put("their_reserve_msat", json!(reserve));
    put("our_reserve_msat", json!(reserve));
    put("spendable_msat", json!(c.spendable_msat().min(htlc_max)));
    put("receivable_msat", json!(c.receivable_msat()));
    put("minimum_htlc_in_msat", json!(0));
    put("minimum_htlc_out_msat", json!(c.htlc_minimum_msat));
    put("maximum_htlc_out_msat", json!(htlc_max));
    put("their_to_self_delay", json!(TO_SELF_DELAY_BLOCKS));
    put("our_to_self_delay", json!(TO_SELF_DELAY_BLOCKS));
    put("max_accepted_htlcs", json!(c.spec.max_accepted_htlcs));
    put("ignore_fee_limits", json!(c.ignore_fee_limits));
    put(
        "state_changes",
        Value::Array(
            c.state_changes
                .iter()
                .map(|s| {
                    json!({
                        "timestamp": iso8601_utc(s.at_secs),
                        "old_state": s.old_state.as_str(),
                        "new_state": s.new_state.as_str(),
                        "cause": s.cause,
                        "message": s.message,
                    })
                })
                .collect(),
        ),
    );
    put("status", json!([status_line(c)]));
    put("in_payments_offered", json!(c.incoming.offered));
    put("in_offered_msat", json!(c.incoming.offered_msat));
    put("in_payments_fulfilled", json!(c.incoming.fulfilled));
    put("in_fulfilled_msat", json!(c.incoming.fulfilled_msat));
    put("out_payments_offered", json!(c.outgoing.offered));
    put("out_offered_msat", json!(c.outgoing.offered_msat));
    put("out_payments_fulfilled", json!(c.outgoing.fulfilled));
    put("out_fulfilled_msat", json!(c.outgoing.fulfilled_msat));
    put("htlcs", Value::Array(htlcs_json(net, c)));
    Value::Object(m)
}

fn is_closing(state: ChannelState) -> bool {
    matches!(
        state,
        ChannelState::ChanneldShuttingDown
            | ChannelState::ClosingdSigexchange
            | ChannelState::ClosingdComplete
            | ChannelState::AwaitingUnilateral
            | ChannelState::FundingSpendSeen
            | ChannelState::Onchain
            | ChannelState::Closed
    )
}

fn status_line(c: &SimChannel) -> String {
    let state = c.state.as_str();
    match (c.state, c.peer_connected) {
        (ChannelState::ChanneldNormal, true) => format!("{state}:Channel ready for use."),
        (_, false) => format!("{state}:Peer is not connected."),
        _ => format!("{state}:Simulated state."),
    }
}

/// The background HTLCs in flight: deterministic in (seed, channel, generation).
fn htlcs_json(net: &SimNetwork, c: &SimChannel) -> Vec<Value> {
    let index = net.by_scid[&c.spec.short_channel_id] as u64;
    let height = net.blockheight();
    (0..c.htlcs_in_flight as u64)
        .map(|k| {
            let key = mix64(index ^ mix64(c.htlc_generation ^ mix64(k)));
            let outgoing = key & 1 == 0;
            json!({
                "direction": if outgoing { "out" } else { "in" },
                "id": if outgoing { c.next_out_htlc_id + k } else { c.next_in_htlc_id + k },
                "amount_msat": 1_000_000 + (key >> 8) % 49_000_000,
                "expiry": height + 40 + ((key >> 40) % 100) as u32,
                "payment_hash": hash_hex(net.seed, Domain::PaymentHash, key),
                "state": if outgoing { "SENT_ADD_ACK_REVOCATION" } else { "RCVD_ADD_ACK_REVOCATION" },
            })
        })
        .collect()
}
