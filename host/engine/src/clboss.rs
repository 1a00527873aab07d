//! Working beside CLBoss: before the plugin sets a peer's fee it asks CLBoss
//! to stop managing that peer's fees (`clboss-unmanage <peer> lnfee`), once,
//! and remembers it; `revenue-remanage` hands the peer back.
//!
//! Invariant: with no CLBoss running nothing is called; a failed
//! `clboss-unmanage` is logged and asked again next time.

use crate::{EngineError, FeeEngine};
use revops_core::{Clock, Node};
use revops_store::ClbossUnmanaged;
use serde::Serialize;
use std::collections::HashSet;

/// CLBoss's tag for channel fees.
pub const FEE_TAG: &str = "lnfee";

#[derive(Debug, Clone, Serialize)]
pub struct ClbossStatus {
    pub present: bool,
    pub unmanaged: Vec<ClbossUnmanaged>,
}

fn is_clboss(plugin_path: &str) -> bool {
    plugin_path
        .rsplit('/')
        .next()
        .is_some_and(|name| name == "clboss" || name.starts_with("clboss."))
}

impl<N: Node, C: Clock> FeeEngine<N, C> {
    /// Whether CLBoss runs. If lightningd cannot say, the answer is no (and
    /// a warning): fee management goes on rather than stopping.
    async fn clboss_present(&self) -> bool {
        match self.node.plugin_names().await {
            Ok(names) => names.iter().any(|n| is_clboss(n)),
            Err(e) => {
                log::warn!("cannot list plugins to look for CLBoss: {e}");
                false
            }
        }
    }

    /// Take `tag` over from CLBoss for these peers (no-op without CLBoss).
    pub(crate) async fn take_from_clboss(
        &self,
        peers: &[&str],
        tag: &str,
    ) -> Result<(), EngineError> {
        if peers.is_empty() || !self.clboss_present().await {
            return Ok(());
        }
        let done: HashSet<(String, String)> = self
            .store
            .clboss_unmanaged()?
            .into_iter()
            .map(|u| (u.peer_id, u.tag))
            .collect();
        let now = self.clock.now_secs();
        for peer in peers {
            if done.contains(&(peer.to_string(), tag.to_string())) {
                continue;
            }
            let mut tags: Vec<&str> = done
                .iter()
                .filter(|(p, _)| p == peer)
                .map(|(_, t)| t.as_str())
                .collect();
            tags.push(tag);
            match self.node.clboss_unmanage(peer, &tags.join(",")).await {
                Ok(()) => {
                    log::info!("took {tag} for peer {peer} over from CLBoss");
                    self.store.record_clboss_unmanaged(peer, tag, now)?;
                }
                Err(e) => log::warn!("clboss-unmanage {peer} {tag} failed: {e}"),
            }
        }
        Ok(())
    }

    pub async fn clboss_status(&self) -> Result<ClbossStatus, EngineError> {
        Ok(ClbossStatus {
            present: self.clboss_present().await,
            unmanaged: self.store.clboss_unmanaged()?,
        })
    }

    /// Hand `tag` (or every tag) for `peer_id` back to CLBoss.
    pub async fn remanage(
        &self,
        peer_id: &str,
        tag: Option<&str>,
    ) -> Result<ClbossStatus, EngineError> {
        let keep: Vec<String> = self
            .store
            .clboss_unmanaged()?
            .into_iter()
            .filter(|u| u.peer_id == peer_id && tag.is_some_and(|t| t != u.tag))
            .map(|u| u.tag)
            .collect();
        if self.clboss_present().await {
            self.node.clboss_unmanage(peer_id, &keep.join(",")).await?;
        }
        self.store.forget_clboss_unmanaged(peer_id, tag)?;
        self.clboss_status().await
    }
}

#[cfg(test)]
mod tests {
    use super::is_clboss;

    #[test]
    fn clboss_is_recognised_by_its_file_name() {
        assert!(is_clboss("/usr/local/libexec/c-lightning/plugins/clboss"));
        assert!(is_clboss("clboss"));
        assert!(!is_clboss("/plugins/not-clboss"));
        assert!(!is_clboss("/plugins/cl-revenue-ops"));
    }
}
