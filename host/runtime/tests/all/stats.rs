//! Per-policy call statistics: every `decide_fees` / `score_rebalances` call
//! is counted under the policy's `name@version` tag, successes with their
//! fuel, failures by kind. Each test uses its own runtime so counts are
//! exact (the shared fee-alpha runtime is called by other tests).

use revops_policy_artifacts::{FEE_ALPHA, REBALANCE_EV, hostile};
use revops_runtime::{FailureKind, PolicyStats};

use crate::guest::{Answer, Guest, Roles};
use crate::rebalance::candidates;
use crate::support::{inputs, runtime};

#[test]
fn a_good_policy_counts_calls_and_fuel_percentiles() {
    let runtime = runtime();
    let policy = runtime.load(FEE_ALPHA).expect("fee-alpha loads");
    assert_eq!(
        runtime.stats(&policy),
        PolicyStats::default(),
        "loading is not a call"
    );
    assert!(runtime.all_stats().is_empty());

    let mut fuel: Vec<u64> = [1, 2, 3]
        .into_iter()
        .map(|n| runtime.decide_fees(&policy, &inputs(n)).unwrap().fuel_used)
        .collect();
    fuel.sort_unstable();
    let stats = runtime.stats(&policy);
    assert_eq!(stats.calls, 3);
    assert_eq!(stats.failures, 0);
    assert!(stats.failures_by_kind.is_empty());
    // Nearest rank over 3 samples: p50 is the 2nd, p99 the 3rd.
    assert_eq!(stats.fuel_p50, Some(fuel[1]));
    assert_eq!(stats.fuel_p99, Some(fuel[2]));
    assert!(stats.last_call_at_unix_secs.is_some());
    assert_eq!(stats.last_error, None);
    assert_eq!(stats.consecutive_failures, 0);

    let all = runtime.all_stats();
    assert_eq!(all.keys().collect::<Vec<_>>(), [policy.tag()]);
    assert_eq!(all[policy.tag()], stats);
    assert_eq!(
        policy.tag(),
        format!("{}@{}", policy.name(), policy.version())
    );
}

#[test]
fn a_panicking_policy_counts_traps_with_the_last_error() {
    let runtime = runtime();
    let fee_alpha = runtime.load(FEE_ALPHA).unwrap();
    let panicking = runtime.load(hostile::PANIC).unwrap();
    for _ in 0..2 {
        let failure = runtime.decide_fees(&panicking, &inputs(3)).unwrap_err();
        assert_eq!(failure.kind, FailureKind::Trap, "{failure}");
    }
    let stats = runtime.stats(&panicking);
    assert_eq!(stats.calls, 2);
    assert_eq!(stats.failures, 2);
    assert_eq!(stats.failures_by_kind.get("trap"), Some(&2));
    assert_eq!(stats.failures_by_kind.len(), 1);
    assert_eq!(stats.consecutive_failures, 2);
    assert_eq!((stats.fuel_p50, stats.fuel_p99), (None, None));
    let last = stats.last_error.expect("the trap is recorded");
    assert_eq!(last.kind, FailureKind::Trap);
    assert!(!last.message.is_empty());
    assert!(stats.last_call_at_unix_secs.is_some());

    // Another policy's calls do not touch it.
    runtime.decide_fees(&fee_alpha, &inputs(2)).unwrap();
    assert_eq!(runtime.stats(&panicking).calls, 2);
    assert_eq!(runtime.stats(&fee_alpha).consecutive_failures, 0);
    assert_eq!(runtime.all_stats().len(), 2);
}

#[test]
fn a_success_resets_the_failure_streak_but_keeps_the_last_error() {
    let runtime = runtime();
    // Drops the last decision: a contract breach for any non-empty batch,
    // a valid (empty) answer for an empty one.
    let wasm = Guest::new("flaky").answer(Answer::DropLast).component();
    let flaky = runtime.load(&wasm).unwrap();
    for _ in 0..3 {
        let failure = runtime.decide_fees(&flaky, &inputs(2)).unwrap_err();
        assert_eq!(failure.kind, FailureKind::InvalidOutput, "{failure}");
    }
    let stats = runtime.stats(&flaky);
    assert_eq!(stats.consecutive_failures, 3);
    assert_eq!(stats.failures_by_kind.get("invalid_output"), Some(&3));

    let fuel_used = runtime.decide_fees(&flaky, &[]).unwrap().fuel_used;
    let stats = runtime.stats(&flaky);
    assert_eq!(stats.calls, 4);
    assert_eq!(stats.failures, 3);
    assert_eq!(stats.consecutive_failures, 0);
    assert_eq!(stats.fuel_p50, Some(fuel_used));
    assert_eq!(
        stats.last_error.map(|e| e.kind),
        Some(FailureKind::InvalidOutput)
    );
}

#[test]
fn missing_role_failures_are_counted() {
    let runtime = runtime();
    let fee_alpha = runtime.load(FEE_ALPHA).unwrap();
    let scorer = runtime.load(REBALANCE_EV).unwrap();
    let failure = runtime.decide_fees(&scorer, &inputs(2)).unwrap_err();
    assert_eq!(failure.kind, FailureKind::MissingRole);
    runtime.score_rebalances(&scorer, &candidates(2)).unwrap();
    runtime
        .score_rebalances(&fee_alpha, &candidates(2))
        .unwrap_err();

    let scorer_stats = runtime.stats(&scorer);
    assert_eq!(scorer_stats.calls, 2);
    assert_eq!(scorer_stats.failures, 1);
    assert_eq!(scorer_stats.failures_by_kind.get("missing_role"), Some(&1));
    assert_eq!(
        scorer_stats.consecutive_failures, 0,
        "the scoring succeeded"
    );
    assert!(scorer_stats.fuel_p50.is_some());
    let last = scorer_stats.last_error.unwrap();
    assert_eq!(last.kind, FailureKind::MissingRole);
    assert_eq!(last.message, failure.message);

    let fee_stats = runtime.stats(&fee_alpha);
    assert_eq!(fee_stats.calls, 1);
    assert_eq!(fee_stats.failures_by_kind.get("missing_role"), Some(&1));
    assert_eq!(fee_stats.consecutive_failures, 1);
}

#[test]
fn both_roles_of_a_component_share_one_entry() {
    let runtime = runtime();
    let wasm = Guest::new("both-stats").roles(Roles::Both).component();
    let policy = runtime.load(&wasm).unwrap();
    runtime.decide_fees(&policy, &inputs(3)).unwrap();
    runtime.score_rebalances(&policy, &candidates(3)).unwrap();
    let all = runtime.all_stats();
    assert_eq!(all.len(), 1);
    assert_eq!(all[policy.tag()].calls, 2);
}

#[test]
fn reset_stats_forgets_a_policy() {
    let runtime = runtime();
    let panicking = runtime.load(hostile::PANIC).unwrap();
    runtime.decide_fees(&panicking, &inputs(1)).unwrap_err();
    assert_eq!(runtime.stats(&panicking).calls, 1);
    runtime.reset_stats(panicking.tag());
    assert_eq!(runtime.stats(&panicking), PolicyStats::default());
    assert!(runtime.all_stats().is_empty());
    runtime.reset_stats("never-loaded@0.0.0");
}

#[test]
fn stats_serialize_as_snake_case_json() {
    let runtime = runtime();
    let panicking = runtime.load(hostile::PANIC).unwrap();
    runtime.decide_fees(&panicking, &inputs(1)).unwrap_err();
    let json = serde_json::to_value(runtime.stats(&panicking)).unwrap();
    assert_eq!(json["calls"], 1);
    assert_eq!(json["failures"], 1);
    assert_eq!(json["failures_by_kind"]["trap"], 1);
    assert!(json["fuel_p50"].is_null());
    assert!(json["fuel_p99"].is_null());
    assert_eq!(json["last_error"]["kind"], "trap");
    assert!(json["last_error"]["at_unix_secs"].is_u64());
    assert!(json["last_error"]["message"].is_string());
    assert!(json["last_call_at_unix_secs"].is_u64());
    assert_eq!(json["consecutive_failures"], 1);
}
