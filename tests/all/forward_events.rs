//! `forward_event`: a resolved forward makes the plugin read new forwards
//! right away, through the same cursor as the fee cycle.

use crate::support::*;
use serde_json::{Value, json};
use std::time::Duration;

async fn forward_events(node: &Node) -> Value {
    node.ok("revenue-status", json!({})).await["forward_events"].clone()
}

fn listforwards_calls(node: &Node) -> usize {
    node.ld
        .rpc_calls()
        .iter()
        .filter(|(method, _)| method == "listforwards")
        .count()
}

#[tokio::test]
async fn a_settled_forward_is_read_before_the_next_fee_cycle() {
    let mut scenario = scenario();
    for channel in scenario.channels.iter_mut().filter(|c| c.label == BALANCED) {
        channel.demand_per_day = 2_000.0;
    }
    let node = Node::start_with(scenario, json!({})).await;
    let before = listforwards_calls(&node);
    let event = {
        let mut network = node.network.lock().unwrap();
        let now = network.now();
        network.advance_to(now + 3_600);
        let listed = network.handle_rpc("listforwards", &json!({})).unwrap();
        listed["forwards"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|f| f["status"] == json!("settled"))
            .cloned()
            .expect("an hour of traffic settles a forward")
    };
    // `offered` is not resolved yet: it is not counted and reads nothing.
    let mut offered = event.clone();
    offered["status"] = json!("offered");
    assert!(node.ld.notify("forward_event", offered).await.unwrap());
    assert!(node.ld.notify("forward_event", event).await.unwrap());

    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        let status = forward_events(&node).await;
        if status["ingests"].as_u64() >= Some(1) || tokio::time::Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status["received"], json!(1), "{status}");
    assert_eq!(status["ingests"], json!(1), "{status}");
    assert!(fee(&status, "forwards_read") >= 1, "{status}");
    assert!(listforwards_calls(&node) > before);

    // The forwards are stored: the next fee cycle finds nothing new to read.
    let report = node.fee_cycle().await;
    assert_eq!(report["forwards_ingested"], json!(0), "{report}");
}
