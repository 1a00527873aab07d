//! sling's answers ([`super::wire`]) → the rebalancer's domain types.
//!
//! Invariant: anything that does not read as sling writes it (a status
//! without `n:`, an amount that is not digits and commas) is an error, never
//! a silent zero: the scorer must not learn from misread numbers.

use super::wire::{
    FailuresWindow, JobSettings, OverviewRow, PartnerRow, SatDirection, ScidStats, StoredJob,
    SuccessesWindow,
};
use revops_core::{
    ChannelPartner, FailNode, FailureReasonCount, FailureStats, JobDirection, JobInfo, JobOverview,
    Msat, Sat, SuccessStats, TaskState, TaskStatus,
};

/// sling's word for "no such time".
const NEVER: &str = "Never";

pub fn jobs(settings: JobSettings) -> Vec<JobInfo> {
    settings
        .into_iter()
        .map(|(scid, job)| job_info(scid, job))
        .collect()
}

fn job_info(short_channel_id: String, job: StoredJob) -> JobInfo {
    JobInfo {
        short_channel_id,
        direction: match job.sat_direction {
            SatDirection::Pull => JobDirection::Pull,
            SatDirection::Push => JobDirection::Push,
        },
        amount_msat: Msat(job.amount_msat),
        max_ppm: job.maxppm,
        out_ppm: job.outppm,
        target_ratio: job.target,
        max_hops: job.maxhops,
        candidates: job.candidates.unwrap_or_default(),
        deplete_up_to_ratio: job.depleteuptopercent,
        deplete_up_to_msat: job.depleteuptoamount_msat.map(Msat),
        parallel_jobs: job.paralleljobs,
    }
}

pub fn overview(rows: Vec<OverviewRow>) -> Result<Vec<JobOverview>, String> {
    rows.into_iter().map(overview_row).collect()
}

fn overview_row(row: OverviewRow) -> Result<JobOverview, String> {
    Ok(JobOverview {
        tasks: row
            .status
            .iter()
            .map(|s| task_status(s))
            .collect::<Result<_, _>>()?,
        rebalanced_sat: Sat(comma_sats(&row.rebamount)?),
        weighted_fee_ppm: row.w_feeppm,
        last_route_taken_local_time: local_time(row.last_route_taken),
        last_success_local_time: local_time(row.last_success_reb),
        short_channel_id: row.scid,
        peer_id: row.pubkey,
        alias: row.alias,
    })
}

/// `"2:Balanced"` → task 2, `Balanced`.
pub fn task_status(s: &str) -> Result<TaskStatus, String> {
    let (number, word) = s
        .split_once(':')
        .ok_or_else(|| format!("task status `{s}` is not `<n>:<state>`"))?;
    let task_number = number
        .parse()
        .map_err(|_| format!("task status `{s}` has no task number"))?;
    Ok(TaskStatus {
        task_number,
        state: TaskState::parse(word),
    })
}

/// `"1,234,567"` → 1234567 (sling formats with en-locale thousands commas).
pub fn comma_sats(s: &str) -> Result<u64, String> {
    let digits: String = s.chars().filter(|c| *c != ',').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{s}` is not an amount of sats"));
    }
    digits
        .parse()
        .map_err(|_| format!("`{s}` does not fit in 64 bits"))
}

fn local_time(s: String) -> Option<String> {
    (s != NEVER).then_some(s)
}

pub fn successes(w: SuccessesWindow) -> SuccessStats {
    SuccessStats {
        total_rebalances: w.total_rebalances,
        total_amount_sat: Sat(w.total_amount_sats),
        total_spent_sat: Sat(w.total_spent_sats),
        fee_ppm_weighted_avg: w.feeppm_weighted_avg,
        fee_ppm_min: w.feeppm_min,
        fee_ppm_max: w.feeppm_max,
        fee_ppm_median: w.feeppm_median,
        fee_ppm_90th_percentile: w.feeppm_90th_percentile,
        most_common_hop_count: w.most_common_hop_count,
        last_channel_partner: w.last_channel_partner,
        time_of_last_rebalance_local_time: w.time_of_last_rebalance,
        time_window_days: w.time_window_days,
        top_channel_partners: partners(w.top_5_channel_partners),
    }
}

pub fn failures(w: FailuresWindow) -> FailureStats {
    FailureStats {
        total_rebalances_tried: w.total_rebalances_tried,
        total_amount_tried_sat: Sat(w.total_amount_tried_sats),
        most_common_hop_count: w.most_common_hop_count,
        time_of_last_attempt_local_time: w.time_of_last_attempt,
        time_window_days: w.time_window_days,
        top_channel_partners: partners(w.top_5_channel_partners),
        top_fail_nodes: w
            .top_5_fail_nodes
            .into_iter()
            .map(|n| FailNode {
                peer_id: n.peer_id,
                alias: n.alias,
                count: n.count,
            })
            .collect(),
        top_failure_reasons: w
            .top_5_failure_reasons
            .into_iter()
            .map(|r| FailureReasonCount {
                reason: r.failure_reason,
                count: r.failure_count,
            })
            .collect(),
    }
}

fn partners(rows: Vec<PartnerRow>) -> Vec<ChannelPartner> {
    rows.into_iter()
        .map(|p| ChannelPartner {
            short_channel_id: p.scid,
            alias: p.alias,
            amount_sat: Sat(p.sats),
        })
        .collect()
}

/// The two halves of per-scid stats.
pub fn scid_stats(stats: ScidStats) -> (Option<SuccessStats>, Option<FailureStats>) {
    (
        stats.successes_in_time_window.map(successes),
        stats.failures_in_time_window.map(failures),
    )
}
