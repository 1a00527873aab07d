//! `listfunds`: the wallet's confirmed outputs and our side of every channel.

use super::SimRpcError;
use super::params::Params;
use crate::network::SimNetwork;
use serde_json::{Value, json};

pub(crate) fn listfunds(net: &SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    let p = Params::parse(params, &["spent"])?;
    p.bool("spent")?;
    let outputs: Vec<Value> = net
        .wallet
        .iter()
        .map(|o| {
            json!({
                "txid": o.txid,
                "output": o.output,
                "amount_msat": o.amount_msat,
                "scriptpubkey": o.scriptpubkey,
                "status": "confirmed",
                "blockheight": o.blockheight,
                "reserved": false,
            })
        })
        .collect();
    let channels: Vec<Value> = net
        .channels
        .iter()
        .map(|c| {
            json!({
                "peer_id": c.spec.peer_id,
                "connected": c.peer_connected,
                "state": c.state.as_str(),
                "channel_id": c.channel_id,
                "short_channel_id": c.spec.short_channel_id,
                "our_amount_msat": c.local_msat,
                "amount_msat": c.capacity_msat,
                "funding_txid": c.funding_txid,
                "funding_output": c.funding_outnum,
            })
        })
        .collect();
    Ok(json!({ "outputs": outputs, "channels": channels }))
}
