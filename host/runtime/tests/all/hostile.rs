//! The hostile guests from `revops-policy-artifacts` (real Rust guests built
//! for wasm32): each fails with the right kind, and the runtime keeps
//! working for the default policy afterwards.

use revops_policy_artifacts::{FEE_ALPHA, hostile};
use revops_runtime::{FailureKind, Limits, LoadedPolicy, PolicyFailure, PolicyRuntime};

use crate::support::{inputs, runtime_with, shared_fee_alpha};

fn fail(runtime: &PolicyRuntime, wasm: &[u8]) -> PolicyFailure {
    let policy = runtime
        .load(wasm)
        .expect("hostile guests have valid metadata");
    runtime
        .decide_fees(&policy, &inputs(3))
        .expect_err("hostile guests fail")
}

fn default_policy_still_works(runtime: &PolicyRuntime, policy: &LoadedPolicy) {
    let batch = runtime
        .decide_fees(policy, &inputs(3))
        .expect("fee-alpha works");
    assert_eq!(batch.decisions.len(), 3);
}

#[test]
fn each_hostile_guest_fails_with_its_kind() {
    let (runtime, fee_alpha) = shared_fee_alpha();
    let cases = [
        (hostile::INFINITE_LOOP, FailureKind::OutOfFuel),
        (hostile::MEMORY_BOMB, FailureKind::OutOfMemory),
        (hostile::PANIC, FailureKind::Trap),
        (hostile::GUEST_ERROR, FailureKind::GuestError),
        (hostile::WRONG_COUNT, FailureKind::InvalidOutput),
    ];
    for (wasm, kind) in cases {
        let failure = fail(runtime, wasm);
        assert_eq!(failure.kind, kind, "{failure}");
        default_policy_still_works(runtime, fee_alpha);
    }
}

#[test]
fn the_guest_error_message_comes_through() {
    let failure = fail(&shared_fee_alpha().0, hostile::GUEST_ERROR);
    assert!(
        failure.message.contains("deliberate guest error"),
        "{failure}"
    );
}

#[test]
fn the_epoch_backstop_stops_the_infinite_loop_when_fuel_is_huge() {
    let runtime = runtime_with(Limits {
        fuel_per_batch_base: u64::MAX / 2,
        fuel_per_channel: 0,
        wall_clock_ms: 100,
        ..Limits::default()
    });
    let fee_alpha = runtime.load(FEE_ALPHA).unwrap();
    let failure = fail(&runtime, hostile::INFINITE_LOOP);
    assert_eq!(failure.kind, FailureKind::Interrupted, "{failure}");
    default_policy_still_works(&runtime, &fee_alpha);
}
