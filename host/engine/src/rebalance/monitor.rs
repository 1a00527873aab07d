//! Watching running rebalances: each ledger row ends as a success when
//! its payments arrived, as a timeout when it ran too long, or as a failure
//! when sling no longer runs its job.
//!
//! Invariants:
//! - Success is judged on what lightningd records, never on sling's words.
//!   With bookkeeper running: a rebalance payment credited into the
//!   destination since the row started; fee = Σ (debit − credit) of those
//!   payments and amount = their credits (`fee_is_estimate = false`). A
//!   balance rise without such a payment is routing: the job keeps running.
//!   Without bookkeeper (absent, or its lookup failed): the destination's
//!   balance rose; fee = sling's amount-weighted ppm × the rise, marked an
//!   estimate (sling reports no per-job fee) with the reason why; without a
//!   ppm the job's cap is used: the job never pays more.
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

/// Bookkeeper stamps events with lightningd's clock, the row's start is
/// ours: payments this close before the start still count. Nothing earlier
/// can belong to another rebalance of the same destination — one runs at a
/// time, and a credit raises the balance, so its row ended as a success
/// (followed by a 24 h cooldown).
const BOOKKEEPER_CLOCK_SLACK_SECS: u64 = 60;

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
            let note = self.close_job(&row.to_channel).await;
            let end = end(
                RebalanceOutcome::Stopped,
                0,
                None,
                format!("stopped by revenue-clear-reservations; hold released{note}"),
            );
            if self.store.finish_rebalance(row.id, &end, now)? {
                released_msat += row.reserved_msat.map_or(0, Msat::msat);
                cleared.push(FinishedRebalance::of(&row, end));
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
                finished.push(FinishedRebalance::of(&row, end));
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
        // Bookkeeper, when it runs, says whether sling paid: a rise without
        // a recorded rebalance payment is routing, not our job's doing.
        let since = row.started_at.saturating_sub(BOOKKEEPER_CLOCK_SLACK_SECS);
        match self.measured_fee(scid, since).await {
            Recorded::Payments(measured) => {
                return Some(self.settle_measured(row, rise_msat, measured).await);
            }
            Recorded::Nothing => {}
            Recorded::Unknown(why) => {
                if let Some(moved_msat) = rise_msat {
                    return Some(self.settle_estimated(row, moved_msat, &why).await);
                }
            }
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
        let note = self.close_job(scid).await;
        Some(end(outcome, 0, None, format!("{reason}{note}")))
    }

    /// A row bookkeeper recorded rebalance payments for: a success with the
    /// measured fee; the amount moved is what bookkeeper saw credited.
    async fn settle_measured(
        &self,
        row: &RebalanceEntry,
        rise_msat: Option<u64>,
        measured: MeasuredFee,
    ) -> RebalanceEnd {
        let scid = row.to_channel.as_str();
        let note = self.close_job(scid).await;
        let rise = match rise_msat {
            Some(r) => format!("destination local balance rose by {r} msat"),
            None => "destination local balance did not rise (routing drained it)".to_string(),
        };
        end(
            RebalanceOutcome::Success,
            measured.credited_msat,
            Some(measured.fee),
            format!(
                "{} rebalance payment(s) moved {} msat in, fee measured by bookkeeper; {rise}{note}",
                measured.payments, measured.credited_msat
            ),
        )
    }

    /// A row whose destination's balance rose by `moved_msat` while
    /// bookkeeper cannot tell (`why`): stops its job, estimates the fee from
    /// sling's weighted ppm (read before the job is deleted), deletes the job.
    async fn settle_estimated(
        &self,
        row: &RebalanceEntry,
        moved_msat: u64,
        why: &str,
    ) -> RebalanceEnd {
        let scid = row.to_channel.as_str();
        let mut note = self.stop_job(scid).await;
        let (ppm, stats_note) = self.sling_fee_ppm(scid, row.max_fee_ppm).await;
        let fee_msat = (u128::from(moved_msat) * u128::from(ppm) / 1_000_000) as u64;
        let mut e = end(
            RebalanceOutcome::Success,
            moved_msat,
            Some(Msat(fee_msat)),
            format!(
                "destination local balance rose by {moved_msat} msat; fee estimated at {ppm} ppm ({why}){stats_note}"
            ),
        );
        e.fee_is_estimate = true;
        note.push_str(&self.delete_job(scid).await);
        e.reason.push_str(&note);
        e
    }

    /// What bookkeeper recorded for the rebalances into `scid` since `since`.
    async fn measured_fee(&self, scid: &str, since: u64) -> Recorded {
        match self.node.rebalance_payments(scid, since).await {
            Ok(None) => Recorded::Unknown("bookkeeper is not running".to_string()),
            Ok(Some(payments)) if payments.is_empty() => Recorded::Nothing,
            Ok(Some(payments)) => Recorded::Payments(MeasuredFee {
                fee: payments
                    .iter()
                    .fold(Msat::ZERO, |sum, p| sum.saturating_add(p.fee_msat())),
                credited_msat: payments
                    .iter()
                    .fold(0u64, |sum, p| sum.saturating_add(p.credited_msat.msat())),
                payments: payments.len(),
            }),
            Err(e) => {
                log::info!("bookkeeper lookup for {scid} failed: {e}");
                Recorded::Unknown(format!("bookkeeper lookup failed: {e}"))
            }
        }
    }

    /// Stops and deletes the channel's job. Returns a note on failures.
    async fn close_job(&self, scid: &str) -> String {
        let mut note = self.stop_job(scid).await;
        note.push_str(&self.delete_job(scid).await);
        note
    }

    /// `sling-stop`; a note when it failed.
    async fn stop_job(&self, scid: &str) -> String {
        match self.node.stop(scid).await {
            Ok(_) => String::new(),
            Err(e) => {
                log::warn!("sling-stop {scid} failed: {e}");
                format!("; stop failed: {e}")
            }
        }
    }

    /// `sling-deletejob`; a note when it failed.
    async fn delete_job(&self, scid: &str) -> String {
        match self.node.delete(scid).await {
            Ok(_) => String::new(),
            Err(e) => {
                log::warn!("sling-deletejob {scid} failed: {e}");
                format!("; delete failed: {e}")
            }
        }
    }

    /// sling's amount-weighted fee ppm for the job, or `cap_ppm` (with a
    /// note) when sling reports none.
    async fn sling_fee_ppm(&self, scid: &str, cap_ppm: u32) -> (u64, String) {
        match self.node.stats(scid).await {
            Ok(stats) => {
                let weighted = stats
                    .overview
                    .map(|o| o.weighted_fee_ppm)
                    .filter(|p| *p > 0)
                    .or(stats.successes.map(|s| s.fee_ppm_weighted_avg));
                match weighted {
                    Some(p) => (p, String::new()),
                    None => (
                        u64::from(cap_ppm),
                        "; sling reports no fee, the job's cap is assumed".to_string(),
                    ),
                }
            }
            Err(e) => (
                u64::from(cap_ppm),
                format!("; sling-stats failed ({e}), the job's cap is assumed"),
            ),
        }
    }
}

/// What bookkeeper says about the rebalance payments into a destination.
enum Recorded {
    Payments(MeasuredFee),
    /// Bookkeeper runs and recorded none: nothing our job paid arrived yet.
    Nothing,
    /// Bookkeeper is absent or failed (why): only the balance can tell.
    Unknown(String),
}

/// The fee bookkeeper measured for one finished rebalance.
struct MeasuredFee {
    fee: Msat,
    credited_msat: u64,
    payments: usize,
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
