//! Running tasks: each running task looks at its channel at `next_try_ms`
//! and, like sling's loop, either idles (balanced, no candidates, ...) or
//! sends one rebalance of the job's amount.
//!
//! Invariants:
//! - A try that reaches the route stage takes exactly five draws from
//!   sling's stream, whatever happens; idle checks take none.
//! - Candidates are filtered so that a settled payment always fits: the
//!   source keeps its reserve and sling's depletion floor after paying
//!   amount + the most fee `maxppm` allows; the destination can receive it.

use super::{
    Direction, FailureRecord, RebalanceOutcome, RebalanceRecord, StoredJob, SuccessRecord,
};
use crate::channel::{ChannelState, SimChannel};
use crate::network::SimNetwork;
use revops_core::TaskState;

// sling's own constants (its source, `sling.rs` / `tasks.rs`).
/// First look at the channel after `sling-go`.
pub(crate) const START_DELAY_MS: u64 = 500;
/// Sleep when balanced, disconnected, HTLC-capped or no route is cheap enough.
const IDLE_MS: u64 = 120_000;
/// Sleep when no channel qualifies as a candidate.
const NO_CANDIDATES_MS: u64 = 20_000;
/// Sleep when no route exists at all.
const NO_ROUTES_MS: u64 = 10_000;
/// `sling-max-htlc-count`: pending HTLCs above which a channel is skipped.
const MAX_HTLC_COUNT: u32 = 5;
/// `target` default.
const DEFAULT_TARGET: f64 = 0.5;
/// `sling-maxhops` default.
const DEFAULT_MAXHOPS: u8 = 8;
/// `sling-depleteuptopercent` / `sling-depleteuptoamount` defaults.
const DEFAULT_DEPLETE_PERCENT: f64 = 0.2;
const DEFAULT_DEPLETE_MSAT: u64 = 2_000_000_000;
/// `sling-paralleljobs` default.
pub(crate) const DEFAULT_PARALLELJOBS: u16 = 1;
/// Routes in the sim are 2..=this many other nodes long (capped by `maxhops`).
const LONGEST_SIMULATED_ROUTE: u8 = 4;
/// `sling-stats-delete-*-size`: entries kept per channel.
const MAX_RECORDS: usize = 10_000;
const FAILURE_REASON: &str = "WIRE_TEMPORARY_CHANNEL_FAILURE";

/// What one try decided.
enum Try {
    /// Sleep in this state (the task stays running).
    Idle(TaskState, u64),
    /// The task ends (channel gone or not normal).
    End(TaskState),
    /// A payment was sent; try again after this long.
    Sent(u64),
}

/// The five uniforms a route-stage try consumes, drawn up front.
struct TryDraws {
    pick: f64,
    fee_normal: f64,
    settle: f64,
    hops: f64,
    fail_node: f64,
}

impl SimNetwork {
    /// The earliest sling event, if sling runs any task.
    pub(crate) fn next_sling_ms(&self) -> Option<u64> {
        if self.sling_present() {
            self.sling.next_try_ms()
        } else {
            None
        }
    }

    /// Runs every task due at `now_ms` (in scid, then task order).
    pub(crate) fn sling_step(&mut self) {
        let now = self.now_ms;
        let due: Vec<(String, usize)> = self
            .sling
            .tasks
            .iter()
            .flat_map(|(scid, tasks)| {
                tasks
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.running && t.next_try_ms <= now)
                    .map(|(i, _)| (scid.clone(), i))
            })
            .collect();
        for (scid, i) in due {
            let outcome = match self.sling.jobs.get(&scid).cloned() {
                Some(job) => self.try_rebalance(&scid, &job),
                None => Try::End(TaskState::Error),
            };
            let Some(task) = self.sling.tasks.get_mut(&scid).and_then(|t| t.get_mut(i)) else {
                continue;
            };
            match outcome {
                Try::Idle(state, sleep_ms) => {
                    task.state = state;
                    task.next_try_ms = now + sleep_ms;
                }
                Try::End(state) => {
                    task.state = state;
                    task.running = false;
                }
                Try::Sent(after_ms) => {
                    task.state = TaskState::Rebalancing;
                    task.next_try_ms = now + after_ms;
                }
            }
        }
    }

    fn try_rebalance(&mut self, scid: &str, job: &StoredJob) -> Try {
        let Some(&j) = self.by_scid.get(scid) else {
            return Try::End(TaskState::ChanNotNormal);
        };
        let chan = &self.channels[j];
        if chan.state != ChannelState::ChanneldNormal {
            return Try::End(TaskState::ChanNotNormal);
        }
        if !chan.peer_connected {
            return Try::Idle(TaskState::Disconnected, IDLE_MS);
        }
        let target = job.target.unwrap_or(DEFAULT_TARGET);
        let balanced = match job.direction {
            Direction::Pull => {
                chan.local_msat as f64 >= target * chan.capacity_msat as f64
                    || chan.receivable_msat() < job.amount_msat
            }
            Direction::Push => {
                chan.remote_msat() as f64 >= target * chan.capacity_msat as f64
                    || chan.spendable_msat() < job.amount_msat
            }
        };
        if balanced {
            return Try::Idle(TaskState::Balanced, IDLE_MS);
        }
        // sling caps pending HTLCs on the job channel only for push jobs.
        if job.direction == Direction::Push && chan.htlcs_in_flight > MAX_HTLC_COUNT {
            return Try::Idle(TaskState::HtlcCapped, IDLE_MS);
        }
        if self.sling.except_peers.contains(&chan.spec.peer_id) {
            // Every circle passes the job's peer, and sling may not use it.
            return Try::Idle(TaskState::NoRoutes, NO_ROUTES_MS);
        }
        let candidates = self.candidates(j, job);
        if candidates.is_empty() {
            return Try::Idle(TaskState::NoCandidates, NO_CANDIDATES_MS);
        }

        let d = &mut self.sling.draws;
        let draws = TryDraws {
            pick: d.uniform(),
            fee_normal: d.standard_normal(),
            settle: d.uniform(),
            hops: d.uniform(),
            fail_node: d.uniform(),
        };
        let c =
            candidates[((draws.pick * candidates.len() as f64) as usize).min(candidates.len() - 1)];
        let (out, into) = match job.direction {
            Direction::Pull => (c, j),
            Direction::Push => (j, c),
        };
        let amount_msat = job.amount_msat;
        let p = &self.sling.params;
        let median_ppm =
            (self.channels[into].spec.alternatives_fee_ppm as f64 * p.route_fee_factor).max(1.0);
        let drawn_ppm = median_ppm * (p.route_fee_sigma * draws.fee_normal).exp();
        let fee_msat = (amount_msat as f64 * drawn_ppm / 1e6).round() as u64;
        let fee_ppm = effective_ppm(fee_msat, amount_msat);
        if fee_ppm > job.maxppm as u64 {
            // sling compares the cheapest route with maxppm and sends nothing.
            self.sling.too_expensive_tries += 1;
            return Try::Idle(TaskState::NoCheapRoute, IDLE_MS);
        }
        let longest = job
            .maxhops
            .unwrap_or(DEFAULT_MAXHOPS)
            .clamp(2, LONGEST_SIMULATED_ROUTE);
        let hops = 2 + (draws.hops * (longest - 1) as f64) as u8;
        let hops = hops.min(longest);
        let settled = draws.settle < p.success_probability;
        let interval_ms = if settled {
            p.interval_after_success_ms
        } else {
            p.interval_after_failure_ms
        };
        let partner_scid = self.channels[c].spec.short_channel_id.clone();
        let at_secs = self.now();
        let sent_msat = amount_msat + fee_msat;

        let o = &mut self.channels[out];
        o.outgoing.offered += 1;
        o.outgoing.offered_msat += sent_msat;
        let outcome = if settled {
            o.set_local(o.local_msat - sent_msat);
            o.outgoing.fulfilled += 1;
            o.outgoing.fulfilled_msat += sent_msat;
            let i = &mut self.channels[into];
            i.set_local(i.local_msat + amount_msat);
            i.incoming.offered += 1;
            i.incoming.offered_msat += amount_msat;
            i.incoming.fulfilled += 1;
            i.incoming.fulfilled_msat += amount_msat;
            self.refresh_weights(out);
            self.refresh_weights(into);
            push_capped(
                self.sling.successes.entry(scid.to_string()).or_default(),
                SuccessRecord {
                    at_secs,
                    amount_msat,
                    fee_msat,
                    fee_ppm,
                    partner_scid: partner_scid.clone(),
                    hops,
                },
            );
            RebalanceOutcome::Settled
        } else {
            // The route failed at one of the two peers we know on the circle.
            let fail_at = if draws.fail_node < 0.5 { out } else { into };
            push_capped(
                self.sling.failures.entry(scid.to_string()).or_default(),
                FailureRecord {
                    at_secs,
                    amount_msat,
                    reason: FAILURE_REASON,
                    fail_node: self.channels[fail_at].spec.peer_id.clone(),
                    partner_scid: partner_scid.clone(),
                    hops,
                },
            );
            RebalanceOutcome::Failed {
                reason: FAILURE_REASON.to_string(),
            }
        };
        self.sling.log.push(RebalanceRecord {
            at_ms: self.now_ms,
            job_scid: scid.to_string(),
            out_scid: self.channels[out].spec.short_channel_id.clone(),
            in_scid: self.channels[into].spec.short_channel_id.clone(),
            amount_msat,
            fee_msat: if settled { fee_msat } else { 0 },
            fee_ppm,
            hops,
            outcome,
        });
        Try::Sent(interval_ms)
    }

    /// Indices of the channels the job may move liquidity through now.
    fn candidates(&self, j: usize, job: &StoredJob) -> Vec<usize> {
        let job_chan = &self.channels[j];
        let amount_msat = job.amount_msat;
        let max_fee_msat = (amount_msat as u128 * job.maxppm as u128).div_ceil(1_000_000) as u64;
        let explicit: Option<Vec<usize>> = job
            .candidates
            .as_ref()
            .filter(|c| !c.is_empty())
            // Foreign scids are accepted by sling-job; they just never qualify.
            .map(|c| {
                c.iter()
                    .filter_map(|s| self.by_scid.get(s).copied())
                    .collect()
            });
        let pool: Vec<usize> = explicit.unwrap_or_else(|| (0..self.channels.len()).collect());
        pool.into_iter()
            .filter(|&c| {
                let ch = &self.channels[c];
                c != j
                    && ch.state == ChannelState::ChanneldNormal
                    && ch.peer_connected
                    && ch.spec.peer_id != job_chan.spec.peer_id
                    && !self.sling.except_peers.contains(&ch.spec.peer_id)
                    && ch.htlcs_in_flight < MAX_HTLC_COUNT
                    && !self.has_job(&ch.spec.short_channel_id, job.direction)
                    && (job.candidates.as_ref().is_some_and(|c| !c.is_empty())
                        || outppm_allows(ch, job))
                    && has_room(ch, job, amount_msat, max_fee_msat)
            })
            .collect()
    }

    fn has_job(&self, scid: &str, direction: Direction) -> bool {
        self.sling
            .jobs
            .get(scid)
            .is_some_and(|j| j.direction == direction)
    }
}

/// Without a candidate list sling picks by price: a pull job takes liquidity
/// from channels where we charge at most `outppm` (effective, base
/// included); a push job sends it where the peer charges at least `outppm`
/// (the sim knows no peer fees, so the market's `alternatives_fee_ppm` stands in).
fn outppm_allows(ch: &SimChannel, job: &StoredJob) -> bool {
    let Some(outppm) = job.outppm else {
        return false;
    };
    match job.direction {
        Direction::Pull => {
            let fee_msat = ch.fee.fee_msat(job.amount_msat);
            effective_ppm(fee_msat, job.amount_msat) <= outppm
        }
        Direction::Push => ch.spec.alternatives_fee_ppm as u64 >= outppm,
    }
}

/// The candidate can give (pull) or take (push) one more rebalance and keep
/// its reserve and sling's depletion floor.
fn has_room(ch: &SimChannel, job: &StoredJob, amount_msat: u64, max_fee_msat: u64) -> bool {
    let deplete_pct = job.depleteuptopercent.unwrap_or(DEFAULT_DEPLETE_PERCENT);
    let deplete_msat = job.depleteuptoamount_msat.unwrap_or(DEFAULT_DEPLETE_MSAT);
    let floor_msat = ((deplete_pct * ch.capacity_msat as f64) as u64).min(deplete_msat);
    match job.direction {
        Direction::Pull => {
            let sent = amount_msat + max_fee_msat;
            ch.spendable_msat() >= sent && ch.local_msat - sent >= floor_msat
        }
        Direction::Push => {
            ch.receivable_msat() >= amount_msat && ch.remote_msat() - amount_msat >= floor_msat
        }
    }
}

/// sling's effective fee ppm: rounded up (61,005 msat on 200,000 sat → 306).
pub(crate) fn effective_ppm(fee_msat: u64, amount_msat: u64) -> u64 {
    if amount_msat == 0 {
        return 0;
    }
    ((fee_msat as u128 * 1_000_000).div_ceil(amount_msat as u128)) as u64
}

fn push_capped<T>(records: &mut Vec<T>, record: T) {
    records.push(record);
    if records.len() > MAX_RECORDS {
        records.remove(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_ppm_rounds_up_like_sling() {
        assert_eq!(effective_ppm(61_005, 200_000_000), 306);
        assert_eq!(effective_ppm(60_000, 200_000_000), 300);
        assert_eq!(effective_ppm(0, 200_000_000), 0);
    }
}
