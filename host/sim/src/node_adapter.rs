//! The engine's `Node` and `Clock` over the simulated network, in-process
//! (`simulate`, benchmarks).
//!
//! Invariant: answers go through exactly the path real lightningd answers
//! take — CLN-shaped JSON, parsed by cln-rpc's generated types, converted by
//! `revops_node::convert` — so `simulate` exercises the same parsing. The
//! `RebalanceExecutor` likewise runs `revops_node::sling::ops` over
//! `handle_rpc`: the same requests and the same sling parsing as `ClnNode`,
//! and `rebalance_payments` runs `revops_node::bookkeeper`'s lookup.

use crate::SimNetwork;
use cln_rpc::model::requests::BkprlistaccounteventsRequest;
use cln_rpc::model::responses::{
    BkprlistaccounteventsResponse, FeeratesResponse, ListforwardsResponse, ListfundsResponse,
    ListpeerchannelsResponse, PluginResponse,
};
use revops_core::{
    ChannelSnapshot, Clock, ExceptPeersChange, ExecutorError, Feerates, ForwardRecord, JobInfo,
    JobOverview, JobSpec, JobStats, Node, NodeError, RebalanceExecutor, RebalancePayment,
    StartReport, StopReport,
};
use revops_node::bookkeeper::{self, BookkeeperRpc};
use revops_node::convert;
use revops_node::sling::{RawRpc, ops};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Clone)]
pub struct SimNode {
    network: Arc<Mutex<SimNetwork>>,
}

impl SimNode {
    pub fn new(network: Arc<Mutex<SimNetwork>>) -> SimNode {
        SimNode { network }
    }

    fn network(&self) -> MutexGuard<'_, SimNetwork> {
        self.network.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn call_value(&self, method: &str, params: &Value) -> Result<Value, NodeError> {
        self.network()
            .handle_rpc(method, params)
            .map_err(|e| NodeError::Rpc {
                method: method.to_string(),
                code: e.code,
                message: e.message,
            })
    }

    fn call<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<T, NodeError> {
        let value = self.call_value(method, &params)?;
        serde_json::from_value(value).map_err(|e| NodeError::Malformed {
            method: method.to_string(),
            message: e.to_string(),
        })
    }
}

impl Node for SimNode {
    async fn list_channels(&self) -> Result<Vec<ChannelSnapshot>, NodeError> {
        let resp: ListpeerchannelsResponse = self.call("listpeerchannels", json!({}))?;
        Ok(convert::channels(resp))
    }

    async fn list_forwards(
        &self,
        start_index: u64,
        limit: u32,
    ) -> Result<Vec<ForwardRecord>, NodeError> {
        let resp: ListforwardsResponse = self.call(
            "listforwards",
            json!({"index": "created", "start": start_index, "limit": limit}),
        )?;
        Ok(resp.forwards.into_iter().map(convert::forward).collect())
    }

    async fn feerates(&self) -> Result<Feerates, NodeError> {
        let resp: FeeratesResponse = self.call("feerates", json!({"style": "perkw"}))?;
        Ok(convert::feerates(resp))
    }

    async fn set_channel_fee(&self, short_channel_id: &str, fee_ppm: u32) -> Result<(), NodeError> {
        self.call::<Value>(
            "setchannel",
            json!({"id": short_channel_id, "feeppm": fee_ppm}),
        )
        .map(|_| ())
    }

    async fn confirmed_onchain_sat(&self) -> Result<u64, NodeError> {
        let resp: ListfundsResponse = self.call("listfunds", json!({}))?;
        Ok(convert::confirmed_onchain_sat(&resp))
    }

    async fn plugin_names(&self) -> Result<Vec<String>, NodeError> {
        let resp: PluginResponse = self.call("plugin", json!({"subcommand": "list"}))?;
        Ok(convert::plugin_names(resp))
    }

    async fn clboss_unmanage(&self, peer_id: &str, tags: &str) -> Result<(), NodeError> {
        self.call::<Value>("clboss-unmanage", json!({"nodeid": peer_id, "tags": tags}))
            .map(|_| ())
    }

    async fn rebalance_payments(
        &self,
        short_channel_id: &str,
        since: u64,
    ) -> Result<Option<Vec<RebalancePayment>>, NodeError> {
        bookkeeper::rebalance_payments(self, short_channel_id, since).await
    }
}

impl BookkeeperRpc for SimNode {
    async fn listpeerchannels(
        &self,
        short_channel_id: &str,
    ) -> Result<ListpeerchannelsResponse, NodeError> {
        self.call(
            "listpeerchannels",
            json!({"short_channel_id": short_channel_id}),
        )
    }

    async fn listaccountevents(
        &self,
        request: BkprlistaccounteventsRequest,
    ) -> Result<BkprlistaccounteventsResponse, NodeError> {
        let params = serde_json::to_value(&request).map_err(|e| NodeError::Malformed {
            method: bookkeeper::LIST_ACCOUNT_EVENTS.to_string(),
            message: e.to_string(),
        })?;
        self.call(bookkeeper::LIST_ACCOUNT_EVENTS, params)
    }
}

impl RawRpc for SimNode {
    async fn call_raw(&self, method: &str, params: Value) -> Result<Value, NodeError> {
        self.call_value(method, &params)
    }
}

impl RebalanceExecutor for SimNode {
    async fn create_job(&self, spec: &JobSpec) -> Result<(), ExecutorError> {
        ops::create_job(self, spec).await
    }

    async fn start(&self, short_channel_id: &str) -> Result<StartReport, ExecutorError> {
        ops::start(self, short_channel_id).await
    }

    async fn stop(&self, short_channel_id: &str) -> Result<StopReport, ExecutorError> {
        ops::stop(self, Some(short_channel_id)).await
    }

    async fn stop_all(&self) -> Result<StopReport, ExecutorError> {
        ops::stop(self, None).await
    }

    async fn delete(&self, short_channel_id: &str) -> Result<(), ExecutorError> {
        ops::delete(self, Some(short_channel_id)).await
    }

    async fn delete_all(&self) -> Result<(), ExecutorError> {
        ops::delete(self, None).await
    }

    async fn jobs(&self) -> Result<Vec<JobInfo>, ExecutorError> {
        ops::jobs(self).await
    }

    async fn overview(&self) -> Result<Vec<JobOverview>, ExecutorError> {
        ops::overview(self).await
    }

    async fn stats(&self, short_channel_id: &str) -> Result<JobStats, ExecutorError> {
        ops::stats(self, short_channel_id).await
    }

    async fn except_peers(&self) -> Result<Vec<String>, ExecutorError> {
        ops::except_peers(self).await
    }

    async fn set_except_peers(
        &self,
        peer_ids: &[String],
    ) -> Result<ExceptPeersChange, ExecutorError> {
        ops::set_except_peers(self, peer_ids).await
    }
}

/// Simulated time: the network's clock.
#[derive(Clone)]
pub struct SimClock {
    network: Arc<Mutex<SimNetwork>>,
}

impl SimClock {
    pub fn new(network: Arc<Mutex<SimNetwork>>) -> SimClock {
        SimClock { network }
    }
}

impl Clock for SimClock {
    fn now_secs(&self) -> u64 {
        self.network.lock().unwrap_or_else(|p| p.into_inner()).now()
    }
}
