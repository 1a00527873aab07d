//! The second built-in policy, `fee-thompson`, through the runtime: loads,
//! decides big batches within bounds, reproducibly, within the default fuel.

use std::sync::OnceLock;
use std::time::Instant;

use revops_fee_thompson::{MAX_OBSERVATIONS, Observation, ThompsonState};
use revops_runtime::{ChannelFeeInput, FeeBatch, LoadedPolicy, PolicyRuntime, Role};

use crate::support::{inputs, runtime};

/// One runtime with default limits and fee-thompson loaded, shared by this
/// module's tests (compiling the component is the slow part).
fn shared_fee_thompson() -> &'static (PolicyRuntime, LoadedPolicy) {
    static SHARED: OnceLock<(PolicyRuntime, LoadedPolicy)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = runtime();
        let policy = runtime
            .load(revops_policy_artifacts::FEE_THOMPSON)
            .expect("fee-thompson loads");
        (runtime, policy)
    })
}

/// The inputs of the next cycle: every channel carries the state it got,
/// half an hour later, with a new seed.
fn next_cycle(inputs: &[ChannelFeeInput], batch: &FeeBatch) -> Vec<ChannelFeeInput> {
    inputs
        .iter()
        .zip(&batch.decisions)
        .map(|(input, decision)| ChannelFeeInput {
            state: decision.state.clone(),
            fee_ppm: decision.fee_ppm,
            now: input.now + 1800,
            seed: input.seed.wrapping_add(1),
            ..input.clone()
        })
        .collect()
}

/// A state with the full 200 observations, as a channel has after 200 cycles:
/// the most a call ever decodes, fits and encodes.
fn full_state(now: u64) -> Vec<u8> {
    let mut state = ThompsonState::default();
    for i in 0..MAX_OBSERVATIONS as u64 {
        state.record(Observation {
            fee_ppm: 100 + (i as u32 * 37) % 900,
            rate_sat_per_hour: (i % 7) as f32 * 20.0,
            weight: 0.5,
            observed_at_unix_secs: now - (MAX_OBSERVATIONS as u64 - i) * 1800,
        });
    }
    state.last_fee_ppm = Some(300);
    let blob = state.encode();
    assert!(blob.len() <= 4096);
    blob
}

fn assert_within_bounds(inputs: &[ChannelFeeInput], batch: &FeeBatch) {
    assert_eq!(batch.decisions.len(), inputs.len());
    for (input, decision) in inputs.iter().zip(&batch.decisions) {
        assert_eq!(decision.short_channel_id, input.short_channel_id);
        assert!(
            (input.bounds.floor_ppm..=input.bounds.ceiling_ppm).contains(&decision.fee_ppm),
            "{decision:?}"
        );
        assert!(!decision.step.is_empty() && !decision.reason.is_empty());
        let state = decision
            .state
            .as_ref()
            .expect("fee-thompson always returns state");
        assert!(state.len() <= 4096);
    }
}

#[test]
fn loads_with_its_metadata_and_only_revops_imports() {
    let (_, policy) = shared_fee_thompson();
    assert_eq!(policy.name(), "fee-thompson");
    assert_eq!(policy.version(), revops_fee_thompson::POLICY_VERSION);
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
fn decides_a_batch_of_two_thousand_within_bounds_and_reproducibly() {
    let (runtime, policy) = shared_fee_thompson();
    let cold_inputs = inputs(2_000);
    let started = Instant::now();
    let cold = runtime.decide_fees(policy, &cold_inputs).expect("decides");
    let cold_elapsed = started.elapsed();
    assert_within_bounds(&cold_inputs, &cold);
    assert_eq!(cold.logs_dropped, 0);

    let warm_inputs = next_cycle(&cold_inputs, &cold);
    let warm = runtime.decide_fees(policy, &warm_inputs).expect("decides");
    assert_within_bounds(&warm_inputs, &warm);
    let again = runtime.decide_fees(policy, &warm_inputs).expect("decides");
    assert_eq!(
        warm.decisions, again.decisions,
        "same inputs, same decisions"
    );
    assert_eq!(warm.fuel_used, again.fuel_used, "fuel is deterministic");

    // The seed is the only randomness: another seed samples other fees.
    let reseeded: Vec<_> = warm_inputs
        .iter()
        .map(|input| ChannelFeeInput {
            seed: input.seed ^ 0x5555_5555,
            ..input.clone()
        })
        .collect();
    let other = runtime.decide_fees(policy, &reseeded).expect("decides");
    let differing = (warm.decisions.iter().zip(&other.decisions))
        .filter(|(a, b)| a.fee_ppm != b.fee_ppm)
        .count();
    assert!(differing > 1_000, "{differing} of 2000 differ");

    let steps: std::collections::BTreeSet<&str> =
        warm.decisions.iter().map(|d| d.step.as_str()).collect();
    assert!(steps.contains("thompson"), "{steps:?}");
    eprintln!(
        "fee-thompson: 2,000 cold channels in {cold_elapsed:?} (≈{} ns per channel, this build)",
        cold_elapsed.as_nanos() / 2_000
    );
}

/// Fuel and time per channel, as used to size `Limits::default()`: run with
/// `--nocapture` to see the numbers. Asserts the defaults keep ≥ 5× headroom
/// even when every channel carries the full 200 observations.
#[test]
fn default_limits_leave_headroom_for_fee_thompson() {
    let (runtime, policy) = shared_fee_thompson();
    let empty = runtime.decide_fees(policy, &[]).unwrap().fuel_used;
    let n = 2_000;
    let cold_inputs = inputs(n);
    let cold = runtime.decide_fees(policy, &cold_inputs).unwrap();
    let warm_inputs = next_cycle(&cold_inputs, &cold);
    let warm = runtime.decide_fees(policy, &warm_inputs).unwrap();
    let full_inputs: Vec<_> = cold_inputs
        .iter()
        .map(|input| ChannelFeeInput {
            state: Some(full_state(input.now)),
            ..input.clone()
        })
        .collect();
    let started = Instant::now();
    let full = runtime.decide_fees(policy, &full_inputs).unwrap();
    let full_elapsed = started.elapsed();
    let per_channel = |fuel: u64| fuel.saturating_sub(empty) / u64::from(n);
    let peak = per_channel(cold.fuel_used.max(warm.fuel_used).max(full.fuel_used));
    eprintln!(
        "fee-thompson fuel: empty batch {empty}; per channel cold ≈{}, warm ≈{}, \
         200 observations ≈{} ({n} channels in {full_elapsed:?}, ≈{} ns per channel, this build)",
        per_channel(cold.fuel_used),
        per_channel(warm.fuel_used),
        per_channel(full.fuel_used),
        full_elapsed.as_nanos() / u128::from(n)
    );
    assert_within_bounds(&full_inputs, &full);
    for decision in &full.decisions {
        let state = ThompsonState::decode(decision.state.as_deref().unwrap()).unwrap();
        assert_eq!(state.observations().len(), MAX_OBSERVATIONS);
    }
    let limits = runtime.limits(revops_runtime::Role::FeeStrategy);
    assert!(limits.fuel_per_batch_base >= 5 * empty);
    assert!(
        limits.fuel_per_channel >= 5 * peak,
        "{} < 5 × {peak}",
        limits.fuel_per_channel
    );
}
