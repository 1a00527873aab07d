//! What the host feeds every fee policy beyond the channel's own numbers —
//! balance floors, the economic floor from live feerates — and the
//! deadband that lets flat channels sleep, all through the real binary.

use crate::support::*;
use serde_json::{Value, json};

async fn debug_of(node: &Node, label: &str) -> Value {
    let scid = node.channel(label).short_channel_id;
    let debug = node
        .ok("revenue-fee-debug", json!({"channel_id": scid}))
        .await;
    debug["channels"][0].clone()
}

#[tokio::test]
async fn a_drained_channel_is_held_at_its_balance_floor_and_debug_names_it() {
    let node = Node::start(json!({})).await;
    let report = node.fee_cycle().await;
    // 8% local at 200 ppm: under 10% the host's balance floor is 500 ppm.
    let depleted = outcome(&report, &node, DEPLETED);
    assert!(fee(depleted, "new_fee_ppm") >= 500, "{depleted}");
    assert!(node.channel(DEPLETED).fee_ppm >= 500);

    let debug = debug_of(&node, DEPLETED).await;
    let guidance = &debug["guidance"];
    assert_eq!(guidance["floor_ppm"], json!(500), "{debug}");
    assert!(
        guidance["floor_causes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("balance floor 500")),
        "{guidance}"
    );
    // The ceiling stays above the floor.
    assert!(fee(guidance, "ceiling_ppm") >= 600, "{guidance}");
    // A channel at half its capacity has no balance floor.
    let balanced = debug_of(&node, BALANCED).await;
    assert!(fee(&balanced["guidance"], "floor_ppm") < 200, "{balanced}");
}

#[tokio::test]
async fn a_mempool_spike_lifts_the_floor_and_the_fee() {
    let node = Node::start(json!({})).await;
    let calm_floor_ppm = fee(&debug_of(&node, BALANCED).await["guidance"], "floor_ppm");

    // ×5 on 10 sat/vB: opening and closing now cost ~17,000 sat.
    node.network.lock().unwrap().spike_feerate(5.0);
    let spiked = debug_of(&node, BALANCED).await;
    let spiked_floor_ppm = fee(&spiked["guidance"], "floor_ppm");
    assert!(
        spiked_floor_ppm > calm_floor_ppm.max(100),
        "floor {calm_floor_ppm} → {spiked_floor_ppm}: {spiked}"
    );
    assert!(
        spiked["guidance"]["floor_causes"][0]
            .as_str()
            .unwrap()
            .starts_with("economic floor"),
        "{spiked}"
    );

    // The balanced channel charged 100 ppm: the cycle lifts it to the floor.
    let report = node.fee_cycle().await;
    let balanced = outcome(&report, &node, BALANCED);
    assert!(
        fee(balanced, "new_fee_ppm") >= spiked_floor_ppm,
        "{balanced}"
    );
    assert_eq!(
        node.channel(BALANCED).fee_ppm as u64,
        fee(balanced, "new_fee_ppm")
    );
}

#[tokio::test]
async fn a_flat_channel_sleeps_and_wake_all_wakes_it() {
    let node = Node::start(json!({})).await;
    // No traffic at all: every channel's revenue rate stays at zero. The
    // first decision plus three flat ones put a channel to sleep.
    for _ in 0..4 {
        let report = node.fee_cycle().await;
        assert_ne!(
            outcome(&report, &node, SATURATED_IDLE)["action"],
            json!("sleeping")
        );
    }
    let report = node.fee_cycle().await;
    let idle = outcome(&report, &node, SATURATED_IDLE);
    assert_eq!(idle["action"], json!("sleeping"), "{idle}");
    assert!(
        idle["reason"].as_str().unwrap().contains("revenue flat"),
        "{idle}"
    );
    let calls = node.setchannel_calls_for(SATURATED_IDLE);
    let debug = debug_of(&node, SATURATED_IDLE).await;
    assert!(debug["deadband"]["asleep_until"].is_u64(), "{debug}");

    // Sleeping changes nothing, and the status counts it as skipped.
    let sleeping = report["channels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == json!("sleeping"))
        .count() as u64;
    let status = node.ok("revenue-status", json!({})).await;
    let last_cycle = &status["loops"][0]["last_cycle"];
    assert!(fee(last_cycle, "skipped") >= sleeping, "{last_cycle}");
    assert_eq!(node.setchannel_calls_for(SATURATED_IDLE), calls);

    let woken = node.ok("revenue-wake-all", json!({})).await;
    assert!(woken["woken"].as_u64().unwrap() >= 1, "{woken}");
    let report = node.fee_cycle().await;
    assert_ne!(
        outcome(&report, &node, SATURATED_IDLE)["action"],
        json!("sleeping")
    );
    assert!(debug_of(&node, SATURATED_IDLE).await["deadband"]["asleep_until"].is_null());

    assert_invalid_param(
        node.call("revenue-wake-all", json!({"now": true})).await,
        "now",
    );
}
