//! The built-in rebalance scorer on a batch of 500 candidates (five sources
//! each): natively (`revops_rebalance_ev::score` per candidate) vs through
//! the sandbox (`PolicyRuntime::score_rebalances`: fresh store, instantiate,
//! lower 500 candidates with their sources, call, lift, validate). The ratio
//! is the price of the sandbox for the rebalancer's hot path.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use revops_runtime::{
    FlowState, KellyInput, Limits, PolicyRuntime, RebalanceCandidate, RebalanceChannel,
};

const CANDIDATES: u32 = 500;
const SOURCES: u32 = 5;
const FLOWS: [FlowState; 4] = [
    FlowState::Source,
    FlowState::Sink,
    FlowState::Balanced,
    FlowState::Unknown,
];

fn wit_channel(n: u32, local_pct: u64) -> RebalanceChannel {
    let capacity_msat = 1_000_000_000 + u64::from(n % 50) * 100_000_000;
    RebalanceChannel {
        short_channel_id: format!("{}x{}x{}", 700_000 + n, n % 3000, n % 4),
        peer_id: format!("03{n:064x}"),
        capacity_msat,
        local_msat: capacity_msat / 100 * local_pct,
        fee_ppm: 20 + (n * 37) % 1500,
        daily_out_msat: capacity_msat / 1000 * u64::from(n % 700),
        flow_state: FLOWS[n as usize % FLOWS.len()],
    }
}

fn wit_candidate(n: u32) -> RebalanceCandidate {
    RebalanceCandidate {
        now: 1_700_000_000,
        seed: u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        destination: wit_channel(n, u64::from(n % 20)),
        sources: (0..SOURCES)
            .map(|s| wit_channel(10_000 + n * SOURCES + s, 80 + u64::from((n + s) % 20)))
            .collect(),
        amount_msat: 100_000_000 + u64::from(n % 10) * 100_000_000,
        inbound_fee_estimate_ppm: 50 + (n * 13) % 800,
        cooldown_days: 1.0,
        health_multiplier: [0.75, 1.0, 1.5, 2.0][n as usize % 4],
        min_profit_msat: 10_000,
        kelly: n.is_multiple_of(3).then_some(KellyInput {
            success_probability: 0.5 + f64::from(n % 50) / 100.0,
            fraction: 0.5,
        }),
    }
}

fn native_channel(channel: &RebalanceChannel) -> revops_rebalance_ev::Channel {
    use revops_rebalance_ev::FlowState as Native;
    revops_rebalance_ev::Channel {
        short_channel_id: channel.short_channel_id.clone(),
        peer_id: channel.peer_id.clone(),
        capacity_msat: channel.capacity_msat,
        local_msat: channel.local_msat,
        fee_ppm: channel.fee_ppm,
        daily_out_msat: channel.daily_out_msat,
        flow_state: match channel.flow_state {
            FlowState::Unknown => Native::Unknown,
            FlowState::Source => Native::Source,
            FlowState::Sink => Native::Sink,
            FlowState::Balanced => Native::Balanced,
            FlowState::Congested => Native::Congested,
        },
    }
}

fn native_candidate(candidate: &RebalanceCandidate) -> revops_rebalance_ev::Candidate {
    revops_rebalance_ev::Candidate {
        now_unix_secs: candidate.now,
        seed: candidate.seed,
        destination: native_channel(&candidate.destination),
        sources: candidate.sources.iter().map(native_channel).collect(),
        amount_msat: candidate.amount_msat,
        inbound_fee_estimate_ppm: candidate.inbound_fee_estimate_ppm,
        cooldown_days: candidate.cooldown_days,
        health_multiplier: candidate.health_multiplier,
        min_profit_msat: candidate.min_profit_msat,
        kelly: candidate.kelly.map(|k| revops_rebalance_ev::Kelly {
            success_probability: k.success_probability,
            fraction: k.fraction,
        }),
    }
}

fn rebalance_batch(c: &mut Criterion) {
    let runtime = PolicyRuntime::new(Limits::default()).expect("runtime starts");
    let scorer = runtime
        .load(revops_policy_artifacts::REBALANCE_EV)
        .expect("rebalance-ev loads");
    let candidates: Vec<RebalanceCandidate> = (0..CANDIDATES).map(wit_candidate).collect();
    let native: Vec<_> = candidates.iter().map(native_candidate).collect();

    // Outside the timing: the mix and the fuel, for the report.
    let batch = runtime
        .score_rebalances(&scorer, &candidates)
        .expect("rebalance-ev scores");
    let accepted = batch.verdicts.iter().filter(|v| v.accept).count();
    eprintln!(
        "rebalance-ev, {CANDIDATES} candidates × {SOURCES} sources: {accepted} accepted, {} fuel",
        batch.fuel_used
    );

    let mut group = c.benchmark_group("rebalance_ev_500_candidates");
    group.throughput(Throughput::Elements(u64::from(CANDIDATES)));
    group.bench_function("native", |b| {
        b.iter(|| {
            black_box(&native)
                .iter()
                .map(revops_rebalance_ev::score)
                .collect::<Vec<_>>()
        })
    });
    group.bench_function("wasm", |b| {
        b.iter(|| {
            runtime
                .score_rebalances(&scorer, black_box(&candidates))
                .expect("rebalance-ev scores")
        })
    });
    group.finish();
}

criterion_group!(benches, rebalance_batch);
criterion_main!(benches);
