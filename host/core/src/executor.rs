//! The rebalancer's view of whatever executes circular rebalances (the
//! `sling` plugin on a real node, a simulated sling in `revops-sim`).
//!
//! Invariants:
//! - Nothing here knows sling's JSON: the adapters translate. The types model
//!   what sling really reports (see `cln-fixtures/SLING.md`) and nothing more;
//!   sling's own words are kept where it has them (task states, local-time
//!   strings) rather than guessed into something richer.
//! - Listing never creates: [`RebalanceExecutor::jobs`] reads the stored jobs
//!   (`sling-jobsettings`), never `sling-job`, which stores a job.
//! - Every job we create pulls liquidity INTO a channel; jobs of the other
//!   direction may still be listed because the operator can create them.

use crate::amount::{Msat, Sat};
use crate::node::NodeError;
use std::fmt;
use std::future::Future;

/// lightningd's answer for a method nobody registered: the plugin is absent.
pub const METHOD_NOT_FOUND_CODE: i64 = -32601;

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ExecutorError {
    /// lightningd does not know the method: sling is not running (or too old).
    #[error("sling is not running on this node (`{method}` is an unknown command)")]
    SlingAbsent { method: String },
    /// sling (or lightningd) answered with a JSON-RPC error.
    #[error("`{method}` refused (code {code}): {message}")]
    Rpc {
        method: String,
        code: i64,
        message: String,
    },
    /// No answer: connection trouble, timeout, or the circuit breaker is open.
    #[error("talking to lightningd for `{method}` failed: {message}")]
    Transport { method: String, message: String },
    /// An answer came but did not have sling's shape.
    #[error("the answer to `{method}` was not understood: {message}")]
    Malformed { method: String, message: String },
    /// The job cannot be expressed in sling's terms; nothing was sent.
    #[error("invalid rebalance job for {short_channel_id}: {reason}")]
    InvalidJob {
        short_channel_id: String,
        reason: String,
    },
}

impl From<NodeError> for ExecutorError {
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::Rpc { method, code, .. } if code == METHOD_NOT_FOUND_CODE => {
                ExecutorError::SlingAbsent { method }
            }
            NodeError::Rpc {
                method,
                code,
                message,
            } => ExecutorError::Rpc {
                method,
                code,
                message,
            },
            NodeError::Malformed { method, message } => {
                ExecutorError::Malformed { method, message }
            }
            NodeError::Timeout { ref method, .. }
            | NodeError::BreakerOpen { ref method, .. }
            | NodeError::Transport { ref method, .. } => ExecutorError::Transport {
                method: method.clone(),
                message: e.to_string(),
            },
        }
    }
}

/// A job that pulls liquidity into `short_channel_id`: sling repeatedly pays
/// itself `amount_msat` in a circle leaving through a candidate channel and
/// arriving through this one, until our side reaches `target_ratio`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// The channel to fill (our side grows).
    pub short_channel_id: String,
    /// Moved per rebalance. sling counts in whole satoshi, so this must be a
    /// non-zero multiple of 1000 msat.
    pub amount_msat: Msat,
    /// Most effective fee (base included) one rebalance may cost, in ppm of the amount.
    pub max_ppm: u32,
    /// Channels the liquidity may leave through. Empty = sling picks any of
    /// ours whose fee is at most `out_ppm` (then `out_ppm` is required).
    pub candidates: Vec<String>,
    /// Candidate filter when `candidates` is empty: our fee ppm on the source.
    pub out_ppm: Option<u64>,
    /// Our share of the capacity at which the job idles (sling's default 0.5).
    pub target_ratio: Option<f64>,
    /// Longest circle, counted in other nodes (sling's minimum 2, default 8).
    pub max_hops: Option<u8>,
}

impl JobSpec {
    /// Checks what sling itself does not (a target outside [0, 1] is stored
    /// by sling without complaint) and what the msat → sat conversion needs.
    pub fn validate(&self) -> Result<(), ExecutorError> {
        let invalid = |reason: String| ExecutorError::InvalidJob {
            short_channel_id: self.short_channel_id.clone(),
            reason,
        };
        if self.amount_msat.0 == 0 || !self.amount_msat.0.is_multiple_of(1000) {
            return Err(invalid(format!(
                "amount {} is not a positive whole number of satoshi",
                self.amount_msat
            )));
        }
        if let Some(t) = self.target_ratio
            && !(t.is_finite() && (0.0..=1.0).contains(&t))
        {
            return Err(invalid(format!("target ratio {t} is outside 0..=1")));
        }
        if self.candidates.is_empty() && self.out_ppm.is_none() {
            return Err(invalid("needs candidates or out_ppm".to_string()));
        }
        Ok(())
    }

    /// The per-rebalance amount as sling takes it.
    pub fn amount_sat(&self) -> Sat {
        self.amount_msat.to_sat_floor()
    }
}

/// Which way a job moves liquidity (sling's `sat_direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobDirection {
    /// Into the job's channel (our side grows).
    Pull,
    /// Out of the job's channel.
    Push,
}

/// A job as sling stores it (`sling-jobsettings`); absent settings use sling's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    pub short_channel_id: String,
    pub direction: JobDirection,
    pub amount_msat: Msat,
    pub max_ppm: u32,
    pub out_ppm: Option<u64>,
    pub target_ratio: Option<f64>,
    pub max_hops: Option<u8>,
    pub candidates: Vec<String>,
    /// A candidate keeps at least min(this share of its capacity, `deplete_up_to_msat`).
    pub deplete_up_to_ratio: Option<f64>,
    pub deplete_up_to_msat: Option<Msat>,
    pub parallel_jobs: Option<u16>,
}

/// A task's state word as sling shows it (`"<n>:<word>"` in `sling-stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    Starting,
    Rebalancing,
    /// Target reached, or the channel cannot take a whole amount; idling.
    Balanced,
    NoCandidates,
    HtlcCapped,
    Disconnected,
    PeerNotFound,
    PeerNotReady,
    PeerBad,
    ChanNotNormal,
    GraphEmpty,
    ChanNotInGraph,
    NoRoutes,
    /// The cheapest route costs more than `max_ppm`.
    NoCheapRoute,
    Stopping,
    Stopped,
    Error,
    /// Stored but never started.
    NotStarted,
    /// A word this version does not know, kept verbatim.
    Other(String),
}

impl TaskState {
    const KNOWN: [(TaskState, &'static str); 18] = [
        (TaskState::Starting, "Starting"),
        (TaskState::Rebalancing, "Rebalancing"),
        (TaskState::Balanced, "Balanced"),
        (TaskState::NoCandidates, "NoCandidates"),
        (TaskState::HtlcCapped, "HTLCcapped"),
        (TaskState::Disconnected, "Disconnected"),
        (TaskState::PeerNotFound, "PeerNotFound"),
        (TaskState::PeerNotReady, "PeerNotReady"),
        (TaskState::PeerBad, "PeerBad"),
        (TaskState::ChanNotNormal, "ChanNotNormal"),
        (TaskState::GraphEmpty, "GraphEmpty"),
        (TaskState::ChanNotInGraph, "ChanNotInGraph"),
        (TaskState::NoRoutes, "NoRoutes"),
        (TaskState::NoCheapRoute, "NoCheapRoute"),
        (TaskState::Stopping, "Stopping"),
        (TaskState::Stopped, "Stopped"),
        (TaskState::Error, "Error"),
        (TaskState::NotStarted, "NotStarted"),
    ];

    /// sling's word for the state.
    pub fn as_str(&self) -> &str {
        match self {
            TaskState::Other(word) => word,
            known => Self::KNOWN
                .iter()
                .find(|(s, _)| s == known)
                .map(|(_, w)| *w)
                .unwrap_or("Other"),
        }
    }

    pub fn parse(word: &str) -> TaskState {
        Self::KNOWN
            .iter()
            .find(|(_, w)| *w == word)
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| TaskState::Other(word.to_string()))
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One task of a job (a job runs `parallel_jobs` tasks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskStatus {
    /// sling numbers tasks from 1.
    pub task_number: u32,
    pub state: TaskState,
}

/// One row of sling's job overview (`sling-stats` with `json`, no scid).
#[derive(Debug, Clone, PartialEq)]
pub struct JobOverview {
    pub short_channel_id: String,
    pub peer_id: String,
    pub alias: String,
    /// One entry per task; a job never started shows one `NotStarted`.
    pub tasks: Vec<TaskStatus>,
    /// Moved by successful rebalances in the stats window.
    pub rebalanced_sat: Sat,
    /// Amount-weighted fee ppm of those successes (0 when none).
    pub weighted_fee_ppm: u64,
    /// Last attempt, success or failure, as sling prints it: the node's local
    /// time `YYYY-MM-DD HH:MM:SS` (`None` = sling's `Never`).
    pub last_route_taken_local_time: Option<String>,
    pub last_success_local_time: Option<String>,
}

/// A candidate channel the liquidity left through, with what it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPartner {
    pub short_channel_id: String,
    pub alias: String,
    pub amount_sat: Sat,
}

/// Successful rebalances of one channel in sling's stats window.
#[derive(Debug, Clone, PartialEq)]
pub struct SuccessStats {
    pub total_rebalances: u64,
    pub total_amount_sat: Sat,
    /// Fees paid: msat fees summed, then cut to whole sat.
    pub total_spent_sat: Sat,
    /// Per-rebalance effective fee ppm (sling rounds each up).
    pub fee_ppm_weighted_avg: u64,
    pub fee_ppm_min: u64,
    pub fee_ppm_max: u64,
    pub fee_ppm_median: u64,
    pub fee_ppm_90th_percentile: u64,
    /// Other nodes on the circle; may flip between equally common counts.
    pub most_common_hop_count: u64,
    pub last_channel_partner: String,
    pub time_of_last_rebalance_local_time: String,
    /// The window as sling reports it (a string, e.g. `"30"`).
    pub time_window_days: String,
    pub top_channel_partners: Vec<ChannelPartner>,
}

/// A node where rebalance payments failed, and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailNode {
    pub peer_id: String,
    pub alias: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureReasonCount {
    /// e.g. `WIRE_TEMPORARY_CHANNEL_FAILURE`.
    pub reason: String,
    pub count: u64,
}

/// Failed rebalance payments of one channel in sling's stats window. A
/// route over `max_ppm` is not a failure: sling never sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureStats {
    pub total_rebalances_tried: u64,
    pub total_amount_tried_sat: Sat,
    pub most_common_hop_count: u64,
    pub time_of_last_attempt_local_time: String,
    pub time_window_days: String,
    pub top_channel_partners: Vec<ChannelPartner>,
    pub top_fail_nodes: Vec<FailNode>,
    pub top_failure_reasons: Vec<FailureReasonCount>,
}

/// Everything sling reports about one channel's rebalancing.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStats {
    pub short_channel_id: String,
    /// `None` when sling lists no job (nor finished once-job) for the channel;
    /// its history may still be there.
    pub overview: Option<JobOverview>,
    pub successes: Option<SuccessStats>,
    pub failures: Option<FailureStats>,
}

/// What `sling-go` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StartReport {
    /// Tasks started now (already running ones are not counted).
    pub tasks_started: u64,
    pub tasks_failed_to_start: u64,
}

/// What `sling-stop` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StopReport {
    /// Every task sling knows for the channel(s), running or not: stopping
    /// twice reports the same number. Not "how many were running".
    pub stopped_count: u64,
}

/// How [`RebalanceExecutor::set_except_peers`] changed sling's list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExceptPeersChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

pub trait RebalanceExecutor: Send + Sync {
    /// Stores (or replaces) a pull job; nothing moves until [`Self::start`].
    fn create_job(&self, spec: &JobSpec) -> impl Future<Output = Result<(), ExecutorError>> + Send;

    /// Starts the stored job of one channel.
    fn start(
        &self,
        short_channel_id: &str,
    ) -> impl Future<Output = Result<StartReport, ExecutorError>> + Send;

    /// Stops one channel's tasks; the job stays stored. May block until a
    /// payment in flight resolves.
    fn stop(
        &self,
        short_channel_id: &str,
    ) -> impl Future<Output = Result<StopReport, ExecutorError>> + Send;

    /// Stops every task, the operator's own jobs included.
    fn stop_all(&self) -> impl Future<Output = Result<StopReport, ExecutorError>> + Send;

    /// Removes one channel's job (succeeds when there is none). Its stats are
    /// kept: they are the rebalancing history the scorer learns from.
    fn delete(
        &self,
        short_channel_id: &str,
    ) -> impl Future<Output = Result<(), ExecutorError>> + Send;

    /// Removes every job (stats kept).
    fn delete_all(&self) -> impl Future<Output = Result<(), ExecutorError>> + Send;

    /// The stored jobs, by scid; creates nothing.
    fn jobs(&self) -> impl Future<Output = Result<Vec<JobInfo>, ExecutorError>> + Send;

    /// One row per listed job, with its task states (one call for all jobs).
    fn overview(&self) -> impl Future<Output = Result<Vec<JobOverview>, ExecutorError>> + Send;

    /// One channel's overview row and its success/failure history.
    fn stats(
        &self,
        short_channel_id: &str,
    ) -> impl Future<Output = Result<JobStats, ExecutorError>> + Send;

    /// The peers sling must never route rebalances through.
    fn except_peers(&self) -> impl Future<Output = Result<Vec<String>, ExecutorError>> + Send;

    /// Makes sling's except list equal `peer_ids` (removals first, then additions).
    fn set_except_peers(
        &self,
        peer_ids: &[String],
    ) -> impl Future<Output = Result<ExceptPeersChange, ExecutorError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> JobSpec {
        JobSpec {
            short_channel_id: "1x2x3".into(),
            amount_msat: Msat(200_000_000),
            max_ppm: 600,
            candidates: vec![],
            out_ppm: Some(1000),
            target_ratio: Some(0.3),
            max_hops: None,
        }
    }

    #[test]
    fn validate_rejects_what_sling_would_store_or_cannot_express() {
        assert!(spec().validate().is_ok());
        let mut s = spec();
        s.amount_msat = Msat(1500);
        assert!(matches!(
            s.validate(),
            Err(ExecutorError::InvalidJob { .. })
        ));
        let mut s = spec();
        s.target_ratio = Some(1.5);
        assert!(s.validate().is_err());
        let mut s = spec();
        s.out_ppm = None;
        assert!(s.validate().is_err());
        s.candidates = vec!["1x1x1".into()];
        assert!(s.validate().is_ok());
    }

    #[test]
    fn task_state_words_round_trip() {
        for (state, word) in TaskState::KNOWN {
            assert_eq!(TaskState::parse(word), state);
            assert_eq!(state.as_str(), word);
        }
        assert_eq!(TaskState::parse("Weird").as_str(), "Weird");
    }

    #[test]
    fn unknown_method_means_sling_absent() {
        let e: ExecutorError = NodeError::Rpc {
            method: "sling-go".into(),
            code: -32601,
            message: "Unknown command 'sling-go'".into(),
        }
        .into();
        assert_eq!(
            e,
            ExecutorError::SlingAbsent {
                method: "sling-go".into()
            }
        );
        let e: ExecutorError = NodeError::Timeout {
            method: "sling-stop".into(),
            timeout_secs: 5,
        }
        .into();
        assert!(matches!(e, ExecutorError::Transport { .. }));
    }
}
