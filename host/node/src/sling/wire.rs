//! serde mirrors of what sling v4.2 answers (`cln-fixtures/SLING.md`).
//!
//! Invariant: a field sling always sends is a required (non-`Option`) field
//! here, so an answer missing one fails to parse instead of defaulting;
//! fields sling omits when unset are `Option`. Unknown extra fields are
//! tolerated, because a newer sling may add some.

use serde::Deserialize;
use std::collections::BTreeMap;

/// `{"result": "success"}` (`sling-job`, `sling-deletejob`, except add/remove).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ResultWord {
    pub result: String,
}

/// `sling-go`. The colon in `tasks_failed_start:` is really in sling's key.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct GoResult {
    #[serde(rename = "tasks_failed_start:")]
    pub tasks_failed_start: u64,
    pub tasks_started: u64,
}

/// `sling-stop`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct StopResult {
    pub stopped_count: u64,
}

/// `sling-jobsettings`: stored jobs keyed by scid.
pub type JobSettings = BTreeMap<String, StoredJob>;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum SatDirection {
    Pull,
    Push,
}

/// One stored job; keys without a value are omitted by sling.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct StoredJob {
    pub amount_msat: u64,
    pub candidates: Option<Vec<String>>,
    pub depleteuptoamount_msat: Option<u64>,
    pub depleteuptopercent: Option<f64>,
    pub maxhops: Option<u8>,
    pub maxppm: u32,
    pub outppm: Option<u64>,
    pub paralleljobs: Option<u16>,
    pub sat_direction: SatDirection,
    pub target: Option<f64>,
}

/// One row of `sling-stats {"json": true}`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct OverviewRow {
    pub alias: String,
    /// Local time `YYYY-MM-DD HH:MM:SS` or `Never`.
    pub last_route_taken: String,
    pub last_success_reb: String,
    pub pubkey: String,
    /// Sats with thousands commas, e.g. `"800,000"`.
    pub rebamount: String,
    pub scid: String,
    /// `"<task number>:<state word>"` per task.
    pub status: Vec<String>,
    pub w_feeppm: u64,
}

/// `sling-stats {"scid": …, "json": true}`: both `null` without history.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ScidStats {
    pub failures_in_time_window: Option<FailuresWindow>,
    pub successes_in_time_window: Option<SuccessesWindow>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct PartnerRow {
    pub alias: String,
    pub sats: u64,
    pub scid: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SuccessesWindow {
    pub feeppm_90th_percentile: u64,
    pub feeppm_max: u64,
    pub feeppm_median: u64,
    pub feeppm_min: u64,
    pub feeppm_weighted_avg: u64,
    pub last_channel_partner: String,
    pub most_common_hop_count: u64,
    pub time_of_last_rebalance: String,
    /// A string, e.g. `"30"`.
    pub time_window_days: String,
    pub top_5_channel_partners: Vec<PartnerRow>,
    pub total_amount_sats: u64,
    pub total_rebalances: u64,
    pub total_spent_sats: u64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct FailNodeRow {
    pub alias: String,
    pub count: u64,
    pub peer_id: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct FailureReasonRow {
    pub failure_count: u64,
    pub failure_reason: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct FailuresWindow {
    pub most_common_hop_count: u64,
    pub time_of_last_attempt: String,
    pub time_window_days: String,
    pub top_5_channel_partners: Vec<PartnerRow>,
    pub top_5_fail_nodes: Vec<FailNodeRow>,
    pub top_5_failure_reasons: Vec<FailureReasonRow>,
    pub total_amount_tried_sats: u64,
    pub total_rebalances_tried: u64,
}
