//! Incremental forward ingestion: `listforwards` paged by `created_index`
//! from where the store's cursor stopped.

use crate::EngineError;
use revops_core::Node;
use revops_store::Store;

/// Forwards requested per `listforwards` call.
pub const FORWARDS_PAGE_SIZE: u32 = 1000;

/// Read every forward lightningd has beyond the cursor. Returns how many
/// entries were read.
pub(crate) async fn ingest_forwards<N: Node>(
    node: &N,
    store: &Store,
) -> Result<usize, EngineError> {
    let mut read = 0;
    loop {
        let cursor = store.forwards_cursor()?;
        let page = node.list_forwards(cursor, FORWARDS_PAGE_SIZE).await?;
        if page.is_empty() {
            break;
        }
        read += page.len();
        let next = store.ingest_forwards(&page)?;
        // A short page is the end; a cursor that did not move is parked on an
        // unresolved forward, which will be read again next cycle.
        if page.len() < FORWARDS_PAGE_SIZE as usize || next == cursor {
            break;
        }
    }
    Ok(read)
}

impl<N: Node, C: revops_core::Clock> crate::FeeEngine<N, C> {
    /// Read new forwards now (on `forward_event`), between fee cycles. A
    /// running cycle ingests by itself, so this yields to it and reads
    /// nothing. Returns how many entries were read.
    pub async fn ingest_forwards_now(&self) -> Result<usize, EngineError> {
        let Ok(_no_cycle_running) = self.cycle_lock.try_lock() else {
            return Ok(0);
        };
        ingest_forwards(self.node.as_ref(), &self.store).await
    }
}
