//! `revenue-wasm shadow`: run a loaded policy beside the live one of its
//! role (fee strategies: every fee cycle; rebalance scorers: every rebalance
//! check) without acting on it, and report how its answers differ.
//!
//! - no `name`: every active shadow run with its report;
//! - `name`: start shadowing it (or, already running, report on it);
//! - `name` + `stop=true`: stop it and give the final report.
//!
//! The decisions are made in the cycles (`revops_engine::shadow`,
//! `revops_engine::rebalance::shadow`); this only starts, stops and reads
//! runs. Runs survive restarts (SQLite).

use super::{M, unknown};
use crate::params::{Params, invalid};
use crate::state::State;
use revops_engine::rebalance::shadow::SCORER_ROLE;
use revops_engine::shadow::FEE_ROLE;
use revops_runtime::Role;
use revops_store::ShadowRun;
use serde_json::{Value, json};

pub(super) fn shadow(state: &State, params: &Params) -> anyhow::Result<Value> {
    let role = params.str("role")?.unwrap_or_else(|| FEE_ROLE.to_string());
    let wit_role = match role.as_str() {
        FEE_ROLE => Role::FeeStrategy,
        SCORER_ROLE => Role::RebalanceScorer,
        _ => {
            return Err(invalid(format!(
                "{M}: `role` must be `{FEE_ROLE}` or `{SCORER_ROLE}`, got `{role}`"
            )));
        }
    };
    let store = state.0.engine.store();
    let now = state.0.engine.now();
    let Some(name) = params.str("name")? else {
        let runs = store.active_shadows()?;
        let reports = runs
            .iter()
            .map(|run| report(state, run))
            .collect::<anyhow::Result<Vec<_>>>()?;
        return Ok(json!({"shadows": reports}));
    };
    if params.bool("stop")?.unwrap_or(false) {
        let Some(run) = store.stop_shadow(&name, &role, now)? else {
            return Err(invalid(format!("{M}: `{name}` is not being shadowed")));
        };
        log::info!("stopped shadowing {name}");
        return Ok(json!({"stopped": report(state, &run)?}));
    }
    let policies = state.0.engine.policies();
    let Some(policy) = policies.get(&name) else {
        return Err(unknown(state, &name));
    };
    if !policy.has_role(wit_role) {
        return Err(invalid(format!(
            "{M}: `{name}` does not implement the {role} role (roles: {})",
            policy
                .roles()
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let (run, started) = store.start_shadow(&name, &role, now)?;
    if started {
        log::info!(
            "shadowing {}@{} beside the live {role}: it answers every cycle and is never applied",
            policy.name(),
            policy.version()
        );
    }
    Ok(json!({
        "started": started,
        "shadow": report(state, &run)?,
    }))
}

/// A run's aggregate and its latest answer per channel (fee) or
/// destination (scorer).
fn report(state: &State, run: &ShadowRun) -> anyhow::Result<Value> {
    if run.role == SCORER_ROLE {
        return scorer_report(state, run);
    }
    let store = state.0.engine.store();
    let summary = store.shadow_summary(run.id)?;
    let channels: Vec<Value> = store
        .latest_shadow_decisions(run.id)?
        .into_iter()
        .map(|d| {
            let diff_ppm = d
                .live_fee_ppm
                .zip(d.shadow_fee_ppm)
                .map(|(live, shadow)| i64::from(shadow) - i64::from(live));
            json!({
                "short_channel_id": d.short_channel_id,
                "cycle_at": d.cycle_at,
                "current_fee_ppm": d.current_fee_ppm,
                "live_policy": d.live_policy,
                "live_fee_ppm": d.live_fee_ppm,
                "shadow_version": d.shadow_version,
                "shadow_fee_ppm": d.shadow_fee_ppm,
                "diff_ppm": diff_ppm,
                "shadow_reason": d.shadow_reason,
                "shadow_failure": d.shadow_failure_kind,
            })
        })
        .collect();
    Ok(with_run(
        state,
        run,
        json!({
            "summary": summary,
            "channels": channels,
            "note": "shadow decisions are never applied; fees are within each channel's bounds, before hysteresis",
        }),
    ))
}

fn scorer_report(state: &State, run: &ShadowRun) -> anyhow::Result<Value> {
    let store = state.0.engine.store();
    let summary = store.shadow_scoring_summary(run.id)?;
    let destinations: Vec<Value> = store
        .latest_shadow_verdicts(run.id)?
        .into_iter()
        .map(|v| {
            json!({
                "destination": v.destination,
                "cycle_at": v.cycle_at,
                "proposed_msat": v.proposed_msat,
                "live_policy": v.live_policy,
                "live": v.live,
                "shadow_version": v.shadow_version,
                "shadow": v.shadow,
                "shadow_reason": v.shadow_reason,
                "shadow_failure": v.shadow_failure_kind,
            })
        })
        .collect();
    Ok(with_run(
        state,
        run,
        json!({
            "summary": summary,
            "destinations": destinations,
            "note": "shadow verdicts are never acted on: nothing is started, held or budgeted for them",
        }),
    ))
}

/// `report` with the run's own facts added (policy, role, whether it is
/// active and loaded, when it started and stopped).
fn with_run(state: &State, run: &ShadowRun, mut report: Value) -> Value {
    let facts = json!({
        "policy": run.policy_name,
        "role": run.role,
        "active": run.stopped_at.is_none(),
        "loaded": state.0.engine.policies().get(&run.policy_name).is_some(),
        "started_at": run.started_at,
        "stopped_at": run.stopped_at,
    });
    if let (Some(report), Value::Object(facts)) = (report.as_object_mut(), facts) {
        report.extend(facts);
    }
    report
}
