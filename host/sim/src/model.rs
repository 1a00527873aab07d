//! The traffic model: payment attempts arriving over simulated time, choosing
//! us or an alternative route, and settling or failing.
//!
//! Invariants:
//! - Events run in time order; at equal times ticks run first, then sling's
//!   tasks, then payment attempts.
//! - Every attempt consumes exactly the same number of random draws whatever
//!   happens to it, and ticks consume a fixed number per channel. Two runs on
//!   the same seed therefore see the same attempt stream (same times, sizes,
//!   outgoing channels and uniforms) and differ only where fees or balances
//!   differ: comparisons between policies are paired, not just seeded.
//! - A settled forward conserves money: the outgoing channel loses `out_msat`,
//!   the incoming one gains `in_msat = out_msat + fee`, and the fee is booked on
//!   the outgoing channel (the one whose fee the payer paid).

use crate::channel::{FeeSchedule, SimChannel};
use crate::forwards::{StoredForward, TEMPORARY_CHANNEL_FAILURE};
use crate::network::{FEERATE_TICK_MS, HTLC_TICK_MS, SimNetwork};
use crate::sampling::{Draws, WeightTree, logistic};
use revops_core::ForwardStatus;

const MS_PER_DAY: f64 = 86_400_000.0;
/// Demand weights are stored in milli-attempts per day.
const DEMAND_SCALE: f64 = 1000.0;
/// Source weights are stored in thousandths (capped so sums fit in u64).
const SOURCE_SCALE: f64 = 1000.0;
const MAX_SOURCE_MILLI: f64 = 1_000_000.0;

pub(crate) fn demand_weight(c: &SimChannel) -> u64 {
    if c.can_forward() {
        (c.spec.demand_per_day.max(0.0) * DEMAND_SCALE).round() as u64
    } else {
        0
    }
}

/// Payments enter through a channel in proportion to how much the peer could
/// send us (its receivable side, in sat) times how much traffic starts behind it.
pub(crate) fn inbound_weight(c: &SimChannel) -> u64 {
    if c.can_forward() {
        let source_milli = (c.spec.source_weight.max(0.0) * SOURCE_SCALE).min(MAX_SOURCE_MILLI);
        (c.receivable_msat() / 1000).saturating_mul(source_milli.round() as u64)
    } else {
        0
    }
}

/// Draws an index from `tree` using one uniform (never a variable number of
/// draws), optionally excluding one item.
pub(crate) fn draw_weighted(
    tree: &mut WeightTree,
    u: f64,
    exclude: Option<usize>,
) -> Option<usize> {
    let saved = exclude.map(|i| {
        let w = tree.weight(i);
        tree.set(i, 0);
        (i, w)
    });
    let total = tree.total();
    let picked = (total > 0).then(|| tree.find(((u * total as f64) as u64).min(total - 1)));
    if let Some((i, w)) = saved {
        tree.set(i, w);
    }
    picked
}

/// The uniforms one attempt consumes, drawn up front in a fixed order.
struct AttemptDraws {
    pick_out: f64,
    size_normal: f64,
    pick_in: f64,
    choose_us: f64,
    downstream: f64,
    settle_normal: f64,
    next_gap: f64,
}

impl AttemptDraws {
    fn take(d: &mut Draws) -> Self {
        AttemptDraws {
            pick_out: d.uniform(),
            size_normal: d.standard_normal(),
            pick_in: d.uniform(),
            choose_us: d.uniform(),
            downstream: d.uniform(),
            settle_normal: d.standard_normal(),
            next_gap: d.exponential(1.0),
        }
    }
}

impl SimNetwork {
    /// Runs every event up to simulated unix second `t_secs` (no-op if in the past).
    pub fn advance_to(&mut self, t_secs: u64) {
        let target_ms = t_secs.saturating_mul(1000);
        while let Some(at) = self.next_event_ms() {
            if at > target_ms {
                break;
            }
            self.now_ms = at;
            if at == self.next_feerate_tick_ms {
                self.feerate.step_hour(&mut self.draws, at);
                self.next_feerate_tick_ms += FEERATE_TICK_MS;
            } else if at == self.next_htlc_tick_ms {
                self.htlc_tick();
                self.next_htlc_tick_ms += HTLC_TICK_MS;
            } else if self.next_sling_ms() == Some(at) {
                self.sling_step();
            } else {
                self.attempt();
            }
        }
        self.now_ms = self.now_ms.max(target_ms);
    }

    /// Convenience: advance by `secs` simulated seconds.
    pub fn advance_by(&mut self, secs: u64) {
        self.advance_to(self.now().saturating_add(secs));
    }

    fn next_event_ms(&self) -> Option<u64> {
        let tick = self.next_feerate_tick_ms.min(self.next_htlc_tick_ms);
        Some(
            [self.next_attempt_ms, self.next_sling_ms()]
                .into_iter()
                .flatten()
                .fold(tick, u64::min),
        )
    }

    pub(crate) fn refresh_weights(&mut self, i: usize) {
        let c = &self.channels[i];
        let (d, w) = (demand_weight(c), inbound_weight(c));
        self.demand.set(i, d);
        self.inbound.set(i, w);
    }

    /// Mean gap between attempts across the node, in ms (`None` when nobody wants to pay).
    fn mean_gap_ms(&self) -> Option<f64> {
        let per_day = self.demand.total() as f64 / DEMAND_SCALE;
        (per_day > 0.0).then(|| MS_PER_DAY / per_day)
    }

    pub(crate) fn schedule_next_attempt(&mut self) {
        let unit_gap = self.draws.exponential(1.0);
        self.set_next_attempt(unit_gap);
    }

    fn set_next_attempt(&mut self, unit_gap: f64) {
        self.next_attempt_ms = self
            .mean_gap_ms()
            .map(|mean| self.now_ms + ((unit_gap * mean).round() as u64).max(1));
    }

    /// Every 10 minutes: each channel's background HTLC level moves around its
    /// baseline (Poisson-like spread: ± its square root).
    fn htlc_tick(&mut self) {
        for c in &mut self.channels {
            let z = self.draws.standard_normal();
            if c.htlcs_pinned {
                continue;
            }
            let level = if c.can_forward() {
                let base = c.spec.baseline_htlcs_in_flight as f64;
                (base + base.sqrt() * z)
                    .round()
                    .clamp(0.0, c.spec.max_accepted_htlcs as f64) as u32
            } else {
                0
            };
            if level != c.htlcs_in_flight {
                c.htlcs_in_flight = level;
                c.htlc_generation += 1;
            }
        }
    }

    fn attempt(&mut self) {
        let d = AttemptDraws::take(&mut self.draws);
        self.process_attempt(&d);
        self.set_next_attempt(d.next_gap);
    }

    fn process_attempt(&mut self, d: &AttemptDraws) {
        let Some(x) = draw_weighted(&mut self.demand, d.pick_out, None) else {
            return;
        };
        let t = &self.traffic;
        let cap_msat =
            (self.channels[x].capacity_msat as f64 * t.amount_cap_fraction_of_capacity).max(1000.0);
        let amount_msat = (t.amount_median_sat * 1000.0 * (t.amount_sigma * d.size_normal).exp())
            .clamp(1000.0, cap_msat)
            .round() as u64;
        let Some(y) = draw_weighted(&mut self.inbound, d.pick_in, Some(x)) else {
            return;
        };

        // The payer compares what we charge (base included) with the alternatives.
        let out = &self.channels[x];
        let schedule = out.fee_in_force(self.now_ms);
        let fee_msat = schedule.fee_msat(amount_msat);
        let alt = FeeSchedule {
            base_msat: out.spec.alternatives_fee_base_msat,
            ppm: out.spec.alternatives_fee_ppm,
        };
        let alt_fee_msat = alt.fee_msat(amount_msat) as f64;
        let scale = alt_fee_msat.max(t.price_scale_floor_ppm * amount_msat as f64 / 1e6);
        let relative = (fee_msat as f64 - alt_fee_msat) / scale.max(1.0);
        if d.choose_us >= logistic(-out.spec.elasticity * relative) {
            self.channels[x].attempts_to_alternatives += 1;
            return;
        }

        let in_msat = amount_msat.saturating_add(fee_msat);
        if self.channels[y].receivable_msat() < in_msat {
            // The peer cannot send it to us: lightningd never sees this HTLC.
            self.channels[y].attempts_blocked_inbound += 1;
            return;
        }
        let received_ms = self.now_ms;
        let settle_ms =
            (t.settle_time_median_ms * (0.8 * d.settle_normal).exp()).clamp(50.0, 60_000.0);
        let downstream_fails = d.downstream < t.downstream_failure_rate;

        let incoming = &mut self.channels[y];
        incoming.incoming.offered += 1;
        incoming.incoming.offered_msat += in_msat;
        let in_htlc_id = incoming.next_in_htlc_id;
        incoming.next_in_htlc_id += 1;

        let out = &mut self.channels[x];
        let fits = out.htlcs_in_flight < out.spec.max_accepted_htlcs
            && amount_msat <= out.spendable_msat()
            && amount_msat <= out.effective_htlc_max_msat()
            && amount_msat >= out.htlc_minimum_msat;
        let mut record = StoredForward {
            received_ms,
            in_msat,
            out_msat: amount_msat,
            in_htlc_id,
            out_htlc_id: u64::MAX,
            updated_index: 0,
            resolve_after_ms: settle_ms as u32,
            in_channel: y as u32,
            out_channel: x as u32,
            status: ForwardStatus::LocalFailed,
            failcode: 0,
        };
        if !fits {
            out.local_failed_out += 1;
            record.out_msat = 0;
            record.failcode = TEMPORARY_CHANNEL_FAILURE;
            self.forwards.push(record);
            return;
        }
        out.outgoing.offered += 1;
        out.outgoing.offered_msat += amount_msat;
        record.out_htlc_id = out.next_out_htlc_id;
        out.next_out_htlc_id += 1;
        if downstream_fails {
            out.failed_downstream_out += 1;
            record.status = ForwardStatus::Failed;
            self.forwards.push(record);
            return;
        }

        out.set_local(out.local_msat - amount_msat);
        out.outgoing.fulfilled += 1;
        out.outgoing.fulfilled_msat += amount_msat;
        out.fees_earned_msat += fee_msat;
        out.settled_out += 1;
        let incoming = &mut self.channels[y];
        incoming.set_local(incoming.local_msat + in_msat);
        incoming.incoming.fulfilled += 1;
        incoming.incoming.fulfilled_msat += in_msat;
        incoming.settled_in += 1;
        record.status = ForwardStatus::Settled;
        self.forwards.push(record);
        self.refresh_weights(x);
        self.refresh_weights(y);
    }
}
