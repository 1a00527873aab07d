//! Quarantine through the fee cycle, with real policies in the sandbox: a
//! policy that keeps failing hands its channels to the built-in fallback,
//! is retried after its backoff and released after a healthy period.

use revops_engine::quarantine::QuarantineSettings;
use revops_engine::{FALLBACK_FEE_POLICY, FeeEngine, FeeSettings, PolicySet};
use revops_runtime::{Limits, PolicyRuntime, Role};
use revops_sim::{Scenario, SimClock, SimNetwork, SimNode};
use revops_store::Store;
use std::sync::{Arc, Mutex};

const BACKOFF_SECS: u64 = 3_600;
const HEALTHY_SECS: u64 = 7_200;

struct Setup {
    engine: FeeEngine<SimNode, SimClock>,
    network: Arc<Mutex<SimNetwork>>,
    runtime: Arc<PolicyRuntime>,
}

/// fee-thompson decides for every channel; fee-alpha is the fallback.
fn setup() -> Setup {
    let network = Arc::new(Mutex::new(SimNetwork::new(Scenario::default_node(5))));
    let runtime = Arc::new(PolicyRuntime::new(Limits::default()).unwrap());
    let mut policies = PolicySet::default();
    for wasm in [
        revops_policy_artifacts::FEE_ALPHA,
        revops_policy_artifacts::FEE_THOMPSON,
    ] {
        policies.insert(Arc::new(runtime.load(wasm).unwrap()));
    }
    let settings = FeeSettings {
        default_fee_policy: "fee-thompson".to_string(),
        ..FeeSettings::default()
    };
    let engine = FeeEngine::new(
        Arc::new(SimNode::new(Arc::clone(&network))),
        SimClock::new(Arc::clone(&network)),
        Arc::new(Store::open_in_memory().unwrap()),
        Arc::clone(&runtime),
        policies,
        settings,
    );
    engine.quarantine().set_settings(QuarantineSettings {
        failure_streak: 2,
        backoff_secs: BACKOFF_SECS,
        healthy_secs: HEALTHY_SECS,
    });
    Setup {
        engine,
        network,
        runtime,
    }
}

impl Setup {
    /// Starves every fee policy of fuel (`true`) or gives the defaults back.
    fn starve(&self, starved: bool) {
        let limits = if starved {
            Limits {
                fuel_per_batch_base: 10,
                fuel_per_channel: 1,
                ..Limits::default()
            }
        } else {
            Limits::default()
        };
        self.runtime.set_limits(Role::FeeStrategy, limits);
    }

    fn advance(&self, secs: u64) {
        self.network.lock().unwrap().advance_by(secs);
    }

    fn state(&self) -> String {
        let now = self.engine.now();
        let thompson = self.engine.policies().get("fee-thompson").cloned().unwrap();
        self.engine
            .quarantine()
            .view(thompson.hash(), now)
            .map_or("healthy".to_string(), |v| v.state.to_string())
    }
}

#[tokio::test]
async fn a_failing_policy_is_quarantined_retried_with_backoff_and_released() {
    let s = setup();
    s.starve(true);
    // Two failed cycles in a row: quarantined.
    for _ in 0..2 {
        let report = s.engine.run_fee_cycle().await.unwrap();
        assert!(
            report
                .policy_failures
                .iter()
                .any(|f| f.policy.starts_with("fee-thompson") && f.kind == "out_of_fuel"),
            "{:?}",
            report.policy_failures
        );
        s.advance(60);
    }
    assert_eq!(s.state(), "quarantined");

    // While quarantined, its channels are decided by the fallback.
    s.starve(false);
    let report = s.engine.run_fee_cycle().await.unwrap();
    assert!(
        report.policy_failures.is_empty(),
        "{:?}",
        report.policy_failures
    );
    let decided: Vec<_> = report
        .channels
        .iter()
        .filter(|c| c.policy.is_some())
        .collect();
    assert!(!decided.is_empty());
    for outcome in &decided {
        assert!(
            outcome
                .policy
                .as_deref()
                .unwrap()
                .starts_with(FALLBACK_FEE_POLICY),
            "{outcome:?}"
        );
        assert!(
            outcome.strategy.contains("fee-thompson quarantined"),
            "{outcome:?}"
        );
    }

    // The retry after the backoff fails: back in quarantine for twice as long.
    s.starve(true);
    s.advance(BACKOFF_SECS);
    s.engine.run_fee_cycle().await.unwrap();
    let now = s.engine.now();
    let thompson = s.engine.policies().get("fee-thompson").cloned().unwrap();
    let view = s.engine.quarantine().view(thompson.hash(), now).unwrap();
    assert_eq!((view.state, view.strikes), ("quarantined", 2));
    assert_eq!(view.retry_at, Some(now + 2 * BACKOFF_SECS));

    // The next retry succeeds: on probation, deciding for its channels again.
    s.starve(false);
    s.advance(2 * BACKOFF_SECS);
    let report = s.engine.run_fee_cycle().await.unwrap();
    assert!(report.policy_failures.is_empty());
    assert!(
        report
            .channels
            .iter()
            .filter_map(|c| c.policy.as_deref())
            .all(|p| p.starts_with("fee-thompson"))
    );
    assert_eq!(s.state(), "probation");

    // A healthy period later it is released, strikes forgotten.
    s.advance(HEALTHY_SECS);
    s.engine.run_fee_cycle().await.unwrap();
    assert_eq!(s.state(), "healthy");
    let now = s.engine.now();
    let view = s.engine.quarantine().view(thompson.hash(), now).unwrap();
    assert_eq!((view.strikes, view.quarantines_total), (0, 2));
}
