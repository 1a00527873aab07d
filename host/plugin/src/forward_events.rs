//! `forward_event` notifications: a forward that settled or failed makes
//! the plugin read new forwards shortly after, instead of only at the next
//! fee cycle, so flow analysis, reliability and `revenue-status` are fresh.
//!
//! Invariants:
//! - The handler never fails and never blocks: it only counts the event
//!   and wakes the ingestion task (lightningd waits for nobody, but a
//!   handler error would be logged as ours).
//! - Forwards are read through the same cursor as the fee cycle
//!   (`listforwards` by `created_index`), so an event is never counted
//!   twice and a lost notification loses nothing.
//! - Bursts coalesce: one read per [`INGEST_DEBOUNCE`] however many events.

use crate::state::State;
use cln_plugin::Plugin;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// Wait this long after an event before reading, to batch a burst.
pub const INGEST_DEBOUNCE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Default, Serialize)]
pub struct ForwardEventStatus {
    /// Resolved forwards (settled, failed, local_failed) lightningd told us of.
    pub received: u64,
    /// Reads of `listforwards` they caused, and the forwards those read.
    pub ingests: u64,
    pub forwards_read: u64,
    pub last_error: Option<String>,
}

pub async fn on_forward_event(plugin: Plugin<State>, params: Value) -> anyhow::Result<()> {
    let status = params["forward_event"]["status"].as_str().unwrap_or("");
    // `offered` forwards are not resolved yet: nothing to read.
    if matches!(status, "settled" | "failed" | "local_failed") {
        let state = plugin.state();
        state.forward_events().received += 1;
        state.0.forward_event_wake.notify_one();
    }
    Ok(())
}

/// The ingestion task: wakes on events, debounces, reads.
pub async fn run(state: State) {
    loop {
        state.0.forward_event_wake.notified().await;
        tokio::time::sleep(INGEST_DEBOUNCE).await;
        let result = state.0.engine.ingest_forwards_now().await;
        let mut status = state.forward_events();
        match result {
            Ok(read) => {
                status.ingests += 1;
                status.forwards_read += read as u64;
                status.last_error = None;
                log::debug!("forward_event: read {read} forward(s)");
            }
            Err(e) => {
                log::warn!("forward_event: reading new forwards failed: {e}");
                status.last_error = Some(e.to_string());
            }
        }
    }
}
