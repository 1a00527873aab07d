//! `revenue-wasm`: the operator's policy lifecycle without restarting
//! lightningd — list, inspect, load, unload, reload, rollback, status.
//! Validation and swapping live in [`crate::registry`].

mod shadow;

use crate::config::find_key;
use crate::params::{Params, invalid, rpc_error};
use crate::registry::{self, BUILT_IN};
use crate::state::State;
use cln_plugin::Plugin;
use revops_runtime::LoadedPolicy;
use revops_store::{PeerPolicy, Strategy};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

const M: &str = "revenue-wasm";
const ACTIONS: &str = "list, inspect, load, unload, reload, rollback, shadow or status";
/// The built-in defaults users fall back to when a policy is force-unloaded.
const DEFAULT_FEE_POLICY: &str = "fee-alpha";

pub async fn revenue_wasm(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    let params = Params::parse(
        M,
        &params,
        &["action", "name", "path", "force", "role", "stop"],
    )?;
    let state = p.state();
    let action = params.required_str("action", ACTIONS)?;
    match action.as_str() {
        "list" => {
            // One read of the peer policies serves every entry.
            let peers = active_peer_policies(state).ok();
            Ok(json!({"policies": all_policies(state)
                .iter()
                .map(|p| describe(state, p, peers.as_deref()))
                .collect::<Vec<_>>()}))
        }
        "status" => Ok(status(state)),
        "inspect" => inspect(state, &params).await,
        "load" => load(state, &params).await,
        "reload" => {
            let name = params.required_str("name", "the policy to load again from its file")?;
            let source = state
                .0
                .registry
                .source(&name)
                .ok_or_else(|| unknown(state, &name))?;
            if source == BUILT_IN {
                return Err(invalid(format!(
                    "{M}: `{name}` is built in; there is no file to reload"
                )));
            }
            install_file(state, PathBuf::from(source), Some(&name)).await
        }
        "rollback" => {
            let name = params.required_str("name", "the policy to roll back")?;
            let installed =
                registry::rollback(state, &name).map_err(|e| invalid(format!("{M}: {e}")))?;
            Ok(json!({"rolled_back": installed}))
        }
        "unload" => unload(state, &params),
        "shadow" => shadow::shadow(state, &params),
        other => Err(invalid(format!(
            "{M}: unknown action `{other}` (expected {ACTIONS})"
        ))),
    }
}

/// Every loaded policy: the fee set, plus the rebalancer's scorer.
fn all_policies(state: &State) -> Vec<Arc<LoadedPolicy>> {
    let mut all: Vec<Arc<LoadedPolicy>> = state.0.engine.policies().iter().cloned().collect();
    let mut scorers: Vec<Arc<LoadedPolicy>> = state.0.built_in_scorer.iter().cloned().collect();
    if let Ok(r) = state.rebalancer() {
        scorers.push(r.scorer());
    }
    for scorer in scorers {
        if !all.iter().any(|p| p.name() == scorer.name()) {
            all.push(scorer);
        }
    }
    all
}

fn unknown(state: &State, name: &str) -> anyhow::Error {
    let loaded: Vec<String> = all_policies(state)
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    invalid(format!(
        "{M}: no policy named `{name}` is loaded (loaded: {})",
        loaded.join(", ")
    ))
}

/// Who relies on `name`: peers by id, the node default, the rebalancer.
struct Users {
    peers: Vec<String>,
    node_default: bool,
    rebalance_scorer: bool,
}

impl Users {
    fn any(&self) -> bool {
        !self.peers.is_empty() || self.node_default || self.rebalance_scorer
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.peers.is_empty() {
            parts.push(format!(
                "{} peer(s) ({})",
                self.peers.len(),
                self.peers.join(", ")
            ));
        }
        if self.node_default {
            parts.push("the node default (default_fee_policy)".to_string());
        }
        if self.rebalance_scorer {
            parts.push("the rebalancer (rebalance_scorer)".to_string());
        }
        parts.join(", ")
    }
}

/// The peer policies in force now (expired ones fall back to the default).
fn active_peer_policies(state: &State) -> anyhow::Result<Vec<PeerPolicy>> {
    let now = state.0.engine.now();
    Ok(state
        .0
        .engine
        .store()
        .peer_policies()
        .map_err(|e| rpc_error(-1, format!("{M}: database error: {e}")))?
        .into_iter()
        .filter(|p| !p.is_expired(now))
        .collect())
}

fn users(state: &State, peers: &[PeerPolicy], name: &str) -> Users {
    Users {
        peers: peers
            .iter()
            .filter(|p| p.strategy == Strategy::Policy(name.to_string()))
            .map(|p| p.peer_id.clone())
            .collect(),
        node_default: state.0.engine.settings().default_fee_policy == name,
        rebalance_scorer: state.rebalancer().is_ok_and(|r| r.scorer().name() == name),
    }
}

/// `peers`: the active peer policies, `None` when they could not be read.
fn describe(state: &State, policy: &LoadedPolicy, peers: Option<&[PeerPolicy]>) -> Value {
    let name = policy.name();
    let users = peers.map(|peers| users(state, peers, name));
    json!({
        "name": name,
        "version": policy.version(),
        "description": policy.metadata().description,
        "roles": policy.roles().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "sha256": policy.hash(),
        "size_bytes": policy.size_bytes(),
        // Operator policies whose language needs WASI (Python) run on the
        // deterministic, capability-free WASI shim; built-ins never do.
        "wasi_shim": policy.uses_wasi_shim(),
        "source": state.0.registry.source(name).unwrap_or_else(|| BUILT_IN.to_string()),
        "loaded_at": state.0.registry.loaded_at(name),
        "previous_version": state.0.registry.previous_version(name),
        "used_by": users.map(|u| json!({
            "peers": u.peers.len(),
            "node_default": u.node_default,
            "rebalance_scorer": u.rebalance_scorer,
        })),
    })
}

/// `path` as given, or relative to the policy directory.
fn resolve_path(state: &State, raw: &str) -> PathBuf {
    let path = PathBuf::from(raw);
    if path.is_absolute() {
        path
    } else {
        state.0.policy_dir.join(path)
    }
}

async fn inspect(state: &State, params: &Params) -> anyhow::Result<Value> {
    match (params.str("name")?, params.str("path")?) {
        (Some(name), None) => {
            let policy = all_policies(state)
                .into_iter()
                .find(|p| p.name() == name)
                .ok_or_else(|| unknown(state, &name))?;
            let mut v = describe(state, &policy, active_peer_policies(state).ok().as_deref());
            v["imports"] = json!(policy.imports());
            Ok(v)
        }
        (None, Some(path)) => {
            // Validates exactly as `load` would, and installs nothing.
            let path = resolve_path(state, &path);
            let validated = registry::validate(state, &path, false)
                .await
                .map_err(|e| rpc_error(-1, format!("{M}: {}: {e}", path.display())))?;
            let mut v = describe(
                state,
                &validated.policy,
                active_peer_policies(state).ok().as_deref(),
            );
            v["source"] = json!(path.display().to_string());
            v["imports"] = json!(validated.policy.imports());
            v["self_test"] = json!(validated.self_test);
            v["loaded"] = json!(
                state
                    .0
                    .engine
                    .policies()
                    .get(validated.policy.name())
                    .is_some_and(|p| p.hash() == validated.policy.hash())
            );
            Ok(v)
        }
        _ => Err(invalid(format!(
            "{M}: inspect takes exactly one of `name` (a loaded policy) or `path` (a .wasm file)"
        ))),
    }
}

async fn load(state: &State, params: &Params) -> anyhow::Result<Value> {
    let raw = params.required_str("path", "the .wasm file to load")?;
    let name = params.str("name")?;
    install_file(state, resolve_path(state, &raw), name.as_deref()).await
}

/// Validates `path` and installs it; `expected_name`, when given, must be
/// the policy's own name (a guard against replacing the wrong policy).
async fn install_file(
    state: &State,
    path: PathBuf,
    expected_name: Option<&str>,
) -> anyhow::Result<Value> {
    let validated = registry::validate(state, &path, true)
        .await
        .map_err(|e| rpc_error(-1, format!("{M}: {} refused: {e}", path.display())))?;
    if let Some(expected) = expected_name
        && validated.policy.name() != expected
    {
        return Err(invalid(format!(
            "{M}: `name` is {expected} but {} is policy `{}`; nothing was changed",
            path.display(),
            validated.policy.name()
        )));
    }
    let self_test = validated.self_test.clone();
    let installed = registry::install(state, validated);
    Ok(json!({"loaded": installed, "self_test": self_test}))
}

fn unload(state: &State, params: &Params) -> anyhow::Result<Value> {
    let name = params.required_str("name", "the policy to unload")?;
    let force = params.bool("force")?.unwrap_or(false);
    if state.0.engine.policies().get(&name).is_none() {
        return Err(unknown(state, &name));
    }
    if state.0.registry.is_built_in_name(&name) {
        return Err(invalid(format!(
            "{M}: `{name}` is built in and cannot be unloaded (a version loaded over it is undone with rollback)"
        )));
    }
    let active = active_peer_policies(state)?;
    let users = users(state, &active, &name);
    let mut moved = json!({"peers": [], "node_default": null, "rebalance_scorer": null});
    if users.any() {
        if !force {
            return Err(invalid(format!(
                "{M}: `{name}` is used by {}; move them first, or pass force=true to move them to the built-in defaults",
                users.describe()
            )));
        }
        let now = state.0.engine.now();
        let store = state.0.engine.store();
        let moved_peers: Vec<PeerPolicy> = active
            .into_iter()
            .filter(|p| users.peers.contains(&p.peer_id))
            .map(|mut p| {
                p.strategy = Strategy::Dynamic;
                p.updated_at = now;
                p
            })
            .collect();
        store
            .upsert_peer_policies(&moved_peers)
            .map_err(|e| rpc_error(-1, format!("{M}: database error: {e}")))?;
        moved["peers"] = json!(users.peers);
        if users.node_default
            && let Some(key) = find_key("default_fee_policy")
        {
            crate::rpc::config::set(state, M, key, &json!(DEFAULT_FEE_POLICY))?;
            moved["node_default"] = json!(DEFAULT_FEE_POLICY);
        }
        if users.rebalance_scorer
            && let (Some(key), Some(built_in)) = (
                find_key("rebalance_scorer"),
                state.0.built_in_scorer.as_ref(),
            )
        {
            crate::rpc::config::set(state, M, key, &json!(built_in.name()))?;
            moved["rebalance_scorer"] = json!(built_in.name());
        }
    }
    let removed = registry::remove(state, &name);
    log::info!(
        "policy {name} unloaded ({})",
        if force { "forced" } else { "unused" }
    );
    Ok(json!({
        "unloaded": removed.map(|p| format!("{}@{}", p.name(), p.version())),
        "moved": moved,
    }))
}

fn status(state: &State) -> Value {
    let runtime = state.0.engine.runtime();
    let now = state.0.engine.now();
    let quarantine = state.0.engine.quarantine();
    let policies: Vec<Value> = all_policies(state)
        .iter()
        .map(|p| {
            json!({
                "name": p.name(),
                "version": p.version(),
                "source": state.0.registry.source(p.name()).unwrap_or_else(|| BUILT_IN.to_string()),
                "stats": runtime.stats(p),
                "quarantine": quarantine.view(p.hash(), now).map_or_else(
                    || json!({"state": "healthy", "consecutive_failures": 0}),
                    |view| json!(view),
                ),
            })
        })
        .collect();
    json!({
        "policies": policies,
        "rejected_files": state.0.registry.rejected(),
        "quarantine_settings": {
            "failure_streak": quarantine.settings().failure_streak,
            "backoff_secs": quarantine.settings().backoff_secs,
            "healthy_secs": quarantine.settings().healthy_secs,
        },
        "limits": role_limits(&runtime.role_limits()),
        "policy_dir": state.0.policy_dir.display().to_string(),
    })
}

/// The sandbox limits of each role, in the options' units.
fn role_limits(limits: &revops_runtime::RoleLimits) -> Value {
    let role = |l: &revops_runtime::Limits, per_item: &str, per_item_fuel: u64| {
        json!({
            "fuel_base": l.fuel_per_batch_base,
            per_item: per_item_fuel,
            "memory_mib": l.memory_bytes / crate::options::MIB,
            "wall_clock_ms": l.wall_clock_ms,
            "max_log_lines_per_call": l.max_log_lines_per_call,
            "max_log_line_bytes": l.max_log_line_bytes,
        })
    };
    json!({
        "fee_strategy": role(&limits.fee_strategy, "fuel_per_channel", limits.fee_strategy.fuel_per_channel),
        "rebalance_scorer": role(&limits.rebalance_scorer, "fuel_per_candidate", limits.rebalance_scorer.fuel_per_candidate),
    })
}
