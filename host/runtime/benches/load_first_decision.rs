//! What an operator waits for when a policy is dropped in: compile and
//! validate the component (`PolicyRuntime::load`: size check, compile,
//! import check, WIT version, metadata call) and then its first batch of
//! 100 channels, compiled afresh and from the host's compiled-code cache.
//! Target: ≤ 100 ms for the built-in fee policies.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use revops_runtime::{
    ChannelFeeInput, FeeBounds, FeeGuidance, FeerateInfo, FlowState, Limits, PolicyRuntime,
};

const CHANNELS: u32 = 100;

fn input(n: u32) -> ChannelFeeInput {
    let capacity_msat = 5_000_000_000;
    let bounds = FeeBounds {
        floor_ppm: 10,
        ceiling_ppm: 2500,
    };
    ChannelFeeInput {
        short_channel_id: format!("800000x{n}x0"),
        peer_id: format!("02{n:064x}"),
        now: 1_700_000_000,
        seed: u64::from(n) * 7919,
        capacity_msat,
        local_msat: capacity_msat / 10 * u64::from(n % 10),
        fee_ppm: 100 + n * 10,
        fee_base_msat: 1000,
        htlcs_in_flight: n % 5,
        max_htlcs: 30,
        fees_earned_msat: u64::from(n) * 1_000,
        forwarded_out_msat: u64::from(n) * 10_000_000,
        window_secs: 1800,
        flow_state: FlowState::Balanced,
        bounds,
        guidance: FeeGuidance::neutral(bounds),
        feerates: FeerateInfo {
            current_perkw: 2500,
            average_24h_perkw: 2000,
        },
        state: None,
    }
}

fn bench(c: &mut Criterion) {
    let runtime = PolicyRuntime::new(Limits::default()).expect("runtime");
    let inputs: Vec<_> = (1..=CHANNELS).map(input).collect();
    let mut group = c.benchmark_group("load_then_first_decision");
    group.sample_size(10);
    for (name, component) in [
        ("fee-alpha", revops_policy_artifacts::FEE_ALPHA),
        ("fee-thompson", revops_policy_artifacts::FEE_THOMPSON),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let policy = runtime.load(black_box(component)).expect("loads");
                runtime
                    .decide_fees(&policy, black_box(&inputs))
                    .expect("decides")
            })
        });
    }
    // A restart: the compiled code comes from the host's cache.
    let dir = std::env::temp_dir().join(format!("revops-bench-cache-{}", std::process::id()));
    let mut cached = PolicyRuntime::new(Limits::default()).expect("runtime");
    cached.set_code_cache(&dir).expect("cache dir");
    cached
        .load(revops_policy_artifacts::FEE_ALPHA)
        .expect("fills the cache");
    group.bench_function("fee-alpha, cached", |b| {
        b.iter(|| {
            let policy = cached
                .load(black_box(revops_policy_artifacts::FEE_ALPHA))
                .expect("loads");
            cached
                .decide_fees(&policy, black_box(&inputs))
                .expect("decides")
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
