//! [`Node`] over cln-rpc, one short-lived connection per call.

use crate::bookkeeper::{self, BookkeeperRpc};
use crate::breaker::{BreakerSnapshot, Breakers, MethodGroup};
use crate::convert;
use cln_rpc::ClnRpc;
use cln_rpc::model::TypedRequest;
use cln_rpc::model::requests::{
    BkprlistaccounteventsRequest, FeeratesRequest, FeeratesStyle, ListforwardsIndex,
    ListforwardsRequest, ListfundsRequest, ListpeerchannelsRequest, PluginRequest,
    SetchannelRequest,
};
use cln_rpc::model::responses::{BkprlistaccounteventsResponse, ListpeerchannelsResponse};
use cln_rpc::primitives::{PluginSubcommand, ShortChannelId};
use revops_core::{ChannelSnapshot, Feerates, ForwardRecord, Node, NodeError, RebalancePayment};
use serde::Serialize;
use std::fmt::Debug;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Timeout and breaker period, changeable at runtime (`revenue-config`).
#[derive(Debug)]
pub struct RpcSettings {
    timeout_secs: AtomicU64,
    breaker_secs: AtomicU64,
}

impl RpcSettings {
    pub fn new(timeout_secs: u64, breaker_secs: u64) -> Arc<RpcSettings> {
        Arc::new(RpcSettings {
            timeout_secs: AtomicU64::new(timeout_secs.max(1)),
            breaker_secs: AtomicU64::new(breaker_secs),
        })
    }

    pub fn set_timeout_secs(&self, secs: u64) {
        self.timeout_secs.store(secs.max(1), Ordering::Relaxed);
    }

    pub fn set_breaker_secs(&self, secs: u64) {
        self.breaker_secs.store(secs, Ordering::Relaxed);
    }

    pub fn timeout_secs(&self) -> u64 {
        self.timeout_secs.load(Ordering::Relaxed)
    }

    pub fn breaker_secs(&self) -> u64 {
        self.breaker_secs.load(Ordering::Relaxed)
    }
}

pub struct ClnNode {
    rpc_path: PathBuf,
    settings: Arc<RpcSettings>,
    breakers: Breakers,
}

impl ClnNode {
    pub fn new(rpc_path: PathBuf, settings: Arc<RpcSettings>) -> ClnNode {
        ClnNode {
            rpc_path,
            settings,
            breakers: Breakers::default(),
        }
    }

    pub fn breaker_status(&self) -> Vec<BreakerSnapshot> {
        self.breakers.snapshot(Instant::now())
    }

    async fn call<R>(&self, group: MethodGroup, request: R) -> Result<R::Response, NodeError>
    where
        R: TypedRequest + Serialize + Debug + Send,
        R::Response: serde::de::DeserializeOwned + Debug + Send,
    {
        let method = request.method().to_string();
        self.guarded(group, &method, 0, |mut rpc| async move {
            rpc.call_typed(&request).await
        })
        .await
    }

    /// A method cln-rpc has no typed request for (another plugin's, such as
    /// CLBoss's or sling's): same connection, timeout and breaker handling.
    /// The timeout is the configured one, or `min_timeout_secs` if longer
    /// (for methods known to block, such as `sling-stop`).
    pub(crate) async fn call_raw(
        &self,
        group: MethodGroup,
        method: &str,
        params: serde_json::Value,
        min_timeout_secs: u64,
    ) -> Result<serde_json::Value, NodeError> {
        self.guarded(group, method, min_timeout_secs, |mut rpc| async move {
            rpc.call_raw::<serde_json::Value, _>(method, &params).await
        })
        .await
    }

    /// One call on a fresh connection: breaker check, timeout, error
    /// mapping, breaker bookkeeping.
    async fn guarded<T, F, Fut>(
        &self,
        group: MethodGroup,
        method: &str,
        min_timeout_secs: u64,
        call: F,
    ) -> Result<T, NodeError>
    where
        F: FnOnce(ClnRpc) -> Fut,
        Fut: Future<Output = Result<T, cln_rpc::RpcError>>,
    {
        if let Err(retry_in_secs) = self.breakers.admit(group, Instant::now()) {
            return Err(NodeError::BreakerOpen {
                method: method.to_string(),
                group: group.as_str().to_string(),
                retry_in_secs,
            });
        }
        let timeout_secs = self.settings.timeout_secs().max(min_timeout_secs);
        let result = tokio::time::timeout(Duration::from_secs(timeout_secs), async {
            let rpc = ClnRpc::new(&self.rpc_path)
                .await
                .map_err(|e| NodeError::Transport {
                    method: method.to_string(),
                    message: format!("cannot connect to {}: {e}", self.rpc_path.display()),
                })?;
            call(rpc).await.map_err(|e| match e.code {
                Some(code) => NodeError::Rpc {
                    method: method.to_string(),
                    code: code.into(),
                    message: e.message,
                },
                None => NodeError::Malformed {
                    method: method.to_string(),
                    message: e.message,
                },
            })
        })
        .await
        .unwrap_or_else(|_| {
            Err(NodeError::Timeout {
                method: method.to_string(),
                timeout_secs,
            })
        });
        self.record(group, &result);
        result
    }

    fn record<T>(&self, group: MethodGroup, result: &Result<T, NodeError>) {
        match result {
            Ok(_) => self.breakers.record_success(group),
            // lightningd answering with an error is lightningd working: only
            // transport trouble counts towards the breaker.
            Err(NodeError::Rpc { .. }) => self.breakers.record_success(group),
            Err(e) => {
                log::warn!("{e}");
                self.breakers.record_failure(
                    group,
                    Instant::now(),
                    Duration::from_secs(self.settings.breaker_secs()),
                    e.to_string(),
                )
            }
        }
    }
}

impl Node for ClnNode {
    async fn list_channels(&self) -> Result<Vec<ChannelSnapshot>, NodeError> {
        let req = ListpeerchannelsRequest {
            channel_id: None,
            id: None,
            short_channel_id: None,
        };
        Ok(convert::channels(
            self.call(MethodGroup::Channels, req).await?,
        ))
    }

    async fn list_forwards(
        &self,
        start_index: u64,
        limit: u32,
    ) -> Result<Vec<ForwardRecord>, NodeError> {
        let req = ListforwardsRequest {
            in_channel: None,
            out_channel: None,
            status: None,
            index: Some(ListforwardsIndex::CREATED),
            start: Some(start_index),
            limit: Some(limit),
        };
        let resp = self.call(MethodGroup::Forwards, req).await?;
        Ok(resp.forwards.into_iter().map(convert::forward).collect())
    }

    async fn feerates(&self) -> Result<Feerates, NodeError> {
        let req = FeeratesRequest {
            style: FeeratesStyle::PERKW,
        };
        Ok(convert::feerates(
            self.call(MethodGroup::Feerates, req).await?,
        ))
    }

    async fn set_channel_fee(&self, short_channel_id: &str, fee_ppm: u32) -> Result<(), NodeError> {
        let req = SetchannelRequest {
            id: short_channel_id.to_string(),
            feeppm: Some(fee_ppm),
            feebase: None,
            htlcmin: None,
            htlcmax: None,
            enforcedelay: None,
            ignorefeelimits: None,
        };
        self.call(MethodGroup::FeeUpdates, req).await.map(|_| ())
    }

    async fn confirmed_onchain_sat(&self) -> Result<u64, NodeError> {
        let req = ListfundsRequest { spent: None };
        Ok(convert::confirmed_onchain_sat(
            &self.call(MethodGroup::Channels, req).await?,
        ))
    }

    async fn plugin_names(&self) -> Result<Vec<String>, NodeError> {
        let req = PluginRequest {
            subcommand: PluginSubcommand::LIST,
            plugin: None,
            directory: None,
            options: None,
        };
        Ok(convert::plugin_names(
            self.call(MethodGroup::Plugins, req).await?,
        ))
    }

    async fn clboss_unmanage(&self, peer_id: &str, tags: &str) -> Result<(), NodeError> {
        self.call_raw(
            MethodGroup::Plugins,
            "clboss-unmanage",
            serde_json::json!({"nodeid": peer_id, "tags": tags}),
            0,
        )
        .await
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

/// bookkeeper's lookup over cln-rpc's typed requests: the channel in the
/// `channels` group, `bkpr-listaccountevents` in its own `bookkeeper` group.
impl BookkeeperRpc for ClnNode {
    async fn listpeerchannels(
        &self,
        short_channel_id: &str,
    ) -> Result<ListpeerchannelsResponse, NodeError> {
        let Ok(scid) = short_channel_id.parse::<ShortChannelId>() else {
            // Not a scid lightningd could list.
            return Ok(ListpeerchannelsResponse {
                channels: Vec::new(),
            });
        };
        let req = ListpeerchannelsRequest {
            channel_id: None,
            id: None,
            short_channel_id: Some(scid),
        };
        self.call(MethodGroup::Channels, req).await
    }

    async fn listaccountevents(
        &self,
        request: BkprlistaccounteventsRequest,
    ) -> Result<BkprlistaccounteventsResponse, NodeError> {
        self.call(MethodGroup::Bookkeeper, request).await
    }
}
