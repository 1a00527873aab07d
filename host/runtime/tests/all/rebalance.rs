//! The rebalance-scorer role: role discovery at load, calling it (and not
//! calling it on components without it), containment and output validation.

use revops_runtime::{
    FailureKind, FlowState, KellyInput, Limits, LoadError, PolicyRuntime, RebalanceCandidate,
    RebalanceChannel, RebalanceVerdict, Role,
};

use crate::guest::{Guest, Prelude, Roles, Scoring};
use crate::support::{runtime, runtime_with, shared_fee_alpha};

fn channel(scid: String, local_pct: u64, fee_ppm: u32, daily_out_pct: u64) -> RebalanceChannel {
    let capacity_msat = 1_000_000_000;
    RebalanceChannel {
        short_channel_id: scid,
        peer_id: format!("03{:064x}", local_pct),
        capacity_msat,
        local_msat: capacity_msat / 100 * local_pct,
        fee_ppm,
        daily_out_msat: capacity_msat / 100 * daily_out_pct,
        flow_state: FlowState::Balanced,
    }
}

/// A plausible candidate: `n` varies the destination's fee and turnover,
/// so a batch mixes accepts and rejects; three sources each.
pub fn candidate(n: u32) -> RebalanceCandidate {
    RebalanceCandidate {
        now: 1_700_000_000,
        seed: u64::from(n),
        destination: channel(
            format!("800000x{n}x0"),
            5,
            200 + (n % 9) * 100,
            u64::from(n % 4) * 40,
        ),
        sources: (0..3)
            .map(|s| {
                channel(
                    format!("700000x{n}x{s}"),
                    85 + u64::from(s) * 5,
                    20 + s * 30,
                    1,
                )
            })
            .collect(),
        amount_msat: 500_000_000,
        inbound_fee_estimate_ppm: 150,
        cooldown_days: 1.0,
        health_multiplier: [0.75, 1.0, 2.0][n as usize % 3],
        min_profit_msat: 10_000,
        kelly: n.is_multiple_of(5).then_some(KellyInput {
            success_probability: 0.8,
            fraction: 0.5,
        }),
    }
}

pub fn candidates(n: u32) -> Vec<RebalanceCandidate> {
    (1..=n).map(candidate).collect()
}

/// The native crate's verdict for the same candidate, in WIT types.
fn native_verdict(candidate: &RebalanceCandidate) -> RebalanceVerdict {
    use revops_rebalance_ev as ev;
    let native_channel = |c: &RebalanceChannel| ev::Channel {
        short_channel_id: c.short_channel_id.clone(),
        peer_id: c.peer_id.clone(),
        capacity_msat: c.capacity_msat,
        local_msat: c.local_msat,
        fee_ppm: c.fee_ppm,
        daily_out_msat: c.daily_out_msat,
        flow_state: ev::FlowState::Balanced,
    };
    let verdict = ev::score(&ev::Candidate {
        now_unix_secs: candidate.now,
        seed: candidate.seed,
        destination: native_channel(&candidate.destination),
        sources: candidate.sources.iter().map(native_channel).collect(),
        amount_msat: candidate.amount_msat,
        inbound_fee_estimate_ppm: candidate.inbound_fee_estimate_ppm,
        cooldown_days: candidate.cooldown_days,
        health_multiplier: candidate.health_multiplier,
        min_profit_msat: candidate.min_profit_msat,
        kelly: candidate.kelly.map(|k| ev::Kelly {
            success_probability: k.success_probability,
            fraction: k.fraction,
        }),
    });
    RebalanceVerdict {
        accept: verdict.accept,
        amount_msat: verdict.amount_msat,
        max_fee_ppm: verdict.max_fee_ppm,
        sources: verdict.sources,
        expected_profit_msat: verdict.expected_profit_msat,
        reason: verdict.reason,
    }
}

fn load_scorer(runtime: &PolicyRuntime) -> revops_runtime::LoadedPolicy {
    runtime
        .load(revops_policy_artifacts::REBALANCE_EV)
        .expect("rebalance-ev loads")
}

#[test]
fn the_built_in_scorer_loads_with_the_rebalance_scorer_role() {
    let runtime = runtime();
    let scorer = load_scorer(&runtime);
    assert_eq!(scorer.name(), "rebalance-ev");
    assert_eq!(scorer.roles(), [Role::RebalanceScorer]);
    assert!(scorer.has_role(Role::RebalanceScorer));
    assert!(!scorer.has_role(Role::FeeStrategy));
}

#[test]
fn the_built_in_scorer_matches_its_native_model() {
    let runtime = runtime();
    let scorer = load_scorer(&runtime);
    let batch = candidates(40);
    let scored = runtime.score_rebalances(&scorer, &batch).expect("scores");
    assert_eq!(scored.verdicts.len(), batch.len());
    let accepted = scored.verdicts.iter().filter(|v| v.accept).count();
    assert!(
        0 < accepted && accepted < batch.len(),
        "{accepted} accepted"
    );
    for (candidate, verdict) in batch.iter().zip(&scored.verdicts) {
        assert_eq!(*verdict, native_verdict(candidate));
    }
    assert!(scored.fuel_used > 0);
    assert_eq!(scored.logs_dropped, 0);
    // Deterministic across instances.
    let again = runtime.score_rebalances(&scorer, &batch).unwrap();
    assert_eq!(again.verdicts, scored.verdicts);
    // An empty batch is an empty answer.
    assert!(
        runtime
            .score_rebalances(&scorer, &[])
            .unwrap()
            .verdicts
            .is_empty()
    );
}

#[test]
fn a_fee_only_component_reports_only_fee_strategy_and_cannot_score() {
    let (runtime, fee_alpha) = shared_fee_alpha();
    assert_eq!(fee_alpha.roles(), [Role::FeeStrategy]);
    let failure = runtime
        .score_rebalances(fee_alpha, &candidates(2))
        .expect_err("fee-alpha has no scorer");
    assert_eq!(failure.kind, FailureKind::MissingRole);
    assert!(failure.message.contains("rebalance-scorer"), "{failure}");
    assert!(failure.message.contains("fee-alpha"), "{failure}");
}

#[test]
fn a_scorer_cannot_decide_fees() {
    let runtime = runtime();
    let scorer = load_scorer(&runtime);
    let failure = runtime
        .decide_fees(&scorer, &crate::support::inputs(2))
        .expect_err("rebalance-ev has no fee strategy");
    assert_eq!(failure.kind, FailureKind::MissingRole);
    assert!(failure.message.contains("fee-strategy"), "{failure}");
}

#[test]
fn a_component_with_both_roles_reports_and_serves_both() {
    let runtime = runtime();
    let wasm = Guest::new("both-roles").roles(Roles::Both).component();
    let policy = runtime.load(&wasm).expect("loads");
    assert_eq!(policy.roles(), [Role::FeeStrategy, Role::RebalanceScorer]);
    let fees = runtime
        .decide_fees(&policy, &crate::support::inputs(3))
        .unwrap();
    assert_eq!(fees.decisions.len(), 3);
    let verdicts = runtime.score_rebalances(&policy, &candidates(3)).unwrap();
    assert_eq!(verdicts.verdicts.len(), 3);
    assert!(verdicts.verdicts.iter().all(|v| !v.accept));
}

#[test]
fn a_scorer_only_guest_reports_only_its_role() {
    let runtime = runtime();
    let wasm = Guest::new("wat-scorer").roles(Roles::Scorer).component();
    let policy = runtime.load(&wasm).expect("loads");
    assert_eq!(policy.roles(), [Role::RebalanceScorer]);
    assert_eq!(
        runtime
            .score_rebalances(&policy, &candidates(2))
            .unwrap()
            .verdicts
            .len(),
        2
    );
}

#[test]
fn declared_roles_must_match_the_exports() {
    let runtime = runtime();
    // Declares fee-strategy, exports only the scorer.
    let wasm = Guest::new("liar")
        .roles(Roles::Scorer)
        .declare_roles(&[0])
        .component();
    let err = runtime.load(&wasm).expect_err("roles must match");
    assert!(matches!(err, LoadError::RoleMismatch { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("[fee-strategy]"), "{message}");
    assert!(message.contains("[rebalance-scorer]"), "{message}");
    // Declares a role it cannot export in this version.
    let wasm = Guest::new("splicer").declare_roles(&[0, 3]).component();
    assert!(matches!(
        runtime.load(&wasm),
        Err(LoadError::RoleMismatch { .. })
    ));
}

#[test]
fn hostile_scorer_output_is_invalid_output() {
    let runtime = runtime();
    for (scoring, expected) in [
        (Scoring::DropLast, "verdicts for 3 rebalance candidates"),
        (Scoring::ForeignSource, "source `foreign` is not one of"),
    ] {
        let wasm = Guest::new("hostile-scorer")
            .roles(Roles::Scorer)
            .scoring(scoring)
            .component();
        let policy = runtime.load(&wasm).expect("loads");
        let failure = runtime
            .score_rebalances(&policy, &candidates(3))
            .expect_err("contract breach");
        assert_eq!(failure.kind, FailureKind::InvalidOutput, "{failure}");
        assert!(failure.message.contains(expected), "{failure}");
    }
}

#[test]
fn a_spinning_scorer_runs_out_of_fuel() {
    let runtime = runtime_with(Limits {
        fuel_per_batch_base: 5_000_000,
        fuel_per_candidate: 0,
        ..Limits::default()
    });
    let wasm = Guest::new("spinner")
        .roles(Roles::Scorer)
        .prelude(Prelude::Spin)
        .component();
    let policy = runtime.load(&wasm).expect("loads");
    let failure = runtime
        .score_rebalances(&policy, &candidates(2))
        .expect_err("spins");
    assert_eq!(failure.kind, FailureKind::OutOfFuel, "{failure}");
}

#[test]
fn default_fuel_covers_the_built_in_scorer_with_headroom() {
    let runtime = runtime();
    let scorer = load_scorer(&runtime);
    let empty = runtime.score_rebalances(&scorer, &[]).unwrap().fuel_used;
    let batch = runtime.score_rebalances(&scorer, &candidates(500)).unwrap();
    let per_candidate = (batch.fuel_used - empty) / 500;
    eprintln!("rebalance-ev: {empty} fuel base, {per_candidate} fuel per 3-source candidate");
    let limits = Limits::default();
    assert!(
        limits.fuel_per_candidate >= 5 * per_candidate,
        "{per_candidate} fuel per candidate"
    );
    assert!(batch.fuel_used < limits.fuel_for_scoring(500));
}
