//! The rebalance engine driven in-process against the simulated network and
//! its simulated sling.

use revops_core::{
    ChannelSnapshot, ExceptPeersChange, ExecutorError, Feerates, ForwardRecord, JobInfo,
    JobOverview, JobSpec, JobStats, Node, NodeError, RebalanceExecutor, RebalancePayment,
    StartReport, StopReport,
};
use revops_engine::rebalance::{Decision, RebalanceEngine, RebalanceSettings, WalletFunds};
use revops_runtime::{Limits, PolicyRuntime};
use revops_sim::{
    PluginSpec, RebalanceOutcome as Payment, Scenario, SimClock, SimNetwork, SimNode,
};
use revops_store::{ChannelFlow, RebalanceOutcome, Store};
use std::sync::{Arc, Mutex};

const SAT: u64 = 1000;
const HOUR_SECS: u64 = 3_600;
const DESTINATION: &str = "inelastic-peer";
const SOURCE: &str = "saturated-idle-source";

/// `SimNode` with a log of every executor call, to prove what was (not) sent.
struct Recorder {
    inner: SimNode,
    calls: Mutex<Vec<&'static str>>,
}

impl Recorder {
    fn note(&self, method: &'static str) {
        self.calls.lock().unwrap().push(method);
    }

    fn calls(&self) -> Vec<&'static str> {
        self.calls.lock().unwrap().clone()
    }

    fn called(&self, method: &str) -> bool {
        self.calls().contains(&method)
    }
}

impl Node for Recorder {
    async fn list_channels(&self) -> Result<Vec<ChannelSnapshot>, NodeError> {
        self.inner.list_channels().await
    }
    async fn list_forwards(&self, start: u64, limit: u32) -> Result<Vec<ForwardRecord>, NodeError> {
        self.inner.list_forwards(start, limit).await
    }
    async fn feerates(&self) -> Result<Feerates, NodeError> {
        self.inner.feerates().await
    }
    async fn set_channel_fee(&self, scid: &str, fee_ppm: u32) -> Result<(), NodeError> {
        self.inner.set_channel_fee(scid, fee_ppm).await
    }
    async fn confirmed_onchain_sat(&self) -> Result<u64, NodeError> {
        self.inner.confirmed_onchain_sat().await
    }
    async fn plugin_names(&self) -> Result<Vec<String>, NodeError> {
        self.inner.plugin_names().await
    }
    async fn clboss_unmanage(&self, peer_id: &str, tags: &str) -> Result<(), NodeError> {
        self.inner.clboss_unmanage(peer_id, tags).await
    }
    async fn rebalance_payments(
        &self,
        scid: &str,
        since: u64,
    ) -> Result<Option<Vec<RebalancePayment>>, NodeError> {
        self.note("rebalance_payments");
        self.inner.rebalance_payments(scid, since).await
    }
}

impl RebalanceExecutor for Recorder {
    async fn create_job(&self, spec: &JobSpec) -> Result<(), ExecutorError> {
        self.note("create_job");
        self.inner.create_job(spec).await
    }
    async fn start(&self, scid: &str) -> Result<StartReport, ExecutorError> {
        self.note("start");
        self.inner.start(scid).await
    }
    async fn stop(&self, scid: &str) -> Result<StopReport, ExecutorError> {
        self.note("stop");
        self.inner.stop(scid).await
    }
    async fn stop_all(&self) -> Result<StopReport, ExecutorError> {
        self.note("stop_all");
        self.inner.stop_all().await
    }
    async fn delete(&self, scid: &str) -> Result<(), ExecutorError> {
        self.note("delete");
        self.inner.delete(scid).await
    }
    async fn delete_all(&self) -> Result<(), ExecutorError> {
        self.note("delete_all");
        self.inner.delete_all().await
    }
    async fn jobs(&self) -> Result<Vec<JobInfo>, ExecutorError> {
        self.note("jobs");
        self.inner.jobs().await
    }
    async fn overview(&self) -> Result<Vec<JobOverview>, ExecutorError> {
        self.note("overview");
        self.inner.overview().await
    }
    async fn stats(&self, scid: &str) -> Result<JobStats, ExecutorError> {
        self.note("stats");
        self.inner.stats(scid).await
    }
    async fn except_peers(&self) -> Result<Vec<String>, ExecutorError> {
        self.note("except_peers");
        self.inner.except_peers().await
    }
    async fn set_except_peers(&self, peers: &[String]) -> Result<ExceptPeersChange, ExecutorError> {
        self.note("set_except_peers");
        self.inner.set_except_peers(peers).await
    }
}

struct Setup {
    engine: RebalanceEngine<Recorder, SimClock>,
    node: Arc<Recorder>,
    network: Arc<Mutex<SimNetwork>>,
    store: Arc<Store>,
    destination: String,
}

/// The default node with `inelastic-peer` (800 ppm) drained to 10 %: a
/// depleted channel that earns. Routes back into it cost about
/// `route_fee_ppm` in the simulated sling.
fn scenario(route_fee_ppm: u32) -> Scenario {
    let mut s = Scenario::default_node(7).with_sling();
    let d = s.channel_mut(DESTINATION).unwrap();
    d.local_sat = 400_000;
    d.alternatives_fee_ppm = route_fee_ppm;
    // Nothing but a rebalance moves its balance: success is unambiguous.
    d.demand_per_day = 0.0;
    d.source_weight = 0.0;
    s
}

fn setup_with(scenario: Scenario, settings: RebalanceSettings, scorer: &[u8]) -> Setup {
    let network = Arc::new(Mutex::new(SimNetwork::new(scenario)));
    let store = Arc::new(Store::open_in_memory().unwrap());
    let runtime = Arc::new(PolicyRuntime::new(Limits::default()).unwrap());
    let scorer = Arc::new(runtime.load(scorer).unwrap());
    let node = Arc::new(Recorder {
        inner: SimNode::new(Arc::clone(&network)),
        calls: Mutex::new(Vec::new()),
    });
    let engine = RebalanceEngine::new(
        Arc::clone(&node),
        SimClock::new(Arc::clone(&network)),
        Arc::clone(&store),
        runtime,
        scorer,
        settings,
    );
    let destination = network
        .lock()
        .unwrap()
        .channel_by_label(DESTINATION)
        .unwrap()
        .short_channel_id;
    Setup {
        engine,
        node,
        network,
        store,
        destination,
    }
}

fn setup(scenario: Scenario, settings: RebalanceSettings) -> Setup {
    setup_with(scenario, settings, revops_policy_artifacts::REBALANCE_EV)
}

impl Setup {
    /// Flow analysis as the fee engine would have stored it: the destination
    /// turns its whole capacity over once a day.
    fn busy_destination(&self, out_msat_per_day: u64) {
        let now = self.network.lock().unwrap().now();
        self.store
            .save_channel_flows(&[ChannelFlow {
                short_channel_id: self.destination.clone(),
                flow_state: "source".to_string(),
                flow_ratio: 0.5,
                in_msat_per_day: 0,
                out_msat_per_day,
                forwards: 100,
                inferred: false,
                updated_at: now,
            }])
            .unwrap();
    }

    fn scid(&self, label: &str) -> String {
        self.network
            .lock()
            .unwrap()
            .channel_by_label(label)
            .unwrap()
            .short_channel_id
    }

    fn now(&self) -> u64 {
        self.network.lock().unwrap().now()
    }

    fn advance(&self, secs: u64) {
        self.network.lock().unwrap().advance_by(secs);
    }
}

const WALLET: WalletFunds = WalletFunds {
    confirmed_onchain_sat: 3_250_000,
};
const DAILY_OUT_MSAT: u64 = 4_000_000 * SAT;

fn decision_for<'a>(
    report: &'a revops_engine::rebalance::RebalanceCycleReport,
    scid: &str,
) -> &'a Decision {
    &report
        .candidates
        .iter()
        .find(|c| c.destination == scid)
        .unwrap_or_else(|| panic!("{scid} not considered: {report:#?}"))
        .decision
}

#[tokio::test]
async fn a_depleted_earning_channel_is_refilled_and_its_hold_becomes_spend() {
    let s = setup(scenario(100), RebalanceSettings::default());
    s.busy_destination(DAILY_OUT_MSAT);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    assert_eq!(report.disabled, None);
    let Decision::Started {
        rebalance_id,
        max_fee_ppm,
        ..
    } = *decision_for(&report, &s.destination)
    else {
        panic!("not started: {report:#?}");
    };
    // Never pays more per unit than the destination earns (800 ppm).
    assert!(max_fee_ppm > 0 && max_fee_ppm <= 800, "{max_fee_ppm}");
    let jobs = s.node.inner.jobs().await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].short_channel_id, s.destination);
    assert_eq!(jobs[0].max_ppm, max_fee_ppm);
    assert_eq!(jobs[0].max_hops, Some(5));
    assert_eq!(jobs[0].candidates, vec![s.scid(SOURCE)]);
    let row = s.store.rebalance(rebalance_id).unwrap().unwrap();
    assert_eq!(row.outcome, RebalanceOutcome::Running);
    assert_eq!(row.start_local_msat, Some(revops_core::Msat(400_000 * SAT)));
    let held = row.reserved_msat.expect("the max fee is held");
    assert!(held.msat() > 0);
    assert_eq!(s.store.budget_use(s.now()).unwrap().held_msat, held);
    assert_eq!(report.counts["started"], 1);

    s.advance(2 * HOUR_SECS);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    let finished = &report.finished;
    assert_eq!(finished.len(), 1, "{report:#?}");
    assert_eq!(finished[0].outcome, RebalanceOutcome::Success);
    assert!(finished[0].moved_msat.msat() > 0);
    assert!(finished[0].fee_is_estimate);
    assert!(
        finished[0].reason.contains("bookkeeper is not running"),
        "{}",
        finished[0].reason
    );
    let fee = finished[0].fee_msat.expect("estimated");
    assert!(fee.msat() > 0);
    let used = s.store.budget_use(s.now()).unwrap();
    assert_eq!(used.held_msat.msat(), 0);
    assert_eq!(used.spent_24h_msat, fee);
    // The job is stopped and deleted; the destination now cools down.
    assert!(s.node.inner.jobs().await.unwrap().is_empty());
    assert!(s.node.called("stop") && s.node.called("delete"));
    assert_eq!(report.counts["finished_success"], 1);
}

#[tokio::test]
async fn with_bookkeeper_the_fee_is_measured_not_estimated() {
    let mut scenario = scenario(100);
    scenario.other_plugins.push(PluginSpec::bookkeeper());
    let s = setup(scenario, RebalanceSettings::default());
    s.busy_destination(DAILY_OUT_MSAT);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    let Decision::Started { rebalance_id, .. } = *decision_for(&report, &s.destination) else {
        panic!("not started: {report:#?}");
    };
    let started_at = s.store.rebalance(rebalance_id).unwrap().unwrap().started_at;

    s.advance(2 * HOUR_SECS);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    let finished = &report.finished;
    assert_eq!(finished.len(), 1, "{report:#?}");
    assert_eq!(finished[0].outcome, RebalanceOutcome::Success);
    assert!(!finished[0].fee_is_estimate, "{:?}", finished[0]);
    assert!(
        finished[0].reason.contains("measured by bookkeeper"),
        "{}",
        finished[0].reason
    );
    // Exactly what the simulated sling paid for routes into the destination.
    let (paid_msat, payments) = {
        let net = s.network.lock().unwrap();
        let settled: Vec<_> = net
            .rebalances()
            .iter()
            .filter(|r| r.in_scid == s.destination && r.outcome == Payment::Settled)
            .filter(|r| r.at_ms / 1000 >= started_at)
            .map(|r| r.fee_msat)
            .collect();
        (settled.iter().sum::<u64>(), settled.len())
    };
    assert!(payments > 0 && paid_msat > 0);
    let fee = finished[0].fee_msat.expect("measured");
    assert_eq!(fee.msat(), paid_msat);
    assert!(
        finished[0]
            .reason
            .contains(&format!("{payments} rebalance payment(s)")),
        "{}",
        finished[0].reason
    );
    let row = s.store.rebalance(rebalance_id).unwrap().unwrap();
    assert_eq!((row.fee_msat, row.fee_is_estimate), (Some(fee), false));
    let used = s.store.budget_use(s.now()).unwrap();
    assert_eq!((used.held_msat.msat(), used.spent_24h_msat), (0, fee));
    assert!(s.node.called("rebalance_payments"));
    // sling's ppm is not needed when bookkeeper measured the fee.
    assert!(!s.node.called("stats"));
}

#[tokio::test]
async fn an_idle_destination_is_refused_by_the_velocity_gate() {
    let s = setup(scenario(100), RebalanceSettings::default());
    // 0.5 % of its capacity a day: below the 1 % gate.
    s.busy_destination(20_000 * SAT);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    assert_eq!(decision_for(&report, &s.destination).key(), "idle");
    assert!(!s.node.called("create_job"));
    assert!(s.store.running_rebalances().unwrap().is_empty());
}

#[tokio::test]
async fn a_tiny_daily_budget_refuses_the_start_and_sends_no_job() {
    let mut settings = RebalanceSettings::default();
    settings.capital.daily_budget_sat = 100;
    settings.capital.proportional_budget = false;
    let s = setup(scenario(100), settings);
    s.busy_destination(DAILY_OUT_MSAT);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    assert_eq!(decision_for(&report, &s.destination).key(), "budget");
    assert!(!s.node.called("create_job") && !s.node.called("start"));
    assert!(s.store.rebalance_log(10).unwrap().is_empty());
    assert_eq!(report.counts["budget"], 1);
}

#[tokio::test]
async fn without_sling_the_cycle_is_disabled_and_sends_nothing() {
    let mut scenario = scenario(100);
    scenario.other_plugins.clear();
    let s = setup(scenario, RebalanceSettings::default());
    s.busy_destination(DAILY_OUT_MSAT);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    assert_eq!(
        report.disabled.as_deref(),
        Some("sling is not running (plugin list)")
    );
    // Only the read-only probe was tried.
    assert_eq!(s.node.calls(), ["overview"]);
    assert!(report.candidates.is_empty() && report.capital.is_none());
    assert!(s.store.rebalance_log(10).unwrap().is_empty());
}

#[tokio::test]
async fn dry_run_records_what_would_start_and_tells_sling_nothing() {
    let settings = RebalanceSettings {
        dry_run: true,
        ..RebalanceSettings::default()
    };
    let s = setup(scenario(100), settings);
    s.busy_destination(DAILY_OUT_MSAT);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    assert_eq!(decision_for(&report, &s.destination).key(), "dry_run");
    for method in ["create_job", "start", "stop", "delete", "set_except_peers"] {
        assert!(!s.node.called(method), "{method} called in dry-run");
    }
    let log = s.store.rebalance_log(10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, RebalanceOutcome::DryRun);
    assert_eq!(log[0].reserved_msat, None);
    assert!(s.node.inner.jobs().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_channel_to_the_destinations_own_peer_is_never_its_source() {
    let mut scenario = scenario(100);
    let peer = scenario.channel(DESTINATION).unwrap().peer_id.clone();
    // The only full channel is to the destination's own peer …
    scenario.channel_mut(SOURCE).unwrap().peer_id = peer;
    // … and another peer's channel is full too.
    scenario.channel_mut("balanced-busy-a").unwrap().local_sat = 7_500_000;
    let s = setup(scenario, RebalanceSettings::default());
    s.busy_destination(DAILY_OUT_MSAT);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    let candidate = report
        .candidates
        .iter()
        .find(|c| c.destination == s.destination)
        .unwrap();
    assert_eq!(candidate.sources, vec![s.scid("balanced-busy-a")]);
    for job in s.node.inner.jobs().await.unwrap() {
        assert!(!job.candidates.contains(&s.scid(SOURCE)), "{job:?}");
    }
}

#[tokio::test]
async fn a_rebalance_that_never_lands_times_out_and_releases_its_hold() {
    // Every route back costs ~100,000 ppm: sling never finds one under the cap.
    let s = setup(scenario(100_000), RebalanceSettings::default());
    s.busy_destination(DAILY_OUT_MSAT);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    assert_eq!(decision_for(&report, &s.destination).key(), "started");
    assert!(s.store.budget_use(s.now()).unwrap().held_msat.msat() > 0);

    s.advance(HOUR_SECS);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    assert!(report.finished.is_empty(), "{report:#?}");

    s.advance(3 * HOUR_SECS);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    assert_eq!(report.finished.len(), 1, "{report:#?}");
    assert_eq!(report.finished[0].outcome, RebalanceOutcome::Timeout);
    assert_eq!(report.finished[0].fee_msat, None);
    let used = s.store.budget_use(s.now()).unwrap();
    assert_eq!((used.held_msat.msat(), used.spent_24h_msat.msat()), (0, 0));
    assert!(s.node.inner.jobs().await.unwrap().is_empty());
    // Backoff after the failure: no immediate retry.
    assert_eq!(decision_for(&report, &s.destination).key(), "backoff");
}

#[tokio::test]
async fn a_failing_scorer_starts_nothing_and_is_reported() {
    // A fee policy has no rebalance-scorer role: every batch fails.
    let s = setup_with(
        scenario(100),
        RebalanceSettings::default(),
        revops_policy_artifacts::FEE_ALPHA,
    );
    s.busy_destination(DAILY_OUT_MSAT);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    let failure = report.scorer_failure.as_ref().expect("reported");
    assert_eq!(failure.kind, "missing_role");
    assert_eq!(decision_for(&report, &s.destination).key(), "scorer_failed");
    assert!(!s.node.called("create_job"));
    assert!(s.store.running_rebalances().unwrap().is_empty());
}

#[tokio::test]
async fn peers_with_rebalancing_disabled_are_excepted_once_per_cycle() {
    let s = setup(scenario(100), RebalanceSettings::default());
    let peer = s
        .network
        .lock()
        .unwrap()
        .channel_by_label("small")
        .unwrap()
        .peer_id;
    let mut policy = revops_store::PeerPolicy::default_for(&peer, s.now());
    policy.rebalance_mode = revops_store::RebalanceMode::Disabled;
    s.store.upsert_peer_policy(&policy).unwrap();
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    let except = report.except_peers.expect("synced");
    assert_eq!(except.peers, vec![peer.clone()]);
    assert_eq!(except.added, vec![peer.clone()]);
    assert_eq!(s.node.inner.except_peers().await.unwrap(), vec![peer]);
    let sets = s
        .node
        .calls()
        .iter()
        .filter(|m| **m == "set_except_peers")
        .count();
    assert_eq!(sets, 1);
}

#[tokio::test]
async fn with_bookkeeper_a_rise_from_routing_is_not_taken_for_the_job() {
    let mut scenario = scenario(100);
    scenario.other_plugins.push(PluginSpec::bookkeeper());
    let s = setup(scenario, RebalanceSettings::default());
    s.busy_destination(DAILY_OUT_MSAT);
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    let Decision::Started { rebalance_id, .. } = *decision_for(&report, &s.destination) else {
        panic!("not started: {report:#?}");
    };
    // Payments arriving through the channel raise its balance before sling
    // paid anything (simulated time has not moved, so sling has not run).
    {
        let mut net = s.network.lock().unwrap();
        let local = net.channel(&s.destination).unwrap().local_msat;
        net.set_local_msat(&s.destination, local + 300_000 * SAT)
            .unwrap();
    }
    let report = s.engine.run_rebalance_cycle(WALLET).await.unwrap();
    assert!(report.finished.is_empty(), "{report:#?}");
    let row = s.store.rebalance(rebalance_id).unwrap().unwrap();
    assert_eq!(row.outcome, RebalanceOutcome::Running);
    // The job was left alone to do its work.
    assert_eq!(s.node.inner.jobs().await.unwrap().len(), 1);
}
