//! `sling-except-peer`: the peers sling never routes through.

use super::err;
use crate::network::SimNetwork;
use crate::rpc::SimRpcError;
use secp256k1::PublicKey;
use serde_json::{Value, json};
use std::str::FromStr;

enum Command {
    List,
    Add(String),
    Remove(String),
}

pub(crate) fn sling_except_peer(
    net: &mut SimNetwork,
    params: &Value,
) -> Result<Value, SimRpcError> {
    match parse(params)? {
        Command::List => Ok(json!(net.sling.except_peers)),
        Command::Add(id) => {
            let id = node_id(&id)?;
            if net.sling.except_peers.contains(&id) {
                return Err(err(format!("{id} is already in excepts")));
            }
            if id == net.our_node_id() {
                return Err(err("Can't exclude yourself"));
            }
            let has_job = net.channels.iter().any(|c| {
                c.spec.peer_id == id && net.sling.jobs.contains_key(&c.spec.short_channel_id)
            });
            if has_job {
                return Err(err(
                    "this peer has a job already and can't be an except too",
                ));
            }
            net.sling.except_peers.push(id);
            Ok(json!({"result": "success"}))
        }
        Command::Remove(id) => {
            let id = node_id(&id)?;
            let Some(pos) = net.sling.except_peers.iter().position(|p| *p == id) else {
                return Err(err(format!(
                    "peer `id` {id} not in excepts, nothing to remove"
                )));
            };
            net.sling.except_peers.remove(pos);
            Ok(json!({"result": "success"}))
        }
    }
}

fn parse(params: &Value) -> Result<Command, SimRpcError> {
    match params {
        Value::Array(a) => {
            if a.is_empty() || a.len() > 2 {
                return Err(err(
                    "Invalid amount of arguments. Either provide `add`/`remove` and a peer `id` or just `list`",
                ));
            }
            let Value::String(c) = &a[0] else {
                return Err(err(
                    "Not a string. Use `add`/`remove` and a peer `id` or `list`",
                ));
            };
            match a.get(1) {
                None if c == "list" => Ok(Command::List),
                None => Err(err(
                    "Invalid amount of arguments. Please either provide `add`/`remove` and a peer `id` or just `list`",
                )),
                Some(Value::String(id)) => with_id(c, id.clone()),
                Some(other) => Err(err(format!("node_id is not a string: {other}"))),
            }
        }
        Value::Object(m) => {
            let Some(Value::String(c)) = m.get("command") else {
                return Err(err(
                    "Not a string: Use `add`/`remove` and a peer `id` or just `list`",
                ));
            };
            match m.get("id") {
                None if c == "list" => Ok(Command::List),
                None => Err(err("unknown commmand, use `list` or forgot the peer `id`?")),
                Some(Value::String(id)) => with_id(c, id.clone()),
                // sling prints the Rust debug form of the value it got.
                other => Err(err(format!("not a vaild string for peer `id`: {other:?}"))),
            }
        }
        _ => Err(err(
            "Not a string: Use `add`/`remove` and a peer `id` or just `list`",
        )),
    }
}

fn with_id(command: &str, id: String) -> Result<Command, SimRpcError> {
    match command {
        "add" => Ok(Command::Add(id)),
        "remove" => Ok(Command::Remove(id)),
        _ => Err(err(
            "Unknown commmand. Use `add`/`remove` and a peer `id` or `list`",
        )),
    }
}

/// A node id as sling keeps it: a valid public key, printed lower case.
fn node_id(s: &str) -> Result<String, SimRpcError> {
    PublicKey::from_str(s)
        .map(|k| k.to_string())
        .map_err(|e| err(e.to_string()))
}
