//! The fee engine and one fee cycle: read the node, ask the policy, put
//! each proposal through the rails (`judge`), record, then send.

use crate::clboss::FEE_TAG;
use crate::deadband::{self, Wakefulness};
use crate::flow::FlowSettings;
use crate::guidance::{PROFIT_WINDOW_SECS, Signals, guide};
use crate::ingest::ingest_forwards;
use crate::inputs::{Measured, fee_input, flow_state_for};
use crate::judge::{
    Pending, external_change, failed_outcome, judge, policy_label, untouched_outcome,
};
use crate::outcome::{ChannelAction, ChannelOutcome, FeeCycleReport, PolicyFailureReport};
use crate::quarantine::{Admission, Quarantine};
use crate::{EngineError, EngineStatus, FeeSettings, PolicySet, status::CycleSummary};
use arc_swap::ArcSwap;
use revops_core::{Clock, Msat, Node};
use revops_runtime::{ChannelFeeInput, FeeDecision, FeerateInfo, LoadedPolicy, PolicyRuntime};
use revops_store::{
    ChannelFlow, FeeChangeOutcome, PeerPolicy, PolicyFailureRow, SleepState, Store, Strategy,
};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The built-in fee policy that decides for the peers of a quarantined one.
pub const FALLBACK_FEE_POLICY: &str = "fee-alpha";

/// Feerate assumed when lightningd cannot tell and there is no history:
/// its own minimum relay floor.
const FALLBACK_FEERATE_PERKW: u32 = 253;
pub(crate) use revops_store::DAY_SECS;
/// How far back the first decision for a channel looks for its earnings.
const FIRST_WINDOW_SECS: u64 = DAY_SECS;

pub struct FeeEngine<N: Node, C: Clock> {
    pub(crate) node: Arc<N>,
    pub(crate) clock: C,
    pub(crate) store: Arc<Store>,
    pub(crate) runtime: Arc<PolicyRuntime>,
    /// Shared with the rebalancer (its shadow scorers are looked up here).
    pub(crate) policies: Arc<ArcSwap<PolicySet>>,
    pub(crate) settings: ArcSwap<FeeSettings>,
    pub(crate) flow_settings: ArcSwap<FlowSettings>,
    pub(crate) status: Mutex<EngineStatus>,
    /// Which policies are quarantined (shared with the rebalancer).
    pub(crate) quarantine: Arc<Quarantine>,
    /// One fee cycle at a time (timer and `revenue-fee-cycle` may race).
    pub(crate) cycle_lock: tokio::sync::Mutex<()>,
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
            policies: Arc::new(ArcSwap::from_pointee(policies)),
            settings: ArcSwap::from_pointee(settings),
            flow_settings: ArcSwap::from_pointee(FlowSettings::default()),
            status: Mutex::new(EngineStatus::default()),
            quarantine: Arc::new(Quarantine::default()),
            cycle_lock: tokio::sync::Mutex::new(()),
        }
    }

    pub fn settings(&self) -> Arc<FeeSettings> {
        self.settings.load_full()
    }

    /// The quarantine book (share it with the rebalancer; settings through
    /// [`Quarantine::set_settings`]).
    pub fn quarantine(&self) -> &Arc<Quarantine> {
        &self.quarantine
    }

    pub fn set_settings(&self, settings: FeeSettings) {
        self.settings.store(Arc::new(settings));
    }

    pub fn flow_settings(&self) -> Arc<FlowSettings> {
        self.flow_settings.load_full()
    }

    pub fn set_flow_settings(&self, settings: FlowSettings) {
        self.flow_settings.store(Arc::new(settings));
    }

    pub fn policies(&self) -> Arc<PolicySet> {
        self.policies.load_full()
    }

    /// The loaded policy set itself, to share with the rebalancer.
    pub fn policy_book(&self) -> &Arc<ArcSwap<PolicySet>> {
        &self.policies
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

    pub fn runtime(&self) -> &Arc<PolicyRuntime> {
        &self.runtime
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
                        ChannelAction::ExternalChange,
                        ChannelAction::Sleeping,
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
        let mut signals = self.signals(now)?;
        self.note_new_channels(&channels, &mut signals, now)?;
        let peer_policies: HashMap<String, PeerPolicy> = self
            .store
            .peer_policies()?
            .into_iter()
            .map(|p| (p.peer_id.clone(), p))
            .collect();

        // One query each for the whole node, not one per channel.
        let mut states = self.store.channel_fee_states()?;
        let sleep_states = self.store.sleep_states()?;
        let mut sleep_updates = Vec::new();
        let flows = self.store.channel_flows()?;
        let broadcasts = self
            .store
            .broadcasts_by_channel_since(now.saturating_sub(DAY_SECS))?;

        let mut outcomes = Vec::new();
        let mut records = Vec::new();
        let mut statics = Vec::new();
        // Channels decided by a WASM policy, grouped by policy: one batch each.
        let mut batches: BTreeMap<String, Vec<Pending<'_>>> = BTreeMap::new();
        // Quarantined policies replaced by the fallback this cycle, by name.
        let mut replaced: HashMap<String, bool> = HashMap::new();
        for channel in channels.iter().filter(|c| c.accepts_fee_updates()) {
            // An expired policy no longer applies: the node default does.
            let peer = peer_policies
                .get(&channel.peer_id)
                .filter(|p| !p.is_expired(now));
            let strategy = peer
                .map(|p| p.strategy.clone())
                .unwrap_or(Strategy::Dynamic);
            let mut bounds = settings.bounds_for(peer);
            if strategy == Strategy::Hive && peer.and_then(|p| p.min_fee_ppm).is_none() {
                // Fleet members pay the hive fee, below the node's floor if set so.
                bounds.floor_ppm = 0;
            }
            let pending = Pending {
                channel,
                bounds,
                previous: states.remove(&channel.short_channel_id),
                strategy: strategy.as_str().to_string(),
                multipliers: peer.map(|p| (p.fee_multiplier_min, p.fee_multiplier_max)),
            };
            if strategy != Strategy::Passive
                && let Some(adopted) = external_change(&pending, now)
            {
                // Someone else moved the fee: a fresh start for the deadband too.
                if sleep_states.contains_key(&channel.short_channel_id) {
                    sleep_updates.push(SleepState {
                        short_channel_id: channel.short_channel_id.clone(),
                        ..SleepState::default()
                    });
                }
                records.push(adopted);
                continue;
            }
            match strategy {
                Strategy::Passive => outcomes.push(ChannelOutcome {
                    short_channel_id: channel.short_channel_id.clone(),
                    peer_id: channel.peer_id.clone(),
                    strategy: pending.strategy,
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
                Strategy::Static => {
                    let fee_ppm = peer.and_then(|p| p.fee_ppm).unwrap_or(channel.fee_ppm);
                    let reason = format!("static peer policy: {fee_ppm} ppm set by the operator");
                    statics.push((pending, fee_ppm, reason));
                }
                Strategy::Hive => {
                    let fee_ppm = settings.hive_fee_ppm;
                    let reason = format!("fleet member: the hive fee, {fee_ppm} ppm");
                    statics.push((pending, fee_ppm, reason));
                }
                Strategy::Dynamic => {
                    let (name, pending) = self.admit(
                        policies,
                        &settings.default_fee_policy,
                        pending,
                        &mut replaced,
                        now,
                    );
                    batches.entry(name).or_default().push(pending)
                }
                Strategy::Policy(name) => {
                    let (name, pending) = self.admit(policies, &name, pending, &mut replaced, now);
                    batches.entry(name).or_default().push(pending)
                }
            }
        }

        for (pending, fee_ppm, reason) in statics {
            let decision = FeeDecision {
                short_channel_id: pending.channel.short_channel_id.clone(),
                fee_ppm,
                step: pending.strategy.clone(),
                reason,
                state: None,
            };
            records.push(judge(settings, pending, decision, None, &broadcasts, now));
        }

        let mut shadows = self.active_fee_shadows(policies)?;
        let mut policy_failures = Vec::new();
        for (name, batch) in batches {
            let failure = match policies.get(&name).cloned() {
                None => {
                    let message =
                        format!("fee policy `{name}` is not loaded; fees are left as they are");
                    outcomes.extend(batch.iter().map(|p| failed_outcome(p, None, &message)));
                    PolicyFailureReport {
                        policy: name,
                        kind: "not_loaded".to_string(),
                        message,
                    }
                }
                Some(policy) => {
                    let inputs = self.policy_inputs(&batch, &flows, &feerates, &signals, now)?;
                    let (batch, inputs, deadbands) =
                        self.deadband(batch, inputs, &sleep_states, &mut outcomes, settings, now);
                    if batch.is_empty() {
                        continue;
                    }
                    let shadow_inputs = (!shadows.is_empty()).then(|| inputs.clone());
                    let live = self.call_policy(&policy, inputs, now).await?;
                    if let Some(shadow_inputs) = shadow_inputs {
                        self.run_shadows(&mut shadows, &batch, &shadow_inputs, &policy, &live, now)
                            .await?;
                    }
                    match live {
                        Ok(decisions) => {
                            sleep_updates.extend(deadbands);
                            for (pending, decision) in batch.into_iter().zip(decisions) {
                                records.push(judge(
                                    settings,
                                    pending,
                                    decision,
                                    Some(&policy),
                                    &broadcasts,
                                    now,
                                ));
                            }
                            continue;
                        }
                        Err(failure) => {
                            let label = policy_label(&policy);
                            let message = format!(
                                "policy {label} failed ({}): {}; fees are left as they are",
                                failure.kind, failure.message
                            );
                            outcomes.extend(
                                batch
                                    .iter()
                                    .map(|p| failed_outcome(p, Some(label.clone()), &message)),
                            );
                            failure
                        }
                    }
                }
            };
            policy_failures.push(failure);
        }
        self.record_shadows(shadows, now)?;

        // Take fees over from CLBoss for every peer about to get a new fee.
        let mut changing: Vec<&str> = records
            .iter()
            .filter(|r| r.outcome.action == ChannelAction::Applied)
            .map(|r| r.outcome.peer_id.as_str())
            .collect();
        changing.sort_unstable();
        changing.dedup();
        self.take_from_clboss(&changing, FEE_TAG).await?;

        let ids = self.store.save_decisions(
            &records
                .iter()
                .map(|r| (r.state.clone(), r.change.clone()))
                .collect::<Vec<_>>(),
            &sleep_updates,
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
                        self.store
                            .record_seen_fee(&outcome.short_channel_id, outcome.old_fee_ppm)?;
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
            policy_failure: policy_failures.first().cloned(),
            policy_failures,
            channels: outcomes,
        })
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
        dynamics: &[Pending<'_>],
        flows: &HashMap<String, ChannelFlow>,
        feerates: &FeerateInfo,
        signals: &Signals,
        now: u64,
    ) -> Result<Vec<ChannelFeeInput>, EngineError> {
        let congestion_threshold = self.flow_settings.load().congestion_threshold;
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
                let analysed = flows
                    .get(&p.channel.short_channel_id)
                    .map(|f| f.flow_state.as_str());
                let flow_state = flow_state_for(p.channel, congestion_threshold, analysed);
                let guidance = guide(
                    p.channel,
                    p.bounds,
                    flow_state,
                    feerates.current_perkw,
                    signals,
                    now,
                );
                let measured = Measured {
                    fees_earned_msat: fees.msat(),
                    forwarded_out_msat: out.msat(),
                    window_secs: now.saturating_sub(since),
                    feerates: *feerates,
                    bounds: p.bounds,
                    guidance: guidance.wit,
                    congestion_threshold,
                    flow_state: analysed,
                };
                Ok(fee_input(p.channel, p.previous.as_ref(), measured, now))
            })
            .collect()
    }

    /// Take sleeping channels out of a batch (their outcome says why) and
    /// work out each remaining channel's deadband after this decision; the
    /// caller saves those only if the policy answers, so a channel whose
    /// batch fails keeps its deadband as it was.
    fn deadband<'a>(
        &self,
        batch: Vec<Pending<'a>>,
        inputs: Vec<ChannelFeeInput>,
        sleep_states: &HashMap<String, SleepState>,
        outcomes: &mut Vec<ChannelOutcome>,
        settings: &FeeSettings,
        now: u64,
    ) -> (Vec<Pending<'a>>, Vec<ChannelFeeInput>, Vec<SleepState>) {
        let mut awake = (Vec::new(), Vec::new(), Vec::new());
        for (pending, input) in batch.into_iter().zip(inputs) {
            let scid = pending.channel.short_channel_id.as_str();
            let rate = deadband::rate_msat_per_hour(input.fees_earned_msat, input.window_secs);
            let state = sleep_states.get(scid);
            let congested = input.flow_state == revops_runtime::FlowState::Congested;
            match deadband::check(state, rate, congested, now) {
                Wakefulness::Asleep { reason } => {
                    outcomes.push(untouched_outcome(
                        &pending,
                        None,
                        &reason,
                        ChannelAction::Sleeping,
                    ));
                    continue;
                }
                Wakefulness::Woken { reason } => log::info!("{scid}: {reason}"),
                Wakefulness::Awake => {}
            }
            awake.2.push(deadband::after_decision(
                state,
                scid,
                rate,
                now,
                settings.fee_interval_secs,
            ));
            awake.0.push(pending);
            awake.1.push(input);
        }
        awake
    }

    /// Remember when channels were first seen (only those not known yet, so
    /// a steady node writes nothing here).
    fn note_new_channels(
        &self,
        channels: &[revops_core::ChannelSnapshot],
        signals: &mut Signals,
        now: u64,
    ) -> Result<(), EngineError> {
        let unseen: Vec<&str> = channels
            .iter()
            .map(|c| c.short_channel_id.as_str())
            .filter(|scid| {
                signals
                    .activity
                    .get(*scid)
                    .is_none_or(|a| a.first_seen_at.is_none())
            })
            .collect();
        if unseen.is_empty() {
            return Ok(());
        }
        self.store.mark_channels_seen(unseen.iter().copied(), now)?;
        for scid in unseen {
            signals
                .activity
                .entry(scid.to_string())
                .or_default()
                .first_seen_at = Some(now);
        }
        Ok(())
    }

    /// What guidance needs from the store, for every channel at once.
    pub(crate) fn signals(&self, now: u64) -> Result<Signals, EngineError> {
        let profit_since = now.saturating_sub(PROFIT_WINDOW_SECS);
        let reputation = if self.flow_settings.load().reputation_enabled {
            self.store.peer_reputations()?
        } else {
            HashMap::new()
        };
        Ok(Signals {
            activity: self.store.channel_activity()?,
            reputation,
            rebalances: self.store.rebalance_costs_by_channel(profit_since)?,
            earned: self.store.fees_by_channel_since(profit_since)?,
        })
    }

    /// The policy that decides for `pending`: `name`, unless that policy is
    /// quarantined, in which case the built-in fallback does and the
    /// channel's strategy label says why. `replaced` keeps each name's
    /// answer for the cycle, so the quarantine book is asked once per policy
    /// (and a due retry starts exactly once), not once per channel.
    fn admit<'c>(
        &self,
        policies: &PolicySet,
        name: &str,
        mut pending: Pending<'c>,
        replaced: &mut HashMap<String, bool>,
        now: u64,
    ) -> (String, Pending<'c>) {
        let is_replaced = *replaced
            .entry(name.to_string())
            .or_insert_with(|| self.quarantined_now(policies, name, now));
        if !is_replaced {
            return (name.to_string(), pending);
        }
        pending.strategy = format!(
            "{} ({name} quarantined; {FALLBACK_FEE_POLICY} decides)",
            pending.strategy
        );
        (FALLBACK_FEE_POLICY.to_string(), pending)
    }

    /// Whether `name` is a loaded policy other than the fallback that is
    /// quarantined at `now` (with the fallback loaded to stand in).
    fn quarantined_now(&self, policies: &PolicySet, name: &str, now: u64) -> bool {
        let Some(policy) = policies.get(name) else {
            return false;
        };
        if name == FALLBACK_FEE_POLICY || policies.get(FALLBACK_FEE_POLICY).is_none() {
            return false;
        }
        matches!(
            self.quarantine.admit(policy.as_ref(), now),
            Admission::Quarantined { .. }
        )
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
            Ok(batch) => {
                self.quarantine.record_success(policy.as_ref(), now);
                Ok(Ok(batch.decisions))
            }
            Err(failure) => {
                self.quarantine
                    .record_failure(policy.as_ref(), failure.kind.as_str(), now);
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
}
