//! `revenue-rebalance-cycle` and `revenue-rebalance-debug`: run one
//! rebalance check now, and show the capital controls, the ledger and what
//! the last check decided.

use crate::params::{Params, rpc_error};
use crate::state::{Rebalancer, State};
use cln_plugin::Plugin;
use revops_core::{Clock, Node, SystemClock};
use revops_engine::WalletFunds;
use revops_engine::rebalance::controls::daily_budget_msat;
use serde_json::{Value, json};

/// Ledger rows shown by `revenue-rebalance-debug`.
const RECENT_REBALANCES: u32 = 20;

fn rebalancer<'a>(state: &'a State, method: &str) -> Result<&'a Rebalancer, anyhow::Error> {
    state
        .0
        .rebalancer
        .as_ref()
        .map_err(|why| rpc_error(-1, format!("{method}: rebalancing is unavailable: {why}")))
}

pub async fn cycle(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-rebalance-cycle";
    Params::parse(M, &params, &[])?;
    let state = p.state();
    let rebalancer = rebalancer(state, M)?;
    let confirmed_onchain_sat = rebalancer
        .node()
        .confirmed_onchain_sat()
        .await
        .map_err(|e| rpc_error(-1, format!("{M}: reading the wallet (listfunds): {e}")))?;
    let report = rebalancer
        .run_rebalance_cycle(WalletFunds {
            confirmed_onchain_sat,
        })
        .await
        .map_err(|e| rpc_error(-1, format!("{M}: {e}")))?;
    *state
        .0
        .last_rebalance
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
    Ok(json!(report))
}

pub async fn debug(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-rebalance-debug";
    Params::parse(M, &params, &[])?;
    let state = p.state();
    let rebalancer = rebalancer(state, M)?;
    let store = rebalancer.store();
    let now = SystemClock.now_secs();
    let settings = rebalancer.settings();
    let revenue_24h_msat = store
        .total_earnings(now.saturating_sub(86_400), now)
        .map_err(|e| rpc_error(-1, format!("{M}: {e}")))?;
    let ledger = |e: revops_store::StoreError| rpc_error(-1, format!("{M}: {e}"));
    let last_cycle = state
        .0
        .last_rebalance
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Ok(json!({
        "settings": *settings,
        "budget": {
            "daily_budget_msat": daily_budget_msat(&settings.capital, revenue_24h_msat),
            "revenue_24h_msat": revenue_24h_msat,
            "use": store.budget_use(now).map_err(ledger)?,
        },
        "running": store.running_rebalances().map_err(ledger)?,
        "recent": store.rebalance_log(RECENT_REBALANCES).map_err(ledger)?,
        "destinations": store.destination_histories().map_err(ledger)?,
        "last_cycle": last_cycle,
    }))
}
