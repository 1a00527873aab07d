//! Per-peer strategies and bounds (`revenue-policy`).

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn static_and_passive_peers_are_respected() {
    let node = Node::start(json!({})).await;
    let static_peer = node.channel(STATIC_PEER).peer_id;
    let passive_peer = node.channel(PASSIVE_PEER).peer_id;
    let set = node
        .ok(
            "revenue-policy",
            json!({"action": "set", "peer_id": static_peer, "strategy": "static", "fee_ppm": 777}),
        )
        .await;
    assert_eq!(set["policy"]["strategy"], json!("static"));
    // Positional form, as lightning-cli sends by default.
    node.ok("revenue-policy", json!(["set", passive_peer, "passive"]))
        .await;

    let report = node.fee_cycle().await;
    let s = outcome(&report, &node, STATIC_PEER);
    assert_eq!(s["strategy"], json!("static"));
    assert_eq!(fee(s, "new_fee_ppm"), 777);
    assert_eq!(node.channel(STATIC_PEER).fee_ppm, 777);

    // The passive peer's channel is depleted, so a dynamic policy would raise
    // it; passive means never touched.
    let p = outcome(&report, &node, PASSIVE_PEER);
    assert_eq!(p["action"], json!("passive"));
    assert_eq!(node.channel(PASSIVE_PEER).fee_ppm, 150);
    assert_eq!(node.setchannel_calls_for(PASSIVE_PEER), 0);

    let list = node.ok("revenue-policy", json!({"action": "list"})).await;
    assert_eq!(list["policies"].as_array().unwrap().len(), 2);
    let got = node
        .ok(
            "revenue-policy",
            json!({"action": "get", "peer_id": static_peer}),
        )
        .await;
    assert_eq!(got["policy"]["fee_ppm"], json!(777));

    // Deleting the passive policy hands the peer back to the dynamic policy.
    let del = node
        .ok(
            "revenue-policy",
            json!({"action": "delete", "peer_id": passive_peer}),
        )
        .await;
    assert_eq!(del["deleted"], json!(true));
    let report = node.fee_cycle().await;
    let p = outcome(&report, &node, PASSIVE_PEER);
    assert_eq!(p["strategy"], json!("dynamic"));
    assert!(fee(p, "new_fee_ppm") > 150, "{p}");
}

#[tokio::test]
async fn per_peer_bounds_replace_the_node_bounds() {
    let node = Node::start(json!({})).await;
    let peer = node.channel(BALANCED).peer_id;
    node.ok(
        "revenue-policy",
        json!({"action": "set", "peer_id": peer, "min_fee_ppm": 2000, "max_fee_ppm": 2500}),
    )
    .await;
    let report = node.fee_cycle().await;
    let b = outcome(&report, &node, BALANCED);
    assert_eq!(fee(b, "floor_ppm"), 2000);
    assert_eq!(fee(b, "new_fee_ppm"), 2000, "{b}");
    assert_eq!(node.channel(BALANCED).fee_ppm, 2000);
}
