//! The simulated sling refuses bad arguments in sling's order, with its
//! exact texts, code -32700 and an explicit `"data": null` (SLING.md).

use revops_sim::{ChannelState, Scenario, SimNetwork, SimRpcError};
use serde_json::{Value, json};

fn net() -> SimNetwork {
    SimNetwork::new(Scenario::default_node(4).with_sling())
}

fn scid(net: &SimNetwork, label: &str) -> String {
    net.channel_by_label(label).unwrap().short_channel_id
}

fn refuse(net: &mut SimNetwork, method: &str, params: Value) -> SimRpcError {
    let e = net
        .handle_rpc(method, &params)
        .expect_err(&format!("{method} {params} should fail"));
    assert_eq!(e.code, -32700, "{method} {params}: {e:?}");
    assert_eq!(e.data, Some(Value::Null), "{method} {params}");
    e
}

/// Each case: params → the exact message sling answers.
fn expect_all(net: &mut SimNetwork, method: &str, cases: Vec<(Value, &str)>) {
    for (params, message) in cases {
        let e = refuse(net, method, params.clone());
        assert_eq!(e.message, message, "{method} {params}");
    }
}

#[test]
fn error_object_is_sling_shaped() {
    let mut n = net();
    let e = refuse(&mut n, "sling-job", json!({}));
    assert_eq!(
        e.to_json().to_string(),
        r#"{"code":-32700,"data":null,"message":"Missing scid"}"#
    );
}

#[test]
fn sling_job_checks_in_order_with_exact_texts() {
    let mut n = net();
    let s = scid(&n, "depleting-sink");
    let base = |extra: Value| {
        let mut m = json!({"scid": s, "direction": "pull", "amount": 100000, "maxppm": 500,
            "outppm": 100});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                m.as_object_mut().unwrap().remove(k);
            } else {
                m[k] = v.clone();
            }
        }
        m
    };
    let cases = vec![
        (
            json!(["109x1x0", "pull", 100000, 500]),
            r#"Expected an object! Got ["109x1x0","pull",100000,500] instead"#,
        ),
        // Unknown keys come before everything, the alphabetically first named.
        (json!({"zeta": 1, "alpha": 2}), "Invalid argument: alpha"),
        (json!({"onceamount": 1}), "Invalid argument: onceamount"),
        (json!({}), "Missing scid"),
        (json!({"scid": 5}), "invalid string for scid"),
        (json!({"scid": "zzz"}), "Malformed short_channel_id: zzz"),
        (json!({"scid": ""}), "Malformed short_channel_id: "),
        (
            json!({"scid": "1:2:3"}),
            "Malformed short_channel_id: 1:2:3",
        ),
        (
            json!({"scid": "109x1"}),
            "Malformed short_channel_id: element count mismatch",
        ),
        (
            json!({"scid": "1x2x3x4", "direction": 5}),
            "Malformed short_channel_id: element count mismatch",
        ),
        (json!({"scid": s}), "Missing direction"),
        (
            json!({"scid": s, "direction": 5}),
            "invalid string for direction",
        ),
        (
            json!({"scid": s, "direction": "Pull", "amount": 0}),
            "could not parse flow direction from `Pull`",
        ),
        (json!({"scid": s, "direction": "pull"}), "Missing amount"),
        (
            base(json!({"amount": "100"})),
            "amount must be a positive integer",
        ),
        (
            base(json!({"amount": -1})),
            "amount must be a positive integer",
        ),
        (
            base(json!({"amount": 1.5})),
            "amount must be a positive integer",
        ),
        (
            base(json!({"amount": 0, "maxppm": "x"})),
            "amount must be greater than 0",
        ),
        (base(json!({"maxppm": null})), "Missing maxppm"),
        (base(json!({"maxppm": "500"})), "maxppm must be an integer"),
        (
            base(json!({"maxppm": 4_294_967_296u64})),
            "out of range integral type conversion attempted",
        ),
        (base(json!({"outppm": -5})), "outppm must be an integer"),
        (
            base(json!({"target": "0.5"})),
            "target must be a floating point",
        ),
        (base(json!({"maxhops": "3"})), "maxhops must be an integer"),
        (
            base(json!({"maxhops": 256})),
            "out of range integral type conversion attempted",
        ),
        (base(json!({"maxhops": 1})), "maxhops must be atleast 2"),
        (
            base(json!({"depleteuptopercent": "0.1"})),
            "depleteuptopercent must be a floating point",
        ),
        (
            base(json!({"depleteuptopercent": 1.0})),
            "depleteuptopercent must be between 0.0 and <1.0",
        ),
        (
            base(json!({"depleteuptopercent": -0.1})),
            "depleteuptopercent must be between 0.0 and <1.0",
        ),
        (
            base(json!({"depleteuptoamount": 1.5})),
            "depleteuptoamount must be an integer",
        ),
        (
            base(json!({"paralleljobs": "2"})),
            "paralleljobs must be an integer",
        ),
        (
            base(json!({"paralleljobs": 70000})),
            "out of range integral type conversion attempted",
        ),
        (
            base(json!({"paralleljobs": 0})),
            "paralleljobs must be atleast 1",
        ),
        (
            base(json!({"direction": "push", "paralleljobs": 6})),
            "In a push job it doesn't make sense to have more paralleljobs than your max_htlc_count",
        ),
        (
            base(json!({"candidates": "109x2x0"})),
            "Invalid array for candidate list",
        ),
        (
            base(json!({"candidates": [5]})),
            "invalid string for channel id in candidate list",
        ),
        (
            base(json!({"candidates": ["zzz"]})),
            "Malformed short_channel_id: zzz",
        ),
        (
            base(json!({"outppm": null})),
            "Atleast one of outppm and candidatelist must be set.",
        ),
        (base(json!({"scid": "1x1x1"})), "Channel not found"),
    ];
    expect_all(&mut n, "sling-job", cases);
    // Nothing was stored by any of those.
    assert_eq!(
        n.handle_rpc("sling-jobsettings", &json!({})).unwrap(),
        json!({})
    );
}

#[test]
fn sling_job_refuses_same_direction_candidates_and_wrong_states() {
    let mut n = net();
    let sink = scid(&n, "depleting-sink");
    let source = scid(&n, "saturated-idle-source");
    let other = scid(&n, "balanced-busy-a");
    n.handle_rpc(
        "sling-job",
        &json!({"scid": source, "direction": "pull", "amount": 1000, "maxppm": 10, "outppm": 1}),
    )
    .unwrap();
    // The candidate check comes before "Channel not found" and names the
    // new job's direction, whatever the wording says.
    let e = refuse(
        &mut n,
        "sling-job",
        json!({"scid": "1x1x1", "direction": "pull", "amount": 1000, "maxppm": 10,
            "candidates": [source]}),
    );
    assert_eq!(
        e.message,
        format!("candidate {source} has a pull-job that rebalances in the other direction!")
    );
    // A push job may use a channel that has a pull job.
    n.handle_rpc(
        "sling-job",
        &json!({"scid": sink, "direction": "push", "amount": 1000, "maxppm": 10,
            "candidates": [source]}),
    )
    .unwrap();
    // Foreign candidates are not checked.
    n.handle_rpc(
        "sling-job",
        &json!({"scid": other, "direction": "pull", "amount": 1000, "maxppm": 10,
            "candidates": ["1x1x1"]}),
    )
    .unwrap();
    n.set_channel_state(&other, ChannelState::Onchain).unwrap();
    let e = refuse(
        &mut n,
        "sling-job",
        json!({"scid": other, "direction": "pull", "amount": 1000, "maxppm": 10, "outppm": 1}),
    );
    assert_eq!(
        e.message,
        "Not in CHANNELD_NORMAL or CHANNELD_AWAITING_SPLICE state!"
    );
}

#[test]
fn go_stop_jobsettings_deletejob_refuse_like_sling() {
    let mut n = net();
    let s = scid(&n, "depleting-sink");
    // No stored job is checked before anything else.
    expect_all(
        &mut n,
        "sling-go",
        vec![
            (json!(["a", "b"]), "No jobs found"),
            (json!({}), "No jobs found"),
        ],
    );
    n.handle_rpc(
        "sling-job",
        &json!({"scid": s, "direction": "pull", "amount": 1000, "maxppm": 10, "outppm": 1}),
    )
    .unwrap();
    expect_all(
        &mut n,
        "sling-go",
        vec![
            (
                json!([s, s]),
                "Please provide exactly one ShortChannelId or nothing",
            ),
            (json!([5]), "invalid ShortChannelId"),
            (json!({"foo": 1}), "invalid scid"),
            (json!({"scid": 5}), "invalid scid"),
            (json!({"scid": "1x1x1"}), "Shortchannelid not found in jobs"),
            (
                json!("x"),
                "sling-go: invalid arguments, expected array or object with `scid`, got: \"x\"",
            ),
        ],
    );
    expect_all(
        &mut n,
        "sling-stop",
        vec![
            (
                json!([s, s]),
                "Please provide exactly one ShortChannelId or nothing",
            ),
            (json!([5]), "invalid ShortChannelId"),
            (json!({"scid": 5}), "invalid scid"),
        ],
    );
    // Unknown keys: stop everything; an unknown scid stops nothing, no error.
    assert_eq!(
        n.handle_rpc("sling-stop", &json!({"foo": 1})).unwrap(),
        json!({"stopped_count": 0})
    );
    assert_eq!(
        n.handle_rpc("sling-stop", &json!(["1x1x1"])).unwrap(),
        json!({"stopped_count": 0})
    );
    expect_all(
        &mut n,
        "sling-jobsettings",
        vec![
            (
                json!([s, s]),
                "Please provide exactly one ShortChannelId or nothing for all",
            ),
            (
                json!({"scid": s, "x": 1}),
                "Please provide exactly one ShortChannelId or nothing for all",
            ),
            (json!([5]), "invalid input, not a string"),
            (json!({"foo": 1}), "Expected object with scid field"),
            (json!({"scid": 5}), "invalid scid, not a string"),
            (json!({"scid": "1x1x1"}), "channel not found"),
        ],
    );
    let amount_text = "Invalid amount of arguments: Please provide exactly one ShortChannelId or `all` and optionally if you want to delete the stats";
    expect_all(
        &mut n,
        "sling-deletejob",
        vec![
            (json!([]), amount_text),
            (json!([s, true, 1]), amount_text),
            (json!({"scid": s}), "invalid string for deleting job(s)"),
            (json!([5]), "invalid string for deleting job(s)"),
            (
                json!({"job": s, "delete_stats": "yes"}),
                "provided string was not `true` or `false`",
            ),
            (
                json!({"job": s, "delete_stats": 5}),
                "invalid type for deleting stats boolean",
            ),
        ],
    );
    // A scid without a job deletes fine; the loose forms of the flag work.
    for params in [
        json!({"job": "1x1x1"}),
        json!({"job": "1x1x1", "delete_stats": null}),
        json!(["1x1x1", "false"]),
    ] {
        assert_eq!(
            n.handle_rpc("sling-deletejob", &params).unwrap(),
            json!({"result": "success"})
        );
    }
}

#[test]
fn stats_and_except_peer_refuse_like_sling() {
    let mut n = net();
    expect_all(
        &mut n,
        "sling-stats",
        vec![
            (
                json!(["1x1x1", true, 1]),
                "Too many arguments, please only provide `scid` and/or `json`",
            ),
            (json!([5]), "invalid short_channel_id"),
            (json!({"scid": 5}), "invalid scid, not a string"),
            (
                json!({"json": "true"}),
                "invalid `json` flag, not a bool. Use `true` or `false`",
            ),
        ],
    );
    let peer = n.channels()[2].peer_id.clone();
    let either =
        "Invalid amount of arguments. Either provide `add`/`remove` and a peer `id` or just `list`";
    expect_all(
        &mut n,
        "sling-except-peer",
        vec![
            (json!([]), either),
            (json!(["add", peer, 1]), either),
            (
                json!(["add"]),
                "Invalid amount of arguments. Please either provide `add`/`remove` and a peer `id` or just `list`",
            ),
            (
                json!([5]),
                "Not a string. Use `add`/`remove` and a peer `id` or `list`",
            ),
            (
                json!({"command": 5}),
                "Not a string: Use `add`/`remove` and a peer `id` or just `list`",
            ),
            (
                json!({}),
                "Not a string: Use `add`/`remove` and a peer `id` or just `list`",
            ),
            (json!(["add", 5]), "node_id is not a string: 5"),
            (
                json!({"command": "add", "id": 5}),
                "not a vaild string for peer `id`: Some(Number(5))",
            ),
            (
                json!({"command": "add", "id": "02abcd"}),
                "malformed public key",
            ),
            (
                json!({"command": "add"}),
                "unknown commmand, use `list` or forgot the peer `id`?",
            ),
            (
                json!({"command": "list", "id": peer}),
                "Unknown commmand. Use `add`/`remove` and a peer `id` or `list`",
            ),
            (
                json!(["frob", peer]),
                "Unknown commmand. Use `add`/`remove` and a peer `id` or `list`",
            ),
            (
                json!({"command": "remove", "id": peer}),
                &format!("peer `id` {peer} not in excepts, nothing to remove"),
            ),
        ],
    );
}
