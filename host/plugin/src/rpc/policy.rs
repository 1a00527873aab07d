//! `revenue-policy`: per-peer strategies (dynamic / static / passive) and
//! fee bounds, persisted.

use crate::params::{Params, check_node_id, invalid, rpc_error};
use crate::state::State;
use cln_plugin::Plugin;
use revops_store::{PeerPolicy, Strategy};
use serde_json::{Value, json};

const MAX_FEE_PPM: u32 = 100_000;

fn store_error(e: impl std::fmt::Display) -> anyhow::Error {
    rpc_error(-1, format!("revenue-policy: database error: {e}"))
}

pub async fn revenue_policy(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-policy";
    let params = Params::parse(
        M,
        &params,
        &[
            "action",
            "peer_id",
            "strategy",
            "fee_ppm",
            "min_fee_ppm",
            "max_fee_ppm",
        ],
    )?;
    let state = p.state();
    let store = state.0.engine.store();
    let action = params.required_str("action", "list, get, set or delete")?;
    let peer = |params: &Params| -> anyhow::Result<String> {
        check_node_id(
            M,
            "peer_id",
            &params.required_str("peer_id", "the peer's node id")?,
        )
    };
    match action.as_str() {
        "list" => Ok(json!({"policies": store.peer_policies().map_err(store_error)?})),
        "get" => {
            let peer_id = peer(&params)?;
            Ok(match store.peer_policy(&peer_id).map_err(store_error)? {
                Some(policy) => json!({"policy": policy, "is_default": false}),
                None => json!({
                    "policy": {"peer_id": peer_id, "strategy": "dynamic"},
                    "is_default": true,
                }),
            })
        }
        "set" => {
            let peer_id = peer(&params)?;
            let existing = store.peer_policy(&peer_id).map_err(store_error)?;
            let strategy = match params.str("strategy")? {
                Some(s) => Strategy::parse(&s).ok_or_else(|| {
                    invalid(format!(
                        "{M}: `strategy` must be dynamic, static or passive, got `{s}`"
                    ))
                })?,
                None => existing
                    .as_ref()
                    .map(|e| e.strategy)
                    .unwrap_or(Strategy::Dynamic),
            };
            let fee_ppm = params
                .u32("fee_ppm", MAX_FEE_PPM)?
                .or(existing.as_ref().and_then(|e| e.fee_ppm));
            if strategy == Strategy::Static && fee_ppm.is_none() {
                return Err(invalid(format!(
                    "{M}: `fee_ppm` is required with strategy static"
                )));
            }
            let min_fee_ppm = params
                .u32("min_fee_ppm", MAX_FEE_PPM)?
                .or(existing.as_ref().and_then(|e| e.min_fee_ppm));
            let max_fee_ppm = params
                .u32("max_fee_ppm", MAX_FEE_PPM)?
                .or(existing.as_ref().and_then(|e| e.max_fee_ppm));
            if let (Some(min), Some(max)) = (min_fee_ppm, max_fee_ppm)
                && min > max
            {
                return Err(invalid(format!(
                    "{M}: `min_fee_ppm` ({min}) must not exceed `max_fee_ppm` ({max})"
                )));
            }
            let policy = PeerPolicy {
                peer_id,
                strategy,
                fee_ppm: if strategy == Strategy::Static {
                    fee_ppm
                } else {
                    None
                },
                min_fee_ppm,
                max_fee_ppm,
                updated_at: state.0.engine.now(),
            };
            store.upsert_peer_policy(&policy).map_err(store_error)?;
            log::info!(
                "peer {} policy set to {}",
                policy.peer_id,
                policy.strategy.as_str()
            );
            Ok(json!({"policy": policy}))
        }
        "delete" => {
            let peer_id = peer(&params)?;
            let deleted = store.delete_peer_policy(&peer_id).map_err(store_error)?;
            Ok(json!({"peer_id": peer_id, "deleted": deleted}))
        }
        other => Err(invalid(format!(
            "{M}: `action` must be list, get, set or delete, got `{other}`"
        ))),
    }
}
