//! A whole fee cycle over a simulated 2,000-channel node: read channels,
//! build inputs (SQLite reads), one WASM batch, rails, one SQLite
//! transaction for all decisions, fee updates. The node answers from memory,
//! so this measures the plugin's own compute, not lightningd's RPC latency.

use criterion::{Criterion, criterion_group, criterion_main};
use revops_core::{
    ChannelSnapshot, Clock, Feerates, ForwardRecord, Node, NodeError, RebalancePayment,
};
use revops_engine::{FeeEngine, FeeSettings, PolicySet};
use revops_runtime::{Limits, PolicyRuntime};
use revops_sim::{Scenario, SimNetwork};
use revops_store::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const CHANNELS: usize = 2_000;
const FEE_INTERVAL_SECS: u64 = 1800;

/// Channels held in memory; fee updates apply at once.
struct MemoryNode {
    channels: Mutex<Vec<ChannelSnapshot>>,
    index: HashMap<String, usize>,
}

impl Node for MemoryNode {
    async fn list_channels(&self) -> Result<Vec<ChannelSnapshot>, NodeError> {
        Ok(self.channels.lock().unwrap().clone())
    }

    async fn list_forwards(&self, _: u64, _: u32) -> Result<Vec<ForwardRecord>, NodeError> {
        Ok(Vec::new())
    }

    async fn feerates(&self) -> Result<Feerates, NodeError> {
        Ok(Feerates {
            opening_perkw: 2500,
        })
    }

    async fn confirmed_onchain_sat(&self) -> Result<u64, NodeError> {
        Ok(0)
    }

    async fn plugin_names(&self) -> Result<Vec<String>, NodeError> {
        Ok(Vec::new())
    }

    async fn clboss_unmanage(&self, _: &str, _: &str) -> Result<(), NodeError> {
        Ok(())
    }

    async fn rebalance_payments(
        &self,
        _: &str,
        _: u64,
    ) -> Result<Option<Vec<RebalancePayment>>, NodeError> {
        Ok(None)
    }

    async fn set_channel_fee(&self, scid: &str, fee_ppm: u32) -> Result<(), NodeError> {
        if let Some(&i) = self.index.get(scid) {
            self.channels.lock().unwrap()[i].fee_ppm = fee_ppm;
        }
        Ok(())
    }
}

/// Time advances one fee interval per cycle.
#[derive(Clone)]
struct SteppedClock(Arc<AtomicU64>);

impl Clock for SteppedClock {
    fn now_secs(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

fn fee_cycle(c: &mut Criterion) {
    let scenario = Scenario::large(1, CHANNELS, 0);
    let start = scenario.start_time_secs;
    let channels: Vec<ChannelSnapshot> = SimNetwork::new(scenario)
        .channels()
        .iter()
        .map(|c| c.to_snapshot())
        .collect();
    let index = channels
        .iter()
        .enumerate()
        .map(|(i, c)| (c.short_channel_id.clone(), i))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("revenue_ops.db")).unwrap());
    let runtime = Arc::new(PolicyRuntime::new(Limits::default()).unwrap());
    let mut policies = PolicySet::default();
    policies.insert(Arc::new(
        runtime.load(revops_policy_artifacts::FEE_ALPHA).unwrap(),
    ));
    let time = Arc::new(AtomicU64::new(start));
    let engine = FeeEngine::new(
        Arc::new(MemoryNode {
            channels: Mutex::new(channels),
            index,
        }),
        SteppedClock(Arc::clone(&time)),
        store,
        runtime,
        policies,
        FeeSettings::default(),
    );
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Steady state: every channel has a saved policy state.
    let report = tokio.block_on(engine.run_fee_cycle()).unwrap();
    assert_eq!(report.channels.len(), CHANNELS);
    assert!(report.policy_failure.is_none());

    c.bench_function("fee cycle, 2000 channels", |b| {
        b.iter(|| {
            time.fetch_add(FEE_INTERVAL_SECS, Ordering::Relaxed);
            tokio.block_on(engine.run_fee_cycle()).unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = fee_cycle
}
criterion_main!(benches);
