//! Requests and notifications to the plugin over its stdin, and matching the
//! replies that come back on its stdout.
//!
//! Invariants:
//! - Once the plugin's stdout has ended (`close`), every waiting request and
//!   every later one fails at once: nothing waits for a dead plugin.
//! - Replies are matched by id; the reader, not this module, flags replies
//!   with an unknown id.

use crate::framing::encode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, Default)]
struct Pending {
    waiting: HashMap<String, oneshot::Sender<Value>>,
    closed: bool,
}

/// The plugin's end of the conversation (cheap to clone).
#[derive(Debug, Clone)]
pub(crate) struct PluginLink {
    stdin: mpsc::UnboundedSender<Vec<u8>>,
    pending: Arc<Mutex<Pending>>,
}

/// The plugin ended before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

impl PluginLink {
    pub(crate) fn new(stdin: mpsc::UnboundedSender<Vec<u8>>) -> Self {
        PluginLink {
            stdin,
            pending: Arc::new(Mutex::new(Pending::default())),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends a request and waits for the whole reply message.
    pub(crate) async fn request(
        &self,
        id: String,
        method: &str,
        params: Value,
    ) -> Result<Value, Closed> {
        let (tx, rx) = oneshot::channel();
        {
            let mut p = self.pending();
            if p.closed {
                return Err(Closed);
            }
            p.waiting.insert(id.clone(), tx);
        }
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        if self.stdin.send(encode(&msg)).is_err() {
            self.pending().waiting.remove(&id);
            return Err(Closed);
        }
        rx.await.map_err(|_| Closed)
    }

    /// Sends a notification (no id, no reply).
    pub(crate) fn notify(&self, method: &str, params: Value) -> Result<(), Closed> {
        let msg = json!({"jsonrpc": "2.0", "method": method, "params": params});
        self.stdin.send(encode(&msg)).map_err(|_| Closed)
    }

    /// Hands a reply to its waiter; `false` if nobody asked for this id.
    pub(crate) fn deliver(&self, id: &str, reply: Value) -> bool {
        match self.pending().waiting.remove(id) {
            Some(tx) => {
                // The waiter may have given up (timeout); that is not an error.
                let _ = tx.send(reply);
                true
            }
            None => false,
        }
    }

    /// The plugin is gone: fail everything waiting now and later.
    pub(crate) fn close(&self) {
        let mut p = self.pending();
        p.closed = true;
        // Dropping the senders wakes every waiter with `Closed`.
        p.waiting.clear();
    }
}
