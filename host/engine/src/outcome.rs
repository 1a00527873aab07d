//! What a fee cycle reports, per channel and as a whole.

use serde::Serialize;

/// What happened to one channel in a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelAction {
    /// The new fee was sent to lightningd and accepted.
    Applied,
    /// Dry-run: the decision was recorded, nothing was sent.
    DryRun,
    Unchanged,
    Hysteresis,
    RateLimited,
    /// The peer's policy is `passive`: never touched.
    Passive,
    /// The policy failed; the fee stays as it was.
    PolicyFailed,
    /// lightningd refused the update; the fee stays as it was.
    SetchannelFailed,
    /// The deadband: the channel's revenue rate has been flat, so it sleeps
    /// for a while (no policy call, no broadcast).
    Sleeping,
    /// The fee was changed outside the plugin since our last decision: it is
    /// adopted (recorded, not reverted) and the policy continues from it.
    ExternalChange,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChannelOutcome {
    pub short_channel_id: String,
    pub peer_id: String,
    pub strategy: String,
    /// `name@version` of the policy that decided (dynamic peers).
    pub policy: Option<String>,
    pub old_fee_ppm: u32,
    pub proposed_fee_ppm: Option<u32>,
    /// The fee the channel has after this cycle (as far as we know).
    pub new_fee_ppm: u32,
    pub floor_ppm: u32,
    pub ceiling_ppm: u32,
    pub step: Option<String>,
    pub reason: String,
    pub action: ChannelAction,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyFailureReport {
    pub policy: String,
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeeCycleReport {
    pub started_at: u64,
    pub dry_run: bool,
    pub duration_ms: u64,
    pub forwards_ingested: usize,
    pub feerate_perkw: u32,
    pub feerate_avg_24h_perkw: u32,
    pub policy_failure: Option<PolicyFailureReport>,
    /// Every policy batch that failed this cycle (the first is also
    /// `policy_failure`).
    pub policy_failures: Vec<PolicyFailureReport>,
    pub channels: Vec<ChannelOutcome>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManualFeeChange {
    pub short_channel_id: String,
    pub peer_id: String,
    pub old_fee_ppm: u32,
    pub new_fee_ppm: u32,
    pub forced: bool,
}

impl ChannelAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelAction::Applied => "applied",
            ChannelAction::DryRun => "dry_run",
            ChannelAction::Unchanged => "unchanged",
            ChannelAction::Hysteresis => "hysteresis",
            ChannelAction::RateLimited => "rate_limited",
            ChannelAction::Passive => "passive",
            ChannelAction::PolicyFailed => "policy_failed",
            ChannelAction::SetchannelFailed => "setchannel_failed",
            ChannelAction::ExternalChange => "external_change",
            ChannelAction::Sleeping => "sleeping",
        }
    }
}
