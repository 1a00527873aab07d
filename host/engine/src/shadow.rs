//! Shadow mode: a candidate fee policy decides beside the live one, on the
//! same inputs, every cycle — and is never acted on.
//!
//! Invariants:
//! - Nothing a shadow returns reaches `judge`, the fee records or
//!   `setchannel`: its answers go to `shadow_decisions` only.
//! - The shadow sees exactly the live batch's inputs (same channels after
//!   the deadband, same `now`, seed, bounds, guidance) except `state`, which
//!   is the shadow's own from its previous decision.
//! - Both fees are recorded within the channel's bounds (the clamp the host
//!   would apply), before the multiplier clamps and hysteresis.
//! - A shadow's failure is recorded as its decision (kind and message) and
//!   counted in its statistics; it never quarantines the live policy or
//!   itself and never changes the live outcome.

use crate::EngineError;
use crate::cycle::FeeEngine;
use crate::judge::{Pending, policy_label};
use crate::outcome::PolicyFailureReport;
use crate::policy_set::PolicySet;
use revops_core::{Clock, Node};
use revops_runtime::{ChannelFeeInput, FeeDecision, LoadedPolicy};
use revops_store::{ShadowDecision, ShadowRun};
use std::collections::HashMap;
use std::sync::Arc;

/// The role string shadow runs of fee policies are stored under.
pub const FEE_ROLE: &str = "fee-strategy";

/// An active shadow run with its policy (if loaded) and its saved states.
pub(crate) struct ActiveShadow {
    run: ShadowRun,
    policy: Option<Arc<LoadedPolicy>>,
    states: HashMap<String, Vec<u8>>,
    /// This cycle's decisions so far (one cycle may have several live
    /// batches), written once at its end.
    decided: Vec<ShadowDecision>,
    ran: bool,
}

impl<N: Node, C: Clock> FeeEngine<N, C> {
    /// The fee-strategy shadow runs to feed this cycle. A shadowed policy
    /// that is not loaded (unloaded since) is kept but skipped.
    pub(crate) fn active_fee_shadows(
        &self,
        policies: &PolicySet,
    ) -> Result<Vec<ActiveShadow>, EngineError> {
        let mut active = Vec::new();
        for run in self.store.active_shadows()? {
            if run.role != FEE_ROLE {
                continue;
            }
            let states = self.store.shadow_states(run.id)?;
            active.push(ActiveShadow {
                policy: policies.get(&run.policy_name).cloned(),
                run,
                states,
                decided: Vec::new(),
                ran: false,
            });
        }
        Ok(active)
    }

    /// Runs every shadow on one live batch and records what each would have
    /// decided beside `live`.
    pub(crate) async fn run_shadows(
        &self,
        shadows: &mut [ActiveShadow],
        batch: &[Pending<'_>],
        inputs: &[ChannelFeeInput],
        live_policy: &Arc<LoadedPolicy>,
        live: &Result<Vec<FeeDecision>, PolicyFailureReport>,
        now: u64,
    ) -> Result<(), EngineError> {
        for shadow in shadows.iter_mut() {
            let Some(policy) = shadow.policy.clone() else {
                continue;
            };
            if policy.hash() == live_policy.hash() {
                // Shadowing a policy against itself says nothing.
                continue;
            }
            let shadow_inputs: Vec<ChannelFeeInput> = inputs
                .iter()
                .map(|input| ChannelFeeInput {
                    state: shadow.states.get(&input.short_channel_id).cloned(),
                    ..input.clone()
                })
                .collect();
            let runtime = Arc::clone(&self.runtime);
            let call_policy = Arc::clone(&policy);
            let answer = tokio::task::spawn_blocking(move || {
                runtime.decide_fees(&call_policy, &shadow_inputs)
            })
            .await
            .map_err(|e| EngineError::Join(e.to_string()))?;
            let live_label = policy_label(live_policy);
            let rows: Vec<ShadowDecision> = batch
                .iter()
                .enumerate()
                .map(|(i, pending)| {
                    let live_fee_ppm = live
                        .as_ref()
                        .ok()
                        .and_then(|d| d.get(i))
                        .map(|d| pending.bounds.clamp(d.fee_ppm));
                    let (shadow_fee_ppm, reason, kind, state) = match &answer {
                        Ok(answer) => {
                            let d = &answer.decisions[i];
                            (
                                Some(pending.bounds.clamp(d.fee_ppm)),
                                d.reason.clone(),
                                None,
                                d.state.clone(),
                            )
                        }
                        Err(failure) => (
                            None,
                            failure.message.clone(),
                            Some(failure.kind.as_str().to_string()),
                            shadow
                                .states
                                .get(&pending.channel.short_channel_id)
                                .cloned(),
                        ),
                    };
                    ShadowDecision {
                        cycle_at: now,
                        short_channel_id: pending.channel.short_channel_id.clone(),
                        shadow_version: policy.version().to_string(),
                        live_policy: live_label.clone(),
                        current_fee_ppm: pending.channel.fee_ppm,
                        live_fee_ppm,
                        shadow_fee_ppm,
                        shadow_reason: reason,
                        shadow_failure_kind: kind,
                        shadow_state: state,
                    }
                })
                .collect();
            if let Err(failure) = &answer {
                log::info!(
                    "shadow policy {}@{} failed beside {live_label} ({}): {}",
                    policy.name(),
                    policy.version(),
                    failure.kind,
                    failure.message
                );
            }
            for row in &rows {
                if let Some(state) = &row.shadow_state {
                    shadow
                        .states
                        .insert(row.short_channel_id.clone(), state.clone());
                }
            }
            shadow.decided.extend(rows);
            shadow.ran = true;
        }
        Ok(())
    }

    /// Writes this cycle's decisions of every shadow that ran.
    pub(crate) fn record_shadows(
        &self,
        shadows: Vec<ActiveShadow>,
        now: u64,
    ) -> Result<(), EngineError> {
        for shadow in shadows.into_iter().filter(|s| s.ran) {
            self.store
                .record_shadow_decisions(shadow.run.id, &shadow.decided, now)?;
        }
        Ok(())
    }
}
