//! State shared by the handle, the RPC socket server and the pipe tasks, and
//! the routing of one JSON-RPC command (what lightningd does with a request).
//!
//! Invariants:
//! - No lock is held across an `.await`: the network mutex is taken only
//!   around synchronous `handle_rpc` calls.
//! - A command for one of the plugin's own methods goes to the plugin; any
//!   other command is answered by the simulated network, with lightningd's
//!   additions (`plugin list` shows this plugin, `listconfigs` its options).

use crate::error::{LIGHTNINGD_SHUTDOWN, RpcError};
use crate::link::PluginLink;
use crate::manifest::{Manifest, OptionKind};
use crate::record::Recorder;
use revops_sim::{SimNetwork, SimRpcError};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Answers (or declines, with `None`) a method before the built-in handling;
/// lets a test add methods such as sling's or bookkeeper's.
pub type RpcOverride =
    Arc<dyn Fn(&mut SimNetwork, &str, &Value) -> Option<Result<Value, SimRpcError>> + Send + Sync>;

/// What changes as the plugin starts, stops and is reconfigured.
#[derive(Default)]
pub(crate) struct Live {
    pub(crate) link: Option<PluginLink>,
    pub(crate) manifest: Option<Manifest>,
    /// User-set option values (from the config, then from setconfig).
    pub(crate) options: Map<String, Value>,
    pub(crate) shutting_down: bool,
    pub(crate) rpc_override: Option<RpcOverride>,
}

pub(crate) struct Shared {
    pub(crate) network: Arc<Mutex<SimNetwork>>,
    pub(crate) recorder: Arc<Recorder>,
    pub(crate) live: Mutex<Live>,
    pub(crate) plugin_path: PathBuf,
    next_id: AtomicU64,
}

impl Shared {
    pub(crate) fn new(
        network: Arc<Mutex<SimNetwork>>,
        plugin_path: PathBuf,
        options: Map<String, Value>,
    ) -> Self {
        Shared {
            network,
            recorder: Arc::new(Recorder::new()),
            live: Mutex::new(Live {
                options,
                ..Live::default()
            }),
            plugin_path,
            next_id: AtomicU64::new(0),
        }
    }

    pub(crate) fn live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn network(&self) -> MutexGuard<'_, SimNetwork> {
        self.network.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// lightningd's own request id: `cln:<method>#<n>`, optionally after the
    /// id of the command that caused it.
    pub(crate) fn request_id(&self, method: &str, caused_by: Option<&str>) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        match caused_by {
            Some(prefix) => format!("{prefix}/cln:{method}#{n}"),
            None => format!("cln:{method}#{n}"),
        }
    }

    pub(crate) fn plugin_name(&self) -> String {
        self.plugin_path.display().to_string()
    }

    /// Routes one command as lightningd would. `caller_id` prefixes the id
    /// of a request forwarded to the plugin; `from_plugin` marks calls the
    /// plugin made on the RPC socket (refused with -5 while shutting down).
    pub(crate) async fn dispatch(
        &self,
        method: &str,
        params: &Value,
        caller_id: &str,
        from_plugin: bool,
    ) -> Result<Value, RpcError> {
        let (link, is_plugin_method, override_fn) = {
            let live = self.live();
            if from_plugin && live.shutting_down {
                return Err(RpcError::new(
                    LIGHTNINGD_SHUTDOWN,
                    "lightningd is shutting down",
                ));
            }
            let is_plugin_method = live.manifest.as_ref().is_some_and(|m| m.has_method(method));
            (
                live.link.clone(),
                is_plugin_method,
                live.rpc_override.clone(),
            )
        };
        if let Some(f) = override_fn
            && let Some(answer) = f(&mut self.network(), method, params)
        {
            return answer.map_err(RpcError::from);
        }
        if is_plugin_method {
            let link = link.ok_or_else(RpcError::plugin_terminated)?;
            let id = self.request_id(method, Some(caller_id));
            let reply = link
                .request(id, method, params.clone())
                .await
                .map_err(|_| RpcError::plugin_terminated())?;
            return reply_to_result(&reply);
        }
        match method {
            "plugin" => {
                let mut answer = self.network().handle_rpc(method, params)?;
                if let Some(list) = answer.get_mut("plugins").and_then(Value::as_array_mut) {
                    let dynamic = self.live().manifest.as_ref().is_some_and(|m| m.dynamic);
                    list.push(
                        json!({"name": self.plugin_name(), "active": true, "dynamic": dynamic}),
                    );
                }
                Ok(answer)
            }
            "listconfigs" => self.listconfigs(params),
            _ => Ok(self.network().handle_rpc(method, params)?),
        }
    }

    /// lightningd's `listconfigs` includes every plugin option, marked with the plugin.
    fn listconfigs(&self, params: &Value) -> Result<Value, RpcError> {
        let ours = self.plugin_config_entries();
        let wanted = match params {
            Value::Object(m) => m.get("config").and_then(Value::as_str),
            Value::Array(a) => a.first().and_then(Value::as_str),
            _ => None,
        };
        if let Some(name) = wanted
            && let Some(entry) = ours.get(name)
        {
            return Ok(json!({"configs": {name: entry}}));
        }
        let mut answer = self.network().handle_rpc("listconfigs", params)?;
        if wanted.is_none()
            && let Some(configs) = answer.get_mut("configs").and_then(Value::as_object_mut)
        {
            configs.extend(ours);
        }
        Ok(answer)
    }

    /// `listconfigs` entries for the plugin's options that have a value.
    pub(crate) fn plugin_config_entries(&self) -> Map<String, Value> {
        let live = self.live();
        let Some(manifest) = live.manifest.as_ref() else {
            return Map::new();
        };
        let Ok(values) = manifest.init_options(&live.options) else {
            return Map::new();
        };
        let mut out = Map::new();
        for spec in &manifest.options {
            let Some(value) = values.get(&spec.name) else {
                continue;
            };
            let source = if live.options.contains_key(&spec.name) {
                "cmdline"
            } else {
                "default"
            };
            let mut entry = match (spec.kind, spec.multi) {
                (OptionKind::Flag, _) => json!({"set": true, "source": source}),
                (OptionKind::Int, true) => json!({"values_int": value, "sources": [source]}),
                (_, true) => json!({"values_str": value, "sources": [source]}),
                (OptionKind::Int, false) => json!({"value_int": value, "source": source}),
                (OptionKind::Bool, false) => json!({"value_bool": value, "source": source}),
                (OptionKind::StringConceal, false) => json!({"value_str": "...", "source": source}),
                (OptionKind::String, false) => json!({"value_str": value, "source": source}),
            };
            entry["plugin"] = json!(self.plugin_name());
            if spec.dynamic {
                entry["dynamic"] = json!(true);
            }
            out.insert(spec.name.clone(), entry);
        }
        out
    }
}

/// A JSON-RPC reply message as `Ok(result)` / `Err(error)`.
pub(crate) fn reply_to_result(reply: &Value) -> Result<Value, RpcError> {
    if let Some(error) = reply.get("error") {
        return Err(RpcError::from_json(error));
    }
    reply
        .get("result")
        .cloned()
        .ok_or_else(|| RpcError::new(-1, format!("reply without result or error: {reply}")))
}
