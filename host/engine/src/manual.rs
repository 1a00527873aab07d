//! Fee changes that do not come from a cycle's policy: the operator's
//! `revenue-set-fee`, and settling changes a crash left unconfirmed.

use crate::clboss::FEE_TAG;
use crate::outcome::ManualFeeChange;
use crate::{EngineError, FeeEngine};
use revops_core::{ChannelSnapshot, Clock, Node};
use revops_store::{FeeChangeOutcome, NewFeeChange};

impl<N: Node, C: Clock> FeeEngine<N, C> {
    /// The operator's `revenue-set-fee`: bounds-checked unless forced,
    /// recorded in the audit log, sent now (also in dry-run: it is an
    /// explicit command, not an automatic decision).
    pub async fn set_fee_manually(
        &self,
        short_channel_id: &str,
        fee_ppm: u32,
        force: bool,
    ) -> Result<ManualFeeChange, EngineError> {
        let settings = self.settings.load_full();
        let channels = self.node.list_channels().await?;
        let channel = channels
            .iter()
            .find(|c| c.short_channel_id == short_channel_id)
            .ok_or_else(|| EngineError::UnknownChannel(short_channel_id.to_string()))?;
        if !channel.accepts_fee_updates() {
            return Err(EngineError::ChannelNotActive {
                scid: channel.short_channel_id.clone(),
                state: channel.state.clone(),
            });
        }
        let peer = self.store.peer_policy(&channel.peer_id)?;
        let bounds = settings.bounds_for(peer.as_ref());
        if !force && !bounds.contains(fee_ppm) {
            return Err(EngineError::OutOfBounds {
                fee_ppm,
                floor_ppm: bounds.floor_ppm,
                ceiling_ppm: bounds.ceiling_ppm,
            });
        }
        self.take_from_clboss(&[channel.peer_id.as_str()], FEE_TAG)
            .await?;
        let now = self.clock.now_secs();
        let id = self.store.insert_fee_change(&NewFeeChange {
            timestamp: now,
            short_channel_id: channel.short_channel_id.clone(),
            peer_id: channel.peer_id.clone(),
            old_fee_ppm: channel.fee_ppm,
            proposed_fee_ppm: fee_ppm,
            new_fee_ppm: fee_ppm,
            step: "manual".to_string(),
            reason: if force {
                "set by the operator with revenue-set-fee (forced past the bounds)".to_string()
            } else {
                "set by the operator with revenue-set-fee".to_string()
            },
            policy_name: "operator".to_string(),
            policy_version: "-".to_string(),
            outcome: FeeChangeOutcome::Pending,
        })?;
        match self
            .node
            .set_channel_fee(&channel.short_channel_id, fee_ppm)
            .await
        {
            Ok(()) => {
                self.store
                    .set_fee_change_outcome(id, FeeChangeOutcome::Manual, None)?;
                // Ours, not an outside change: the next cycle must not flag it.
                self.store
                    .record_seen_fee(&channel.short_channel_id, fee_ppm)?;
                Ok(ManualFeeChange {
                    short_channel_id: channel.short_channel_id.clone(),
                    peer_id: channel.peer_id.clone(),
                    old_fee_ppm: channel.fee_ppm,
                    new_fee_ppm: fee_ppm,
                    forced: force,
                })
            }
            Err(e) => {
                self.store.set_fee_change_outcome(
                    id,
                    FeeChangeOutcome::Failed,
                    Some(&e.to_string()),
                )?;
                Err(e.into())
            }
        }
    }

    /// A change recorded but never confirmed (the plugin was stopped between
    /// writing it and lightningd's answer) is settled from what lightningd
    /// shows now: the fee is there, or it is not.
    pub(crate) fn settle_pending_changes(
        &self,
        channels: &[ChannelSnapshot],
    ) -> Result<(), EngineError> {
        for change in self.store.pending_fee_changes()? {
            let now_ppm = channels
                .iter()
                .find(|c| c.short_channel_id == change.short_channel_id)
                .map(|c| c.fee_ppm);
            if let Some(fee_ppm) = now_ppm {
                // What lightningd shows is ours either way: not an outside change.
                self.store
                    .record_seen_fee(&change.short_channel_id, fee_ppm)?;
            }
            let (outcome, detail) = if now_ppm == Some(change.new_fee_ppm) {
                (
                    FeeChangeOutcome::Applied,
                    "confirmed after a restart: lightningd shows the new fee",
                )
            } else {
                (
                    FeeChangeOutcome::Failed,
                    "the plugin stopped before lightningd confirmed; the fee was not changed",
                )
            };
            log::info!(
                "fee change #{} on {}: {detail}",
                change.id,
                change.short_channel_id
            );
            self.store
                .set_fee_change_outcome(change.id, outcome, Some(detail))?;
        }
        Ok(())
    }
}
