//! Helpers shared by the sim's integration tests: CLN's schemas made
//! validatable, and a network staged to show every shape.

#![allow(dead_code)]

use revops_sim::{ChannelState, Scenario, SimNetwork};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

/// `<repo>/../shared/cln-fixtures` (shared/ sits beside the work tree, in CI too).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cln-fixtures")
}

/// The `response` part of `schemas/<method>.json`, with CLN's own type names
/// (u64, msat, pubkey, short_channel_id, ...) rewritten into standard JSON
/// Schema so that a generic draft-7 validator checks them, required fields
/// and `additionalProperties` included.
pub fn response_schema(method: &str) -> Value {
    let path = fixtures_dir()
        .join("schemas")
        .join(format!("{method}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    let mut response = schema["response"].clone();
    standardise(&mut response);
    response
}

fn standardise(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(t)) = m.get("type").cloned() {
                rewrite_type(m, &t);
            }
            m.remove("$schema");
            // CLN writes descriptions as arrays of lines; draft 7 wants a string.
            if matches!(m.get("description"), Some(Value::Array(_))) {
                m.remove("description");
            }
            for child in m.values_mut() {
                standardise(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(standardise),
        _ => {}
    }
}

fn rewrite_type(m: &mut Map<String, Value>, t: &str) {
    let hex = |len: Option<usize>| match len {
        Some(n) => format!("^[0-9a-fA-F]{{{n}}}$"),
        None => "^([0-9a-fA-F]{2})*$".to_string(),
    };
    let (ty, extra): (Value, Vec<(&str, Value)>) = match t {
        "u64" | "msat" | "sat" => (json!("integer"), vec![("minimum", json!(0))]),
        "u32" => (
            json!("integer"),
            vec![("minimum", json!(0)), ("maximum", json!(u32::MAX))],
        ),
        "u16" => (
            json!("integer"),
            vec![("minimum", json!(0)), ("maximum", json!(u16::MAX))],
        ),
        "u8" => (
            json!("integer"),
            vec![("minimum", json!(0)), ("maximum", json!(u8::MAX))],
        ),
        "hex" | "signature" | "bip340sig" => (json!("string"), vec![("pattern", json!(hex(None)))]),
        "hash" | "txid" | "secret" => (json!("string"), vec![("pattern", json!(hex(Some(64))))]),
        "pubkey" => (
            json!("string"),
            vec![("pattern", json!("^0[23][0-9a-fA-F]{64}$"))],
        ),
        "short_channel_id" => (
            json!("string"),
            vec![("pattern", json!("^[0-9]+x[0-9]+x[0-9]+$"))],
        ),
        "short_channel_id_dir" => (
            json!("string"),
            vec![("pattern", json!("^[0-9]+x[0-9]+x[0-9]+/[01]$"))],
        ),
        "msat_or_all" | "msat_or_any" | "sat_or_all" => (json!(["integer", "string"]), vec![]),
        "currency" | "outpoint" | "outputdesc" => (json!("string"), vec![]),
        "feerate" => (json!(["integer", "string"]), vec![]),
        _ => return,
    };
    m.insert("type".into(), ty);
    for (k, v) in extra {
        m.insert(k.into(), v);
    }
}

/// Validation errors of `instance` against `method`'s response schema.
pub fn schema_errors(method: &str, instance: &Value) -> Vec<String> {
    let schema = response_schema(method);
    let validator = jsonschema::draft7::new(&schema).expect("schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

/// A network two simulated days in, showing every kind of record: settled,
/// failed and local_failed forwards, a closing channel, a disconnected peer,
/// pinned HTLCs and a fee spike.
pub fn staged_network() -> SimNetwork {
    let mut net = SimNetwork::new(Scenario::default_node(7));
    let start = net.now();
    net.advance_to(start + 2 * 86_400);
    let chans = net.channels();
    net.set_channel_state(&chans[1].short_channel_id, ChannelState::Onchain)
        .unwrap();
    net.set_peer_connected(&chans[5].short_channel_id, false)
        .unwrap();
    net.set_htlcs_in_flight(&chans[4].short_channel_id, 5)
        .unwrap();
    net.spike_feerate(5.0);
    net
}
