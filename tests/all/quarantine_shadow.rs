//! Quarantine of a policy that keeps failing, and shadow runs that decide
//! beside the live policy without acting, through the real binary.

use crate::support::*;
use revops_policy_artifacts::hostile;
use serde_json::{Value, json};

fn status_of<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == json!(name))
        .unwrap_or_else(|| panic!("{name} not in {status}"))
}

#[tokio::test]
async fn a_policy_failing_in_a_row_is_quarantined_and_its_peers_fall_back_to_the_built_in() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("panic.wasm"), hostile::PANIC).unwrap();
    let node = Node::start(json!({
        "revenue-ops-policy-dir": dir.path().display().to_string(),
        "revenue-ops-policy-quarantine-failures": 2,
        "revenue-ops-policy-quarantine-secs": 3600,
    }))
    .await;
    let peer = node.channel(BALANCED).peer_id;
    node.ok(
        "revenue-policy",
        json!({"action": "set", "peer_id": peer, "strategy": "hostile-panic"}),
    )
    .await;

    // Two failed batches in a row: quarantined.
    for _ in 0..2 {
        let report = node.fee_cycle().await;
        assert_eq!(
            outcome(&report, &node, BALANCED)["action"],
            json!("policy_failed"),
            "{report}"
        );
    }
    let status = node.ok("revenue-wasm", json!({"action": "status"})).await;
    let quarantine = &status_of(&status, "hostile-panic")["quarantine"];
    assert_eq!(quarantine["state"], json!("quarantined"), "{status}");
    assert_eq!(quarantine["consecutive_failures"], json!(2));
    assert!(quarantine["retry_at"].as_u64().unwrap() > quarantine["since"].as_u64().unwrap());
    assert_eq!(status["quarantine_settings"]["failure_streak"], json!(2));
    assert_eq!(
        status_of(&status, "fee-alpha")["quarantine"]["state"],
        json!("healthy")
    );

    // The next cycle does not call it: the peer's channel is decided by the
    // built-in default, and says so.
    let calls_before = status_of(&status, "hostile-panic")["stats"]["calls"].clone();
    let report = node.fee_cycle().await;
    assert!(
        report["policy_failures"].as_array().unwrap().is_empty(),
        "{report}"
    );
    let o = outcome(&report, &node, BALANCED);
    assert!(
        o["policy"].as_str().unwrap().starts_with("fee-alpha@"),
        "{o}"
    );
    assert!(
        o["strategy"]
            .as_str()
            .unwrap()
            .contains("hostile-panic quarantined"),
        "{o}"
    );
    let status = node.ok("revenue-wasm", json!({"action": "status"})).await;
    assert_eq!(
        status_of(&status, "hostile-panic")["stats"]["calls"],
        calls_before
    );

    // A shorter backoff applies from the next quarantine; the limits are
    // reported per role.
    assert_eq!(
        status["limits"]["fee_strategy"]["memory_mib"],
        json!(64),
        "{status}"
    );
    node.ok(
        "revenue-config",
        json!({"action": "set", "key": "fee_policy_memory_mib", "value": 32}),
    )
    .await;
    let status = node.ok("revenue-wasm", json!({"action": "status"})).await;
    assert_eq!(status["limits"]["fee_strategy"]["memory_mib"], json!(32));
    assert_eq!(
        status["limits"]["rebalance_scorer"]["memory_mib"],
        json!(64)
    );
    assert_invalid_param(
        node.call(
            "revenue-config",
            json!({"action": "set", "key": "fee_policy_memory_mib", "value": 1}),
        )
        .await,
        "fee_policy_memory_mib",
    );
}

#[tokio::test]
async fn a_shadow_decides_beside_the_live_policy_and_never_sets_a_fee() {
    let dir = tempfile::tempdir().unwrap();
    // The live policy holds every fee; fee-thompson is shadowed beside it.
    std::fs::write(dir.path().join("calm.wasm"), hostile::WELL_BEHAVED).unwrap();
    let node = Node::start(json!({
        "revenue-ops-policy-dir": dir.path().display().to_string(),
        "revenue-ops-default-fee-policy": "hostile-none",
    }))
    .await;
    let started = node
        .ok(
            "revenue-wasm",
            json!({"action": "shadow", "name": "fee-thompson"}),
        )
        .await;
    assert_eq!(started["started"], json!(true), "{started}");
    assert_eq!(started["shadow"]["active"], json!(true));

    for _ in 0..3 {
        let report = node.fee_cycle().await;
        assert!(
            report["policy_failures"].as_array().unwrap().is_empty(),
            "{report}"
        );
    }
    assert_eq!(
        node.setchannel_calls(),
        0,
        "the shadow must never set a fee"
    );

    let shown = node
        .ok(
            "revenue-wasm",
            json!({"action": "shadow", "name": "fee-thompson"}),
        )
        .await;
    assert_eq!(shown["started"], json!(false));
    let shadow = &shown["shadow"];
    let summary = &shadow["summary"];
    assert_eq!(summary["cycles"], json!(3), "{shadow}");
    assert!(summary["compared"].as_u64().unwrap() > 0);
    assert!(
        summary["shadow_would_change"].as_u64().unwrap() > 0,
        "fee-thompson explores, so it would have moved some fee: {shadow}"
    );
    assert_eq!(summary["live_would_change"], json!(0), "the live one holds");
    let channel = shadow["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["diff_ppm"].as_i64().unwrap_or(0) != 0)
        .unwrap_or_else(|| panic!("no channel differs: {shadow}"));
    assert_eq!(
        channel["live_fee_ppm"], channel["current_fee_ppm"],
        "{channel}"
    );
    assert!(
        channel["live_policy"]
            .as_str()
            .unwrap()
            .starts_with("hostile-none@")
    );

    // Listing shows the active run; stopping ends it and keeps its report.
    let all = node.ok("revenue-wasm", json!({"action": "shadow"})).await;
    assert_eq!(all["shadows"].as_array().unwrap().len(), 1, "{all}");
    let stopped = node
        .ok(
            "revenue-wasm",
            json!({"action": "shadow", "name": "fee-thompson", "stop": true}),
        )
        .await;
    assert_eq!(stopped["stopped"]["active"], json!(false));
    assert_eq!(stopped["stopped"]["summary"]["cycles"], json!(3));
    node.fee_cycle().await;
    let all = node.ok("revenue-wasm", json!({"action": "shadow"})).await;
    assert!(all["shadows"].as_array().unwrap().is_empty(), "{all}");

    // Bad input names the parameter.
    assert_invalid_param(
        node.call(
            "revenue-wasm",
            json!({"action": "shadow", "name": "fee-thompson", "role": "splice-guard"}),
        )
        .await,
        "role",
    );
    let refused = node
        .call(
            "revenue-wasm",
            json!({"action": "shadow", "name": "rebalance-ev"}),
        )
        .await
        .unwrap_err();
    assert!(
        refused.message.contains("fee-strategy") || refused.message.contains("no policy"),
        "{refused:?}"
    );
}
