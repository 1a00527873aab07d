//! The second built-in fee policy, `fee-thompson`: selectable as the node
//! default and per peer, deciding within the bounds.

use crate::support::*;
use serde_json::{Value, json};

const THOMPSON: &str = "fee-thompson";

/// The `policy` a report names for a channel decided by fee-thompson.
fn thompson_policy() -> Value {
    json!(format!("{THOMPSON}@0.1.0"))
}

/// The fee a channel ends the cycle with, as the report states it.
fn decided_fee_ppm(c: &Value) -> u64 {
    c["new_fee_ppm"]
        .as_u64()
        .or_else(|| c["proposed_fee_ppm"].as_u64())
        .unwrap_or_else(|| panic!("no fee in {c}"))
}

#[tokio::test]
async fn as_the_node_default_it_decides_every_dynamic_channel_within_bounds() {
    let node = Node::start(json!({
        "revenue-ops-default-fee-policy": THOMPSON,
        "revenue-ops-max-fee-ppm": 2000,
    }))
    .await;

    let status = node.ok("revenue-status", json!({})).await;
    assert_eq!(status["fee_policy"]["default"], json!(THOMPSON), "{status}");
    assert_eq!(status["fee_policy"]["loaded"], json!(true), "{status}");
    let listed = status["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == json!(THOMPSON))
        .unwrap_or_else(|| panic!("fee-thompson not loaded: {status}"));
    assert_eq!(listed["source"], json!("built-in"));
    assert_eq!(listed["default_for_dynamic_peers"], json!(true));

    let report = node.fee_cycle().await;
    let channels = report["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 6, "{report}");
    for c in channels {
        assert_eq!(c["strategy"], json!("dynamic"), "{c}");
        assert_eq!(c["policy"], thompson_policy(), "{c}");
        let fee_ppm = decided_fee_ppm(c);
        assert!(
            (fee(c, "floor_ppm")..=fee(c, "ceiling_ppm")).contains(&fee_ppm),
            "{c}"
        );
        assert!(fee_ppm <= 2000, "{c}");
        assert!(!c["reason"].as_str().unwrap().is_empty(), "{c}");
    }
    // Fees the policy applied reached lightningd.
    let balanced = outcome(&report, &node, BALANCED);
    if balanced["action"] == json!("applied") {
        assert_eq!(
            u64::from(node.channel(BALANCED).fee_ppm),
            fee(balanced, "new_fee_ppm")
        );
    }

    // Its state comes back on the next cycle: still fee-thompson, in bounds.
    let report = node.fee_cycle().await;
    for c in report["channels"].as_array().unwrap() {
        assert_eq!(c["policy"], thompson_policy(), "{c}");
        let fee_ppm = decided_fee_ppm(c);
        assert!(
            (fee(c, "floor_ppm")..=fee(c, "ceiling_ppm")).contains(&fee_ppm),
            "{c}"
        );
    }
}

#[tokio::test]
async fn selected_for_one_peer_it_decides_only_that_peers_channel() {
    let node = Node::start(json!({})).await;
    let peer = node.channel(BALANCED).peer_id;
    let set = node
        .ok(
            "revenue-policy",
            json!({"action": "set", "peer_id": peer, "strategy": THOMPSON}),
        )
        .await;
    assert_eq!(set["policy"]["strategy"], json!(THOMPSON), "{set}");

    let report = node.fee_cycle().await;
    let chosen = outcome(&report, &node, BALANCED);
    assert_eq!(chosen["strategy"], json!(THOMPSON), "{chosen}");
    assert_eq!(chosen["policy"], thompson_policy(), "{chosen}");
    let fee_ppm = decided_fee_ppm(chosen);
    assert!(
        (fee(chosen, "floor_ppm")..=fee(chosen, "ceiling_ppm")).contains(&fee_ppm),
        "{chosen}"
    );

    for label in [
        DEPLETED,
        SATURATED_IDLE,
        CONGESTED,
        STATIC_PEER,
        PASSIVE_PEER,
    ] {
        let other = outcome(&report, &node, label);
        assert_eq!(other["strategy"], json!("dynamic"), "{label}: {other}");
        assert_eq!(
            other["policy"],
            json!("fee-alpha@0.1.0"),
            "{label}: {other}"
        );
    }
}
