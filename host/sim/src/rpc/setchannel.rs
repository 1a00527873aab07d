//! `setchannel`: the one state-changing method; mirrors lightningd's
//! `json_setchannel` / `set_channel_config` (peer_control.c).
//!
//! Invariants:
//! - The id resolves as lightningd does: `all`, a peer id (its channels in a
//!   settable state, else -1), a channel id or scid (unknown → -32602, wrong
//!   state → -32602 "Channel in state ..."), anything else → -32602.
//! - Raising a fee (or the htlc minimum, or lowering the maximum) keeps the old
//!   schedule valid for `enforcedelay` seconds (default 600); a decrease applies at once.

use super::SimRpcError;
use super::channels::is_pubkey;
use super::params::{Params, bad};
use crate::channel::FeeSchedule;
use crate::network::SimNetwork;
use serde_json::{Map, Value, json};

const NAMES: &[&str] = &[
    "id",
    "feebase",
    "feeppm",
    "htlcmin",
    "htlcmax",
    "enforcedelay",
    "ignorefeelimits",
];
const DEFAULT_ENFORCE_DELAY_SECS: u32 = 600;

struct Changes {
    feebase: Option<u32>,
    feeppm: Option<u32>,
    htlcmin: Option<u64>,
    htlcmax: Option<u64>,
    enforcedelay_secs: u32,
    ignorefeelimits: Option<bool>,
}

/// Applies the call; returns the response and the scids it changed.
pub(crate) fn setchannel(
    net: &mut SimNetwork,
    params: &Value,
) -> Result<(Value, Vec<String>), SimRpcError> {
    let p = Params::parse(params, NAMES)?;
    let id_value = p.required("id")?;
    let id = p.string("id")?.unwrap_or_default();
    let feebase = match p.msat("feebase")? {
        Some(v) => Some(u32::try_from(v).map_err(|_| bad("feebase", "exceeds u32 max", id_value))?),
        None => None,
    };
    let changes = Changes {
        feebase,
        feeppm: p.u32("feeppm")?,
        htlcmin: p.msat("htlcmin")?,
        htlcmax: p.msat("htlcmax")?,
        enforcedelay_secs: p.u32("enforcedelay")?.unwrap_or(DEFAULT_ENFORCE_DELAY_SECS),
        ignorefeelimits: p.bool("ignorefeelimits")?,
    };
    let targets = resolve(net, id, id_value)?;
    if let (Some(min), Some(max)) = (changes.htlcmin, changes.htlcmax)
        && max < min
    {
        return Err(SimRpcError::new(
            super::LIGHTNINGD,
            "htlcmax cannot be less than htlcmin",
        ));
    }
    let mut entries = Vec::with_capacity(targets.len());
    let mut scids = Vec::with_capacity(targets.len());
    for i in targets {
        entries.push(apply(net, i, &changes));
        scids.push(net.channels[i].spec.short_channel_id.clone());
        net.refresh_weights(i);
    }
    Ok((json!({ "channels": entries }), scids))
}

fn resolve(net: &SimNetwork, id: &str, token: &Value) -> Result<Vec<usize>, SimRpcError> {
    let settable = |i: &usize| net.channels[*i].state.can_set_fees();
    if id == "all" {
        return Ok((0..net.channels.len()).filter(settable).collect());
    }
    let of_peer: Vec<usize> = (0..net.channels.len())
        .filter(|&i| net.channels[i].spec.peer_id == id)
        .collect();
    if is_pubkey(id) && !of_peer.is_empty() {
        let active: Vec<usize> = of_peer.into_iter().filter(settable).collect();
        if active.is_empty() {
            return Err(SimRpcError::new(
                super::LIGHTNINGD,
                "Could not find any active channels of peer with that id",
            ));
        }
        return Ok(active);
    }
    let found = if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        net.channels
            .iter()
            .position(|c| c.channel_id == id)
            .ok_or_else(|| bad("id", "Channel id not found", token))?
    } else if is_scid(id) {
        net.channels
            .iter()
            .position(|c| c.spec.short_channel_id == id || c.alias_local == id)
            .ok_or_else(|| bad("id", "Short channel id not found", token))?
    } else {
        return Err(bad(
            "id",
            "should be a channel ID or short channel ID",
            token,
        ));
    };
    let state = net.channels[found].state;
    if !state.can_set_fees() {
        return Err(bad("id", &format!("Channel in state {state}"), token));
    }
    Ok(vec![found])
}

pub(crate) fn is_scid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('x').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn apply(net: &mut SimNetwork, i: usize, ch: &Changes) -> Value {
    let now_ms = net.now_ms;
    let c = &mut net.channels[i];
    let old = c.fee;
    let tightens = ch.feebase.is_some_and(|b| b > old.base_msat)
        || ch.feeppm.is_some_and(|p| p > old.ppm)
        || ch.htlcmin.is_some_and(|m| m > c.htlc_minimum_msat)
        || ch.htlcmax.is_some_and(|m| m < c.effective_htlc_max_msat());
    if tightens {
        c.previous_fee = Some(old);
        c.enforce_until_ms = now_ms + ch.enforcedelay_secs as u64 * 1000;
    }
    c.fee = FeeSchedule {
        base_msat: ch.feebase.unwrap_or(old.base_msat),
        ppm: ch.feeppm.unwrap_or(old.ppm),
    };
    if let Some(min) = ch.htlcmin {
        c.htlc_minimum_msat = min;
    }
    let mut warn_max = false;
    if let Some(max) = ch.htlcmax {
        warn_max = max > c.carry_limit_msat();
        c.htlc_maximum_msat = Some(max.min(c.carry_limit_msat()));
    }
    if let Some(ignore) = ch.ignorefeelimits {
        c.ignore_fee_limits = ignore;
    }
    let mut m = Map::new();
    m.insert("peer_id".into(), json!(c.spec.peer_id));
    m.insert("channel_id".into(), json!(c.channel_id));
    m.insert("short_channel_id".into(), json!(c.spec.short_channel_id));
    m.insert("fee_base_msat".into(), json!(c.fee.base_msat));
    m.insert("fee_proportional_millionths".into(), json!(c.fee.ppm));
    m.insert("minimum_htlc_out_msat".into(), json!(c.htlc_minimum_msat));
    m.insert(
        "maximum_htlc_out_msat".into(),
        json!(c.effective_htlc_max_msat()),
    );
    m.insert("ignore_fee_limits".into(), json!(c.ignore_fee_limits));
    if warn_max {
        m.insert(
            "warning_htlcmax_too_high".into(),
            json!("Set maximum_htlc_out_msat to maximum possible in channel"),
        );
    }
    Value::Object(m)
}
