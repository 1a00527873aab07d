//! `revenue-config` and lightningd's `setconfig` for our dynamic options.
//! Both validate, persist the override, then apply it; a rejected value
//! changes nothing.

use crate::config::{ConfigKey, KEYS, Kind, find_key, parse_value};
use crate::params::{Params, invalid, rpc_error};
use crate::state::State;
use cln_plugin::Plugin;
use revops_runtime::Role;
use serde_json::{Value, json};

fn describe(state: &State, key: &ConfigKey) -> Value {
    let config = state.config();
    json!({
        "key": key.key,
        "option": key.option,
        "value": config.get(key.key),
        "source": if config.is_overridden(key.key) { "override" } else { "option" },
        "mutable": key.mutable,
        "description": key.description,
    })
}

fn known_keys() -> String {
    KEYS.iter().map(|k| k.key).collect::<Vec<_>>().join(", ")
}

fn lookup(method: &str, name: &str) -> anyhow::Result<&'static ConfigKey> {
    find_key(name).ok_or_else(|| {
        invalid(format!(
            "{method}: unknown key `{name}` (known: {})",
            known_keys()
        ))
    })
}

/// A policy-name setting must name a loaded policy with the role it is for:
/// the rebalance scorer (built-in or loaded) or a fee strategy.
fn check_policy_name(state: &State, key: &ConfigKey, name: &str) -> Result<(), String> {
    let policies = state.0.engine.policies();
    let (role, what) = if key.key == "rebalance_scorer" {
        if state
            .0
            .built_in_scorer
            .as_ref()
            .is_some_and(|b| b.name() == name)
        {
            return Ok(());
        }
        (Role::RebalanceScorer, "rebalance scorer")
    } else {
        (Role::FeeStrategy, "fee policy")
    };
    if policies.get(name).is_some_and(|p| p.has_role(role)) {
        return Ok(());
    }
    let mut loaded: Vec<&str> = policies
        .iter()
        .filter(|p| p.has_role(role))
        .map(|p| p.name())
        .collect();
    let built_in = state
        .0
        .built_in_scorer
        .as_ref()
        .map(|b| b.name().to_string());
    if role == Role::RebalanceScorer
        && let Some(b) = &built_in
    {
        loaded.insert(0, b);
    }
    Err(format!(
        "{}: no {what} named `{name}` is loaded (loaded: {})",
        key.key,
        loaded.join(", ")
    ))
}

/// Validate `raw` for `key`, persist it and apply it.
pub(crate) fn set(
    state: &State,
    method: &str,
    key: &'static ConfigKey,
    raw: &Value,
) -> anyhow::Result<Value> {
    if !key.mutable {
        return Err(invalid(format!(
            "{method}: `{}` cannot be changed while the plugin runs",
            key.key
        )));
    }
    let value = parse_value(key, raw).map_err(|e| invalid(format!("{method}: {e}")))?;
    if let (Kind::Name, Some(name)) = (key.kind, value.as_str()) {
        check_policy_name(state, key, name).map_err(|e| invalid(format!("{method}: {e}")))?;
    }
    let old = {
        let mut config = state.config();
        let mut candidate = config.clone();
        candidate.set_override(key.key, value.clone());
        candidate
            .validate()
            .map_err(|e| invalid(format!("{method}: {e}")))?;
        let stored = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        state
            .0
            .engine
            .store()
            .set_config_override(key.key, &stored, state.0.engine.now())
            .map_err(|e| rpc_error(-1, format!("{method}: cannot save: {e}")))?;
        let old = config.get(key.key);
        *config = candidate;
        old
    };
    state.apply_config();
    log::info!("{} changed from {old} to {value} ({method})", key.key);
    Ok(json!({"key": key.key, "old_value": old, "value": value}))
}

pub async fn revenue_config(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "revenue-config";
    let params = Params::parse(M, &params, &["action", "key", "value"])?;
    let state = p.state();
    let action = params.required_str("action", "get, set, reset or list-mutable")?;
    match action.as_str() {
        "get" => match params.str("key")? {
            Some(name) => Ok(describe(state, lookup(M, &name)?)),
            None => {
                Ok(json!({"config": KEYS.iter().map(|k| describe(state, k)).collect::<Vec<_>>()}))
            }
        },
        "set" => {
            let name = params.required_str("key", "the setting to change")?;
            let key = lookup(M, &name)?;
            let raw = params
                .raw("value")
                .ok_or_else(|| invalid(format!("{M}: `value` is required for set")))?;
            set(state, M, key, raw)
        }
        "reset" => {
            let name = params.required_str("key", "the setting to reset")?;
            let key = lookup(M, &name)?;
            {
                let mut config = state.config();
                let mut candidate = config.clone();
                candidate.clear_override(key.key);
                candidate
                    .validate()
                    .map_err(|e| invalid(format!("{M}: cannot reset: {e}")))?;
                state
                    .0
                    .engine
                    .store()
                    .delete_config_override(key.key)
                    .map_err(|e| rpc_error(-1, format!("{M}: cannot save: {e}")))?;
                *config = candidate;
            }
            state.apply_config();
            Ok(describe(state, key))
        }
        "list-mutable" => Ok(json!({
            "mutable": KEYS.iter().filter(|k| k.mutable).map(|k| json!({
                "key": k.key, "option": k.option, "description": k.description,
            })).collect::<Vec<_>>()
        })),
        other => Err(invalid(format!(
            "{M}: `action` must be get, set, reset or list-mutable, got `{other}`"
        ))),
    }
}

/// lightningd's `setconfig` for one of our dynamic options: `val` arrives as
/// a string whatever the option's type.
pub async fn setconfig(p: Plugin<State>, params: Value) -> anyhow::Result<Value> {
    const M: &str = "setconfig";
    let name = params
        .get("config")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{M}: `config` is required")))?;
    let key = lookup(M, name)?;
    let raw = params.get("val").cloned().unwrap_or(Value::Null);
    set(p.state(), M, key, &raw)?;
    Ok(json!({}))
}
