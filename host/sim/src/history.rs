//! Pre-generated settled forwards before the start of a run, so ingestion,
//! paging and the benchmarks have a realistic backlog (up to millions).
//!
//! Invariants:
//! - History uses its own random stream (derived from the seed), so the live
//!   run is the same whatever the history size.
//! - History does not move balances: the scenario's starting balances are taken
//!   to already include it. It does advance HTLC ids and payment counters, and
//!   its fees count in `getinfo.fees_collected_msat` but not in the per-channel
//!   `fees_earned_msat` of the run.
//! - Timestamps are spread evenly (stratified) over `history_days` before the
//!   start and never decrease with `created_index`.

use crate::forwards::StoredForward;
use crate::ids::mix64;
use crate::model::draw_weighted;
use crate::network::SimNetwork;
use crate::sampling::{Draws, WeightTree};
use revops_core::ForwardStatus;

const HISTORY_STREAM: u64 = 0x0048_4953_544F_5259;

pub(crate) fn generate(net: &mut SimNetwork, count: usize, days: u32) {
    let n = net.channels.len();
    if count == 0 || n < 2 {
        return;
    }
    let mut draws = Draws::new(mix64(net.seed ^ HISTORY_STREAM));
    // Static weights: history is about who used to route where, not today's balances.
    let mut demand = WeightTree::new(n);
    let mut inbound = WeightTree::new(n);
    for (i, c) in net.channels.iter().enumerate() {
        demand.set(
            i,
            (c.spec.demand_per_day.max(0.0) * 1000.0).round() as u64 + 1,
        );
        inbound.set(
            i,
            (c.spec.capacity_sat / 1000).max(1)
                * ((c.spec.source_weight.max(0.0) * 1000.0).round() as u64 + 1),
        );
    }
    let span_ms = (days.max(1) as u64 * 86_400_000).min(net.start_ms);
    let first_ms = net.start_ms - span_ms;
    let slot_ms = span_ms as f64 / count as f64;
    let t = net.traffic.clone();
    for k in 0..count {
        let (u_time, u_out, z_size, u_in, z_settle) = (
            draws.uniform(),
            draws.uniform(),
            draws.standard_normal(),
            draws.uniform(),
            draws.standard_normal(),
        );
        let received_ms = first_ms + ((k as f64 + u_time) * slot_ms) as u64;
        let Some(x) = draw_weighted(&mut demand, u_out, None) else {
            continue;
        };
        let Some(y) = draw_weighted(&mut inbound, u_in, Some(x)) else {
            continue;
        };
        let cap_msat =
            (net.channels[x].capacity_msat as f64 * t.amount_cap_fraction_of_capacity).max(1000.0);
        let out_msat = (t.amount_median_sat * 1000.0 * (t.amount_sigma * z_size).exp())
            .clamp(1000.0, cap_msat)
            .round() as u64;
        let fee_msat = net.channels[x].fee.fee_msat(out_msat);
        let in_msat = out_msat.saturating_add(fee_msat);
        let settle_ms = (t.settle_time_median_ms * (0.8 * z_settle).exp()).clamp(50.0, 60_000.0);

        let out = &mut net.channels[x];
        let out_htlc_id = out.next_out_htlc_id;
        out.next_out_htlc_id += 1;
        out.outgoing.offered += 1;
        out.outgoing.offered_msat += out_msat;
        out.outgoing.fulfilled += 1;
        out.outgoing.fulfilled_msat += out_msat;
        let inc = &mut net.channels[y];
        let in_htlc_id = inc.next_in_htlc_id;
        inc.next_in_htlc_id += 1;
        inc.incoming.offered += 1;
        inc.incoming.offered_msat += in_msat;
        inc.incoming.fulfilled += 1;
        inc.incoming.fulfilled_msat += in_msat;
        net.history_fees_msat += fee_msat;
        net.forwards.push(StoredForward {
            received_ms,
            in_msat,
            out_msat,
            in_htlc_id,
            out_htlc_id,
            updated_index: 0,
            resolve_after_ms: settle_ms as u32,
            in_channel: y as u32,
            out_channel: x as u32,
            status: ForwardStatus::Settled,
            failcode: 0,
        });
    }
}
