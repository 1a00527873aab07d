//! `getinfo`.

use super::params::Params;
use super::{SIM_LIGHTNINGD_VERSION, SimRpcError};
use crate::network::SimNetwork;
use serde_json::{Value, json};

/// lightningd's feature bits as recorded in the fixtures (CLN's own example data).
pub(crate) const INIT_FEATURES: &str = "800898882a8a59a1";
pub(crate) const NODE_FEATURES: &str = "808898882a8a59a1";
pub(crate) const INVOICE_FEATURES: &str = "02000002024100";

pub(crate) fn getinfo(net: &SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    Params::parse(params, &[])?;
    let mut peers: Vec<&str> = net
        .channels
        .iter()
        .map(|c| c.spec.peer_id.as_str())
        .collect();
    peers.sort_unstable();
    peers.dedup();
    let count = |f: fn(crate::channel::ChannelState) -> bool| {
        net.channels.iter().filter(|c| f(c.state)).count()
    };
    let pending = count(|s| s.is_pending());
    let active = count(|s| s.is_active());
    let inactive = net.channels.len() - pending - active;
    let fees_collected_msat = net.history_fees_msat + net.total_fees_earned_msat();
    Ok(json!({
        "id": net.our_node_id,
        "alias": net.alias,
        "color": &net.our_node_id[2..8],
        "num_peers": peers.len(),
        "num_pending_channels": pending,
        "num_active_channels": active,
        "num_inactive_channels": inactive,
        "address": [],
        "binding": [{"type": "ipv4", "address": "127.0.0.1", "port": 9735}],
        "version": SIM_LIGHTNINGD_VERSION,
        "blockheight": net.blockheight(),
        "network": net.network_name,
        "fees_collected_msat": fees_collected_msat,
        "lightning-dir": net.lightning_dir,
        "our_features": {
            "init": INIT_FEATURES,
            "node": NODE_FEATURES,
            "channel": "",
            "invoice": INVOICE_FEATURES,
        },
    }))
}
