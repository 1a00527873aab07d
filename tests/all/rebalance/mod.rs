//! The rebalancer through the real binary: sling absent disables it with a
//! reason; with sling, the host's controls decide before anything is sent
//! to it; jobs start, succeed, fail, survive restarts and are cleared.
//! Scorer policies (failing, quarantined, shadowed) are in `scorers`.

mod scorers;

use crate::support::*;
use revops_sim::{ChannelSpec, PluginSpec, Scenario, SimNetwork};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn sling_calls(node: &Node) -> Vec<String> {
    node.ld
        .rpc_calls()
        .into_iter()
        .map(|(method, _)| method)
        .filter(|m| m.starts_with("sling-"))
        .collect()
}

fn decision_for<'a>(report: &'a Value, node: &Node, label: &str) -> &'a Value {
    let scid = node.channel(label).short_channel_id;
    report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["destination"] == json!(scid))
        .unwrap_or_else(|| panic!("no decision for {label}: {report}"))
}

#[tokio::test]
async fn without_sling_rebalancing_is_disabled_and_says_why() {
    let node = Node::start(json!({})).await;
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    assert!(
        report["disabled"].as_str().unwrap().contains("sling"),
        "{report}"
    );
    assert!(report["candidates"].as_array().unwrap().is_empty());
    // Only the read that found sling missing; nothing that changes anything.
    assert!(
        sling_calls(&node)
            .iter()
            .all(|m| m == "sling-stats" || m == "sling-jobsettings"),
        "{:?}",
        sling_calls(&node)
    );
    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    assert_eq!(debug["last_cycle"]["disabled"], report["disabled"]);
    assert_invalid_param(
        node.call("revenue-rebalance-cycle", json!({"force": true}))
            .await,
        "force",
    );
}

#[tokio::test]
async fn with_sling_an_idle_depleted_channel_is_refused_before_sling_hears_of_it() {
    let mut scenario = scenario();
    scenario.other_plugins.push(PluginSpec::sling());
    let node = Node::start_with(scenario, json!({})).await;
    // The passive peer's owner also says: never rebalance it.
    let excluded = node.channel(PASSIVE_PEER).peer_id;
    node.ok(
        "revenue-policy",
        json!({"action": "set", "peer_id": excluded, "strategy": "passive", "rebalance": "disabled"}),
    )
    .await;

    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    assert!(report["disabled"].is_null(), "{report}");
    // Capital controls were checked with the wallet and the budget.
    let capital = &report["capital"];
    assert!(fee(capital, "confirmed_onchain_sat") > 0, "{capital}");
    assert_eq!(fee(capital, "daily_budget_msat"), 5_000_000, "{capital}");
    // The depleted channel has no traffic at all: filling it would earn
    // nothing, so the velocity gate refuses it.
    let depleted = &decision_for(&report, &node, DEPLETED)["decision"];
    assert_eq!(depleted["decision"], json!("refused"), "{depleted}");
    assert_eq!(depleted["refusal"]["rule"], json!("idle"), "{depleted}");
    // No job was created or started; sling's except list was synced.
    let calls = sling_calls(&node);
    assert!(
        !calls.iter().any(|m| m == "sling-job" || m == "sling-go"),
        "{calls:?}"
    );
    assert!(calls.iter().any(|m| m == "sling-except-peer"), "{calls:?}");
    assert!(
        report["except_peers"]["peers"]
            .as_array()
            .unwrap()
            .contains(&json!(excluded)),
        "{report}"
    );

    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    assert_eq!(debug["running"], json!([]));
    assert_eq!(fee(&debug["budget"]["use"], "held_msat"), 0);
    assert_eq!(debug["last_cycle"]["counts"]["idle"], json!(1), "{debug}");
}

// ---------------------------------------------------------------------------
// An earning node: the rebalancer through its whole life.
// ---------------------------------------------------------------------------

const EARNER: &str = "earner";
const FULL: &str = "full-idle";
const TWIN: &str = "earner-twin";
const PAYER: &str = "payer";
const DAY_SECS: u64 = 86_400;

/// A day of traffic out through `earner` (600 ppm; it empties its 900,000
/// sat within the day), which is then left at 8 %; `full-idle`
/// (another peer, 95 % ours, idle) can refill it; `earner-twin` is a second,
/// full channel to the earner's own peer and must never be its source.
/// Routes back into the earner cost about 60 ppm in the simulated sling,
/// under the 100 ppm the scorer's spread (600 − 500 inbound estimate) allows.
fn earning_network(bookkeeper: bool) -> SimNetwork {
    let seed = 11;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut s = Scenario::empty(seed).with_sling();
    if bookkeeper {
        s.other_plugins.push(PluginSpec::bookkeeper());
    }
    s.start_time_secs = now - DAY_SECS;
    s.sling.route_fee_factor = 0.1;
    s.sling.route_fee_sigma = 0.1;
    s.sling.success_probability = 1.0;
    let mut add = |label: &str, capacity_sat: u64, local_pct: u64, fee_ppm: u32, demand: f64| {
        let mut c = ChannelSpec::new(seed, s.channels.len());
        c.label = label.to_string();
        c.capacity_sat = capacity_sat;
        c.local_sat = capacity_sat * local_pct / 100;
        c.fee_ppm = fee_ppm;
        c.alternatives_fee_ppm = fee_ppm;
        c.demand_per_day = demand;
        c.baseline_htlcs_in_flight = 0;
        s.channels.push(c);
        s.channels.len() - 1
    };
    let earner = add(EARNER, 1_000_000, 90, 600, 150.0);
    add(FULL, 4_000_000, 95, 100, 0.0);
    let twin = add(TWIN, 4_000_000, 95, 100, 0.0);
    // Payments come in through a channel whose remote side is full.
    add(PAYER, 8_000_000, 10, 100, 0.0);
    s.channels[twin].peer_id = s.channels[earner].peer_id.clone();
    for c in s.channels.iter_mut().filter(|c| c.label != PAYER) {
        c.source_weight = 0.0;
    }
    let mut network = SimNetwork::new(s);
    network.advance_to(now);
    let earner = network.channel_by_label(EARNER).unwrap();
    network
        .set_local_msat(&earner.short_channel_id, earner.capacity_msat * 8 / 100)
        .unwrap();
    network
}

/// Started on the earning network, its forwards read and classified.
async fn earning_node(options: Value) -> Node {
    earning_node_with(false, options).await
}

async fn earning_node_with(bookkeeper: bool, mut options: Value) -> Node {
    // Flow over the last day: the earner turned most of its capacity over.
    options["revenue-ops-flow-window-days"] = json!(1);
    let node = Node::start_on(earning_network(bookkeeper), options).await;
    node.ok("revenue-analyze", json!({})).await;
    node
}

fn started(decision: &Value) -> (i64, u64) {
    assert_eq!(
        decision["decision"]["decision"],
        json!("started"),
        "{decision}"
    );
    (
        decision["decision"]["rebalance_id"].as_i64().unwrap(),
        decision["decision"]["max_fee_ppm"].as_u64().unwrap(),
    )
}

fn sling_jobs(node: &Node) -> Vec<Value> {
    let listed = node
        .network
        .lock()
        .unwrap()
        .handle_rpc("sling-jobsettings", &json!({}))
        .unwrap();
    listed.as_object().map_or_else(Vec::new, |jobs| {
        jobs.iter()
            .map(|(scid, job)| json!({"scid": scid, "job": job}))
            .collect()
    })
}

fn advance(node: &Node, secs: u64) {
    let mut network = node.network.lock().unwrap();
    let now = network.now();
    network.advance_to(now + secs);
}

#[tokio::test]
async fn a_depleted_earning_channel_is_refilled_within_budget_and_never_from_its_own_peer() {
    // With bookkeeper running, the fee is measured, not estimated.
    let node = earning_node_with(true, json!({})).await;
    let earner = node.channel(EARNER);
    let twin = node.channel(TWIN).short_channel_id;
    let full = node.channel(FULL).short_channel_id;

    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    let decision = decision_for(&report, &node, EARNER);
    let (id, max_ppm) = started(decision);
    // Never pays more per unit than the destination earns, and the hold fits the budget.
    assert!(max_ppm > 0 && max_ppm <= 600, "{decision}");
    let amount_msat = fee(decision, "amount_msat");
    let capital = &report["capital"];
    assert!(amount_msat * max_ppm / 1_000_000 <= fee(capital, "daily_budget_msat"));
    // The twin is full but to the same peer: never offered as a source.
    let sources = decision["sources"].as_array().unwrap();
    assert!(sources.contains(&json!(full)), "{decision}");
    assert!(!sources.contains(&json!(twin)), "{decision}");
    // sling got exactly that job: pull into the earner, candidates without the twin.
    let jobs = sling_jobs(&node);
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["scid"], json!(earner.short_channel_id));
    assert_eq!(jobs[0]["job"]["maxppm"], json!(max_ppm), "{jobs:?}");
    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    assert_eq!(debug["running"][0]["id"], json!(id), "{debug}");
    assert_eq!(
        fee(&debug["budget"]["use"], "held_msat"),
        amount_msat * max_ppm / 1_000_000
    );

    // sling works for an hour: the earner's balance rises; the next check
    // calls it a success, stops and deletes the job, and books the fee.
    advance(&node, 3_600);
    assert!(node.channel(EARNER).local_msat > earner.local_msat);
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    let finished = &report["finished"][0];
    assert_eq!(finished["rebalance_id"], json!(id), "{report}");
    assert_eq!(finished["outcome"], json!("success"), "{report}");
    assert_eq!(finished["fee_is_estimate"], json!(false), "{finished}");
    assert!(sling_jobs(&node).is_empty());
    let fee_msat = fee(finished, "fee_msat");
    // Exactly what the simulated sling paid to refill the earner.
    let paid_msat: u64 = node
        .network
        .lock()
        .unwrap()
        .rebalances()
        .iter()
        .filter(|r| {
            r.in_scid == earner.short_channel_id
                && r.outcome == revops_sim::RebalanceOutcome::Settled
        })
        .map(|r| r.fee_msat)
        .sum();
    assert_eq!(fee_msat, paid_msat);
    assert!(fee_msat > 0 && fee_msat <= fee(finished, "moved_msat") * max_ppm / 1_000_000);
    // Refilled, the earner is no destination now, and its history starts
    // its cooldown; the hold became spend.
    assert!(
        report["candidates"].as_array().unwrap().is_empty(),
        "{report}"
    );
    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    let history = &debug["destinations"][&earner.short_channel_id];
    assert!(history["last_success_at"].as_u64().is_some(), "{debug}");
    assert_eq!(fee(&debug["budget"]["use"], "held_msat"), 0);
    assert_eq!(fee(&debug["budget"]["use"], "spent_24h_msat"), fee_msat);

    // A manual rebalance between the earner's two channels is refused, naming why.
    let paired = node
        .call(
            "revenue-rebalance",
            json!({"from_channel": twin, "to_channel": earner.short_channel_id,
                   "amount_sats": 100_000, "force": true}),
        )
        .await;
    assert_invalid_param(paired, "to_channel");
}

#[tokio::test]
async fn the_budget_runs_out_and_the_reserve_blocks_without_sling_hearing_of_it() {
    // No budget at all: nothing may start.
    let node = earning_node(json!({
        "revenue-ops-daily-budget-sats": 0,
        "revenue-ops-proportional-budget": false,
    }))
    .await;
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    let refusals = report["capital_refusals"].as_array().unwrap();
    assert!(
        refusals.iter().any(|r| r["rule"] == json!("budget")),
        "{report}"
    );
    assert!(
        !sling_calls(&node)
            .iter()
            .any(|m| m == "sling-job" || m == "sling-go")
    );

    // A budget that holds one refill, but not two: the first starts, the
    // manual second is refused by the budget even with force.
    node.ok(
        "revenue-config",
        json!({"action": "set", "key": "daily_budget_sats", "value": 400}),
    )
    .await;
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    started(decision_for(&report, &node, EARNER));
    let held = fee(
        &node.ok("revenue-rebalance-debug", json!({})).await["budget"]["use"],
        "held_msat",
    );
    assert!(held > 0 && held <= 400_000, "{held}");
    let payer = node.channel(PAYER).short_channel_id;
    let full = node.channel(FULL).short_channel_id;
    let refused = node
        .call(
            "revenue-rebalance",
            json!([full, payer, 500_000, 380, true]),
        )
        .await
        .unwrap_err();
    assert!(refused.message.contains("daily budget"), "{refused:?}");
    // Nothing was written for the refused one.
    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    assert_eq!(debug["running"].as_array().unwrap().len(), 1, "{debug}");

    // The operator clears the holds: the job is stopped and deleted.
    let cleared = node.ok("revenue-clear-reservations", json!({})).await;
    assert_eq!(cleared["cleared"].as_array().unwrap().len(), 1, "{cleared}");
    assert_eq!(fee(&cleared, "released_msat"), held);
    assert!(sling_jobs(&node).is_empty());

    // The reserve: more than the node has means nothing starts.
    node.ok(
        "revenue-config",
        json!({"action": "set", "key": "min_wallet_reserve", "value": 1_000_000_000}),
    )
    .await;
    let jobs_before = sling_calls(&node)
        .iter()
        .filter(|m| *m == "sling-job")
        .count();
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    assert!(
        report["capital_refusals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == json!("wallet_reserve")),
        "{report}"
    );
    let refused = node
        .call(
            "revenue-rebalance",
            json!({"from_channel": full, "to_channel": payer, "amount_sats": 100_000, "force": true}),
        )
        .await
        .unwrap_err();
    assert!(refused.message.contains("wallet reserve"), "{refused:?}");
    assert_eq!(
        sling_calls(&node)
            .iter()
            .filter(|m| *m == "sling-job")
            .count(),
        jobs_before
    );
}

#[tokio::test]
async fn the_futility_breaker_trips_after_eleven_failures_and_a_success_resets_it() {
    let node = earning_node(json!({})).await;
    let earner = node.channel(EARNER).short_channel_id;
    let full = node.channel(FULL).short_channel_id;
    let manual = json!({"from_channel": full, "to_channel": earner,
                        "amount_sats": 50_000, "max_fee_sats": 30, "force": true});
    for _ in 0..11 {
        let started = node.ok("revenue-rebalance", manual.clone()).await;
        assert_eq!(
            started["decision"]["decision"],
            json!("started"),
            "{started}"
        );
        // Someone stops the job in sling before it moves anything.
        node.network
            .lock()
            .unwrap()
            .handle_rpc("sling-stop", &json!({"scid": earner}))
            .unwrap();
        let report = node.ok("revenue-rebalance-cycle", json!({})).await;
        assert_eq!(
            report["finished"][0]["outcome"],
            json!("failed"),
            "{report}"
        );
    }
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    let refusal = &decision_for(&report, &node, EARNER)["decision"]["refusal"];
    assert_eq!(refusal["rule"], json!("futility"), "{report}");
    assert_eq!(refusal["consecutive_failures"], json!(11));
    // Without force the manual path is refused by the breaker too.
    let mut unforced = manual.clone();
    unforced["force"] = json!(false);
    let refused = node.call("revenue-rebalance", unforced).await.unwrap_err();
    assert!(refused.message.contains("futility"), "{refused:?}");
    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    let gate = &debug["destinations"][&earner]["gate"];
    assert_eq!(gate["rule"], json!("futility"), "{debug}");
    assert!(
        fee(gate, "until") >= fee(&debug["destinations"][&earner], "last_failure_at") + 48 * 3_600
    );

    // One forced rebalance that works ends the streak: no more futility.
    node.ok("revenue-rebalance", manual).await;
    advance(&node, 3_600);
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    assert_eq!(
        report["finished"][0]["outcome"],
        json!("success"),
        "{report}"
    );
    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    let history = &debug["destinations"][&earner];
    assert_eq!(history["consecutive_failures"], json!(0), "{debug}");
    assert!(history["last_success_at"].as_u64().is_some(), "{debug}");
}

#[tokio::test]
async fn a_restart_resumes_a_live_job_and_releases_one_sling_lost() {
    let mut node = earning_node(json!({})).await;
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    let (id, _) = started(decision_for(&report, &node, EARNER));

    // A crash: sling keeps the job; after the restart it is resumed and
    // its hold kept, then settled when the balance rises.
    node.ld.kill9().await.unwrap();
    node.ld.restart().await.unwrap();
    assert!(
        node.ld
            .wait_for_log(Duration::from_secs(30), |_, m| m.contains("start-up:")
                && m.contains("1 resumed"))
            .await,
        "{:?}",
        node.ld.logs()
    );
    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    assert_eq!(debug["running"][0]["id"], json!(id), "{debug}");
    assert!(fee(&debug["budget"]["use"], "held_msat") > 0);
    advance(&node, 3_600);
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    assert_eq!(
        report["finished"][0]["outcome"],
        json!("success"),
        "{report}"
    );

    // A job that vanished from sling while the plugin was down: the
    // restart finishes its row and releases its hold.
    let full = node.channel(FULL).short_channel_id;
    let payer = node.channel(PAYER).short_channel_id;
    let manual = node
        .ok(
            "revenue-rebalance",
            json!({"from_channel": full, "to_channel": payer, "amount_sats": 200_000,
                   "max_fee_sats": 100, "force": true}),
        )
        .await;
    let id = manual["decision"]["rebalance_id"].as_i64().unwrap();
    node.ld.stop().await.unwrap();
    node.network
        .lock()
        .unwrap()
        .handle_rpc("sling-deletejob", &json!({"job": payer}))
        .unwrap();
    node.ld.restart().await.unwrap();
    assert!(
        node.ld
            .wait_for_log(Duration::from_secs(30), |_, m| m.contains("start-up:")
                && m.contains("1 finished"))
            .await,
        "{:?}",
        node.ld.logs()
    );
    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    assert_eq!(debug["running"], json!([]), "{debug}");
    assert_eq!(fee(&debug["budget"]["use"], "held_msat"), 0);
    let row = debug["recent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(id))
        .unwrap();
    assert_eq!(row["outcome"], json!("failed"), "{row}");
}

#[tokio::test]
async fn manual_rebalance_names_bad_parameters_and_status_tells_about_sling() {
    let node = earning_node(json!({})).await;
    let full = node.channel(FULL).short_channel_id;
    let earner = node.channel(EARNER).short_channel_id;
    assert_invalid_param(
        node.call(
            "revenue-rebalance",
            json!({"from_channel": "9x9x9", "to_channel": earner, "amount_sats": 1000}),
        )
        .await,
        "from_channel",
    );
    assert_invalid_param(
        node.call(
            "revenue-rebalance",
            json!({"from_channel": full, "to_channel": earner}),
        )
        .await,
        "amount_sats",
    );
    assert_invalid_param(
        node.call(
            "revenue-rebalance",
            json!({"from_channel": full, "to_channel": earner, "amount_sats": 10_000_000}),
        )
        .await,
        "amount_sats",
    );
    assert_invalid_param(
        node.call(
            "revenue-rebalance",
            json!({"from_channel": full, "to_channel": full, "amount_sats": 1000}),
        )
        .await,
        "to_channel",
    );
    assert_invalid_param(
        node.call(
            "revenue-rebalance",
            json!({"from_channel": full, "to_channel": earner, "amount_sats": "lots"}),
        )
        .await,
        "amount_sats",
    );
    // A peer id with one channel names it; asking more than the earner earns is refused.
    let full_peer = node.channel(FULL).peer_id;
    let too_dear = node
        .call(
            "revenue-rebalance",
            json!({"from_channel": full_peer, "to_channel": earner, "amount_sats": 100_000, "max_fee_sats": 500}),
        )
        .await
        .unwrap_err();
    assert!(too_dear.message.contains("fee_cap"), "{too_dear:?}");
    assert!(too_dear.message.contains("force=true"), "{too_dear:?}");

    let status = node.ok("revenue-status", json!({})).await;
    assert_eq!(status["rebalancing"]["enabled"], json!(true), "{status}");
    assert!(
        status["loops"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == json!("rebalance") && l["interval_secs"] == json!(900))
    );

    let without = Node::start(json!({})).await;
    let status = without.ok("revenue-status", json!({})).await;
    assert_eq!(status["rebalancing"]["enabled"], json!(false), "{status}");
    assert!(
        status["rebalancing"]["reason"]
            .as_str()
            .unwrap()
            .contains("sling")
    );
    let refused = without
        .call("revenue-rebalance", json!(["1x1x1", "2x2x2", 1000]))
        .await
        .unwrap_err();
    assert!(
        refused.message.contains("sling is not running"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn dry_run_records_what_it_would_start_and_changes_nothing_in_sling() {
    let node = earning_node(json!({"revenue-ops-dry-run": true})).await;
    let report = node.ok("revenue-rebalance-cycle", json!({})).await;
    let decision = decision_for(&report, &node, EARNER);
    assert_eq!(
        decision["decision"]["decision"],
        json!("dry_run"),
        "{decision}"
    );
    let calls = sling_calls(&node);
    assert!(
        calls
            .iter()
            .all(|m| m == "sling-stats" || m == "sling-jobsettings"),
        "{calls:?}"
    );
    let debug = node.ok("revenue-rebalance-debug", json!({})).await;
    assert_eq!(debug["recent"][0]["outcome"], json!("dry_run"), "{debug}");
}
