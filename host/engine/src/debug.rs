//! `revenue-fee-debug`: why each channel has the fee it has — the last
//! decision (step, reason, what the rails did), the bounds and where they
//! come from, the host's floors and ceiling with their causes, the deadband,
//! the broadcast budget, the flow state and the latest changes.

use crate::cycle::DAY_SECS;
use crate::guidance::{GuidanceExplained, guide};
use crate::inputs::flow_state_for;
use crate::{EngineError, FeeEngine};
use revops_core::{Clock, Node};
use revops_store::{ChannelFeeState, FeeChange, SleepState, Strategy};
use serde::Serialize;

/// Audit rows shown per channel.
const RECENT_CHANGES: u32 = 3;

#[derive(Debug, Clone, Serialize)]
pub struct BoundsExplained {
    pub floor_ppm: u32,
    pub floor_from: &'static str,
    pub ceiling_ppm: u32,
    pub ceiling_from: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeeDebug {
    pub short_channel_id: String,
    pub peer_id: String,
    pub state: String,
    pub fee_ppm: u32,
    /// `dynamic`, `static`, `passive`, `hive` or a policy's name.
    pub strategy: String,
    /// The policy that decides for this channel now.
    pub policy: String,
    pub bounds: BoundsExplained,
    pub flow_state: Option<String>,
    /// The floors and ceiling the host recommends now, with their causes.
    pub guidance: GuidanceExplained,
    /// The deadband: flat cycles so far, and a sleep if there is one.
    pub deadband: Option<SleepState>,
    pub broadcasts_last_24h: u32,
    pub broadcasts_left_24h: u32,
    pub last_decision: Option<ChannelFeeState>,
    pub recent_changes: Vec<FeeChange>,
}

impl<N: Node, C: Clock> FeeEngine<N, C> {
    pub async fn fee_debug(&self, only: Option<&str>) -> Result<Vec<FeeDebug>, EngineError> {
        let settings = self.settings.load_full();
        let now = self.clock.now_secs();
        let channels = self.node.list_channels().await?;
        if let Some(scid) = only
            && !channels.iter().any(|c| c.short_channel_id == scid)
        {
            return Err(EngineError::UnknownChannel(scid.to_string()));
        }
        let mut states = self.store.channel_fee_states()?;
        let mut sleep_states = self.store.sleep_states()?;
        let flows = self.store.channel_flows()?;
        let signals = self.signals(now)?;
        let feerate_perkw = match self.node.feerates().await {
            Ok(f) => f.opening_perkw,
            Err(_) => self
                .store
                .feerate_average(now.saturating_sub(DAY_SECS))?
                .unwrap_or_default(),
        };
        let congestion_threshold = self.flow_settings.load().congestion_threshold;
        let broadcasts = self
            .store
            .broadcasts_by_channel_since(now.saturating_sub(DAY_SECS))?;
        let mut out = Vec::new();
        for c in channels
            .iter()
            .filter(|c| only.is_none_or(|scid| c.short_channel_id == scid))
        {
            // An expired policy no longer applies (as in the fee cycle).
            let peer = self
                .store
                .peer_policy(&c.peer_id)?
                .filter(|p| !p.is_expired(now));
            let peer_min = peer.as_ref().and_then(|p| p.min_fee_ppm);
            let peer_max = peer.as_ref().and_then(|p| p.max_fee_ppm);
            let bounds = settings.bounds_for(peer.as_ref());
            let strategy = peer
                .as_ref()
                .map(|p| p.strategy.clone())
                .unwrap_or(Strategy::Dynamic);
            let policy = match &strategy {
                Strategy::Dynamic => settings.default_fee_policy.clone(),
                Strategy::Static => format!(
                    "static {} ppm",
                    peer.as_ref().and_then(|p| p.fee_ppm).unwrap_or(c.fee_ppm)
                ),
                Strategy::Passive => "passive (never touched)".to_string(),
                Strategy::Hive => format!("hive fee {} ppm", settings.hive_fee_ppm),
                Strategy::Policy(name) => name.clone(),
            };
            let ceiling_from = if bounds.ceiling_ppm != peer_max.unwrap_or(settings.max_fee_ppm) {
                "raised to the floor"
            } else if peer_max.is_some() {
                "peer max_fee_ppm"
            } else {
                "node max_fee_ppm"
            };
            let sent = broadcasts.get(&c.short_channel_id).copied().unwrap_or(0);
            let analysed = flows
                .get(&c.short_channel_id)
                .map(|f| f.flow_state.as_str());
            let flow_state = flow_state_for(c, congestion_threshold, analysed);
            let guidance = guide(c, bounds, flow_state, feerate_perkw, &signals, now);
            out.push(FeeDebug {
                short_channel_id: c.short_channel_id.clone(),
                peer_id: c.peer_id.clone(),
                state: c.state.clone(),
                fee_ppm: c.fee_ppm,
                strategy: strategy.as_str().to_string(),
                policy,
                bounds: BoundsExplained {
                    floor_ppm: bounds.floor_ppm,
                    floor_from: if peer_min.is_some() {
                        "peer min_fee_ppm"
                    } else {
                        "node min_fee_ppm"
                    },
                    ceiling_ppm: bounds.ceiling_ppm,
                    ceiling_from,
                },
                flow_state: flows.get(&c.short_channel_id).map(|f| f.flow_state.clone()),
                guidance,
                deadband: sleep_states.remove(&c.short_channel_id),
                broadcasts_last_24h: sent,
                broadcasts_left_24h: settings.max_broadcasts_per_day.saturating_sub(sent),
                last_decision: states.remove(&c.short_channel_id),
                recent_changes: self
                    .store
                    .fee_changes(Some(&c.short_channel_id), RECENT_CHANGES)?,
            });
        }
        Ok(out)
    }
}
