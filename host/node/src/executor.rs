//! [`RebalanceExecutor`] for [`ClnNode`]: sling's methods as raw calls on the
//! guarded path, in their own breaker group (`rebalance`), so sling trouble
//! never pauses fee updates and the other way round.

use crate::breaker::MethodGroup;
use crate::cln::ClnNode;
use crate::sling::{RawRpc, ops, request};
use revops_core::{
    ExceptPeersChange, ExecutorError, JobInfo, JobOverview, JobSpec, JobStats, NodeError,
    RebalanceExecutor, StartReport, StopReport,
};
use serde_json::Value;

/// sling's `sling-timeoutpay` default (120 s) plus a margin: a method that
/// waits for a task to end may legitimately take that long, and timing it
/// out would count as a failure towards the breaker.
pub const BLOCKING_TIMEOUT_SECS: u64 = 135;

/// sling's methods through `node`'s guarded path.
struct SlingRpc<'a>(&'a ClnNode);

impl RawRpc for SlingRpc<'_> {
    async fn call_raw(&self, method: &str, params: Value) -> Result<Value, NodeError> {
        let min_timeout_secs = if request::BLOCKING_METHODS.contains(&method) {
            BLOCKING_TIMEOUT_SECS
        } else {
            0
        };
        self.0
            .call_raw(MethodGroup::Rebalance, method, params, min_timeout_secs)
            .await
    }
}

impl RebalanceExecutor for ClnNode {
    async fn create_job(&self, spec: &JobSpec) -> Result<(), ExecutorError> {
        ops::create_job(&SlingRpc(self), spec).await
    }

    async fn start(&self, short_channel_id: &str) -> Result<StartReport, ExecutorError> {
        ops::start(&SlingRpc(self), short_channel_id).await
    }

    async fn stop(&self, short_channel_id: &str) -> Result<StopReport, ExecutorError> {
        ops::stop(&SlingRpc(self), Some(short_channel_id)).await
    }

    async fn stop_all(&self) -> Result<StopReport, ExecutorError> {
        ops::stop(&SlingRpc(self), None).await
    }

    async fn delete(&self, short_channel_id: &str) -> Result<(), ExecutorError> {
        ops::delete(&SlingRpc(self), Some(short_channel_id)).await
    }

    async fn delete_all(&self) -> Result<(), ExecutorError> {
        ops::delete(&SlingRpc(self), None).await
    }

    async fn jobs(&self) -> Result<Vec<JobInfo>, ExecutorError> {
        ops::jobs(&SlingRpc(self)).await
    }

    async fn overview(&self) -> Result<Vec<JobOverview>, ExecutorError> {
        ops::overview(&SlingRpc(self)).await
    }

    async fn stats(&self, short_channel_id: &str) -> Result<JobStats, ExecutorError> {
        ops::stats(&SlingRpc(self), short_channel_id).await
    }

    async fn except_peers(&self) -> Result<Vec<String>, ExecutorError> {
        ops::except_peers(&SlingRpc(self)).await
    }

    async fn set_except_peers(
        &self,
        peer_ids: &[String],
    ) -> Result<ExceptPeersChange, ExecutorError> {
        ops::set_except_peers(&SlingRpc(self), peer_ids).await
    }
}
