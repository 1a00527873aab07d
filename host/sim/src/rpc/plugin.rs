//! `plugin`: only `list` is meaningful in the simulator; the harness appends
//! the plugin under test to the scenario's list.

use super::params::bad;
use super::{PLUGIN_ERROR, SimRpcError};
use crate::network::SimNetwork;
use serde_json::{Value, json};

pub(crate) fn plugin(net: &SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    // `plugin` takes free-form extra options (`plugin start path k=v`), so only
    // the subcommand is read by position and unknown names are tolerated.
    let subcommand = match params {
        Value::Object(m) => m.get("subcommand").cloned(),
        Value::Array(a) => a.first().cloned(),
        _ => None,
    };
    let subcommand = match subcommand {
        Some(Value::String(s)) => s,
        Some(other) => return Err(bad("subcommand", "should be a string", &other)),
        None => {
            return Err(super::params::invalid(
                "missing required parameter: subcommand".to_string(),
            ));
        }
    };
    match subcommand.as_str() {
        "list" => Ok(json!({
            "command": "list",
            "plugins": net.other_plugins.iter().map(|p| json!({
                "name": p.name,
                "active": p.active,
                "dynamic": p.dynamic,
            })).collect::<Vec<_>>(),
        })),
        "start" | "stop" | "startdir" | "rescan" => Err(SimRpcError::new(
            PLUGIN_ERROR,
            format!("The simulated lightningd cannot {subcommand} plugins"),
        )),
        other => Err(bad(
            "subcommand",
            "should be start, stop, rescan, startdir or list",
            &json!(other),
        )),
    }
}
