//! The [`revops_core::RebalanceExecutor`] operations over any raw JSON-RPC
//! transport: the real node ([`crate::ClnNode`]) and the simulated one both
//! run exactly this code, so both exercise the same requests and parsing.

use super::{convert, request, wire};
use revops_core::{
    ExceptPeersChange, ExecutorError, JobInfo, JobOverview, JobSpec, JobStats, NodeError,
    StartReport, StopReport,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future;

/// One raw JSON-RPC request to lightningd (which relays sling's methods).
pub trait RawRpc: Send + Sync {
    fn call_raw(
        &self,
        method: &str,
        params: Value,
    ) -> impl Future<Output = Result<Value, NodeError>> + Send;
}

async fn call<R: RawRpc, T: DeserializeOwned>(
    rpc: &R,
    method: &str,
    params: Value,
) -> Result<T, ExecutorError> {
    let answer = rpc.call_raw(method, params).await?;
    serde_json::from_value(answer).map_err(|e| malformed(method, e.to_string()))
}

fn malformed(method: &str, message: String) -> ExecutorError {
    ExecutorError::Malformed {
        method: method.to_string(),
        message,
    }
}

/// `{"result": "success"}` and nothing else counts as success.
async fn call_success<R: RawRpc>(
    rpc: &R,
    method: &str,
    params: Value,
) -> Result<(), ExecutorError> {
    let answer: wire::ResultWord = call(rpc, method, params).await?;
    if answer.result == "success" {
        Ok(())
    } else {
        Err(malformed(
            method,
            format!("expected result `success`, got `{}`", answer.result),
        ))
    }
}

pub async fn create_job<R: RawRpc>(rpc: &R, spec: &JobSpec) -> Result<(), ExecutorError> {
    spec.validate()?;
    call_success(rpc, request::JOB, request::job(spec)).await
}

pub async fn start<R: RawRpc>(rpc: &R, scid: &str) -> Result<StartReport, ExecutorError> {
    let go: wire::GoResult = call(rpc, request::GO, request::scid(Some(scid))).await?;
    Ok(StartReport {
        tasks_started: go.tasks_started,
        tasks_failed_to_start: go.tasks_failed_start,
    })
}

pub async fn stop<R: RawRpc>(rpc: &R, scid: Option<&str>) -> Result<StopReport, ExecutorError> {
    let stop: wire::StopResult = call(rpc, request::STOP, request::scid(scid)).await?;
    Ok(StopReport {
        stopped_count: stop.stopped_count,
    })
}

pub async fn delete<R: RawRpc>(rpc: &R, scid: Option<&str>) -> Result<(), ExecutorError> {
    call_success(rpc, request::DELETE_JOB, request::delete_job(scid)).await
}

pub async fn jobs<R: RawRpc>(rpc: &R) -> Result<Vec<JobInfo>, ExecutorError> {
    let settings: wire::JobSettings = call(rpc, request::JOB_SETTINGS, request::scid(None)).await?;
    Ok(convert::jobs(settings))
}

pub async fn overview<R: RawRpc>(rpc: &R) -> Result<Vec<JobOverview>, ExecutorError> {
    let rows: Vec<wire::OverviewRow> = call(rpc, request::STATS, request::stats(None)).await?;
    convert::overview(rows).map_err(|m| malformed(request::STATS, m))
}

/// Two calls: the per-scid history, then the overview for the task states
/// (sling reports those only in the overview).
pub async fn stats<R: RawRpc>(rpc: &R, scid: &str) -> Result<JobStats, ExecutorError> {
    let history: wire::ScidStats = call(rpc, request::STATS, request::stats(Some(scid))).await?;
    let (successes, failures) = convert::scid_stats(history);
    let overview = overview(rpc)
        .await?
        .into_iter()
        .find(|o| o.short_channel_id == scid);
    Ok(JobStats {
        short_channel_id: scid.to_string(),
        overview,
        successes,
        failures,
    })
}

pub async fn except_peers<R: RawRpc>(rpc: &R) -> Result<Vec<String>, ExecutorError> {
    call(rpc, request::EXCEPT_PEER, request::except_peer_list()).await
}

/// Diffs sling's list against `wanted` (node ids compared case-insensitively,
/// sling prints them lower case) and sends only the differences.
pub async fn set_except_peers<R: RawRpc>(
    rpc: &R,
    wanted: &[String],
) -> Result<ExceptPeersChange, ExecutorError> {
    let wanted: Vec<String> = {
        let mut seen = Vec::new();
        for id in wanted {
            let id = id.to_ascii_lowercase();
            if !seen.contains(&id) {
                seen.push(id);
            }
        }
        seen
    };
    let current: Vec<String> = except_peers(rpc)
        .await?
        .into_iter()
        .map(|id| id.to_ascii_lowercase())
        .collect();
    let mut change = ExceptPeersChange::default();
    for id in current.iter().filter(|id| !wanted.contains(id)) {
        call_success(rpc, request::EXCEPT_PEER, request::except_peer(false, id)).await?;
        change.removed.push(id.clone());
    }
    for id in wanted.iter().filter(|id| !current.contains(id)) {
        call_success(rpc, request::EXCEPT_PEER, request::except_peer(true, id)).await?;
        change.added.push(id.clone());
    }
    Ok(change)
}
