//! The default policy on a batch of 2,000 channels: natively
//! (`revops_fee_alpha::decide` per channel) vs through the sandbox
//! (`PolicyRuntime::decide_fees`: fresh store, instantiate, lower 2,000
//! records, call, lift, validate). The ratio is the price of the sandbox.
//!
//! Both run on the same channels in steady state: every input carries the
//! state the policy returned for it on a previous cycle.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use revops_runtime::{
    ChannelFeeInput, FeeBounds, FeeGuidance, FeerateInfo, FlowState, Limits, PolicyRuntime,
};

const CHANNELS: u32 = 2_000;

fn wit_input(n: u32) -> ChannelFeeInput {
    let capacity_msat = 1_000_000_000 + u64::from(n % 50) * 100_000_000;
    ChannelFeeInput {
        short_channel_id: format!("{}x{}x{}", 700_000 + n, n % 3000, n % 4),
        peer_id: format!("03{n:064x}"),
        now: 1_700_000_000,
        seed: u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        capacity_msat,
        local_msat: capacity_msat / 100 * u64::from(n % 101),
        fee_ppm: 50 + (n * 37) % 1500,
        fee_base_msat: 1000,
        htlcs_in_flight: n % 12,
        max_htlcs: 30,
        fees_earned_msat: u64::from(n % 17) * 2_500,
        forwarded_out_msat: u64::from(n % 17) * 25_000_000,
        window_secs: 1800,
        flow_state: [
            FlowState::Source,
            FlowState::Sink,
            FlowState::Balanced,
            FlowState::Congested,
            FlowState::Unknown,
        ][n as usize % 5],
        bounds: FeeBounds {
            floor_ppm: 10,
            ceiling_ppm: 2500,
        },
        guidance: FeeGuidance::neutral(FeeBounds {
            floor_ppm: 10,
            ceiling_ppm: 2500,
        }),
        feerates: FeerateInfo {
            current_perkw: 2500 + n % 7 * 1000,
            average_24h_perkw: 2500,
        },
        state: None,
    }
}

fn native_input(input: &ChannelFeeInput) -> revops_fee_alpha::FeeInput {
    use revops_fee_alpha::FlowState as Native;
    revops_fee_alpha::FeeInput {
        short_channel_id: input.short_channel_id.clone(),
        peer_id: input.peer_id.clone(),
        now_unix_secs: input.now,
        seed: input.seed,
        capacity_msat: input.capacity_msat,
        local_msat: input.local_msat,
        fee_ppm: input.fee_ppm,
        fee_base_msat: input.fee_base_msat,
        htlcs_in_flight: input.htlcs_in_flight,
        max_htlcs: input.max_htlcs,
        fees_earned_msat: input.fees_earned_msat,
        forwarded_out_msat: input.forwarded_out_msat,
        window_secs: input.window_secs,
        flow_state: match input.flow_state {
            FlowState::Unknown => Native::Unknown,
            FlowState::Source => Native::Source,
            FlowState::Sink => Native::Sink,
            FlowState::Balanced => Native::Balanced,
            FlowState::Congested => Native::Congested,
        },
        floor_ppm: input.bounds.floor_ppm,
        ceiling_ppm: input.bounds.ceiling_ppm,
        feerate_current_perkw: input.feerates.current_perkw,
        feerate_average_24h_perkw: input.feerates.average_24h_perkw,
        guidance: Some(revops_fee_alpha::Guidance {
            floor_ppm: input.guidance.floor_ppm,
            ceiling_ppm: input.guidance.ceiling_ppm,
            peer_success_ratio: input.guidance.peer_success_ratio,
        }),
        state: input.state.clone(),
    }
}

fn fee_batch(c: &mut Criterion) {
    let runtime = PolicyRuntime::new(Limits::default()).expect("runtime starts");
    let policy = runtime
        .load(revops_policy_artifacts::FEE_ALPHA)
        .expect("fee-alpha loads");

    // One cycle to get every channel's state, then the steady-state batch.
    let mut inputs: Vec<ChannelFeeInput> = (0..CHANNELS).map(wit_input).collect();
    let first = runtime.decide_fees(&policy, &inputs).expect("first cycle");
    for (input, decision) in inputs.iter_mut().zip(first.decisions) {
        input.state = decision.state;
        input.now += 1800;
    }
    let native_inputs: Vec<_> = inputs.iter().map(native_input).collect();

    let mut group = c.benchmark_group("fee_alpha_2000_channels");
    group.throughput(Throughput::Elements(u64::from(CHANNELS)));
    group.bench_function("native", |b| {
        b.iter(|| {
            black_box(&native_inputs)
                .iter()
                .map(revops_fee_alpha::decide)
                .collect::<Vec<_>>()
        })
    });
    group.bench_function("wasm", |b| {
        b.iter(|| {
            runtime
                .decide_fees(&policy, black_box(&inputs))
                .expect("fee-alpha decides")
        })
    });
    group.finish();
}

criterion_group!(benches, fee_batch);
criterion_main!(benches);
