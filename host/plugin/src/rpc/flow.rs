//! `revenue-analyze`: run flow analysis now.

use crate::loops::Loop;
use crate::params::{Params, invalid, optional_scid, rpc_error};
use crate::state::State;
use cln_plugin::Plugin;
use revops_engine::EngineError;
use serde_json::{Value, json};

pub async fn analyze(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-analyze";
    let params = Params::parse(M, &params, &["channel_id"])?;
    let only = optional_scid(M, &params)?;
    let state = p.state();
    match state.0.engine.run_flow_analysis(only.as_deref()).await {
        Ok(report) => {
            state.loop_status(Loop::Flow).last_run_at = Some(report.started_at);
            Ok(json!(report))
        }
        Err(e @ EngineError::UnknownChannel(_)) => Err(invalid(format!("{M}: channel_id: {e}"))),
        Err(e) => Err(rpc_error(-1, format!("{M}: {e}"))),
    }
}
