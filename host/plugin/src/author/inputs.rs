//! Randomised policy inputs for `policy check`: a population of channels
//! that lives through rounds the way a node's channels live through fee
//! cycles — balances drift, traffic comes and goes, the operator's bounds
//! change now and then — with the odd edge case a live node does produce
//! (an empty or a full side, every HTLC slot taken, a fee of 0, a floor
//! equal to the ceiling, tiny and huge channels, a first decision).
//!
//! Invariants:
//! - A pure function of the seed: the same seed gives the same inputs (and,
//!   for a deterministic policy, the same report).
//! - Every input is one a live host could send: `local ≤ capacity`,
//!   `htlcs ≤ max_htlcs`, `floor ≤ guidance floor ≤ guidance ceiling ≤
//!   ceiling`, 66-hex peer ids, distinct short channel ids, a candidate's
//!   sources distinct and never the destination's peer.
//! - State is carried as the host carries it: a channel's next input holds
//!   the state its last successful decision returned, and its fee is that
//!   decision clamped into the bounds (the host's rail).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use revops_runtime::{
    ChannelFeeInput, FeeBounds, FeeDecision, FeeGuidance, FeerateInfo, FlowState, KellyInput,
    RebalanceCandidate, RebalanceChannel,
};

/// The first round's `now` (unix seconds).
const START_SECS: u64 = 1_750_000_000;
/// Seconds between rounds: the plugin's default fee interval.
const ROUND_SECS: u64 = 1800;
/// Smallest and largest channel capacities, in sat.
const MIN_CAPACITY_SAT: u64 = 20_000;
const MAX_CAPACITY_SAT: u64 = 500_000_000;

/// One channel as the host knows it between rounds.
#[derive(Debug, Clone)]
struct Channel {
    scid: String,
    peer_id: String,
    capacity_msat: u64,
    local_msat: u64,
    fee_ppm: u32,
    fee_base_msat: u32,
    max_htlcs: u32,
    bounds: FeeBounds,
    /// What the policy returned for this channel last time.
    state: Option<Vec<u8>>,
    /// Decided at least once (a first decision looks back 24 h).
    decided: bool,
}

/// The channel population and the generator driving it.
pub struct Population {
    rng: StdRng,
    channels: Vec<Channel>,
    round: u64,
}

/// A random 66-hex-char node id.
fn peer_id(rng: &mut StdRng) -> String {
    let prefix = if rng.random_bool(0.5) { "02" } else { "03" };
    let body: String = (0..32)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect();
    format!("{prefix}{body}")
}

fn random_bounds(rng: &mut StdRng) -> FeeBounds {
    match rng.random_range(0..10) {
        // Pinned: floor == ceiling.
        0 => {
            let fee = rng.random_range(0..=2_000);
            FeeBounds {
                floor_ppm: fee,
                ceiling_ppm: fee,
            }
        }
        // No floor at all.
        1 => FeeBounds {
            floor_ppm: 0,
            ceiling_ppm: rng.random_range(1..=50_000),
        },
        _ => {
            let floor = rng.random_range(0..=500);
            FeeBounds {
                floor_ppm: floor,
                ceiling_ppm: floor + rng.random_range(1..=10_000),
            }
        }
    }
}

/// A flow state, congestion aside (that follows the HTLCs in flight).
fn random_flow_state(rng: &mut StdRng) -> FlowState {
    match rng.random_range(0..100) {
        0..10 => FlowState::Unknown,
        10..40 => FlowState::Source,
        40..70 => FlowState::Sink,
        70..98 => FlowState::Balanced,
        _ => FlowState::Congested,
    }
}

/// Guidance inside `bounds`, with factors in the ranges the host produces.
fn random_guidance(rng: &mut StdRng, bounds: FeeBounds, idle_secs: u64) -> FeeGuidance {
    let (lo, hi) = (bounds.floor_ppm, bounds.ceiling_ppm);
    let floor = rng.random_range(lo..=hi);
    let ceiling = rng.random_range(floor..=hi);
    let pick = |rng: &mut StdRng, choices: &[f64]| choices[rng.random_range(0..choices.len())];
    FeeGuidance {
        floor_ppm: floor,
        ceiling_ppm: ceiling,
        economic_floor_ppm: rng.random_range(0..=floor.max(1)),
        balance_floor_ppm: pick(rng, &[0.0, 200.0, 500.0]) as u32,
        rebalance_cost_floor_ppm: if rng.random_bool(0.2) {
            rng.random_range(0..=2_000)
        } else {
            0
        },
        flow_multiplier: pick(rng, &[0.8, 1.0, 1.25]),
        liquidity_multiplier: pick(rng, &[0.5, 0.7, 0.85, 1.0, 1.25, 2.0, 3.0]),
        profitability_multiplier: rng.random_range(0.95..=1.15),
        idle_multiplier: pick(rng, &[0.5, 0.75, 1.0]),
        idle_secs,
        peer_success_ratio: rng.random_bool(0.7).then(|| rng.random_range(0.0..=1.0)),
        marginal_roi: rng.random_bool(0.5).then(|| rng.random_range(-1.0..=5.0)),
    }
}

impl Population {
    /// `channels` channels, some of them sharing a peer, from `seed`.
    pub fn new(channels: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut peers: Vec<String> = Vec::new();
        let mut list = Vec::with_capacity(channels);
        for index in 0..channels {
            // About one channel in five is a second channel to a known peer.
            let peer = if !peers.is_empty() && rng.random_bool(0.2) {
                peers[rng.random_range(0..peers.len())].clone()
            } else {
                let id = peer_id(&mut rng);
                peers.push(id.clone());
                id
            };
            let capacity_sat = match rng.random_range(0..10) {
                0 => MIN_CAPACITY_SAT,
                1 => MAX_CAPACITY_SAT,
                // Log-uniform in between: many small channels, few large.
                _ => {
                    let (lo, hi) = (
                        (MIN_CAPACITY_SAT as f64).ln(),
                        (MAX_CAPACITY_SAT as f64).ln(),
                    );
                    rng.random_range(lo..hi).exp() as u64
                }
            };
            let capacity_msat = capacity_sat * 1000;
            let local_msat = match rng.random_range(0..8) {
                0 => 0,
                1 => capacity_msat,
                _ => rng.random_range(0..=capacity_msat),
            };
            let bounds = random_bounds(&mut rng);
            let fee_ppm = match rng.random_range(0..8) {
                0 => 0,
                1 => rng.random_range(0..=100_000),
                _ => rng.random_range(bounds.floor_ppm..=bounds.ceiling_ppm),
            };
            list.push(Channel {
                scid: format!(
                    "{}x{}x{}",
                    700_000 + index * 13 + rng.random_range(0..13),
                    rng.random_range(0..3000),
                    rng.random_range(0..4)
                ),
                peer_id: peer,
                capacity_msat,
                local_msat,
                fee_ppm,
                fee_base_msat: if rng.random_bool(0.7) { 1000 } else { 0 },
                max_htlcs: if rng.random_bool(0.8) {
                    483
                } else {
                    rng.random_range(1..=483)
                },
                bounds,
                state: None,
                decided: false,
            });
        }
        Population {
            rng,
            channels: list,
            round: 0,
        }
    }

    /// The `now` of the current round.
    pub fn now(&self) -> u64 {
        START_SECS + self.round * ROUND_SECS
    }

    /// Moves to the next round: balances drift, the operator sometimes
    /// changes a channel's bounds, and the odd channel's state is reset (as
    /// the operator's `reset` would).
    pub fn advance(&mut self) {
        self.round += 1;
        let rng = &mut self.rng;
        for channel in &mut self.channels {
            let capacity = channel.capacity_msat;
            let drift = rng.random_range(0..=capacity / 5);
            channel.local_msat = if rng.random_bool(0.5) {
                channel.local_msat.saturating_add(drift).min(capacity)
            } else {
                channel.local_msat.saturating_sub(drift)
            };
            if rng.random_bool(0.03) {
                channel.bounds = random_bounds(rng);
            }
            if rng.random_bool(0.02) {
                channel.state = None;
            }
        }
    }

    /// This round's fee inputs, one per channel.
    pub fn fee_inputs(&mut self) -> Vec<ChannelFeeInput> {
        let now = self.now();
        let rng = &mut self.rng;
        self.channels
            .iter()
            .map(|channel| {
                let busy = rng.random_bool(0.6);
                let forwarded_out_msat = if busy {
                    rng.random_range(0..=channel.capacity_msat / 2)
                } else {
                    0
                };
                let fees_earned_msat = if busy {
                    forwarded_out_msat / 1_000_000 * u64::from(channel.fee_ppm)
                        + u64::from(channel.fee_base_msat) * rng.random_range(0..=20)
                } else {
                    0
                };
                let htlcs_in_flight = match rng.random_range(0..20) {
                    0 => channel.max_htlcs,
                    1..=6 => rng.random_range(0..=channel.max_htlcs / 2),
                    _ => 0,
                };
                let flow_state = if htlcs_in_flight * 5 >= channel.max_htlcs * 4 {
                    FlowState::Congested
                } else {
                    random_flow_state(rng)
                };
                let idle_secs = if busy {
                    rng.random_range(0..ROUND_SECS)
                } else {
                    rng.random_range(0..=30 * 86_400)
                };
                let current_perkw = rng.random_range(253..=100_000);
                ChannelFeeInput {
                    short_channel_id: channel.scid.clone(),
                    peer_id: channel.peer_id.clone(),
                    now,
                    seed: rng.random(),
                    capacity_msat: channel.capacity_msat,
                    local_msat: channel.local_msat,
                    fee_ppm: channel.fee_ppm,
                    fee_base_msat: channel.fee_base_msat,
                    htlcs_in_flight,
                    max_htlcs: channel.max_htlcs,
                    fees_earned_msat,
                    forwarded_out_msat,
                    window_secs: if channel.decided { ROUND_SECS } else { 86_400 },
                    flow_state,
                    bounds: channel.bounds,
                    guidance: random_guidance(rng, channel.bounds, idle_secs),
                    feerates: FeerateInfo {
                        current_perkw,
                        average_24h_perkw: if rng.random_bool(0.5) {
                            current_perkw
                        } else {
                            rng.random_range(253..=100_000)
                        },
                    },
                    state: channel.state.clone(),
                }
            })
            .collect()
    }

    /// Takes a successful batch's decisions (one per channel, in order) as
    /// the host does: the state is kept, the fee clamped into the bounds.
    pub fn apply(&mut self, decisions: &[FeeDecision]) {
        for (channel, decision) in self.channels.iter_mut().zip(decisions) {
            let bounds = channel.bounds;
            channel.fee_ppm = decision
                .fee_ppm
                .clamp(bounds.floor_ppm, bounds.ceiling_ppm.max(bounds.floor_ppm));
            channel.state = decision.state.clone();
            channel.decided = true;
        }
    }

    fn rebalance_channel(&mut self, index: usize) -> RebalanceChannel {
        let channel = &self.channels[index];
        let daily_out_msat = match self.rng.random_range(0..4) {
            0 => 0,
            _ => self.rng.random_range(0..=channel.capacity_msat),
        };
        let local_pct = channel.local_msat * 100 / channel.capacity_msat.max(1);
        let flow_state = match local_pct {
            0..=20 => FlowState::Source,
            80.. => FlowState::Sink,
            _ => FlowState::Balanced,
        };
        RebalanceChannel {
            short_channel_id: channel.scid.clone(),
            peer_id: channel.peer_id.clone(),
            capacity_msat: channel.capacity_msat,
            local_msat: channel.local_msat,
            fee_ppm: channel.fee_ppm,
            daily_out_msat,
            flow_state,
        }
    }

    /// Up to `count` rebalance candidates over the population: a
    /// destination and 1–5 sources on other peers. Fewer when the
    /// population has too few peers to offer a source.
    pub fn candidates(&mut self, count: usize) -> Vec<RebalanceCandidate> {
        let now = self.now();
        let mut candidates = Vec::with_capacity(count);
        // The host proposes only channels with room to refill.
        let refillable: Vec<usize> = (0..self.channels.len())
            .filter(|&i| self.channels[i].local_msat < self.channels[i].capacity_msat)
            .collect();
        for _ in 0..count {
            let Some(&destination) =
                refillable.get(self.rng.random_range(0..refillable.len().max(1)))
            else {
                break;
            };
            let peer = self.channels[destination].peer_id.clone();
            let mut others: Vec<usize> = (0..self.channels.len())
                .filter(|&i| self.channels[i].peer_id != peer)
                .collect();
            if others.is_empty() {
                break;
            }
            let wanted = self.rng.random_range(1..=5).min(others.len());
            let mut sources = Vec::with_capacity(wanted);
            for _ in 0..wanted {
                let pick = others.swap_remove(self.rng.random_range(0..others.len()));
                sources.push(self.rebalance_channel(pick));
            }
            let destination = self.rebalance_channel(destination);
            let room = destination.capacity_msat - destination.local_msat;
            let amount_msat = self.rng.random_range(1..=room.min(5_000_000_000));
            let rng = &mut self.rng;
            candidates.push(RebalanceCandidate {
                now,
                seed: rng.random(),
                destination,
                sources,
                amount_msat,
                inbound_fee_estimate_ppm: rng.random_range(0..=3_000),
                cooldown_days: rng.random_range(0.1..=7.0),
                health_multiplier: [0.75, 1.0, 1.5, 2.0][rng.random_range(0..4)],
                min_profit_msat: rng.random_range(0..=100_000),
                kelly: rng.random_bool(0.5).then(|| KellyInput {
                    success_probability: rng.random_range(0.0..=1.0),
                    fraction: rng.random_range(0.05..=1.0),
                }),
            });
        }
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_ones_a_live_host_could_send() {
        let mut population = Population::new(200, 7);
        for _ in 0..5 {
            let inputs = population.fee_inputs();
            assert_eq!(inputs.len(), 200);
            let mut scids: Vec<&str> = inputs.iter().map(|i| i.short_channel_id.as_str()).collect();
            scids.sort_unstable();
            scids.dedup();
            assert_eq!(scids.len(), 200, "short channel ids are distinct");
            for input in &inputs {
                assert!(input.local_msat <= input.capacity_msat);
                assert!(input.htlcs_in_flight <= input.max_htlcs);
                let (b, g) = (input.bounds, &input.guidance);
                assert!(b.floor_ppm <= g.floor_ppm && g.floor_ppm <= g.ceiling_ppm);
                assert!(g.ceiling_ppm <= b.ceiling_ppm);
                assert_eq!(input.peer_id.len(), 66);
            }
            for candidate in population.candidates(20) {
                let destination = &candidate.destination;
                assert!(!candidate.sources.is_empty());
                assert!(candidate.amount_msat >= 1);
                assert!(
                    candidate.amount_msat <= destination.capacity_msat - destination.local_msat
                );
                assert!(
                    candidate
                        .sources
                        .iter()
                        .all(|s| s.peer_id != destination.peer_id
                            && s.short_channel_id != destination.short_channel_id)
                );
            }
            population.advance();
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_inputs_and_state_is_carried() {
        let inputs = |seed| Population::new(30, seed).fee_inputs();
        assert_eq!(inputs(3), inputs(3));
        assert_ne!(inputs(3), inputs(4));

        let mut population = Population::new(2, 1);
        let first = population.fee_inputs();
        assert!(
            first
                .iter()
                .all(|i| i.state.is_none() && i.window_secs == 86_400)
        );
        let decisions: Vec<FeeDecision> = first
            .iter()
            .map(|i| FeeDecision {
                short_channel_id: i.short_channel_id.clone(),
                fee_ppm: u32::MAX,
                step: "up".to_string(),
                reason: String::new(),
                state: Some(vec![1, 2, 3]),
            })
            .collect();
        population.apply(&decisions);
        population.advance();
        let second = population.fee_inputs();
        for (before, after) in first.iter().zip(&second) {
            assert_eq!(after.state.as_deref(), Some(&[1u8, 2, 3][..]));
            assert_eq!(after.window_secs, ROUND_SECS);
            assert!(after.fee_ppm <= after.bounds.ceiling_ppm.max(before.bounds.ceiling_ppm));
            assert_eq!(after.now, before.now + ROUND_SECS);
        }
    }
}
