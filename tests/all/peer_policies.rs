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

#[tokio::test]
async fn tags_find_untag_and_changes_for_fleet_managers() {
    let node = Node::start(json!({})).await;
    let a = node.channel(BALANCED).peer_id;
    let b = node.channel(STATIC_PEER).peer_id;
    let since = node
        .ok("revenue-policy", json!({"action": "changes", "since": 0}))
        .await["now"]
        .as_u64()
        .unwrap()
        - 1;
    node.ok(
        "revenue-policy",
        json!({"action": "tag", "peer_id": a, "tag": "fleet"}),
    )
    .await;
    node.ok(
        "revenue-policy",
        json!({"action": "tag", "peer_id": b, "tag": "fleet"}),
    )
    .await;
    node.ok(
        "revenue-policy",
        json!({"action": "tag", "peer_id": a, "tag": "cheap"}),
    )
    .await;
    let found = node
        .ok("revenue-policy", json!({"action": "find", "tag": "fleet"}))
        .await;
    assert_eq!(found["policies"].as_array().unwrap().len(), 2);
    node.ok(
        "revenue-policy",
        json!({"action": "untag", "peer_id": a, "tag": "fleet"}),
    )
    .await;
    let found = node
        .ok(
            "revenue-policy",
            json!([
                "find", null, null, null, null, null, null, null, null, null, "fleet"
            ]),
        )
        .await;
    assert_eq!(found["policies"][0]["peer_id"], json!(b));
    let got = node
        .ok("revenue-policy", json!({"action": "get", "peer_id": a}))
        .await;
    assert_eq!(got["policy"]["tags"], json!(["cheap"]));

    node.ok("revenue-policy", json!({"action": "delete", "peer_id": b}))
        .await;
    let changes = node
        .ok(
            "revenue-policy",
            json!({"action": "changes", "since": since}),
        )
        .await;
    assert_eq!(changes["policies"][0]["peer_id"], json!(a), "{changes}");
    assert_eq!(changes["deleted"][0]["peer_id"], json!(b), "{changes}");
}

#[tokio::test]
async fn the_eleventh_change_in_a_minute_is_refused_but_batches_are_not_limited() {
    let node = Node::start(json!({})).await;
    let peer = node.channel(BALANCED).peer_id;
    for i in 0..10 {
        node.ok(
            "revenue-policy",
            json!({"action": "set", "peer_id": peer, "strategy": "static", "fee_ppm": 100 + i}),
        )
        .await;
    }
    let err = node
        .call(
            "revenue-policy",
            json!({"action": "set", "peer_id": peer, "strategy": "static", "fee_ppm": 999}),
        )
        .await
        .unwrap_err();
    assert!(err.message.contains("rate limit"), "{err:?}");
    let got = node
        .ok("revenue-policy", json!({"action": "get", "peer_id": peer}))
        .await;
    assert_eq!(
        got["policy"]["fee_ppm"],
        json!(109),
        "the refused change wrote nothing"
    );

    let batch = node
        .ok(
            "revenue-policy",
            json!({"action": "batch", "updates": [
                {"peer_id": peer, "strategy": "static", "fee_ppm": 555},
                {"peer_id": node.channel(DEPLETED).peer_id, "strategy": "passive", "tag": "watch"},
            ]}),
        )
        .await;
    assert_eq!(batch["updated"], json!(2));
    let got = node
        .ok("revenue-policy", json!({"action": "get", "peer_id": peer}))
        .await;
    assert_eq!(got["policy"]["fee_ppm"], json!(555));
}

#[tokio::test]
async fn a_bad_batch_entry_rejects_the_whole_batch() {
    let node = Node::start(json!({})).await;
    let good = node.channel(BALANCED).peer_id;
    let err = node
        .call(
            "revenue-policy",
            json!({"action": "batch", "updates": format!(
                "[{{\"peer_id\": \"{good}\", \"strategy\": \"passive\"}}, {{\"peer_id\": \"{good}\", \"strategy\": \"static\"}}]"
            )}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, -32602);
    assert!(
        err.message.contains("updates[1]") && err.message.contains("fee_ppm"),
        "{err:?}"
    );
    let list = node.ok("revenue-policy", json!({"action": "list"})).await;
    assert!(
        list["policies"].as_array().unwrap().is_empty(),
        "nothing written"
    );
}

#[tokio::test]
async fn hive_members_pay_the_hive_fee_and_named_policies_decide_their_peers() {
    let node = Node::start(json!({"revenue-ops-hive-fee-ppm": 0})).await;
    let hive = node.channel(BALANCED).peer_id;
    node.ok(
        "revenue-policy",
        json!({"action": "set", "peer_id": hive, "strategy": "hive"}),
    )
    .await;
    let named = node.channel(DEPLETED).peer_id;
    node.ok(
        "revenue-policy",
        json!({"action": "set", "peer_id": named, "strategy": "fee-alpha"}),
    )
    .await;
    assert_invalid_param(
        node.call(
            "revenue-policy",
            json!({"action": "set", "peer_id": named, "strategy": "no-such-policy"}),
        )
        .await,
        "strategy",
    );
    let report = node.fee_cycle().await;
    let h = outcome(&report, &node, BALANCED);
    assert_eq!(h["strategy"], json!("hive"));
    assert_eq!(
        fee(h, "new_fee_ppm"),
        0,
        "the hive fee goes below the node's floor"
    );
    assert_eq!(node.channel(BALANCED).fee_ppm, 0);
    let n = outcome(&report, &node, DEPLETED);
    assert_eq!(n["strategy"], json!("fee-alpha"));
    assert_eq!(n["policy"], json!("fee-alpha@0.1.0"));
}

#[tokio::test]
async fn multiplier_clamps_limit_a_step_and_expired_policies_fall_back() {
    let node = Node::start(json!({})).await;
    let depleted = node.channel(DEPLETED).peer_id;
    node.ok(
        "revenue-policy",
        json!({"action": "set", "peer_id": depleted, "fee_multiplier_max": 1.2}),
    )
    .await;
    let report = node.fee_cycle().await;
    let d = outcome(&report, &node, DEPLETED);
    assert_eq!(fee(d, "new_fee_ppm"), 240, "{d}");
    assert!(d["reason"].as_str().unwrap().contains("multipliers"), "{d}");

    let peer = node.channel(STATIC_PEER).peer_id;
    let now = node
        .ok("revenue-policy", json!({"action": "changes", "since": 0}))
        .await["now"]
        .as_u64()
        .unwrap();
    assert_invalid_param(
        node.call(
            "revenue-policy",
            json!({"action": "set", "peer_id": peer, "expires_at": now + 31 * 86_400}),
        )
        .await,
        "expires_at",
    );
    node.ok(
        "revenue-policy",
        json!({"action": "set", "peer_id": peer, "strategy": "static", "fee_ppm": 777, "expires_at": now + 2}),
    )
    .await;
    let report = node.fee_cycle().await;
    assert_eq!(
        outcome(&report, &node, STATIC_PEER)["strategy"],
        json!("static")
    );
    // Wait out the expiry (a deadline, not a timing assertion).
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let report = node.fee_cycle().await;
    assert_eq!(
        outcome(&report, &node, STATIC_PEER)["strategy"],
        json!("dynamic")
    );
    let got = node
        .ok("revenue-policy", json!({"action": "get", "peer_id": peer}))
        .await;
    assert_eq!(got["expired"], json!(true));
}
