//! Parsing uses the answers recorded in `cln-fixtures/SLING.md`; the
//! operations run against a scripted transport that records every request.

use super::{convert, ops, request, wire};
use revops_core::{
    ExecutorError, JobDirection, JobSpec, Msat, NodeError, Sat, TaskState, TaskStatus,
};
use serde_json::{Value, json};
use std::sync::Mutex;

const NODE_B: &str = "020f8747a3e1b2b5a0bc9b6a4c10e1d0b8d8f4c6b0e2d2a6c7b8e9f0a1b2c3d4e5";
const NODE_C: &str = "03a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("parses")
}

#[test]
fn jobsettings_example_parses_into_job_info() {
    // SLING.md: sling-jobsettings ["109x2x0"].
    let settings: wire::JobSettings = parse(json!({"109x2x0": {"amount_msat": 50000000,
        "candidates": ["109x1x0"], "depleteuptoamount_msat": 200000000,
        "depleteuptopercent": 0.3, "maxhops": 4, "maxppm": 300, "outppm": 5,
        "paralleljobs": 2, "sat_direction": "Push", "target": 0.6}}));
    let jobs = convert::jobs(settings);
    assert_eq!(jobs.len(), 1);
    let j = &jobs[0];
    assert_eq!(j.short_channel_id, "109x2x0");
    assert_eq!(j.direction, JobDirection::Push);
    assert_eq!(j.amount_msat, Msat(50_000_000));
    assert_eq!(j.max_ppm, 300);
    assert_eq!(j.out_ppm, Some(5));
    assert_eq!(j.target_ratio, Some(0.6));
    assert_eq!(j.max_hops, Some(4));
    assert_eq!(j.candidates, vec!["109x1x0".to_string()]);
    assert_eq!(j.deplete_up_to_ratio, Some(0.3));
    assert_eq!(j.deplete_up_to_msat, Some(Msat(200_000_000)));
    assert_eq!(j.parallel_jobs, Some(2));
}

#[test]
fn minimal_stored_job_parses_with_omitted_keys() {
    let settings: wire::JobSettings = parse(json!({"109x1x0": {"amount_msat": 200000000,
        "maxppm": 600, "outppm": 1000, "sat_direction": "Pull", "target": 0.3}}));
    let j = &convert::jobs(settings)[0];
    assert_eq!(j.direction, JobDirection::Pull);
    assert!(j.candidates.is_empty());
    assert_eq!(j.max_hops, None);
    assert_eq!(j.parallel_jobs, None);
    // Lower case is sling's input spelling, never its output.
    assert!(
        serde_json::from_value::<wire::StoredJob>(
            json!({"amount_msat": 1, "maxppm": 1, "sat_direction": "pull"})
        )
        .is_err()
    );
    assert!(convert::jobs(parse(json!({}))).is_empty());
}

#[test]
fn overview_examples_parse_with_task_states() {
    let before: Vec<wire::OverviewRow> = parse(json!([{"alias": "nodeB",
        "last_route_taken": "Never", "last_success_reb": "Never", "pubkey": NODE_B,
        "rebamount": "0", "scid": "109x1x0", "status": ["1:NotStarted"], "w_feeppm": 0}]));
    let o = &convert::overview(before).unwrap()[0];
    assert_eq!(
        o.tasks,
        vec![TaskStatus {
            task_number: 1,
            state: TaskState::NotStarted
        }]
    );
    assert_eq!(o.last_route_taken_local_time, None);
    assert_eq!(o.rebalanced_sat, Sat(0));

    let after: Vec<wire::OverviewRow> = parse(json!([{"alias": "nodeB",
        "last_route_taken": "2026-11-22 05:09:46", "last_success_reb": "2026-11-22 05:09:46",
        "pubkey": NODE_B, "rebamount": "800,000", "scid": "109x1x0",
        "status": ["1:Balanced", "2:Rebalancing"], "w_feeppm": 306}]));
    let o = &convert::overview(after).unwrap()[0];
    assert_eq!(o.rebalanced_sat, Sat(800_000));
    assert_eq!(o.weighted_fee_ppm, 306);
    assert_eq!(o.peer_id, NODE_B);
    assert_eq!(
        o.last_success_local_time.as_deref(),
        Some("2026-11-22 05:09:46")
    );
    assert_eq!(o.tasks[1].task_number, 2);
    assert_eq!(o.tasks[1].state, TaskState::Rebalancing);
}

#[test]
fn misread_numbers_are_errors_not_zeros() {
    assert_eq!(convert::comma_sats("1,234,567"), Ok(1_234_567));
    assert!(convert::comma_sats("").is_err());
    assert!(convert::comma_sats("12.5").is_err());
    assert!(convert::task_status("Balanced").is_err());
    assert!(convert::task_status("x:Balanced").is_err());
    assert_eq!(
        convert::task_status("3:HTLCcapped").unwrap().state,
        TaskState::HtlcCapped
    );
}

#[test]
fn per_scid_success_example_parses() {
    let stats: wire::ScidStats = parse(json!({"failures_in_time_window": null,
        "successes_in_time_window": {"feeppm_90th_percentile": 306, "feeppm_max": 306,
        "feeppm_median": 306, "feeppm_min": 306, "feeppm_weighted_avg": 306,
        "last_channel_partner": "109x2x0", "most_common_hop_count": 2,
        "time_of_last_rebalance": "2026-11-22 05:09:46", "time_window_days": "30",
        "top_5_channel_partners": [{"alias": "nodeC", "sats": 800000, "scid": "109x2x0"}],
        "total_amount_sats": 800000, "total_rebalances": 4, "total_spent_sats": 244}}));
    let (successes, failures) = convert::scid_stats(stats);
    assert!(failures.is_none());
    let s = successes.unwrap();
    assert_eq!(s.total_rebalances, 4);
    assert_eq!(s.total_amount_sat, Sat(800_000));
    assert_eq!(s.total_spent_sat, Sat(244));
    assert_eq!(s.fee_ppm_weighted_avg, 306);
    assert_eq!(s.most_common_hop_count, 2);
    assert_eq!(s.last_channel_partner, "109x2x0");
    assert_eq!(s.time_window_days, "30");
    assert_eq!(s.top_channel_partners[0].amount_sat, Sat(800_000));
    assert_eq!(s.top_channel_partners[0].alias, "nodeC");
}

#[test]
fn per_scid_failure_example_parses() {
    let stats: wire::ScidStats = parse(json!({"failures_in_time_window": {
        "most_common_hop_count": 2, "time_of_last_attempt": "2026-11-22 05:10:02",
        "time_window_days": "30",
        "top_5_channel_partners": [{"alias": "nodeB", "sats": 2000000, "scid": "109x1x0"}],
        "top_5_fail_nodes": [{"alias": "nodeB", "count": 2, "peer_id": NODE_B}],
        "top_5_failure_reasons": [{"failure_count": 2,
            "failure_reason": "WIRE_TEMPORARY_CHANNEL_FAILURE"}],
        "total_amount_tried_sats": 2000000, "total_rebalances_tried": 2},
        "successes_in_time_window": null}));
    let (successes, failures) = convert::scid_stats(stats);
    assert!(successes.is_none());
    let f = failures.unwrap();
    assert_eq!(f.total_rebalances_tried, 2);
    assert_eq!(f.total_amount_tried_sat, Sat(2_000_000));
    assert_eq!(f.top_fail_nodes[0].peer_id, NODE_B);
    assert_eq!(f.top_fail_nodes[0].count, 2);
    assert_eq!(
        f.top_failure_reasons[0].reason,
        "WIRE_TEMPORARY_CHANNEL_FAILURE"
    );
    // No history at all: both halves null.
    let empty: wire::ScidStats =
        parse(json!({"failures_in_time_window": null, "successes_in_time_window": null}));
    assert_eq!(convert::scid_stats(empty), (None, None));
}

#[test]
fn a_missing_required_field_fails_to_parse() {
    let missing = json!({"failures_in_time_window": null, "successes_in_time_window": {
        "feeppm_max": 306}});
    assert!(serde_json::from_value::<wire::ScidStats>(missing).is_err());
    // The colon really is part of sling-go's key.
    assert!(
        serde_json::from_value::<wire::GoResult>(
            json!({"tasks_failed_start": 0, "tasks_started": 1})
        )
        .is_err()
    );
}

fn spec() -> JobSpec {
    JobSpec {
        short_channel_id: "109x1x0".into(),
        amount_msat: Msat(200_000_000),
        max_ppm: 600,
        candidates: vec![],
        out_ppm: Some(1000),
        target_ratio: Some(0.3),
        max_hops: None,
    }
}

#[test]
fn job_request_uses_sling_keywords_and_sats() {
    // The same job SLING.md created on the real node.
    assert_eq!(
        request::job(&spec()),
        json!({"scid": "109x1x0", "direction": "pull", "amount": 200000, "maxppm": 600,
            "outppm": 1000, "target": 0.3})
    );
    let mut s = spec();
    s.out_ppm = None;
    s.target_ratio = None;
    s.candidates = vec!["109x2x0".into()];
    s.max_hops = Some(4);
    assert_eq!(
        request::job(&s),
        json!({"scid": "109x1x0", "direction": "pull", "amount": 200000, "maxppm": 600,
            "candidates": ["109x2x0"], "maxhops": 4})
    );
}

/// Answers from a script, keyed by method; records every request.
struct Scripted {
    answers: Vec<(&'static str, Result<Value, NodeError>)>,
    calls: Mutex<Vec<(String, Value)>>,
}

impl Scripted {
    fn new(answers: Vec<(&'static str, Result<Value, NodeError>)>) -> Self {
        Scripted {
            answers,
            calls: Mutex::new(Vec::new()),
        }
    }

    fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().unwrap().clone()
    }
}

impl ops::RawRpc for Scripted {
    async fn call_raw(&self, method: &str, params: Value) -> Result<Value, NodeError> {
        self.calls
            .lock()
            .unwrap()
            .push((method.to_string(), params));
        self.answers
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| {
                Err(NodeError::Rpc {
                    method: method.to_string(),
                    code: -32601,
                    message: format!("Unknown command '{method}'"),
                })
            })
    }
}

#[tokio::test]
async fn listing_jobs_never_sends_sling_job() {
    let rpc = Scripted::new(vec![("sling-jobsettings", Ok(json!({})))]);
    assert!(ops::jobs(&rpc).await.unwrap().is_empty());
    assert_eq!(
        rpc.calls(),
        vec![("sling-jobsettings".to_string(), json!({}))]
    );
}

#[tokio::test]
async fn invalid_job_is_not_sent() {
    let rpc = Scripted::new(vec![]);
    let mut s = spec();
    s.amount_msat = Msat(1);
    assert!(matches!(
        ops::create_job(&rpc, &s).await,
        Err(ExecutorError::InvalidJob { .. })
    ));
    assert!(rpc.calls().is_empty());
}

#[tokio::test]
async fn sling_absent_and_refusals_are_told_apart() {
    let absent = Scripted::new(vec![]);
    assert_eq!(
        ops::start(&absent, "109x1x0").await,
        Err(ExecutorError::SlingAbsent {
            method: "sling-go".into()
        })
    );
    let refusing = Scripted::new(vec![(
        "sling-go",
        Err(NodeError::Rpc {
            method: "sling-go".into(),
            code: -32700,
            message: "Shortchannelid not found in jobs".into(),
        }),
    )]);
    assert_eq!(
        ops::start(&refusing, "109x1x0").await,
        Err(ExecutorError::Rpc {
            method: "sling-go".into(),
            code: -32700,
            message: "Shortchannelid not found in jobs".into(),
        })
    );
    let odd = Scripted::new(vec![("sling-job", Ok(json!({"result": "started"})))]);
    assert!(matches!(
        ops::create_job(&odd, &spec()).await,
        Err(ExecutorError::Malformed { .. })
    ));
}

#[tokio::test]
async fn start_stop_delete_send_keyword_params() {
    let rpc = Scripted::new(vec![
        (
            "sling-go",
            Ok(json!({"tasks_failed_start:": 0, "tasks_started": 1})),
        ),
        ("sling-stop", Ok(json!({"stopped_count": 3}))),
        ("sling-deletejob", Ok(json!({"result": "success"}))),
    ]);
    assert_eq!(ops::start(&rpc, "109x1x0").await.unwrap().tasks_started, 1);
    assert_eq!(ops::stop(&rpc, None).await.unwrap().stopped_count, 3);
    ops::delete(&rpc, Some("109x1x0")).await.unwrap();
    ops::delete(&rpc, None).await.unwrap();
    assert_eq!(
        rpc.calls(),
        vec![
            ("sling-go".to_string(), json!({"scid": "109x1x0"})),
            ("sling-stop".to_string(), json!({})),
            (
                "sling-deletejob".to_string(),
                json!({"job": "109x1x0", "delete_stats": false})
            ),
            (
                "sling-deletejob".to_string(),
                json!({"job": "all", "delete_stats": false})
            ),
        ]
    );
}

/// Answers sling-except-peer by command: the list, then success.
struct ExceptPeers(Mutex<Vec<Value>>);

impl ops::RawRpc for ExceptPeers {
    async fn call_raw(&self, _method: &str, params: Value) -> Result<Value, NodeError> {
        self.0.lock().unwrap().push(params.clone());
        Ok(match params["command"].as_str() {
            Some("list") => json!([NODE_B]),
            _ => json!({"result": "success"}),
        })
    }
}

#[tokio::test]
async fn set_except_peers_sends_only_the_difference() {
    let rpc = ExceptPeers(Mutex::new(Vec::new()));
    let change = ops::set_except_peers(&rpc, &[NODE_C.to_uppercase(), NODE_C.to_string()])
        .await
        .unwrap();
    assert_eq!(change.removed, vec![NODE_B.to_string()]);
    assert_eq!(change.added, vec![NODE_C.to_string()]);
    assert_eq!(
        rpc.0.lock().unwrap().clone(),
        vec![
            json!({"command": "list"}),
            json!({"command": "remove", "id": NODE_B}),
            json!({"command": "add", "id": NODE_C}),
        ]
    );
}
