//! A rebalance the operator asks for (`revenue-rebalance`): from one named
//! channel into another, through the same rails as the timed cycle.
//!
//! Invariants:
//! - Always enforced, `force` or not: sling present, two different usable
//!   channels to two different peers, an amount both sides can carry, no
//!   rebalance or sling job already running into the destination, the
//!   wallet reserve, the job slots, the daily budget (one `BEGIN IMMEDIATE`
//!   hold), and dry-run.
//! - Skipped only with `force`: the peers' rebalance modes, the
//!   destination's cooldown / backoff / futility pause, the velocity gate,
//!   the fee cap at what the destination earns, and the scorer's verdict.
//!   The report lists what was skipped.
//! - A refusal writes nothing; an attempt that reaches sling gets its
//!   ledger row like any other, and the timed cycle's monitor settles it.

use crate::EngineError;
use crate::inputs::seed_for;
use crate::rebalance::candidates::{may_be_destination, may_be_source, usable, wit_channel};
use crate::rebalance::controls::{check_destination, check_velocity};
use crate::rebalance::cycle::RebalanceEngine;
use crate::rebalance::report::{CapitalReport, Decision, RebalanceCycleReport};
use crate::rebalance::settings::WalletFunds;
use revops_core::{ChannelSnapshot, Clock, ExecutorError, Msat, Node, RebalanceExecutor};
use revops_runtime::RebalanceCandidate;
use revops_store::{NewRebalance, RebalanceMode};
use serde::Serialize;

/// What the operator asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualRequest {
    /// Short channel id, or a peer id with exactly one usable channel.
    pub from: String,
    pub to: String,
    pub amount_sat: u64,
    /// The most to pay in routing fees; default: what the destination
    /// charges (its fee ppm × the amount).
    pub max_fee_sat: Option<u64>,
    pub force: bool,
}

/// The scorer's answer, shown even when `force` overrode a rejection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManualVerdict {
    pub accept: bool,
    pub expected_profit_msat: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManualReport {
    pub from_channel: String,
    pub from_peer_id: String,
    pub to_channel: String,
    pub to_peer_id: String,
    pub amount_msat: Msat,
    pub max_fee_ppm: u32,
    pub max_fee_msat: Msat,
    pub dry_run: bool,
    pub forced: bool,
    /// Checks `force` skipped (empty without it).
    pub skipped_checks: Vec<&'static str>,
    pub verdict: Option<ManualVerdict>,
    pub capital: Option<CapitalReport>,
    pub decision: Decision,
}

#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    /// A parameter names no usable channel, or an impossible amount.
    #[error("{param}: {detail}")]
    BadParam { param: &'static str, detail: String },
    /// Rebalancing cannot run at all (sling absent or not answering).
    #[error("{0}")]
    Unavailable(String),
    /// A rail said no; `force` can override it only when `forceable`.
    #[error("refused ({rule}): {detail}{}", if *forceable { "; pass force=true to start it anyway" } else { "" })]
    Refused {
        rule: String,
        detail: String,
        forceable: bool,
    },
    /// The attempt reached sling, which refused it; its ledger row is closed.
    #[error("sling refused the job (ledger row #{rebalance_id}): {error}")]
    Executor { rebalance_id: i64, error: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

fn bad(param: &'static str, detail: String) -> ManualError {
    ManualError::BadParam { param, detail }
}

fn refused(rule: impl Into<String>, detail: String, forceable: bool) -> ManualError {
    ManualError::Refused {
        rule: rule.into(),
        detail,
        forceable,
    }
}

/// The one usable channel `name` means: a short channel id, or a peer id
/// with exactly one channel.
fn resolve<'a>(
    channels: &'a [ChannelSnapshot],
    param: &'static str,
    name: &str,
) -> Result<&'a ChannelSnapshot, ManualError> {
    let channel = match channels.iter().find(|c| c.short_channel_id == name) {
        Some(c) => c,
        None => {
            let to_peer: Vec<&ChannelSnapshot> =
                channels.iter().filter(|c| c.peer_id == name).collect();
            match to_peer.as_slice() {
                [] => {
                    return Err(bad(
                        param,
                        format!(
                            "no channel `{name}`: expected a short channel id (like 812345x1024x1) \
                             or the peer id of one of this node's channels"
                        ),
                    ));
                }
                [one] => *one,
                many => {
                    let scids: Vec<&str> =
                        many.iter().map(|c| c.short_channel_id.as_str()).collect();
                    return Err(bad(
                        param,
                        format!(
                            "peer {name} has {} channels ({}); name one by its short channel id",
                            many.len(),
                            scids.join(", ")
                        ),
                    ));
                }
            }
        }
    };
    if !usable(channel) {
        return Err(bad(
            param,
            format!(
                "channel {} is {}{}; only active channels to connected peers can be rebalanced",
                channel.short_channel_id,
                channel.state,
                if channel.peer_connected {
                    ""
                } else {
                    " with its peer disconnected"
                }
            ),
        ));
    }
    Ok(channel)
}

/// The fee ppm a total fee of `fee_sat` on `amount_sat` amounts to, rounded down.
fn fee_ppm(fee_sat: u64, amount_sat: u64) -> u32 {
    let ppm = u128::from(fee_sat) * 1_000_000 / u128::from(amount_sat.max(1));
    u32::try_from(ppm).unwrap_or(u32::MAX)
}

impl<N: Node + RebalanceExecutor, C: Clock> RebalanceEngine<N, C> {
    /// Start (or, dry-run, record) the rebalance the operator asked for.
    pub async fn rebalance_manual(
        &self,
        request: &ManualRequest,
        wallet: WalletFunds,
    ) -> Result<ManualReport, ManualError> {
        let _one_at_a_time = self.cycle_lock.lock().await;
        let settings = self.settings();
        let now = self.now();
        let jobs = match self.node.overview().await {
            Ok(jobs) => jobs,
            Err(ExecutorError::SlingAbsent { .. }) => {
                return Err(ManualError::Unavailable(
                    "rebalancing is disabled: sling is not running (plugin list)".to_string(),
                ));
            }
            Err(e) => {
                return Err(ManualError::Unavailable(format!(
                    "sling did not answer: {e}"
                )));
            }
        };
        let channels = self.node.list_channels().await.map_err(EngineError::from)?;
        let from = resolve(&channels, "from_channel", &request.from)?;
        let to = resolve(&channels, "to_channel", &request.to)?;
        if from.short_channel_id == to.short_channel_id {
            return Err(bad(
                "to_channel",
                format!(
                    "{} is also from_channel: a rebalance moves liquidity between two channels",
                    to.short_channel_id
                ),
            ));
        }
        if from.peer_id == to.peer_id {
            return Err(bad(
                "to_channel",
                format!(
                    "{} and {} are both channels to peer {}: a circle through one peer moves \
                     nothing but pays fees",
                    from.short_channel_id, to.short_channel_id, to.peer_id
                ),
            ));
        }
        let amount_sat = request.amount_sat;
        if amount_sat == 0 {
            return Err(bad("amount_sats", "must be at least 1 sat".to_string()));
        }
        let from_has_sat = from.local_msat.msat() / 1000;
        if amount_sat > from_has_sat {
            return Err(bad(
                "amount_sats",
                format!(
                    "{amount_sat} sat is more than {} holds on our side ({from_has_sat} sat)",
                    from.short_channel_id
                ),
            ));
        }
        let to_takes_sat = to.capacity_msat.msat().saturating_sub(to.local_msat.msat()) / 1000;
        if amount_sat > to_takes_sat {
            return Err(bad(
                "amount_sats",
                format!(
                    "{amount_sat} sat is more than {} can take ({to_takes_sat} sat on the remote side)",
                    to.short_channel_id
                ),
            ));
        }
        let requested_ppm = match request.max_fee_sat {
            Some(0) => {
                return Err(bad(
                    "max_fee_sats",
                    "must be at least 1 sat: no route is free".to_string(),
                ));
            }
            Some(fee_sat) => Some(fee_ppm(fee_sat, amount_sat).max(1)),
            None => None,
        };

        let running = self.store.running_rebalances().map_err(EngineError::from)?;
        if running.iter().any(|r| r.to_channel == to.short_channel_id)
            || jobs
                .iter()
                .any(|j| j.short_channel_id == to.short_channel_id)
        {
            return Err(refused(
                "busy",
                format!(
                    "a rebalance or sling job is already running into {}",
                    to.short_channel_id
                ),
                false,
            ));
        }

        let mut skipped_checks = Vec::new();
        let mut verdict = None;
        let max_fee_ppm = if request.force {
            skipped_checks.extend([
                "peer_mode",
                "cooldown_backoff_futility",
                "velocity",
                "fee_cap",
                "scorer",
            ]);
            match requested_ppm.or((to.fee_ppm > 0).then_some(to.fee_ppm)) {
                Some(ppm) => ppm,
                None => {
                    return Err(bad(
                        "max_fee_sats",
                        format!(
                            "required: {} charges 0 ppm, so there is no default",
                            to.short_channel_id
                        ),
                    ));
                }
            }
        } else {
            let (ppm, answer) = self
                .unforced_checks(from, to, amount_sat, requested_ppm, now)
                .await?;
            verdict = Some(answer);
            ppm
        };

        let mut scratch = RebalanceCycleReport::new(now, settings.dry_run);
        let running_jobs = u32::try_from(running.len()).unwrap_or(u32::MAX);
        let budget_msat = self.capital(
            &settings,
            wallet,
            &channels,
            running_jobs,
            now,
            &mut scratch,
        )?;
        let capital = scratch.capital.take();
        let Some(budget_msat) = budget_msat else {
            let detail = scratch
                .capital_refusals
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            let rules = scratch
                .capital_refusals
                .iter()
                .map(|r| r.rule())
                .collect::<Vec<_>>()
                .join(",");
            return Err(refused(rules, detail, false));
        };

        let new = NewRebalance {
            started_at: now,
            to_channel: to.short_channel_id.clone(),
            from_channels: vec![from.short_channel_id.clone()],
            amount_msat: Msat(amount_sat * 1000),
            max_fee_ppm,
            expected_profit_msat: verdict.as_ref().map_or(0, |v| v.expected_profit_msat),
        };
        let reason = match &verdict {
            Some(v) => format!("manual: {}", v.reason),
            None => "manual, forced".to_string(),
        };
        let decision = self
            .launch(&settings, &channels, &new, &reason, budget_msat)
            .await?;
        match &decision {
            Decision::Refused { refusal, detail } => {
                return Err(refused(refusal.rule(), detail.clone(), false));
            }
            Decision::ExecutorFailed {
                rebalance_id,
                error,
            } => {
                return Err(ManualError::Executor {
                    rebalance_id: *rebalance_id,
                    error: error.clone(),
                });
            }
            _ => {}
        }
        log::info!(
            "manual rebalance of {amount_sat} sat from {} into {} at most {max_fee_ppm} ppm: {}",
            from.short_channel_id,
            to.short_channel_id,
            decision.key()
        );
        Ok(ManualReport {
            from_channel: from.short_channel_id.clone(),
            from_peer_id: from.peer_id.clone(),
            to_channel: to.short_channel_id.clone(),
            to_peer_id: to.peer_id.clone(),
            amount_msat: new.amount_msat,
            max_fee_ppm,
            max_fee_msat: new.max_fee_msat(),
            dry_run: settings.dry_run,
            forced: request.force,
            skipped_checks,
            verdict,
            capital,
            decision,
        })
    }

    /// The rails `force` skips; the max fee ppm to use and the scorer's verdict.
    async fn unforced_checks(
        &self,
        from: &ChannelSnapshot,
        to: &ChannelSnapshot,
        amount_sat: u64,
        requested_ppm: Option<u32>,
        now: u64,
    ) -> Result<(u32, ManualVerdict), ManualError> {
        let settings = self.settings();
        let mode_of = |peer: &str| -> Result<RebalanceMode, EngineError> {
            Ok(self
                .store
                .peer_policies()
                .map_err(EngineError::from)?
                .into_iter()
                .find(|p| p.peer_id == peer && !p.is_expired(now))
                .map_or(RebalanceMode::Enabled, |p| p.rebalance_mode))
        };
        let to_mode = mode_of(&to.peer_id)?;
        if !may_be_destination(to_mode) {
            return Err(refused(
                "peer_mode",
                format!(
                    "peer {}'s rebalance mode `{}` forbids refilling its channels",
                    to.peer_id,
                    to_mode.as_str()
                ),
                true,
            ));
        }
        let from_mode = mode_of(&from.peer_id)?;
        if !may_be_source(from_mode) {
            return Err(refused(
                "peer_mode",
                format!(
                    "peer {}'s rebalance mode `{}` forbids draining its channels",
                    from.peer_id,
                    from_mode.as_str()
                ),
                true,
            ));
        }
        let history = self
            .store
            .destination_histories()
            .map_err(EngineError::from)?
            .get(&to.short_channel_id)
            .copied()
            .unwrap_or_default();
        check_destination(&settings.capital, history, now)
            .map_err(|r| refused(r.rule(), r.to_string(), true))?;
        let flows = self.store.channel_flows().map_err(EngineError::from)?;
        let to_flow = flows.get(&to.short_channel_id);
        check_velocity(
            &settings.capital,
            to_flow.map_or(0, |f| f.out_msat_per_day) as f64,
            to.capacity_msat,
        )
        .map_err(|r| refused(r.rule(), r.to_string(), true))?;
        if let Some(ppm) = requested_ppm
            && ppm > to.fee_ppm
        {
            return Err(refused(
                "fee_cap",
                format!(
                    "max_fee_sats is {ppm} ppm of the amount, above what {} earns ({} ppm): \
                     the refill could never pay for itself",
                    to.short_channel_id, to.fee_ppm
                ),
                true,
            ));
        }

        let candidate = RebalanceCandidate {
            now,
            seed: seed_for(&to.short_channel_id, now),
            destination: wit_channel(&settings, to, to_flow),
            sources: vec![wit_channel(
                &settings,
                from,
                flows.get(&from.short_channel_id),
            )],
            amount_msat: amount_sat * 1000,
            inbound_fee_estimate_ppm: settings.inbound_fee_estimate_ppm,
            cooldown_days: settings.capital.cooldown_secs as f64 / 86_400.0,
            health_multiplier: self.health_multiplier(),
            min_profit_msat: settings.min_profit_sat.saturating_mul(1000),
            kelly: None,
        };
        let (scorer, _) = self.effective_scorer(now);
        let scored = match self.score(&scorer, vec![candidate], now).await? {
            Ok(scored) => scored,
            Err((_, failure)) => {
                return Err(refused(
                    "scorer_failed",
                    format!(
                        "the scorer {} failed ({}): {}",
                        failure.policy, failure.kind, failure.message
                    ),
                    true,
                ));
            }
        };
        let Some(verdict) = scored.into_iter().next().map(|s| s.verdict) else {
            return Err(refused(
                "scorer_failed",
                "the scorer returned no verdict".to_string(),
                true,
            ));
        };
        let answer = ManualVerdict {
            accept: verdict.accept,
            expected_profit_msat: verdict.expected_profit_msat,
            reason: verdict.reason.clone(),
        };
        if !verdict.accept {
            return Err(refused(
                "scorer_rejected",
                format!(
                    "the scorer rejects it: {} (expected profit {} sat)",
                    verdict.reason,
                    verdict.expected_profit_msat / 1000
                ),
                true,
            ));
        }
        let ppm = requested_ppm.unwrap_or_else(|| verdict.max_fee_ppm.min(to.fee_ppm));
        if ppm == 0 {
            return Err(refused(
                "fee_cap",
                format!(
                    "no fee is left to pay for routing: {} charges {} ppm",
                    to.short_channel_id, to.fee_ppm
                ),
                true,
            ));
        }
        Ok((ppm, answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_ppm_rounds_down_and_saturates() {
        assert_eq!(fee_ppm(500, 1_000_000), 500);
        assert_eq!(fee_ppm(1, 3), 333_333);
        assert_eq!(fee_ppm(u64::MAX, 1), u32::MAX);
    }

    fn channel(scid: &str, peer: &str) -> ChannelSnapshot {
        ChannelSnapshot {
            short_channel_id: scid.to_string(),
            peer_id: peer.to_string(),
            peer_connected: true,
            state: "CHANNELD_NORMAL".to_string(),
            ..ChannelSnapshot::default()
        }
    }

    #[test]
    fn names_resolve_by_scid_or_by_a_peer_with_one_channel() {
        let channels = vec![
            channel("1x1x0", "aa"),
            channel("2x1x0", "bb"),
            channel("3x1x0", "bb"),
        ];
        assert_eq!(
            resolve(&channels, "to_channel", "1x1x0")
                .unwrap()
                .short_channel_id,
            "1x1x0"
        );
        assert_eq!(
            resolve(&channels, "to_channel", "aa")
                .unwrap()
                .short_channel_id,
            "1x1x0"
        );
        let two = resolve(&channels, "from_channel", "bb")
            .unwrap_err()
            .to_string();
        assert!(
            two.starts_with("from_channel: peer bb has 2 channels (2x1x0, 3x1x0)"),
            "{two}"
        );
        let none = resolve(&channels, "to_channel", "9x9x9")
            .unwrap_err()
            .to_string();
        assert!(none.contains("no channel `9x9x9`"), "{none}");
        let mut closed = channels.clone();
        closed[0].state = "ONCHAIN".to_string();
        let inactive = resolve(&closed, "to_channel", "1x1x0")
            .unwrap_err()
            .to_string();
        assert!(inactive.contains("is ONCHAIN"), "{inactive}");
    }
}
