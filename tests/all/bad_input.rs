//! Bad parameters get JSON-RPC -32602 naming the parameter; nothing changes.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn every_bad_parameter_is_named() {
    let node = Node::start(json!({})).await;
    let scid = node.channel(BALANCED).short_channel_id;
    let peer = node.channel(BALANCED).peer_id;

    assert_invalid_param(
        node.call(
            "revenue-set-fee",
            json!({"channel_id": scid, "fee_ppm": "lots"}),
        )
        .await,
        "fee_ppm",
    );
    assert_invalid_param(
        node.call(
            "revenue-set-fee",
            json!({"channel_id": "nope", "fee_ppm": 10}),
        )
        .await,
        "channel_id",
    );
    assert_invalid_param(
        node.call("revenue-set-fee", json!({"channel_id": scid}))
            .await,
        "fee_ppm",
    );
    assert_invalid_param(
        node.call(
            "revenue-set-fee",
            json!({"channel_id": "999x9x9", "fee_ppm": 10}),
        )
        .await,
        "999x9x9",
    );
    assert_invalid_param(
        node.call("revenue-set-fee", json!({"channel": scid, "fee_ppm": 10}))
            .await,
        "channel",
    );
    assert_invalid_param(
        node.call(
            "revenue-policy",
            json!({"action": "set", "peer_id": "02xyz"}),
        )
        .await,
        "peer_id",
    );
    assert_invalid_param(
        node.call(
            "revenue-policy",
            json!({"action": "set", "peer_id": peer, "strategy": "static"}),
        )
        .await,
        "fee_ppm",
    );
    assert_invalid_param(
        node.call(
            "revenue-policy",
            json!({"action": "set", "peer_id": peer, "strategy": "aggressive"}),
        )
        .await,
        "strategy",
    );
    assert_invalid_param(
        node.call(
            "revenue-policy",
            json!({"action": "set", "peer_id": peer, "min_fee_ppm": 500, "max_fee_ppm": 100}),
        )
        .await,
        "min_fee_ppm",
    );
    assert_invalid_param(
        node.call("revenue-policy", json!({"action": "explode"}))
            .await,
        "action",
    );
    assert_invalid_param(
        node.call(
            "revenue-config",
            json!({"action": "set", "key": "colour", "value": 1}),
        )
        .await,
        "colour",
    );
    assert_invalid_param(
        node.call(
            "revenue-config",
            json!({"action": "set", "key": "dry_run", "value": "maybe"}),
        )
        .await,
        "dry_run",
    );
    assert_invalid_param(
        node.call("revenue-status", json!({"verbose": true})).await,
        "verbose",
    );
    assert_invalid_param(
        node.call(
            "revenue-config",
            json!({"action": "set", "key": "default_fee_policy", "value": "no-such-policy"}),
        )
        .await,
        "default_fee_policy",
    );

    // Nothing was changed by any of it.
    let list = node.ok("revenue-policy", json!({"action": "list"})).await;
    assert!(list["policies"].as_array().unwrap().is_empty());
    assert_eq!(node.setchannel_calls(), 0);
    assert_eq!(node.channel(BALANCED).fee_ppm, 100);
}
