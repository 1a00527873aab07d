//! `revenue-rebalance-cycle` / `-debug` through the real binary: sling
//! absent disables rebalancing with a reason; with sling, the host's
//! controls decide before anything is sent to it.

use crate::support::*;
use revops_sim::PluginSpec;
use serde_json::{Value, json};

fn sling_calls(node: &Node) -> Vec<String> {
    node.ld
        .rpc_calls()
        .into_iter()
        .map(|(method, _)| method)
        .filter(|m| m.starts_with("sling-"))
        .collect()
}

fn decision_for<'a>(report: &'a Value, node: &Node, label: &str) -> &'a Value {
    let scid = node.channel(label).short_channel_id;
    report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["destination"] == json!(scid))
        .unwrap_or_else(|| panic!("no decision for {label}: {report}"))
}

#[tokio::test]
async fn without_sling_rebalancing_is_disabled_and_says_why() {
    let node = Node::start(json!({})).await;
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    assert!(
        report["disabled"].as_str().unwrap().contains("sling"),
        "{report}"
    );
    assert!(report["candidates"].as_array().unwrap().is_empty());
    // Only the read that found sling missing; nothing that changes anything.
    assert!(
        sling_calls(&node)
            .iter()
            .all(|m| m == "sling-stats" || m == "sling-jobsettings"),
        "{:?}",
        sling_calls(&node)
    );
    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    assert_eq!(debug["last_cycle"]["disabled"], report["disabled"]);
    assert_invalid_param(
        node.call("revenue-rebalance-cycle", json!({"force": true}))
            .await,
        "force",
    );
}

#[tokio::test]
async fn with_sling_an_idle_depleted_channel_is_refused_before_sling_hears_of_it() {
    let mut scenario = scenario();
    scenario.other_plugins.push(PluginSpec::sling());
    let node = Node::start_with(scenario, json!({})).await;
    // The passive peer's owner also says: never rebalance it.
    let excluded = node.channel(PASSIVE_PEER).peer_id;
    node.ok(
        "revenue-policy",
        json!({"action": "set", "peer_id": excluded, "strategy": "passive", "rebalance": "disabled"}),
    )
    .await;

    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    assert!(report["disabled"].is_null(), "{report}");
    // Capital controls were checked with the wallet and the budget.
    let capital = &report["capital"];
    assert!(fee(capital, "confirmed_onchain_sat") > 0, "{capital}");
    assert_eq!(fee(capital, "daily_budget_msat"), 5_000_000, "{capital}");
    // The depleted channel has no traffic at all: filling it would earn
    // nothing, so the velocity gate refuses it.
    let depleted = &decision_for(&report, &node, DEPLETED)["decision"];
    assert_eq!(depleted["decision"], json!("refused"), "{depleted}");
    assert_eq!(depleted["refusal"]["rule"], json!("idle"), "{depleted}");
    // No job was created or started; sling's except list was synced.
    let calls = sling_calls(&node);
    assert!(
        !calls.iter().any(|m| m == "sling-job" || m == "sling-go"),
        "{calls:?}"
    );
    assert!(calls.iter().any(|m| m == "sling-except-peer"), "{calls:?}");
    assert!(
        report["except_peers"]["peers"]
            .as_array()
            .unwrap()
            .contains(&json!(excluded)),
        "{report}"
    );

    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    assert_eq!(debug["running"], json!([]));
    assert_eq!(fee(&debug["budget"]["use"], "held_msat"), 0);
    assert_eq!(debug["last_cycle"]["counts"]["idle"], json!(1), "{debug}");
}
