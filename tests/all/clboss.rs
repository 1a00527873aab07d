//! Working beside CLBoss: its fee management is taken over per peer before
//! the plugin sets a fee, only when CLBoss runs, and handed back on request.

use crate::support::*;
use revops_sim::PluginSpec;
use serde_json::{Value, json};
use std::sync::Arc;

async fn start_with_clboss() -> Node {
    let mut s = scenario();
    s.other_plugins.push(PluginSpec::new(
        "/usr/local/libexec/c-lightning/plugins/clboss",
        false,
    ));
    let node = Node::start_with(s, json!({})).await;
    // CLBoss's RPC, as the simulated lightningd would relay it.
    node.ld
        .set_rpc_override(Some(Arc::new(|_, method: &str, _: &Value| {
            (method == "clboss-unmanage").then(|| Ok(json!({})))
        })));
    node
}

fn unmanage_calls(node: &Node) -> Vec<Value> {
    node.ld
        .rpc_calls()
        .into_iter()
        .filter(|(m, _)| m == "clboss-unmanage")
        .map(|(_, p)| p)
        .collect()
}

#[tokio::test]
async fn clboss_is_told_to_unmanage_a_peers_fees_before_the_first_change() {
    let node = start_with_clboss().await;
    let report = node.fee_cycle().await;
    let depleted = outcome(&report, &node, DEPLETED);
    assert_eq!(depleted["action"], json!("applied"));
    let calls = unmanage_calls(&node);
    let peer = node.channel(DEPLETED).peer_id;
    assert!(
        calls
            .iter()
            .any(|p| p["nodeid"] == json!(peer) && p["tags"] == json!("lnfee")),
        "{calls:?}"
    );
    // The unmanage came before the fee change.
    let order: Vec<String> = node.ld.rpc_calls().into_iter().map(|(m, _)| m).collect();
    let first_unmanage = order.iter().position(|m| m == "clboss-unmanage").unwrap();
    let first_set = order.iter().position(|m| m == "setchannel").unwrap();
    assert!(first_unmanage < first_set, "{order:?}");

    // Asked once per peer: a second cycle does not repeat it.
    let before = unmanage_calls(&node).len();
    node.fee_cycle().await;
    let status = node.ok("revenue-clboss-status", json!({})).await;
    assert_eq!(status["present"], json!(true));
    let unmanaged = status["unmanaged"].as_array().unwrap();
    assert!(unmanaged.iter().any(|u| u["peer_id"] == json!(peer)));
    let repeated = unmanage_calls(&node)
        .iter()
        .skip(before)
        .filter(|p| p["nodeid"] == json!(peer))
        .count();
    assert_eq!(repeated, 0);

    // Hand the peer back: CLBoss gets an empty tag list.
    let after = node.ok("revenue-remanage", json!({"peer_id": peer})).await;
    assert!(
        !after["unmanaged"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["peer_id"] == json!(peer))
    );
    let last = unmanage_calls(&node).pop().unwrap();
    assert_eq!(
        (last["nodeid"].clone(), last["tags"].clone()),
        (json!(peer), json!(""))
    );
}

#[tokio::test]
async fn without_clboss_nothing_is_asked_of_it() {
    let node = Node::start(json!({})).await;
    node.fee_cycle().await;
    assert!(node.setchannel_calls() > 0);
    assert!(unmanage_calls(&node).is_empty());
    let status = node.ok("revenue-clboss-status", json!({})).await;
    assert_eq!(status["present"], json!(false));
    assert_invalid_param(
        node.call("revenue-remanage", json!({"peer_id": "nope"}))
            .await,
        "peer_id",
    );
}
