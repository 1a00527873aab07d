//! Spawning the plugin exactly as lightningd does, and the three pipe tasks:
//! stdin writer, stdout reader (the protocol-violation detector) and stderr
//! collector.
//!
//! Invariants:
//! - cwd = lightning-dir, env `LIGHTNINGD_PLUGIN=1` and `LIGHTNINGD_VERSION`.
//! - Everything on stdout must be a `"\n\n"`-framed JSON-RPC 2.0 message;
//!   anything else is recorded as a violation (lightningd would kill the plugin).
//! - When stdout ends, the link is closed so no request waits forever.

use crate::framing::{Frame, FrameReader};
use crate::link::PluginLink;
use crate::record::Recorder;
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub(crate) struct PluginProcess {
    pub(crate) child: Child,
    pub(crate) link: PluginLink,
    /// Ends when the plugin's stdout closes (all its messages recorded).
    pub(crate) reader: JoinHandle<()>,
    stderr_task: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        self.reader.abort();
        self.stderr_task.abort();
        self.writer.abort();
    }
}

pub(crate) fn spawn(
    plugin_path: &Path,
    lightning_dir: &Path,
    version: &str,
    recorder: Arc<Recorder>,
) -> Result<PluginProcess> {
    let mut child = Command::new(plugin_path)
        .current_dir(lightning_dir)
        .env("LIGHTNINGD_PLUGIN", "1")
        .env("LIGHTNINGD_VERSION", version)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning plugin {}", plugin_path.display()))?;
    let mut stdin = child.stdin.take().context("plugin stdin")?;
    let stdout = child.stdout.take().context("plugin stdout")?;
    let stderr = child.stderr.take().context("plugin stderr")?;

    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let link = PluginLink::new(tx);
    let writer = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if stdin.write_all(&bytes).await.is_err() || stdin.flush().await.is_err() {
                break;
            }
        }
        // Dropping stdin here gives the plugin EOF once every link is gone.
    });

    let reader_link = link.clone();
    let reader_recorder = recorder.clone();
    let reader = tokio::spawn(async move {
        let mut frames = FrameReader::new(stdout);
        loop {
            match frames.next_frame().await {
                Ok(Some(Frame::Complete(bytes))) => {
                    on_stdout_message(&bytes, &reader_link, &reader_recorder)
                }
                Ok(Some(Frame::Unterminated(bytes))) => reader_recorder.violation(format!(
                    "plugin stdout ended inside a message (no \"\\n\\n\"): {}",
                    preview(&bytes)
                )),
                Ok(None) => break,
                Err(e) => {
                    reader_recorder.violation(format!("reading plugin stdout failed: {e}"));
                    break;
                }
            }
        }
        reader_link.close();
    });

    let stderr_recorder = recorder;
    let stderr_task = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            stderr_recorder.stderr_line(&line);
        }
    });

    Ok(PluginProcess {
        child,
        link,
        reader,
        stderr_task,
        writer,
    })
}

fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text.to_string()
    }
}

/// The string form of a JSON-RPC id, for matching.
pub(crate) fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Classifies one message from the plugin's stdout.
fn on_stdout_message(bytes: &[u8], link: &PluginLink, recorder: &Recorder) {
    let text = String::from_utf8_lossy(bytes);
    if text.trim().is_empty() {
        // lightningd's parser skips whitespace between messages.
        return;
    }
    let msg: Value = match serde_json::from_str(text.trim()) {
        Ok(v) => v,
        Err(e) => {
            recorder.violation(format!(
                "plugin wrote something that is not JSON to stdout ({e}): {}",
                preview(bytes)
            ));
            return;
        }
    };
    let Some(obj) = msg.as_object() else {
        recorder.violation(format!(
            "plugin stdout message is not an object: {}",
            preview(bytes)
        ));
        return;
    };
    if obj.get("jsonrpc") != Some(&json!("2.0")) {
        recorder.violation(format!(
            "plugin stdout message does not contain jsonrpc field \"2.0\": {}",
            preview(bytes)
        ));
        return;
    }
    match (obj.get("id"), obj.get("method")) {
        (Some(id), None) => {
            if obj.contains_key("result") == obj.contains_key("error") {
                recorder.violation(format!(
                    "reply must carry exactly one of result/error: {}",
                    preview(bytes)
                ));
            }
            let key = id_key(id);
            if !link.deliver(&key, msg.clone()) {
                recorder.violation(format!("reply to an id lightningd never sent: {key}"));
            }
        }
        (None, Some(Value::String(method))) => {
            let params = obj.get("params").cloned().unwrap_or(Value::Null);
            if method == "log" {
                let level = params.get("level").and_then(Value::as_str).unwrap_or("info");
                let message = params.get("message").and_then(Value::as_str).unwrap_or("");
                recorder.log(level, message);
            } else {
                recorder.notification(method, &params);
            }
        }
        (Some(_), Some(_)) => recorder.violation(format!(
            "plugin sent a request on stdout (lightningd takes requests only on the RPC socket): {}",
            preview(bytes)
        )),
        _ => recorder.violation(format!(
            "plugin stdout message is neither a reply nor a notification: {}",
            preview(bytes)
        )),
    }
}
