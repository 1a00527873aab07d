//! The simulated sling: present only when asked for, answers in sling's
//! shapes (SLING.md), and its jobs move liquidity as simulated time passes.

use revops_node::sling::wire;
use revops_sim::{PluginSpec, RebalanceOutcome, SLING_METHODS, Scenario, SimNetwork, SlingParams};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const HOUR_SECS: u64 = 3_600;

fn sling_net(seed: u64) -> SimNetwork {
    SimNetwork::new(Scenario::default_node(seed).with_sling())
}

fn scid(net: &SimNetwork, label: &str) -> String {
    net.channel_by_label(label).unwrap().short_channel_id
}

fn ok(net: &mut SimNetwork, method: &str, params: Value) -> Value {
    net.handle_rpc(method, &params)
        .unwrap_or_else(|e| panic!("{method} {params}: {e}"))
}

/// Parses into the serde mirror `ClnNode` uses (required fields enforced).
fn parses_as<T: DeserializeOwned>(v: &Value) {
    if let Err(e) = serde_json::from_value::<T>(v.clone()) {
        panic!("{v} does not parse as sling's shape: {e}");
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// A depleted sink with the idle source as its only candidate.
fn staged(seed: u64, maxppm: u32) -> (SimNetwork, String, String) {
    let mut net = sling_net(seed);
    let sink = scid(&net, "depleting-sink");
    let source = scid(&net, "saturated-idle-source");
    net.set_local_msat(&sink, 500_000_000).unwrap();
    ok(
        &mut net,
        "sling-job",
        json!({"scid": sink, "direction": "pull", "amount": 200000, "maxppm": maxppm,
            "candidates": [source], "target": 0.3}),
    );
    (net, sink, source)
}

#[test]
fn without_sling_its_methods_are_unknown_commands() {
    let mut plain = SimNetwork::new(Scenario::default_node(1));
    let mut inactive_scenario = Scenario::default_node(1);
    let mut spec = PluginSpec::sling();
    spec.active = false;
    inactive_scenario.other_plugins.push(spec);
    let mut inactive = SimNetwork::new(inactive_scenario);
    for net in [&mut plain, &mut inactive] {
        assert!(!net.sling_present());
        for method in SLING_METHODS {
            let e = net.handle_rpc(method, &json!({})).unwrap_err();
            assert_eq!(e.code, -32601);
            assert_eq!(e.message, format!("Unknown command '{method}'"));
            assert_eq!(e.data, None);
        }
    }
    // default_node does not include sling unless asked.
    assert!(Scenario::default_node(1).other_plugins.is_empty());
    assert!(sling_net(1).sling_present());
}

#[test]
fn job_and_jobsettings_shapes_match_sling_md() {
    let mut net = sling_net(2);
    assert_eq!(
        ok(&mut net, "sling-version", json!([])),
        json!({"version": "v4.2.1"})
    );
    let a = scid(&net, "depleting-sink");
    let b = scid(&net, "balanced-busy-a");
    let c = scid(&net, "saturated-idle-source");
    let created = ok(
        &mut net,
        "sling-job",
        json!({"scid": a, "direction": "pull", "amount": 200000, "maxppm": 600,
            "outppm": 1000, "target": 0.3}),
    );
    assert_eq!(created, json!({"result": "success"}));
    // Every setting, as in SLING.md's push-job example.
    ok(
        &mut net,
        "sling-job",
        json!({"scid": b, "direction": "push", "amount": 50000, "maxppm": 300, "outppm": 5,
            "target": 0.6, "maxhops": 4, "candidates": [c], "depleteuptopercent": 0.3,
            "depleteuptoamount": 200000, "paralleljobs": 2}),
    );
    let one = ok(&mut net, "sling-jobsettings", json!([b]));
    assert_eq!(
        one.to_string(),
        format!(
            r#"{{"{b}":{{"amount_msat":50000000,"candidates":["{c}"],"depleteuptoamount_msat":200000000,"depleteuptopercent":0.3,"maxhops":4,"maxppm":300,"outppm":5,"paralleljobs":2,"sat_direction":"Push","target":0.6}}}}"#
        )
    );
    let all = ok(&mut net, "sling-jobsettings", json!({}));
    parses_as::<wire::JobSettings>(&all);
    // Unset keys are omitted; keys in string order.
    assert_eq!(
        all[&a],
        json!({"amount_msat": 200000000u64, "maxppm": 600, "outppm": 1000,
            "sat_direction": "Pull", "target": 0.3})
    );
    let mut scids = [a.clone(), b.clone()];
    scids.sort();
    assert_eq!(
        keys(&all),
        scids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    // `target` has no range check in sling.
    ok(
        &mut net,
        "sling-job",
        json!({"scid": a, "direction": "pull", "amount": 1, "maxppm": 1, "outppm": 1,
            "target": 1.5}),
    );
    assert_eq!(
        ok(&mut net, "sling-jobsettings", json!({"scid": a}))[&a]["target"],
        1.5
    );
}

#[test]
fn jobsettings_lists_without_creating_any_job() {
    let mut net = sling_net(3);
    for params in [json!({}), json!([])] {
        assert_eq!(ok(&mut net, "sling-jobsettings", params), json!({}));
    }
    assert_eq!(
        ok(&mut net, "sling-stats", json!({"json": true})),
        json!([])
    );
    assert_eq!(
        net.handle_rpc("sling-go", &json!({})).unwrap_err().message,
        "No jobs found"
    );
}

#[test]
fn go_and_stop_count_tasks_like_sling() {
    let mut net = sling_net(4);
    let a = scid(&net, "depleting-sink");
    let b = scid(&net, "balanced-busy-b");
    ok(
        &mut net,
        "sling-job",
        json!({"scid": a, "direction": "pull", "amount": 100000, "maxppm": 900, "outppm": 300}),
    );
    ok(
        &mut net,
        "sling-job",
        json!({"scid": b, "direction": "pull", "amount": 100000, "maxppm": 900, "outppm": 300,
            "paralleljobs": 2}),
    );
    let go = ok(&mut net, "sling-go", json!({"scid": a}));
    assert_eq!(
        go.to_string(),
        r#"{"tasks_failed_start:":0,"tasks_started":1}"#
    );
    parses_as::<wire::GoResult>(&go);
    // Running tasks are not counted again.
    assert_eq!(ok(&mut net, "sling-go", json!([]))["tasks_started"], 2);
    assert_eq!(ok(&mut net, "sling-go", json!([]))["tasks_started"], 0);
    // Every known task counts, running or not: stopping twice gives the same.
    let stop = ok(&mut net, "sling-stop", json!([]));
    assert_eq!(stop, json!({"stopped_count": 3}));
    parses_as::<wire::StopResult>(&stop);
    assert_eq!(ok(&mut net, "sling-stop", json!({}))["stopped_count"], 3);
    assert_eq!(ok(&mut net, "sling-stop", json!([b]))["stopped_count"], 2);
    let rows = ok(&mut net, "sling-stats", json!({"json": true}));
    for row in rows.as_array().unwrap() {
        for status in row["status"].as_array().unwrap() {
            let s = status.as_str().unwrap();
            assert!(s.ends_with(":Stopped") || s.ends_with(":Stopping"), "{s}");
        }
    }
    // After a stop, go starts them again.
    assert_eq!(ok(&mut net, "sling-go", json!([]))["tasks_started"], 3);
}

#[test]
fn stats_before_any_rebalance_match_sling_md() {
    let (mut net, sink, _) = staged(5, 2_000);
    let rows = ok(&mut net, "sling-stats", json!({"json": true}));
    parses_as::<Vec<wire::OverviewRow>>(&rows);
    let row = &rows[0];
    assert_eq!(
        keys(row),
        vec![
            "alias",
            "last_route_taken",
            "last_success_reb",
            "pubkey",
            "rebamount",
            "scid",
            "status",
            "w_feeppm"
        ]
    );
    assert_eq!(row["status"], json!(["1:NotStarted"]));
    assert_eq!(row["rebamount"], "0");
    assert_eq!(row["w_feeppm"], 0);
    assert_eq!(row["last_route_taken"], "Never");
    assert_eq!(row["last_success_reb"], "Never");
    assert_eq!(row["alias"], "depleting-sink");
    assert_eq!(row["pubkey"], net.channel(&sink).unwrap().peer_id);
    // `[true]` is the json flag.
    assert_eq!(ok(&mut net, "sling-stats", json!([true])), rows);
    // No history: both halves null, also for a scid sling never saw.
    for s in [sink.as_str(), "1x1x1"] {
        let h = ok(&mut net, "sling-stats", json!({"scid": s, "json": true}));
        assert_eq!(
            h.to_string(),
            r#"{"failures_in_time_window":null,"successes_in_time_window":null}"#
        );
        assert_eq!(
            ok(&mut net, "sling-stats", json!([s])),
            json!({"format-hint": "simple", "result": "\n"})
        );
    }
    let text = ok(&mut net, "sling-stats", json!({}));
    assert_eq!(text["format-hint"], "simple");
    let table = text["result"].as_str().unwrap();
    assert!(table.starts_with("+-"), "{table}");
    assert!(table.contains("| alias "), "{table}");
    assert!(table.contains("1:NotStarted"), "{table}");
}

#[test]
fn pull_job_fills_a_depleted_channel_and_reports_stats() {
    let (mut net, sink, source) = staged(6, 2_000);
    let before_sink = net.channel(&sink).unwrap();
    let before_source = net.channel(&source).unwrap();
    // Nothing moves until sling-go.
    let start = net.now();
    net.advance_to(start + HOUR_SECS);
    assert_eq!(net.rebalance_attempts(), 0);
    ok(&mut net, "sling-go", json!({"scid": sink}));
    net.advance_to(start + 4 * HOUR_SECS);

    let after_sink = net.channel(&sink).unwrap();
    let after_source = net.channel(&source).unwrap();
    assert_eq!(after_sink.capacity_msat, before_sink.capacity_msat);
    assert_eq!(after_source.capacity_msat, before_source.capacity_msat);
    let settled: Vec<_> = net
        .rebalances()
        .iter()
        .filter(|r| r.outcome == RebalanceOutcome::Settled)
        .cloned()
        .collect();
    assert!(settled.len() >= 5, "{} settled", settled.len());
    assert!(
        settled
            .iter()
            .all(|r| r.in_scid == sink && r.out_scid == source)
    );
    assert!(settled.iter().all(|r| r.amount_msat == 200_000_000));
    assert!(settled.iter().all(|r| r.fee_ppm <= 2_000 && r.hops >= 2));
    // Reached (and may overshoot) the 30 % target, less what traffic drained since.
    assert!(
        after_sink.local_msat > before_sink.local_msat + 500_000_000,
        "{} → {}",
        before_sink.local_msat,
        after_sink.local_msat
    );
    // The source paid amount + fee for every settled rebalance and kept its reserve.
    assert!(after_source.local_msat >= after_source.capacity_msat / 100);
    let fees = net.rebalance_fees_paid_msat();
    assert_eq!(fees, settled.iter().map(|r| r.fee_msat).sum::<u64>());
    assert!(fees > 0);
    assert_eq!(net.rebalanced_msat(), settled.len() as u64 * 200_000_000);

    let history = ok(&mut net, "sling-stats", json!({"scid": sink, "json": true}));
    parses_as::<wire::ScidStats>(&history);
    let s = &history["successes_in_time_window"];
    assert_eq!(
        keys(s),
        vec![
            "feeppm_90th_percentile",
            "feeppm_max",
            "feeppm_median",
            "feeppm_min",
            "feeppm_weighted_avg",
            "last_channel_partner",
            "most_common_hop_count",
            "time_of_last_rebalance",
            "time_window_days",
            "top_5_channel_partners",
            "total_amount_sats",
            "total_rebalances",
            "total_spent_sats"
        ]
    );
    assert_eq!(s["total_rebalances"], settled.len());
    assert_eq!(s["total_amount_sats"], settled.len() as u64 * 200_000);
    assert_eq!(s["total_spent_sats"], fees / 1000);
    assert_eq!(s["time_window_days"], "30");
    assert_eq!(s["last_channel_partner"], source);
    assert_eq!(
        s["top_5_channel_partners"],
        json!([{"alias": "saturated-idle-source", "sats": settled.len() as u64 * 200_000,
            "scid": source}])
    );
    let min = s["feeppm_min"].as_u64().unwrap();
    let max = s["feeppm_max"].as_u64().unwrap();
    let avg = s["feeppm_weighted_avg"].as_u64().unwrap();
    assert!(min <= avg && avg <= max);
    if !history["failures_in_time_window"].is_null() {
        let f = &history["failures_in_time_window"];
        assert_eq!(
            keys(f),
            vec![
                "most_common_hop_count",
                "time_of_last_attempt",
                "time_window_days",
                "top_5_channel_partners",
                "top_5_fail_nodes",
                "top_5_failure_reasons",
                "total_amount_tried_sats",
                "total_rebalances_tried"
            ]
        );
        assert_eq!(
            f["top_5_failure_reasons"][0]["failure_reason"],
            "WIRE_TEMPORARY_CHANNEL_FAILURE"
        );
    }

    let row = &ok(&mut net, "sling-stats", json!({"json": true}))[0];
    assert_eq!(
        row["rebamount"],
        format_sats(settled.len() as u64 * 200_000)
    );
    assert_eq!(row["w_feeppm"], avg);
    assert_ne!(row["last_success_reb"], "Never");
    let status = row["status"][0].as_str().unwrap();
    assert!(
        status == "1:Balanced" || status == "1:Rebalancing",
        "{status}"
    );
}

fn format_sats(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[test]
fn a_too_low_max_ppm_never_rebalances() {
    let (mut net, sink, _) = staged(7, 1);
    let before = net.channel(&sink).unwrap().local_msat;
    ok(&mut net, "sling-go", json!([]));
    let start = net.now();
    net.advance_to(start + 6 * HOUR_SECS);
    assert_eq!(net.rebalance_attempts(), 0);
    assert_eq!(net.rebalance_fees_paid_msat(), 0);
    assert!(net.rebalance_tries_too_expensive() > 0);
    // Only traffic moved the sink (it drains, never fills).
    assert!(net.channel(&sink).unwrap().local_msat <= before);
    let row = &ok(&mut net, "sling-stats", json!({"json": true}))[0];
    assert_eq!(row["status"], json!(["1:NoCheapRoute"]));
    assert_eq!(row["rebamount"], "0");
    // Routes over maxppm are never sent, so they are no failures either.
    assert_eq!(
        ok(&mut net, "sling-stats", json!({"scid": sink, "json": true})),
        json!({"failures_in_time_window": null, "successes_in_time_window": null})
    );
}

#[test]
fn stop_halts_and_delete_forgets_the_job_but_keeps_stats() {
    let (mut net, sink, _) = staged(8, 2_000);
    ok(&mut net, "sling-go", json!([]));
    let start = net.now();
    net.advance_to(start + 3);
    assert!(net.rebalance_attempts() > 0);
    assert_eq!(
        ok(&mut net, "sling-stop", json!({"scid": sink}))["stopped_count"],
        1
    );
    let attempts = net.rebalance_attempts();
    net.advance_to(start + 2 * HOUR_SECS);
    assert_eq!(net.rebalance_attempts(), attempts);
    // Stopped, still stored.
    assert_eq!(
        ok(&mut net, "sling-jobsettings", json!({}))
            .as_object()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(
        ok(&mut net, "sling-deletejob", json!({"job": sink})),
        json!({"result": "success"})
    );
    assert_eq!(ok(&mut net, "sling-jobsettings", json!({})), json!({}));
    assert_eq!(
        ok(&mut net, "sling-stats", json!({"json": true})),
        json!([])
    );
    assert_eq!(
        ok(&mut net, "sling-stop", json!([sink]))["stopped_count"],
        0
    );
    // The history stays until deleted with delete_stats.
    let history = ok(&mut net, "sling-stats", json!({"scid": sink, "json": true}));
    assert!(
        !history["successes_in_time_window"].is_null()
            || !history["failures_in_time_window"].is_null()
    );
    ok(&mut net, "sling-deletejob", json!([sink, true]));
    assert_eq!(
        ok(&mut net, "sling-stats", json!({"scid": sink, "json": true})),
        json!({"failures_in_time_window": null, "successes_in_time_window": null})
    );
}

#[test]
fn delete_all_with_stats_leaves_the_stats_as_observed() {
    let (mut net, sink, _) = staged(9, 2_000);
    ok(&mut net, "sling-go", json!([]));
    let start = net.now();
    net.advance_to(start + 10);
    ok(
        &mut net,
        "sling-deletejob",
        json!({"job": "all", "delete_stats": true}),
    );
    assert_eq!(ok(&mut net, "sling-jobsettings", json!({})), json!({}));
    let history = ok(&mut net, "sling-stats", json!({"scid": sink, "json": true}));
    assert_ne!(
        history,
        json!({"failures_in_time_window": null, "successes_in_time_window": null})
    );
}

#[test]
fn except_peer_round_trips_and_refuses_like_sling() {
    let mut net = sling_net(10);
    let peer_a = net.channels()[2].peer_id.clone();
    let peer_b = net.channels()[3].peer_id.clone();
    assert_eq!(
        ok(&mut net, "sling-except-peer", json!(["list"])),
        json!([])
    );
    assert_eq!(
        ok(
            &mut net,
            "sling-except-peer",
            json!({"command": "add", "id": peer_a})
        ),
        json!({"result": "success"})
    );
    // Upper-case input is stored as sling prints keys: lower case.
    ok(
        &mut net,
        "sling-except-peer",
        json!(["add", peer_b.to_uppercase()]),
    );
    assert_eq!(
        ok(&mut net, "sling-except-peer", json!({"command": "list"})),
        json!([peer_a, peer_b])
    );
    let again = net
        .handle_rpc("sling-except-peer", &json!(["add", peer_a]))
        .unwrap_err();
    assert_eq!(again.message, format!("{peer_a} is already in excepts"));
    let me = net.our_node_id().to_string();
    let own = net
        .handle_rpc("sling-except-peer", &json!(["add", me]))
        .unwrap_err();
    assert_eq!(own.message, "Can't exclude yourself");
    let sink = scid(&net, "depleting-sink");
    let sink_peer = net.channel(&sink).unwrap().peer_id;
    ok(
        &mut net,
        "sling-job",
        json!({"scid": sink, "direction": "pull", "amount": 1000, "maxppm": 10, "outppm": 1}),
    );
    let busy = net
        .handle_rpc("sling-except-peer", &json!(["add", sink_peer]))
        .unwrap_err();
    assert_eq!(
        busy.message,
        "this peer has a job already and can't be an except too"
    );
    ok(&mut net, "sling-except-peer", json!(["remove", peer_a]));
    assert_eq!(
        ok(&mut net, "sling-except-peer", json!(["list"])),
        json!([peer_b])
    );
}

#[test]
fn excepted_peers_are_never_candidates() {
    let (mut net, sink, source) = staged(11, 2_000);
    let source_peer = net.channel(&source).unwrap().peer_id;
    ok(&mut net, "sling-except-peer", json!(["add", source_peer]));
    ok(&mut net, "sling-go", json!([]));
    let start = net.now();
    net.advance_to(start + HOUR_SECS);
    assert_eq!(net.rebalance_attempts(), 0);
    let row = &ok(&mut net, "sling-stats", json!({"json": true}))[0];
    assert_eq!(row["status"], json!(["1:NoCandidates"]));
    assert!(net.channel(&sink).is_some());
}

#[test]
fn outppm_job_picks_cheap_sources_other_than_the_destination_peer() {
    let mut net = sling_net(12);
    let sink = scid(&net, "depleting-sink");
    net.set_local_msat(&sink, 500_000_000).unwrap();
    // Only the idle source (50 ppm) charges at most 60 ppm (+ base fee share).
    ok(
        &mut net,
        "sling-job",
        json!({"scid": sink, "direction": "pull", "amount": 100000, "maxppm": 3000,
            "outppm": 60}),
    );
    ok(&mut net, "sling-go", json!([]));
    let start = net.now();
    net.advance_to(start + HOUR_SECS);
    assert!(net.rebalance_attempts() > 0);
    let source = scid(&net, "saturated-idle-source");
    assert!(net.rebalances().iter().all(|r| r.out_scid == source));
}

#[test]
fn rebalancing_is_deterministic_per_seed_and_idle_sling_changes_nothing() {
    let run = |seed: u64| {
        let (mut net, _, _) = staged(seed, 800);
        ok(&mut net, "sling-go", json!([]));
        let start = net.now();
        net.advance_to(start + 12 * HOUR_SECS);
        let rows = ok(&mut net, "sling-stats", json!({"json": true}));
        (net.rebalances().to_vec(), rows, net.channels())
    };
    assert_eq!(run(13), run(13));
    assert_ne!(run(13).0, run(14).0);

    // sling installed but without jobs: the traffic is exactly as without it.
    let advance = |mut net: SimNetwork| {
        let start = net.now();
        net.advance_to(start + 24 * HOUR_SECS);
        ok(&mut net, "listforwards", json!({}))
    };
    assert_eq!(
        advance(SimNetwork::new(Scenario::default_node(15))),
        advance(sling_net(15))
    );
}

#[test]
fn route_costs_follow_the_params() {
    let mut scenario = Scenario::default_node(16).with_sling();
    scenario.sling = SlingParams {
        success_probability: 1.0,
        route_fee_factor: 0.1,
        route_fee_sigma: 0.0,
        ..SlingParams::default()
    };
    let mut net = SimNetwork::new(scenario);
    let sink = scid(&net, "depleting-sink");
    let source = scid(&net, "saturated-idle-source");
    net.set_local_msat(&sink, 500_000_000).unwrap();
    ok(
        &mut net,
        "sling-job",
        json!({"scid": sink, "direction": "pull", "amount": 200000, "maxppm": 100,
            "candidates": [source], "target": 0.3}),
    );
    ok(&mut net, "sling-go", json!([]));
    let start = net.now();
    net.advance_to(start + 60);
    // alternatives 450 ppm × 0.1 = 45 ppm, every payment settles.
    assert!(!net.rebalances().is_empty());
    for r in net.rebalances() {
        assert_eq!(r.outcome, RebalanceOutcome::Settled);
        assert_eq!(r.fee_msat, 9_000);
        assert_eq!(r.fee_ppm, 45);
    }
}
