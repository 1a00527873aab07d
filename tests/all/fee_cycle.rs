//! What a fee cycle does to channels of known character, and the host rails.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn a_depleted_channel_is_raised_and_a_saturated_idle_one_lowered() {
    let node = Node::start(json!({})).await;
    let report = node.fee_cycle().await;

    let depleted = outcome(&report, &node, DEPLETED);
    assert_eq!(depleted["action"], json!("applied"), "{depleted}");
    assert!(fee(depleted, "new_fee_ppm") > 200, "{depleted}");
    assert_eq!(
        node.channel(DEPLETED).fee_ppm as u64,
        fee(depleted, "new_fee_ppm")
    );
    assert!(!depleted["reason"].as_str().unwrap().is_empty());
    assert_eq!(depleted["policy"], json!(format!("fee-alpha@{}", "0.1.0")));

    let saturated = outcome(&report, &node, SATURATED_IDLE);
    assert_eq!(saturated["action"], json!("applied"), "{saturated}");
    assert!(fee(saturated, "new_fee_ppm") < 400, "{saturated}");
    assert_eq!(
        node.channel(SATURATED_IDLE).fee_ppm as u64,
        fee(saturated, "new_fee_ppm")
    );

    let congested = outcome(&report, &node, CONGESTED);
    assert_eq!(congested["step"], json!("congestion"), "{congested}");
    assert_eq!(
        fee(congested, "new_fee_ppm"),
        5000,
        "congestion goes to the ceiling"
    );
}

#[tokio::test]
async fn fees_stay_within_the_bounds() {
    let node = Node::start(json!({"revenue-ops-max-fee-ppm": 300})).await;
    let report = node.fee_cycle().await;
    for c in report["channels"].as_array().unwrap() {
        if c["action"] == json!("applied") {
            let f = fee(c, "new_fee_ppm");
            assert!((10..=300).contains(&f), "{c}");
        }
    }
    let depleted = outcome(&report, &node, DEPLETED);
    assert_eq!(fee(depleted, "new_fee_ppm"), 300, "{depleted}");
    assert_eq!(fee(depleted, "ceiling_ppm"), 300);
    assert_eq!(node.channel(DEPLETED).fee_ppm, 300);
}

#[tokio::test]
async fn a_change_within_the_hysteresis_is_not_sent() {
    // Congestion asks for the ceiling, 1040 ppm: within 5% of the current 1000.
    let node = Node::start(json!({"revenue-ops-max-fee-ppm": 1040})).await;
    let report = node.fee_cycle().await;
    let congested = outcome(&report, &node, CONGESTED);
    assert_eq!(congested["action"], json!("hysteresis"), "{congested}");
    assert_eq!(fee(congested, "new_fee_ppm"), 1000);
    assert_eq!(node.channel(CONGESTED).fee_ppm, 1000);
    assert_eq!(node.setchannel_calls_for(CONGESTED), 0);
}

#[tokio::test]
async fn an_unchanged_fee_sends_nothing_and_broadcasts_are_rate_limited() {
    let node = Node::start(json!({})).await;
    node.fee_cycle().await;
    let calls = node.setchannel_calls_for(CONGESTED);
    assert_eq!(calls, 1, "the congested channel went to the ceiling once");
    // Already at the ceiling: the next cycles do not call setchannel again.
    let report = node.fee_cycle().await;
    assert_eq!(
        outcome(&report, &node, CONGESTED)["action"],
        json!("unchanged")
    );
    assert_eq!(node.setchannel_calls_for(CONGESTED), 1);

    // Push the depleted channel back down from outside repeatedly: each push
    // is adopted, then the policy raises it again — until four broadcasts
    // in 24 h, after which the plugin stops sending.
    let mut applied = 1; // the first cycle above
    for _ in 0..6 {
        let scid = node.channel(DEPLETED).short_channel_id;
        node.network
            .lock()
            .unwrap()
            .handle_rpc("setchannel", &json!({"id": scid, "feeppm": 100}))
            .unwrap();
        // Adopted first (unless the fee already was 100), then judged.
        node.fee_cycle().await;
        let report = node.fee_cycle().await;
        let o = outcome(&report, &node, DEPLETED);
        if o["action"] == json!("applied") {
            applied += 1;
        } else {
            // Held by the rate limit; once its revenue has been flat for
            // three cycles the deadband lets it sleep instead.
            assert!(
                o["action"] == json!("rate_limited") || o["action"] == json!("sleeping"),
                "{o}"
            );
        }
    }
    assert_eq!(applied, 4, "at most 4 fee updates per channel per day");
}

#[tokio::test]
async fn dry_run_records_decisions_but_never_calls_setchannel() {
    let node = Node::start(json!({"revenue-ops-dry-run": true})).await;
    let report = node.fee_cycle().await;
    assert_eq!(report["dry_run"], json!(true));
    let depleted = outcome(&report, &node, DEPLETED);
    assert_eq!(depleted["action"], json!("dry_run"), "{depleted}");
    assert!(fee(depleted, "proposed_fee_ppm") > 200);
    assert_eq!(node.channel(DEPLETED).fee_ppm, 200);
    assert_eq!(node.setchannel_calls(), 0);
    let status = node.ok("revenue-status", json!({})).await;
    assert!(
        status["fee_changes"]["total"].as_u64().unwrap() >= 1,
        "recorded"
    );

    // Turning dry-run off at runtime (setconfig sends a string) acts at once.
    node.ld
        .setconfig("revenue-ops-dry-run", "false")
        .await
        .expect("setconfig");
    let report = node.fee_cycle().await;
    assert_eq!(
        outcome(&report, &node, DEPLETED)["action"],
        json!("applied")
    );
    assert!(node.setchannel_calls() > 0);
}

#[tokio::test]
async fn a_manual_fee_is_set_within_bounds_or_with_force() {
    let node = Node::start(json!({})).await;
    let scid = node.channel(BALANCED).short_channel_id;
    let r = node
        .ok(
            "revenue-set-fee",
            json!({"channel_id": scid, "fee_ppm": 321}),
        )
        .await;
    assert_eq!(r["new_fee_ppm"], json!(321));
    assert_eq!(node.channel(BALANCED).fee_ppm, 321);
    // A change made through the plugin is not mistaken for an outside one.
    node.fee_cycle().await;
    node.ok(
        "revenue-set-fee",
        json!({"channel_id": scid, "fee_ppm": 321}),
    )
    .await;
    let report = node.fee_cycle().await;
    assert_ne!(
        outcome(&report, &node, BALANCED)["action"],
        json!("external_change")
    );

    let refused = node
        .call("revenue-set-fee", json!([scid, 9000]))
        .await
        .unwrap_err();
    assert!(refused.message.contains("force"), "{refused:?}");
    assert_eq!(node.channel(BALANCED).fee_ppm, 321);
    node.ok("revenue-set-fee", json!([scid, 9000, true])).await;
    assert_eq!(node.channel(BALANCED).fee_ppm, 9000);
}

#[tokio::test]
async fn fee_debug_explains_each_channels_fee() {
    let node = Node::start(json!({"revenue-ops-max-fee-ppm": 1040})).await;
    let peer = node.channel(BALANCED).peer_id;
    node.ok(
        "revenue-policy",
        json!({"action": "set", "peer_id": peer, "min_fee_ppm": 150}),
    )
    .await;
    node.fee_cycle().await;

    let scid = node.channel(CONGESTED).short_channel_id;
    let debug = node.ok("revenue-fee-debug", json!([scid])).await;
    let channels = debug["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 1);
    let c = &channels[0];
    assert_eq!(c["policy"], json!("fee-alpha"));
    assert_eq!(c["bounds"]["ceiling_ppm"], json!(1040));
    assert_eq!(c["bounds"]["ceiling_from"], json!("node max_fee_ppm"));
    assert_eq!(c["last_decision"]["last_step"], json!("congestion"));
    assert_eq!(c["last_decision"]["last_outcome"], json!("hysteresis"));
    assert!(
        c["last_decision"]["last_reason"]
            .as_str()
            .unwrap()
            .contains("hysteresis"),
        "{c}"
    );
    assert_eq!(c["last_decision"]["policy_name"], json!("fee-alpha"));

    let all = node.ok("revenue-fee-debug", json!({})).await;
    let balanced = all["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["peer_id"] == json!(peer))
        .unwrap();
    assert_eq!(balanced["bounds"]["floor_ppm"], json!(150));
    assert_eq!(balanced["bounds"]["floor_from"], json!("peer min_fee_ppm"));
    assert_eq!(balanced["broadcasts_last_24h"], json!(1));
    assert_eq!(balanced["broadcasts_left_24h"], json!(3));
    assert_eq!(balanced["recent_changes"][0]["outcome"], json!("applied"));
    assert!(balanced["recent_changes"][0]["reason"].as_str().is_some());

    assert_invalid_param(
        node.call("revenue-fee-debug", json!({"channel_id": "9x9x9"}))
            .await,
        "channel_id",
    );
}

#[tokio::test]
async fn a_fee_changed_outside_the_plugin_is_adopted_not_reverted() {
    let node = Node::start(json!({})).await;
    let first = node.fee_cycle().await;
    let ours = fee(outcome(&first, &node, DEPLETED), "new_fee_ppm");
    let scid = node.channel(DEPLETED).short_channel_id;
    // The operator (or another tool) sets 999 ppm behind the plugin's back.
    node.network
        .lock()
        .unwrap()
        .handle_rpc("setchannel", &json!({"id": scid, "feeppm": 999}))
        .unwrap();
    let calls = node.setchannel_calls_for(DEPLETED);

    let report = node.fee_cycle().await;
    let o = outcome(&report, &node, DEPLETED);
    assert_eq!(o["action"], json!("external_change"), "{o}");
    assert_eq!(fee(o, "old_fee_ppm"), ours);
    assert_eq!(fee(o, "new_fee_ppm"), 999);
    assert_eq!(node.channel(DEPLETED).fee_ppm, 999);
    assert_eq!(
        node.setchannel_calls_for(DEPLETED),
        calls,
        "nothing sent back"
    );
    let debug = node.ok("revenue-fee-debug", json!([scid])).await;
    assert_eq!(
        debug["channels"][0]["recent_changes"][0]["outcome"],
        json!("external")
    );

    // The policy continues from the adopted fee; it does not go back to ours.
    let report = node.fee_cycle().await;
    let o = outcome(&report, &node, DEPLETED);
    assert_ne!(fee(o, "new_fee_ppm"), ours, "{o}");
    assert!(fee(o, "new_fee_ppm") >= 999, "{o}");
}
