//! A simulated sling (daywalker90/sling v4.2): stored jobs, their tasks,
//! the except-peer list and the success/failure history its stats read.
//! The RPC face is `rpc/sling/`; tasks run in `run.rs`; stats in `stats.rs`.
//!
//! Invariants:
//! - sling's behaviour follows `cln-fixtures/SLING.md`; where the sim must
//!   invent (route costs, success odds), the numbers are [`SlingParams`].
//! - sling draws from its own seeded stream, never the traffic model's, so a
//!   run with rebalancing sees the same payment attempts as one without
//!   (paired comparisons stay paired) and each run is deterministic per seed.
//! - A rebalance conserves every channel's capacity: the source channel's
//!   local side loses amount + fee, the destination's gains the amount, and
//!   neither goes past its reserve.
//! - Every payment sling sends is recorded ([`RebalanceRecord`]); routes over
//!   `maxppm` are never sent, so they are counted, not recorded.

mod run;
pub(crate) mod stats;

pub(crate) use run::{DEFAULT_PARALLELJOBS, START_DELAY_MS};

use crate::ids::mix64;
use crate::sampling::Draws;
use revops_core::TaskState;
use std::collections::BTreeMap;

/// Separates sling's random stream from the traffic model's.
const SLING_STREAM: u64 = 0x534C_494E_4721;

/// What the simulation assumes about rebalance routes (sling's own
/// constants, such as its sleep times, are in `run.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct SlingParams {
    /// Chance that a payment along an affordable route settles.
    pub success_probability: f64,
    /// The median route fee, relative to the `alternatives_fee_ppm` of the
    /// channel the liquidity arrives through: refilling a channel costs about
    /// what the market charges to reach that peer.
    pub route_fee_factor: f64,
    /// Log-space spread of route fees around that median.
    pub route_fee_sigma: f64,
    /// Time between rebalances while they succeed (observed ≈ 1.2 s).
    pub interval_after_success_ms: u64,
    /// Time to the next try after a failed payment.
    pub interval_after_failure_ms: u64,
}

impl Default for SlingParams {
    fn default() -> Self {
        SlingParams {
            success_probability: 0.6,
            route_fee_factor: 1.0,
            route_fee_sigma: 0.5,
            interval_after_success_ms: 1_200,
            interval_after_failure_ms: 2_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Pull,
    Push,
}

impl Direction {
    /// Input spelling (`sling-job direction`).
    pub(crate) fn word(self) -> &'static str {
        match self {
            Direction::Pull => "pull",
            Direction::Push => "push",
        }
    }

    /// Output spelling (`sat_direction`).
    pub(crate) fn stored_word(self) -> &'static str {
        match self {
            Direction::Pull => "Pull",
            Direction::Push => "Push",
        }
    }
}

/// A job as sling stores it (`jobs.json`); amounts already in msat.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredJob {
    pub(crate) direction: Direction,
    pub(crate) amount_msat: u64,
    pub(crate) maxppm: u32,
    pub(crate) outppm: Option<u64>,
    pub(crate) target: Option<f64>,
    pub(crate) maxhops: Option<u8>,
    pub(crate) candidates: Option<Vec<String>>,
    pub(crate) depleteuptopercent: Option<f64>,
    pub(crate) depleteuptoamount_msat: Option<u64>,
    pub(crate) paralleljobs: Option<u16>,
}

/// One task of a job.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Task {
    pub(crate) state: TaskState,
    pub(crate) running: bool,
    /// When a running task next looks at its channel.
    pub(crate) next_try_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SuccessRecord {
    pub(crate) at_secs: u64,
    pub(crate) amount_msat: u64,
    pub(crate) fee_msat: u64,
    /// Effective ppm, rounded up as sling reports it.
    pub(crate) fee_ppm: u64,
    pub(crate) partner_scid: String,
    pub(crate) hops: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FailureRecord {
    pub(crate) at_secs: u64,
    pub(crate) amount_msat: u64,
    pub(crate) reason: &'static str,
    pub(crate) fail_node: String,
    pub(crate) partner_scid: String,
    pub(crate) hops: u8,
}

/// How a rebalance payment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebalanceOutcome {
    Settled,
    /// Failed along the route (`failure_reason`, e.g. `WIRE_TEMPORARY_CHANNEL_FAILURE`).
    Failed {
        reason: String,
    },
}

/// One rebalance payment the simulated sling sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RebalanceRecord {
    /// Simulated unix milliseconds.
    pub at_ms: u64,
    /// The job's channel.
    pub job_scid: String,
    /// The channel the payment left through (our side shrank).
    pub out_scid: String,
    /// The channel it came back through (our side grew).
    pub in_scid: String,
    pub amount_msat: u64,
    /// Paid to the route; 0 unless settled.
    pub fee_msat: u64,
    /// The route's effective fee ppm (rounded up), settled or not.
    pub fee_ppm: u64,
    /// Other nodes on the circle.
    pub hops: u8,
    pub outcome: RebalanceOutcome,
}

/// sling's whole state in the simulated node.
#[derive(Debug, Clone)]
pub(crate) struct SlingState {
    pub(crate) params: SlingParams,
    pub(crate) draws: Draws,
    /// Keyed by scid; string order is sling's `sling-jobsettings` order.
    pub(crate) jobs: BTreeMap<String, StoredJob>,
    /// Every task sling knows, by scid (survives a stop, not a delete).
    pub(crate) tasks: BTreeMap<String, Vec<Task>>,
    /// In insertion order (sling's list order is not defined).
    pub(crate) except_peers: Vec<String>,
    pub(crate) successes: BTreeMap<String, Vec<SuccessRecord>>,
    pub(crate) failures: BTreeMap<String, Vec<FailureRecord>>,
    pub(crate) log: Vec<RebalanceRecord>,
    /// Tries that found only routes over `maxppm` (nothing sent).
    pub(crate) too_expensive_tries: u64,
}

impl SlingState {
    pub(crate) fn new(seed: u64, params: SlingParams) -> SlingState {
        SlingState {
            params,
            draws: Draws::new(mix64(seed ^ SLING_STREAM)),
            jobs: BTreeMap::new(),
            tasks: BTreeMap::new(),
            except_peers: Vec::new(),
            successes: BTreeMap::new(),
            failures: BTreeMap::new(),
            log: Vec::new(),
            too_expensive_tries: 0,
        }
    }

    /// The earliest try of any running task.
    pub(crate) fn next_try_ms(&self) -> Option<u64> {
        self.tasks
            .values()
            .flatten()
            .filter(|t| t.running)
            .map(|t| t.next_try_ms)
            .min()
    }

    /// Stops one scid's tasks the way sling leaves them: a task busy with a
    /// route ends `Stopped`; one sleeping (balanced, no route, ...) is left
    /// `Stopping`. Returns how many tasks sling knows for the scid.
    pub(crate) fn stop_tasks(&mut self, scid: &str) -> u64 {
        let Some(tasks) = self.tasks.get_mut(scid) else {
            return 0;
        };
        for t in tasks.iter_mut().filter(|t| t.running) {
            t.running = false;
            t.state = match t.state {
                TaskState::Starting | TaskState::Rebalancing => TaskState::Stopped,
                _ => TaskState::Stopping,
            };
        }
        tasks.len() as u64
    }
}
