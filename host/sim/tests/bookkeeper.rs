//! The simulated bookkeeper: present only when the scenario lists it, it
//! answers `bkpr-listaccountevents` in CLN's shape (schema and cln-rpc's
//! typed response) with the simulated sling's settled rebalances, exactly
//! as CLN's bookkeeper books sling's payments (SLING.md).

mod common;

use cln_rpc::model::responses::BkprlistaccounteventsResponse;
use common::schema_errors;
use revops_sim::{BKPR_METHODS, PluginSpec, RebalanceOutcome, Scenario, SimNetwork};
use serde_json::{Value, json};

const METHOD: &str = "bkpr-listaccountevents";
const HOUR_SECS: u64 = 3_600;

fn check(net: &mut SimNetwork, params: Value) -> Vec<Value> {
    let answer = net
        .handle_rpc(METHOD, &params)
        .unwrap_or_else(|e| panic!("{METHOD} {params}: {e}"));
    let errors = schema_errors(METHOD, &answer);
    assert!(
        errors.is_empty(),
        "{METHOD} {params} violates its schema: {errors:#?}"
    );
    if let Err(e) = serde_json::from_value::<BkprlistaccounteventsResponse>(answer.clone()) {
        panic!("{METHOD} {params} does not deserialize into cln-rpc's type: {e}");
    }
    answer["events"].as_array().unwrap().clone()
}

fn channel_id(net: &SimNetwork, scid: &str) -> String {
    net.channel(scid).unwrap().channel_id
}

/// sling and bookkeeper installed; a depleted sink pulled from the idle
/// source for an hour (several settled rebalances, some failed tries).
fn rebalanced(seed: u64) -> (SimNetwork, String, String) {
    let mut scenario = Scenario::default_node(seed).with_sling();
    scenario.other_plugins.push(PluginSpec::bookkeeper());
    let mut net = SimNetwork::new(scenario);
    assert!(net.bookkeeper_present());
    let sink = net
        .channel_by_label("depleting-sink")
        .unwrap()
        .short_channel_id;
    let source = net
        .channel_by_label("saturated-idle-source")
        .unwrap()
        .short_channel_id;
    net.set_local_msat(&sink, 500_000_000).unwrap();
    net.handle_rpc(
        "sling-job",
        &json!({"scid": sink, "direction": "pull", "amount": 200000, "maxppm": 2000,
            "candidates": [source], "target": 0.5}),
    )
    .unwrap();
    net.handle_rpc("sling-go", &json!({"scid": sink})).unwrap();
    net.advance_by(HOUR_SECS);
    (net, sink, source)
}

#[test]
fn events_match_schema_cln_rpc_and_the_sling_log() {
    let (mut net, sink, source) = rebalanced(7);
    let settled: Vec<_> = net
        .rebalances()
        .iter()
        .filter(|r| r.outcome == RebalanceOutcome::Settled)
        .cloned()
        .collect();
    assert!(settled.len() >= 2, "{:?}", net.rebalances());
    let all = check(&mut net, json!({}));
    assert_eq!(all, check(&mut net, json!([])));
    assert_eq!(all.len(), 2 * settled.len());
    let (sink_id, source_id) = (channel_id(&net, &sink), channel_id(&net, &source));
    for (pair, r) in all.chunks(2).zip(&settled) {
        let (credit, debit) = (&pair[0], &pair[1]);
        let ts = r.at_ms / 1000;
        assert_eq!(
            *credit,
            json!({"account": sink_id, "type": "channel", "tag": "invoice",
                "credit_msat": r.amount_msat, "debit_msat": 0, "currency": "bcrt",
                "payment_id": credit["payment_id"], "part_id": 0, "timestamp": ts,
                "is_rebalance": true})
        );
        assert_eq!(
            *debit,
            json!({"account": source_id, "type": "channel", "tag": "invoice",
                "credit_msat": 0, "debit_msat": r.amount_msat + r.fee_msat,
                "fees_msat": r.fee_msat, "currency": "bcrt",
                "payment_id": credit["payment_id"], "part_id": 0, "timestamp": ts,
                "is_rebalance": true})
        );
        assert_eq!(credit["payment_id"].as_str().unwrap().len(), 64);
    }
    // Filters: one account, one payment (upper-case hex accepted, as CLN's).
    let on_sink = check(&mut net, json!({"account": sink_id}));
    assert_eq!(on_sink.len(), settled.len());
    assert!(on_sink.iter().all(|e| e["credit_msat"].as_u64() > Some(0)));
    let on_source = check(&mut net, json!([source_id]));
    assert_eq!(on_source.len(), settled.len());
    let id = all[2]["payment_id"].as_str().unwrap().to_string();
    let one = check(&mut net, json!({"payment_id": id.to_uppercase()}));
    assert_eq!(one, all[2..4].to_vec());
    assert_eq!(check(&mut net, json!([null, id])), one);
    // A known account with nothing booked.
    let idle = net.channel_by_label("balanced-busy-a").unwrap().channel_id;
    assert!(check(&mut net, json!({"account": idle})).is_empty());
    assert!(check(&mut net, json!({"account": "wallet"})).is_empty());
}

#[test]
fn parameters_are_refused_as_bookkeeper_refuses_them() {
    let (mut net, sink, _) = rebalanced(3);
    let sink_id = channel_id(&net, &sink);
    let id = "ab".repeat(32);
    for (params, message) in [
        (
            json!({"account": sink_id, "payment_id": id}),
            "Can only specify one of {account} or {payment_id}".to_string(),
        ),
        (
            json!({"account": "nope"}),
            "Account 'nope' not found".to_string(),
        ),
        (
            json!({"payment_id": "12ab"}),
            "payment_id: should be a 32 byte hex value: invalid token (see logs for details)"
                .to_string(),
        ),
        (json!({"limit": 1}), "unknown parameter: limit".to_string()),
    ] {
        let e = net.handle_rpc(METHOD, &params).unwrap_err();
        assert_eq!((e.code, e.message), (-32602, message), "{params}");
    }
}

#[test]
fn without_bookkeeper_its_methods_are_unknown_commands() {
    let mut plain = SimNetwork::new(Scenario::default_node(1).with_sling());
    let mut inactive_scenario = Scenario::default_node(1);
    let mut spec = PluginSpec::bookkeeper();
    spec.active = false;
    inactive_scenario.other_plugins.push(spec);
    let mut inactive = SimNetwork::new(inactive_scenario);
    for net in [&mut plain, &mut inactive] {
        assert!(!net.bookkeeper_present());
        for method in BKPR_METHODS {
            let e = net.handle_rpc(method, &json!({})).unwrap_err();
            assert_eq!(e.code, -32601);
            assert_eq!(e.message, format!("Unknown command '{method}'"));
            assert_eq!(e.data, None);
        }
    }
    // Listed in `plugin list` as CLN ships it.
    let mut with = SimNetwork::new(Scenario {
        other_plugins: vec![PluginSpec::bookkeeper()],
        ..Scenario::default_node(1)
    });
    let listed = with
        .handle_rpc("plugin", &json!({"subcommand": "list"}))
        .unwrap();
    assert_eq!(
        listed["plugins"],
        json!([{"name": "/usr/local/libexec/plugins/bookkeeper", "active": true, "dynamic": false}])
    );
    // Bookkeeper without sling: nothing was rebalanced, nothing is booked.
    assert!(check(&mut with, json!({})).is_empty());
}
