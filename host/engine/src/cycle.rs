//! One fee cycle: read the node, ask the policy, apply the rails, record,
//! then send. Also the operator's manual fee change.

use crate::ingest::ingest_forwards;
use crate::inputs::{Measured, fee_input};
use crate::rails::{self, Bounds, RailInput, Verdict};
use crate::{EngineError, EngineStatus, FeeSettings, PolicySet, status::CycleSummary};
use arc_swap::ArcSwap;
use revops_core::{ChannelSnapshot, Clock, Msat, Node};
use revops_runtime::{ChannelFeeInput, FeeDecision, FeerateInfo, LoadedPolicy, PolicyRuntime};
use revops_store::{
    ChannelFeeState, FeeChangeOutcome, NewFeeChange, PeerPolicy, PolicyFailureRow, Store, Strategy,
};
use serde::Serialize;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Feerate assumed when lightningd cannot tell and there is no history:
/// its own minimum relay floor.
const FALLBACK_FEERATE_PERKW: u32 = 253;
const DAY_SECS: u64 = 86_400;
/// How far back the first decision for a channel looks for its earnings.
const FIRST_WINDOW_SECS: u64 = DAY_SECS;

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
}

#[derive(Debug, Clone, Serialize)]
pub struct ChannelOutcome {
    pub short_channel_id: String,
    pub peer_id: String,
    pub strategy: &'static str,
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

#[derive(Debug, Clone, Serialize)]
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

pub struct FeeEngine<N: Node, C: Clock> {
    node: Arc<N>,
    clock: C,
    store: Arc<Store>,
    runtime: Arc<PolicyRuntime>,
    policies: ArcSwap<PolicySet>,
    settings: ArcSwap<FeeSettings>,
    status: Mutex<EngineStatus>,
    /// One fee cycle at a time (timer and `revenue-fee-cycle` may race).
    cycle_lock: tokio::sync::Mutex<()>,
}

/// A channel waiting for a decision, with the context to judge it.
struct Pending<'a> {
    channel: &'a ChannelSnapshot,
    bounds: Bounds,
    previous: Option<ChannelFeeState>,
}

impl<N: Node, C: Clock> FeeEngine<N, C> {
    pub fn new(
        node: Arc<N>,
        clock: C,
        store: Arc<Store>,
        runtime: Arc<PolicyRuntime>,
        policies: PolicySet,
        settings: FeeSettings,
    ) -> Self {
        FeeEngine {
            node,
            clock,
            store,
            runtime,
            policies: ArcSwap::from_pointee(policies),
            settings: ArcSwap::from_pointee(settings),
            status: Mutex::new(EngineStatus::default()),
            cycle_lock: tokio::sync::Mutex::new(()),
        }
    }

    pub fn settings(&self) -> Arc<FeeSettings> {
        self.settings.load_full()
    }

    pub fn set_settings(&self, settings: FeeSettings) {
        self.settings.store(Arc::new(settings));
    }

    pub fn policies(&self) -> Arc<PolicySet> {
        self.policies.load_full()
    }

    pub fn set_policies(&self, policies: PolicySet) {
        self.policies.store(Arc::new(policies));
    }

    pub fn status(&self) -> EngineStatus {
        self.lock_status().clone()
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn node(&self) -> &Arc<N> {
        &self.node
    }

    pub fn now(&self) -> u64 {
        self.clock.now_secs()
    }

    fn lock_status(&self) -> std::sync::MutexGuard<'_, EngineStatus> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run one fee cycle now and say what it decided.
    pub async fn run_fee_cycle(&self) -> Result<FeeCycleReport, EngineError> {
        let _one_at_a_time = self.cycle_lock.lock().await;
        let settings = self.settings.load_full();
        let policies = self.policies.load_full();
        let now = self.clock.now_secs();
        let started = Instant::now();
        let result = self.fee_cycle(&settings, &policies, now).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        let mut status = self.lock_status();
        status.fee_cycles_run += 1;
        match &result {
            Ok(report) => {
                let count = |a: &[ChannelAction]| {
                    report
                        .channels
                        .iter()
                        .filter(|c| a.contains(&c.action))
                        .count()
                };
                status.last_fee_cycle = Some(CycleSummary {
                    started_at: now,
                    duration_ms,
                    channels: report.channels.len(),
                    changed: count(&[ChannelAction::Applied, ChannelAction::DryRun]),
                    skipped: count(&[
                        ChannelAction::Unchanged,
                        ChannelAction::Hysteresis,
                        ChannelAction::RateLimited,
                        ChannelAction::Passive,
                    ]),
                    failed: count(&[ChannelAction::PolicyFailed, ChannelAction::SetchannelFailed]),
                    error: None,
                });
            }
            Err(e) => {
                status.last_fee_cycle = Some(CycleSummary {
                    started_at: now,
                    duration_ms,
                    error: Some(e.to_string()),
                    ..CycleSummary::default()
                });
            }
        }
        result.map(|mut r| {
            r.duration_ms = duration_ms;
            r
        })
    }

    async fn fee_cycle(
        &self,
        settings: &FeeSettings,
        policies: &PolicySet,
        now: u64,
    ) -> Result<FeeCycleReport, EngineError> {
        let channels = self.node.list_channels().await?;
        self.settle_pending_changes(&channels)?;
        let forwards_ingested = ingest_forwards(self.node.as_ref(), &self.store).await?;
        let feerates = self.feerates(now).await?;
        let peer_policies: HashMap<String, PeerPolicy> = self
            .store
            .peer_policies()?
            .into_iter()
            .map(|p| (p.peer_id.clone(), p))
            .collect();

        // One query each for the whole node, not one per channel.
        let mut states = self.store.channel_fee_states()?;
        let broadcasts = self
            .store
            .broadcasts_by_channel_since(now.saturating_sub(DAY_SECS))?;

        let mut outcomes = Vec::new();
        let mut statics = Vec::new();
        let mut dynamics = Vec::new();
        for channel in channels.iter().filter(|c| c.accepts_fee_updates()) {
            let peer = peer_policies.get(&channel.peer_id);
            let bounds = Bounds::resolve(
                settings.min_fee_ppm,
                settings.max_fee_ppm,
                peer.and_then(|p| p.min_fee_ppm),
                peer.and_then(|p| p.max_fee_ppm),
            );
            let pending = Pending {
                channel,
                bounds,
                previous: states.remove(&channel.short_channel_id),
            };
            match peer.map(|p| (p.strategy, p.fee_ppm)) {
                Some((Strategy::Passive, _)) => outcomes.push(ChannelOutcome {
                    short_channel_id: channel.short_channel_id.clone(),
                    peer_id: channel.peer_id.clone(),
                    strategy: Strategy::Passive.as_str(),
                    policy: None,
                    old_fee_ppm: channel.fee_ppm,
                    proposed_fee_ppm: None,
                    new_fee_ppm: channel.fee_ppm,
                    floor_ppm: bounds.floor_ppm,
                    ceiling_ppm: bounds.ceiling_ppm,
                    step: None,
                    reason: "peer policy is passive: the plugin never touches this channel"
                        .to_string(),
                    action: ChannelAction::Passive,
                }),
                Some((Strategy::Static, fee_ppm)) => {
                    statics.push((pending, fee_ppm.unwrap_or(channel.fee_ppm)))
                }
                _ => dynamics.push(pending),
            }
        }

        let mut records = Vec::new();
        for (pending, fee_ppm) in statics {
            let decision = FeeDecision {
                short_channel_id: pending.channel.short_channel_id.clone(),
                fee_ppm,
                step: "static".to_string(),
                reason: format!("static peer policy: {fee_ppm} ppm set by the operator"),
                state: None,
            };
            records.push(self.judge(settings, pending, decision, None, &broadcasts, now));
        }

        let mut policy_failure = None;
        if !dynamics.is_empty() {
            match policies.get(&settings.default_fee_policy).cloned() {
                None => {
                    let message = format!(
                        "fee policy `{}` is not loaded; fees are left as they are",
                        settings.default_fee_policy
                    );
                    policy_failure = Some(PolicyFailureReport {
                        policy: settings.default_fee_policy.clone(),
                        kind: "not_loaded".to_string(),
                        message: message.clone(),
                    });
                    outcomes.extend(dynamics.iter().map(|p| failed_outcome(p, None, &message)));
                }
                Some(policy) => {
                    let inputs = self.policy_inputs(settings, &dynamics, &feerates, now)?;
                    match self.call_policy(&policy, inputs, now).await? {
                        Ok(decisions) => {
                            for (pending, decision) in dynamics.into_iter().zip(decisions) {
                                records.push(self.judge(
                                    settings,
                                    pending,
                                    decision,
                                    Some(&policy),
                                    &broadcasts,
                                    now,
                                ));
                            }
                        }
                        Err(failure) => {
                            let label = policy_label(&policy);
                            let message = format!(
                                "policy {label} failed ({}): {}; fees are left as they are",
                                failure.kind, failure.message
                            );
                            outcomes.extend(
                                dynamics
                                    .iter()
                                    .map(|p| failed_outcome(p, Some(label.clone()), &message)),
                            );
                            policy_failure = Some(failure);
                        }
                    }
                }
            }
        }

        let ids = self.store.save_decisions(
            &records
                .iter()
                .map(|r| (r.state.clone(), r.change.clone()))
                .collect::<Vec<_>>(),
        )?;
        for (record, id) in records.into_iter().zip(ids) {
            let mut outcome = record.outcome;
            if let (Some(id), ChannelAction::Applied) = (id, outcome.action) {
                match self
                    .node
                    .set_channel_fee(&outcome.short_channel_id, outcome.new_fee_ppm)
                    .await
                {
                    Ok(()) => {
                        self.store
                            .set_fee_change_outcome(id, FeeChangeOutcome::Applied, None)?
                    }
                    Err(e) => {
                        let detail = e.to_string();
                        log::warn!(
                            "setchannel {} to {} ppm failed: {detail}",
                            outcome.short_channel_id,
                            outcome.new_fee_ppm
                        );
                        self.store.set_fee_change_outcome(
                            id,
                            FeeChangeOutcome::Failed,
                            Some(&detail),
                        )?;
                        outcome.action = ChannelAction::SetchannelFailed;
                        outcome.reason =
                            format!("{}; lightningd refused: {detail}", outcome.reason);
                        outcome.new_fee_ppm = outcome.old_fee_ppm;
                    }
                }
            }
            outcomes.push(outcome);
        }
        outcomes.sort_by(|a, b| a.short_channel_id.cmp(&b.short_channel_id));

        Ok(FeeCycleReport {
            started_at: now,
            dry_run: settings.dry_run,
            duration_ms: 0,
            forwards_ingested,
            feerate_perkw: feerates.current_perkw,
            feerate_avg_24h_perkw: feerates.average_24h_perkw,
            policy_failure,
            channels: outcomes,
        })
    }

    /// A change recorded but never confirmed (the plugin was stopped between
    /// writing it and lightningd's answer) is settled from what lightningd
    /// shows now: the fee is there, or it is not.
    fn settle_pending_changes(&self, channels: &[ChannelSnapshot]) -> Result<(), EngineError> {
        for change in self.store.pending_fee_changes()? {
            let now_ppm = channels
                .iter()
                .find(|c| c.short_channel_id == change.short_channel_id)
                .map(|c| c.fee_ppm);
            let (outcome, detail) = if now_ppm == Some(change.new_fee_ppm) {
                (
                    FeeChangeOutcome::Applied,
                    "confirmed after a restart: lightningd shows the new fee",
                )
            } else {
                (
                    FeeChangeOutcome::Failed,
                    "the plugin stopped before lightningd confirmed; the fee was not changed",
                )
            };
            log::info!(
                "fee change #{} on {}: {detail}",
                change.id,
                change.short_channel_id
            );
            self.store
                .set_fee_change_outcome(change.id, outcome, Some(detail))?;
        }
        Ok(())
    }

    /// Current opening feerate and its 24 h average. A lightningd that cannot
    /// tell does not stop the cycle: the last known average stands in.
    async fn feerates(&self, now: u64) -> Result<FeerateInfo, EngineError> {
        let since = now.saturating_sub(DAY_SECS);
        let current = match self.node.feerates().await {
            Ok(f) => {
                self.store.record_feerate(now, f.opening_perkw)?;
                f.opening_perkw
            }
            Err(e) => {
                log::warn!("feerates unavailable, using the 24 h average: {e}");
                self.store
                    .feerate_average(since)?
                    .unwrap_or(FALLBACK_FEERATE_PERKW)
            }
        };
        let average = self.store.feerate_average(since)?.unwrap_or(current);
        Ok(FeerateInfo {
            current_perkw: current,
            average_24h_perkw: average,
        })
    }

    fn policy_inputs(
        &self,
        settings: &FeeSettings,
        dynamics: &[Pending<'_>],
        feerates: &FeerateInfo,
        now: u64,
    ) -> Result<Vec<ChannelFeeInput>, EngineError> {
        let first_since = self.store.oldest_forward_time()?.unwrap_or(0).min(now);
        // Channels decided together share their window start: one grouped
        // query per distinct start, not one per channel.
        let mut earnings: HashMap<u64, HashMap<String, (Msat, Msat)>> = HashMap::new();
        dynamics
            .iter()
            .map(|p| {
                // The first decision for a channel looks back a day (or to
                // the node's first forward, if that is more recent), so a
                // policy starts from what the channel earned recently.
                let since = match &p.previous {
                    Some(state) => state.last_decision_at,
                    None => first_since.max(now.saturating_sub(FIRST_WINDOW_SECS)),
                };
                let by_channel = match earnings.entry(since) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => e.insert(self.store.earnings_by_channel(since, now)?),
                };
                let (fees, out) = by_channel
                    .get(&p.channel.short_channel_id)
                    .copied()
                    .unwrap_or_default();
                let measured = Measured {
                    fees_earned_msat: fees.msat(),
                    forwarded_out_msat: out.msat(),
                    window_secs: now.saturating_sub(since),
                    feerates: *feerates,
                    bounds: p.bounds,
                    congestion_threshold: settings.congestion_threshold,
                };
                Ok(fee_input(p.channel, p.previous.as_ref(), measured, now))
            })
            .collect()
    }

    /// Call the policy off the async threads. `Ok(Err(..))` is a contained
    /// policy failure (already counted and stored).
    async fn call_policy(
        &self,
        policy: &Arc<LoadedPolicy>,
        inputs: Vec<ChannelFeeInput>,
        now: u64,
    ) -> Result<Result<Vec<FeeDecision>, PolicyFailureReport>, EngineError> {
        let channels = inputs.len();
        let runtime = Arc::clone(&self.runtime);
        let call_policy = Arc::clone(policy);
        let result =
            tokio::task::spawn_blocking(move || runtime.decide_fees(&call_policy, &inputs))
                .await
                .map_err(|e| EngineError::Join(e.to_string()))?;
        match result {
            Ok(batch) => Ok(Ok(batch.decisions)),
            Err(failure) => {
                let row = PolicyFailureRow {
                    timestamp: now,
                    policy_name: policy.name().to_string(),
                    policy_version: policy.version().to_string(),
                    kind: failure.kind.as_str().to_string(),
                    message: failure.message.clone(),
                    channels: u32::try_from(channels).unwrap_or(u32::MAX),
                };
                log::warn!(
                    "policy {} failed on a batch of {channels} channels ({}): {}; fees unchanged",
                    policy_label(policy),
                    row.kind,
                    row.message
                );
                self.store.record_policy_failure(&row)?;
                let mut status = self.lock_status();
                status.policy_failures_total += 1;
                *status
                    .policy_failures_by_kind
                    .entry(row.kind.clone())
                    .or_default() += 1;
                status.last_policy_failure = Some(row.clone());
                Ok(Err(PolicyFailureReport {
                    policy: policy_label(policy),
                    kind: row.kind,
                    message: row.message,
                }))
            }
        }
    }

    /// Put one proposal through the rails and prepare what to record.
    fn judge(
        &self,
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
        let rail = rails::decide(&RailInput {
            current_ppm: channel.fee_ppm,
            proposed_ppm: decision.fee_ppm,
            bounds: pending.bounds,
            broadcasts_last_24h: broadcasts,
            max_broadcasts_per_day: settings.max_broadcasts_per_day,
            hysteresis_fraction: settings.hysteresis_fraction,
            apply_hysteresis: !is_static,
        });
        let mut reason = decision.reason.clone();
        if rail.target_ppm != decision.fee_ppm {
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
            None => ("static".to_string(), "-".to_string()),
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
            last_outcome: Some(action_str(action).to_string()),
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
                strategy: if is_static { "static" } else { "dynamic" },
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

    /// The operator's `revenue-set-fee`: bounds-checked unless forced,
    /// recorded in the audit log, sent now (also in dry-run: it is an
    /// explicit command, not an automatic decision).
    pub async fn set_fee_manually(
        &self,
        short_channel_id: &str,
        fee_ppm: u32,
        force: bool,
    ) -> Result<ManualFeeChange, EngineError> {
        let settings = self.settings.load_full();
        let channels = self.node.list_channels().await?;
        let channel = channels
            .iter()
            .find(|c| c.short_channel_id == short_channel_id)
            .ok_or_else(|| EngineError::UnknownChannel(short_channel_id.to_string()))?;
        if !channel.accepts_fee_updates() {
            return Err(EngineError::ChannelNotActive {
                scid: channel.short_channel_id.clone(),
                state: channel.state.clone(),
            });
        }
        let peer = self.store.peer_policy(&channel.peer_id)?;
        let bounds = Bounds::resolve(
            settings.min_fee_ppm,
            settings.max_fee_ppm,
            peer.as_ref().and_then(|p| p.min_fee_ppm),
            peer.as_ref().and_then(|p| p.max_fee_ppm),
        );
        if !force && !bounds.contains(fee_ppm) {
            return Err(EngineError::OutOfBounds {
                fee_ppm,
                floor_ppm: bounds.floor_ppm,
                ceiling_ppm: bounds.ceiling_ppm,
            });
        }
        let now = self.clock.now_secs();
        let id = self.store.insert_fee_change(&NewFeeChange {
            timestamp: now,
            short_channel_id: channel.short_channel_id.clone(),
            peer_id: channel.peer_id.clone(),
            old_fee_ppm: channel.fee_ppm,
            proposed_fee_ppm: fee_ppm,
            new_fee_ppm: fee_ppm,
            step: "manual".to_string(),
            reason: if force {
                "set by the operator with revenue-set-fee (forced past the bounds)".to_string()
            } else {
                "set by the operator with revenue-set-fee".to_string()
            },
            policy_name: "operator".to_string(),
            policy_version: "-".to_string(),
            outcome: FeeChangeOutcome::Pending,
        })?;
        match self
            .node
            .set_channel_fee(&channel.short_channel_id, fee_ppm)
            .await
        {
            Ok(()) => {
                self.store
                    .set_fee_change_outcome(id, FeeChangeOutcome::Manual, None)?;
                Ok(ManualFeeChange {
                    short_channel_id: channel.short_channel_id.clone(),
                    peer_id: channel.peer_id.clone(),
                    old_fee_ppm: channel.fee_ppm,
                    new_fee_ppm: fee_ppm,
                    forced: force,
                })
            }
            Err(e) => {
                self.store.set_fee_change_outcome(
                    id,
                    FeeChangeOutcome::Failed,
                    Some(&e.to_string()),
                )?;
                Err(e.into())
            }
        }
    }
}

struct Judged {
    state: ChannelFeeState,
    change: Option<NewFeeChange>,
    outcome: ChannelOutcome,
}

fn failed_outcome(p: &Pending<'_>, policy: Option<String>, message: &str) -> ChannelOutcome {
    ChannelOutcome {
        short_channel_id: p.channel.short_channel_id.clone(),
        peer_id: p.channel.peer_id.clone(),
        strategy: "dynamic",
        policy,
        old_fee_ppm: p.channel.fee_ppm,
        proposed_fee_ppm: None,
        new_fee_ppm: p.channel.fee_ppm,
        floor_ppm: p.bounds.floor_ppm,
        ceiling_ppm: p.bounds.ceiling_ppm,
        step: None,
        reason: message.to_string(),
        action: ChannelAction::PolicyFailed,
    }
}

fn policy_label(policy: &Arc<LoadedPolicy>) -> String {
    format!("{}@{}", policy.name(), policy.version())
}

fn action_str(action: ChannelAction) -> &'static str {
    match action {
        ChannelAction::Applied => "applied",
        ChannelAction::DryRun => "dry_run",
        ChannelAction::Unchanged => "unchanged",
        ChannelAction::Hysteresis => "hysteresis",
        ChannelAction::RateLimited => "rate_limited",
        ChannelAction::Passive => "passive",
        ChannelAction::PolicyFailed => "policy_failed",
        ChannelAction::SetchannelFailed => "setchannel_failed",
    }
}
