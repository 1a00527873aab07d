//! `revenue-analyze`: flow classification through the real binary.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn channels_without_traffic_are_classified_from_their_balance() {
    let node = Node::start(json!({})).await;
    let report = node.ok("revenue-analyze", json!({})).await;
    assert_eq!(report["settings"]["window_days"], json!(7));
    let depleted = outcome(&report, &node, DEPLETED);
    assert_eq!(depleted["flow_state"], json!("source"), "{depleted}");
    assert_eq!(depleted["inferred"], json!(true));
    assert_eq!(
        outcome(&report, &node, SATURATED_IDLE)["flow_state"],
        json!("sink")
    );
    assert_eq!(
        outcome(&report, &node, BALANCED)["flow_state"],
        json!("balanced")
    );
    assert_eq!(
        outcome(&report, &node, CONGESTED)["flow_state"],
        json!("congested")
    );

    let scid = node.channel(BALANCED).short_channel_id;
    let one = node.ok("revenue-analyze", json!([scid])).await;
    assert_eq!(one["channels"].as_array().unwrap().len(), 1);

    assert_invalid_param(
        node.call("revenue-analyze", json!({"channel_id": "1x2x3"}))
            .await,
        "channel_id",
    );
    let status = node.ok("revenue-status", json!({})).await;
    assert_eq!(status["loops"][1]["name"], json!("flow"));
    assert_eq!(status["loops"][1]["interval_secs"], json!(3600));
}

#[tokio::test]
async fn thresholds_are_configurable_and_validated() {
    let node = Node::start(json!({"revenue-ops-flow-source-threshold": "0.05"})).await;
    let got = node
        .ok(
            "revenue-config",
            json!({"action": "get", "key": "source_threshold"}),
        )
        .await;
    assert_eq!(got["value"], json!(0.05));
    node.ld
        .setconfig("revenue-ops-htlc-congestion-threshold", "0.95")
        .await
        .expect("setconfig");
    let report = node.ok("revenue-analyze", json!({})).await;
    // 28 of 30 slots is 93%: below the new 95% threshold.
    assert_ne!(
        outcome(&report, &node, CONGESTED)["flow_state"],
        json!("congested")
    );
    assert_invalid_param(
        node.call(
            "revenue-config",
            json!({"action": "set", "key": "sink_threshold", "value": 0.3}),
        )
        .await,
        "sink_threshold",
    );
}
