//! `revenue-set-fee` and `revenue-fee-cycle`.

use crate::loops::Loop;
use crate::params::{Params, check_scid, invalid, optional_scid, rpc_error};
use crate::state::State;
use cln_plugin::Plugin;
use revops_engine::EngineError;
use serde_json::{Value, json};

/// Highest fee accepted at all, forced or not (10%).
const ABSOLUTE_MAX_FEE_PPM: u32 = 100_000;

pub async fn set_fee(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-set-fee";
    let params = Params::parse(M, &params, &["channel_id", "fee_ppm", "force"])?;
    let scid = check_scid(
        M,
        "channel_id",
        &params.required_str("channel_id", "the short channel id of the channel")?,
    )?;
    let fee_ppm = params
        .u32("fee_ppm", ABSOLUTE_MAX_FEE_PPM)?
        .ok_or_else(|| invalid(format!("{M}: `fee_ppm` is required (the new fee in ppm)")))?;
    let force = params.bool("force")?.unwrap_or(false);
    match p
        .state()
        .0
        .engine
        .set_fee_manually(&scid, fee_ppm, force)
        .await
    {
        Ok(change) => Ok(serde_json::to_value(change)?),
        Err(e @ (EngineError::UnknownChannel(_) | EngineError::OutOfBounds { .. })) => {
            Err(invalid(format!("{M}: {e}")))
        }
        Err(e) => Err(rpc_error(-1, format!("{M}: {e}"))),
    }
}

pub async fn fee_cycle(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    Params::parse("revenue-fee-cycle", &params, &[])?;
    let state = p.state();
    let report = state
        .0
        .engine
        .run_fee_cycle()
        .await
        .map_err(|e| rpc_error(-1, format!("revenue-fee-cycle: {e}")))?;
    state.loop_status(Loop::Fee).last_run_at = Some(report.started_at);
    Ok(json!(report))
}

pub async fn fee_debug(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-fee-debug";
    let params = Params::parse(M, &params, &["channel_id"])?;
    let only = optional_scid(M, &params)?;
    match p.state().0.engine.fee_debug(only.as_deref()).await {
        Ok(channels) => Ok(json!({ "channels": channels })),
        Err(e @ EngineError::UnknownChannel(_)) => Err(invalid(format!("{M}: channel_id: {e}"))),
        Err(e) => Err(rpc_error(-1, format!("{M}: {e}"))),
    }
}

/// `revenue-wake-all`: end every channel's deadband sleep.
pub async fn wake_all(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-wake-all";
    Params::parse(M, &params, &[])?;
    match p.state().0.engine.wake_all() {
        Ok(woken) => Ok(json!({ "woken": woken })),
        Err(e) => Err(rpc_error(-1, format!("{M}: {e}"))),
    }
}
