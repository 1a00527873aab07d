//! What a simulation run starts from: the channels, their traffic, the fee
//! market and the node around them.
//!
//! Invariants:
//! - A `Scenario` is plain data; building one never depends on anything but its
//!   seed and arguments, so the same call gives the same scenario.
//! - Peer ids and scids are derived from `(seed, channel index)`; scids are
//!   unique within a scenario (each index owns a disjoint block range).

use crate::feerate::FeerateParams;
use crate::ids::{NodeKeys, mix64};
use crate::sampling::Draws;
use crate::sling::SlingParams;

/// 2026-01-01T00:00:00Z: a fixed, recognisable default start.
pub const DEFAULT_START_TIME_SECS: u64 = 1_767_225_600;
/// Blocks of the simulated chain at `start_time_secs`.
pub const DEFAULT_START_BLOCKHEIGHT: u32 = 900_000;
/// Channel `i` is funded in block `FIRST_FUNDING_BLOCK + 3 i + {0,1,2}`.
const FIRST_FUNDING_BLOCK: u64 = 850_000;

/// One channel: who it is with, how big it is, and how payments want to use it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelSpec {
    /// A human name for the channel's character (e.g. `depleting-sink`); not sent to lightningd.
    pub label: String,
    /// The peer's node id (66 hex, compressed public key).
    pub peer_id: String,
    /// `BLOCKxTXxOUT`.
    pub short_channel_id: String,
    pub capacity_sat: u64,
    /// Our side of the channel at the start.
    pub local_sat: u64,
    pub fee_ppm: u32,
    pub fee_base_msat: u32,
    /// Most HTLCs the channel carries at once; an attempt finding it full fails locally.
    pub max_accepted_htlcs: u32,
    /// Typical HTLCs in flight from traffic the model does not simulate one by one;
    /// the level wanders around this (± its square root) every 10 minutes.
    pub baseline_htlcs_in_flight: u32,
    /// Payment attempts per day that would like to leave through this channel
    /// (before they compare our fee with the alternatives').
    pub demand_per_day: f64,
    /// How strongly attempts go elsewhere as our fee rises above the
    /// alternatives' (slope of the logistic; 0 = indifferent to price).
    pub elasticity: f64,
    /// What the other routes to the same destinations charge: proportional part, in ppm...
    pub alternatives_fee_ppm: u32,
    /// ...and base part, in msat (payers compare whole fees, base included).
    pub alternatives_fee_base_msat: u32,
    /// How much payment traffic originates behind this peer, relative to the
    /// others; an incoming channel is chosen with probability proportional to
    /// `source_weight × remote liquidity`.
    pub source_weight: f64,
    /// Age of the channel at the start (for `state_changes` timestamps).
    pub opened_days_ago: u32,
    /// Whether we opened (funded) it.
    pub opened_by_us: bool,
}

impl ChannelSpec {
    /// A balanced, middling channel at `index` with identity derived from `seed`.
    pub fn new(seed: u64, index: usize) -> ChannelSpec {
        Self::with_keys(&NodeKeys::new(seed), seed, index)
    }

    pub(crate) fn with_keys(
        keys: &NodeKeys<secp256k1::SignOnly>,
        seed: u64,
        index: usize,
    ) -> ChannelSpec {
        let mixed = mix64(seed ^ mix64(index as u64 + 1));
        let block = FIRST_FUNDING_BLOCK + 3 * index as u64 + mixed % 3;
        let tx = (mixed >> 8) % 2_500 + 1;
        let out = (mixed >> 24) % 2;
        ChannelSpec {
            label: format!("channel-{index}"),
            peer_id: keys.node_id(index as u64),
            short_channel_id: format!("{block}x{tx}x{out}"),
            capacity_sat: 5_000_000,
            local_sat: 2_500_000,
            fee_ppm: 300,
            fee_base_msat: 1_000,
            max_accepted_htlcs: 30,
            baseline_htlcs_in_flight: 2,
            demand_per_day: 100.0,
            elasticity: 3.0,
            alternatives_fee_ppm: 300,
            alternatives_fee_base_msat: 1_000,
            source_weight: 1.0,
            opened_days_ago: 120,
            opened_by_us: index.is_multiple_of(2),
        }
    }
}

/// How payment attempts look, for every channel.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficParams {
    /// Median attempt size; sizes are log-normal around it.
    pub amount_median_sat: f64,
    /// Log-space standard deviation of sizes (1.2 → mean ≈ 2× median, a long tail).
    pub amount_sigma: f64,
    /// Attempts are never larger than this fraction of the outgoing channel's capacity.
    pub amount_cap_fraction_of_capacity: f64,
    /// Fraction of HTLCs we forward that fail further down the route (status `failed`).
    pub downstream_failure_rate: f64,
    /// The price comparison is relative: `(our_fee − alt_fee) / max(alt_fee, this ppm of the amount)`.
    pub price_scale_floor_ppm: f64,
    /// Median time from receiving an HTLC to resolving it.
    pub settle_time_median_ms: f64,
}

impl Default for TrafficParams {
    fn default() -> Self {
        TrafficParams {
            amount_median_sat: 8_000.0,
            amount_sigma: 1.2,
            amount_cap_fraction_of_capacity: 0.25,
            downstream_failure_rate: 0.10,
            price_scale_floor_ppm: 50.0,
            settle_time_median_ms: 1_500.0,
        }
    }
}

/// Another plugin lightningd reports in `plugin list`.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSpec {
    /// The plugin's path, as `plugin list` shows it.
    pub name: String,
    pub active: bool,
    pub dynamic: bool,
}

impl PluginSpec {
    pub fn new(name: &str, dynamic: bool) -> PluginSpec {
        PluginSpec {
            name: name.to_string(),
            active: true,
            dynamic,
        }
    }

    /// sling as it is usually installed (a dynamic plugin named `sling`):
    /// with it in the scenario, the simulated lightningd answers sling's methods.
    pub fn sling() -> PluginSpec {
        PluginSpec::new("/usr/local/libexec/c-lightning/plugins/sling", true)
    }

    /// CLN's bookkeeper as lightningd ships it (a static built-in plugin):
    /// with it in the scenario, the simulated lightningd answers
    /// `bkpr-listaccountevents` with the simulated sling's rebalances.
    pub fn bookkeeper() -> PluginSpec {
        PluginSpec::new("/usr/local/libexec/plugins/bookkeeper", false)
    }

    /// Whether this plugin is sling: its file name is `sling` or ends in
    /// `-sling` (e.g. `cln-sling`), the names sling is built and packaged under.
    pub fn is_sling(&self) -> bool {
        let file = self.name.rsplit('/').next().unwrap_or(&self.name);
        file == "sling" || file.ends_with("-sling")
    }
}

/// Everything a run starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub seed: u64,
    /// Unix seconds at the start of the run.
    pub start_time_secs: u64,
    pub start_blockheight: u32,
    /// lightningd's network name (`regtest`, `bitcoin`, ...).
    pub network: String,
    pub alias: String,
    pub channels: Vec<ChannelSpec>,
    pub feerate: FeerateParams,
    pub traffic: TrafficParams,
    /// Plugins other than ours that `plugin list` reports (none by default).
    /// With [`PluginSpec::sling`] among them, sling's methods are answered.
    pub other_plugins: Vec<PluginSpec>,
    /// How the simulated sling's rebalances go (used only when sling is listed).
    pub sling: SlingParams,
    /// Confirmed on-chain wallet outputs (`listfunds.outputs`).
    pub wallet_outputs_sat: Vec<u64>,
    /// Settled forwards to pre-generate before the start (history for ingestion).
    pub historical_forwards: usize,
    /// The history is spread over this many days before the start.
    pub history_days: u32,
    /// What `getinfo` reports as `lightning-dir` (the harness sets the real one).
    pub lightning_dir: String,
}

impl Scenario {
    /// An empty scenario with the defaults; add channels to it.
    pub fn empty(seed: u64) -> Scenario {
        Scenario {
            seed,
            start_time_secs: DEFAULT_START_TIME_SECS,
            start_blockheight: DEFAULT_START_BLOCKHEIGHT,
            network: "regtest".to_string(),
            alias: "REVOPS-SIM".to_string(),
            channels: Vec::new(),
            feerate: FeerateParams::default(),
            traffic: TrafficParams::default(),
            other_plugins: Vec::new(),
            sling: SlingParams::default(),
            wallet_outputs_sat: vec![2_500_000, 750_000],
            historical_forwards: 0,
            history_days: 90,
            lightning_dir: "/tmp/revops-sim/regtest".to_string(),
        }
    }

    /// Eight channels of characters an operator recognises (see docs/simulation-model.md).
    pub fn default_node(seed: u64) -> Scenario {
        let keys = NodeKeys::new(seed);
        let mut s = Scenario::empty(seed);
        let mut add = |label: &str, tune: &dyn Fn(&mut ChannelSpec)| {
            let mut c = ChannelSpec::with_keys(&keys, seed, s.channels.len());
            c.label = label.to_string();
            tune(&mut c);
            s.channels.push(c);
        };
        // Cheap relative to its alternatives and in demand: drains unless fees rise.
        add("depleting-sink", &|c| {
            c.capacity_sat = 5_000_000;
            c.local_sat = 3_500_000;
            c.fee_ppm = 200;
            c.demand_per_day = 400.0;
            c.elasticity = 2.0;
            c.alternatives_fee_ppm = 450;
            c.source_weight = 0.1;
        });
        // Full on our side, nobody wants to pay out through it.
        add("saturated-idle-source", &|c| {
            c.capacity_sat = 4_000_000;
            c.local_sat = 3_900_000;
            c.fee_ppm = 50;
            c.demand_per_day = 5.0;
            c.alternatives_fee_ppm = 40;
            c.source_weight = 3.0;
            c.opened_by_us = false;
        });
        add("balanced-busy-a", &|c| {
            c.capacity_sat = 8_000_000;
            c.local_sat = 4_000_000;
            c.fee_ppm = 300;
            c.demand_per_day = 250.0;
            c.alternatives_fee_ppm = 300;
        });
        add("balanced-busy-b", &|c| {
            c.capacity_sat = 6_000_000;
            c.local_sat = 3_000_000;
            c.fee_ppm = 250;
            c.demand_per_day = 200.0;
            c.alternatives_fee_ppm = 280;
        });
        // HTLC slots nearly full: attempts often fail locally for lack of a slot.
        add("congested", &|c| {
            c.capacity_sat = 5_000_000;
            c.local_sat = 2_500_000;
            c.fee_ppm = 400;
            c.demand_per_day = 150.0;
            c.alternatives_fee_ppm = 400;
            c.max_accepted_htlcs = 30;
            c.baseline_htlcs_in_flight = 27;
        });
        add("small", &|c| {
            c.capacity_sat = 500_000;
            c.local_sat = 250_000;
            c.fee_ppm = 100;
            c.demand_per_day = 40.0;
            c.alternatives_fee_ppm = 150;
            c.baseline_htlcs_in_flight = 0;
        });
        // Price-sensitive traffic: small fee changes move volume a lot.
        add("elastic-peer", &|c| {
            c.capacity_sat = 4_000_000;
            c.local_sat = 2_000_000;
            c.fee_ppm = 500;
            c.demand_per_day = 200.0;
            c.elasticity = 8.0;
            c.alternatives_fee_ppm = 300;
        });
        // Few alternatives: volume barely reacts to price.
        add("inelastic-peer", &|c| {
            c.capacity_sat = 4_000_000;
            c.local_sat = 2_000_000;
            c.fee_ppm = 800;
            c.demand_per_day = 120.0;
            c.elasticity = 0.5;
            c.alternatives_fee_ppm = 600;
        });
        s
    }

    /// The default node as `simulate` runs it: sling and bookkeeper (which
    /// lightningd ships enabled) installed, and a ninth channel,
    /// `busy-drain`, that the rebalancer finds worth refilling. The
    /// eight default channels are unchanged (same ids, same parameters); the
    /// extra channel's demand changes the attempt stream, so runs of this
    /// scenario pair with each other, not with `default_node` runs.
    pub fn rebalancing_node(seed: u64) -> Scenario {
        let keys = NodeKeys::new(seed);
        let mut s = Scenario::default_node(seed).with_sling();
        s.other_plugins.push(PluginSpec::bookkeeper());
        let mut c = ChannelSpec::with_keys(&keys, seed, s.channels.len());
        // Busy and price-insensitive, priced above its alternatives, and more
        // flows out than in: it drains within a day or two yet keeps turning
        // over its liquidity, so a refill is used before the cooldown ends —
        // what the rebalance scorer's expected-value model pays for.
        c.label = "busy-drain".to_string();
        c.capacity_sat = 2_000_000;
        c.local_sat = 1_200_000;
        c.fee_ppm = 800;
        c.demand_per_day = 250.0;
        c.elasticity = 0.5;
        c.alternatives_fee_ppm = 500;
        c.source_weight = 1.0;
        s.channels.push(c);
        s
    }

    /// A big routing node: `channels` channels (up to a few thousand) of varied
    /// characters, and `historical_forwards` settled forwards before the start.
    pub fn large(seed: u64, channels: usize, historical_forwards: usize) -> Scenario {
        let keys = NodeKeys::new(seed);
        let mut draws = Draws::new(mix64(seed ^ 0x004C_4152_4745));
        let mut s = Scenario::empty(seed);
        s.alias = "REVOPS-SIM-LARGE".to_string();
        s.historical_forwards = historical_forwards;
        s.wallet_outputs_sat = vec![25_000_000, 4_000_000, 600_000];
        for index in 0..channels {
            let mut c = ChannelSpec::with_keys(&keys, seed, index);
            // Draw every field in a fixed order so each channel's character is
            // a function of (seed, index) and the preceding draws only.
            let capacity = log_uniform(&mut draws, 1_000_000.0, 50_000_000.0);
            let local_ratio = 0.05 + 0.9 * draws.uniform();
            let fee = log_uniform(&mut draws, 10.0, 1_500.0);
            let base_zero = draws.uniform() < 0.5;
            let big_slots = draws.uniform() < 0.3;
            let congested = draws.uniform() < 0.05;
            let baseline = draws.below(5) as u32;
            let demand = draws.log_normal(25.0, 1.0);
            let elasticity = 0.5 + 5.5 * draws.uniform();
            let alt_factor = draws.log_normal(1.0, 0.5);
            let source = draws.log_normal(1.0, 0.8);
            let age = 30 + draws.below(700) as u32;

            c.label = format!("channel-{index}");
            c.capacity_sat = (capacity / 10_000.0).round() as u64 * 10_000;
            c.local_sat = (c.capacity_sat as f64 * local_ratio) as u64;
            c.fee_ppm = fee.round() as u32;
            c.fee_base_msat = if base_zero { 0 } else { 1_000 };
            c.max_accepted_htlcs = if big_slots { 483 } else { 30 };
            c.baseline_htlcs_in_flight = if congested {
                c.max_accepted_htlcs * 9 / 10
            } else {
                baseline
            };
            c.demand_per_day = demand;
            c.elasticity = elasticity;
            c.alternatives_fee_ppm = (fee * alt_factor).round().clamp(1.0, 5_000.0) as u32;
            c.alternatives_fee_base_msat = c.fee_base_msat;
            c.source_weight = source;
            c.opened_days_ago = age;
            s.channels.push(c);
        }
        s
    }

    /// The same scenario with sling installed (no scenario has it unless asked).
    pub fn with_sling(mut self) -> Scenario {
        if !self.other_plugins.iter().any(PluginSpec::is_sling) {
            self.other_plugins.push(PluginSpec::sling());
        }
        self
    }

    /// The channel with this label, if any.
    pub fn channel(&self, label: &str) -> Option<&ChannelSpec> {
        self.channels.iter().find(|c| c.label == label)
    }

    pub fn channel_mut(&mut self, label: &str) -> Option<&mut ChannelSpec> {
        self.channels.iter_mut().find(|c| c.label == label)
    }
}

fn log_uniform(draws: &mut Draws, low: f64, high: f64) -> f64 {
    (low.ln() + (high.ln() - low.ln()) * draws.uniform()).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_node_has_distinct_characters() {
        let s = Scenario::default_node(1);
        assert_eq!(s.channels.len(), 8);
        let mut scids: Vec<_> = s.channels.iter().map(|c| &c.short_channel_id).collect();
        scids.sort();
        scids.dedup();
        assert_eq!(scids.len(), 8);
        assert!(s.channel("depleting-sink").is_some());
        assert_eq!(s, Scenario::default_node(1));
        // sling only when asked for.
        assert!(s.other_plugins.is_empty());
        let with = s.with_sling();
        assert_eq!(with.other_plugins, vec![PluginSpec::sling()]);
        assert_eq!(with.clone().with_sling(), with);
    }

    #[test]
    fn the_rebalancing_node_is_the_default_node_with_sling_and_busy_drain() {
        let s = Scenario::rebalancing_node(1);
        let default = Scenario::default_node(1);
        assert_eq!(s.channels.len(), 9);
        assert_eq!(s.channels[..8], default.channels[..]);
        assert_eq!(
            s.other_plugins,
            vec![PluginSpec::sling(), PluginSpec::bookkeeper()]
        );
        let drain = s.channel("busy-drain").unwrap();
        assert!(drain.fee_ppm > drain.alternatives_fee_ppm);
        let mut scids: Vec<_> = s.channels.iter().map(|c| &c.short_channel_id).collect();
        scids.sort();
        scids.dedup();
        assert_eq!(scids.len(), 9);
        assert_eq!(s, Scenario::rebalancing_node(1));
        assert_eq!(s.wallet_outputs_sat, default.wallet_outputs_sat);
    }

    #[test]
    fn sling_is_recognised_by_file_name() {
        assert!(PluginSpec::sling().is_sling());
        assert!(PluginSpec::new("/opt/plugins/cln-sling", true).is_sling());
        assert!(PluginSpec::new("sling", true).is_sling());
        assert!(!PluginSpec::new("/opt/plugins/clboss", false).is_sling());
        assert!(!PluginSpec::new("/opt/sling/clboss", false).is_sling());
    }

    #[test]
    fn large_scenario_is_reproducible_and_unique() {
        let a = Scenario::large(5, 300, 0);
        assert_eq!(a, Scenario::large(5, 300, 0));
        let mut scids: Vec<_> = a
            .channels
            .iter()
            .map(|c| c.short_channel_id.clone())
            .collect();
        scids.sort();
        scids.dedup();
        assert_eq!(scids.len(), 300);
        assert!(a.channels.iter().all(|c| c.local_sat <= c.capacity_sat));
    }
}
