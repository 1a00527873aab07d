//! `listforwards` with lightningd's filters and paging rules (forwards.c).

use super::SimRpcError;
use super::params::{Params, bad, invalid};
use super::setchannel::is_scid;
use crate::forwards::ForwardQuery;
use crate::network::SimNetwork;
use revops_core::ForwardStatus;
use serde_json::{Value, json};

const NAMES: &[&str] = &[
    "status",
    "in_channel",
    "out_channel",
    "index",
    "start",
    "limit",
];

pub(crate) fn listforwards(net: &SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    let p = Params::parse(params, NAMES)?;
    let status = match p.string("status")? {
        None => None,
        Some(s) => Some(
            ForwardStatus::parse(s)
                .ok_or_else(|| bad("status", "Unrecognized status", &json!(s)))?,
        ),
    };
    let in_channel = channel_filter(net, &p, "in_channel")?;
    let out_channel = channel_filter(net, &p, "out_channel")?;
    let by_updated = match p.string("index")? {
        None => None,
        Some("created") => Some(false),
        Some("updated") => Some(true),
        Some(other) => {
            return Err(bad(
                "index",
                "should be 'created' or 'updated'",
                &json!(other),
            ));
        }
    };
    let start = p.u64("start")?.unwrap_or(0);
    let limit = p.u32("limit")?;
    if start != 0 && by_updated.is_none() {
        return Err(invalid("Can only specify {start} with {index}".to_string()));
    }
    if limit.is_some() && by_updated.is_none() {
        return Err(invalid("Can only specify {limit} with {index}".to_string()));
    }
    if (in_channel.is_some() || out_channel.is_some()) && start != 0 {
        return Err(invalid(
            "Cannot use start with in_channel or out_channel".to_string(),
        ));
    }
    let q = ForwardQuery {
        status,
        in_channel,
        out_channel,
        by_updated: by_updated.unwrap_or(false),
        start,
        limit: limit.map(u64::from),
    };
    let forwards: Vec<Value> = net
        .forwards
        .query(&q)
        .map(|(index, r)| r.to_json(index, &net.scids))
        .collect();
    Ok(json!({ "forwards": forwards }))
}

/// A scid filter; an unknown (but well-formed) scid matches nothing, as in lightningd.
fn channel_filter(
    net: &SimNetwork,
    p: &Params<'_>,
    name: &str,
) -> Result<Option<u32>, SimRpcError> {
    match p.string(name)? {
        None => Ok(None),
        Some(s) if is_scid(s) => Ok(Some(
            net.by_scid.get(s).map(|&i| i as u32).unwrap_or(u32::MAX),
        )),
        Some(s) => Err(bad(name, "should be a short_channel_id", &json!(s))),
    }
}
