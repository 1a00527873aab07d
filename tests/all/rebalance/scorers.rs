//! Scorer policies in the rebalancer, through the real binary: one that
//! traps starts nothing, one that keeps failing is quarantined in favour of
//! the built-in, one shadowed beside the live scorer is never acted on.

use super::{EARNER, decision_for, earning_node, sling_calls, sling_jobs, started};
use crate::support::*;
use revops_policy_artifacts::hostile;
use serde_json::json;

/// The earning node with `wasm` in its policy directory (kept alive by the
/// returned directory) and `options` on top.
async fn earning_node_with_policy(
    wasm: &[u8],
    mut options: serde_json::Value,
) -> (Node, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.wasm"), wasm).unwrap();
    options["revenue-ops-policy-dir"] = json!(dir.path().display().to_string());
    (earning_node(options).await, dir)
}

#[tokio::test]
async fn a_trapping_scorer_starts_nothing_and_the_plugin_stays_up() {
    let (node, _dir) = earning_node_with_policy(
        hostile::PANIC,
        json!({"revenue-ops-rebalance-scorer": "hostile-panic"}),
    )
    .await;
    for _ in 0..2 {
        let report = node.ok("revenue-rebalance-cycle", json!({})).await;
        assert_eq!(report["scorer_failure"]["kind"], json!("trap"), "{report}");
        let earner = decision_for(&report, &node, EARNER);
        assert_eq!(
            earner["decision"]["decision"],
            json!("scorer_failed"),
            "{earner}"
        );
    }
    assert!(
        !sling_calls(&node)
            .iter()
            .any(|m| m == "sling-job" || m == "sling-go")
    );
    let status = node.ok("revenue-status", json!({})).await;
    assert_eq!(
        status["rebalancing"]["scorer"],
        json!("hostile-panic@0.1.0"),
        "{status}"
    );
    assert!(
        fee(
            &status["rebalancing"]["last_check"]["counts"],
            "scorer_failed"
        ) >= 1,
        "{status}"
    );

    // Back to the built-in scorer without a restart: the refill starts.
    node.ok(
        "revenue-config",
        json!({"action": "set", "key": "rebalance_scorer", "value": "rebalance-ev"}),
    )
    .await;
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    started(decision_for(&report, &node, EARNER));
}

#[tokio::test]
async fn a_quarantined_scorer_is_replaced_by_the_built_in_until_its_retry() {
    let (node, _dir) = earning_node_with_policy(
        hostile::PANIC,
        json!({
            "revenue-ops-rebalance-scorer": "hostile-panic",
            "revenue-ops-policy-quarantine-failures": 2,
        }),
    )
    .await;
    for _ in 0..2 {
        let report = node.ok("revenue-rebalance-cycle", json!({})).await;
        assert_eq!(report["scorer_failure"]["kind"], json!("trap"), "{report}");
    }
    // Quarantined: the built-in scorer decides, and the report says why.
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    assert!(report["scorer_failure"].is_null(), "{report}");
    let why = report["scorer_quarantined"].as_str().unwrap();
    assert!(
        why.contains("hostile-panic") && why.contains("rebalance-ev scores meanwhile"),
        "{why}"
    );
    started(decision_for(&report, &node, EARNER));
}

#[tokio::test]
async fn a_shadow_scorer_answers_the_same_candidates_and_starts_nothing() {
    // `hostile-none` rejects every rebalance; shadowed beside rebalance-ev.
    let (node, _dir) = earning_node_with_policy(hostile::WELL_BEHAVED, json!({})).await;
    let started_run = node
        .ok(
            "revenue-wasm",
            json!({"action": "shadow", "name": "hostile-none", "role": "rebalance-scorer"}),
        )
        .await;
    assert_eq!(started_run["started"], json!(true), "{started_run}");

    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    started(decision_for(&report, &node, EARNER));
    // Only the live scorer's job reached sling.
    assert_eq!(sling_jobs(&node).len(), 1);

    let shown = node
        .ok(
            "revenue-wasm",
            json!({"action": "shadow", "name": "hostile-none", "role": "rebalance-scorer"}),
        )
        .await;
    let shadow = &shown["shadow"];
    let summary = &shadow["summary"];
    assert_eq!(summary["cycles"], json!(1), "{shadow}");
    assert!(fee(summary, "live_only_accepts") >= 1, "{shadow}");
    assert_eq!(summary["shadow_only_accepts"], json!(0));
    let earner = node.channel(EARNER).short_channel_id;
    let row = shadow["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["destination"] == json!(earner))
        .unwrap_or_else(|| panic!("no verdict for the earner: {shadow}"));
    assert_eq!(row["live"]["accept"], json!(true), "{row}");
    assert_eq!(row["shadow"]["accept"], json!(false), "{row}");
    assert!(
        row["live_policy"]
            .as_str()
            .unwrap()
            .starts_with("rebalance-ev@")
    );
    // A fee-only policy cannot be shadowed as a scorer.
    let refused = node
        .call(
            "revenue-wasm",
            json!({"action": "shadow", "name": "fee-alpha", "role": "rebalance-scorer"}),
        )
        .await
        .unwrap_err();
    assert!(
        refused.message.contains("rebalance-scorer role"),
        "{refused:?}"
    );
}
