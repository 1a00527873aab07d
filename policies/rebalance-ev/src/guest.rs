//! The component glue (wasm32 only): WIT `revops:policy/rebalance-policy` ↔
//! the native [`crate::score`].
//!
//! Invariants:
//! - One verdict per candidate, in candidate order; `score` is total, so the
//!   batch never returns `err`.
//! - The only import is `revops:policy/host` (the log); at most one log line
//!   per batch, because the host caps lines per call.

use crate::model::{Candidate, Channel, FlowState, Kelly, Verdict};

wit_bindgen::generate!({
    path: "../../wit",
    world: "rebalance-policy",
});

use exports::revops::policy::{metadata, rebalance_scorer};
use revops::policy::host::{LogLevel, log};
use revops::policy::types as wit;

struct RebalanceEv;

impl metadata::Guest for RebalanceEv {
    fn metadata() -> wit::PolicyMetadata {
        wit::PolicyMetadata {
            name: crate::POLICY_NAME.to_owned(),
            version: crate::POLICY_VERSION.to_owned(),
            roles: vec![wit::Role::RebalanceScorer],
            description: crate::POLICY_DESCRIPTION.to_owned(),
        }
    }
}

impl rebalance_scorer::Guest for RebalanceEv {
    fn score_rebalances(
        candidates: Vec<wit::RebalanceCandidate>,
    ) -> Result<Vec<wit::RebalanceVerdict>, String> {
        let verdicts: Vec<wit::RebalanceVerdict> = candidates
            .into_iter()
            .map(|candidate| to_wit(crate::score(&from_wit(candidate))))
            .collect();
        let accepted = verdicts.iter().filter(|v| v.accept).count();
        log(
            LogLevel::Debug,
            &format!(
                "scored {} rebalance candidate(s), accepted {accepted}",
                verdicts.len()
            ),
        );
        Ok(verdicts)
    }
}

fn flow_state(state: wit::FlowState) -> FlowState {
    match state {
        wit::FlowState::Unknown => FlowState::Unknown,
        wit::FlowState::Source => FlowState::Source,
        wit::FlowState::Sink => FlowState::Sink,
        wit::FlowState::Balanced => FlowState::Balanced,
        wit::FlowState::Congested => FlowState::Congested,
    }
}

fn channel(channel: wit::RebalanceChannel) -> Channel {
    Channel {
        short_channel_id: channel.short_channel_id,
        peer_id: channel.peer_id,
        capacity_msat: channel.capacity_msat,
        local_msat: channel.local_msat,
        fee_ppm: channel.fee_ppm,
        daily_out_msat: channel.daily_out_msat,
        flow_state: flow_state(channel.flow_state),
    }
}

fn from_wit(candidate: wit::RebalanceCandidate) -> Candidate {
    Candidate {
        now_unix_secs: candidate.now,
        seed: candidate.seed,
        destination: channel(candidate.destination),
        sources: candidate.sources.into_iter().map(channel).collect(),
        amount_msat: candidate.amount_msat,
        inbound_fee_estimate_ppm: candidate.inbound_fee_estimate_ppm,
        cooldown_days: candidate.cooldown_days,
        health_multiplier: candidate.health_multiplier,
        min_profit_msat: candidate.min_profit_msat,
        kelly: candidate.kelly.map(|kelly| Kelly {
            success_probability: kelly.success_probability,
            fraction: kelly.fraction,
        }),
    }
}

fn to_wit(verdict: Verdict) -> wit::RebalanceVerdict {
    wit::RebalanceVerdict {
        accept: verdict.accept,
        amount_msat: verdict.amount_msat,
        max_fee_ppm: verdict.max_fee_ppm,
        sources: verdict.sources,
        expected_profit_msat: verdict.expected_profit_msat,
        reason: verdict.reason,
    }
}

export!(RebalanceEv);
