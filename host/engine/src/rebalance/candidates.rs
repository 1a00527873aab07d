//! Candidate selection: which depleted channels may be refilled, from which
//! full or stagnant ones, and how much to propose. Pure: the cycle reads the
//! node and the store, this decides.
//!
//! Peer rebalance modes (`peer_policies.rebalance_mode`), from the point of
//! view of the peer's channels:
//! - `enabled`: destination (refilled) and source (drained);
//! - `sink_only`: destination only — liquidity may flow INTO our side;
//! - `source_only`: source only — liquidity may flow OUT of our side;
//! - `disabled`: neither (and sling is told to avoid the peer altogether).
//!
//! Invariants:
//! - A destination and its sources never share a peer: a circle through the
//!   same peer moves nothing but pays fees.
//! - A channel is never both a destination and a source of one candidate.
//! - Every depleted channel not put to the scorer is returned with the rule
//!   that stopped it; nothing is dropped silently.
//! - The proposed amount is a whole number of satoshi in
//!   [`min_amount_sat`, `max_amount_sat`], at most what the channel needs to
//!   reach its target and never more than its remote side can take.
//!
//! [`min_amount_sat`]: RebalanceSettings::min_amount_sat
//! [`max_amount_sat`]: RebalanceSettings::max_amount_sat

use crate::inputs::{flow_state_for, seed_for};
use crate::rebalance::controls::{check_destination, check_velocity};
use crate::rebalance::report::{CandidateDecision, Decision, SkipRule};
use crate::rebalance::settings::RebalanceSettings;
use revops_core::{ChannelSnapshot, Msat};
use revops_runtime::{FlowState, KellyInput, RebalanceCandidate, RebalanceChannel};
use revops_store::{ChannelFlow, DestinationHistory, PeerReputation, RebalanceMode};
use std::collections::{HashMap, HashSet};

const DAY_SECS: f64 = 86_400.0;
/// A balanced channel (our share within this band) that barely moves is
/// stagnant: its liquidity is better used elsewhere (the reference's rule).
const STAGNANT_BAND: (f64, f64) = (0.4, 0.6);
const STAGNANT_MAX_TURNOVER_PER_DAY: f64 = 0.0015;
/// `target = min(capacity × ratio, local + this × daily volume)`: never
/// refill more than a few days of outflow.
const TARGET_DAYS_OF_VOLUME: u64 = 3;
/// Kelly's success probability when the peer has no reputation (the
/// Laplace-smoothed score of no evidence).
const UNKNOWN_SUCCESS_PROBABILITY: f64 = 0.5;

/// Whether the mode lets the peer's channel be refilled.
pub fn may_be_destination(mode: RebalanceMode) -> bool {
    matches!(mode, RebalanceMode::Enabled | RebalanceMode::SinkOnly)
}

/// Whether the mode lets the peer's channel be drained.
pub fn may_be_source(mode: RebalanceMode) -> bool {
    matches!(mode, RebalanceMode::Enabled | RebalanceMode::SourceOnly)
}

/// Everything selection looks at, read once per cycle.
pub struct SelectionInputs<'a> {
    pub channels: &'a [ChannelSnapshot],
    pub flows: &'a HashMap<String, ChannelFlow>,
    /// Effective (unexpired) mode per peer; absent = `enabled`.
    pub modes: &'a HashMap<String, RebalanceMode>,
    pub histories: &'a HashMap<String, DestinationHistory>,
    /// Channels already being rebalanced: our running rows and sling jobs.
    pub busy: &'a HashSet<String>,
    /// Decayed reputation by peer id: the destination peer's score is
    /// Kelly's success probability (0.5 for a peer missing here).
    pub reputation: &'a HashMap<String, PeerReputation>,
    /// The NNLB budget multiplier every candidate carries this cycle, in
    /// [`crate::health::MIN_MULTIPLIER`, `crate::health::MAX_MULTIPLIER`].
    pub health_multiplier: f64,
    pub now: u64,
}

/// The candidates for the scorer, and every depleted channel that is not one.
#[derive(Debug, Default)]
pub struct Selection {
    pub candidates: Vec<RebalanceCandidate>,
    pub skipped: Vec<CandidateDecision>,
}

/// Lightning channels that can carry a rebalance right now.
pub fn usable(channel: &ChannelSnapshot) -> bool {
    channel.state == "CHANNELD_NORMAL" && channel.peer_connected
}

pub fn select(settings: &RebalanceSettings, inputs: &SelectionInputs<'_>) -> Selection {
    let mode_of = |peer: &str| {
        inputs
            .modes
            .get(peer)
            .copied()
            .unwrap_or(RebalanceMode::Enabled)
    };
    let sources: Vec<&ChannelSnapshot> = inputs
        .channels
        .iter()
        .filter(|c| usable(c) && may_be_source(mode_of(&c.peer_id)))
        .filter(|c| !inputs.busy.contains(&c.short_channel_id))
        .filter(|c| is_source(settings, c, inputs.flows.get(&c.short_channel_id)))
        .collect();

    let mut selection = Selection::default();
    for channel in inputs.channels.iter().filter(|c| usable(c)) {
        if channel.local_ratio() >= settings.destination_max_outbound_ratio {
            continue;
        }
        let decided = |decision: Decision| CandidateDecision {
            destination: channel.short_channel_id.clone(),
            peer_id: channel.peer_id.clone(),
            sources: Vec::new(),
            amount_msat: Msat(0),
            decision,
        };
        match destination(settings, inputs, channel, &mode_of) {
            Err(Gate::Skip(rule, detail)) => selection
                .skipped
                .push(decided(Decision::Skipped { rule, detail })),
            Err(Gate::Refuse(refusal)) => selection.skipped.push(decided(Decision::Refused {
                detail: refusal.to_string(),
                refusal,
            })),
            Ok(amount_msat) => {
                let mut offered: Vec<&ChannelSnapshot> = sources
                    .iter()
                    .copied()
                    .filter(|s| s.peer_id != channel.peer_id)
                    .collect();
                if offered.is_empty() {
                    selection.skipped.push(decided(Decision::Skipped {
                        rule: SkipRule::NoSources,
                        detail: "no full or stagnant channel to another peer may be drained"
                            .to_string(),
                    }));
                    continue;
                }
                offered.sort_by(|a, b| source_score(b).total_cmp(&source_score(a)));
                let flow = |c: &ChannelSnapshot| inputs.flows.get(&c.short_channel_id);
                let as_wit = |c: &ChannelSnapshot| wit_channel(settings, c, flow(c));
                selection.candidates.push(RebalanceCandidate {
                    now: inputs.now,
                    seed: seed_for(&channel.short_channel_id, inputs.now),
                    destination: as_wit(channel),
                    sources: offered.into_iter().map(as_wit).collect(),
                    amount_msat: amount_msat.msat(),
                    inbound_fee_estimate_ppm: settings.inbound_fee_estimate_ppm,
                    cooldown_days: settings.capital.cooldown_secs as f64 / DAY_SECS,
                    health_multiplier: inputs.health_multiplier,
                    min_profit_msat: settings.min_profit_sat.saturating_mul(1000),
                    kelly: settings.kelly_fraction.map(|fraction| KellyInput {
                        success_probability: inputs
                            .reputation
                            .get(&channel.peer_id)
                            .map_or(UNKNOWN_SUCCESS_PROBABILITY, PeerReputation::score),
                        fraction,
                    }),
                });
            }
        }
    }
    selection
}

enum Gate {
    Skip(SkipRule, String),
    Refuse(crate::rebalance::controls::Refusal),
}

/// The gates a depleted channel passes to become a destination, and the
/// amount to propose for it.
fn destination(
    settings: &RebalanceSettings,
    inputs: &SelectionInputs<'_>,
    channel: &ChannelSnapshot,
    mode_of: &dyn Fn(&str) -> RebalanceMode,
) -> Result<Msat, Gate> {
    let scid = &channel.short_channel_id;
    let flow = inputs.flows.get(scid);
    let mode = mode_of(&channel.peer_id);
    if !may_be_destination(mode) {
        return Err(Gate::Skip(
            SkipRule::PeerMode,
            format!("peer rebalance mode `{}` forbids refilling", mode.as_str()),
        ));
    }
    if inputs.busy.contains(scid) {
        return Err(Gate::Skip(
            SkipRule::Busy,
            "a rebalance or sling job is already running for it".to_string(),
        ));
    }
    let state = flow_state_for(
        channel,
        settings.congestion_threshold,
        flow.map(|f| f.flow_state.as_str()),
    );
    match state {
        FlowState::Congested => {
            return Err(Gate::Skip(
                SkipRule::Congested,
                format!(
                    "{} of {} HTLC slots in use",
                    channel.htlcs_in_flight, channel.max_htlcs
                ),
            ));
        }
        FlowState::Sink => {
            return Err(Gate::Skip(
                SkipRule::Sink,
                "more arrives than leaves: it refills by itself".to_string(),
            ));
        }
        _ => {}
    }
    let history = inputs.histories.get(scid).copied().unwrap_or_default();
    check_destination(&settings.capital, history, inputs.now).map_err(Gate::Refuse)?;
    let daily_out_msat = flow.map_or(0, |f| f.out_msat_per_day);
    check_velocity(
        &settings.capital,
        daily_out_msat as f64,
        channel.capacity_msat,
    )
    .map_err(Gate::Refuse)?;

    let capacity = channel.capacity_msat.msat();
    let local = channel.local_msat.msat();
    let target = ((capacity as f64 * settings.target_ratio) as u64)
        .min(local.saturating_add(daily_out_msat.saturating_mul(TARGET_DAYS_OF_VOLUME)));
    let needed = target.saturating_sub(local);
    // Never ask for more than the remote side holds.
    let headroom = capacity.saturating_sub(local);
    let amount_sat = needed
        .min(headroom)
        .min(settings.max_amount_sat.saturating_mul(1000))
        / 1000;
    if amount_sat < settings.min_amount_sat {
        return Err(Gate::Skip(
            SkipRule::BelowMinAmount,
            format!(
                "needs {amount_sat} sat to reach its target, less than {} sat",
                settings.min_amount_sat
            ),
        ));
    }
    Ok(Msat(amount_sat * 1000))
}

/// Full on our side, or balanced but idle.
fn is_source(
    settings: &RebalanceSettings,
    channel: &ChannelSnapshot,
    flow: Option<&ChannelFlow>,
) -> bool {
    let ratio = channel.local_ratio();
    if ratio > settings.source_min_outbound_ratio {
        return true;
    }
    // Stagnation needs a measured flow: no analysis yet is not "idle".
    let Some(flow) = flow else {
        return false;
    };
    let turnover = if channel.capacity_msat.msat() == 0 {
        0.0
    } else {
        (flow.in_msat_per_day + flow.out_msat_per_day) as f64 / channel.capacity_msat.msat() as f64
    };
    (STAGNANT_BAND.0..=STAGNANT_BAND.1).contains(&ratio) && turnover < STAGNANT_MAX_TURNOVER_PER_DAY
}

/// The reference's ranking: fuller and cheaper first.
fn source_score(channel: &ChannelSnapshot) -> f64 {
    channel.local_ratio() * 50.0 - f64::from(channel.fee_ppm) / 10.0
}

pub(crate) fn wit_channel(
    settings: &RebalanceSettings,
    channel: &ChannelSnapshot,
    flow: Option<&ChannelFlow>,
) -> RebalanceChannel {
    RebalanceChannel {
        short_channel_id: channel.short_channel_id.clone(),
        peer_id: channel.peer_id.clone(),
        capacity_msat: channel.capacity_msat.msat(),
        local_msat: channel.local_msat.msat(),
        fee_ppm: channel.fee_ppm,
        daily_out_msat: flow.map_or(0, |f| f.out_msat_per_day),
        flow_state: flow_state_for(
            channel,
            settings.congestion_threshold,
            flow.map(|f| f.flow_state.as_str()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAT: u64 = 1000;

    fn channel(scid: &str, peer: &str, local_pct: u64, fee_ppm: u32) -> ChannelSnapshot {
        ChannelSnapshot {
            short_channel_id: scid.to_string(),
            peer_id: peer.to_string(),
            peer_connected: true,
            state: "CHANNELD_NORMAL".to_string(),
            capacity_msat: Msat(1_000_000 * SAT),
            local_msat: Msat(local_pct * 10_000 * SAT),
            fee_base_msat: 0,
            fee_ppm,
            htlcs_in_flight: 0,
            max_htlcs: 30,
        }
    }

    fn flow(scid: &str, state: &str, out_sat_per_day: u64) -> (String, ChannelFlow) {
        (
            scid.to_string(),
            ChannelFlow {
                short_channel_id: scid.to_string(),
                flow_state: state.to_string(),
                flow_ratio: 0.0,
                in_msat_per_day: 0,
                out_msat_per_day: out_sat_per_day * SAT,
                forwards: 10,
                inferred: false,
                updated_at: 0,
            },
        )
    }

    fn run(
        channels: &[ChannelSnapshot],
        flows: &HashMap<String, ChannelFlow>,
        modes: &HashMap<String, RebalanceMode>,
    ) -> Selection {
        select(
            &RebalanceSettings::default(),
            &SelectionInputs {
                channels,
                flows,
                modes,
                histories: &HashMap::new(),
                busy: &HashSet::new(),
                reputation: &HashMap::new(),
                health_multiplier: 1.0,
                now: 1_000,
            },
        )
    }

    #[test]
    fn a_depleted_busy_channel_is_refilled_from_full_channels_of_other_peers() {
        let channels = [
            channel("1x1x1", "A", 10, 800),
            channel("2x2x2", "A", 95, 10),
            channel("3x3x3", "B", 90, 100),
            channel("4x4x4", "C", 50, 100),
        ];
        let flows = [flow("1x1x1", "source", 200_000)].into_iter().collect();
        let selection = run(&channels, &flows, &HashMap::new());
        assert!(selection.skipped.is_empty(), "{:?}", selection.skipped);
        let candidate = &selection.candidates[0];
        assert_eq!(candidate.destination.short_channel_id, "1x1x1");
        // Same peer A never drained for A; 4x4x4 has no measured flow.
        let sources: Vec<_> = candidate
            .sources
            .iter()
            .map(|s| &s.short_channel_id)
            .collect();
        assert_eq!(sources, ["3x3x3"]);
        // Target 500k; 3 days of 200k/day allow 600k; 400k needed.
        assert_eq!(candidate.amount_msat, 400_000 * SAT);
    }

    #[test]
    fn kelly_reads_the_destination_peers_reputation_and_the_multiplier_is_passed_on() {
        let channels = [
            channel("1x1x1", "A", 10, 800),
            channel("5x5x5", "C", 10, 800),
            channel("3x3x3", "B", 90, 100),
        ];
        let flows = [
            flow("1x1x1", "source", 200_000),
            flow("5x5x5", "source", 200_000),
        ]
        .into_iter()
        .collect();
        // A: 8 settled, 0 failed → (8 + 1) / (8 + 2). B (a source) is
        // irrelevant; C has no record → 0.5.
        let reputation = [(
            "A".to_string(),
            PeerReputation {
                success_score: 8.0,
                failure_score: 0.0,
                updated_at: 0,
            },
        )]
        .into_iter()
        .collect();
        let settings = RebalanceSettings {
            kelly_fraction: Some(0.5),
            ..RebalanceSettings::default()
        };
        let selection = select(
            &settings,
            &SelectionInputs {
                channels: &channels,
                flows: &flows,
                modes: &HashMap::new(),
                histories: &HashMap::new(),
                busy: &HashSet::new(),
                reputation: &reputation,
                health_multiplier: 2.0,
                now: 1_000,
            },
        );
        let kelly = |scid: &str| {
            let c = selection
                .candidates
                .iter()
                .find(|c| c.destination.short_channel_id == scid)
                .unwrap();
            assert_eq!(c.health_multiplier, 2.0);
            c.kelly.unwrap()
        };
        assert_eq!(kelly("1x1x1").success_probability, 0.9);
        assert_eq!(kelly("1x1x1").fraction, 0.5);
        assert_eq!(kelly("5x5x5").success_probability, 0.5);
    }

    #[test]
    fn modes_gate_both_ends_and_idle_channels_are_refused() {
        let channels = [
            channel("1x1x1", "A", 10, 800),
            channel("3x3x3", "B", 90, 100),
            channel("5x5x5", "C", 5, 800),
        ];
        let flows = [flow("1x1x1", "source", 200_000)].into_iter().collect();
        let modes = [("A".to_string(), RebalanceMode::SourceOnly)]
            .into_iter()
            .collect();
        let selection = run(&channels, &flows, &modes);
        assert!(selection.candidates.is_empty());
        let keys: Vec<_> = selection.skipped.iter().map(|s| s.decision.key()).collect();
        assert_eq!(keys, ["peer_mode", "idle"]);

        let modes = [("B".to_string(), RebalanceMode::SinkOnly)]
            .into_iter()
            .collect();
        let selection = run(&channels, &flows, &modes);
        assert_eq!(selection.skipped[0].decision.key(), "no_sources");
    }
}
