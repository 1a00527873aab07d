//! Every answer of the simulated lightningd validates against CLN's JSON
//! schema for that method AND deserializes into cln-rpc 0.7's typed response
//! (which fails on a missing required field).

mod common;

use cln_rpc::model::responses::{
    FeeratesResponse, GetinfoResponse, ListconfigsResponse, ListforwardsResponse,
    ListfundsResponse, ListpeerchannelsResponse, ListpeersResponse, PluginResponse,
    SetchannelResponse,
};
use common::{schema_errors, staged_network};
use revops_sim::{PluginSpec, SimNetwork};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn check<T: DeserializeOwned>(net: &mut SimNetwork, method: &str, params: Value) -> Value {
    let answer = net
        .handle_rpc(method, &params)
        .unwrap_or_else(|e| panic!("{method} {params}: {e}"));
    let errors = schema_errors(method, &answer);
    assert!(
        errors.is_empty(),
        "{method} {params} violates its schema: {errors:#?}"
    );
    if let Err(e) = serde_json::from_value::<T>(answer.clone()) {
        panic!("{method} {params} does not deserialize into cln-rpc's type: {e}");
    }
    answer
}

#[test]
fn getinfo_matches_schema_and_cln_rpc() {
    let mut net = staged_network();
    let v = check::<GetinfoResponse>(&mut net, "getinfo", json!({}));
    assert_eq!(v["num_active_channels"], 7);
    assert_eq!(v["num_inactive_channels"], 1);
    check::<GetinfoResponse>(&mut net, "getinfo", json!([]));
}

#[test]
fn listpeerchannels_matches_schema_and_cln_rpc() {
    let mut net = staged_network();
    let all = check::<ListpeerchannelsResponse>(&mut net, "listpeerchannels", json!({}));
    let channels = all["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 8);
    assert_eq!(channels[4]["htlcs"].as_array().unwrap().len(), 5);
    assert_eq!(channels[1]["state"], "ONCHAIN");
    assert_eq!(channels[5]["peer_connected"], false);
    let peer = channels[2]["peer_id"].as_str().unwrap().to_string();
    let one = check::<ListpeerchannelsResponse>(&mut net, "listpeerchannels", json!([peer]));
    assert_eq!(one["channels"].as_array().unwrap().len(), 1);
    let none = check::<ListpeerchannelsResponse>(
        &mut net,
        "listpeerchannels",
        json!({"id": "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619"}),
    );
    assert_eq!(none["channels"], json!([]));
}

#[test]
fn listforwards_matches_schema_and_cln_rpc_for_every_status() {
    let mut net = staged_network();
    let all = check::<ListforwardsResponse>(&mut net, "listforwards", json!({}));
    let statuses: std::collections::BTreeSet<&str> = all["forwards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        vec!["failed", "local_failed", "settled"]
    );
    for status in ["settled", "failed", "local_failed", "offered"] {
        check::<ListforwardsResponse>(&mut net, "listforwards", json!({"status": status}));
    }
    let page = check::<ListforwardsResponse>(
        &mut net,
        "listforwards",
        json!({"index": "created", "start": 10, "limit": 5}),
    );
    let idx: Vec<u64> = page["forwards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["created_index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, vec![10, 11, 12, 13, 14]);
    let positional = check::<ListforwardsResponse>(
        &mut net,
        "listforwards",
        json!([null, null, null, "updated", 3, 2]),
    );
    assert_eq!(positional["forwards"].as_array().unwrap().len(), 2);
}

#[test]
fn a_missing_required_field_is_caught_by_both_checks() {
    let mut net = staged_network();
    let mut all = net.handle_rpc("listforwards", &json!({})).unwrap();
    all["forwards"][0]
        .as_object_mut()
        .unwrap()
        .remove("created_index");
    assert!(!schema_errors("listforwards", &all).is_empty());
    assert!(serde_json::from_value::<ListforwardsResponse>(all).is_err());

    let mut chans = net.handle_rpc("listpeerchannels", &json!({})).unwrap();
    chans["channels"][0]
        .as_object_mut()
        .unwrap()
        .remove("opener");
    assert!(!schema_errors("listpeerchannels", &chans).is_empty());
}

#[test]
fn feerates_match_schema_and_cln_rpc_in_both_styles() {
    let mut net = staged_network();
    let kw = check::<FeeratesResponse>(&mut net, "feerates", json!({"style": "perkw"}));
    let kb = check::<FeeratesResponse>(&mut net, "feerates", json!(["perkb"]));
    assert_eq!(
        kb["perkb"]["opening"].as_u64().unwrap(),
        4 * kw["perkw"]["opening"].as_u64().unwrap()
    );
    assert!(kw.get("perkb").is_none());
}

#[test]
fn setchannel_matches_schema_and_cln_rpc() {
    let mut net = staged_network();
    let scid = net.channels()[2].short_channel_id.clone();
    let v = check::<SetchannelResponse>(
        &mut net,
        "setchannel",
        json!({"id": scid, "feebase": 0, "feeppm": 555, "htlcmax": "999999999999sat"}),
    );
    assert_eq!(v["channels"][0]["fee_proportional_millionths"], 555);
    assert!(v["channels"][0].get("warning_htlcmax_too_high").is_some());
    let all = check::<SetchannelResponse>(&mut net, "setchannel", json!(["all", null, 100]));
    // The ONCHAIN channel is skipped by `all`.
    assert_eq!(all["channels"].as_array().unwrap().len(), 7);
}

#[test]
fn listfunds_listpeers_plugin_listconfigs_match_schema_and_cln_rpc() {
    let mut net = staged_network();
    check::<ListfundsResponse>(&mut net, "listfunds", json!({}));
    let peers = check::<ListpeersResponse>(&mut net, "listpeers", json!({}));
    assert_eq!(peers["peers"].as_array().unwrap().len(), 8);
    check::<ListconfigsResponse>(&mut net, "listconfigs", json!({}));
    let one = check::<ListconfigsResponse>(&mut net, "listconfigs", json!({"config": "fee-base"}));
    assert_eq!(one["configs"]["fee-base"]["value_int"], 1000);
    let empty = check::<PluginResponse>(&mut net, "plugin", json!(["list"]));
    assert_eq!(empty["plugins"], json!([]));

    let mut scenario = revops_sim::Scenario::default_node(1);
    scenario.other_plugins = vec![PluginSpec::new(
        "/usr/local/libexec/plugins/cln-sling",
        true,
    )];
    let mut with_sling = SimNetwork::new(scenario);
    let listed = check::<PluginResponse>(&mut with_sling, "plugin", json!({"subcommand": "list"}));
    assert_eq!(
        listed["plugins"][0]["name"],
        "/usr/local/libexec/plugins/cln-sling"
    );
}
