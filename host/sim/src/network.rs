//! `SimNetwork`: the simulated node's whole state, its constructor, read
//! access and the test knobs. The traffic model lives in `model.rs`, the RPC
//! face in `rpc/`.
//!
//! Invariants:
//! - All mutation goes through `&mut self`; nothing is shared or global, so two
//!   networks built from the same scenario and driven by the same calls produce
//!   byte-identical outputs.
//! - The two weight trees always equal what `model::demand_weight` and
//!   `model::inbound_weight` would compute from the channels now; every knob
//!   that changes a channel refreshes them.

use crate::channel::{ChannelState, ChannelView, SimChannel};
use crate::feerate::FeerateModel;
use crate::forwards::ForwardLog;
use crate::ids::{Domain, NodeKeys, OUR_NODE_INDEX, hash_hex, mix64};
use crate::rpc::SimRpcError;
use crate::sampling::{Draws, WeightTree};
use crate::scenario::{PluginSpec, Scenario, TrafficParams};
use crate::sling::{RebalanceOutcome, RebalanceRecord, SlingState};
use revops_core::ForwardRecord;
use serde_json::Value;
use std::collections::HashMap;

/// Errors of the test knobs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("no channel with short_channel_id `{0}`")]
    UnknownChannel(String),
    #[error("{requested_msat} msat does not fit in channel `{scid}` of {capacity_msat} msat")]
    BeyondCapacity {
        scid: String,
        requested_msat: u64,
        capacity_msat: u64,
    },
}

/// One `setchannel` request the simulated lightningd received.
#[derive(Debug, Clone, PartialEq)]
pub struct SetchannelCall {
    /// Simulated unix seconds when it arrived.
    pub at_secs: u64,
    /// The params exactly as sent (object or array).
    pub params: Value,
    /// The scids it changed, or the error lightningd answered.
    pub outcome: Result<Vec<String>, SimRpcError>,
}

/// A confirmed on-chain output of our wallet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WalletOutput {
    pub(crate) txid: String,
    pub(crate) output: u32,
    pub(crate) amount_msat: u64,
    pub(crate) scriptpubkey: String,
    pub(crate) blockheight: u32,
}

pub(crate) const HTLC_TICK_MS: u64 = 10 * 60 * 1000;
pub(crate) const FEERATE_TICK_MS: u64 = 60 * 60 * 1000;
const MS_PER_BLOCK: u64 = 600_000;

/// The simulated routing node and the traffic around it.
#[derive(Debug, Clone)]
pub struct SimNetwork {
    pub(crate) seed: u64,
    pub(crate) start_ms: u64,
    pub(crate) start_blockheight: u32,
    pub(crate) network_name: String,
    pub(crate) alias: String,
    pub(crate) lightning_dir: String,
    pub(crate) our_node_id: String,
    pub(crate) traffic: TrafficParams,
    pub(crate) other_plugins: Vec<PluginSpec>,
    pub(crate) wallet: Vec<WalletOutput>,
    pub(crate) channels: Vec<SimChannel>,
    /// Index → scid, for rendering compact forward records.
    pub(crate) scids: Vec<String>,
    pub(crate) by_scid: HashMap<String, usize>,
    pub(crate) now_ms: u64,
    pub(crate) draws: Draws,
    pub(crate) feerate: FeerateModel,
    pub(crate) demand: WeightTree,
    pub(crate) inbound: WeightTree,
    pub(crate) next_attempt_ms: Option<u64>,
    pub(crate) next_htlc_tick_ms: u64,
    pub(crate) next_feerate_tick_ms: u64,
    pub(crate) forwards: ForwardLog,
    /// Fees of the pre-generated history (in `getinfo.fees_collected_msat`).
    pub(crate) history_fees_msat: u64,
    pub(crate) setchannel_calls: Vec<SetchannelCall>,
    /// The simulated sling (inert unless `other_plugins` lists sling).
    pub(crate) sling: SlingState,
}

impl SimNetwork {
    pub fn new(scenario: Scenario) -> SimNetwork {
        let Scenario {
            seed,
            start_time_secs,
            start_blockheight,
            network,
            alias,
            channels: specs,
            feerate,
            traffic,
            other_plugins,
            sling,
            wallet_outputs_sat,
            historical_forwards,
            history_days,
            lightning_dir,
        } = scenario;
        let start_ms = start_time_secs.saturating_mul(1000);
        let channels: Vec<SimChannel> = specs
            .into_iter()
            .enumerate()
            .map(|(i, spec)| SimChannel::new(spec, seed, i, start_time_secs))
            .collect();
        let scids: Vec<String> = channels
            .iter()
            .map(|c| c.spec.short_channel_id.clone())
            .collect();
        let by_scid = scids
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i))
            .collect();
        let wallet = wallet_outputs_sat
            .iter()
            .enumerate()
            .map(|(i, sat)| WalletOutput {
                txid: hash_hex(seed, Domain::WalletTxid, i as u64),
                output: (mix64(seed ^ i as u64) % 4) as u32,
                amount_msat: sat.saturating_mul(1000),
                scriptpubkey: format!("5120{}", hash_hex(seed, Domain::ScriptPubkey, i as u64)),
                blockheight: start_blockheight.saturating_sub(1_000 + 37 * i as u32),
            })
            .collect();
        let n = channels.len();
        let mut net = SimNetwork {
            seed,
            start_ms,
            start_blockheight,
            network_name: network,
            alias,
            lightning_dir,
            our_node_id: NodeKeys::new(seed).node_id(OUR_NODE_INDEX),
            traffic,
            other_plugins,
            wallet,
            channels,
            scids,
            by_scid,
            now_ms: start_ms,
            draws: Draws::new(seed),
            feerate: FeerateModel::new(feerate),
            demand: WeightTree::new(n),
            inbound: WeightTree::new(n),
            next_attempt_ms: None,
            next_htlc_tick_ms: start_ms + HTLC_TICK_MS,
            next_feerate_tick_ms: start_ms + FEERATE_TICK_MS,
            forwards: ForwardLog::with_capacity(historical_forwards),
            history_fees_msat: 0,
            setchannel_calls: Vec::new(),
            sling: SlingState::new(seed, sling),
        };
        for i in 0..n {
            net.refresh_weights(i);
        }
        crate::history::generate(&mut net, historical_forwards, history_days);
        net.schedule_next_attempt();
        net
    }

    /// Simulated unix seconds.
    pub fn now(&self) -> u64 {
        self.now_ms / 1000
    }

    /// Simulated unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    pub fn blockheight(&self) -> u32 {
        let blocks = self.now_ms.saturating_sub(self.start_ms) / MS_PER_BLOCK;
        self.start_blockheight.saturating_add(blocks as u32)
    }

    /// The opening feerate now, sat per 1000 weight.
    pub fn feerate_perkw(&self) -> u32 {
        self.feerate.perkw(self.now_ms)
    }

    pub fn our_node_id(&self) -> &str {
        &self.our_node_id
    }

    pub fn channels(&self) -> Vec<ChannelView> {
        self.channels.iter().map(SimChannel::view).collect()
    }

    pub fn channel(&self, scid: &str) -> Option<ChannelView> {
        self.by_scid.get(scid).map(|&i| self.channels[i].view())
    }

    /// The channel whose scenario label is `label` (e.g. `depleting-sink`).
    pub fn channel_by_label(&self, label: &str) -> Option<ChannelView> {
        self.channels
            .iter()
            .find(|c| c.spec.label == label)
            .map(SimChannel::view)
    }

    /// Every forward lightningd has recorded, history included.
    pub fn forwards_count(&self) -> u64 {
        self.forwards.len() as u64
    }

    /// Forwards with `created_index >= start_index`, oldest first, at most `limit`.
    pub fn forward_records(&self, start_index: u64, limit: usize) -> Vec<ForwardRecord> {
        let q = crate::forwards::ForwardQuery {
            start: start_index,
            limit: Some(limit as u64),
            ..Default::default()
        };
        self.forwards
            .query(&q)
            .map(|(i, r)| r.to_record(i, &self.scids))
            .collect()
    }

    /// Fees earned by every channel since the start (history excluded).
    pub fn total_fees_earned_msat(&self) -> u64 {
        self.channels.iter().map(|c| c.fees_earned_msat).sum()
    }

    pub fn setchannel_calls(&self) -> &[SetchannelCall] {
        &self.setchannel_calls
    }

    pub fn other_plugins(&self) -> &[PluginSpec] {
        &self.other_plugins
    }

    /// Whether lightningd runs sling (an active sling in `other_plugins`).
    pub fn sling_present(&self) -> bool {
        self.other_plugins.iter().any(|p| p.active && p.is_sling())
    }

    /// Whether lightningd runs bookkeeper (an active plugin whose file name
    /// is `bookkeeper`, such as [`PluginSpec::bookkeeper`]).
    pub fn bookkeeper_present(&self) -> bool {
        self.other_plugins
            .iter()
            .any(|p| p.active && p.name.rsplit('/').next() == Some("bookkeeper"))
    }

    /// Every rebalance payment the simulated sling sent, oldest first.
    pub fn rebalances(&self) -> &[RebalanceRecord] {
        &self.sling.log
    }

    /// Fees paid for settled rebalances since the start.
    pub fn rebalance_fees_paid_msat(&self) -> u64 {
        self.sling.log.iter().map(|r| r.fee_msat).sum()
    }

    /// Liquidity moved by settled rebalances since the start.
    pub fn rebalanced_msat(&self) -> u64 {
        self.sling
            .log
            .iter()
            .filter(|r| r.outcome == RebalanceOutcome::Settled)
            .map(|r| r.amount_msat)
            .sum()
    }

    /// Rebalance payments sent (settled or failed).
    pub fn rebalance_attempts(&self) -> u64 {
        self.sling.log.len() as u64
    }

    /// Tries that found no route within `maxppm`, so sent nothing.
    pub fn rebalance_tries_too_expensive(&self) -> u64 {
        self.sling.too_expensive_tries
    }

    pub fn network_name(&self) -> &str {
        &self.network_name
    }

    /// What `getinfo` reports as `lightning-dir` (the harness sets the real one).
    pub fn set_lightning_dir(&mut self, dir: &str) {
        self.lightning_dir = dir.to_string();
    }

    // ---- test knobs -------------------------------------------------------

    fn index_of(&self, scid: &str) -> Result<usize, SimError> {
        self.by_scid
            .get(scid)
            .copied()
            .ok_or_else(|| SimError::UnknownChannel(scid.to_string()))
    }

    /// Sets our side of a channel (e.g. to stage a depleted channel).
    pub fn set_local_msat(&mut self, scid: &str, local_msat: u64) -> Result<(), SimError> {
        let i = self.index_of(scid)?;
        let capacity_msat = self.channels[i].capacity_msat;
        if local_msat > capacity_msat {
            return Err(SimError::BeyondCapacity {
                scid: scid.to_string(),
                requested_msat: local_msat,
                capacity_msat,
            });
        }
        self.channels[i].set_local(local_msat);
        self.refresh_weights(i);
        Ok(())
    }

    /// Pins the HTLCs in flight on a channel to `count` (clamped to its slots)
    /// until `release_htlcs_in_flight`; the random level no longer moves it.
    pub fn set_htlcs_in_flight(&mut self, scid: &str, count: u32) -> Result<(), SimError> {
        let i = self.index_of(scid)?;
        let c = &mut self.channels[i];
        c.htlcs_in_flight = count.min(c.spec.max_accepted_htlcs);
        c.htlcs_pinned = true;
        c.htlc_generation += 1;
        Ok(())
    }

    /// Lets the in-flight level wander around its baseline again (from the next 10-minute tick).
    pub fn release_htlcs_in_flight(&mut self, scid: &str) -> Result<(), SimError> {
        let i = self.index_of(scid)?;
        self.channels[i].htlcs_pinned = false;
        Ok(())
    }

    /// Starts an on-chain fee spike now: the feerate is multiplied by
    /// `multiplier`, the excess halving every few hours.
    pub fn spike_feerate(&mut self, multiplier: f64) {
        self.feerate.start_spike(multiplier, self.now_ms);
    }

    /// Moves a channel to another lightningd state (a closing channel stops forwarding).
    pub fn set_channel_state(&mut self, scid: &str, state: ChannelState) -> Result<(), SimError> {
        let i = self.index_of(scid)?;
        let now_secs = self.now();
        let c = &mut self.channels[i];
        if c.state != state {
            c.state_changes.push(crate::channel::StateChange {
                at_secs: now_secs,
                old_state: c.state,
                new_state: state,
                cause: "user",
                message: format!("Simulated transition to {state}"),
            });
            c.state = state;
            if !state.can_forward() {
                c.htlcs_in_flight = 0;
                c.htlc_generation += 1;
            }
        }
        self.refresh_weights(i);
        // The arrival rate changed: memorylessness lets us redraw from now.
        self.schedule_next_attempt();
        Ok(())
    }

    /// Connects or disconnects the channel's peer (a disconnected peer forwards nothing).
    pub fn set_peer_connected(&mut self, scid: &str, connected: bool) -> Result<(), SimError> {
        let i = self.index_of(scid)?;
        self.channels[i].peer_connected = connected;
        self.refresh_weights(i);
        self.schedule_next_attempt();
        Ok(())
    }
}
