//! `SimNode` as a `RebalanceExecutor`: the same requests and parsing as
//! `ClnNode` (revops_node::sling::ops), answered by the simulated sling.

use revops_core::{ExecutorError, JobDirection, JobSpec, Msat, RebalanceExecutor, Sat, TaskState};
use revops_sim::{Scenario, SimNetwork, SimNode};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// The simulated node answers at once, so one poll completes any call.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the simulated node never waits"),
    }
}

fn node(scenario: Scenario) -> (SimNode, Arc<Mutex<SimNetwork>>) {
    let net = Arc::new(Mutex::new(SimNetwork::new(scenario)));
    (SimNode::new(net.clone()), net)
}

fn spec(sink: &str, source: &str) -> JobSpec {
    JobSpec {
        short_channel_id: sink.to_string(),
        amount_msat: Msat(200_000_000),
        max_ppm: 2_000,
        candidates: vec![source.to_string()],
        out_ppm: None,
        target_ratio: Some(0.3),
        max_hops: Some(4),
    }
}

#[test]
fn without_sling_every_call_says_sling_is_absent() {
    let (node, net) = node(Scenario::default_node(1));
    let sink = net.lock().unwrap().channels()[0].short_channel_id.clone();
    assert_eq!(
        ready(node.jobs()),
        Err(ExecutorError::SlingAbsent {
            method: "sling-jobsettings".into()
        })
    );
    assert_eq!(
        ready(node.create_job(&spec(&sink, &sink))),
        Err(ExecutorError::SlingAbsent {
            method: "sling-job".into()
        })
    );
    assert!(matches!(
        ready(node.set_except_peers(&[])),
        Err(ExecutorError::SlingAbsent { .. })
    ));
}

#[test]
fn a_job_runs_end_to_end_through_the_trait() {
    let (node, net) = node(Scenario::default_node(21).with_sling());
    let (sink, source) = {
        let mut n = net.lock().unwrap();
        let sink = n
            .channel_by_label("depleting-sink")
            .unwrap()
            .short_channel_id;
        let source = n
            .channel_by_label("saturated-idle-source")
            .unwrap()
            .short_channel_id;
        n.set_local_msat(&sink, 500_000_000).unwrap();
        (sink, source)
    };
    assert!(ready(node.jobs()).unwrap().is_empty());
    let mut bad = spec(&sink, &source);
    bad.amount_msat = Msat(1_500);
    assert!(matches!(
        ready(node.create_job(&bad)),
        Err(ExecutorError::InvalidJob { .. })
    ));
    ready(node.create_job(&spec(&sink, &source))).unwrap();
    let jobs = ready(node.jobs()).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].short_channel_id, sink);
    assert_eq!(jobs[0].direction, JobDirection::Pull);
    assert_eq!(jobs[0].amount_msat, Msat(200_000_000));
    assert_eq!(jobs[0].candidates, vec![source.clone()]);
    assert_eq!(jobs[0].max_hops, Some(4));
    assert_eq!(jobs[0].target_ratio, Some(0.3));
    let overview = ready(node.overview()).unwrap();
    assert_eq!(overview[0].tasks[0].state, TaskState::NotStarted);

    assert_eq!(ready(node.start(&sink)).unwrap().tasks_started, 1);
    {
        let mut n = net.lock().unwrap();
        let start = n.now();
        n.advance_to(start + 2 * 3_600);
    }
    let stats = ready(node.stats(&sink)).unwrap();
    let (moved_msat, fees_msat) = {
        let n = net.lock().unwrap();
        (n.rebalanced_msat(), n.rebalance_fees_paid_msat())
    };
    let successes = stats.successes.expect("rebalanced");
    assert_eq!(successes.total_amount_sat, Msat(moved_msat).to_sat_floor());
    assert_eq!(successes.total_spent_sat, Sat(fees_msat / 1000));
    assert_eq!(successes.last_channel_partner, source);
    let row = stats.overview.expect("listed");
    assert_eq!(row.rebalanced_sat, Msat(moved_msat).to_sat_floor());
    assert_eq!(row.weighted_fee_ppm, successes.fee_ppm_weighted_avg);
    assert!(matches!(
        row.tasks[0].state,
        TaskState::Balanced | TaskState::Rebalancing
    ));
    assert!(row.last_success_local_time.is_some());

    assert_eq!(ready(node.stop(&sink)).unwrap().stopped_count, 1);
    ready(node.delete(&sink)).unwrap();
    assert!(ready(node.jobs()).unwrap().is_empty());
    // Deleting keeps the history the scorer learns from.
    let after = ready(node.stats(&sink)).unwrap();
    assert!(after.overview.is_none());
    assert!(after.successes.is_some());
    // sling's refusals come back as Rpc errors with its text.
    assert_eq!(
        ready(node.start(&sink)),
        Err(ExecutorError::Rpc {
            method: "sling-go".into(),
            code: -32700,
            message: "No jobs found".into(),
        })
    );
    ready(node.delete_all()).unwrap();
    assert_eq!(ready(node.stop_all()).unwrap().stopped_count, 0);
}

#[test]
fn except_peers_are_made_equal_to_ours() {
    let (node, net) = node(Scenario::default_node(22).with_sling());
    let peers: Vec<String> = net
        .lock()
        .unwrap()
        .channels()
        .iter()
        .map(|c| c.peer_id.clone())
        .collect();
    let change = ready(node.set_except_peers(&peers[..2])).unwrap();
    assert_eq!(change.added, peers[..2].to_vec());
    assert!(change.removed.is_empty());
    let change = ready(node.set_except_peers(&peers[1..3])).unwrap();
    assert_eq!(change.added, vec![peers[2].clone()]);
    assert_eq!(change.removed, vec![peers[0].clone()]);
    let mut listed = ready(node.except_peers()).unwrap();
    listed.sort();
    let mut wanted = peers[1..3].to_vec();
    wanted.sort();
    assert_eq!(listed, wanted);
    // Already equal: nothing sent.
    assert_eq!(
        ready(node.set_except_peers(&peers[1..3])).unwrap(),
        Default::default()
    );
    ready(node.set_except_peers(&[])).unwrap();
    assert!(ready(node.except_peers()).unwrap().is_empty());
}
