//! The real default policy, `fee-alpha`, through the runtime.

use revops_runtime::{FeeBatch, Role};

use crate::support::{inputs, shared_fee_alpha};

#[test]
fn loads_with_its_metadata_and_only_revops_imports() {
    let (_, policy) = shared_fee_alpha();
    assert_eq!(policy.name(), "fee-alpha");
    assert!(!policy.version().is_empty());
    assert!(policy.metadata().roles.contains(&Role::FeeStrategy));
    assert!(
        policy
            .imports()
            .iter()
            .all(|import| import.starts_with("revops:policy/")),
        "{:?}",
        policy.imports()
    );
}

#[test]
fn decides_sane_fees_for_a_batch_of_three() {
    let (runtime, policy) = shared_fee_alpha();
    let batch_inputs = inputs(3);
    let FeeBatch {
        decisions,
        fuel_used,
        logs_dropped,
    } = runtime
        .decide_fees(policy, &batch_inputs)
        .expect("fee-alpha decides");
    assert_eq!(decisions.len(), 3);
    assert_eq!(logs_dropped, 0);
    assert!(fuel_used > 0);
    for (input, decision) in batch_inputs.iter().zip(&decisions) {
        assert_eq!(decision.short_channel_id, input.short_channel_id);
        assert!(
            (input.bounds.floor_ppm..=input.bounds.ceiling_ppm).contains(&decision.fee_ppm),
            "{decision:?}"
        );
        assert!(!decision.step.is_empty());
        assert!(!decision.reason.is_empty());
        assert!(decision.state.is_some(), "fee-alpha always returns state");
    }

    // Feeding the state back (the next cycle) works too, and is deterministic.
    let next: Vec<_> = batch_inputs
        .iter()
        .zip(&decisions)
        .map(|(input, decision)| revops_runtime::ChannelFeeInput {
            state: decision.state.clone(),
            now: input.now + 1800,
            ..input.clone()
        })
        .collect();
    let first = runtime.decide_fees(policy, &next).unwrap();
    let second = runtime.decide_fees(policy, &next).unwrap();
    assert_eq!(first.decisions, second.decisions);
    assert_eq!(first.fuel_used, second.fuel_used, "fuel is deterministic");
}

/// Fuel per channel, as used to size `Limits::default()`: run with
/// `--nocapture` to see the numbers. Asserts the defaults keep ≥ 5× headroom.
#[test]
fn default_limits_leave_headroom_for_fee_alpha() {
    let (runtime, policy) = shared_fee_alpha();
    let empty = runtime.decide_fees(policy, &[]).unwrap().fuel_used;
    let n = 200;
    let mut batch_inputs = inputs(n);
    let cold = runtime.decide_fees(policy, &batch_inputs).unwrap();
    for (input, decision) in batch_inputs.iter_mut().zip(&cold.decisions) {
        input.state = decision.state.clone();
        input.now += 1800;
    }
    let warm = runtime.decide_fees(policy, &batch_inputs).unwrap();
    let per_channel = cold.fuel_used.max(warm.fuel_used).saturating_sub(empty) / u64::from(n);
    eprintln!(
        "fee-alpha fuel: empty batch {empty}, {n} channels cold {} / warm {}, ≈{per_channel} per channel",
        cold.fuel_used, warm.fuel_used
    );
    let limits = runtime.limits(revops_runtime::Role::FeeStrategy);
    assert!(limits.fuel_per_batch_base >= 5 * empty);
    assert!(limits.fuel_per_channel >= 5 * per_channel);
}
