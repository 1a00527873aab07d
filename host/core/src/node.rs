//! The engine's view of lightningd. Implemented over cln-rpc by `revops-node`
//! and over the simulated network by `revops-sim`; both parse the same
//! CLN-shaped responses, so the engine cannot tell them apart.

use crate::channel::{ChannelSnapshot, Feerates, ForwardRecord, RebalancePayment};
use std::future::Future;

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum NodeError {
    #[error("lightningd did not answer `{method}` within {timeout_secs} s")]
    Timeout { method: String, timeout_secs: u64 },
    #[error(
        "calls to `{method}` are paused for {retry_in_secs} s after repeated failures of the {group} group (circuit breaker open)"
    )]
    BreakerOpen {
        method: String,
        group: String,
        retry_in_secs: u64,
    },
    #[error("lightningd refused `{method}` (code {code}): {message}")]
    Rpc {
        method: String,
        code: i64,
        message: String,
    },
    #[error("talking to lightningd for `{method}` failed: {message}")]
    Transport { method: String, message: String },
    #[error("lightningd's answer to `{method}` was not understood: {message}")]
    Malformed { method: String, message: String },
}

pub trait Node: Send + Sync {
    /// Every channel we have, in any state.
    fn list_channels(&self)
    -> impl Future<Output = Result<Vec<ChannelSnapshot>, NodeError>> + Send;

    /// Forwards with `created_index >= start_index`, oldest first, at most `limit`.
    fn list_forwards(
        &self,
        start_index: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ForwardRecord>, NodeError>> + Send;

    fn feerates(&self) -> impl Future<Output = Result<Feerates, NodeError>> + Send;

    /// Set the proportional fee of one channel, leaving its base fee as it is.
    fn set_channel_fee(
        &self,
        short_channel_id: &str,
        fee_ppm: u32,
    ) -> impl Future<Output = Result<(), NodeError>> + Send;

    /// Confirmed, unreserved on-chain funds in the wallet (`listfunds`), in
    /// sat: the part of the wallet reserve that is not in channels.
    fn confirmed_onchain_sat(&self) -> impl Future<Output = Result<u64, NodeError>> + Send;

    /// Names of the plugins lightningd runs (`plugin list`), as paths.
    fn plugin_names(&self) -> impl Future<Output = Result<Vec<String>, NodeError>> + Send;

    /// `clboss-unmanage <peer> <tags>`: stop CLBoss managing `tags` (e.g.
    /// `lnfee`) for the peer; an empty `tags` hands everything back to CLBoss.
    fn clboss_unmanage(
        &self,
        peer_id: &str,
        tags: &str,
    ) -> impl Future<Output = Result<(), NodeError>> + Send;

    /// The rebalances bookkeeper recorded into `short_channel_id` at or after
    /// `since` (unix s), oldest first: every circular payment whose credit
    /// on that channel's account bookkeeper marked `is_rebalance`, with the
    /// debit on the source side (amount + fees) summed per payment.
    /// `Ok(None)` when bookkeeper is not running (lightningd answers -32601
    /// to `bkpr-*`); `Ok(Some(vec![]))` when it runs but recorded none (or
    /// the channel is no longer listed). bookkeeper keys accounts by
    /// channel id; implementations map the scid themselves.
    fn rebalance_payments(
        &self,
        short_channel_id: &str,
        since: u64,
    ) -> impl Future<Output = Result<Option<Vec<RebalancePayment>>, NodeError>> + Send;
}
