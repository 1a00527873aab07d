//! `sling-stats`: the job overview (no scid) or one channel's history, as
//! JSON (`json=true`) or as sling's text tables.

use super::{err, parse_scid};
use crate::network::SimNetwork;
use crate::rpc::SimRpcError;
use serde_json::{Value, json};

const BAD_FLAG: &str = "invalid `json` flag, not a bool. Use `true` or `false`";

pub(crate) fn sling_stats(net: &SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    let (scid, as_json) = match params {
        Value::Array(a) if a.len() > 2 => {
            return Err(err(
                "Too many arguments, please only provide `scid` and/or `json`",
            ));
        }
        Value::Array(a) => match (a.first(), a.get(1)) {
            (None, _) => (None, false),
            // A lone bool is the json flag: `[true]` lists as JSON.
            (Some(Value::Bool(b)), None) => (None, *b),
            (Some(Value::String(s)), flag) => (Some(parse_scid(s)?), json_flag(flag)?),
            (Some(_), _) => return Err(err("invalid short_channel_id")),
        },
        // Unknown keys are ignored.
        Value::Object(m) => {
            let scid = match m.get("scid") {
                None => None,
                Some(Value::String(s)) => Some(parse_scid(s)?),
                Some(_) => return Err(err("invalid scid, not a string")),
            };
            (scid, json_flag(m.get("json"))?)
        }
        other => {
            return Err(err(format!(
                "sling-stats: invalid arguments, expected array or object, got: {other}"
            )));
        }
    };
    Ok(match (scid, as_json) {
        (None, true) => Value::Array(net.sling_overview_rows()),
        (None, false) => json!({"format-hint": "simple", "result": net.sling_overview_table()}),
        // An unknown scid is no error: it just has no history.
        (Some(scid), true) => net.sling_scid_stats(&scid),
        (Some(scid), false) => {
            json!({"format-hint": "simple", "result": net.sling_scid_text(&scid)})
        }
    })
}

fn json_flag(v: Option<&Value>) -> Result<bool, SimRpcError> {
    match v {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(err(BAD_FLAG)),
    }
}
