//! Behaviour of fee-thompson through its public API, as an operator would
//! see it over consecutive cycles: fees, steps, reasons and the state the
//! host hands back.

use revops_fee_model::prng::SplitMix64;
use revops_fee_thompson::{
    FeeDecision, FeeInput, FlowState, Guidance, MAX_ENCODED_LEN, MAX_OBSERVATIONS, Posterior,
    ThompsonState, decide, step,
};

const HOUR_SECS: u64 = 3600;
const WINDOW_SECS: u64 = 6 * HOUR_SECS;
const CAPACITY_MSAT: u64 = 10_000_000_000;
const T0: u64 = 1_700_000_000;

/// A balanced channel at 200 ppm within [10, 5000], a 6 h window with no
/// forwards, no state yet.
fn channel() -> FeeInput {
    FeeInput {
        short_channel_id: "800000x1x0".to_owned(),
        peer_id: "02".repeat(33),
        now_unix_secs: T0,
        seed: 42,
        capacity_msat: CAPACITY_MSAT,
        local_msat: CAPACITY_MSAT / 2,
        fee_ppm: 200,
        fee_base_msat: 1000,
        htlcs_in_flight: 0,
        max_htlcs: 30,
        fees_earned_msat: 0,
        forwarded_out_msat: 0,
        window_secs: WINDOW_SECS,
        flow_state: FlowState::Balanced,
        floor_ppm: 10,
        ceiling_ppm: 5000,
        feerate_current_perkw: 2500,
        feerate_average_24h_perkw: 2500,
        guidance: None,
        state: None,
    }
}

/// The next cycle: the host applied our fee, hands our state back and
/// reports the window's traffic.
fn next_cycle(
    previous: &FeeInput,
    decision: &FeeDecision,
    forwarded_out_msat: u64,
    fees_earned_msat: u64,
) -> FeeInput {
    FeeInput {
        fee_ppm: decision.fee_ppm,
        state: decision.state.clone(),
        forwarded_out_msat,
        fees_earned_msat,
        now_unix_secs: previous.now_unix_secs + previous.window_secs,
        seed: SplitMix64::new(previous.seed).next_u64(),
        ..previous.clone()
    }
}

fn decoded(decision: &FeeDecision) -> ThompsonState {
    let blob = decision
        .state
        .as_deref()
        .expect("fee-thompson always returns state");
    ThompsonState::decode(blob).expect("its own state decodes")
}

/// Fees earned in a 6 h window at `fee_ppm` on a channel where routing
/// demand pays best around 600 ppm: nothing below 350 ppm.
fn earned_msat(fee_ppm: u32) -> u64 {
    if (350..=900).contains(&fee_ppm) {
        // 150 sat/h.
        150 * 1000 * 6
    } else {
        0
    }
}

#[test]
fn the_first_call_without_a_window_holds_the_fee() {
    let input = FeeInput {
        window_secs: 0,
        fee_ppm: 9000,
        ..channel()
    };
    let decision = decide(&input);
    assert_eq!(decision.step, step::HOLD);
    assert_eq!(decision.fee_ppm, 5000, "held, clamped to the ceiling");
    assert!(
        decision.reason.contains("first decision"),
        "{}",
        decision.reason
    );
    let state = decoded(&decision);
    assert!(state.observations().len() == 0);
    assert_eq!(state.last_fee_ppm, Some(5000));
}

#[test]
fn a_zero_length_window_later_on_holds_and_learns_nothing() {
    let first = decide(&channel());
    let again = FeeInput {
        window_secs: 0,
        ..next_cycle(&channel(), &first, 5_000, 5_000)
    };
    let decision = decide(&again);
    assert_eq!(decision.step, step::HOLD);
    assert_eq!(decision.fee_ppm, first.fee_ppm);
    assert!(
        decision.reason.contains("zero-length"),
        "{}",
        decision.reason
    );
    let (before, after) = (decoded(&first), decoded(&decision));
    assert_eq!(after.observations().len(), before.observations().len());
    assert_eq!(after.aimd, before.aimd, "no window, no AIMD outcome");
}

#[test]
fn a_first_window_is_recorded_and_the_widened_prior_sampled() {
    let decision = decide(&channel());
    assert_eq!(decision.step, step::THOMPSON);
    assert!(
        decision.reason.contains("1 of 3 observations needed")
            && decision.reason.contains("N(200, 150)"),
        "{}",
        decision.reason
    );
    let state = decoded(&decision);
    let observations: Vec<_> = state.observations().collect();
    assert_eq!(observations.len(), 1);
    assert_eq!(observations[0].fee_ppm, 200);
    assert_eq!(
        observations[0].weight, 0.002,
        "a full window that earned nothing"
    );
}

#[test]
fn the_posterior_moves_toward_the_fees_that_earned() {
    let mut input = channel();
    let mut fees_ppm = Vec::new();
    let mut last = decide(&input);
    for _ in 0..60 {
        let earned = earned_msat(last.fee_ppm);
        input = next_cycle(&input, &last, earned.max(1) * 10, earned);
        last = decide(&input);
        fees_ppm.push(last.fee_ppm);
    }
    let state = decoded(&last);
    let posterior = Posterior::fit(state.observations(), input.now_unix_secs);
    // Earning windows weigh ~1000× idle ones, so the mean settles among the
    // fees that earned (the cheapest of them, where sampling lands most).
    assert!(
        posterior.mean_ppm > 350.0,
        "the prior says 200 ppm, revenue says ≥ 350: {posterior:?}"
    );
    let early: u32 = fees_ppm[..10].iter().sum();
    let late: u32 = fees_ppm[50..].iter().sum();
    assert!(
        late > early,
        "fees rise toward the earning range: {fees_ppm:?}"
    );
    assert!(
        last.reason
            .contains(&format!("from {} observations", state.observations().len())),
        "{}",
        last.reason
    );
}

#[test]
fn a_fee_that_earned_pulls_harder_than_idle_ones() {
    // Operator-set fees (never ours): 100 ppm idle, 700 ppm earning.
    let mut input = channel();
    let mut decision = decide(&input);
    for i in 0..12u64 {
        let fee_ppm = if i % 2 == 0 { 100 } else { 700 };
        let earned = if fee_ppm == 700 { 600_000 } else { 0 };
        input = FeeInput {
            fee_ppm,
            ..next_cycle(&input, &decision, earned, earned)
        };
        decision = decide(&input);
    }
    let state = decoded(&decision);
    let posterior = Posterior::fit(state.observations(), input.now_unix_secs);
    // 13 observations: the prior (200 ppm) keeps 1/(1 + 1.3) ≈ 43 % of the
    // blend. Weighing all fees alike would give ≈ 0.57 · 400 + 0.43 · 200
    // ≈ 313 ppm; the earning fee's weight pulls the mean to ≈ 0.57 · 700 + 87.
    assert!(posterior.mean_ppm > 450.0, "{posterior:?}");
}

#[test]
fn the_same_seed_gives_the_same_decision_and_other_seeds_other_samples() {
    let mut input = channel();
    let mut decision = decide(&input);
    for _ in 0..5 {
        input = next_cycle(&input, &decision, 1_000_000, 500_000);
        decision = decide(&input);
    }
    assert_eq!(decide(&input), decide(&input));

    let fees: std::collections::BTreeSet<u32> = (0..50u64)
        .map(|seed| {
            decide(&FeeInput {
                seed,
                ..input.clone()
            })
            .fee_ppm
        })
        .collect();
    assert!(fees.len() > 20, "seeds spread the samples: {fees:?}");
}

#[test]
fn three_windows_without_forwards_cut_the_modifier_and_the_fee() {
    // Twin channels with identical revenue (none) and seeds: one forwards
    // a little in every window (AIMD successes), the other nothing at all.
    // Both start with a window that forwarded, so no failure is pending.
    let start_input = FeeInput {
        forwarded_out_msat: 1,
        ..channel()
    };
    let start = decide(&start_input);
    let (mut idle_input, mut idle) = (start_input.clone(), start.clone());
    let (mut busy_input, mut busy) = (start_input, start);
    for window in 1..=3 {
        idle_input = next_cycle(&idle_input, &idle, 0, 0);
        idle = decide(&idle_input);
        busy_input = next_cycle(&busy_input, &busy, 1, 0);
        busy = decide(&busy_input);
        if window < 3 {
            assert_eq!(idle.fee_ppm, busy.fee_ppm, "window {window}");
            assert_eq!(idle.step, step::THOMPSON);
        }
    }
    let state = decoded(&idle);
    assert_eq!(idle.step, step::AIMD_DECREASE, "{}", idle.reason);
    assert_eq!(state.aimd.modifier, 0.85);
    assert_eq!(state.aimd.consecutive_failures, 0);
    assert!(idle.reason.contains("1.00 → 0.85"), "{}", idle.reason);
    assert_eq!(decoded(&busy).aimd.modifier, 1.0);
    assert!(
        idle.fee_ppm < busy.fee_ppm,
        "{} vs {}",
        idle.fee_ppm,
        busy.fee_ppm
    );
}

#[test]
fn ten_windows_with_forwards_raise_the_modifier_by_two_percent() {
    let mut input = FeeInput {
        forwarded_out_msat: 5_000_000,
        fees_earned_msat: 600_000,
        ..channel()
    };
    let mut decision = decide(&input);
    assert_eq!(decoded(&decision).aimd.consecutive_successes, 1);
    for _ in 0..8 {
        input = next_cycle(&input, &decision, 5_000_000, 600_000);
        decision = decide(&input);
        assert_eq!(decoded(&decision).aimd.modifier, 1.0);
    }
    input = next_cycle(&input, &decision, 5_000_000, 600_000);
    decision = decide(&input);
    let state = decoded(&decision);
    assert_eq!(state.aimd.modifier, 1.02);
    assert_eq!(state.aimd.consecutive_successes, 0);
    assert_eq!(decision.step, step::THOMPSON);
    assert!(
        decision.reason.contains("1.00 → 1.02"),
        "{}",
        decision.reason
    );
}

#[test]
fn at_most_two_hundred_observations_are_kept_within_4096_bytes() {
    let mut input = FeeInput {
        forwarded_out_msat: 1_000,
        fees_earned_msat: 10_000,
        ..channel()
    };
    let mut decision = decide(&input);
    for cycle in 2..=260usize {
        input = next_cycle(&input, &decision, 1_000, 10_000 * cycle as u64);
        decision = decide(&input);
        let blob = decision.state.as_deref().unwrap();
        assert!(blob.len() <= 4096, "cycle {cycle}: {} bytes", blob.len());
        assert_eq!(
            decoded(&decision).observations().len(),
            cycle.min(MAX_OBSERVATIONS)
        );
    }
    let state = decoded(&decision);
    assert_eq!(decision.state.as_ref().unwrap().len(), MAX_ENCODED_LEN);
    assert_eq!(
        state.observations().last().unwrap().observed_at_unix_secs,
        input.now_unix_secs,
        "the newest kept, the oldest dropped"
    );
}

#[test]
fn congestion_prices_at_the_working_ceiling_without_recording_the_window() {
    let mut input = channel();
    let mut decision = decide(&input);
    input = next_cycle(&input, &decision, 1_000, 1_000);
    decision = decide(&input);
    let before = decoded(&decision).observations().len();
    let congested = FeeInput {
        flow_state: FlowState::Congested,
        guidance: Some(Guidance {
            floor_ppm: 100,
            ceiling_ppm: 2500,
            peer_success_ratio: None,
        }),
        ..next_cycle(&input, &decision, 1_000, 1_000)
    };
    let decision = decide(&congested);
    assert_eq!(decision.step, step::CONGESTION);
    assert_eq!(decision.fee_ppm, 2500, "the guided ceiling");
    assert!(decision.reason.contains("congested"), "{}", decision.reason);
    assert_eq!(decoded(&decision).observations().len(), before);
}

#[test]
fn corrupt_state_is_treated_as_a_first_call() {
    let fresh = decide(&channel());
    let mut wrong_version = fresh.state.clone().unwrap();
    wrong_version[0] = 99;
    let blobs: [Vec<u8>; 5] = [
        Vec::new(),
        vec![0xFF; 4096],
        vec![1, 0, 0],
        wrong_version,
        b"{\"json\": \"from another policy\"}".to_vec(),
    ];
    for blob in blobs {
        let decision = decide(&FeeInput {
            state: Some(blob.clone()),
            ..channel()
        });
        assert_eq!(decision, fresh, "state {blob:?}");
    }
}

#[test]
fn an_outside_fee_change_is_observed_as_the_fee_in_force() {
    let first = decide(&channel());
    let ours = first.fee_ppm;
    // Within max(5 ppm, 10 %) of ours: host hysteresis, still ours.
    let near = FeeInput {
        fee_ppm: ours + ours / 20,
        ..next_cycle(&channel(), &first, 0, 0)
    };
    let state = decoded(&decide(&near));
    assert_eq!(state.observations().last().unwrap().fee_ppm, ours);
    // Far from ours: someone else set it, and that is what forwards paid.
    let far = FeeInput {
        fee_ppm: ours * 3 + 100,
        ..near
    };
    let state = decoded(&decide(&far));
    assert_eq!(state.observations().last().unwrap().fee_ppm, ours * 3 + 100);
}

#[test]
fn guidance_narrows_the_range_and_never_widens_it() {
    for seed in 0..50 {
        let guided = FeeInput {
            seed,
            guidance: Some(Guidance {
                floor_ppm: 400,
                ceiling_ppm: 600,
                peer_success_ratio: Some(0.5),
            }),
            ..channel()
        };
        let fee = decide(&guided).fee_ppm;
        assert!((400..=600).contains(&fee), "seed {seed}: {fee}");
        let wide = FeeInput {
            seed,
            floor_ppm: 150,
            ceiling_ppm: 250,
            guidance: Some(Guidance {
                floor_ppm: 1,
                ceiling_ppm: 100_000,
                peer_success_ratio: None,
            }),
            ..channel()
        };
        let fee = decide(&wide).fee_ppm;
        assert!((150..=250).contains(&fee), "seed {seed}: {fee}");
    }
}

#[test]
fn fees_stay_in_range_for_random_inputs() {
    let mut rng = SplitMix64::new(7);
    let mut pick = |choices: &[u64]| choices[(rng.next_u64() % choices.len() as u64) as usize];
    let mut carried_state: Option<Vec<u8>> = None;
    for case in 0..3000 {
        let flow_state = [
            FlowState::Unknown,
            FlowState::Source,
            FlowState::Sink,
            FlowState::Balanced,
            FlowState::Congested,
        ][pick(&[0, 1, 2, 3, 4]) as usize];
        let guidance = (pick(&[0, 1]) == 1).then(|| Guidance {
            floor_ppm: pick(&[0, 1, 50, 700, 5000, u64::from(u32::MAX)]) as u32,
            ceiling_ppm: pick(&[0, 10, 300, 2500, u64::from(u32::MAX)]) as u32,
            peer_success_ratio: None,
        });
        let state = match pick(&[0, 1, 2, 3]) {
            0 => None,
            1 => Some(vec![
                pick(&[0, 1, 2, 255]) as u8;
                pick(&[0, 1, 36, 52, 5000]) as usize
            ]),
            _ => carried_state.clone(),
        };
        let input = FeeInput {
            now_unix_secs: pick(&[0, T0, T0 + case * 3600, u64::MAX]),
            seed: pick(&[0, case, u64::MAX]),
            capacity_msat: pick(&[0, 1, CAPACITY_MSAT, u64::MAX]),
            local_msat: pick(&[0, CAPACITY_MSAT / 3, u64::MAX]),
            fee_ppm: pick(&[0, 1, 200, 4999, u64::from(u32::MAX)]) as u32,
            fees_earned_msat: pick(&[0, 1, 1_000_000, u64::MAX]),
            forwarded_out_msat: pick(&[0, 1, u64::MAX]),
            window_secs: pick(&[0, 1, 600, WINDOW_SECS, u64::MAX]),
            flow_state,
            floor_ppm: pick(&[0, 10, 500, 6000, u64::from(u32::MAX)]) as u32,
            ceiling_ppm: pick(&[0, 10, 5000, u64::from(u32::MAX)]) as u32,
            guidance,
            state,
            ..channel()
        };
        let bounds = input.working_bounds();
        let decision = decide(&input);
        assert!(
            (bounds.floor_ppm..=bounds.ceiling_ppm).contains(&decision.fee_ppm),
            "case {case}: {decision:?} for {input:?}"
        );
        assert!(!decision.reason.is_empty());
        let blob = decision.state.expect("always state");
        assert!(blob.len() <= 4096);
        assert!(ThompsonState::decode(&blob).is_some(), "case {case}");
        carried_state = Some(blob);
    }
}
