//! What an operator waits for when a policy is dropped in: compile and
//! validate the component (`PolicyRuntime::load`: size check, compile,
//! import check, WIT version, metadata call) and then its first batch of
//! 100 channels, compiled afresh and from the host's compiled-code cache.
//! Target: ≤ 100 ms for the built-in fee policies.
//!
//! `under_load` repeats it the way `revenue-wasm load` does it in the plugin
//! (load, self-test, then the first batch) while another thread keeps
//! running 2,000-channel fee batches on the same runtime, as a fee cycle
//! would.

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

    let mut group = c.benchmark_group("under_load");
    group.sample_size(10);
    let busy = std::sync::Arc::new(cached);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let background = {
        let (busy, stop) = (busy.clone(), stop.clone());
        std::thread::spawn(move || {
            let policy = busy
                .load(revops_policy_artifacts::FEE_THOMPSON)
                .expect("loads");
            let big: Vec<_> = (1..=2_000).map(input).collect();
            let mut batches = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                busy.decide_fees(&policy, &big).expect("decides");
                batches += 1;
            }
            batches
        })
    };
    for (name, cache) in [("fee-alpha, compiled", false), ("fee-alpha, cached", true)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let policy = if cache {
                    busy.load(black_box(revops_policy_artifacts::FEE_ALPHA))
                } else {
                    runtime.load(black_box(revops_policy_artifacts::FEE_ALPHA))
                }
                .expect("loads");
                let on = if cache { &busy } else { &runtime };
                on.self_test(&policy).expect("passes its self-test");
                on.decide_fees(&policy, black_box(&inputs))
                    .expect("decides")
            })
        });
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let batches = background.join().expect("background thread");
    eprintln!("background: {batches} batches of 2,000 channels ran meanwhile");
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
