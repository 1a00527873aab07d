//! Failures are contained and classified, and the runtime keeps working.

use revops_runtime::{FailureKind, Limits, PolicyRuntime};

use crate::guest::{Answer, Guest, Prelude};
use crate::support::{inputs, runtime, runtime_with};

fn kind_of(runtime: &PolicyRuntime, guest: Guest) -> FailureKind {
    let policy = runtime.load(&guest.component()).expect("loads");
    runtime
        .decide_fees(&policy, &inputs(3))
        .expect_err("the call must fail")
        .kind
}

/// After a failure, a good policy on the same runtime still works.
fn still_works(runtime: &PolicyRuntime) {
    let good = runtime.load(&Guest::new("good").component()).unwrap();
    let batch = runtime
        .decide_fees(&good, &inputs(3))
        .expect("good policy works");
    assert_eq!(batch.decisions.len(), 3);
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    let runtime = runtime();
    let policy = runtime
        .load(&Guest::new("spin").prelude(Prelude::Spin).component())
        .unwrap();
    let failure = runtime.decide_fees(&policy, &inputs(3)).unwrap_err();
    assert_eq!(failure.kind, FailureKind::OutOfFuel, "{failure}");
    assert_eq!(failure.kind.as_str(), "out_of_fuel");
    // The same loaded policy fails the same way again: fresh store per call.
    let again = runtime.decide_fees(&policy, &inputs(3)).unwrap_err();
    assert_eq!(again.kind, FailureKind::OutOfFuel);
    still_works(&runtime);
}

#[test]
fn with_unlimited_fuel_the_epoch_backstop_interrupts() {
    let runtime = runtime_with(Limits {
        fuel_per_batch_base: u64::MAX / 2,
        fuel_per_channel: 0,
        wall_clock_ms: 50,
        ..Limits::default()
    });
    let kind = kind_of(&runtime, Guest::new("spin-forever").prelude(Prelude::Spin));
    assert_eq!(kind, FailureKind::Interrupted);
    still_works(&runtime);
}

#[test]
fn growing_memory_past_the_cap_is_out_of_memory() {
    let runtime = runtime_with(Limits {
        memory_bytes: 4 * 1024 * 1024,
        ..Limits::default()
    });
    let kind = kind_of(&runtime, Guest::new("bomb").prelude(Prelude::MemoryBomb));
    assert_eq!(kind, FailureKind::OutOfMemory);
    still_works(&runtime);
}

#[test]
fn unreachable_is_a_trap_naming_the_function() {
    let runtime = runtime();
    let policy = runtime
        .load(
            &Guest::new("panics")
                .prelude(Prelude::Unreachable)
                .component(),
        )
        .unwrap();
    let failure = runtime.decide_fees(&policy, &inputs(3)).unwrap_err();
    assert_eq!(failure.kind, FailureKind::Trap);
    assert!(failure.message.contains("unreachable"), "{failure}");
    still_works(&runtime);
}

#[test]
fn a_guest_err_is_a_guest_error_with_its_message() {
    let runtime = runtime();
    let policy = runtime
        .load(&Guest::new("refuses").answer(Answer::Err).component())
        .unwrap();
    let failure = runtime.decide_fees(&policy, &inputs(3)).unwrap_err();
    assert_eq!(failure.kind, FailureKind::GuestError);
    assert_eq!(failure.message, "policy refuses");
    still_works(&runtime);
}

#[test]
fn contract_breaches_are_invalid_output() {
    let runtime = runtime();
    let failure = |guest: Guest| {
        let policy = runtime.load(&guest.component()).unwrap();
        runtime.decide_fees(&policy, &inputs(3)).unwrap_err()
    };
    let short = failure(Guest::new("short").answer(Answer::DropLast));
    assert_eq!(short.kind, FailureKind::InvalidOutput);
    assert!(
        short.message.contains("2 decisions for 3 channels"),
        "{short}"
    );

    let big_state = failure(Guest::new("big-state").answer(Answer::Echo {
        state_bytes: Some(5000),
        step_chars: 4,
        reason_bytes: 8,
    }));
    assert_eq!(big_state.kind, FailureKind::InvalidOutput);
    assert!(big_state.message.contains("800000x1x0"), "{big_state}");

    let long_step = failure(Guest::new("long-step").answer(Answer::Echo {
        state_bytes: None,
        step_chars: 65,
        reason_bytes: 8,
    }));
    assert_eq!(long_step.kind, FailureKind::InvalidOutput);
    still_works(&runtime);
}

#[test]
fn long_reasons_are_truncated_and_state_passes_through() {
    let runtime = runtime();
    let policy = runtime
        .load(
            &Guest::new("verbose")
                .answer(Answer::Echo {
                    state_bytes: Some(4096),
                    step_chars: 64,
                    reason_bytes: 5000,
                })
                .component(),
        )
        .unwrap();
    let batch = runtime
        .decide_fees(&policy, &inputs(3))
        .expect("within the contract");
    for (decision, input) in batch.decisions.iter().zip(inputs(3)) {
        assert_eq!(decision.short_channel_id, input.short_channel_id);
        assert_eq!(decision.fee_ppm, input.fee_ppm);
        assert_eq!(decision.reason.len(), revops_runtime::MAX_REASON_BYTES);
        assert_eq!(decision.state.as_ref().map(Vec::len), Some(4096));
    }
    assert!(batch.fuel_used > 0);
}

#[test]
fn an_empty_batch_is_fine() {
    let runtime = runtime();
    let policy = runtime.load(&Guest::new("empty").component()).unwrap();
    let batch = runtime.decide_fees(&policy, &[]).unwrap();
    assert!(batch.decisions.is_empty());
}

#[test]
fn one_loaded_policy_serves_concurrent_callers() {
    let runtime = std::sync::Arc::new(runtime());
    let policy = runtime.load(&Guest::new("shared").component()).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (runtime, policy) = (runtime.clone(), policy.clone());
            std::thread::spawn(move || runtime.decide_fees(&policy, &inputs(5)).unwrap())
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap().decisions.len(), 5);
    }
}
