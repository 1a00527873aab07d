//! The schema check used by `rpc_shapes` is itself trustworthy: CLN's own
//! recorded responses pass it, and forbidden or malformed fields fail it.

mod common;

use common::{fixtures_dir, schema_errors, staged_network};
use serde_json::{Value, json};

#[test]
fn cln_recorded_examples_pass_the_checker() {
    for method in [
        "getinfo",
        "listpeerchannels",
        "listpeers",
        "listforwards",
        "feerates",
        "setchannel",
        "listfunds",
        "plugin",
        "listconfigs",
    ] {
        let path = fixtures_dir().join(format!("{method}.json"));
        let examples: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for example in examples {
            let errors = schema_errors(method, &example["response"]);
            assert!(
                errors.is_empty(),
                "CLN's own {method} example fails: {errors:#?}"
            );
        }
    }
}

#[test]
fn forbidden_and_malformed_fields_fail_the_checker() {
    let mut net = staged_network();
    let all = net
        .handle_rpc("listforwards", &json!({"status": "local_failed"}))
        .unwrap();
    let mut with_resolution = all.clone();
    with_resolution["forwards"][0]["resolved_time"] = json!(1.0);
    assert!(!schema_errors("listforwards", &with_resolution).is_empty());

    let mut chans = net.handle_rpc("listpeerchannels", &json!({})).unwrap();
    chans["channels"][0]["peer_id"] = json!("not-a-key");
    assert!(!schema_errors("listpeerchannels", &chans).is_empty());

    let mut info = net.handle_rpc("getinfo", &json!({})).unwrap();
    info["blockheight"] = json!(-1);
    assert!(!schema_errors("getinfo", &info).is_empty());
}
