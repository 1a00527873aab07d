//! The reference EV model end to end, through the public `score`.

use revops_rebalance_ev::{Candidate, Channel, FlowState, Kelly, MAX_REASON_BYTES, Verdict, score};

const CAPACITY_MSAT: u64 = 1_000_000_000;

fn channel(scid: &str, local_pct: u64, fee_ppm: u32, turnover: f64, flow: FlowState) -> Channel {
    Channel {
        short_channel_id: scid.into(),
        peer_id: format!("02{:064}", 0),
        capacity_msat: CAPACITY_MSAT,
        local_msat: CAPACITY_MSAT / 100 * local_pct,
        fee_ppm,
        daily_out_msat: (CAPACITY_MSAT as f64 * turnover) as u64,
        flow_state: flow,
    }
}

/// A depleted destination earning 1000 ppm with turnover 1/day, a cheap idle
/// full source (50 ppm, turnover 0.01), inbound 200 ppm, 500k sat.
/// spread = 1000 − 200 − 50 × 0.01 = 799.5 ppm; util = 1;
/// EV = 500 × (1000 − 799.5 − 50 × 0.07) msat = 98,500 msat.
fn earning() -> Candidate {
    Candidate {
        now_unix_secs: 1_700_000_000,
        seed: 42,
        destination: channel("dest", 5, 1000, 1.0, FlowState::Source),
        sources: vec![channel("cheap", 90, 50, 0.01, FlowState::Balanced)],
        amount_msat: 500_000_000,
        inbound_fee_estimate_ppm: 200,
        cooldown_days: 1.0,
        health_multiplier: 1.0,
        min_profit_msat: 10_000,
        kelly: None,
    }
}

fn assert_contract(candidate: &Candidate, verdict: &Verdict) {
    assert!(verdict.amount_msat <= candidate.amount_msat, "{verdict:?}");
    assert!(verdict.reason.len() <= MAX_REASON_BYTES);
    for (i, scid) in verdict.sources.iter().enumerate() {
        assert!(
            candidate
                .sources
                .iter()
                .any(|s| &s.short_channel_id == scid)
        );
        assert!(!verdict.sources[..i].contains(scid));
    }
    if !verdict.accept {
        assert_eq!((verdict.amount_msat, verdict.max_fee_ppm), (0, 0));
        assert!(verdict.sources.is_empty());
    } else {
        assert!(verdict.amount_msat > 0 && verdict.max_fee_ppm > 0);
    }
}

#[test]
fn accepts_a_depleted_earning_destination_with_a_cheap_source() {
    let candidate = earning();
    let verdict = score(&candidate);
    assert_contract(&candidate, &verdict);
    assert!(verdict.accept, "{}", verdict.reason);
    assert_eq!(verdict.amount_msat, 500_000_000);
    assert_eq!(verdict.sources, ["cheap"]);
    assert_eq!(verdict.expected_profit_msat, 98_500);
    // min(200 + 799.5 / 2, 799.5, 1000) = 599.75 → 599.
    assert_eq!(verdict.max_fee_ppm, 599);
    assert!(
        verdict.reason.starts_with("accept: EV 98.5 sat"),
        "{}",
        verdict.reason
    );
}

#[test]
fn rejects_when_the_spread_is_below_the_tolerance() {
    let mut candidate = earning();
    // spread = 1000 − 1200 − 0.5 < −100 ppm (50 sat over 500k sat).
    candidate.inbound_fee_estimate_ppm = 1200;
    let verdict = score(&candidate);
    assert_contract(&candidate, &verdict);
    assert!(!verdict.accept);
    assert!(verdict.reason.contains("tolerance"), "{}", verdict.reason);

    // −50 ppm is within the −100 ppm tolerance: priced, with the 50 sat budget.
    candidate.inbound_fee_estimate_ppm = 1049;
    let verdict = score(&candidate);
    assert_contract(&candidate, &verdict);
    assert!(!verdict.reason.contains("tolerance"), "{}", verdict.reason);
}

#[test]
fn max_fee_is_capped_by_half_spread_budget_and_destination_fee() {
    // Kelly shrinks the budget below inbound + spread/2.
    let mut candidate = earning();
    candidate.kelly = Some(Kelly {
        success_probability: 0.6,
        fraction: 0.5,
    });
    // b = 1000 / 200.5; f = 0.6 − 0.4 / b ≈ 0.5198; factor ≈ 0.2599;
    // budget ≈ 799.5 × 0.2599 ≈ 207.8 ppm < 599.75.
    let verdict = score(&candidate);
    assert_contract(&candidate, &verdict);
    assert_eq!(verdict.max_fee_ppm, 207, "{}", verdict.reason);

    // A large inbound estimate with a tolerated negative spread: the 50 sat
    // budget (100 ppm) binds, and the cap never exceeds the destination fee.
    let mut candidate = earning();
    candidate.inbound_fee_estimate_ppm = 1020;
    let verdict = score(&candidate);
    assert!(verdict.max_fee_ppm <= 100, "{verdict:?}");
    for inbound in [0, 10, 500, 999, 1000, 1099] {
        let mut candidate = earning();
        candidate.inbound_fee_estimate_ppm = inbound;
        candidate.destination.fee_ppm = 300;
        let verdict = score(&candidate);
        assert_contract(&candidate, &verdict);
        assert!(verdict.max_fee_ppm <= 300, "{verdict:?}");
    }
}

#[test]
fn an_idle_destination_has_low_utilisation_and_is_rejected() {
    let mut candidate = earning();
    candidate.destination.daily_out_msat = 0;
    let verdict = score(&candidate);
    assert_contract(&candidate, &verdict);
    assert!(!verdict.accept);
    assert!(
        verdict.reason.contains("at 5 % utilisation"),
        "{}",
        verdict.reason
    );
    assert!(verdict.expected_profit_msat < 0);
}

#[test]
fn the_threshold_is_divided_by_the_health_multiplier() {
    // EV is 98.5 sat; a 150 sat minimum rejects at 1.0 and 0.75 (thriving,
    // 200 sat) but accepts when struggling (2.0: 75 sat).
    let mut candidate = earning();
    candidate.min_profit_msat = 150_000;
    assert!(!score(&candidate).accept);
    candidate.health_multiplier = 0.75;
    assert!(score(&candidate).reason.contains("threshold 200.0 sat"));
    assert!(!score(&candidate).accept);
    candidate.health_multiplier = 2.0;
    let verdict = score(&candidate);
    assert!(verdict.accept, "{}", verdict.reason);
    assert!(
        verdict.reason.contains("threshold 75.0 sat"),
        "{}",
        verdict.reason
    );
    // Clamped to 2.5: threshold 60 sat, not 15.
    candidate.health_multiplier = 10.0;
    assert!(score(&candidate).reason.contains("threshold 60.0 sat"));
}

#[test]
fn kelly_scales_the_budget_and_rejects_without_edge() {
    let plain = score(&earning());
    let mut candidate = earning();
    candidate.kelly = Some(Kelly {
        success_probability: 0.9,
        fraction: 0.5,
    });
    let sized = score(&candidate);
    assert!(sized.accept);
    // A smaller budget raises the EV.
    assert!(sized.expected_profit_msat > plain.expected_profit_msat);
    assert!(
        sized.reason.contains("Kelly factor 0.440"),
        "{}",
        sized.reason
    );

    // p = 0.1 with odds ≈ 5: f = 0.1 − 0.9 / 4.99 < 0.
    candidate.kelly = Some(Kelly {
        success_probability: 0.1,
        fraction: 0.5,
    });
    let verdict = score(&candidate);
    assert_contract(&candidate, &verdict);
    assert!(!verdict.accept);
    assert!(
        verdict.reason.contains("no Kelly edge"),
        "{}",
        verdict.reason
    );
}

#[test]
fn sources_are_ranked_by_the_reference_score() {
    let mut candidate = earning();
    candidate.sources = vec![
        channel("cheap", 90, 50, 0.01, FlowState::Balanced),
        // A sink: +100.
        channel("sink", 80, 100, 0.01, FlowState::Sink),
        // Fuller and cheaper than `cheap`.
        channel("full", 99, 10, 0.01, FlowState::Balanced),
        // Opportunity cost 900 × 1 × 1.5: negative spread, never offered.
        channel("busy", 95, 900, 0.5, FlowState::Source),
    ];
    let verdict = score(&candidate);
    assert_contract(&candidate, &verdict);
    assert!(verdict.accept, "{}", verdict.reason);
    assert_eq!(verdict.sources, ["sink", "full", "cheap"]);
    // The top source prices the rebalance.
    assert!(verdict.reason.contains("via sink"), "{}", verdict.reason);
}

#[test]
fn scoring_is_deterministic() {
    let mut candidate = earning();
    candidate
        .sources
        .push(channel("other", 90, 50, 0.01, FlowState::Balanced));
    let first = score(&candidate);
    for seed in 0..5 {
        candidate.seed = seed;
        candidate.now_unix_secs += 3600;
        assert_eq!(score(&candidate), first);
    }
    // Equal scores keep the host's order.
    assert_eq!(first.sources, ["cheap", "other"]);
}

#[test]
fn scoring_is_total_on_degenerate_input() {
    let mut cases = Vec::new();
    let mut zero_capacity = earning();
    zero_capacity.destination.capacity_msat = 0;
    zero_capacity.sources[0].capacity_msat = 0;
    cases.push(zero_capacity);
    let mut zero_amount = earning();
    zero_amount.amount_msat = 0;
    cases.push(zero_amount);
    let mut no_sources = earning();
    no_sources.sources.clear();
    cases.push(no_sources);
    let mut nan = earning();
    nan.cooldown_days = f64::NAN;
    nan.health_multiplier = f64::NAN;
    nan.kelly = Some(Kelly {
        success_probability: f64::NAN,
        fraction: f64::INFINITY,
    });
    cases.push(nan);
    let mut huge = earning();
    huge.amount_msat = u64::MAX;
    huge.min_profit_msat = u64::MAX;
    huge.inbound_fee_estimate_ppm = u32::MAX;
    huge.cooldown_days = f64::INFINITY;
    huge.destination.fee_ppm = u32::MAX;
    huge.destination.daily_out_msat = u64::MAX;
    huge.destination.capacity_msat = 1;
    huge.sources[0].fee_ppm = u32::MAX;
    huge.sources[0].local_msat = u64::MAX;
    cases.push(huge);
    let mut free = earning();
    free.destination.fee_ppm = 0;
    free.inbound_fee_estimate_ppm = 0;
    free.sources[0].fee_ppm = 0;
    free.kelly = Some(Kelly {
        success_probability: 1.0,
        fraction: 0.5,
    });
    cases.push(free);
    let mut duplicates = earning();
    duplicates.sources.push(duplicates.sources[0].clone());
    duplicates.destination.short_channel_id = "é".repeat(2000);
    duplicates.sources[0].short_channel_id = "ü".repeat(2000);
    duplicates.sources[1].short_channel_id = "ü".repeat(2000);
    cases.push(duplicates);
    let mut tiny = earning();
    tiny.amount_msat = 1;
    cases.push(tiny);
    for candidate in &cases {
        let verdict = score(candidate);
        assert_contract(candidate, &verdict);
        assert!(!verdict.reason.is_empty());
    }
}
