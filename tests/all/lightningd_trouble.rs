//! lightningd unreachable: calls fail with a reason, the circuit breaker
//! opens and then closes again once lightningd answers.

use crate::support::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn an_unreachable_lightningd_opens_the_breaker_and_recovers() {
    let node = Node::start(json!({"revenue-ops-rpc-circuit-breaker-seconds": 1})).await;
    let socket = node.ld.lightning_dir().join("lightning-rpc");
    let away = node.ld.lightning_dir().join("lightning-rpc.away");
    std::fs::rename(&socket, &away).unwrap();

    for _ in 0..3 {
        let err = node.call("revenue-fee-cycle", json!({})).await.unwrap_err();
        assert!(err.message.contains("cannot connect"), "{err:?}");
    }
    let status = node.ok("revenue-status", json!({})).await;
    let channels = status["lightningd_rpc"]["breakers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["group"] == json!("channels"))
        .unwrap()
        .clone();
    assert_eq!(channels["state"], json!("open"), "{channels}");
    assert_eq!(channels["consecutive_failures"], json!(3));
    let err = node.call("revenue-fee-cycle", json!({})).await.unwrap_err();
    assert!(err.message.contains("circuit breaker"), "{err:?}");
    assert_eq!(
        status["loops"][0]["last_cycle"]["error"]
            .as_str()
            .map(|e| e.contains("cannot connect")),
        Some(true),
        "{status}"
    );

    // lightningd is back; after the breaker period the next call goes through.
    std::fs::rename(&away, &socket).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = node.fee_cycle().await;
    assert!(report["policy_failure"].is_null());
    let status = node.ok("revenue-status", json!({})).await;
    assert!(
        status["lightningd_rpc"]["breakers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["state"] == json!("closed")),
        "{status}"
    );
    assert_eq!(node.setchannel_calls_for(DEPLETED), 1, "fees managed again");
}
