//! `revenue-policy`: per-peer strategies, bounds, rebalance mode, tags,
//! multiplier clamps and expiry — persisted, validated whole before anything
//! is written, and rate-limited per peer (batches excepted).

use crate::params::{Params, check_node_id, invalid, rpc_error};
use crate::state::State;
use cln_plugin::Plugin;
use revops_store::{PeerPolicy, RebalanceMode, Strategy};
use serde_json::{Value, json};

const M: &str = "revenue-policy";
const MAX_FEE_PPM: u32 = 100_000;
/// The global clamp on fee multipliers.
const MULTIPLIER_RANGE: (f64, f64) = (0.1, 5.0);
/// `expires_at` may be at most this far ahead.
const MAX_EXPIRY_SECS: u64 = 30 * 86_400;
const MAX_BATCH: usize = 1000;
/// The fields `set` (and each `batch` entry) accepts.
const SET_FIELDS: &[&str] = &[
    "peer_id",
    "strategy",
    "fee_ppm",
    "min_fee_ppm",
    "max_fee_ppm",
    "rebalance",
    "fee_multiplier_min",
    "fee_multiplier_max",
    "expires_at",
    "tag",
];

fn store_error(e: impl std::fmt::Display) -> anyhow::Error {
    rpc_error(-1, format!("{M}: database error: {e}"))
}

fn check_tag(tag: &str) -> anyhow::Result<String> {
    if !tag.is_empty()
        && tag.len() <= 32
        && tag
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        Ok(tag.to_string())
    } else {
        Err(invalid(format!(
            "{M}: `tag` must be 1-32 characters of [a-z0-9_-], got `{tag}`"
        )))
    }
}

fn multiplier(params: &Params, name: &str) -> anyhow::Result<Option<f64>> {
    let Some(v) = params.raw(name) else {
        return Ok(None);
    };
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match x {
        Some(x) if (MULTIPLIER_RANGE.0..=MULTIPLIER_RANGE.1).contains(&x) => Ok(Some(x)),
        _ => Err(invalid(format!(
            "{M}: `{name}` must be a number from {} to {}, got {v}",
            MULTIPLIER_RANGE.0, MULTIPLIER_RANGE.1
        ))),
    }
}

/// `existing` (or the node default) with the fields given in `params`.
fn apply_fields(state: &State, params: &Params, peer_id: &str) -> anyhow::Result<PeerPolicy> {
    let engine = &state.0.engine;
    let now = engine.now();
    let mut p = engine
        .store()
        .peer_policy(peer_id)
        .map_err(store_error)?
        .unwrap_or_else(|| PeerPolicy::default_for(peer_id, now));
    if let Some(s) = params.str("strategy")? {
        let strategy = Strategy::parse(&s);
        if let Strategy::Policy(name) = &strategy
            && engine.policies().get(name).is_none()
        {
            let loaded: Vec<String> = engine
                .policies()
                .iter()
                .map(|p| p.name().to_string())
                .collect();
            return Err(invalid(format!(
                "{M}: `strategy` must be dynamic, static, passive, hive or a loaded fee policy \
                 ({}), got `{name}`",
                loaded.join(", ")
            )));
        }
        p.strategy = strategy;
    }
    if let Some(fee_ppm) = params.u32("fee_ppm", MAX_FEE_PPM)? {
        p.fee_ppm = Some(fee_ppm);
    }
    if p.strategy == Strategy::Static && p.fee_ppm.is_none() {
        return Err(invalid(format!(
            "{M}: `fee_ppm` is required with strategy static"
        )));
    }
    if p.strategy != Strategy::Static {
        p.fee_ppm = None;
    }
    if let Some(v) = params.u32("min_fee_ppm", MAX_FEE_PPM)? {
        p.min_fee_ppm = Some(v);
    }
    if let Some(v) = params.u32("max_fee_ppm", MAX_FEE_PPM)? {
        p.max_fee_ppm = Some(v);
    }
    if let (Some(min), Some(max)) = (p.min_fee_ppm, p.max_fee_ppm)
        && min > max
    {
        return Err(invalid(format!(
            "{M}: `min_fee_ppm` ({min}) must not exceed `max_fee_ppm` ({max})"
        )));
    }
    if let Some(mode) = params.str("rebalance")? {
        p.rebalance_mode = RebalanceMode::parse(&mode).ok_or_else(|| {
            invalid(format!(
                "{M}: `rebalance` must be enabled, disabled, source_only or sink_only, got `{mode}`"
            ))
        })?;
    }
    if let Some(m) = multiplier(params, "fee_multiplier_min")? {
        p.fee_multiplier_min = Some(m);
    }
    if let Some(m) = multiplier(params, "fee_multiplier_max")? {
        p.fee_multiplier_max = Some(m);
    }
    if let (Some(min), Some(max)) = (p.fee_multiplier_min, p.fee_multiplier_max)
        && min > max
    {
        return Err(invalid(format!(
            "{M}: `fee_multiplier_min` ({min}) must not exceed `fee_multiplier_max` ({max})"
        )));
    }
    if let Some(raw) = params.raw("expires_at") {
        let at = raw.as_u64().ok_or_else(|| {
            invalid(format!(
                "{M}: `expires_at` must be a unix time in seconds, got {raw}"
            ))
        })?;
        p.expires_at = match at {
            0 => None,
            at if at > now && at <= now + MAX_EXPIRY_SECS => Some(at),
            at => {
                return Err(invalid(format!(
                    "{M}: `expires_at` must be in the next 30 days ({} to {}) or 0 to clear, got {at}",
                    now + 1,
                    now + MAX_EXPIRY_SECS
                )));
            }
        };
    }
    if let Some(tag) = params.str("tag")? {
        let tag = check_tag(&tag)?;
        if !p.tags.contains(&tag) {
            p.tags.push(tag);
        }
    }
    p.updated_at = now;
    Ok(p)
}

fn required_peer(params: &Params) -> anyhow::Result<String> {
    check_node_id(
        M,
        "peer_id",
        &params.required_str("peer_id", "the peer's node id")?,
    )
}

pub async fn revenue_policy(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    let mut names = vec!["action"];
    names.extend_from_slice(SET_FIELDS);
    names.extend_from_slice(&["since", "updates"]);
    let params = Params::parse(M, &params, &names)?;
    let state = p.state();
    let store = state.0.engine.store();
    let now = state.0.engine.now();
    let action = params.required_str(
        "action",
        "list, get, set, delete, tag, untag, find, changes or batch",
    )?;
    match action.as_str() {
        "list" => Ok(json!({"policies": store.peer_policies().map_err(store_error)?})),
        "get" => {
            let peer_id = required_peer(&params)?;
            Ok(match store.peer_policy(&peer_id).map_err(store_error)? {
                Some(policy) => {
                    let expired = policy.is_expired(now);
                    json!({"policy": policy, "is_default": false, "expired": expired})
                }
                None => json!({
                    "policy": PeerPolicy::default_for(&peer_id, now),
                    "is_default": true,
                    "expired": false,
                }),
            })
        }
        "set" | "tag" => {
            let peer_id = required_peer(&params)?;
            if action == "tag" && params.str("tag")?.is_none() {
                return Err(invalid(format!("{M}: `tag` is required for tag")));
            }
            let policy = apply_fields(state, &params, &peer_id)?;
            state.check_policy_rate(&peer_id)?;
            store.upsert_peer_policy(&policy).map_err(store_error)?;
            log::info!("peer {peer_id} policy set: {}", policy.strategy.as_str());
            Ok(json!({"policy": policy}))
        }
        "untag" => {
            let peer_id = required_peer(&params)?;
            let tag = check_tag(&params.required_str("tag", "the tag to remove")?)?;
            let Some(mut policy) = store.peer_policy(&peer_id).map_err(store_error)? else {
                return Err(invalid(format!(
                    "{M}: peer {peer_id} has no policy to untag"
                )));
            };
            state.check_policy_rate(&peer_id)?;
            policy.tags.retain(|t| *t != tag);
            policy.updated_at = now;
            store.upsert_peer_policy(&policy).map_err(store_error)?;
            Ok(json!({"policy": policy}))
        }
        "delete" => {
            let peer_id = required_peer(&params)?;
            state.check_policy_rate(&peer_id)?;
            let deleted = store
                .delete_peer_policy(&peer_id, now)
                .map_err(store_error)?;
            Ok(json!({"peer_id": peer_id, "deleted": deleted}))
        }
        "find" => {
            let tag = check_tag(&params.required_str("tag", "the tag to look for")?)?;
            Ok(
                json!({"tag": tag, "policies": store.peer_policies_tagged(&tag).map_err(store_error)?}),
            )
        }
        "changes" => {
            let since = params.raw("since").and_then(Value::as_u64).ok_or_else(|| {
                invalid(format!("{M}: `since` is required (a unix time in seconds)"))
            })?;
            let (policies, deleted) = store.peer_policy_changes(since).map_err(store_error)?;
            Ok(json!({"since": since, "now": now, "policies": policies, "deleted": deleted}))
        }
        "batch" => batch(state, &params),
        other => Err(invalid(format!(
            "{M}: `action` must be list, get, set, delete, tag, untag, find, changes or batch, got `{other}`"
        ))),
    }
}

/// Many `set`s at once: every entry is validated first, then all are written
/// in one transaction. Fleet managers use it, so it skips the rate limit.
fn batch(state: &State, params: &Params) -> anyhow::Result<Value> {
    let raw = params.raw("updates").ok_or_else(|| {
        invalid(format!(
            "{M}: `updates` is required for batch (a list of policies)"
        ))
    })?;
    let parsed;
    let list = match raw {
        Value::Array(items) => items,
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s)
                .map_err(|e| invalid(format!("{M}: `updates` is not valid JSON: {e}")))?;
            parsed
                .as_array()
                .ok_or_else(|| invalid(format!("{M}: `updates` must be a JSON list")))?
        }
        _ => {
            return Err(invalid(format!(
                "{M}: `updates` must be a list of policies"
            )));
        }
    };
    if list.len() > MAX_BATCH {
        return Err(invalid(format!(
            "{M}: `updates` holds {} entries; at most {MAX_BATCH} per batch",
            list.len()
        )));
    }
    let mut policies = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        if !item.is_object() {
            return Err(invalid(format!("{M}: `updates[{i}]` must be an object")));
        }
        let entry = Params::parse(M, item, SET_FIELDS)
            .map_err(|e| invalid(format!("{M}: `updates[{i}]`: {}", message_of(&e))))?;
        let peer_id = required_peer(&entry)
            .map_err(|e| invalid(format!("{M}: `updates[{i}]`: {}", message_of(&e))))?;
        let policy = apply_fields(state, &entry, &peer_id)
            .map_err(|e| invalid(format!("{M}: `updates[{i}]`: {}", message_of(&e))))?;
        policies.push(policy);
    }
    state
        .0
        .engine
        .store()
        .upsert_peer_policies(&policies)
        .map_err(store_error)?;
    Ok(json!({"updated": policies.len(), "policies": policies}))
}

/// The message of a JSON-RPC error built by `params::rpc_error`.
fn message_of(e: &anyhow::Error) -> String {
    serde_json::from_str::<Value>(&e.to_string())
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| e.to_string())
}
