//! Launching one decided rebalance, shared by the cycle and the manual
//! `revenue-rebalance`: ledger row and budget hold first, then sling.
//!
//! Invariants:
//! - The row (and its hold) is written before sling is told; if sling then
//!   refuses, the row is finished as failed at once, releasing the hold, and
//!   the half-made job is deleted so it is never mistaken for the operator's.
//! - Dry-run writes a `dry_run` row and calls nothing on the executor.
//! - The budget check and the hold are one `BEGIN IMMEDIATE` transaction
//!   (`Store::start_rebalance`): whatever raced, the budget is never exceeded.

use crate::EngineError;
use crate::rebalance::controls::Refusal;
use crate::rebalance::cycle::RebalanceEngine;
use crate::rebalance::report::Decision;
use crate::rebalance::settings::RebalanceSettings;
use revops_core::{ChannelSnapshot, Clock, JobSpec, Msat, Node, RebalanceExecutor};
use revops_store::{NewRebalance, RebalanceEnd, RebalanceOutcome};

impl<N: Node + RebalanceExecutor, C: Clock> RebalanceEngine<N, C> {
    /// Records and (unless dry-run) starts `new` against `budget_msat`.
    /// `channels` is the listing the decision was made on: the destination's
    /// balance there is the baseline its success is judged against.
    pub(crate) async fn launch(
        &self,
        settings: &RebalanceSettings,
        channels: &[ChannelSnapshot],
        new: &NewRebalance,
        reason: &str,
        budget_msat: Msat,
    ) -> Result<Decision, EngineError> {
        if settings.dry_run {
            let id = self.store.record_dry_run_rebalance(new, reason)?;
            return Ok(Decision::DryRun {
                rebalance_id: id,
                max_fee_ppm: new.max_fee_ppm,
                expected_profit_msat: new.expected_profit_msat,
                reason: reason.to_string(),
            });
        }
        let id = match self.store.start_rebalance(new, budget_msat)? {
            Ok(id) => id,
            Err(used) => {
                let refusal = Refusal::Budget {
                    committed_msat: used.committed_msat(),
                    max_fee_msat: new.max_fee_msat(),
                    budget_msat,
                };
                return Ok(Decision::Refused {
                    detail: refusal.to_string(),
                    refusal,
                });
            }
        };
        if let Some(destination) = channels
            .iter()
            .find(|c| c.short_channel_id == new.to_channel)
        {
            self.store
                .set_rebalance_start_local(id, destination.local_msat)?;
        }
        let spec = JobSpec {
            short_channel_id: new.to_channel.clone(),
            amount_msat: new.amount_msat,
            max_ppm: new.max_fee_ppm,
            candidates: new.from_channels.clone(),
            out_ppm: None,
            target_ratio: Some(settings.target_ratio),
            max_hops: Some(settings.max_hops),
        };
        let sent = match self.node.create_job(&spec).await {
            Ok(()) => self.node.start(&spec.short_channel_id).await.map(|_| ()),
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => Ok(Decision::Started {
                rebalance_id: id,
                max_fee_ppm: new.max_fee_ppm,
                expected_profit_msat: new.expected_profit_msat,
                reason: reason.to_string(),
            }),
            Err(e) => {
                log::warn!(
                    "sling refused the rebalance into {}: {e}",
                    spec.short_channel_id
                );
                let _ = self.node.delete(&spec.short_channel_id).await;
                let end = RebalanceEnd {
                    outcome: RebalanceOutcome::Failed,
                    moved_msat: Msat(0),
                    fee_msat: None,
                    fee_is_estimate: false,
                    reason: format!("sling refused the job: {e}"),
                };
                self.store.finish_rebalance(id, &end, self.now())?;
                Ok(Decision::ExecutorFailed {
                    rebalance_id: id,
                    error: e.to_string(),
                })
            }
        }
    }
}
