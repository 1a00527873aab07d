//! The fee engine driven in-process against the simulated network.

use revops_engine::{ChannelAction, FeeEngine, FeeSettings, PolicySet};
use revops_runtime::{Limits, PolicyRuntime};
use revops_sim::{Scenario, SimClock, SimNetwork, SimNode};
use revops_store::{FeeChangeOutcome, NewFeeChange, Store};
use std::sync::{Arc, Mutex};

struct Setup {
    engine: FeeEngine<SimNode, SimClock>,
    network: Arc<Mutex<SimNetwork>>,
    store: Arc<Store>,
}

fn setup(settings: FeeSettings) -> Setup {
    let network = Arc::new(Mutex::new(SimNetwork::new(Scenario::default_node(5))));
    let store = Arc::new(Store::open_in_memory().unwrap());
    let runtime = Arc::new(PolicyRuntime::new(Limits::default()).unwrap());
    let mut policies = PolicySet::default();
    policies.insert(Arc::new(
        runtime.load(revops_policy_artifacts::FEE_ALPHA).unwrap(),
    ));
    let engine = FeeEngine::new(
        Arc::new(SimNode::new(Arc::clone(&network))),
        SimClock::new(Arc::clone(&network)),
        Arc::clone(&store),
        runtime,
        policies,
        settings,
    );
    Setup {
        engine,
        network,
        store,
    }
}

fn pending(scid: &str, new_fee_ppm: u32) -> NewFeeChange {
    NewFeeChange {
        timestamp: 1,
        short_channel_id: scid.to_string(),
        peer_id: "02".repeat(33),
        old_fee_ppm: 1,
        proposed_fee_ppm: new_fee_ppm,
        new_fee_ppm,
        step: "hill-climb".to_string(),
        reason: "before the crash".to_string(),
        policy_name: "fee-alpha".to_string(),
        policy_version: "0.1.0".to_string(),
        outcome: FeeChangeOutcome::Pending,
    }
}

#[tokio::test]
async fn changes_left_pending_by_a_crash_are_settled_from_lightningd() {
    let s = setup(FeeSettings::default());
    let (sink, source) = {
        let n = s.network.lock().unwrap();
        (
            n.channel_by_label("depleting-sink").unwrap(),
            n.channel_by_label("saturated-idle-source").unwrap(),
        )
    };
    // One change reached lightningd before the crash, one did not.
    let reached = s
        .store
        .insert_fee_change(&pending(&sink.short_channel_id, sink.fee_ppm))
        .unwrap();
    let lost = s
        .store
        .insert_fee_change(&pending(&source.short_channel_id, source.fee_ppm + 100))
        .unwrap();
    s.engine.run_fee_cycle().await.unwrap();
    let rows = s.store.fee_changes(None, 100).unwrap();
    let outcome = |id| rows.iter().find(|r| r.id == id).unwrap().outcome.clone();
    assert_eq!(outcome(reached), "applied");
    assert_eq!(outcome(lost), "failed");
    assert!(s.store.pending_fee_changes().unwrap().is_empty());
}

#[tokio::test]
async fn every_applied_fee_is_within_bounds_and_recorded() {
    let s = setup(FeeSettings {
        min_fee_ppm: 100,
        max_fee_ppm: 900,
        ..FeeSettings::default()
    });
    for step in 1..=8u64 {
        let t = s.network.lock().unwrap().now() + 3 * 3600;
        s.network.lock().unwrap().advance_to(t);
        let report = s.engine.run_fee_cycle().await.unwrap();
        assert!(report.policy_failure.is_none(), "cycle {step}");
        for c in report
            .channels
            .iter()
            .filter(|c| c.action == ChannelAction::Applied)
        {
            assert!((100..=900).contains(&c.new_fee_ppm), "{c:?}");
        }
    }
    for c in s.network.lock().unwrap().channels() {
        let recorded = s
            .store
            .fee_changes(Some(&c.short_channel_id), 1)
            .unwrap()
            .into_iter()
            .next();
        if let Some(last) = recorded {
            assert_eq!(last.new_fee_ppm, c.fee_ppm, "{}", c.label);
            assert_eq!(last.outcome, "applied");
        }
    }
    let applied = s.store.fee_change_counts().unwrap().0;
    assert!(applied > 0);
    // No channel got more than 4 updates in any 24 h (the run spans 24 h).
    for c in s.network.lock().unwrap().channels() {
        assert!(
            s.store.broadcasts_since(&c.short_channel_id, 0).unwrap() <= 4,
            "{}",
            c.label
        );
    }
}

#[tokio::test]
async fn flow_analysis_classifies_real_traffic_and_feeds_the_policy() {
    let s = setup(FeeSettings::default());
    let start = s.network.lock().unwrap().now();
    for hour in 1..=48u64 {
        s.network.lock().unwrap().advance_to(start + hour * 3600);
        s.engine.run_flow_analysis(None).await.unwrap();
    }
    let report = s.engine.run_flow_analysis(None).await.unwrap();
    let by_label = |label: &str| {
        let scid = s
            .network
            .lock()
            .unwrap()
            .channel_by_label(label)
            .unwrap()
            .short_channel_id;
        report
            .channels
            .iter()
            .find(|c| c.short_channel_id == scid)
            .unwrap()
            .clone()
    };
    // The sink drains through outgoing payments: more leaves than arrives.
    let sink = by_label("depleting-sink");
    assert_eq!(sink.flow_state, "source", "{sink:?}");
    assert!(!sink.inferred && sink.forwards > 0);
    assert!(sink.out_msat_per_day > sink.in_msat_per_day);
    let congested = by_label("congested");
    assert!(congested.forwards > 0);
    // The next fee cycle hands the stored classification to the policy.
    let cycle = s.engine.run_fee_cycle().await.unwrap();
    assert!(cycle.policy_failure.is_none());
}
