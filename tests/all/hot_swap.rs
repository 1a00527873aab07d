//! Hot swaps under load: policies replaced over and over while fee cycles
//! run, through the real binary. No decision fails and every decision is
//! made by a whole, validated build.

use crate::support::*;
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

const SWAPS: usize = 1_000;

#[tokio::test]
async fn a_thousand_swaps_while_cycles_run_fail_no_decision() {
    let node = Node::start(json!({})).await;
    let files = tempfile::tempdir().unwrap();
    // Two builds of `fee-alpha`: the built-in one and the one built against
    // WIT 0.1.0 (different bytes, same name and version).
    let built_in = files.path().join("alpha-current.wasm");
    std::fs::write(&built_in, revops_policy_artifacts::FEE_ALPHA).unwrap();
    let old = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../runtime/tests/fixtures/fee-alpha-wit-0.1.0.component.wasm");
    let builds = [built_in, old];

    let swaps_done = AtomicBool::new(false);
    let swapping = async {
        let mut hashes = std::collections::BTreeSet::new();
        for i in 0..SWAPS {
            let path = builds[i % 2].display().to_string();
            let loaded = node
                .ok(
                    "revenue-wasm",
                    json!({"action": "load", "path": path, "name": "fee-alpha"}),
                )
                .await;
            hashes.insert(loaded["loaded"]["sha256"].as_str().unwrap().to_string());
        }
        swaps_done.store(true, Ordering::SeqCst);
        hashes
    };
    let cycling = async {
        let mut cycles = 0usize;
        let mut decided = 0usize;
        // Cycles run back to back for as long as the swaps go on (and at
        // least a few times).
        loop {
            let report = node.fee_cycle().await;
            assert!(
                report["policy_failures"].as_array().unwrap().is_empty(),
                "a decision failed during the swaps: {report}"
            );
            for channel in report["channels"].as_array().unwrap() {
                assert_ne!(channel["action"], json!("policy_failed"), "{channel}");
                if let Some(policy) = channel["policy"].as_str() {
                    assert_eq!(policy, "fee-alpha@0.1.0", "{channel}");
                    decided += 1;
                }
            }
            cycles += 1;
            if cycles >= 5 && swaps_done.load(Ordering::SeqCst) {
                return (cycles, decided);
            }
        }
    };
    let (hashes, (cycles, decided)) = tokio::join!(swapping, cycling);
    assert_eq!(hashes.len(), 2, "both builds were installed");
    assert!(
        cycles >= 5 && decided > 0,
        "{cycles} cycles, {decided} decisions"
    );
    eprintln!("{SWAPS} swaps alongside {cycles} fee cycles ({decided} decisions), none failed");

    // Every call of either build succeeded.
    let status = node.ok("revenue-wasm", json!({"action": "status"})).await;
    let alpha = status["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == json!("fee-alpha"))
        .unwrap();
    assert_eq!(alpha["stats"]["failures"], json!(0), "{alpha}");
}
