//! `listconfigs`: lightningd's own options that a fee manager cares about, in
//! the v23.08+ `configs` shape (`value_*` + `source`).

use super::SimRpcError;
use super::params::{Params, invalid};
use crate::network::SimNetwork;
use serde_json::{Map, Value, json};

pub(crate) fn listconfigs(net: &SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    let p = Params::parse(params, &["config"])?;
    let wanted = p.string("config")?;
    let all = configs(net);
    let configs = match wanted {
        None => all,
        Some(name) => {
            let v = all
                .get(name)
                .ok_or_else(|| invalid(format!("Unknown config option {name}")))?;
            let mut m = Map::new();
            m.insert(name.to_string(), v.clone());
            m
        }
    };
    Ok(json!({ "configs": configs }))
}

fn configs(net: &SimNetwork) -> Map<String, Value> {
    let dir = &net.lightning_dir;
    let network = &net.network_name;
    let default_str = |v: &str| json!({"value_str": v, "source": "default"});
    let default_int = |v: u64| json!({"value_int": v, "source": "default"});
    let default_bool = |v: bool| json!({"value_bool": v, "source": "default"});
    let flag = |set: bool| json!({"set": set, "source": if set { "cmdline" } else { "default" }});
    let empty_multi = || json!({"values_str": [], "sources": []});
    let entries: Vec<(&str, Value)> = vec![
        (
            "lightning-dir",
            json!({"value_str": dir, "source": "cmdline"}),
        ),
        (
            "network",
            json!({"value_str": network, "source": "cmdline"}),
        ),
        ("mainnet", flag(network == "bitcoin")),
        ("testnet", flag(network == "testnet")),
        ("signet", flag(network == "signet")),
        ("regtest", flag(network == "regtest")),
        ("rpc-file", default_str("lightning-rpc")),
        ("allow-deprecated-apis", default_bool(false)),
        ("plugin", empty_multi()),
        ("plugin-dir", empty_multi()),
        ("clear-plugins", flag(false)),
        ("disable-plugin", empty_multi()),
        ("important-plugin", empty_multi()),
        ("always-use-proxy", default_bool(false)),
        ("daemon", flag(false)),
        ("rgb", default_str(&net.our_node_id[2..8])),
        ("alias", default_str(&net.alias)),
        ("ignore-fee-limits", default_bool(false)),
        ("watchtime-blocks", default_int(144)),
        ("funding-confirms", default_int(3)),
        ("cltv-delta", default_int(34)),
        ("cltv-final", default_int(18)),
        ("commit-time", default_int(10)),
        ("fee-base", default_int(1000)),
        ("rescan", default_int(15)),
        ("fee-per-satoshi", default_int(10)),
        ("max-concurrent-htlcs", default_int(30)),
        (
            "htlc-minimum-msat",
            json!({"value_msat": 0, "source": "default"}),
        ),
        (
            "htlc-maximum-msat",
            json!({"value_msat": u64::MAX, "source": "default"}),
        ),
        (
            "max-dust-htlc-exposure-msat",
            json!({"value_msat": 50_000_000, "source": "default"}),
        ),
        (
            "min-capacity-sat",
            json!({"value_int": 10_000, "source": "default", "dynamic": true}),
        ),
        ("addr", empty_multi()),
        ("bind-addr", empty_multi()),
        ("announce-addr", empty_multi()),
        ("offline", flag(false)),
        ("autolisten", default_bool(true)),
        ("log-level", default_str("info")),
        ("log-timestamps", default_bool(true)),
        ("commit-fee", default_int(100)),
        ("commit-feerate-offset", default_int(5)),
        (
            "min-emergency-msat",
            json!({"value_msat": 25_000_000, "source": "default"}),
        ),
    ];
    entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}
