//! Shadow scorers: a candidate rebalance scorer answers the same candidates
//! as the live one every check, and is never acted on.
//!
//! Invariants:
//! - A shadow's verdicts never reach `start_accepted`, the ledger, the
//!   budget or sling: they go to `shadow_verdicts` only.
//! - It sees exactly the candidates the live scorer got (after every host
//!   gate), in the same order.
//! - Its failure is recorded as its answer and counted in its statistics;
//!   it never quarantines anything and never changes what starts.

use crate::EngineError;
use crate::outcome::PolicyFailureReport;
use crate::policy_set::PolicySet;
use crate::rebalance::cycle::{RebalanceEngine, Scored};
use arc_swap::ArcSwap;
use revops_core::{Clock, Node, RebalanceExecutor};
use revops_runtime::{LoadedPolicy, RebalanceCandidate, RebalanceVerdict};
use revops_store::{ShadowRun, ShadowVerdict, VerdictSummary};
use std::sync::Arc;

/// The role string shadow runs of scorers are stored under.
pub const SCORER_ROLE: &str = "rebalance-scorer";

fn summary(v: &RebalanceVerdict) -> VerdictSummary {
    VerdictSummary {
        accept: v.accept,
        amount_msat: v.amount_msat,
        max_fee_ppm: v.max_fee_ppm,
        expected_profit_msat: v.expected_profit_msat,
    }
}

impl<N: Node + RebalanceExecutor, C: Clock> RebalanceEngine<N, C> {
    /// Where shadowed scorers are looked up by name (the fee engine's set,
    /// which holds every loaded policy).
    pub fn set_policy_book(&self, book: Arc<ArcSwap<PolicySet>>) {
        self.policy_book.store(Some(book));
    }

    /// The active scorer shadow runs whose policy is loaded.
    pub(crate) fn scorer_shadows(
        &self,
    ) -> Result<Vec<(ShadowRun, Arc<LoadedPolicy>)>, EngineError> {
        let Some(book) = self.policy_book.load_full() else {
            return Ok(Vec::new());
        };
        let policies = book.load();
        Ok(self
            .store
            .active_shadows()?
            .into_iter()
            .filter(|run| run.role == SCORER_ROLE)
            .filter_map(|run| {
                let policy = policies.get(&run.policy_name).cloned()?;
                Some((run, policy))
            })
            .collect())
    }

    /// Runs every shadow scorer on `candidates` and records its verdicts
    /// beside the live scorer's `live` answer.
    pub(crate) async fn run_scorer_shadows(
        &self,
        shadows: Vec<(ShadowRun, Arc<LoadedPolicy>)>,
        live_scorer: &Arc<LoadedPolicy>,
        candidates: &[RebalanceCandidate],
        live: &Result<Vec<Scored>, (Vec<RebalanceCandidate>, PolicyFailureReport)>,
        now: u64,
    ) -> Result<(), EngineError> {
        let live_label = format!("{}@{}", live_scorer.name(), live_scorer.version());
        for (run, policy) in shadows {
            if policy.hash() == live_scorer.hash() {
                continue;
            }
            let runtime = Arc::clone(&self.runtime);
            let call_policy = Arc::clone(&policy);
            let inputs = candidates.to_vec();
            let answer = tokio::task::spawn_blocking(move || {
                runtime.score_rebalances(&call_policy, &inputs)
            })
            .await
            .map_err(|e| EngineError::Join(e.to_string()))?;
            let rows: Vec<ShadowVerdict> = candidates
                .iter()
                .enumerate()
                .map(|(i, candidate)| {
                    let (shadow, reason, kind) = match &answer {
                        Ok(batch) => {
                            let v = &batch.verdicts[i];
                            (Some(summary(v)), v.reason.clone(), None)
                        }
                        Err(failure) => (
                            None,
                            failure.message.clone(),
                            Some(failure.kind.as_str().to_string()),
                        ),
                    };
                    ShadowVerdict {
                        cycle_at: now,
                        destination: candidate.destination.short_channel_id.clone(),
                        shadow_version: policy.version().to_string(),
                        live_policy: live_label.clone(),
                        proposed_msat: candidate.amount_msat,
                        live: live
                            .as_ref()
                            .ok()
                            .and_then(|scored| scored.get(i))
                            .map(|s| summary(&s.verdict)),
                        shadow,
                        shadow_reason: reason,
                        shadow_failure_kind: kind,
                    }
                })
                .collect();
            if let Err(failure) = &answer {
                log::info!(
                    "shadow scorer {}@{} failed beside {live_label} ({}): {}",
                    policy.name(),
                    policy.version(),
                    failure.kind,
                    failure.message
                );
            }
            self.store.record_shadow_verdicts(run.id, &rows, now)?;
        }
        Ok(())
    }
}
