//! `revenue-wasm`: policies loaded, refused, rolled back and unloaded while
//! the plugin runs, through the real binary.

use crate::support::*;
use revops_policy_artifacts::hostile;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// fee-alpha as built against WIT 0.1.0: same name, another build.
fn old_fee_alpha() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../runtime/tests/fixtures/fee-alpha-wit-0.1.0.component.wasm")
}

fn listed<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == json!(name))
        .unwrap_or_else(|| panic!("{name} not listed: {list}"))
}

#[tokio::test]
async fn a_loaded_version_decides_at_once_and_rollback_restores_the_built_in() {
    let node = Node::start(json!({})).await;
    let list = node.ok("revenue-wasm", json!({"action": "list"})).await;
    let built_in = listed(&list, "fee-alpha")["sha256"].clone();
    assert_eq!(listed(&list, "fee-alpha")["source"], json!("built-in"));
    assert_eq!(
        listed(&list, "rebalance-ev")["roles"],
        json!(["rebalance-scorer"])
    );

    // Inspecting a file validates it and changes nothing.
    let path = old_fee_alpha();
    let inspected = node
        .ok(
            "revenue-wasm",
            json!({"action": "inspect", "path": path.display().to_string()}),
        )
        .await;
    assert_eq!(inspected["name"], json!("fee-alpha"));
    assert_eq!(inspected["loaded"], json!(false), "{inspected}");
    assert!(
        fee(&inspected["self_test"], "fee_decisions") >= 10,
        "{inspected}"
    );
    assert_ne!(inspected["sha256"], built_in);

    let loaded = node
        .ok(
            "revenue-wasm",
            json!({"action": "load", "path": path.display().to_string(), "name": "fee-alpha"}),
        )
        .await;
    assert_eq!(
        loaded["loaded"]["replaced"],
        json!("fee-alpha@0.1.0"),
        "{loaded}"
    );
    let list = node.ok("revenue-wasm", json!({"action": "list"})).await;
    let entry = listed(&list, "fee-alpha");
    assert_eq!(entry["sha256"], inspected["sha256"]);
    assert_eq!(entry["source"], json!(path.display().to_string()));
    assert!(
        entry["previous_version"]
            .as_str()
            .unwrap()
            .contains(built_in.as_str().unwrap())
    );

    // The next cycle decides with the new build, and status counts its calls.
    let report = node.fee_cycle().await;
    assert!(
        report["policy_failures"].as_array().unwrap().is_empty(),
        "{report}"
    );
    let status = node.ok("revenue-wasm", json!({"action": "status"})).await;
    let stats = &listed(&status, "fee-alpha")["stats"];
    assert_eq!(stats["calls"], json!(1), "{status}");
    assert_eq!(stats["failures"], json!(0));
    assert!(stats["fuel_p50"].as_u64().unwrap() > 0);

    let rolled = node
        .ok(
            "revenue-wasm",
            json!({"action": "rollback", "name": "fee-alpha"}),
        )
        .await;
    assert_eq!(rolled["rolled_back"]["sha256"], built_in, "{rolled}");
    let list = node.ok("revenue-wasm", json!({"action": "list"})).await;
    assert_eq!(listed(&list, "fee-alpha")["source"], json!("built-in"));
    // Built-in names are never unloaded.
    let refused = node
        .call(
            "revenue-wasm",
            json!({"action": "unload", "name": "fee-alpha"}),
        )
        .await
        .unwrap_err();
    assert!(refused.message.contains("built in"), "{refused:?}");
}

#[tokio::test]
async fn a_file_failing_validation_never_replaces_a_working_policy() {
    let dir = tempfile::tempdir().unwrap();
    let node =
        Node::start(json!({"revenue-ops-policy-dir": dir.path().display().to_string()})).await;
    let before = node.ok("revenue-wasm", json!({"action": "list"})).await;

    // A panicking guest loads (it is a valid component) but fails the self-test.
    std::fs::write(dir.path().join("panic.wasm"), hostile::PANIC).unwrap();
    let refused = node
        .call(
            "revenue-wasm",
            json!({"action": "load", "path": "panic.wasm"}),
        )
        .await
        .unwrap_err();
    assert!(refused.message.contains("self-test"), "{refused:?}");
    assert!(refused.message.contains("trap"), "{refused:?}");
    // Not a component at all.
    std::fs::write(dir.path().join("junk.wasm"), b"not wasm").unwrap();
    let refused = node
        .call(
            "revenue-wasm",
            json!({"action": "load", "path": "junk.wasm"}),
        )
        .await
        .unwrap_err();
    assert!(
        refused
            .message
            .contains("not a valid WebAssembly component"),
        "{refused:?}"
    );
    // A missing file.
    let refused = node
        .call(
            "revenue-wasm",
            json!({"action": "load", "path": "nowhere.wasm"}),
        )
        .await
        .unwrap_err();
    assert!(refused.message.contains("cannot read"), "{refused:?}");

    let after = node.ok("revenue-wasm", json!({"action": "list"})).await;
    assert_eq!(before, after);
    let status = node.ok("revenue-wasm", json!({"action": "status"})).await;
    let rejected: Vec<&str> = status["rejected_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(rejected.len(), 3, "{status}");
    assert!(rejected.iter().any(|f| f.ends_with("panic.wasm")));
    // Fees are still decided by the working default.
    let report = node.fee_cycle().await;
    assert!(
        report["policy_failures"].as_array().unwrap().is_empty(),
        "{report}"
    );
    assert_invalid_param(
        node.call("revenue-wasm", json!({"action": "explode"}))
            .await,
        "action",
    );
}

#[tokio::test]
async fn unload_is_refused_while_used_and_force_moves_the_users_to_the_defaults() {
    let node = Node::start(json!({})).await;
    // Outside the watched policy directory: only `load` picks it up.
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().join("calm.wasm");
    std::fs::write(&file, hostile::WELL_BEHAVED).unwrap();
    let loaded = node
        .ok(
            "revenue-wasm",
            json!({"action": "load", "path": file.display().to_string()}),
        )
        .await;
    assert_eq!(loaded["loaded"]["name"], json!("hostile-none"), "{loaded}");
    assert_eq!(loaded["loaded"]["replaced"], Value::Null);

    // A peer, the node default and the rebalancer all use it.
    let peer = node.channel(BALANCED).peer_id;
    node.ok(
        "revenue-policy",
        json!({"action": "set", "peer_id": peer, "strategy": "hostile-none"}),
    )
    .await;
    node.ok(
        "revenue-config",
        json!({"action": "set", "key": "default_fee_policy", "value": "hostile-none"}),
    )
    .await;
    node.ok(
        "revenue-config",
        json!({"action": "set", "key": "rebalance_scorer", "value": "hostile-none"}),
    )
    .await;
    let refused = node
        .call(
            "revenue-wasm",
            json!({"action": "unload", "name": "hostile-none"}),
        )
        .await
        .unwrap_err();
    assert!(refused.message.contains("1 peer(s)"), "{refused:?}");
    assert!(refused.message.contains("node default"), "{refused:?}");
    assert!(refused.message.contains("rebalancer"), "{refused:?}");

    let unloaded = node
        .ok(
            "revenue-wasm",
            json!({"action": "unload", "name": "hostile-none", "force": true}),
        )
        .await;
    assert_eq!(unloaded["moved"]["peers"], json!([peer]), "{unloaded}");
    assert_eq!(unloaded["moved"]["node_default"], json!("fee-alpha"));
    assert_eq!(unloaded["moved"]["rebalance_scorer"], json!("rebalance-ev"));
    let policy = node
        .ok("revenue-policy", json!({"action": "get", "peer_id": peer}))
        .await;
    assert_eq!(policy["policy"]["strategy"], json!("dynamic"), "{policy}");
    let list = node.ok("revenue-wasm", json!({"action": "list"})).await;
    assert!(
        !list["policies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == json!("hostile-none")),
        "{list}"
    );
    // Every channel still gets a decision from a loaded policy.
    let report = node.fee_cycle().await;
    assert!(
        report["policy_failures"].as_array().unwrap().is_empty(),
        "{report}"
    );

    // Unloaded, it is unknown: reload has nothing to reload.
    assert_invalid_param(
        node.call(
            "revenue-wasm",
            json!({"action": "reload", "name": "hostile-none"}),
        )
        .await,
        "hostile-none",
    );
}

/// Polls `revenue-wasm` until `done` says yes (the watcher works in the
/// background), or gives up after 20 s.
async fn wait_for(node: &Node, action: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let v = node.ok("revenue-wasm", json!({"action": action})).await;
        if done(&v) || tokio::time::Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_file_dropped_in_the_policy_directory_is_loaded_and_a_bad_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let node =
        Node::start(json!({"revenue-ops-policy-dir": dir.path().display().to_string()})).await;
    let has = |list: &Value, name: &str| {
        list["policies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == json!(name))
    };

    // Written under a temporary name, then renamed in place, as operators
    // (and `install`) do.
    let staging = dir.path().join("calm.tmp");
    std::fs::write(&staging, hostile::WELL_BEHAVED).unwrap();
    std::fs::rename(&staging, dir.path().join("calm.wasm")).unwrap();
    let list = wait_for(&node, "list", |l| has(l, "hostile-none")).await;
    assert!(
        has(&list, "hostile-none"),
        "{} {:?}",
        node.ok("revenue-wasm", json!({"action": "status"})).await,
        node.ld.logs()
    );
    assert!(
        listed(&list, "hostile-none")["source"]
            .as_str()
            .unwrap()
            .ends_with("calm.wasm")
    );

    // A panicking build dropped in is refused and replaces nothing.
    std::fs::write(dir.path().join("panic.wasm"), hostile::PANIC).unwrap();
    let status = wait_for(&node, "status", |s| {
        !s["rejected_files"].as_array().unwrap().is_empty()
    })
    .await;
    let rejected = &status["rejected_files"][0];
    assert!(
        rejected["file"].as_str().unwrap().ends_with("panic.wasm"),
        "{status}"
    );
    assert!(
        rejected["error"].as_str().unwrap().contains("self-test"),
        "{status}"
    );
    let list = node.ok("revenue-wasm", json!({"action": "list"})).await;
    assert!(!has(&list, "hostile-panic"), "{list}");

    // Removing a file unloads nothing.
    std::fs::remove_file(dir.path().join("calm.wasm")).unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let list = node.ok("revenue-wasm", json!({"action": "list"})).await;
    assert!(has(&list, "hostile-none"), "{list}");
}
