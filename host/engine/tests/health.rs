//! NNLB health in the rebalance cycle, against the simulated network and
//! its simulated sling: the assessment is made once per cycle, carried by
//! the report, and its multiplier decides marginal candidates.

use revops_engine::health::{HealthAssessment, HealthInputs, HealthSource, HealthTier, Trend};
use revops_engine::rebalance::{
    Decision, RebalanceCycleReport, RebalanceEngine, RebalanceSettings, WalletFunds,
};
use revops_runtime::{Limits, PolicyRuntime};
use revops_sim::{Scenario, SimClock, SimNetwork, SimNode};
use revops_store::{ChannelFlow, Store};
use std::sync::{Arc, Mutex};

const SAT: u64 = 1000;
const DESTINATION: &str = "inelastic-peer";
const WALLET: WalletFunds = WalletFunds {
    confirmed_onchain_sat: 3_250_000,
};

/// A health source that always answers the same tier (as a fleet source
/// might), with a multiplier outside the allowed range to prove the clamp.
struct Fixed(HealthTier, f64);

impl HealthSource for Fixed {
    fn assess(&self, inputs: &HealthInputs) -> HealthAssessment {
        HealthAssessment {
            score: 0.0,
            tier: self.0,
            budget_multiplier: self.1,
            profitable_channels: 0,
            underwater_channels: 0,
            stagnant_channels: 0,
            total_channels: inputs.channels.len() as u32,
            liquidity_score: 100.0,
            revenue_trend: Trend::Stable,
            source: "fixed".to_string(),
        }
    }
}

struct Setup {
    engine: RebalanceEngine<SimNode, SimClock>,
    destination: String,
}

/// The default node with `inelastic-peer` drained and busy (see
/// `tests/rebalance.rs`): one depleted channel that earns, refilled in
/// dry-run so nothing moves.
fn setup(settings: RebalanceSettings) -> Setup {
    let mut scenario = Scenario::default_node(7).with_sling();
    let d = scenario.channel_mut(DESTINATION).unwrap();
    d.local_sat = 400_000;
    d.alternatives_fee_ppm = 100;
    d.demand_per_day = 0.0;
    d.source_weight = 0.0;
    let network = Arc::new(Mutex::new(SimNetwork::new(scenario)));
    let store = Arc::new(Store::open_in_memory().unwrap());
    let runtime = Arc::new(PolicyRuntime::new(Limits::default()).unwrap());
    let scorer = Arc::new(runtime.load(revops_policy_artifacts::REBALANCE_EV).unwrap());
    let engine = RebalanceEngine::new(
        Arc::new(SimNode::new(Arc::clone(&network))),
        SimClock::new(Arc::clone(&network)),
        Arc::clone(&store),
        runtime,
        scorer,
        RebalanceSettings {
            dry_run: true,
            ..settings
        },
    );
    let (destination, now) = {
        let n = network.lock().unwrap();
        (
            n.channel_by_label(DESTINATION).unwrap().short_channel_id,
            n.now(),
        )
    };
    store
        .save_channel_flows(&[ChannelFlow {
            short_channel_id: destination.clone(),
            flow_state: "source".to_string(),
            flow_ratio: 0.5,
            in_msat_per_day: 0,
            out_msat_per_day: 4_000_000 * SAT,
            forwards: 100,
            inferred: false,
            updated_at: now,
        }])
        .unwrap();
    Setup {
        engine,
        destination,
    }
}

fn decision<'a>(report: &'a RebalanceCycleReport, scid: &str) -> &'a Decision {
    &report
        .candidates
        .iter()
        .find(|c| c.destination == scid)
        .unwrap_or_else(|| panic!("{scid} not considered: {report:#?}"))
        .decision
}

fn expected_profit_msat(decision: &Decision) -> i64 {
    match decision {
        Decision::DryRun {
            expected_profit_msat,
            ..
        }
        | Decision::Rejected {
            expected_profit_msat,
            ..
        } => *expected_profit_msat,
        other => panic!("not scored: {other:?}"),
    }
}

async fn run_as(tier: HealthTier, multiplier: f64, min_profit_sat: u64) -> RebalanceCycleReport {
    let s = setup(RebalanceSettings {
        min_profit_sat,
        ..RebalanceSettings::default()
    });
    s.engine
        .set_health_source(Arc::new(Fixed(tier, multiplier)));
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    assert_eq!(report.health.as_ref().unwrap().tier, tier);
    let _ = decision(&report, &s.destination);
    report
}

#[tokio::test]
async fn a_struggling_node_accepts_a_marginal_refill_a_thriving_one_rejects() {
    // What the refill is expected to earn, at the neutral multiplier.
    let neutral = run_as(HealthTier::Stable, 1.0, 0).await;
    let scid = neutral.candidates[0].destination.clone();
    let ev_msat = expected_profit_msat(decision(&neutral, &scid));
    assert!(
        ev_msat > 10 * SAT as i64,
        "EV too small to judge: {ev_msat}"
    );
    // Ask for 20 % more profit than that: a stable node says no …
    let min_profit_sat = (ev_msat as u64 * 12 / 10).div_ceil(SAT);
    let stable = run_as(HealthTier::Stable, 1.0, min_profit_sat).await;
    assert_eq!(decision(&stable, &scid).key(), "scorer_rejected");
    // … a struggling one (threshold halved) takes it …
    let struggling = run_as(HealthTier::Struggling, 2.0, min_profit_sat).await;
    assert_eq!(struggling.health_multiplier, 2.0);
    assert_eq!(
        decision(&struggling, &scid).key(),
        "dry_run",
        "{struggling:#?}"
    );
    // … and a thriving one (threshold raised) all the more refuses it.
    let thriving = run_as(HealthTier::Thriving, 0.75, min_profit_sat).await;
    assert_eq!(thriving.health_multiplier, 0.75);
    assert_eq!(decision(&thriving, &scid).key(), "scorer_rejected");
}

#[tokio::test]
async fn whatever_a_source_answers_the_multiplier_is_clamped() {
    let report = run_as(HealthTier::Struggling, 40.0, 0).await;
    assert_eq!(report.health.as_ref().unwrap().budget_multiplier, 2.5);
    assert_eq!(report.health_multiplier, 2.5);
    let report = run_as(HealthTier::Thriving, f64::NAN, 0).await;
    assert_eq!(report.health_multiplier, 1.0);
}

#[tokio::test]
async fn the_local_assessment_is_reported_and_an_override_wins() {
    let s = setup(RebalanceSettings::default());
    assert!(s.engine.last_health().is_none());
    assert_eq!(s.engine.health_multiplier(), 1.0);
    let health = s.engine.assess_health().await.unwrap();
    assert_eq!(health.source, "local");
    assert!(health.total_channels > 0);
    assert_eq!(health.budget_multiplier, health.tier.budget_multiplier());
    assert_eq!(s.engine.last_health(), Some(health.clone()));
    assert_eq!(s.engine.health_multiplier(), health.budget_multiplier);

    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    assert_eq!(report.health.as_ref(), Some(&health));
    assert_eq!(report.health_multiplier, health.budget_multiplier);
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["health"]["tier"].is_string(), "{json}");
    assert!(json["health"]["revenue_trend"].is_string(), "{json}");

    s.engine.set_settings(RebalanceSettings {
        dry_run: true,
        health_multiplier_override: Some(0.1),
        ..RebalanceSettings::default()
    });
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    // The assessment is still reported; the override (clamped) is used.
    assert_eq!(report.health.as_ref().unwrap().source, "local");
    assert_eq!(report.health_multiplier, 0.5);
    assert_eq!(s.engine.health_multiplier(), 0.5);
}
