//! The rebalancer's RPCs: `revenue-rebalance` (manual), `-cycle` (one check
//! now), `-debug` (capital controls, ledger, last check) and
//! `revenue-clear-reservations`; plus the `rebalancing` part of
//! `revenue-status`.

use crate::params::{INVALID_PARAMS, Params, invalid, rpc_error};
use crate::state::{Rebalancer, State};
use cln_plugin::Plugin;
use revops_core::{Clock, Node, SystemClock};
use revops_engine::rebalance::controls::{check_destination, daily_budget_msat};
use revops_engine::rebalance::{ManualError, ManualRequest};
use serde_json::{Value, json};

/// Ledger rows shown by `revenue-rebalance-debug`.
const RECENT_REBALANCES: u32 = 20;

fn rebalancer<'a>(state: &'a State, method: &str) -> Result<&'a Rebalancer, anyhow::Error> {
    state
        .rebalancer()
        .map_err(|why| rpc_error(-1, format!("{method}: rebalancing is unavailable: {why}")))
}

pub async fn cycle(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-rebalance-cycle";
    Params::parse(M, &params, &[])?;
    let state = p.state();
    rebalancer(state, M)?;
    let report = state
        .run_rebalance_cycle()
        .await
        .map_err(|e| rpc_error(-1, format!("{M}: {e}")))?;
    Ok(json!(report))
}

pub async fn manual(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-rebalance";
    let args = Params::parse(
        M,
        &params,
        &[
            "from_channel",
            "to_channel",
            "amount_sats",
            "max_fee_sats",
            "force",
        ],
    )?;
    let channel = "a short channel id, or the peer id of a single channel";
    let request = ManualRequest {
        from: args.required_str("from_channel", channel)?,
        to: args.required_str("to_channel", channel)?,
        amount_sat: args.u64("amount_sats")?.ok_or_else(|| {
            invalid(format!(
                "{M}: `amount_sats` is required (the amount to move, in sats)"
            ))
        })?,
        max_fee_sat: args.u64("max_fee_sats")?,
        force: args.bool("force")?.unwrap_or(false),
    };
    let state = p.state();
    let rebalancer = rebalancer(state, M)?;
    let wallet = state
        .wallet_funds()
        .await
        .map_err(|e| rpc_error(-1, format!("{M}: {e}")))?;
    match rebalancer.rebalance_manual(&request, wallet).await {
        Ok(report) => Ok(json!(report)),
        Err(ManualError::BadParam { param, detail }) => Err(rpc_error(
            INVALID_PARAMS,
            format!("{M}: `{param}`: {detail}"),
        )),
        Err(e) => Err(rpc_error(-1, format!("{M}: {e}"))),
    }
}

pub async fn clear_reservations(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-clear-reservations";
    Params::parse(M, &params, &[])?;
    let state = p.state();
    let cleared = rebalancer(state, M)?
        .clear_reservations()
        .await
        .map_err(|e| rpc_error(-1, format!("{M}: {e}")))?;
    log::info!(
        "{M}: {} rebalances stopped, {} msat of budget released",
        cleared.cleared.len(),
        cleared.released_msat.msat()
    );
    Ok(json!(cleared))
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
    // Each destination's history with the gate it stands at now: open, or
    // the cooldown / futility breaker / backoff refusal with its end.
    let destinations: serde_json::Map<String, Value> = store
        .destination_histories()
        .map_err(ledger)?
        .into_iter()
        .map(|(scid, history)| {
            let gate = match check_destination(&settings.capital, history, now) {
                Ok(()) => json!({"rule": "open"}),
                Err(refusal) => json!(refusal),
            };
            let mut entry = json!(history);
            entry["gate"] = gate;
            (scid, entry)
        })
        .collect();
    Ok(json!({
        "settings": *settings,
        "budget": {
            "daily_budget_msat": daily_budget_msat(&settings.capital, revenue_24h_msat),
            "revenue_24h_msat": revenue_24h_msat,
            "use": store.budget_use(now).map_err(ledger)?,
        },
        "running": store.running_rebalances().map_err(ledger)?,
        "recent": store.rebalance_log(RECENT_REBALANCES).map_err(ledger)?,
        "destinations": destinations,
        "last_cycle": last_cycle,
    }))
}

/// The `rebalancing` part of `revenue-status`: whether it can run and why
/// not, what runs, and the last check in brief. Never fails: a part that
/// cannot be read says so.
pub async fn status(state: &State) -> Value {
    let rebalancer = match state.rebalancer() {
        Ok(r) => r,
        Err(why) => return json!({"enabled": false, "reason": why}),
    };
    let sling = match rebalancer.node().plugin_names().await {
        Ok(names) => Ok(names.iter().any(|n| is_sling(n))),
        Err(e) => Err(e.to_string()),
    };
    let (enabled, reason) = match &sling {
        Ok(true) => (true, None),
        Ok(false) => (
            false,
            Some("sling is not running (plugin list): install and start the sling plugin to rebalance".to_string()),
        ),
        Err(e) => (false, Some(format!("cannot tell whether sling runs: {e}"))),
    };
    let settings = rebalancer.settings();
    let store = rebalancer.store();
    let now = SystemClock.now_secs();
    let running = store.running_rebalances().map(|r| r.len());
    let budget = store.budget_use(now);
    let last = state
        .0
        .last_rebalance
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .map(|r| {
            json!({
                "started_at": r.started_at,
                "disabled": r.disabled,
                "counts": r.counts,
                "capital_refusals": r.capital_refusals,
            })
        });
    // The last check's assessment (made every rebalance interval); only
    // before the first check does status assess (a channel listing).
    let health = match rebalancer.last_health() {
        Some(h) => json!(h),
        None => match rebalancer.assess_health().await {
            Ok(h) => json!(h),
            Err(e) => json!({"error": e.to_string()}),
        },
    };
    json!({
        "enabled": enabled,
        "reason": reason,
        "health": health,
        "dry_run": settings.dry_run,
        "scorer": format!("{}@{}", rebalancer.scorer().name(), rebalancer.scorer().version()),
        "running_jobs": running.map_err(|e| e.to_string()).ok(),
        "max_concurrent_jobs": settings.capital.max_concurrent_jobs,
        "budget_use": budget.ok(),
        "last_check": last,
    })
}

/// sling's plugin entry: `plugin list` names plugins by path; sling is
/// built and packaged as `sling` or `*-sling` (e.g. `cln-sling`).
fn is_sling(path: &str) -> bool {
    std::path::Path::new(path)
        .file_name()
        .and_then(|f| f.to_str())
        .is_some_and(|f| f == "sling" || f.ends_with("-sling"))
}
