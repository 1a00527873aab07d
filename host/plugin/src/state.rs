//! The plugin's shared state, handed to every RPC handler and loop.

use crate::config::Config;
use crate::forward_events::ForwardEventStatus;
use crate::loops::Loop;
use crate::registry::PolicyRegistry;
use revops_core::Node;
use revops_core::SystemClock;
use revops_engine::{FeeEngine, RebalanceCycleReport, RebalanceEngine, WalletFunds};
use revops_node::{ClnNode, RpcSettings};
use revops_runtime::LoadedPolicy;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub type Engine = FeeEngine<ClnNode, SystemClock>;
pub type Rebalancer = RebalanceEngine<ClnNode, SystemClock>;

#[derive(Debug, Clone, Default, Serialize)]
pub struct LoopStatus {
    pub interval_secs: u64,
    pub last_run_at: Option<u64>,
    pub next_run_at: Option<u64>,
}

pub struct Inner {
    pub engine: Engine,
    pub config: Mutex<Config>,
    pub rpc_settings: Arc<RpcSettings>,
    pub started_at: u64,
    pub db_path: PathBuf,
    pub policy_dir: PathBuf,
    pub fee_loop: Mutex<LoopStatus>,
    pub flow_loop: Mutex<LoopStatus>,
    pub rebalance_loop: Mutex<LoopStatus>,
    /// Where each policy came from, what it replaced, refused files.
    pub registry: PolicyRegistry,
    /// Wake a loop early so a new interval takes effect at once.
    pub fee_loop_wake: tokio::sync::Notify,
    pub flow_loop_wake: tokio::sync::Notify,
    pub rebalance_loop_wake: tokio::sync::Notify,
    /// Wakes the `forward_event` ingestion task.
    pub forward_event_wake: tokio::sync::Notify,
    pub forward_events: Mutex<ForwardEventStatus>,
    /// The rebalancer, or why it cannot run (its scorer failed to load).
    pub rebalancer: Result<Rebalancer, String>,
    /// The built-in scorer, for when the operator selects it again.
    pub built_in_scorer: Option<Arc<LoadedPolicy>>,
    /// What the last rebalance check decided (`revenue-rebalance-debug`).
    pub last_rebalance: Mutex<Option<RebalanceCycleReport>>,
    /// Recent `revenue-policy` changes per peer, for the rate limit.
    pub policy_changes: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// `revenue-policy` changes allowed per peer per window (batches excepted).
pub const POLICY_CHANGES_PER_WINDOW: usize = 10;
pub const POLICY_CHANGE_WINDOW: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct State(pub Arc<Inner>);

impl State {
    pub fn config(&self) -> MutexGuard<'_, Config> {
        self.0.config.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn forward_events(&self) -> MutexGuard<'_, ForwardEventStatus> {
        self.0
            .forward_events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub fn loop_status(&self, which: Loop) -> MutexGuard<'_, LoopStatus> {
        let status = match which {
            Loop::Fee => &self.0.fee_loop,
            Loop::Flow => &self.0.flow_loop,
            Loop::Rebalance => &self.0.rebalance_loop,
        };
        status.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn loop_wake(&self, which: Loop) -> &tokio::sync::Notify {
        match which {
            Loop::Fee => &self.0.fee_loop_wake,
            Loop::Flow => &self.0.flow_loop_wake,
            Loop::Rebalance => &self.0.rebalance_loop_wake,
        }
    }

    /// Count one `revenue-policy` change for `peer_id`, refusing the
    /// eleventh within a minute.
    pub fn check_policy_rate(&self, peer_id: &str) -> anyhow::Result<()> {
        let now = Instant::now();
        let mut all = self
            .0
            .policy_changes
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let recent = all.entry(peer_id.to_string()).or_default();
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= POLICY_CHANGE_WINDOW)
        {
            recent.pop_front();
        }
        if recent.len() >= POLICY_CHANGES_PER_WINDOW {
            let retry = recent
                .front()
                .map(|t| {
                    POLICY_CHANGE_WINDOW
                        .saturating_sub(now.duration_since(*t))
                        .as_secs()
                        + 1
                })
                .unwrap_or(1);
            return Err(crate::params::rpc_error(
                -1,
                format!(
                    "revenue-policy: rate limit: at most {POLICY_CHANGES_PER_WINDOW} changes per minute \
                     for peer {peer_id}; retry in {retry} s (batch is not limited)"
                ),
            ));
        }
        recent.push_back(now);
        Ok(())
    }

    /// Push the effective configuration to the engine and the RPC adapter.
    pub fn apply_config(&self) {
        let config = self.config().clone();
        let settings = config.fee_settings();
        let fee_interval_changed =
            settings.fee_interval_secs != self.0.engine.settings().fee_interval_secs;
        let flow_interval_changed =
            config.flow_interval_secs() != self.loop_status(Loop::Flow).interval_secs;
        let rebalance_interval_changed =
            config.rebalance_interval_secs() != self.loop_status(Loop::Rebalance).interval_secs;
        if let Ok(rebalancer) = &self.0.rebalancer {
            let rebalance = config.rebalance_settings(&rebalancer.settings());
            if let Some(built_in) = &self.0.built_in_scorer
                && rebalance.scorer_policy != rebalancer.scorer().name()
            {
                let policies = self.0.engine.policies();
                let scorer =
                    crate::plugin::select_scorer(&policies, built_in, &rebalance.scorer_policy);
                log::info!(
                    "rebalances are scored by {}@{}",
                    scorer.name(),
                    scorer.version()
                );
                rebalancer.set_scorer(scorer);
            }
            rebalancer.set_settings(rebalance);
        }
        self.0.engine.set_settings(settings);
        self.0.engine.set_flow_settings(config.flow_settings());
        self.0
            .engine
            .runtime()
            .set_role_limits(config.role_limits());
        self.0
            .rpc_settings
            .set_timeout_secs(config.rpc_timeout_secs());
        self.0
            .rpc_settings
            .set_breaker_secs(config.rpc_breaker_secs());
        if fee_interval_changed {
            self.0.fee_loop_wake.notify_one();
        }
        if flow_interval_changed {
            self.0.flow_loop_wake.notify_one();
        }
        if rebalance_interval_changed {
            self.0.rebalance_loop_wake.notify_one();
        }
    }

    /// The rebalancer, or why there is none.
    pub fn rebalancer(&self) -> Result<&Rebalancer, String> {
        self.0.rebalancer.as_ref().map_err(Clone::clone)
    }

    /// The wallet's confirmed on-chain funds (`listfunds`).
    pub async fn wallet_funds(&self) -> Result<WalletFunds, String> {
        let rebalancer = self.rebalancer()?;
        let confirmed_onchain_sat = rebalancer
            .node()
            .confirmed_onchain_sat()
            .await
            .map_err(|e| format!("reading the wallet (listfunds): {e}"))?;
        Ok(WalletFunds {
            confirmed_onchain_sat,
        })
    }

    /// One rebalance check, by the timer or `revenue-rebalance-cycle`; the
    /// report is kept for `revenue-rebalance-debug`.
    pub async fn run_rebalance_cycle(&self) -> Result<RebalanceCycleReport, String> {
        let wallet = self.wallet_funds().await?;
        let report = self
            .rebalancer()?
            .run_rebalance_cycle(wallet)
            .await
            .map_err(|e| e.to_string())?;
        *self
            .0
            .last_rebalance
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
        Ok(report)
    }
}
