//! Turning one proposal (a policy's decision or a static fee) into what is
//! recorded and sent: the host's rails, the channel's new state, the audit
//! row and the reported outcome.

use crate::FeeSettings;
use crate::outcome::{ChannelAction, ChannelOutcome};
use crate::rails::{self, Bounds, RailInput, Verdict};
use revops_core::ChannelSnapshot;
use revops_runtime::{FeeDecision, LoadedPolicy};
use revops_store::{ChannelFeeState, FeeChangeOutcome, NewFeeChange};
use std::collections::HashMap;
use std::sync::Arc;

/// A channel waiting for a decision, with the context to judge it.
pub(crate) struct Pending<'a> {
    pub channel: &'a ChannelSnapshot,
    pub bounds: Bounds,
    pub previous: Option<ChannelFeeState>,
    /// The peer's strategy as shown to operators (`dynamic`, `static`,
    /// `hive`, or a policy's name).
    pub strategy: String,
    /// The peer's multiplier clamps on a proposal, relative to the current fee.
    pub multipliers: Option<(Option<f64>, Option<f64>)>,
}

/// Put one proposal through the rails and prepare what to record.
pub(crate) fn judge(
    settings: &FeeSettings,
    pending: Pending<'_>,
    decision: FeeDecision,
    policy: Option<&Arc<LoadedPolicy>>,
    broadcasts_last_24h: &HashMap<String, u32>,
    now: u64,
) -> Judged {
    let channel = pending.channel;
    let is_static = policy.is_none();
    let broadcasts = broadcasts_last_24h
        .get(&channel.short_channel_id)
        .copied()
        .unwrap_or(0);
    let (proposed_ppm, multiplier_note) =
        within_multipliers(channel.fee_ppm, decision.fee_ppm, pending.multipliers);
    let rail = rails::decide(&RailInput {
        current_ppm: channel.fee_ppm,
        proposed_ppm,
        bounds: pending.bounds,
        broadcasts_last_24h: broadcasts,
        max_broadcasts_per_day: settings.max_broadcasts_per_day,
        hysteresis_fraction: settings.hysteresis_fraction,
        apply_hysteresis: !is_static,
    });
    let mut reason = decision.reason.clone();
    if let Some(note) = multiplier_note {
        reason.push_str(&note);
    }
    if rail.target_ppm != proposed_ppm {
        reason.push_str(&format!(
            "; clamped to [{}, {}] ppm",
            pending.bounds.floor_ppm, pending.bounds.ceiling_ppm
        ));
    }
    let (action, change_outcome) = match rail.verdict {
        Verdict::Send if settings.dry_run => {
            (ChannelAction::DryRun, Some(FeeChangeOutcome::DryRun))
        }
        Verdict::Send => (ChannelAction::Applied, Some(FeeChangeOutcome::Pending)),
        Verdict::Unchanged => (ChannelAction::Unchanged, None),
        Verdict::Hysteresis => {
            reason.push_str(&format!(
                "; held: change from {} ppm is within the {:.0}% hysteresis",
                channel.fee_ppm,
                settings.hysteresis_fraction * 100.0
            ));
            (ChannelAction::Hysteresis, None)
        }
        Verdict::RateLimited => {
            reason.push_str(&format!(
                "; held: {broadcasts} fee updates in the last 24 h (limit {})",
                settings.max_broadcasts_per_day
            ));
            (ChannelAction::RateLimited, None)
        }
    };
    let (policy_name, policy_version) = match policy {
        Some(p) => (p.name().to_string(), p.version().to_string()),
        None => (pending.strategy.clone(), "-".to_string()),
    };
    let new_fee_ppm = match action {
        ChannelAction::Applied => rail.target_ppm,
        _ => channel.fee_ppm,
    };
    let state = ChannelFeeState {
        short_channel_id: channel.short_channel_id.clone(),
        peer_id: channel.peer_id.clone(),
        policy_name: Some(policy_name.clone()),
        policy_version: Some(policy_version.clone()),
        // Static decisions carry no policy state; keep the dynamic
        // policy's state for when the peer goes back to dynamic.
        policy_state: if is_static {
            pending
                .previous
                .as_ref()
                .and_then(|p| p.policy_state.clone())
        } else {
            decision.state.clone()
        },
        last_decision_at: now,
        last_target_fee_ppm: Some(rail.target_ppm),
        last_step: Some(decision.step.clone()),
        last_reason: Some(reason.clone()),
        last_outcome: Some(action.as_str().to_string()),
        last_seen_fee_ppm: Some(new_fee_ppm),
    };
    let change = change_outcome.map(|outcome| NewFeeChange {
        timestamp: now,
        short_channel_id: channel.short_channel_id.clone(),
        peer_id: channel.peer_id.clone(),
        old_fee_ppm: channel.fee_ppm,
        proposed_fee_ppm: decision.fee_ppm,
        new_fee_ppm: rail.target_ppm,
        step: decision.step.clone(),
        reason: reason.clone(),
        policy_name: policy_name.clone(),
        policy_version: policy_version.clone(),
        outcome,
    });
    Judged {
        state,
        change,
        outcome: ChannelOutcome {
            short_channel_id: channel.short_channel_id.clone(),
            peer_id: channel.peer_id.clone(),
            strategy: pending.strategy.clone(),
            policy: policy.map(policy_label),
            old_fee_ppm: channel.fee_ppm,
            proposed_fee_ppm: Some(decision.fee_ppm),
            new_fee_ppm,
            floor_ppm: pending.bounds.floor_ppm,
            ceiling_ppm: pending.bounds.ceiling_ppm,
            step: Some(decision.step),
            reason,
            action,
        },
    }
}

pub(crate) struct Judged {
    pub state: ChannelFeeState,
    pub change: Option<NewFeeChange>,
    pub outcome: ChannelOutcome,
}

pub(crate) fn failed_outcome(
    p: &Pending<'_>,
    policy: Option<String>,
    message: &str,
) -> ChannelOutcome {
    untouched_outcome(p, policy, message, ChannelAction::PolicyFailed)
}

/// The outcome for a channel whose fee stays as it is without a decision.
pub(crate) fn untouched_outcome(
    p: &Pending<'_>,
    policy: Option<String>,
    message: &str,
    action: ChannelAction,
) -> ChannelOutcome {
    ChannelOutcome {
        short_channel_id: p.channel.short_channel_id.clone(),
        peer_id: p.channel.peer_id.clone(),
        strategy: p.strategy.clone(),
        policy,
        old_fee_ppm: p.channel.fee_ppm,
        proposed_fee_ppm: None,
        new_fee_ppm: p.channel.fee_ppm,
        floor_ppm: p.bounds.floor_ppm,
        ceiling_ppm: p.bounds.ceiling_ppm,
        step: None,
        reason: message.to_string(),
        action,
    }
}

pub(crate) fn policy_label(policy: &Arc<LoadedPolicy>) -> String {
    format!("{}@{}", policy.name(), policy.version())
}

/// A channel whose fee differs from the one it had after our last decision
/// was changed by hand or by another tool. Adopt it: record it, send nothing
/// this cycle, and keep the policy's state (a policy that tracks its own fee
/// then continues from the adopted one instead of fighting it).
pub(crate) fn external_change(pending: &Pending<'_>, now: u64) -> Option<Judged> {
    let channel = pending.channel;
    let previous = pending.previous.as_ref()?;
    let seen_ppm = previous.last_seen_fee_ppm?;
    if seen_ppm == channel.fee_ppm {
        return None;
    }
    let reason = format!(
        "fee changed outside the plugin from {seen_ppm} to {} ppm (by hand or another tool): adopted, not reverted",
        channel.fee_ppm
    );
    let mut state = previous.clone();
    state.last_seen_fee_ppm = Some(channel.fee_ppm);
    state.last_step = Some("external".to_string());
    state.last_reason = Some(reason.clone());
    state.last_outcome = Some(ChannelAction::ExternalChange.as_str().to_string());
    Some(Judged {
        state,
        change: Some(NewFeeChange {
            timestamp: now,
            short_channel_id: channel.short_channel_id.clone(),
            peer_id: channel.peer_id.clone(),
            old_fee_ppm: seen_ppm,
            proposed_fee_ppm: channel.fee_ppm,
            new_fee_ppm: channel.fee_ppm,
            step: "external".to_string(),
            reason: reason.clone(),
            policy_name: "external".to_string(),
            policy_version: "-".to_string(),
            outcome: FeeChangeOutcome::External,
        }),
        outcome: ChannelOutcome {
            short_channel_id: channel.short_channel_id.clone(),
            peer_id: channel.peer_id.clone(),
            strategy: pending.strategy.clone(),
            policy: None,
            old_fee_ppm: seen_ppm,
            proposed_fee_ppm: None,
            new_fee_ppm: channel.fee_ppm,
            floor_ppm: pending.bounds.floor_ppm,
            ceiling_ppm: pending.bounds.ceiling_ppm,
            step: Some("external".to_string()),
            reason,
            action: ChannelAction::ExternalChange,
        },
    })
}

/// Keep a proposal within the peer's multiplier clamps of the current fee
/// (`fee_multiplier_min` ≤ new ÷ current ≤ `fee_multiplier_max`).
fn within_multipliers(
    current_ppm: u32,
    proposed_ppm: u32,
    multipliers: Option<(Option<f64>, Option<f64>)>,
) -> (u32, Option<String>) {
    let Some((min, max)) = multipliers else {
        return (proposed_ppm, None);
    };
    let scaled = |m: f64| {
        (f64::from(current_ppm) * m)
            .round()
            .clamp(0.0, f64::from(u32::MAX)) as u32
    };
    let mut kept = proposed_ppm;
    if let Some(m) = max {
        kept = kept.min(scaled(m));
    }
    if let Some(m) = min {
        kept = kept.max(scaled(m));
    }
    if kept == proposed_ppm {
        (kept, None)
    } else {
        (
            kept,
            Some(format!(
                "; kept to {kept} ppm by the peer's fee multipliers ({}..{} × {current_ppm} ppm)",
                min.map_or("-".to_string(), |m| m.to_string()),
                max.map_or("-".to_string(), |m| m.to_string())
            )),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::within_multipliers;

    #[test]
    fn multipliers_bound_a_proposal_relative_to_the_current_fee() {
        assert_eq!(within_multipliers(100, 500, None).0, 500);
        assert_eq!(within_multipliers(100, 500, Some((None, Some(1.5)))).0, 150);
        assert_eq!(within_multipliers(100, 10, Some((Some(0.8), None))).0, 80);
        let (kept, note) = within_multipliers(100, 120, Some((Some(0.8), Some(1.5))));
        assert_eq!((kept, note), (120, None));
    }
}
