//! `revenue-config` and lightningd's `setconfig`.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn setconfig_values_arrive_as_strings_and_take_effect() {
    let node = Node::start(json!({})).await;
    let r = node
        .ld
        .setconfig("revenue-ops-max-fee-ppm", "250")
        .await
        .expect("setconfig accepted");
    assert_eq!(r["config"]["config"], json!("revenue-ops-max-fee-ppm"));
    let got = node
        .ok(
            "revenue-config",
            json!({"action": "get", "key": "max_fee_ppm"}),
        )
        .await;
    assert_eq!(got["value"], json!(250));
    let report = node.fee_cycle().await;
    assert!(fee(outcome(&report, &node, DEPLETED), "new_fee_ppm") <= 250);

    let bad = node.ld.setconfig("revenue-ops-max-fee-ppm", "lots").await;
    assert!(bad.is_err(), "a non-number is refused");
    let got = node
        .ok(
            "revenue-config",
            json!({"action": "get", "key": "max_fee_ppm"}),
        )
        .await;
    assert_eq!(got["value"], json!(250), "a refused value changes nothing");
}

#[tokio::test]
async fn revenue_config_sets_resets_and_lists() {
    let node = Node::start(json!({"revenue-ops-min-fee-ppm": 15})).await;
    let set = node
        .ok("revenue-config", json!(["set", "min_fee_ppm", 40]))
        .await;
    assert_eq!(set["old_value"], json!(15));
    assert_eq!(set["value"], json!(40));
    let reset = node
        .ok(
            "revenue-config",
            json!({"action": "reset", "key": "min_fee_ppm"}),
        )
        .await;
    assert_eq!(reset["value"], json!(15));
    assert_eq!(reset["source"], json!("option"));
    let list = node
        .ok("revenue-config", json!({"action": "list-mutable"}))
        .await;
    let keys: Vec<&str> = list["mutable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"dry_run") && keys.contains(&"fee_interval"),
        "{keys:?}"
    );
    let all = node.ok("revenue-config", json!({"action": "get"})).await;
    assert!(all["config"].as_array().unwrap().len() >= 6);

    // min above max is refused whole.
    let err = node
        .call(
            "revenue-config",
            json!({"action": "set", "key": "min_fee_ppm", "value": 6000}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, -32602);
    assert!(err.message.contains("max_fee_ppm"), "{err:?}");
}
