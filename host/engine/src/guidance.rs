//! Fee guidance: the floors and the ceiling the host recommends for a
//! channel, from what it measures beyond the channel's balance — chain costs,
//! flow, liquidity, profitability, rebalancing costs, idleness and the
//! peer's reputation. Every policy gets it (WIT `fee-guidance`); the
//! built-in ones decide within it.
//!
//! Invariants:
//! - Guidance is always inside the operator's bounds (`floor <= ceiling`,
//!   both clamped into them): it narrows, never widens, the money rails.
//! - Every factor that moved the floor or the ceiling is named in the
//!   causes, with its numbers, for `revenue-fee-debug`.
//! - A balance floor is never clamped away by a lowered ceiling: the
//!   ceiling is lifted above it (the reference plugin's issue #18).
//! - `peer_success_ratio` is the peer's decayed reputation score
//!   (`revops_store::PeerReputation::score`), or `None` when reputation is
//!   off or the peer has no evidence: never a guess.

use crate::rails::Bounds;
use revops_core::{ChannelSnapshot, Msat};
use revops_runtime::{FeeGuidance, FlowState};
use revops_store::{ChannelActivity, PeerReputation, RebalanceCost};
use serde::Serialize;
use std::collections::HashMap;

use revops_store::DAY_SECS;
/// Profitability and rebalance costs are judged over this period.
pub const PROFIT_WINDOW_SECS: u64 = 30 * DAY_SECS;

/// Chain footprint of opening and closing a channel, and the clamps on
/// their cost (sat), as in the reference plugin.
const OPEN_VBYTES: f64 = 140.0;
const CLOSE_VBYTES: f64 = 200.0;
const OPEN_COST_MIN_SAT: f64 = 500.0;
const CLOSE_COST_MIN_SAT: f64 = 300.0;
const CHAIN_COST_MAX_SAT: f64 = 50_000.0;
/// The economic floor amortises chain costs over a year at this volume.
const AMORTISED_VOLUME_SAT_PER_DAY: f64 = 1_000_000.0;
/// Chain-risk premium: ppm per sat/vB of feerate (150 vB × 0.001 per 50k sat).
const RISK_PREMIUM_PPM_PER_SAT_PER_VB: f64 = 3.0;

/// Balance floors: below these shares of the capacity the fee is at least
/// this much, so a drained channel is not sold off cheaply.
const BALANCE_FLOORS: [(f64, u32); 2] = [(0.10, 500), (0.25, 200)];
/// When a balance floor applies the ceiling stays at least this far above it.
const BALANCE_CEILING_HEADROOM_PPM: u32 = 100;
/// Floor multiplier by our share of the capacity (upper bound exclusive).
const LIQUIDITY_BUCKETS: [(f64, f64); 6] = [
    (0.10, 3.0),
    (0.25, 2.0),
    (0.40, 1.25),
    (0.60, 1.0),
    (0.75, 0.85),
    (0.90, 0.7),
];
const LIQUIDITY_FULL_MULTIPLIER: f64 = 0.5;
/// The flow and liquidity multipliers together never raise the floor more.
const FLOOR_MULTIPLIER_CAP: f64 = 3.0;
const SOURCE_FLOOR_MULTIPLIER: f64 = 1.25;
const SINK_FLOOR_MULTIPLIER: f64 = 0.8;
/// A source channel's fee covers what refilling it costs, with a margin,
/// once there are enough rebalances to know.
const REBALANCE_COST_MARGIN: f64 = 1.2;
const REBALANCE_COST_MIN_SAMPLES: u64 = 3;
/// Idle decay of the ceiling for fees above this that earn nothing.
const IDLE_DECAY_ABOVE_PPM: u32 = 500;
const IDLE_DECAY: [(u64, f64); 2] = [(7 * DAY_SECS, 0.5), (3 * DAY_SECS, 0.75)];
/// The profitability divisor never takes the ceiling below this share.
const PROFITABILITY_CEILING_MIN_SHARE: f64 = 0.5;

/// What the host measured across the node, loaded once per cycle.
#[derive(Debug, Default)]
pub(crate) struct Signals {
    pub activity: HashMap<String, ChannelActivity>,
    /// Decayed reputation by peer id; empty when reputation is disabled.
    pub reputation: HashMap<String, PeerReputation>,
    pub rebalances: HashMap<String, RebalanceCost>,
    /// Fees earned per channel over [`PROFIT_WINDOW_SECS`].
    pub earned: HashMap<String, Msat>,
}

/// Guidance with the reasons behind it.
#[derive(Debug, Clone, Serialize)]
pub struct GuidanceExplained {
    pub floor_ppm: u32,
    pub floor_causes: Vec<String>,
    pub ceiling_ppm: u32,
    pub ceiling_causes: Vec<String>,
    pub idle_secs: u64,
    /// The peer's decayed, Laplace-smoothed reputation score (see
    /// `revops_store::PeerReputation::score`); `None` when reputation is
    /// disabled or the peer has no evidence yet.
    pub peer_success_ratio: Option<f64>,
    pub marginal_roi: Option<f64>,
    #[serde(skip)]
    pub wit: FeeGuidance,
}

/// Recommend a floor and a ceiling for `channel` within `bounds`.
pub(crate) fn guide(
    channel: &ChannelSnapshot,
    bounds: Bounds,
    flow_state: FlowState,
    feerate_perkw: u32,
    signals: &Signals,
    now: u64,
) -> GuidanceExplained {
    let scid = channel.short_channel_id.as_str();
    let local_share = if channel.capacity_msat.msat() == 0 {
        0.5
    } else {
        channel.local_msat.msat() as f64 / channel.capacity_msat.msat() as f64
    };
    let mut floor_causes = Vec::new();
    let mut ceiling_causes = Vec::new();

    let economic_floor_ppm = economic_floor_ppm(feerate_perkw);
    let rebalance = signals.rebalances.get(scid).copied().unwrap_or_default();
    let rebalance_cost_floor_ppm = match (flow_state, rebalance.average_ppm()) {
        (FlowState::Source, Some(avg_ppm)) if rebalance.count >= REBALANCE_COST_MIN_SAMPLES => {
            round_ppm(avg_ppm * REBALANCE_COST_MARGIN)
        }
        _ => 0,
    };
    let base_floor_ppm = bounds
        .floor_ppm
        .max(economic_floor_ppm)
        .max(rebalance_cost_floor_ppm);
    if base_floor_ppm == rebalance_cost_floor_ppm && rebalance_cost_floor_ppm > bounds.floor_ppm {
        floor_causes.push(format!(
            "rebalance cost {rebalance_cost_floor_ppm} ppm (1.2 × the 30-day average of {} rebalances)",
            rebalance.count
        ));
    } else if base_floor_ppm == economic_floor_ppm && economic_floor_ppm > bounds.floor_ppm {
        floor_causes.push(format!(
            "economic floor {economic_floor_ppm} ppm (open + close at {:.1} sat/vB)",
            sat_per_vbyte(feerate_perkw)
        ));
    } else {
        floor_causes.push(format!("bounds floor {} ppm", bounds.floor_ppm));
    }

    let flow_multiplier = match flow_state {
        FlowState::Source => SOURCE_FLOOR_MULTIPLIER,
        FlowState::Sink => SINK_FLOOR_MULTIPLIER,
        _ => 1.0,
    };
    let liquidity_multiplier = LIQUIDITY_BUCKETS
        .iter()
        .find(|(below, _)| local_share < *below)
        .map_or(LIQUIDITY_FULL_MULTIPLIER, |(_, m)| *m);
    let floor_multiplier = (flow_multiplier * liquidity_multiplier).min(FLOOR_MULTIPLIER_CAP);
    if flow_multiplier != 1.0 {
        floor_causes.push(format!("{} flow ×{flow_multiplier}", flow_name(flow_state)));
    }
    if liquidity_multiplier != 1.0 {
        floor_causes.push(format!(
            "local {:.0}% ×{liquidity_multiplier}",
            local_share * 100.0
        ));
    }
    let mut floor_ppm = round_ppm(f64::from(base_floor_ppm) * floor_multiplier);

    let balance_floor_ppm = BALANCE_FLOORS
        .iter()
        .find(|(below, _)| local_share < *below)
        .map_or(0, |(_, ppm)| *ppm);
    if balance_floor_ppm > floor_ppm {
        floor_ppm = balance_floor_ppm;
        floor_causes.push(format!(
            "balance floor {balance_floor_ppm} ppm (local {:.0}%)",
            local_share * 100.0
        ));
    }
    if floor_ppm > bounds.ceiling_ppm {
        floor_causes.push(format!("held to the bounds ceiling {}", bounds.ceiling_ppm));
    }
    let floor_ppm = bounds.clamp(floor_ppm);

    // The ceiling: profitability, then idle decay, then the balance lift.
    ceiling_causes.push(format!("bounds ceiling {} ppm", bounds.ceiling_ppm));
    let marginal_roi = marginal_roi(
        signals.earned.get(scid).copied().unwrap_or_default(),
        rebalance.fee_msat,
    );
    let profitability_multiplier = profitability_multiplier(marginal_roi);
    let ceiling = (f64::from(bounds.ceiling_ppm) / profitability_multiplier)
        .max(f64::from(bounds.ceiling_ppm) * PROFITABILITY_CEILING_MIN_SHARE);
    if profitability_multiplier > 1.0 {
        ceiling_causes.push(format!(
            "unprofitable (marginal ROI {:.0}%) ÷{profitability_multiplier}",
            marginal_roi.unwrap_or_default() * 100.0
        ));
    }
    let idle_secs = signals.activity.get(scid).map_or(0, |a| a.idle_secs(now));
    let idle_multiplier = if channel.fee_ppm > IDLE_DECAY_ABOVE_PPM {
        IDLE_DECAY
            .iter()
            .find(|(after, _)| idle_secs >= *after)
            .map_or(1.0, |(_, m)| *m)
    } else {
        1.0
    };
    if idle_multiplier != 1.0 {
        ceiling_causes.push(format!(
            "no forward for {:.1} days at {} ppm ×{idle_multiplier}",
            idle_secs as f64 / DAY_SECS as f64,
            channel.fee_ppm
        ));
    }
    let mut ceiling_ppm = round_ppm(ceiling * idle_multiplier);
    if balance_floor_ppm > 0 && ceiling_ppm < floor_ppm + BALANCE_CEILING_HEADROOM_PPM {
        ceiling_ppm = floor_ppm + BALANCE_CEILING_HEADROOM_PPM;
        ceiling_causes.push(format!(
            "lifted to the balance floor + {BALANCE_CEILING_HEADROOM_PPM}"
        ));
    }
    let ceiling_ppm = bounds.clamp(ceiling_ppm).max(floor_ppm);

    let peer_success_ratio = peer_success_ratio(&signals.reputation, &channel.peer_id);
    GuidanceExplained {
        floor_ppm,
        floor_causes,
        ceiling_ppm,
        ceiling_causes,
        idle_secs,
        peer_success_ratio,
        marginal_roi,
        wit: FeeGuidance {
            floor_ppm,
            ceiling_ppm,
            economic_floor_ppm,
            balance_floor_ppm,
            rebalance_cost_floor_ppm,
            flow_multiplier,
            liquidity_multiplier,
            profitability_multiplier,
            idle_multiplier,
            idle_secs,
            peer_success_ratio,
            marginal_roi,
        },
    }
}

/// The peer's reputation score, when there is any evidence behind it.
fn peer_success_ratio(reputation: &HashMap<String, PeerReputation>, peer_id: &str) -> Option<f64> {
    reputation
        .get(peer_id)
        .filter(|r| r.total() > 0.0)
        .map(PeerReputation::score)
}

fn sat_per_vbyte(feerate_perkw: u32) -> f64 {
    // 1 vbyte = 4 weight units.
    f64::from(feerate_perkw) * 4.0 / 1000.0
}

/// Estimated cost (sat) of opening plus closing one channel at
/// `feerate_perkw`, each clamped as in the reference plugin.
pub(crate) fn channel_chain_cost_sat(feerate_perkw: u32) -> f64 {
    let sat_per_vb = sat_per_vbyte(feerate_perkw);
    let open_sat = (OPEN_VBYTES * sat_per_vb).clamp(OPEN_COST_MIN_SAT, CHAIN_COST_MAX_SAT);
    let close_sat = (CLOSE_VBYTES * sat_per_vb).clamp(CLOSE_COST_MIN_SAT, CHAIN_COST_MAX_SAT);
    open_sat + close_sat
}

/// Opening plus closing cost at `feerate_perkw`, amortised over a year at
/// [`AMORTISED_VOLUME_SAT_PER_DAY`], plus the chain-risk premium.
pub(crate) fn economic_floor_ppm(feerate_perkw: u32) -> u32 {
    let sat_per_vb = sat_per_vbyte(feerate_perkw);
    let amortised_ppm =
        channel_chain_cost_sat(feerate_perkw) / (AMORTISED_VOLUME_SAT_PER_DAY * 365.0) * 1e6;
    round_ppm(amortised_ppm + sat_per_vb * RISK_PREMIUM_PPM_PER_SAT_PER_VB)
}

/// (Fees earned − rebalance cost) ÷ rebalance cost; 1.0 (all profit) when
/// it earned without rebalancing; `None` when there is nothing to judge.
fn marginal_roi(earned: Msat, rebalance_cost: Msat) -> Option<f64> {
    let earned_sat = earned.msat() as f64 / 1000.0;
    let cost_sat = rebalance_cost.msat() as f64 / 1000.0;
    if cost_sat == 0.0 {
        return (earned_sat > 0.0).then_some(1.0);
    }
    Some((earned_sat - cost_sat) / cost_sat.max(1.0))
}

fn profitability_multiplier(marginal_roi: Option<f64>) -> f64 {
    match marginal_roi {
        None => 1.0,
        Some(roi) if roi > 0.20 => 0.95,
        Some(roi) if roi >= 0.0 => 1.0,
        Some(roi) if roi >= -0.20 => 1.05,
        Some(roi) if roi >= -0.50 => 1.10,
        Some(_) => 1.15,
    }
}

fn flow_name(flow_state: FlowState) -> &'static str {
    match flow_state {
        FlowState::Source => "source",
        FlowState::Sink => "sink",
        FlowState::Balanced => "balanced",
        FlowState::Congested => "congested",
        FlowState::Unknown => "unknown",
    }
}

fn round_ppm(ppm: f64) -> u32 {
    if ppm.is_finite() && ppm > 0.0 {
        ppm.round().min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPACITY_MSAT: u64 = 10_000_000_000;

    fn channel(local_percent: u64, fee_ppm: u32) -> ChannelSnapshot {
        ChannelSnapshot {
            short_channel_id: "1x1x1".into(),
            peer_id: "02".repeat(33),
            capacity_msat: Msat(CAPACITY_MSAT),
            local_msat: Msat(CAPACITY_MSAT * local_percent / 100),
            fee_ppm,
            ..ChannelSnapshot::default()
        }
    }

    const BOUNDS: Bounds = Bounds {
        floor_ppm: 10,
        ceiling_ppm: 5000,
    };
    const CALM_PERKW: u32 = 253;

    fn guide_simple(local_percent: u64, flow: FlowState, signals: &Signals) -> GuidanceExplained {
        guide(
            &channel(local_percent, 100),
            BOUNDS,
            flow,
            CALM_PERKW,
            signals,
            0,
        )
    }

    #[test]
    fn economic_floor_follows_the_feerate() {
        // 1 sat/vB: clamped minimum costs, ~2 ppm amortised + 3 ppm risk.
        assert_eq!(economic_floor_ppm(250), 5);
        // 25 sat/vB: 3,500 + 5,000 sat → 23 ppm + 75 ppm risk.
        assert_eq!(economic_floor_ppm(6_250), 98);
        assert!(economic_floor_ppm(25_000) > economic_floor_ppm(6_250));
    }

    #[test]
    fn drained_channels_get_balance_floors_with_the_ceiling_above_them() {
        let signals = Signals::default();
        let g = guide_simple(5, FlowState::Balanced, &signals);
        assert_eq!(g.floor_ppm, 500);
        assert!(
            g.floor_causes
                .iter()
                .any(|c| c.contains("balance floor 500"))
        );
        assert!(g.ceiling_ppm >= 600);
        assert_eq!(
            guide_simple(20, FlowState::Balanced, &signals).floor_ppm,
            200
        );
        // 50% local: neither balance floor nor liquidity multiplier.
        assert_eq!(
            guide_simple(50, FlowState::Balanced, &signals).floor_ppm,
            10
        );
    }

    #[test]
    fn a_lowered_ceiling_never_clamps_a_balance_floor_away() {
        let mut signals = Signals::default();
        signals.activity.insert(
            "1x1x1".into(),
            ChannelActivity {
                last_forward_out_at: None,
                first_seen_at: Some(0),
            },
        );
        let bounds = Bounds {
            floor_ppm: 10,
            ceiling_ppm: 800,
        };
        // Idle 8 days at 700 ppm: the ceiling halves to 400, below the floor.
        let g = guide(
            &channel(5, 700),
            bounds,
            FlowState::Sink,
            CALM_PERKW,
            &signals,
            8 * DAY_SECS,
        );
        assert_eq!(g.floor_ppm, 500);
        assert_eq!(g.ceiling_ppm, 600);
        assert_eq!(g.wit.idle_multiplier, 0.5);
    }

    #[test]
    fn idle_expensive_channels_get_a_decaying_ceiling() {
        let mut signals = Signals::default();
        signals.activity.insert(
            "1x1x1".into(),
            ChannelActivity {
                last_forward_out_at: Some(0),
                first_seen_at: Some(0),
            },
        );
        let at = |days: u64, fee_ppm: u32| {
            guide(
                &channel(50, fee_ppm),
                BOUNDS,
                FlowState::Balanced,
                CALM_PERKW,
                &signals,
                days * DAY_SECS,
            )
            .ceiling_ppm
        };
        assert_eq!(at(2, 800), 5000);
        assert_eq!(at(3, 800), 3750);
        assert_eq!(at(7, 800), 2500);
        // Cheap channels are not pushed down by idleness.
        assert_eq!(at(7, 400), 5000);
    }

    #[test]
    fn flow_and_liquidity_multiply_the_floor_up_to_three_times() {
        let mut signals = Signals::default();
        let feerate_perkw = 25_000; // 100 sat/vB: a floor worth multiplying
        let base = economic_floor_ppm(feerate_perkw);
        let g = guide(
            &channel(30, 100),
            BOUNDS,
            FlowState::Source,
            feerate_perkw,
            &signals,
            0,
        );
        assert_eq!(g.floor_ppm, round_ppm(f64::from(base) * 1.25 * 1.25));
        let full = guide(
            &channel(95, 100),
            BOUNDS,
            FlowState::Sink,
            feerate_perkw,
            &signals,
            0,
        );
        assert_eq!(full.floor_ppm, round_ppm(f64::from(base) * 0.8 * 0.5));
        signals.earned.insert("1x1x1".into(), Msat(0));
        let capped = guide(
            &channel(12, 100),
            BOUNDS,
            FlowState::Source,
            feerate_perkw,
            &signals,
            0,
        );
        assert_eq!(capped.floor_ppm, round_ppm(f64::from(base) * 2.5));
    }

    #[test]
    fn source_channels_charge_at_least_their_refill_cost() {
        let mut signals = Signals::default();
        signals.rebalances.insert(
            "1x1x1".into(),
            RebalanceCost {
                count: 3,
                moved_msat: Msat(3_000_000_000),
                fee_msat: Msat(1_500_000),
            },
        );
        // 500 ppm average → 600 ppm floor, then ×1.25 (source) ×1.0 (50%).
        let g = guide_simple(50, FlowState::Source, &signals);
        assert_eq!(g.wit.rebalance_cost_floor_ppm, 600);
        assert_eq!(g.floor_ppm, 750);
        // Not a source, or too few samples: no rebalance-cost floor.
        assert_eq!(
            guide_simple(50, FlowState::Sink, &signals)
                .wit
                .rebalance_cost_floor_ppm,
            0
        );
        signals.rebalances.get_mut("1x1x1").unwrap().count = 2;
        assert_eq!(
            guide_simple(50, FlowState::Source, &signals)
                .wit
                .rebalance_cost_floor_ppm,
            0
        );
    }

    #[test]
    fn unprofitable_channels_get_a_lower_ceiling_but_never_below_half() {
        let mut signals = Signals::default();
        signals.earned.insert("1x1x1".into(), Msat(100_000));
        signals.rebalances.insert(
            "1x1x1".into(),
            RebalanceCost {
                count: 1,
                moved_msat: Msat(1_000_000_000),
                fee_msat: Msat(1_000_000),
            },
        );
        // Earned 100 sat, spent 1,000: ROI −90% → ÷1.15.
        let g = guide_simple(50, FlowState::Balanced, &signals);
        assert_eq!(g.marginal_roi, Some(-0.9));
        assert_eq!(g.ceiling_ppm, round_ppm(5000.0 / 1.15));
        // Earning without rebalancing is all profit: the ceiling is kept.
        signals.rebalances.clear();
        assert_eq!(
            guide_simple(50, FlowState::Balanced, &signals).ceiling_ppm,
            5000
        );
    }

    #[test]
    fn guidance_always_stays_inside_the_bounds() {
        let signals = Signals::default();
        let tight = Bounds {
            floor_ppm: 50,
            ceiling_ppm: 300,
        };
        for local in [0, 5, 20, 50, 95, 100] {
            for perkw in [0, 253, 25_000, u32::MAX] {
                let g = guide(
                    &channel(local, 900),
                    tight,
                    FlowState::Source,
                    perkw,
                    &signals,
                    0,
                );
                assert!(
                    tight.contains(g.floor_ppm) && tight.contains(g.ceiling_ppm),
                    "{g:?}"
                );
                assert!(g.floor_ppm <= g.ceiling_ppm);
            }
        }
    }

    #[test]
    fn the_peers_reputation_is_passed_on_once_there_is_evidence() {
        let mut signals = Signals::default();
        let peer = channel(50, 100).peer_id;
        // No row, or a row without evidence: nothing to say.
        assert_eq!(
            guide_simple(50, FlowState::Balanced, &signals).peer_success_ratio,
            None
        );
        let none = PeerReputation {
            success_score: 0.0,
            failure_score: 0.0,
            updated_at: 0,
        };
        signals.reputation.insert(peer.clone(), none);
        assert_eq!(
            guide_simple(50, FlowState::Balanced, &signals).peer_success_ratio,
            None
        );
        // (2 + 1) / (2 + 0 + 2): smoothed, not the raw 100 %.
        signals.reputation.insert(
            peer,
            PeerReputation {
                success_score: 2.0,
                ..none
            },
        );
        let g = guide_simple(50, FlowState::Balanced, &signals);
        assert_eq!(g.peer_success_ratio, Some(0.75));
        assert_eq!(g.wit.peer_success_ratio, Some(0.75));
    }
}
