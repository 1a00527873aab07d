//! `revenue-clboss-status` and `revenue-remanage`.

use crate::params::{Params, check_node_id, invalid, rpc_error};
use crate::state::State;
use cln_plugin::Plugin;
use serde_json::{Value, json};

pub async fn status(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    Params::parse("revenue-clboss-status", &params, &[])?;
    let status = p
        .state()
        .0
        .engine
        .clboss_status()
        .await
        .map_err(|e| rpc_error(-1, format!("revenue-clboss-status: {e}")))?;
    Ok(json!(status))
}

pub async fn remanage(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-remanage";
    let params = Params::parse(M, &params, &["peer_id", "tag"])?;
    let peer_id = check_node_id(
        M,
        "peer_id",
        &params.required_str("peer_id", "the peer to hand back to CLBoss")?,
    )?;
    let tag = params.str("tag")?;
    if let Some(t) = &tag
        && (t.is_empty() || t.contains(','))
    {
        return Err(invalid(format!(
            "{M}: `tag` must be one CLBoss tag such as lnfee, got `{t}`"
        )));
    }
    let status = p
        .state()
        .0
        .engine
        .remanage(&peer_id, tag.as_deref())
        .await
        .map_err(|e| rpc_error(-1, format!("{M}: {e}")))?;
    Ok(json!(status))
}
