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
//! - Start-up reconciliation is the same judgement: a row whose job sling
//!   no longer lists is finished (its hold released); a row whose job still
//!   runs is resumed, watched by the next cycles as before the restart.
//! - Clearing reservations stops and deletes the rows' jobs first: a hold
//!   is never released while its job may still spend.

use crate::EngineError;
use crate::rebalance::cycle::RebalanceEngine;
use crate::rebalance::report::FinishedRebalance;
use revops_core::{ChannelSnapshot, Clock, JobOverview, Msat, Node, RebalanceExecutor, TaskState};
use revops_store::{RebalanceEnd, RebalanceEntry, RebalanceOutcome};
use serde::Serialize;

/// What `revenue-clear-reservations` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClearedReservations {
    /// Rows that had already ended (settled as the monitor would).
    pub finished: Vec<FinishedRebalance>,
    /// Rows stopped by the operator: their jobs stopped and deleted, holds released.
    pub cleared: Vec<FinishedRebalance>,
    pub released_msat: Msat,
}

impl<N: Node + RebalanceExecutor, C: Clock> RebalanceEngine<N, C> {
    /// Settles the ledger against sling at start-up (or whenever asked),
    /// starting nothing. Returns the rows it finished, and whether sling
    /// answered (without it only timeouts can be judged).
    pub async fn reconcile(&self) -> Result<(Vec<FinishedRebalance>, bool), EngineError> {
        let _one_at_a_time = self.cycle_lock.lock().await;
        let channels = self.node.list_channels().await?;
        let jobs = match self.node.overview().await {
            Ok(jobs) => Some(jobs),
            Err(e) => {
                log::debug!("reconciling rebalances without sling: {e}");
                None
            }
        };
        let timeout_secs = self.settings().capital.reservation_timeout_secs;
        let finished = self
            .monitor(&channels, jobs.as_deref(), timeout_secs, self.now())
            .await?;
        Ok((finished, jobs.is_some()))
    }

    /// Stops sling on every running rebalance (lightningd is shutting
    /// down). Rows stay running: the start-up reconciliation judges them.
    /// Returns the channels whose stop sling acknowledged.
    pub async fn stop_running_jobs(&self) -> Result<Vec<String>, EngineError> {
        let mut stopped = Vec::new();
        for row in self.store.running_rebalances()? {
            match self.node.stop(&row.to_channel).await {
                Ok(_) => stopped.push(row.to_channel),
                Err(e) => log::info!("sling-stop {} at shutdown failed: {e}", row.to_channel),
            }
        }
        Ok(stopped)
    }

    /// Releases every budget hold: rows already over are settled as usual;
    /// the others have their sling jobs stopped and deleted and end as
    /// `stopped`, their holds released.
    pub async fn clear_reservations(&self) -> Result<ClearedReservations, EngineError> {
        let (finished, _) = self.reconcile().await?;
        let _one_at_a_time = self.cycle_lock.lock().await;
        let mut cleared = Vec::new();
        let mut released_msat = 0u64;
        let now = self.now();
        for row in self.store.running_rebalances()? {
            let (_, note) = self
                .close_job(&row.to_channel, row.max_fee_ppm, false)
                .await;
            let end = end(
                RebalanceOutcome::Stopped,
                0,
                None,
                format!("stopped by revenue-clear-reservations; hold released{note}"),
            );
            if self.store.finish_rebalance(row.id, &end, now)? {
                released_msat += row.reserved_msat.map_or(0, Msat::msat);
                cleared.push(FinishedRebalance {
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
        Ok(ClearedReservations {
            finished,
            cleared,
            released_msat: Msat(released_msat),
        })
    }

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
                // A job whose every task has halted will never move
                // anything: `Stopping` is what sling leaves on a task that
                // was idle (e.g. waiting for a cheap route) when stopped.
                Some(job)
                    if !job.tasks.is_empty()
                        && job.tasks.iter().all(|t| {
                            matches!(
                                t.state,
                                TaskState::Error
                                    | TaskState::Stopped
                                    | TaskState::Stopping
                                    | TaskState::NotStarted
                            )
                        }) =>
                {
                    let states: Vec<String> = job
                        .tasks
                        .iter()
                        .map(|t| format!("{}:{}", t.task_number, t.state))
                        .collect();
                    Some((
                        RebalanceOutcome::Failed,
                        format!("sling's job has halted ({})", states.join(", ")),
                    ))
                }
                Some(_) => None,
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
