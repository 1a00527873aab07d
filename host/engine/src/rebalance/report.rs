//! What one rebalance cycle did, as the operator reads it.
//!
//! Invariants:
//! - Every depleted channel the cycle looked at appears once in
//!   `candidates`, with the one decision that ended its turn.
//! - `counts` is derived from `candidates` and `finished` (see
//!   [`RebalanceCycleReport::count`]); it never counts anything twice.

use crate::PolicyFailureReport;
use crate::health::HealthAssessment;
use crate::rebalance::controls::Refusal;
use revops_core::Msat;
use revops_store::{BudgetUse, RebalanceEnd, RebalanceEntry, RebalanceOutcome};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RebalanceCycleReport {
    pub started_at: u64,
    pub duration_ms: u64,
    pub dry_run: bool,
    /// Why nothing was started or asked this cycle (sling absent, …).
    pub disabled: Option<String>,
    /// The node's NNLB health, assessed once at the start of the cycle.
    pub health: Option<HealthAssessment>,
    /// The budget multiplier every candidate carried: the assessment's, or
    /// the operator's override.
    pub health_multiplier: f64,
    pub capital: Option<CapitalReport>,
    /// Node-wide refusals: while any holds, no candidate is considered.
    pub capital_refusals: Vec<Refusal>,
    /// Peers sling was told never to route through (rebalancing disabled).
    pub except_peers: Option<ExceptPeersReport>,
    pub scorer_failure: Option<PolicyFailureReport>,
    /// Set when the selected scorer is quarantined and the built-in one
    /// scored instead: why.
    pub scorer_quarantined: Option<String>,
    pub candidates: Vec<CandidateDecision>,
    /// Ledger rows finished this cycle (success, timeout, failed).
    pub finished: Vec<FinishedRebalance>,
    /// How many candidates and finished rows ended each way, by key.
    pub counts: BTreeMap<String, u64>,
}

impl RebalanceCycleReport {
    pub(crate) fn new(started_at: u64, dry_run: bool) -> Self {
        RebalanceCycleReport {
            started_at,
            duration_ms: 0,
            dry_run,
            disabled: None,
            health: None,
            health_multiplier: 1.0,
            capital: None,
            capital_refusals: Vec::new(),
            except_peers: None,
            scorer_failure: None,
            scorer_quarantined: None,
            candidates: Vec::new(),
            finished: Vec::new(),
            counts: BTreeMap::new(),
        }
    }

    /// Fills `counts` from the decisions and finished rows.
    pub(crate) fn count(&mut self) {
        let mut counts = BTreeMap::new();
        for c in &self.candidates {
            *counts.entry(c.decision.key().to_string()).or_default() += 1;
        }
        for f in &self.finished {
            *counts
                .entry(format!("finished_{}", f.outcome.as_str()))
                .or_default() += 1;
        }
        for r in &self.capital_refusals {
            *counts.entry(format!("capital_{}", r.rule())).or_default() += 1;
        }
        self.counts = counts;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapitalReport {
    pub confirmed_onchain_sat: u64,
    /// Our side of every usable channel.
    pub spendable_msat: Msat,
    pub reserve_sat: u64,
    pub revenue_24h_msat: Msat,
    pub daily_budget_msat: Msat,
    pub budget_use: BudgetUse,
    pub running_jobs: u32,
    pub max_concurrent_jobs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptPeersReport {
    pub peers: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// sling refused or did not answer; the list may be stale.
    pub error: Option<String>,
}

/// One depleted channel considered as a destination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateDecision {
    pub destination: String,
    pub peer_id: String,
    /// Sources offered to the scorer (or, once started, handed to sling), best first.
    pub sources: Vec<String>,
    /// Proposed, then (once decided) the amount actually used.
    pub amount_msat: Msat,
    pub decision: Decision,
}

/// How a candidate's turn ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// A host control refused it (destination history, velocity, budget).
    Refused { refusal: Refusal, detail: String },
    /// Not a candidate the host could put to the scorer.
    Skipped { rule: SkipRule, detail: String },
    /// The scorer rejected it.
    Rejected {
        reason: String,
        expected_profit_msat: i64,
    },
    /// The scorer failed on the batch: nothing was started.
    ScorerFailed { message: String },
    /// Accepted, but no slot was left this cycle.
    NoSlot,
    /// Accepted, but an earlier start hit the budget: no more starts this cycle.
    BudgetExhausted,
    Started {
        rebalance_id: i64,
        max_fee_ppm: u32,
        expected_profit_msat: i64,
        reason: String,
    },
    DryRun {
        rebalance_id: i64,
        max_fee_ppm: u32,
        expected_profit_msat: i64,
        reason: String,
    },
    /// The ledger row was started but sling refused the job; its hold was released.
    ExecutorFailed { rebalance_id: i64, error: String },
}

impl Decision {
    /// The key it is counted under.
    pub fn key(&self) -> &'static str {
        match self {
            Decision::Refused { refusal, .. } => refusal.rule(),
            Decision::Skipped { rule, .. } => rule.as_str(),
            Decision::Rejected { .. } => "scorer_rejected",
            Decision::ScorerFailed { .. } => "scorer_failed",
            Decision::NoSlot => "no_slot",
            Decision::BudgetExhausted => "budget_exhausted",
            Decision::Started { .. } => "started",
            Decision::DryRun { .. } => "dry_run",
            Decision::ExecutorFailed { .. } => "executor_failed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipRule {
    /// The peer's rebalance mode does not allow it as a destination.
    PeerMode,
    /// Already being rebalanced (ours or the operator's sling job).
    Busy,
    /// HTLC slots nearly full: more liquidity would not route.
    Congested,
    /// Flow analysis says it fills by itself.
    Sink,
    /// Less is needed than the smallest rebalance.
    BelowMinAmount,
    NoSources,
    /// The verdict left nothing to pay for routing or nothing to move.
    FeeCap,
}

impl SkipRule {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipRule::PeerMode => "peer_mode",
            SkipRule::Busy => "busy",
            SkipRule::Congested => "congested",
            SkipRule::Sink => "sink",
            SkipRule::BelowMinAmount => "below_min_amount",
            SkipRule::NoSources => "no_sources",
            SkipRule::FeeCap => "fee_cap",
        }
    }
}

/// A ledger row finished by this cycle's monitoring.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinishedRebalance {
    pub rebalance_id: i64,
    pub to_channel: String,
    pub outcome: RebalanceOutcome,
    pub moved_msat: Msat,
    pub fee_msat: Option<Msat>,
    pub fee_is_estimate: bool,
    pub reason: String,
}

impl FinishedRebalance {
    /// The report line for `row`, finished as `end` says.
    pub(crate) fn of(row: &RebalanceEntry, end: RebalanceEnd) -> Self {
        FinishedRebalance {
            rebalance_id: row.id,
            to_channel: row.to_channel.clone(),
            outcome: end.outcome,
            moved_msat: end.moved_msat,
            fee_msat: end.fee_msat,
            fee_is_estimate: end.fee_is_estimate,
            reason: end.reason,
        }
    }
}
