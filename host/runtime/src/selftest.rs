//! The self-test a policy passes before it may replace another: every role
//! it implements is called on canned inputs under the normal limits, and
//! its answers must keep the contract.
//!
//! Invariants:
//! - The canned inputs are fixed (same bytes every time) and cover the
//!   shapes a live node produces: depleted, saturated, balanced, congested
//!   and idle channels, a first decision (no state) and a second one fed the
//!   state the first returned; a scorer gets an accept-worthy and a hopeless
//!   candidate, with and without Kelly input.
//! - The self-test judges only the contract (the runtime's validation: one
//!   answer per input, echoed ids, sizes, sources from the candidate's
//!   list), never the policy's taste: any fee inside the contract passes.
//! - It runs through the same call path as live calls (same limits and
//!   failure kinds) but is not counted in the policy's call statistics: a
//!   candidate that fails its self-test leaves no trace on the live tag.

use crate::bindings::v0_1::{
    ChannelFeeInput, FeeBounds, FeeGuidance, FeerateInfo, FlowState, KellyInput,
    RebalanceCandidate, RebalanceChannel, Role,
};
use crate::engine::PolicyRuntime;
use crate::failure::PolicyFailure;
use crate::load::LoadedPolicy;
use serde::Serialize;

/// What the self-test measured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SelfTestReport {
    /// Fee batches called (0 without the fee-strategy role).
    pub fee_batches: u32,
    /// Fee decisions returned over all batches.
    pub fee_decisions: u32,
    /// Most fuel one fee batch used.
    pub max_fee_batch_fuel: u64,
    /// Scorer batches called (0 without the rebalance-scorer role).
    pub scorer_batches: u32,
    pub verdicts: u32,
    pub max_scorer_batch_fuel: u64,
}

/// A self-test failure: which call failed and how.
#[derive(Debug, Clone, thiserror::Error)]
#[error("self-test {call} failed ({kind}): {message}", kind = failure.kind, message = failure.message)]
pub struct SelfTestFailure {
    /// e.g. `decide-fees (first decision)`.
    pub call: &'static str,
    pub failure: PolicyFailure,
}

const NOW: u64 = 1_700_000_000;
const CAPACITY_MSAT: u64 = 2_000_000_000;

fn fee_input(n: u64, local_pct: u64, flow_state: FlowState, htlcs: u32) -> ChannelFeeInput {
    let bounds = FeeBounds {
        floor_ppm: 10,
        ceiling_ppm: 5000,
    };
    ChannelFeeInput {
        short_channel_id: format!("800000x{n}x0"),
        peer_id: format!("02{n:064x}"),
        now: NOW,
        seed: n * 7919,
        capacity_msat: CAPACITY_MSAT,
        local_msat: CAPACITY_MSAT / 100 * local_pct,
        fee_ppm: 100 * u32::try_from(n).unwrap_or(1),
        fee_base_msat: 1000,
        htlcs_in_flight: htlcs,
        max_htlcs: 30,
        fees_earned_msat: n * 1_500,
        forwarded_out_msat: n * 15_000_000,
        window_secs: 1800,
        flow_state,
        bounds,
        guidance: FeeGuidance::neutral(bounds),
        feerates: FeerateInfo {
            current_perkw: 2500,
            average_24h_perkw: 2000,
        },
        state: None,
    }
}

/// Depleted source, saturated sink, balanced, congested, idle.
fn fee_inputs() -> Vec<ChannelFeeInput> {
    let mut idle = fee_input(5, 60, FlowState::Balanced, 0);
    idle.fees_earned_msat = 0;
    idle.forwarded_out_msat = 0;
    vec![
        fee_input(1, 5, FlowState::Source, 2),
        fee_input(2, 95, FlowState::Sink, 0),
        fee_input(3, 50, FlowState::Balanced, 1),
        fee_input(4, 50, FlowState::Congested, 29),
        idle,
    ]
}

fn channel(scid: &str, local_pct: u64, fee_ppm: u32, daily_out_pct: u64) -> RebalanceChannel {
    RebalanceChannel {
        short_channel_id: scid.to_string(),
        peer_id: format!("03{:064x}", fee_ppm),
        capacity_msat: CAPACITY_MSAT,
        local_msat: CAPACITY_MSAT / 100 * local_pct,
        fee_ppm,
        daily_out_msat: CAPACITY_MSAT / 100 * daily_out_pct,
        flow_state: FlowState::Balanced,
    }
}

/// A busy, well-paid destination and an idle, cheap one.
fn candidates() -> Vec<RebalanceCandidate> {
    let candidate = |n: u64, fee_ppm: u32, daily_out_pct: u64, kelly: bool| RebalanceCandidate {
        now: NOW,
        seed: n,
        destination: channel(&format!("800000x{n}x1"), 5, fee_ppm, daily_out_pct),
        sources: vec![
            channel(&format!("700000x{n}x0"), 90, 20, 1),
            channel(&format!("700000x{n}x1"), 85, 50, 2),
        ],
        amount_msat: 500_000_000,
        inbound_fee_estimate_ppm: 150,
        cooldown_days: 1.0,
        health_multiplier: 1.0,
        min_profit_msat: 10_000,
        kelly: kelly.then_some(KellyInput {
            success_probability: 0.8,
            fraction: 0.5,
        }),
    };
    vec![candidate(1, 1200, 120, false), candidate(2, 50, 0, true)]
}

impl PolicyRuntime {
    /// Calls every role `policy` implements on the canned inputs; the first
    /// failure ends the test.
    pub fn self_test(&self, policy: &LoadedPolicy) -> Result<SelfTestReport, SelfTestFailure> {
        let mut report = SelfTestReport::default();
        let failed =
            |call: &'static str| move |failure: PolicyFailure| SelfTestFailure { call, failure };
        if policy.has_role(Role::FeeStrategy) {
            let mut inputs = fee_inputs();
            let first = self
                .run_decide_fees(policy, &inputs)
                .map_err(failed("decide-fees (first decision)"))?;
            // The second decision sees the state and fee the first returned.
            for (input, decision) in inputs.iter_mut().zip(&first.decisions) {
                input.state = decision.state.clone();
                input.fee_ppm = decision.fee_ppm;
                input.now += 1800;
            }
            let second = self
                .run_decide_fees(policy, &inputs)
                .map_err(failed("decide-fees (with its own state)"))?;
            for batch in [&first, &second] {
                report.fee_batches += 1;
                report.fee_decisions += u32::try_from(batch.decisions.len()).unwrap_or(u32::MAX);
                report.max_fee_batch_fuel = report.max_fee_batch_fuel.max(batch.fuel_used);
            }
        }
        if policy.has_role(Role::RebalanceScorer) {
            let batch = self
                .run_score_rebalances(policy, &candidates())
                .map_err(failed("score-rebalances"))?;
            report.scorer_batches = 1;
            report.verdicts = u32::try_from(batch.verdicts.len()).unwrap_or(u32::MAX);
            report.max_scorer_batch_fuel = batch.fuel_used;
        }
        Ok(report)
    }
}
