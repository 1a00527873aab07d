//! `SimLightningd`: the handle a test holds. It starts the real plugin binary
//! the way lightningd does (getmanifest → init), serves the RPC socket from
//! the shared `SimNetwork`, and drives the plugin like `lightning-cli` would.
//!
//! Invariants:
//! - `start` returns only after the plugin answered `init` (120 s per step),
//!   and only if the manifest is one lightningd accepts and the plugin did
//!   not disable itself.
//! - The lightning-dir, options and network survive `restart`; options set
//!   with `setconfig` are kept too (lightningd re-reads `config.setconfig`).
//! - Dropping the handle kills the plugin (SIGKILL) and removes the socket.

use crate::error::{INVALID_PARAMS, RpcError};
use crate::manifest::{Manifest, OptionKind, OptionSpec};
use crate::process::{PluginProcess, spawn};
use crate::rpc_server::RpcServer;
use crate::shared::{RpcOverride, Shared, reply_to_result};
use anyhow::{Context, Result, anyhow, bail};
use revops_sim::SimNetwork;
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use tokio::time::timeout;

/// The version the simulated lightningd reports (env and getinfo).
pub const LIGHTNINGD_VERSION: &str = revops_sim::SIM_LIGHTNINGD_VERSION;
/// lightningd's `PLUGIN_STARTUP_TIMEOUT`, per step.
const STARTUP_STEP_TIMEOUT: Duration = Duration::from_secs(120);
/// How long lightningd lets a plugin that got `shutdown` run before killing it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// lightningd has no command timeout; a test must not hang forever either.
const CALL_TIMEOUT: Duration = Duration::from_secs(300);
/// Time for the stdout reader to record the last messages of an exited plugin.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// The network directory name under a fresh temporary lightning root.
const NETWORK_DIR: &str = "regtest";
/// lightningd's feature bits in `init.configuration.feature_set` (as in CLN's examples).
const FEATURE_SET: [(&str, &str); 4] = [
    ("init", "800898882a8a59a1"),
    ("node", "808898882a8a59a1"),
    ("channel", ""),
    ("invoice", "02000002024100"),
];

/// How to start the simulated lightningd.
#[derive(Clone)]
pub struct LightningdConfig {
    /// The plugin executable (the real `cl-revenue-ops` binary in e2e tests).
    pub plugin_path: PathBuf,
    /// The network directory (cwd of the plugin, holds `lightning-rpc`);
    /// `None` → `<new temp dir>/regtest`, kept alive by the handle.
    pub lightning_dir: Option<PathBuf>,
    /// Plugin options the user set (`--name=value`); values may be strings or typed.
    pub options: Map<String, Value>,
    pub network: Arc<Mutex<SimNetwork>>,
}

impl LightningdConfig {
    pub fn new(plugin_path: impl Into<PathBuf>, network: Arc<Mutex<SimNetwork>>) -> Self {
        LightningdConfig {
            plugin_path: plugin_path.into(),
            lightning_dir: None,
            options: Map::new(),
            network,
        }
    }

    /// Sets one plugin option.
    pub fn option(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.options.insert(name.to_string(), value.into());
        self
    }
}

/// A running simulated lightningd with one plugin.
pub struct SimLightningd {
    // Field order is drop order: the plugin dies before the socket and the directory go.
    process: Option<PluginProcess>,
    _server: RpcServer,
    shared: Arc<Shared>,
    manifest: Value,
    lightning_dir: PathBuf,
    cli_requests: AtomicU64,
    _tempdir: Option<TempDir>,
}

impl SimLightningd {
    /// Starts lightningd's side and the plugin; returns once `init` is answered.
    pub async fn start(config: LightningdConfig) -> Result<SimLightningd> {
        let (dir, tempdir) = match config.lightning_dir {
            Some(dir) => (dir, None),
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("revops-ld-")
                    .tempdir()
                    .context("creating a temporary lightning-dir")?;
                (tmp.path().join(NETWORK_DIR), Some(tmp))
            }
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating lightning-dir {}", dir.display()))?;
        let dir = dir.canonicalize()?;
        let plugin_path = config
            .plugin_path
            .canonicalize()
            .with_context(|| format!("plugin {} not found", config.plugin_path.display()))?;
        config
            .network
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_lightning_dir(&dir.display().to_string());
        let shared = Arc::new(Shared::new(config.network, plugin_path, config.options));
        let server = RpcServer::bind(&dir.join("lightning-rpc"), shared.clone())?;
        let mut ld = SimLightningd {
            process: None,
            _server: server,
            shared,
            manifest: Value::Null,
            lightning_dir: dir,
            cli_requests: AtomicU64::new(0),
            _tempdir: tempdir,
        };
        ld.launch().await?;
        Ok(ld)
    }

    /// Spawns the plugin and runs getmanifest + init.
    async fn launch(&mut self) -> Result<()> {
        {
            let mut live = self.shared.live();
            live.shutting_down = false;
            live.manifest = None;
            live.link = None;
        }
        let process = spawn(
            &self.shared.plugin_path,
            &self.lightning_dir,
            LIGHTNINGD_VERSION,
            self.shared.recorder.clone(),
        )?;
        let link = process.link.clone();
        self.process = Some(process);

        let raw = self
            .startup_step(
                &link,
                "getmanifest",
                json!({"allow-deprecated-apis": false}),
            )
            .await?;
        let manifest = Manifest::parse(&raw).context("lightningd rejects the plugin's manifest")?;
        let options = {
            let mut live = self.shared.live();
            let options = manifest.init_options(&live.options)?;
            live.manifest = Some(manifest);
            live.link = Some(link.clone());
            options
        };
        self.manifest = raw;

        let network_name = self.shared.network().network_name().to_string();
        let feature_set: Map<String, Value> = FEATURE_SET
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let init = json!({
            "options": options,
            "configuration": {
                "lightning-dir": self.lightning_dir.display().to_string(),
                "rpc-file": "lightning-rpc",
                "startup": true,
                "network": network_name,
                "feature_set": feature_set,
            },
        });
        let answer = self.startup_step(&link, "init", init).await?;
        if let Some(reason) = answer.get("disable") {
            bail!("the plugin disabled itself in its init reply: {reason}");
        }
        Ok(())
    }

    async fn startup_step(
        &mut self,
        link: &crate::link::PluginLink,
        method: &str,
        params: Value,
    ) -> Result<Value> {
        let id = self.shared.request_id(method, None);
        match timeout(STARTUP_STEP_TIMEOUT, link.request(id, method, params)).await {
            Err(_) => Err(anyhow!(
                "the plugin did not answer `{method}` within {} s; stderr:\n{}",
                STARTUP_STEP_TIMEOUT.as_secs(),
                self.shared.recorder.stderr_tail(30)
            )),
            Ok(Err(_)) => {
                let status = match self.process.as_mut() {
                    Some(p) => timeout(DRAIN_TIMEOUT, p.child.wait())
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "unknown".to_string()),
                    None => "unknown".to_string(),
                };
                Err(anyhow!(
                    "the plugin exited ({status}) before answering `{method}`; stderr:\n{}",
                    self.shared.recorder.stderr_tail(30)
                ))
            }
            Ok(Ok(reply)) => reply_to_result(&reply)
                .map_err(|e| anyhow!("the plugin answered `{method}` with an error: {e}")),
        }
    }

    fn next_cli_id(&self, method: &str) -> String {
        let n = self.cli_requests.fetch_add(1, Ordering::Relaxed);
        format!("cli:{method}#{n}")
    }

    /// A command as `lightning-cli` sends it (object or array params). The
    /// plugin's own methods go to the plugin; others are lightningd's.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        if method == "setconfig" {
            return self.setconfig_from_params(&params).await;
        }
        let caller = self.next_cli_id(method);
        match timeout(
            CALL_TIMEOUT,
            self.shared.dispatch(method, &params, &caller, false),
        )
        .await
        {
            Ok(answer) => answer,
            Err(_) => Err(RpcError::new(
                crate::error::PLUGIN_TERMINATED,
                format!(
                    "the simulated lightningd gave up after {} s waiting for `{method}`",
                    CALL_TIMEOUT.as_secs()
                ),
            )),
        }
    }

    async fn setconfig_from_params(&self, params: &Value) -> Result<Value, RpcError> {
        let (config, val) = match params {
            Value::Object(m) => (m.get("config"), m.get("val")),
            Value::Array(a) => (a.first(), a.get(1)),
            _ => (None, None),
        };
        let config = config
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::new(INVALID_PARAMS, "missing required parameter: config"))?;
        // lightningd keeps the raw token text: a JSON number 300 arrives as "300".
        let val = match val {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        self.setconfig(config, &val).await
    }

    /// `setconfig config=<name> val=<val>` for one of the plugin's options,
    /// delivered as lightningd does (value always a string).
    pub async fn setconfig(&self, name: &str, val: &str) -> Result<Value, RpcError> {
        let (spec, link) = {
            let live = self.shared.live();
            let spec: Option<OptionSpec> =
                live.manifest.as_ref().and_then(|m| m.option(name).cloned());
            (spec, live.link.clone())
        };
        let Some(spec) = spec else {
            return Err(RpcError::new(
                INVALID_PARAMS,
                format!("Unknown config option {name}"),
            ));
        };
        if !spec.dynamic {
            return Err(RpcError::new(INVALID_PARAMS, "Not a dynamic config option"));
        }
        let link = link.ok_or_else(RpcError::plugin_terminated)?;
        let params = match (spec.kind, spec.multi) {
            (OptionKind::Flag, _) => json!({"config": name}),
            (_, true) => json!({"config": name, "val": [val]}),
            _ => json!({"config": name, "val": val}),
        };
        let caller = self.next_cli_id("setconfig");
        let id = self.shared.request_id("setconfig", Some(&caller));
        let reply = link
            .request(id, "setconfig", params)
            .await
            .map_err(|_| RpcError::plugin_terminated())?;
        reply_to_result(&reply)?;

        // Accepted: remember it as lightningd does (config.setconfig, re-read on restart).
        let stored = if spec.kind == OptionKind::Flag {
            json!(true)
        } else {
            spec.typed(&json!(val)).unwrap_or_else(|_| json!(val))
        };
        self.shared
            .live()
            .options
            .insert(name.to_string(), stored.clone());
        let line = self.append_setconfig_line(name, val);
        let source = format!("{}/config.setconfig:{line}", self.lightning_dir.display());
        let mut config = json!({"config": name});
        match (spec.kind, spec.multi, &stored) {
            (OptionKind::Flag, _, _) => config["set"] = json!(true),
            (OptionKind::Int, true, v) => config["values_int"] = v.clone(),
            (_, true, v) => config["values_str"] = v.clone(),
            (OptionKind::Int, false, v @ Value::Number(_)) => config["value_int"] = v.clone(),
            (OptionKind::Bool, false, v @ Value::Bool(_)) => config["value_bool"] = v.clone(),
            _ => config["value_str"] = json!(val),
        }
        if spec.multi {
            config["sources"] = json!([source]);
        } else {
            config["source"] = json!(source);
        }
        config["plugin"] = json!(self.shared.plugin_name());
        config["dynamic"] = json!(true);
        Ok(json!({ "config": config }))
    }

    /// Appends `name=val` to `config.setconfig`; returns its 1-based line number.
    fn append_setconfig_line(&self, name: &str, val: &str) -> usize {
        let path = self.lightning_dir.join("config.setconfig");
        let existing = std::fs::read_to_string(&path)
            .map(|s| s.lines().count())
            .unwrap_or(0);
        // The file is a courtesy for humans reading the test dir; failing to
        // write it must not fail the command.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            let _ = writeln!(f, "{name}={val}");
        }
        existing + 1
    }

    /// Sends notification `topic` (params `{topic: inner}`) if the plugin
    /// subscribed to it or to `*`; returns whether it was sent.
    pub async fn notify(&self, topic: &str, inner: Value) -> Result<bool> {
        let (subscribed, link) = {
            let live = self.shared.live();
            (
                live.manifest
                    .as_ref()
                    .is_some_and(|m| m.subscribes_to(topic)),
                live.link.clone(),
            )
        };
        if !subscribed {
            return Ok(false);
        }
        let link = link.ok_or_else(|| anyhow!("the plugin is not running"))?;
        let mut params = Map::new();
        params.insert(topic.to_string(), inner);
        link.notify(topic, Value::Object(params))
            .map_err(|_| anyhow!("the plugin's stdin is closed"))?;
        Ok(true)
    }

    /// Calls hook `name` if the plugin registered it (else answers
    /// `continue` as lightningd would). An error reply or a reply without
    /// `result` is fatal in lightningd: it is recorded as a violation and
    /// returned as an error.
    pub async fn hook(&self, name: &str, params: Value) -> Result<Value> {
        let (registered, link) = {
            let live = self.shared.live();
            (
                live.manifest
                    .as_ref()
                    .is_some_and(|m| m.hooks.iter().any(|h| h == name)),
                live.link.clone(),
            )
        };
        if !registered {
            return Ok(json!({"result": "continue"}));
        }
        let link = link.ok_or_else(|| anyhow!("the plugin is not running"))?;
        let id = self.shared.request_id(name, None);
        let reply = link
            .request(id, name, params)
            .await
            .map_err(|_| anyhow!("the plugin died during hook `{name}`"))?;
        let fatal = match (reply.get("error"), reply.get("result")) {
            (Some(e), _) => Some(format!(
                "hook `{name}` answered with an error {e}: lightningd would call fatal()"
            )),
            (None, Some(r)) if r.is_object() => None,
            _ => Some(format!(
                "hook `{name}` reply has no result object ({reply}): lightningd would call fatal()"
            )),
        };
        if let Some(what) = fatal {
            self.shared.recorder.violation(what.clone());
            bail!(what);
        }
        Ok(reply["result"].clone())
    }

    /// lightningd shutting down: `shutdown` if subscribed, up to 30 s to exit, then kill.
    pub async fn stop(&mut self) -> Result<ExitStatus> {
        let Some(mut process) = self.process.take() else {
            bail!("the plugin is not running");
        };
        let subscribed = {
            let mut live = self.shared.live();
            live.shutting_down = true;
            live.manifest
                .as_ref()
                .is_some_and(|m| m.subscribes_to("shutdown"))
        };
        let status = match process.child.try_wait()? {
            Some(status) => status,
            None if subscribed => {
                let _ = process.link.notify("shutdown", json!({"shutdown": {}}));
                match timeout(SHUTDOWN_GRACE, process.child.wait()).await {
                    Ok(status) => status?,
                    Err(_) => {
                        process.child.kill().await?;
                        process.child.wait().await?
                    }
                }
            }
            None => {
                process.child.kill().await?;
                process.child.wait().await?
            }
        };
        self.finish(process).await;
        Ok(status)
    }

    /// Records the plugin's last messages and forgets its link.
    async fn finish(&mut self, mut process: PluginProcess) {
        let _ = timeout(DRAIN_TIMEOUT, &mut process.reader).await;
        process.link.close();
        self.shared.live().link = None;
    }

    /// lightningd restarting: stop, then start again with the same
    /// lightning-dir, options (setconfig'd values included) and network.
    pub async fn restart(&mut self) -> Result<()> {
        if self.process.is_some() {
            self.stop().await?;
        }
        self.launch().await
    }

    /// Whether the plugin process is still alive.
    pub fn is_running(&mut self) -> bool {
        self.process
            .as_mut()
            .is_some_and(|p| matches!(p.child.try_wait(), Ok(None)))
    }

    /// SIGKILL, for crash-recovery tests; `restart` brings the plugin back.
    pub async fn kill9(&mut self) -> Result<ExitStatus> {
        let Some(mut process) = self.process.take() else {
            bail!("the plugin is not running");
        };
        // tokio's kill is SIGKILL on unix: no chance to clean up, like `kill -9`.
        process.child.start_kill()?;
        let status = process.child.wait().await?;
        self.finish(process).await;
        Ok(status)
    }

    /// The plugin's `getmanifest` result.
    pub fn manifest(&self) -> &Value {
        &self.manifest
    }

    /// Every call the plugin made on the RPC socket (method, params), in order.
    pub fn rpc_calls(&self) -> Vec<(String, Value)> {
        self.shared.recorder.rpc_calls()
    }

    /// The plugin's `log` notifications (level, message), in order.
    pub fn logs(&self) -> Vec<(String, String)> {
        self.shared.recorder.logs()
    }

    /// Wait (up to `timeout`) until a log line matches; the plugin's log
    /// notifications travel on stdout independently of RPC answers, so a
    /// line may land just after the answer to the call that caused it.
    pub async fn wait_for_log(
        &self,
        timeout: std::time::Duration,
        matches: impl Fn(&str, &str) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self
                .logs()
                .iter()
                .any(|(level, message)| matches(level, message))
            {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Everything lightningd would have killed the plugin (or itself) for; tests assert it is empty.
    pub fn protocol_violations(&self) -> Vec<String> {
        self.shared.recorder.violations()
    }

    /// Other notifications the plugin sent (method, params): custom topics, `message`, `progress`.
    pub fn plugin_notifications(&self) -> Vec<(String, Value)> {
        self.shared.recorder.notifications()
    }

    /// What the plugin wrote to stderr (most recent 2,000 lines).
    pub fn plugin_stderr(&self) -> Vec<String> {
        self.shared.recorder.stderr()
    }

    pub fn lightning_dir(&self) -> &Path {
        &self.lightning_dir
    }

    pub fn network(&self) -> Arc<Mutex<SimNetwork>> {
        self.shared.network.clone()
    }

    /// Current user-set option values (config, then setconfig).
    pub fn options(&self) -> Map<String, Value> {
        self.shared.live().options.clone()
    }

    /// Answers methods before the built-in handling (e.g. simulated sling or
    /// bookkeeper methods); return `None` to decline a method.
    pub fn set_rpc_override(&self, handler: Option<RpcOverride>) {
        self.shared.live().rpc_override = handler;
    }
}
