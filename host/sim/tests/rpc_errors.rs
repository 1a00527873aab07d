//! Errors come back with lightningd's codes and wording.

use revops_sim::{ChannelState, Scenario, SimNetwork};
use serde_json::json;

fn net() -> SimNetwork {
    SimNetwork::new(Scenario::default_node(3))
}

#[test]
fn unknown_method_is_32601() {
    let e = net().handle_rpc("frobnicate", &json!({})).unwrap_err();
    assert_eq!(e.code, -32601);
    assert_eq!(e.message, "Unknown command 'frobnicate'");
}

#[test]
fn setchannel_errors_follow_lightningd() {
    let mut n = net();
    let unknown = n
        .handle_rpc("setchannel", &json!({"id": "1x2x3", "feeppm": 5}))
        .unwrap_err();
    assert_eq!(unknown.code, -32602);
    let garbage = n
        .handle_rpc("setchannel", &json!({"id": "nope"}))
        .unwrap_err();
    assert_eq!(garbage.code, -32602);
    let missing = n.handle_rpc("setchannel", &json!({})).unwrap_err();
    assert_eq!(missing.message, "missing required parameter: id");

    let c = n.channels()[0].clone();
    n.set_channel_state(&c.short_channel_id, ChannelState::Onchain)
        .unwrap();
    let wrong_state = n
        .handle_rpc("setchannel", &json!([c.short_channel_id, null, 10]))
        .unwrap_err();
    assert_eq!(wrong_state.code, -32602);
    assert!(wrong_state.message.contains("Channel in state ONCHAIN"));
    let by_peer = n
        .handle_rpc("setchannel", &json!({"id": c.peer_id, "feeppm": 10}))
        .unwrap_err();
    assert_eq!(by_peer.code, -1);

    let inverted = n
        .handle_rpc(
            "setchannel",
            &json!({"id": "all", "htlcmin": 10_000, "htlcmax": 5_000}),
        )
        .unwrap_err();
    assert_eq!(inverted.code, -1);
    // Every call is logged, failures included.
    assert_eq!(n.setchannel_calls().len(), 6);
    assert!(n.setchannel_calls().iter().all(|c| c.outcome.is_err()));
}

#[test]
fn listforwards_paging_rules_follow_lightningd() {
    let mut n = net();
    let e = n
        .handle_rpc("listforwards", &json!({"start": 5}))
        .unwrap_err();
    assert_eq!(e.message, "Can only specify {start} with {index}");
    let e = n
        .handle_rpc("listforwards", &json!({"limit": 5}))
        .unwrap_err();
    assert_eq!(e.message, "Can only specify {limit} with {index}");
    let e = n
        .handle_rpc("listforwards", &json!({"status": "weird"}))
        .unwrap_err();
    assert_eq!(e.code, -32602);
}

#[test]
fn feerates_requires_a_style() {
    let mut n = net();
    assert_eq!(
        n.handle_rpc("feerates", &json!({})).unwrap_err().code,
        -32602
    );
    assert_eq!(
        n.handle_rpc("feerates", &json!({"style": "perfoo"}))
            .unwrap_err()
            .code,
        -32602
    );
}

#[test]
fn setchannel_by_channel_id_and_peer_id_apply() {
    let mut n = net();
    let c = n.channels()[3].clone();
    n.handle_rpc("setchannel", &json!({"id": c.channel_id, "feeppm": 42}))
        .unwrap();
    assert_eq!(n.channel(&c.short_channel_id).unwrap().fee_ppm, 42);
    n.handle_rpc("setchannel", &json!({"id": c.peer_id, "feebase": "2sat"}))
        .unwrap();
    let after = n.channel(&c.short_channel_id).unwrap();
    assert_eq!((after.fee_base_msat, after.fee_ppm), (2_000, 42));
    assert_eq!(n.setchannel_calls().len(), 2);
    assert_eq!(
        n.setchannel_calls()[1].outcome,
        Ok(vec![c.short_channel_id.clone()])
    );
}
