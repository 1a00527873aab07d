//! Decayed peer reputation through the fee engine's flow analysis, against
//! the simulated network: updated once per flow cycle, handed to fee
//! guidance as `peer_success_ratio`.

use revops_engine::flow::FlowSettings;
use revops_engine::{FeeEngine, FeeSettings, PolicySet};
use revops_runtime::{Limits, PolicyRuntime};
use revops_sim::{Scenario, SimClock, SimNetwork, SimNode};
use revops_store::Store;
use std::sync::{Arc, Mutex};

struct Setup {
    engine: FeeEngine<SimNode, SimClock>,
    network: Arc<Mutex<SimNetwork>>,
    store: Arc<Store>,
}

fn setup() -> Setup {
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
        FeeSettings::default(),
    );
    Setup {
        engine,
        network,
        store,
    }
}

impl Setup {
    /// Hourly flow analyses over `hours` of simulated traffic.
    async fn run_hours(&self, hours: u64) {
        let start = self.network.lock().unwrap().now();
        for hour in 1..=hours {
            self.network.lock().unwrap().advance_to(start + hour * 3600);
            self.engine.run_flow_analysis(None).await.unwrap();
        }
    }
}

#[tokio::test]
async fn each_flow_analysis_decays_and_credits_and_guidance_reads_it() {
    let s = setup();
    s.run_hours(24).await;
    let reputations = s.store.peer_reputations().unwrap();
    assert!(!reputations.is_empty());

    // A cycle with no new traffic only decays, once, by the configured factor.
    let before = s.store.peer_reputations().unwrap();
    let report = s.engine.run_flow_analysis(None).await.unwrap();
    let update = report.reputation.expect("enabled by default");
    assert_eq!(update.decay, 0.98);
    assert_eq!(update.peers_updated as usize, before.len());
    assert_eq!((update.settled_counted, update.failed_counted), (0, 0));
    for (peer, after) in s.store.peer_reputations().unwrap() {
        let was = before[&peer];
        assert!((after.success_score - was.success_score * 0.98).abs() < 1e-9);
        assert!((after.failure_score - was.failure_score * 0.98).abs() < 1e-9);
    }

    // Fee guidance hands each channel its peer's smoothed score.
    let debug = s.engine.fee_debug(None).await.unwrap();
    let scored: Vec<_> = debug
        .iter()
        .filter_map(|d| {
            let rep = reputations.get(&d.peer_id)?;
            Some((d.guidance.peer_success_ratio, rep))
        })
        .collect();
    assert!(!scored.is_empty());
    for (ratio, rep) in scored {
        let ratio = ratio.expect("a peer with evidence has a ratio");
        assert!(ratio > 0.0 && ratio < 1.0);
        // Decayed once since `reputations` was read: same evidence, scaled.
        let decayed = (rep.success_score * 0.98 + 1.0) / (rep.total() * 0.98 + 2.0);
        assert!((ratio - decayed).abs() < 1e-9, "{ratio} vs {decayed}");
    }
}

#[tokio::test]
async fn disabled_reputation_is_neither_updated_nor_handed_to_policies() {
    let s = setup();
    s.engine.set_flow_settings(FlowSettings {
        reputation_enabled: false,
        ..FlowSettings::default()
    });
    s.run_hours(6).await;
    let report = s.engine.run_flow_analysis(None).await.unwrap();
    assert!(report.reputation.is_none());
    assert!(s.store.peer_reputations().unwrap().is_empty());
    let debug = s.engine.fee_debug(None).await.unwrap();
    assert!(
        debug
            .iter()
            .all(|d| d.guidance.peer_success_ratio.is_none())
    );

    // Turned on: what is still stored is counted from the start.
    s.engine.set_flow_settings(FlowSettings::default());
    let report = s.engine.run_flow_analysis(None).await.unwrap();
    let update = report.reputation.unwrap();
    assert!(update.settled_counted > 0, "{update:?}");
    let debug = s.engine.fee_debug(None).await.unwrap();
    assert!(
        debug
            .iter()
            .any(|d| d.guidance.peer_success_ratio.is_some())
    );
}
