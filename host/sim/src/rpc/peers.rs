//! `listpeers`: one entry per peer we have channels with.

use super::SimRpcError;
use super::channels::is_pubkey;
use super::getinfo::INIT_FEATURES;
use super::params::{Params, bad};
use crate::network::SimNetwork;
use serde_json::{Value, json};

pub(crate) fn listpeers(net: &SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    let p = Params::parse(params, &["id", "level"])?;
    let id = p.string("id")?;
    if let Some(id) = id
        && !is_pubkey(id)
    {
        return Err(bad("id", "should be a node id", &json!(id)));
    }
    p.string("level")?;
    let mut peers: Vec<Value> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (i, c) in net.channels.iter().enumerate() {
        let peer = c.spec.peer_id.as_str();
        if seen.contains(&peer) || id.is_some_and(|id| id != peer) {
            continue;
        }
        seen.push(peer);
        let num_channels = net
            .channels
            .iter()
            .filter(|o| o.spec.peer_id == peer)
            .count();
        let connected = net
            .channels
            .iter()
            .any(|o| o.spec.peer_id == peer && o.peer_connected);
        let mut entry = json!({
            "id": peer,
            "connected": connected,
            "num_channels": num_channels,
        });
        if connected {
            entry["netaddr"] = json!([format!("127.0.0.1:{}", 10_000 + i)]);
            entry["features"] = json!(INIT_FEATURES);
        }
        peers.push(entry);
    }
    Ok(json!({ "peers": peers }))
}
