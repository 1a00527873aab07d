//! The component glue (wasm32 only): WIT `revops:policy/fee-policy` ↔ the
//! native [`crate::decide`] of fee-thompson.
//!
//! Invariants:
//! - One decision per input, in input order, each echoing its
//!   `short-channel-id`; `decide` is total, so the batch never returns `err`.
//! - The only import is `revops:policy/host` (the log); at most one log line
//!   per batch, because the host caps lines per call.

use crate::model::{FeeDecision, FeeInput, FlowState, Guidance};

wit_bindgen::generate!({
    path: "../../wit",
    world: "fee-policy",
});

use exports::revops::policy::{fee_strategy, metadata};
use revops::policy::host::{LogLevel, log};
use revops::policy::types as wit;

struct FeeThompson;

impl metadata::Guest for FeeThompson {
    fn metadata() -> wit::PolicyMetadata {
        wit::PolicyMetadata {
            name: crate::POLICY_NAME.to_owned(),
            version: crate::POLICY_VERSION.to_owned(),
            roles: vec![wit::Role::FeeStrategy],
            description: crate::POLICY_DESCRIPTION.to_owned(),
        }
    }
}

impl fee_strategy::Guest for FeeThompson {
    fn decide_fees(inputs: Vec<wit::ChannelFeeInput>) -> Result<Vec<wit::FeeDecision>, String> {
        let decisions: Vec<wit::FeeDecision> = inputs
            .into_iter()
            .map(|input| {
                let native = from_wit(input);
                let decision = crate::decide(&native);
                to_wit(native.short_channel_id, decision)
            })
            .collect();
        log(
            LogLevel::Debug,
            &format!("decided fees for {} channel(s)", decisions.len()),
        );
        Ok(decisions)
    }
}

fn from_wit(input: wit::ChannelFeeInput) -> FeeInput {
    FeeInput {
        short_channel_id: input.short_channel_id,
        peer_id: input.peer_id,
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
            wit::FlowState::Unknown => FlowState::Unknown,
            wit::FlowState::Source => FlowState::Source,
            wit::FlowState::Sink => FlowState::Sink,
            wit::FlowState::Balanced => FlowState::Balanced,
            wit::FlowState::Congested => FlowState::Congested,
        },
        floor_ppm: input.bounds.floor_ppm,
        ceiling_ppm: input.bounds.ceiling_ppm,
        feerate_current_perkw: input.feerates.current_perkw,
        feerate_average_24h_perkw: input.feerates.average_24h_perkw,
        guidance: Some(Guidance {
            floor_ppm: input.guidance.floor_ppm,
            ceiling_ppm: input.guidance.ceiling_ppm,
            peer_success_ratio: input.guidance.peer_success_ratio,
        }),
        state: input.state,
    }
}

fn to_wit(short_channel_id: String, decision: FeeDecision) -> wit::FeeDecision {
    wit::FeeDecision {
        short_channel_id,
        fee_ppm: decision.fee_ppm,
        step: decision.step.to_owned(),
        reason: decision.reason,
        state: decision.state,
    }
}

export!(FeeThompson);
