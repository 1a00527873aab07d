//! The flow-analysis cycle: ingest forwards, classify every channel, store
//! the classification for the fee cycle, decay and credit peer reputation,
//! and prune forwards older than the window into daily aggregates.
//!
//! Invariant: reputation is updated after ingestion and before pruning, so
//! every final forward is counted before it can be pruned.

use crate::flow::{FlowSettings, classify, day_of};
use crate::ingest::ingest_forwards;
use crate::{EngineError, FeeEngine};
use revops_core::{Clock, Node};
use revops_store::{ChannelFlow, DAY_SECS, PruneSummary, ReputationUpdate};
use serde::Serialize;
use std::collections::HashMap;

/// Forwards are kept at least this long before pruning (the reference's
/// `max(8, window + 1)` days), so the fee cycle's windows stay exact.
const MIN_KEEP_DAYS: u64 = 8;

#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    pub started_at: u64,
    pub settings: FlowSettings,
    pub forwards_ingested: usize,
    /// This cycle's reputation decay and credit (`peers_updated` peers);
    /// `None` when reputation is disabled.
    pub reputation: Option<ReputationUpdate>,
    pub pruned: PruneSummary,
    pub channels: Vec<ChannelFlow>,
}

impl<N: Node, C: Clock> FeeEngine<N, C> {
    /// Run flow analysis now; with `only`, report just that channel (all are
    /// analysed and stored either way).
    pub async fn run_flow_analysis(&self, only: Option<&str>) -> Result<FlowReport, EngineError> {
        let _one_at_a_time = self.cycle_lock.lock().await;
        let settings = *self.flow_settings.load_full();
        let now = self.clock.now_secs();
        let channels = self.node.list_channels().await?;
        if let Some(scid) = only
            && !channels.iter().any(|c| c.short_channel_id == scid)
        {
            return Err(EngineError::UnknownChannel(scid.to_string()));
        }
        let forwards_ingested = ingest_forwards(self.node.as_ref(), &self.store).await?;
        let today = day_of(now);
        let window_days = u64::from(settings.window_days.max(1));
        let mut daily = self
            .store
            .daily_flows(today.saturating_sub(window_days - 1))?;
        let flows: Vec<ChannelFlow> = channels
            .iter()
            .filter(|c| c.accepts_fee_updates())
            .map(|c| {
                let days = daily.remove(&c.short_channel_id).unwrap_or_default();
                classify(c, &days, today, &settings, now)
            })
            .collect();
        self.store.save_channel_flows(&flows)?;
        let reputation = if settings.reputation_enabled {
            let channel_peers: HashMap<String, String> = channels
                .iter()
                .map(|c| (c.short_channel_id.clone(), c.peer_id.clone()))
                .collect();
            Some(
                self.store
                    .update_reputation(settings.reputation_decay, &channel_peers, now)?,
            )
        } else {
            None
        };
        let keep_days = MIN_KEEP_DAYS.max(window_days + 1);
        let pruned = self
            .store
            .prune_forwards(now.saturating_sub(keep_days * DAY_SECS))?;
        Ok(FlowReport {
            started_at: now,
            settings,
            forwards_ingested,
            reputation,
            pruned,
            channels: flows
                .into_iter()
                .filter(|f| only.is_none_or(|scid| f.short_channel_id == scid))
                .collect(),
        })
    }
}
