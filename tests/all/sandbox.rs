//! Hostile policies are contained: their batch fails, fees stay as they
//! were, the plugin stays up and says why.

use crate::support::*;
use revops_policy_artifacts::hostile;
use serde_json::json;
use std::time::Duration;

fn all_fees(node: &Node) -> Vec<u32> {
    let network = node.network.lock().unwrap();
    network.channels().iter().map(|c| c.fee_ppm).collect()
}

async fn run_hostile(bytes: &[u8], name: &str, expected_kind: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(dir.path().join(format!("{name}.wasm")), bytes).unwrap();
    let node = Node::start(json!({
        "revenue-ops-policy-dir": dir.path().display().to_string(),
        "revenue-ops-default-fee-policy": name,
    }))
    .await;
    let fees_before = all_fees(&node);

    let report = node.fee_cycle().await;
    assert_eq!(
        report["policy_failure"]["kind"],
        json!(expected_kind),
        "{report}"
    );
    for label in [DEPLETED, SATURATED_IDLE, BALANCED, CONGESTED] {
        let o = outcome(&report, &node, label);
        assert_eq!(o["action"], json!("policy_failed"), "{o}");
        assert_eq!(o["new_fee_ppm"], o["old_fee_ppm"]);
    }
    assert_eq!(fees_before, all_fees(&node), "no fee moved");
    // The operator reads why in lightningd's log, naming the policy.
    assert!(
        node.ld
            .wait_for_log(Duration::from_secs(5), |level, message| {
                level == "warn" && message.contains(name)
            })
            .await,
        "{:?}",
        node.ld.logs()
    );
    assert_eq!(node.setchannel_calls(), 0);

    let status = node.ok("revenue-status", json!({})).await;
    assert_eq!(status["policy_failures"]["total"], json!(1));
    assert_eq!(
        status["policy_failures"]["last"]["kind"],
        json!(expected_kind)
    );
    assert_eq!(
        status["policy_failures"]["last"]["policy_name"],
        json!(name),
        "{status}"
    );

    // The plugin and the built-in policy still work: switch back.
    node.ok(
        "revenue-config",
        json!({"action": "set", "key": "default_fee_policy", "value": "fee-alpha"}),
    )
    .await;
    let report = node.fee_cycle().await;
    assert!(report["policy_failure"].is_null(), "{report}");
    assert_eq!(
        outcome(&report, &node, DEPLETED)["action"],
        json!("applied")
    );
}

#[tokio::test]
async fn an_infinite_loop_runs_out_of_fuel() {
    run_hostile(
        hostile::INFINITE_LOOP,
        "hostile-infinite-loop",
        "out_of_fuel",
    )
    .await;
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_cap() {
    run_hostile(hostile::MEMORY_BOMB, "hostile-memory-bomb", "out_of_memory").await;
}

#[tokio::test]
async fn a_panic_is_a_trap() {
    run_hostile(hostile::PANIC, "hostile-panic", "trap").await;
}

#[tokio::test]
async fn a_bad_policy_file_is_reported_and_the_builtin_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("garbage.wasm"), b"\0asm not really").unwrap();
    let node = Node::start(json!({
        "revenue-ops-policy-dir": dir.path().display().to_string(),
    }))
    .await;
    let status = node.ok("revenue-status", json!({})).await;
    let errors = status["policy_load_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{status}");
    assert!(
        errors[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("garbage.wasm")
    );
    let report = node.fee_cycle().await;
    assert_eq!(
        outcome(&report, &node, DEPLETED)["action"],
        json!("applied")
    );
}

#[tokio::test]
async fn every_failing_policy_batch_is_reported_and_the_others_still_decide() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("panic.wasm"), hostile::PANIC).unwrap();
    std::fs::write(dir.path().join("err.wasm"), hostile::GUEST_ERROR).unwrap();
    let node = Node::start(json!({
        "revenue-ops-policy-dir": dir.path().display().to_string(),
        "revenue-ops-default-fee-policy": "hostile-guest-error",
    }))
    .await;
    let panicking_peer = node.channel(BALANCED).peer_id;
    let alpha_peer = node.channel(DEPLETED).peer_id;
    for (peer, strategy) in [(panicking_peer, "hostile-panic"), (alpha_peer, "fee-alpha")] {
        node.ok(
            "revenue-policy",
            json!({"action": "set", "peer_id": peer, "strategy": strategy}),
        )
        .await;
    }
    let report = node.fee_cycle().await;
    let kinds: Vec<_> = report["policy_failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["guest_error", "trap"], "{report}");
    assert_eq!(
        outcome(&report, &node, BALANCED)["action"],
        json!("policy_failed")
    );
    // The peer on a working policy still got its decision.
    assert_ne!(
        outcome(&report, &node, DEPLETED)["action"],
        json!("policy_failed")
    );
}
