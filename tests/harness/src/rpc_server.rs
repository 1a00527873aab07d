//! lightningd's JSON-RPC 2.0 server on `<lightning-dir>/lightning-rpc`.
//!
//! Invariants:
//! - Same `"\n\n"` framing as the plugin pipes; one reply per request, in
//!   order, on the connection that asked (cln-rpc takes the next message as
//!   its answer); any number of connections.
//! - Every request is recorded (method + params) before it is answered.
//! - The socket file is removed when the server is dropped.

use crate::framing::{Frame, FrameReader, encode};
use crate::shared::Shared;
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

pub(crate) struct RpcServer {
    task: JoinHandle<()>,
    path: PathBuf,
}

impl Drop for RpcServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

impl RpcServer {
    pub(crate) fn bind(path: &Path, shared: Arc<Shared>) -> Result<RpcServer> {
        // A stale socket from an earlier (killed) run would make bind fail.
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)
            .with_context(|| format!("binding the RPC socket {}", path.display()))?;
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_connection(stream, shared.clone()));
            }
        });
        Ok(RpcServer {
            task,
            path: path.to_path_buf(),
        })
    }
}

async fn serve_connection(stream: UnixStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut frames = FrameReader::new(read);
    while let Ok(Some(frame)) = frames.next_frame().await {
        let bytes = match frame {
            Frame::Complete(b) | Frame::Unterminated(b) => b,
        };
        let Some(reply) = answer(&shared, &bytes).await else {
            continue;
        };
        if write.write_all(&encode(&reply)).await.is_err() {
            break;
        }
    }
}

/// The reply to one framed request (`None` for whitespace or a notification).
async fn answer(shared: &Shared, bytes: &[u8]) -> Option<Value> {
    let text = String::from_utf8_lossy(bytes);
    if text.trim().is_empty() {
        return None;
    }
    let request: Value = match serde_json::from_str(text.trim()) {
        Ok(v) => v,
        Err(e) => {
            return Some(json!({"jsonrpc": "2.0", "id": null,
                "error": {"code": -32600, "message": format!("Invalid JSON: {e}")}}));
        }
    };
    let id = request.get("id").cloned()?;
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return Some(json!({"jsonrpc": "2.0", "id": id,
            "error": {"code": -32600, "message": "method must be a string"}}));
    };
    let params = request.get("params").cloned().unwrap_or(json!({}));
    shared.recorder.rpc_call(method, &params);
    let caller = crate::process::id_key(&id);
    Some(
        match shared.dispatch(method, &params, &caller, true).await {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(e) => json!({"jsonrpc": "2.0", "id": id, "error": e.to_json()}),
        },
    )
}
