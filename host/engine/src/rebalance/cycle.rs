//! The rebalance engine and one rebalance cycle: settle running rebalances,
//! check capital, pick candidates, ask the scorer, start what it accepts.
//!
//! Invariants:
//! - One cycle at a time (`cycle_lock`): two cycles could otherwise both
//!   see a free slot for the same destination.
//! - Without sling nothing is asked or started: the report says why.
//! - A scorer failure starts nothing and is reported (and stored like a
//!   fee-policy failure); the cycle itself still succeeds.
//! - The ledger row (and its budget hold) is written before sling is told;
//!   if sling then refuses, the row is finished as failed, releasing the hold.
//! - Every cap only lowers what the scorer asked for: max fee ppm at the
//!   destination's fee, amount at the candidate's.
//! - Dry-run writes `dry_run` rows and calls nothing on the executor that
//!   changes it (no job, start, stop, delete or except list).
//! - Health is assessed once per cycle, before anything else (so every
//!   report carries it); every candidate of the cycle carries the same
//!   multiplier, clamped to [0.5, 2.5] (see [`crate::health`]).

use crate::EngineError;
use crate::health::{HealthAssessment, HealthSource, LocalHealth, clamp_multiplier};
use crate::outcome::PolicyFailureReport;
use crate::policy_set::PolicySet;
use crate::quarantine::{Admission, Quarantine};
use crate::rebalance::candidates::{
    SelectionInputs, may_be_destination, may_be_source, select, usable,
};
use crate::rebalance::controls::{
    Refusal, cap_max_fee_ppm, check_slots, check_wallet_reserve, daily_budget_msat,
};
use crate::rebalance::report::{
    CandidateDecision, CapitalReport, Decision, ExceptPeersReport, RebalanceCycleReport, SkipRule,
};
use crate::rebalance::settings::{RebalanceSettings, WalletFunds};
use arc_swap::{ArcSwap, ArcSwapOption};
use revops_core::{ChannelSnapshot, Clock, ExecutorError, Msat, Node, RebalanceExecutor};
use revops_runtime::{LoadedPolicy, PolicyRuntime, RebalanceCandidate, RebalanceVerdict};
use revops_store::{NewRebalance, PolicyFailureRow, Store};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use revops_store::DAY_SECS;

pub struct RebalanceEngine<N: Node + RebalanceExecutor, C: Clock> {
    pub(crate) node: Arc<N>,
    clock: C,
    pub(crate) store: Arc<Store>,
    pub(crate) runtime: Arc<PolicyRuntime>,
    scorer: ArcSwap<LoadedPolicy>,
    /// Every loaded policy (the fee engine's set), for shadow scorers.
    pub(crate) policy_book: ArcSwapOption<ArcSwap<PolicySet>>,
    /// Scores while the selected scorer is quarantined (the built-in).
    fallback_scorer: ArcSwapOption<LoadedPolicy>,
    /// Shared with the fee engine, so `revenue-wasm status` sees one book.
    quarantine: ArcSwap<Quarantine>,
    settings: ArcSwap<RebalanceSettings>,
    /// Where the NNLB health comes from ([`LocalHealth`] unless replaced).
    pub(crate) health_source: ArcSwap<Arc<dyn HealthSource>>,
    /// The latest assessment (cycle or [`RebalanceEngine::assess_health`]).
    pub(crate) last_health: ArcSwapOption<HealthAssessment>,
    /// One rebalance cycle at a time (timer and RPC may race).
    pub(crate) cycle_lock: tokio::sync::Mutex<()>,
}

/// A scorer verdict with the candidate it answers.
pub(crate) struct Scored {
    pub(crate) candidate: RebalanceCandidate,
    pub(crate) verdict: RebalanceVerdict,
}

impl<N: Node + RebalanceExecutor, C: Clock> RebalanceEngine<N, C> {
    pub fn new(
        node: Arc<N>,
        clock: C,
        store: Arc<Store>,
        runtime: Arc<PolicyRuntime>,
        scorer: Arc<LoadedPolicy>,
        settings: RebalanceSettings,
    ) -> Self {
        RebalanceEngine {
            node,
            clock,
            store,
            runtime,
            scorer: ArcSwap::new(scorer),
            fallback_scorer: ArcSwapOption::empty(),
            policy_book: ArcSwapOption::empty(),
            quarantine: ArcSwap::from_pointee(Quarantine::default()),
            settings: ArcSwap::from_pointee(settings),
            health_source: ArcSwap::from_pointee(Arc::new(LocalHealth) as Arc<dyn HealthSource>),
            last_health: ArcSwapOption::empty(),
            cycle_lock: tokio::sync::Mutex::new(()),
        }
    }

    pub fn settings(&self) -> Arc<RebalanceSettings> {
        self.settings.load_full()
    }

    pub fn set_settings(&self, settings: RebalanceSettings) {
        self.settings.store(Arc::new(settings));
    }

    pub fn scorer(&self) -> Arc<LoadedPolicy> {
        self.scorer.load_full()
    }

    pub fn set_scorer(&self, scorer: Arc<LoadedPolicy>) {
        self.scorer.store(scorer);
    }

    /// Quarantine the selected scorer in `quarantine` (the fee engine's
    /// book) and let `fallback` score while it is.
    pub fn set_quarantine(&self, quarantine: Arc<Quarantine>, fallback: Arc<LoadedPolicy>) {
        self.quarantine.store(quarantine);
        self.fallback_scorer.store(Some(fallback));
    }

    /// The scorer to use at `now`: the selected one unless it is
    /// quarantined and a different fallback exists (then the fallback and
    /// why).
    pub(crate) fn effective_scorer(&self, now: u64) -> (Arc<LoadedPolicy>, Option<String>) {
        let scorer = self.scorer.load_full();
        let Some(fallback) = self.fallback_scorer.load_full() else {
            return (scorer, None);
        };
        if fallback.hash() == scorer.hash() {
            return (scorer, None);
        }
        match self.quarantine.load().admit(scorer.as_ref(), now) {
            Admission::Call | Admission::Retry => (scorer, None),
            Admission::Quarantined { reason, .. } => (
                fallback.clone(),
                Some(format!("{reason}; {} scores meanwhile", fallback.name())),
            ),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn node(&self) -> &Arc<N> {
        &self.node
    }

    /// The engine's clock (simulated time in `simulate`), in Unix seconds.
    pub fn now(&self) -> u64 {
        self.clock.now_secs()
    }

    /// Run one rebalance cycle now. `wallet` is read by the caller (the
    /// `Node` trait has no `listfunds`).
    pub async fn run_rebalance_cycle(
        &self,
        wallet: WalletFunds,
    ) -> Result<RebalanceCycleReport, EngineError> {
        let _one_at_a_time = self.cycle_lock.lock().await;
        let settings = self.settings.load_full();
        let started = Instant::now();
        let now = self.clock.now_secs();
        let mut report = RebalanceCycleReport::new(now, settings.dry_run);
        let (scorer, quarantined) = self.effective_scorer(now);
        report.scorer_quarantined = quarantined;
        self.cycle(&settings, &scorer, wallet, now, &mut report)
            .await?;
        report.count();
        report.duration_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    async fn cycle(
        &self,
        settings: &RebalanceSettings,
        scorer: &Arc<LoadedPolicy>,
        wallet: WalletFunds,
        now: u64,
        report: &mut RebalanceCycleReport,
    ) -> Result<(), EngineError> {
        let channels = self.node.list_channels().await?;
        // Health once per cycle; every candidate carries the same multiplier.
        let health = self.assess(&channels, now)?;
        let health_multiplier = settings
            .health_multiplier_override
            .map_or(health.budget_multiplier, clamp_multiplier);
        report.health = Some(health);
        report.health_multiplier = health_multiplier;
        // The overview doubles as the probe for sling: it changes nothing.
        let jobs = match self.node.overview().await {
            Ok(jobs) => Some(jobs),
            Err(ExecutorError::SlingAbsent { .. }) => {
                report.disabled = Some("sling is not running (plugin list)".to_string());
                None
            }
            Err(e) => {
                report.disabled = Some(format!("sling did not answer: {e}"));
                None
            }
        };
        let timeout_secs = settings.capital.reservation_timeout_secs;
        report.finished = self
            .monitor(&channels, jobs.as_deref(), timeout_secs, now)
            .await?;
        let Some(jobs) = jobs else {
            return Ok(());
        };

        let modes: HashMap<String, _> = self
            .store
            .peer_policies()?
            .into_iter()
            .filter(|p| !p.is_expired(now))
            .map(|p| (p.peer_id, p.rebalance_mode))
            .collect();
        if !settings.dry_run {
            report.except_peers = Some(self.sync_except_peers(&modes).await);
        }

        let running = self.store.running_rebalances()?;
        let running_jobs = u32::try_from(running.len()).unwrap_or(u32::MAX);
        let Some(budget_msat) =
            self.capital(settings, wallet, &channels, running_jobs, now, report)?
        else {
            return Ok(());
        };

        let mut busy: HashSet<String> = running.into_iter().map(|r| r.to_channel).collect();
        // A sling job we did not start is the operator's: never replace it.
        // Jobs of rows finished above were deleted since the overview was read.
        let closed: HashSet<&str> = report
            .finished
            .iter()
            .map(|f| f.to_channel.as_str())
            .collect();
        busy.extend(
            jobs.into_iter()
                .map(|j| j.short_channel_id)
                .filter(|scid| !closed.contains(scid.as_str())),
        );
        let flows = self.store.channel_flows()?;
        let histories = self.store.destination_histories()?;
        // Only Kelly sizing reads the reputation.
        let reputation = if settings.reputation_enabled && settings.kelly_fraction.is_some() {
            self.store.peer_reputations()?
        } else {
            HashMap::new()
        };
        let selection = select(
            settings,
            &SelectionInputs {
                channels: &channels,
                flows: &flows,
                modes: &modes,
                histories: &histories,
                busy: &busy,
                reputation: &reputation,
                health_multiplier,
                now,
            },
        );
        report.candidates = selection.skipped;
        if selection.candidates.is_empty() {
            return Ok(());
        }
        let shadows = self.scorer_shadows()?;
        let shadow_candidates = (!shadows.is_empty()).then(|| selection.candidates.clone());
        let live = self.score(scorer, selection.candidates, now).await?;
        if let Some(candidates) = shadow_candidates {
            self.run_scorer_shadows(shadows, scorer, &candidates, &live, now)
                .await?;
        }
        let scored = match live {
            Ok(scored) => scored,
            Err((candidates, failure)) => {
                report.candidates.extend(candidates.iter().map(|c| {
                    decided(
                        c,
                        Decision::ScorerFailed {
                            message: failure.message.clone(),
                        },
                    )
                }));
                report.scorer_failure = Some(failure);
                return Ok(());
            }
        };
        let slots = settings
            .capital
            .max_concurrent_jobs
            .saturating_sub(running_jobs);
        self.start_accepted(settings, &channels, scored, slots, budget_msat, now, report)
            .await?;
        Ok(())
    }

    /// The node-wide controls; `None` (with the refusals reported) when
    /// nothing may start this cycle, else the daily budget.
    pub(crate) fn capital(
        &self,
        settings: &RebalanceSettings,
        wallet: WalletFunds,
        channels: &[ChannelSnapshot],
        running_jobs: u32,
        now: u64,
        report: &mut RebalanceCycleReport,
    ) -> Result<Option<Msat>, EngineError> {
        let capital = &settings.capital;
        let spendable_msat = Msat(
            channels
                .iter()
                .filter(|c| usable(c))
                .map(|c| c.local_msat.msat())
                .sum(),
        );
        let revenue_24h_msat = Msat(
            self.store
                .fees_by_channel_since(now.saturating_sub(DAY_SECS))?
                .values()
                .map(|m| m.msat())
                .sum(),
        );
        let budget_msat = daily_budget_msat(capital, revenue_24h_msat);
        let budget_use = self.store.budget_use(now)?;
        report.capital = Some(CapitalReport {
            confirmed_onchain_sat: wallet.confirmed_onchain_sat,
            spendable_msat,
            reserve_sat: capital.min_wallet_reserve_sat,
            revenue_24h_msat,
            daily_budget_msat: budget_msat,
            budget_use,
            running_jobs,
            max_concurrent_jobs: capital.max_concurrent_jobs,
        });
        let mut refusals = Vec::new();
        if let Err(r) = check_wallet_reserve(capital, wallet.confirmed_onchain_sat, spendable_msat)
        {
            refusals.push(r);
        }
        if let Err(r) = check_slots(capital, running_jobs) {
            refusals.push(r);
        }
        if budget_use.committed_msat() >= budget_msat {
            refusals.push(Refusal::Budget {
                committed_msat: budget_use.committed_msat(),
                max_fee_msat: Msat(0),
                budget_msat,
            });
        }
        if refusals.is_empty() {
            return Ok(Some(budget_msat));
        }
        report.capital_refusals = refusals;
        Ok(None)
    }

    /// Tells sling to avoid every peer whose rebalancing is disabled.
    async fn sync_except_peers(
        &self,
        modes: &HashMap<String, revops_store::RebalanceMode>,
    ) -> ExceptPeersReport {
        let mut peers: Vec<String> = modes
            .iter()
            .filter(|(_, m)| !may_be_destination(**m) && !may_be_source(**m))
            .map(|(p, _)| p.clone())
            .collect();
        peers.sort();
        match self.node.set_except_peers(&peers).await {
            Ok(change) => ExceptPeersReport {
                peers,
                added: change.added,
                removed: change.removed,
                error: None,
            },
            Err(e) => {
                log::warn!("could not update sling's except list: {e}");
                ExceptPeersReport {
                    peers,
                    added: Vec::new(),
                    removed: Vec::new(),
                    error: Some(e.to_string()),
                }
            }
        }
    }

    /// One scorer batch off the async threads. `Ok(Err(..))` is the policy's
    /// failure, handed back with the candidates it failed on.
    pub(crate) async fn score(
        &self,
        scorer: &Arc<LoadedPolicy>,
        candidates: Vec<RebalanceCandidate>,
        now: u64,
    ) -> Result<Result<Vec<Scored>, (Vec<RebalanceCandidate>, PolicyFailureReport)>, EngineError>
    {
        let runtime = Arc::clone(&self.runtime);
        let policy = Arc::clone(scorer);
        let (candidates, result) = tokio::task::spawn_blocking(move || {
            let result = runtime.score_rebalances(&policy, &candidates);
            (candidates, result)
        })
        .await
        .map_err(|e| EngineError::Join(e.to_string()))?;
        let quarantine = self.quarantine.load();
        match result {
            Ok(batch) => {
                quarantine.record_success(scorer.as_ref(), now);
                Ok(Ok(candidates
                    .into_iter()
                    .zip(batch.verdicts)
                    .map(|(candidate, verdict)| Scored { candidate, verdict })
                    .collect()))
            }
            Err(failure) => {
                quarantine.record_failure(scorer.as_ref(), failure.kind.as_str(), now);
                let row = PolicyFailureRow {
                    timestamp: now,
                    policy_name: scorer.name().to_string(),
                    policy_version: scorer.version().to_string(),
                    kind: failure.kind.as_str().to_string(),
                    message: failure.message.clone(),
                    channels: u32::try_from(candidates.len()).unwrap_or(u32::MAX),
                };
                log::warn!(
                    "rebalance scorer {}@{} failed on {} candidates ({}): {}; nothing started",
                    row.policy_name,
                    row.policy_version,
                    row.channels,
                    row.kind,
                    row.message
                );
                self.store.record_policy_failure(&row)?;
                let report = PolicyFailureReport {
                    policy: format!("{}@{}", row.policy_name, row.policy_version),
                    kind: row.kind,
                    message: row.message,
                };
                Ok(Err((candidates, report)))
            }
        }
    }

    /// Starts (or, dry-run, records) accepted verdicts, best expected profit
    /// first, while slots and budget last.
    #[allow(clippy::too_many_arguments)]
    async fn start_accepted(
        &self,
        settings: &RebalanceSettings,
        channels: &[ChannelSnapshot],
        mut scored: Vec<Scored>,
        mut slots: u32,
        budget_msat: Msat,
        now: u64,
        report: &mut RebalanceCycleReport,
    ) -> Result<(), EngineError> {
        scored.sort_by_key(|s| {
            (
                !s.verdict.accept,
                std::cmp::Reverse(s.verdict.expected_profit_msat),
            )
        });
        let mut budget_exhausted = false;
        for Scored { candidate, verdict } in scored {
            let decision = if !verdict.accept {
                Decision::Rejected {
                    reason: verdict.reason.clone(),
                    expected_profit_msat: verdict.expected_profit_msat,
                }
            } else if budget_exhausted {
                Decision::BudgetExhausted
            } else if slots == 0 {
                Decision::NoSlot
            } else {
                let (decision, sources, amount) = self
                    .start_one(settings, channels, &candidate, &verdict, budget_msat, now)
                    .await?;
                match &decision {
                    Decision::Refused { .. } => budget_exhausted = true,
                    Decision::Skipped { .. } => {}
                    // A refused job also takes its slot: sling failing once
                    // this cycle will likely fail the next start too.
                    _ => slots -= 1,
                }
                report.candidates.push(CandidateDecision {
                    sources,
                    amount_msat: amount,
                    ..decided(&candidate, decision)
                });
                continue;
            };
            report.candidates.push(decided(&candidate, decision));
        }
        Ok(())
    }

    /// One accepted verdict: caps, ledger row, then sling.
    async fn start_one(
        &self,
        settings: &RebalanceSettings,
        channels: &[ChannelSnapshot],
        candidate: &RebalanceCandidate,
        verdict: &RebalanceVerdict,
        budget_msat: Msat,
        now: u64,
    ) -> Result<(Decision, Vec<String>, Msat), EngineError> {
        let destination = &candidate.destination;
        let max_fee_ppm = cap_max_fee_ppm(verdict.max_fee_ppm, destination.fee_ppm);
        // sling moves whole satoshi.
        let amount_msat = Msat(verdict.amount_msat.min(candidate.amount_msat) / 1000 * 1000);
        let sources: Vec<String> = if verdict.sources.is_empty() {
            candidate
                .sources
                .iter()
                .map(|s| s.short_channel_id.clone())
                .collect()
        } else {
            verdict.sources.clone()
        };
        if max_fee_ppm == 0 || amount_msat.msat() == 0 {
            let detail =
                format!("capped to {max_fee_ppm} ppm for {amount_msat}: nothing left to do");
            return Ok((
                Decision::Skipped {
                    rule: SkipRule::FeeCap,
                    detail,
                },
                sources,
                amount_msat,
            ));
        }
        let new = NewRebalance {
            started_at: now,
            to_channel: destination.short_channel_id.clone(),
            from_channels: sources.clone(),
            amount_msat,
            max_fee_ppm,
            expected_profit_msat: verdict.expected_profit_msat,
        };
        let decision = self
            .launch(settings, channels, &new, &verdict.reason, budget_msat)
            .await?;
        Ok((decision, sources, amount_msat))
    }
}

fn decided(candidate: &RebalanceCandidate, decision: Decision) -> CandidateDecision {
    CandidateDecision {
        destination: candidate.destination.short_channel_id.clone(),
        peer_id: candidate.destination.peer_id.clone(),
        sources: candidate
            .sources
            .iter()
            .map(|s| s.short_channel_id.clone())
            .collect(),
        amount_msat: Msat(candidate.amount_msat),
        decision,
    }
}
