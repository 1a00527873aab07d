//! Behaviour of the Alpha sequence through the public API, as an operator
//! would see it: fees, steps and reasons over consecutive calls.

use revops_fee_alpha::{FeeDecision, FeeInput, FlowState, Guidance, decide, step};

const HOUR_SECS: u64 = 3600;
/// The climber judges revenue over at least this much observation.
const OBSERVATION_SECS: u64 = 6 * HOUR_SECS;
const CAPACITY_MSAT: u64 = 10_000_000_000;

/// A quiet, balanced-ish channel (local 40%: no scarcity, climbs up first)
/// at 200 ppm within [50, 5000], calm feerates, first call.
fn channel() -> FeeInput {
    FeeInput {
        short_channel_id: "800000x1x0".to_owned(),
        peer_id: "02".repeat(33),
        now_unix_secs: 1_700_000_000,
        seed: 42,
        capacity_msat: CAPACITY_MSAT,
        local_msat: CAPACITY_MSAT * 4 / 10,
        fee_ppm: 200,
        fee_base_msat: 1000,
        htlcs_in_flight: 2,
        max_htlcs: 30,
        fees_earned_msat: 0,
        forwarded_out_msat: 0,
        window_secs: OBSERVATION_SECS,
        flow_state: FlowState::Balanced,
        floor_ppm: 50,
        ceiling_ppm: 5000,
        feerate_current_perkw: 2500,
        feerate_average_24h_perkw: 2500,
        guidance: None,
        state: None,
    }
}

fn with_local_percent(mut input: FeeInput, percent: u64) -> FeeInput {
    input.local_msat = CAPACITY_MSAT * percent / 100;
    input
}

/// The next cycle: the host applied our fee and hands our state back.
fn next_cycle(previous: &FeeInput, decision: &FeeDecision, fees_earned_msat: u64) -> FeeInput {
    FeeInput {
        fee_ppm: decision.fee_ppm,
        state: decision.state.clone(),
        fees_earned_msat,
        now_unix_secs: previous.now_unix_secs + previous.window_secs,
        seed: previous.seed.wrapping_add(1),
        ..previous.clone()
    }
}

#[test]
fn congestion_prices_at_the_ceiling() {
    let input = FeeInput {
        htlcs_in_flight: 25,
        max_htlcs: 30,
        ..channel()
    };
    let decision = decide(&input);
    assert_eq!(decision.fee_ppm, 5000);
    assert_eq!(decision.step, step::CONGESTION);
    assert!(decision.reason.contains("25/30"), "{}", decision.reason);
}

#[test]
fn after_congestion_the_fee_returns_to_the_hill_climbing_base() {
    let calm = FeeInput {
        window_secs: 600,
        ..channel()
    };
    let before = decide(&calm);
    let congested_input = FeeInput {
        htlcs_in_flight: 29,
        ..next_cycle(&calm, &before, 0)
    };
    let congested = decide(&congested_input);
    assert_eq!(congested.fee_ppm, 5000);
    let after = decide(&FeeInput {
        htlcs_in_flight: 2,
        ..next_cycle(&congested_input, &congested, 0)
    });
    assert_eq!(after.fee_ppm, before.fee_ppm);
}

#[test]
fn an_operators_manual_fee_change_is_followed() {
    let first_input = FeeInput {
        window_secs: 600,
        ..channel()
    };
    let first = decide(&first_input);
    let manual = decide(&FeeInput {
        fee_ppm: 900,
        ..next_cycle(&first_input, &first, 0)
    });
    assert_eq!(manual.fee_ppm, 900);
}

#[test]
fn a_five_fold_feerate_spike_triples_the_floor() {
    let input = FeeInput {
        fee_ppm: 60,
        floor_ppm: 100,
        feerate_current_perkw: 12_500,
        window_secs: 0,
        ..channel()
    };
    let decision = decide(&input);
    assert!(decision.fee_ppm >= 300, "{decision:?}");
    assert_eq!(decision.step, step::VEGAS_REFLEX);

    let tight_ceiling = decide(&FeeInput {
        ceiling_ppm: 180,
        ..input
    });
    assert_eq!(tight_ceiling.fee_ppm, 180);
}

#[test]
fn the_raised_floor_relaxes_after_the_spike() {
    let spiking = FeeInput {
        fee_ppm: 100,
        floor_ppm: 100,
        feerate_current_perkw: 12_500,
        window_secs: 0,
        ..channel()
    };
    let mut decision = decide(&spiking);
    assert_eq!(decision.fee_ppm, 300);
    let mut input = FeeInput {
        feerate_current_perkw: 2500,
        ..next_cycle(&spiking, &decision, 0)
    };
    let mut fees = Vec::new();
    for _ in 0..30 {
        decision = decide(&input);
        fees.push(decision.fee_ppm);
        input = next_cycle(&input, &decision, 0);
    }
    assert!(fees.windows(2).all(|w| w[1] <= w[0]), "{fees:?}");
    assert!(fees[29] < 150, "{fees:?}");
}

#[test]
fn scarcity_at_ten_percent_local_more_than_doubles_the_fee() {
    let input = FeeInput {
        window_secs: 0,
        ..with_local_percent(channel(), 10)
    };
    let decision = decide(&input);
    assert!(decision.fee_ppm >= 2 * 200, "{decision:?}");
    assert_eq!(decision.step, step::SCARCITY);
    assert!(
        decision
            .reason
            .starts_with("local 10% < 35%: scarcity ×2.43"),
        "{}",
        decision.reason
    );
}

#[test]
fn scarcity_does_not_compound_across_calls() {
    let first_input = FeeInput {
        window_secs: 600,
        ..with_local_percent(channel(), 10)
    };
    let first = decide(&first_input);
    let second_input = next_cycle(&first_input, &first, 0);
    let second = decide(&second_input);
    let third = decide(&next_cycle(&second_input, &second, 0));
    assert_eq!(first.fee_ppm, 486);
    assert_eq!(second.fee_ppm, 486);
    assert_eq!(third.fee_ppm, 486);
}

#[test]
fn hill_climbing_keeps_raising_while_revenue_improves_then_reverses() {
    let mut input = channel();
    let mut decision = decide(&input);
    let mut fees = vec![decision.fee_ppm];
    for fees_earned_msat in [10_000, 20_000, 40_000] {
        input = next_cycle(&input, &decision, fees_earned_msat);
        decision = decide(&input);
        assert_eq!(decision.step, step::HILL_CLIMB);
        fees.push(decision.fee_ppm);
    }
    assert!(fees.windows(2).all(|w| w[1] > w[0]), "{fees:?}");
    let last_rise = fees[3] - fees[2];

    input = next_cycle(&input, &decision, 0);
    decision = decide(&input);
    assert!(decision.fee_ppm < fees[3], "{decision:?}");
    assert_eq!(
        fees[3] - decision.fee_ppm,
        last_rise / 2,
        "{fees:?} {decision:?}"
    );
    assert!(
        decision.reason.contains("reverse down"),
        "{}",
        decision.reason
    );
}

#[test]
fn an_idle_saturated_channel_is_lowered_from_the_first_call() {
    let mut input = with_local_percent(channel(), 90);
    let mut fees = Vec::new();
    for _ in 0..6 {
        let decision = decide(&input);
        fees.push(decision.fee_ppm);
        input = next_cycle(&input, &decision, 0);
    }
    assert!(fees[0] < 200, "{fees:?}");
    // Idle means no oscillation: down every time until the floor.
    assert!(
        fees.windows(2).all(|w| w[1] < w[0] || w[1] == 50),
        "{fees:?}"
    );
    assert_eq!(*fees.last().unwrap(), 50, "{fees:?}");
}

#[test]
fn an_idle_depleted_channel_is_raised_and_keeps_its_premium() {
    let mut input = with_local_percent(channel(), 20);
    let first = decide(&input);
    assert!(first.fee_ppm > input.fee_ppm, "{first:?}");
    input = next_cycle(&input, &first, 0);
    for _ in 0..3 {
        // No revenue while depleted is not a price signal: the fee holds.
        let decision = decide(&input);
        assert_eq!(decision.fee_ppm, first.fee_ppm, "{decision:?}");
        input = next_cycle(&input, &decision, 0);
    }
}

#[test]
fn the_first_call_without_a_window_holds_the_fee() {
    let decision = decide(&FeeInput {
        window_secs: 0,
        ..channel()
    });
    assert_eq!(decision.fee_ppm, 200);
    assert_eq!(decision.step, step::HOLD);
}

#[test]
fn short_windows_add_up_to_a_move() {
    let mut input = FeeInput {
        window_secs: OBSERVATION_SECS / 3,
        ..with_local_percent(channel(), 90)
    };
    let mut steps = Vec::new();
    for _ in 0..3 {
        let decision = decide(&input);
        steps.push(decision.step);
        input = next_cycle(&input, &decision, 0);
    }
    assert_eq!(steps, [step::HOLD, step::HOLD, step::HILL_CLIMB]);
}

#[test]
fn garbage_state_is_treated_as_a_first_call() {
    let fresh = decide(&channel());
    for garbage in [vec![], vec![0xFF; 4096], b"not a state".to_vec()] {
        let decision = decide(&FeeInput {
            state: Some(garbage),
            ..channel()
        });
        assert_eq!(decision, fresh);
    }
}

#[test]
fn state_is_returned_and_small() {
    let decision = decide(&channel());
    let state = decision.state.expect("fee-alpha always returns state");
    assert!(!state.is_empty() && state.len() <= 4096);
}

#[test]
fn decisions_are_deterministic() {
    let input = FeeInput {
        feerate_current_perkw: 7000,
        ..with_local_percent(channel(), 15)
    };
    let first = decide(&input);
    let second_cycle = next_cycle(&input, &first, 12_345);
    assert_eq!(decide(&input), first);
    assert_eq!(decide(&second_cycle), decide(&second_cycle));
}

#[test]
fn degenerate_channels_get_a_fee_within_bounds() {
    let cases = [
        FeeInput {
            capacity_msat: 0,
            local_msat: 0,
            max_htlcs: 0,
            feerate_average_24h_perkw: 0,
            ..channel()
        },
        FeeInput {
            floor_ppm: 900,
            ceiling_ppm: 300,
            ..channel()
        },
        FeeInput {
            fee_ppm: u32::MAX,
            fees_earned_msat: u64::MAX,
            window_secs: u64::MAX,
            feerate_current_perkw: u32::MAX,
            feerate_average_24h_perkw: 1,
            ..channel()
        },
    ];
    let expected_bounds = [(50, 5000), (300, 300), (50, 5000)];
    for (input, (floor_ppm, ceiling_ppm)) in cases.iter().zip(expected_bounds) {
        let decision = decide(input);
        assert!(
            (floor_ppm..=ceiling_ppm).contains(&decision.fee_ppm),
            "{input:?} → {decision:?}"
        );
    }
}

/// splitmix64, to sweep many varied inputs reproducibly.
fn next_random(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn fees_always_stay_within_the_bounds() {
    let mut rng = 7;
    let mut state = None;
    for _ in 0..5000 {
        let mut r = |modulus: u64| next_random(&mut rng) % modulus;
        let floor_ppm = r(2000) as u32;
        let ceiling_ppm = r(6000) as u32;
        let capacity_msat = r(3) * r(CAPACITY_MSAT);
        let input = FeeInput {
            seed: r(u64::MAX),
            capacity_msat,
            local_msat: r(capacity_msat.max(1) * 2),
            fee_ppm: r(10_000) as u32,
            htlcs_in_flight: r(40) as u32,
            max_htlcs: r(40) as u32,
            fees_earned_msat: r(3) * r(1_000_000),
            window_secs: r(3) * r(4 * HOUR_SECS),
            floor_ppm,
            ceiling_ppm,
            feerate_current_perkw: r(50_000) as u32,
            feerate_average_24h_perkw: r(20_000) as u32,
            state: state.take(),
            ..channel()
        };
        let decision = decide(&input);
        let (low_ppm, high_ppm) = if ceiling_ppm < floor_ppm {
            (ceiling_ppm, ceiling_ppm)
        } else {
            (floor_ppm, ceiling_ppm)
        };
        assert!(
            (low_ppm..=high_ppm).contains(&decision.fee_ppm),
            "{input:?} → {decision:?}"
        );
        assert!(!decision.reason.is_empty());
        state = decision.state;
    }
}

#[test]
fn guidance_floor_protects_a_drained_channel_and_lifts_its_fee() {
    // 5% local: the host's balance floor says at least 500 ppm, with the
    // ceiling lifted above it; the operator's bounds allow it.
    let input = FeeInput {
        fee_ppm: 100,
        guidance: Some(Guidance {
            floor_ppm: 500,
            ceiling_ppm: 5000,
            peer_success_ratio: None,
        }),
        ..with_local_percent(channel(), 5)
    };
    let decision = decide(&input);
    assert!(decision.fee_ppm >= 500, "{decision:?}");
}

#[test]
fn guidance_ceiling_caps_congestion_pricing_but_never_widens_the_bounds() {
    let congested = FeeInput {
        htlcs_in_flight: 29,
        flow_state: FlowState::Congested,
        guidance: Some(Guidance {
            floor_ppm: 0,
            ceiling_ppm: 2500,
            peer_success_ratio: None,
        }),
        ..channel()
    };
    assert_eq!(decide(&congested).fee_ppm, 2500);

    // Guidance outside the operator's bounds is clamped into them.
    let wide = FeeInput {
        guidance: Some(Guidance {
            floor_ppm: 1,
            ceiling_ppm: 90_000,
            peer_success_ratio: None,
        }),
        ..congested
    };
    assert_eq!(decide(&wide).fee_ppm, 5000);
}
