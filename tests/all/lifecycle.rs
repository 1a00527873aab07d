//! Start-up, status, restart and persistence.

use crate::support::*;
use revops_store::Store;
use serde_json::json;

#[tokio::test]
async fn manifest_and_init_are_accepted_and_nothing_else_reaches_stdout() {
    let node = Node::start(json!({})).await;
    let manifest = node.ld.manifest();
    let options: Vec<&str> = manifest["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    for name in [
        "revenue-ops-db-path",
        "revenue-ops-fee-interval",
        "revenue-ops-min-fee-ppm",
        "revenue-ops-max-fee-ppm",
        "revenue-ops-dry-run",
        "revenue-ops-rpc-timeout-seconds",
        "revenue-ops-rpc-circuit-breaker-seconds",
        "revenue-ops-policy-dir",
    ] {
        assert!(
            options.contains(&name),
            "option {name} missing: {options:?}"
        );
    }
    let methods: Vec<&str> = manifest["rpcmethods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for name in [
        "revenue-status",
        "revenue-config",
        "revenue-policy",
        "revenue-set-fee",
        "revenue-fee-cycle",
    ] {
        assert!(
            methods.contains(&name),
            "method {name} missing: {methods:?}"
        );
    }
    // A hook reply failure kills lightningd: this plugin registers none.
    assert!(
        manifest["hooks"].as_array().is_none_or(|h| h.is_empty()),
        "{}",
        manifest["hooks"]
    );
    node.fee_cycle().await;
    // Logs reach lightningd as log notifications, never on stdout.
    assert!(
        node.ld
            .logs()
            .iter()
            .any(|(_, message)| message.contains("cl-revenue-ops") && message.contains("started")),
        "{:?}",
        node.ld.logs()
    );
    assert!(
        node.ld.protocol_violations().is_empty(),
        "{:?}",
        node.ld.protocol_violations()
    );
}

#[tokio::test]
async fn status_reports_version_policies_and_breakers() {
    let node = Node::start(json!({})).await;
    let status = node.ok("revenue-status", json!({})).await;
    assert_eq!(status["version"], json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(status["dry_run"], json!(false));
    assert_eq!(status["fee_policy"]["default"], json!("fee-alpha"));
    assert_eq!(status["fee_policy"]["loaded"], json!(true));
    let policies = status["policies"].as_array().unwrap();
    let alpha = policies
        .iter()
        .find(|p| p["name"] == json!("fee-alpha"))
        .expect("the built-in policy is loaded");
    assert_eq!(alpha["source"], json!("built-in"));
    assert_eq!(alpha["sha256"].as_str().unwrap().len(), 64);
    let breakers = status["lightningd_rpc"]["breakers"].as_array().unwrap();
    assert!(!breakers.is_empty());
    assert!(breakers.iter().all(|b| b["state"] == json!("closed")));
    assert_eq!(status["loops"][0]["name"], json!("fee"));
    assert!(
        status["loops"][0]["next_run_at"].is_u64() || status["loops"][0]["next_run_at"].is_null()
    );

    node.fee_cycle().await;
    let status = node.ok("revenue-status", json!({})).await;
    assert_eq!(status["loops"][0]["cycles_run"], json!(1));
    assert!(
        status["loops"][0]["last_cycle"]["channels"]
            .as_u64()
            .unwrap()
            >= 6
    );
}

#[tokio::test]
async fn a_restart_keeps_the_audit_history_the_policy_state_and_overrides() {
    let mut node = Node::start(json!({})).await;
    node.ok(
        "revenue-config",
        json!({"action": "set", "key": "min_fee_ppm", "value": 20}),
    )
    .await;
    let report = node.fee_cycle().await;
    let depleted = outcome(&report, &node, DEPLETED);
    assert_eq!(depleted["action"], json!("applied"));
    let scid = node.channel(DEPLETED).short_channel_id;
    let before = node.ok("revenue-status", json!({})).await;
    let changes_before = before["fee_changes"]["total"].as_u64().unwrap();
    assert!(changes_before >= 1);

    node.ld.restart().await.expect("restart");

    let after = node.ok("revenue-status", json!({})).await;
    assert_eq!(
        after["fee_changes"]["total"].as_u64().unwrap(),
        changes_before
    );
    let min = node
        .ok(
            "revenue-config",
            json!({"action": "get", "key": "min_fee_ppm"}),
        )
        .await;
    assert_eq!(min["value"], json!(20));
    assert_eq!(min["source"], json!("override"));

    // The policy's state for the channel survived and is handed back: the
    // next decision is made from it (the database is shared read-only here).
    let db = node.ld.lightning_dir().join("revenue_ops.db");
    let store = Store::open(&db).unwrap();
    let state = store.channel_fee_state(&scid).unwrap().expect("state kept");
    assert!(state.policy_state.is_some());
    assert_eq!(state.last_outcome.as_deref(), Some("applied"));
    drop(store);
    let report = node.fee_cycle().await;
    assert_ne!(
        outcome(&report, &node, DEPLETED)["action"],
        json!("policy_failed")
    );
}

#[tokio::test]
async fn a_killed_plugin_restarts_with_its_history() {
    let mut node = Node::start(json!({})).await;
    node.fee_cycle().await;
    let total = node.ok("revenue-status", json!({})).await["fee_changes"]["total"]
        .as_u64()
        .unwrap();
    node.ld.kill9().await.expect("kill -9");
    node.ld.restart().await.expect("restart after kill -9");
    let status = node.ok("revenue-status", json!({})).await;
    assert_eq!(status["fee_changes"]["total"].as_u64().unwrap(), total);
    assert_eq!(status["fee_changes"]["pending"], json!(0));
}
