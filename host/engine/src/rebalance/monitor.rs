//! Watching running rebalances: each ledger row ends as a success when the
//! destination's local balance rose since it started, as a timeout when it
//! ran too long, or as a failure when sling no longer runs its job.
//!
//! Invariants:
//! - Success is judged on lightningd's balance, never on sling's words; the
//!   fee is then sling's amount-weighted ppm × the rise, marked an estimate
//!   (sling reports no per-job fee). Without a ppm the job's cap is used: the
//!   job never pays more than that.
//! - A finished row's job is stopped and deleted (the rebalancer is
//!   tactical: it does not peg a channel); a failed stop or delete is
//!   logged and noted in the reason but never keeps the row running, so the
//!   budget hold is always settled.
//! - Without sling only timeouts are applied: they need no executor call.

use crate::EngineError;
use crate::rebalance::cycle::RebalanceEngine;
use crate::rebalance::report::FinishedRebalance;
use revops_core::{ChannelSnapshot, Clock, JobOverview, Msat, Node, RebalanceExecutor, TaskState};
use revops_store::{RebalanceEnd, RebalanceEntry, RebalanceOutcome};

impl<N: Node + RebalanceExecutor, C: Clock> RebalanceEngine<N, C> {
    /// Finishes every running row that is over; `jobs` is sling's overview
    /// (`None` when sling is absent or did not answer).
    pub(crate) async fn monitor(
        &self,
        channels: &[ChannelSnapshot],
        jobs: Option<&[JobOverview]>,
        timeout_secs: u64,
        now: u64,
    ) -> Result<Vec<FinishedRebalance>, EngineError> {
        let mut finished = Vec::new();
        for row in self.store.running_rebalances()? {
            let Some(end) = self
                .judge_running(&row, channels, jobs, timeout_secs, now)
                .await
            else {
                continue;
            };
            if self.store.finish_rebalance(row.id, &end, now)? {
                log::info!(
                    "rebalance #{} into {} ended: {} ({})",
                    row.id,
                    row.to_channel,
                    end.outcome.as_str(),
                    end.reason
                );
                finished.push(FinishedRebalance {
                    rebalance_id: row.id,
                    to_channel: row.to_channel.clone(),
                    outcome: end.outcome,
                    moved_msat: end.moved_msat,
                    fee_msat: end.fee_msat,
                    fee_is_estimate: end.fee_is_estimate,
                    reason: end.reason,
                });
            }
        }
        Ok(finished)
    }

    /// How a running row ended, or `None` while it is still going.
    async fn judge_running(
        &self,
        row: &RebalanceEntry,
        channels: &[ChannelSnapshot],
        jobs: Option<&[JobOverview]>,
        timeout_secs: u64,
        now: u64,
    ) -> Option<RebalanceEnd> {
        let scid = row.to_channel.as_str();
        let channel = channels.iter().find(|c| c.short_channel_id == scid);
        let rise_msat = match (row.start_local_msat, channel) {
            (Some(start), Some(c)) if c.local_msat > start => {
                Some(c.local_msat.msat() - start.msat())
            }
            _ => None,
        };
        let timed_out = now >= row.started_at.saturating_add(timeout_secs);
        let Some(jobs) = jobs else {
            return timed_out.then(|| {
                end(
                    RebalanceOutcome::Timeout,
                    0,
                    None,
                    format!(
                        "no success within {timeout_secs} s (sling unavailable); hold released"
                    ),
                )
            });
        };
        if let Some(moved_msat) = rise_msat {
            let (ppm, note) = self.close_job(scid, row.max_fee_ppm, true).await;
            let fee_msat = (u128::from(moved_msat) * u128::from(ppm) / 1_000_000) as u64;
            let mut e = end(
                RebalanceOutcome::Success,
                moved_msat,
                Some(Msat(fee_msat)),
                format!(
                    "destination local balance rose by {moved_msat} msat; fee estimated at {ppm} ppm{note}"
                ),
            );
            e.fee_is_estimate = true;
            return Some(e);
        }
        let reason = if channel.is_none() {
            Some((
                RebalanceOutcome::Failed,
                "the destination channel is no longer listed".to_string(),
            ))
        } else if timed_out {
            Some((
                RebalanceOutcome::Timeout,
                format!("local balance did not rise within {timeout_secs} s"),
            ))
        } else {
            match jobs.iter().find(|j| j.short_channel_id == scid) {
                None => Some((
                    RebalanceOutcome::Failed,
                    "sling lists no job for the channel any more".to_string(),
                )),
                Some(job) => job
                    .tasks
                    .iter()
                    .find(|t| matches!(t.state, TaskState::Error | TaskState::Stopped))
                    .map(|t| {
                        (
                            RebalanceOutcome::Failed,
                            format!("sling task {} is {}", t.task_number, t.state),
                        )
                    }),
            }
        };
        let (outcome, reason) = reason?;
        let (_, note) = self.close_job(scid, row.max_fee_ppm, false).await;
        Some(end(outcome, 0, None, format!("{reason}{note}")))
    }

    /// Stops and deletes the channel's job; with `want_fee`, reads sling's
    /// weighted fee ppm in between. Returns the ppm and a note on failures.
    async fn close_job(&self, scid: &str, cap_ppm: u32, want_fee: bool) -> (u64, String) {
        let mut note = String::new();
        if let Err(e) = self.node.stop(scid).await {
            log::warn!("sling-stop {scid} failed: {e}");
            note.push_str(&format!("; stop failed: {e}"));
        }
        let mut ppm = u64::from(cap_ppm);
        if want_fee {
            match self.node.stats(scid).await {
                Ok(stats) => {
                    let weighted = stats
                        .overview
                        .map(|o| o.weighted_fee_ppm)
                        .filter(|p| *p > 0)
                        .or(stats.successes.map(|s| s.fee_ppm_weighted_avg));
                    match weighted {
                        Some(p) => ppm = p,
                        None => note.push_str("; sling reports no fee, the job's cap is assumed"),
                    }
                }
                Err(e) => note.push_str(&format!(
                    "; sling-stats failed ({e}), the job's cap is assumed"
                )),
            }
        }
        if let Err(e) = self.node.delete(scid).await {
            log::warn!("sling-deletejob {scid} failed: {e}");
            note.push_str(&format!("; delete failed: {e}"));
        }
        (ppm, note)
    }
}

fn end(
    outcome: RebalanceOutcome,
    moved_msat: u64,
    fee_msat: Option<Msat>,
    reason: String,
) -> RebalanceEnd {
    RebalanceEnd {
        outcome,
        moved_msat: Msat(moved_msat),
        fee_msat,
        fee_is_estimate: false,
        reason,
    }
}
