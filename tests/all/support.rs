//! Shared set-up: a small scenario with channels of known character, and a
//! started plugin.

use revops_lightningd_sim::{LightningdConfig, RpcError, SimLightningd};
use revops_sim::{ChannelSpec, ChannelView, Scenario, SimNetwork};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

pub const DEPLETED: &str = "depleted";
pub const SATURATED_IDLE: &str = "saturated-idle";
pub const BALANCED: &str = "balanced";
pub const CONGESTED: &str = "congested";
pub const STATIC_PEER: &str = "static-peer";
pub const PASSIVE_PEER: &str = "passive-peer";

pub fn plugin_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cl-revenue-ops"))
}

/// Six channels, no background traffic to speak of, starting now (the
/// plugin reads the wall clock).
pub fn scenario() -> Scenario {
    let seed = 7;
    let mut s = Scenario::empty(seed);
    s.start_time_secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut add = |label: &str, local_pct: u64, fee_ppm: u32, tune: &dyn Fn(&mut ChannelSpec)| {
        let mut c = ChannelSpec::new(seed, s.channels.len());
        c.label = label.to_string();
        c.capacity_sat = 4_000_000;
        c.local_sat = c.capacity_sat * local_pct / 100;
        c.fee_ppm = fee_ppm;
        c.demand_per_day = 0.0;
        c.baseline_htlcs_in_flight = 0;
        tune(&mut c);
        s.channels.push(c);
    };
    add(DEPLETED, 8, 200, &|_| {});
    add(SATURATED_IDLE, 95, 400, &|_| {});
    add(BALANCED, 50, 100, &|_| {});
    add(CONGESTED, 50, 1000, &|c| {
        c.max_accepted_htlcs = 30;
        c.baseline_htlcs_in_flight = 28;
    });
    add(STATIC_PEER, 50, 150, &|_| {});
    add(PASSIVE_PEER, 8, 150, &|_| {});
    s
}

pub struct Node {
    pub ld: SimLightningd,
    pub network: Arc<Mutex<SimNetwork>>,
    /// Keeps the lightning-dir and policy dir alive while the node runs.
    _dir: tempfile::TempDir,
}

impl Node {
    pub async fn start(options: Value) -> Node {
        Self::start_with(scenario(), options).await
    }

    pub async fn start_with(scenario: Scenario, options: Value) -> Node {
        Self::start_on(SimNetwork::new(scenario), options).await
    }

    /// Start on a network already run forward (history, balances set).
    pub async fn start_on(network: SimNetwork, options: Value) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let network = Arc::new(Mutex::new(network));
        let mut opts: Map<String, Value> = options.as_object().cloned().unwrap_or_default();
        opts.entry("revenue-ops-policy-dir".to_string())
            .or_insert_with(|| json!(dir.path().join("policies").display().to_string()));
        // No timer-driven cycle during a test: cycles run on request.
        opts.entry("revenue-ops-fee-interval".to_string())
            .or_insert(json!(86_400));
        let ld = SimLightningd::start(LightningdConfig {
            plugin_path: plugin_path(),
            lightning_dir: Some(dir.path().join("lightning")),
            options: opts,
            network: Arc::clone(&network),
        })
        .await
        .expect("the plugin starts under the simulated lightningd");
        Node {
            ld,
            network,
            _dir: dir,
        }
    }

    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        self.ld.call(method, params).await
    }

    pub async fn ok(&self, method: &str, params: Value) -> Value {
        match self.ld.call(method, params.clone()).await {
            Ok(v) => v,
            Err(e) => panic!("{method} {params} failed: {e:?}"),
        }
    }

    pub fn channel(&self, label: &str) -> ChannelView {
        self.network
            .lock()
            .unwrap()
            .channel_by_label(label)
            .unwrap_or_else(|| panic!("no channel {label}"))
    }

    /// setchannel calls the plugin made for this channel.
    pub fn setchannel_calls_for(&self, label: &str) -> usize {
        let scid = self.channel(label).short_channel_id;
        self.ld
            .rpc_calls()
            .iter()
            .filter(|(m, p)| m == "setchannel" && p["id"] == json!(scid))
            .count()
    }

    pub fn setchannel_calls(&self) -> usize {
        self.ld
            .rpc_calls()
            .iter()
            .filter(|(m, _)| m == "setchannel")
            .count()
    }

    pub async fn fee_cycle(&self) -> Value {
        self.ok("revenue-fee-cycle", json!({})).await
    }
}

/// A report's entry for one channel (`channels[]` matched by scid).
pub fn outcome<'a>(report: &'a Value, node: &Node, label: &str) -> &'a Value {
    let scid = node.channel(label).short_channel_id;
    report["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["short_channel_id"] == json!(scid))
        .unwrap_or_else(|| panic!("no outcome for {label} in {report}"))
}

pub fn fee(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} missing in {v}"))
}

/// Assert a JSON-RPC -32602 whose message names `param`.
pub fn assert_invalid_param(result: Result<Value, RpcError>, param: &str) {
    match result {
        Ok(v) => panic!("expected an error naming `{param}`, got {v}"),
        Err(e) => {
            assert_eq!(e.code, -32602, "{e:?}");
            assert!(
                e.message.contains(param),
                "error should name `{param}`: {}",
                e.message
            );
        }
    }
}
