//! Decayed peer reputation: how reliably the forwards a peer sends us
//! settle, with old evidence fading away.
//!
//! Each [`Store::update_reputation`] (the engine calls it once per
//! flow-analysis cycle) first multiplies every peer's two scores by `decay`,
//! then adds 1 per forward stored since the previous call: `settled` adds to
//! the success score, `failed` (failed downstream) to the failure score.
//! `local_failed` is our own failure (no route, our limits) and never counts
//! against the peer; `offered` is not final yet and waits. A forward is
//! attributed to the peer of its *incoming* channel.
//!
//! With decay `d` per cycle, an outcome counted `n` cycles ago weighs `dⁿ`:
//! at the default 0.98 per hourly cycle, evidence halves in about 34 hours
//! and the steady-state total is about 50 cycles' worth of forwards.
//!
//! Invariants:
//! - Decay, credit and the cursor move are one transaction: a crash leaves
//!   all of them or none, so decay is applied exactly once per call.
//! - The cursor is a `created_index` (`ingest_cursors` row
//!   `reputation.created`) that only follows the forward-ingestion cursor.
//!   Below that cursor every stored forward is final and never re-read, so
//!   each final forward is counted exactly once — provided an update runs
//!   before the forward is pruned (the flow cycle updates, then prunes).
//! - A forward whose incoming channel has no known peer is passed over for
//!   good and reported as `unattributed`. Channel → peer mappings are kept
//!   (`channel_peers`) after the channel closes, so a closed channel's last
//!   forwards are still attributed.
//! - Scores are never negative. A peer whose total evidence decays below
//!   [`FORGET_BELOW`] is forgotten (its score was ≈ 0.5 anyway).

use crate::forwards::{FORWARDS_CURSOR, read_cursor, write_cursor};
use crate::{Store, StoreError, from_sql_u64, to_sql_i64};
use rusqlite::params;
use serde::Serialize;
use std::collections::HashMap;

const REPUTATION_CURSOR: &str = "reputation.created";
/// Total evidence (decayed forwards) below which a peer is forgotten.
pub const FORGET_BELOW: f64 = 1e-3;

/// One peer's decayed evidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PeerReputation {
    /// Decayed count of its forwards that settled.
    pub success_score: f64,
    /// Decayed count of its forwards that failed downstream.
    pub failure_score: f64,
    /// When the row was last decayed or credited (unix seconds).
    pub updated_at: u64,
}

impl PeerReputation {
    /// The Laplace-smoothed success probability
    /// `(success + 1) / (success + failure + 2)`: a peer without evidence is
    /// 0.5, and a handful of forwards moves it only part of the way to
    /// their raw ratio. Always in (0, 1).
    pub fn score(&self) -> f64 {
        (self.success_score + 1.0) / (self.total() + 2.0)
    }

    /// How much evidence the score rests on: decayed forwards counted.
    pub fn total(&self) -> f64 {
        self.success_score + self.failure_score
    }
}

/// What one [`Store::update_reputation`] did.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ReputationUpdate {
    /// The factor every score was multiplied by (after clamping to [0, 1]).
    pub decay: f64,
    /// Peers whose row was decayed or credited.
    pub peers_updated: u64,
    /// Peers credited with at least one new outcome.
    pub peers_credited: u64,
    pub settled_counted: u64,
    pub failed_counted: u64,
    /// Settled or failed forwards passed over: their incoming channel's
    /// peer is unknown.
    pub unattributed: u64,
    /// Peers dropped because their evidence decayed below [`FORGET_BELOW`].
    pub peers_forgotten: u64,
    /// Forwards with a `created_index` below this have been counted.
    pub cursor: u64,
}

impl Store {
    /// Decay every peer's scores by `decay` (clamped to [0, 1]; not finite
    /// means no decay), then credit the outcomes of the forwards ingested
    /// since the last call to the peers of their incoming channels.
    /// `channel_peers` (short channel id → peer id, from the live channel
    /// list) is remembered first, so closed channels stay attributable.
    pub fn update_reputation(
        &self,
        decay: f64,
        channel_peers: &HashMap<String, String>,
        now: u64,
    ) -> Result<ReputationUpdate, StoreError> {
        let decay = if decay.is_finite() {
            decay.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let now = to_sql_i64(now, "now")?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut remember = tx.prepare_cached(
                "INSERT INTO channel_peers (short_channel_id, peer_id) VALUES (?1, ?2)
                 ON CONFLICT (short_channel_id) DO UPDATE SET peer_id = excluded.peer_id",
            )?;
            for (scid, peer) in channel_peers {
                remember.execute(params![scid, peer])?;
            }
        }
        let from = read_cursor(&tx, REPUTATION_CURSOR)?;
        let until = read_cursor(&tx, FORWARDS_CURSOR)?.max(from);

        tx.execute(
            "UPDATE peer_reputation SET success_score = success_score * ?1,
                                        failure_score = failure_score * ?1, updated_at = ?2",
            params![decay, now],
        )?;

        let credits: Vec<(String, i64, i64)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT cp.peer_id, SUM(f.status = 'settled'), SUM(f.status = 'failed')
                   FROM forwards f JOIN channel_peers cp ON cp.short_channel_id = f.in_channel
                  WHERE f.created_index >= ?1 AND f.created_index < ?2
                    AND f.status IN ('settled', 'failed')
                  GROUP BY cp.peer_id",
            )?;
            stmt.query_map(params![from, until], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?
        };
        let mut update = ReputationUpdate {
            decay,
            peers_credited: credits.len() as u64,
            cursor: from_sql_u64(until),
            ..ReputationUpdate::default()
        };
        {
            let mut credit = tx.prepare_cached(
                "INSERT INTO peer_reputation (peer_id, success_score, failure_score, updated_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (peer_id) DO UPDATE SET
                   success_score = success_score + excluded.success_score,
                   failure_score = failure_score + excluded.failure_score,
                   updated_at = excluded.updated_at",
            )?;
            for (peer, settled, failed) in &credits {
                credit.execute(params![peer, *settled as f64, *failed as f64, now])?;
                update.settled_counted += from_sql_u64(*settled);
                update.failed_counted += from_sql_u64(*failed);
            }
        }
        update.unattributed = from_sql_u64(tx.query_row(
            "SELECT COUNT(*) FROM forwards f
              WHERE f.created_index >= ?1 AND f.created_index < ?2
                AND f.status IN ('settled', 'failed')
                AND NOT EXISTS (SELECT 1 FROM channel_peers cp
                                 WHERE cp.short_channel_id = f.in_channel)",
            params![from, until],
            |r| r.get(0),
        )?);
        update.peers_updated =
            from_sql_u64(tx.query_row("SELECT COUNT(*) FROM peer_reputation", [], |r| r.get(0))?);
        update.peers_forgotten = tx.execute(
            "DELETE FROM peer_reputation WHERE success_score + failure_score < ?1",
            params![FORGET_BELOW],
        )? as u64;
        write_cursor(&tx, REPUTATION_CURSOR, until)?;
        tx.commit()?;
        Ok(update)
    }

    /// Every remembered peer's reputation, by peer id. A peer missing here
    /// has no evidence: its score is 0.5.
    pub fn peer_reputations(&self) -> Result<HashMap<String, PeerReputation>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT peer_id, success_score, failure_score, updated_at FROM peer_reputation",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                PeerReputation {
                    success_score: r.get(1)?,
                    failure_score: r.get(2)?,
                    updated_at: from_sql_u64(r.get(3)?),
                },
            ))
        })?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use revops_core::{ForwardRecord, ForwardStatus, Msat};

    const PEER_A: &str = "peer-a";
    const PEER_B: &str = "peer-b";

    fn forward(index: u64, in_channel: &str, status: ForwardStatus) -> ForwardRecord {
        let resolved = 1_000 + index;
        ForwardRecord {
            created_index: index,
            in_channel: in_channel.into(),
            out_channel: Some("9x9x9".into()),
            in_msat: Msat(1_001_000),
            out_msat: Some(Msat(1_000_000)),
            fee_msat: Some(Msat(1_000)),
            status,
            received_time: resolved - 1,
            resolved_time: (status != ForwardStatus::Offered).then_some(resolved),
        }
    }

    fn peers() -> HashMap<String, String> {
        [("1x1x1", PEER_A), ("2x2x2", PEER_B)]
            .into_iter()
            .map(|(scid, peer)| (scid.to_string(), peer.to_string()))
            .collect()
    }

    fn rep(store: &Store, peer: &str) -> PeerReputation {
        store.peer_reputations().unwrap()[peer]
    }

    #[test]
    fn an_unknown_peer_scores_one_half_and_evidence_moves_it_part_way() {
        let none = PeerReputation {
            success_score: 0.0,
            failure_score: 0.0,
            updated_at: 0,
        };
        assert_eq!((none.score(), none.total()), (0.5, 0.0));
        let good = PeerReputation {
            success_score: 8.0,
            ..none
        };
        assert_eq!(good.score(), 0.9);
        let bad = PeerReputation {
            failure_score: 2.0,
            ..none
        };
        assert_eq!(bad.score(), 0.25);
    }

    #[test]
    fn outcomes_are_credited_to_the_incoming_peer_and_local_failures_ignored() {
        let store = Store::open_in_memory().unwrap();
        store
            .ingest_forwards(&[
                forward(0, "1x1x1", ForwardStatus::Settled),
                forward(1, "1x1x1", ForwardStatus::Failed),
                forward(2, "1x1x1", ForwardStatus::LocalFailed),
                forward(3, "2x2x2", ForwardStatus::Settled),
                forward(4, "7x7x7", ForwardStatus::Settled),
            ])
            .unwrap();
        let update = store.update_reputation(0.98, &peers(), 100).unwrap();
        assert_eq!(
            (update.settled_counted, update.failed_counted),
            (2, 1),
            "{update:?}"
        );
        assert_eq!((update.peers_credited, update.peers_updated), (2, 2));
        assert_eq!((update.unattributed, update.cursor), (1, 5));
        let a = rep(&store, PEER_A);
        assert_eq!((a.success_score, a.failure_score), (1.0, 1.0));
        assert_eq!(a.updated_at, 100);
        assert_eq!(rep(&store, PEER_B).score(), 2.0 / 3.0);
        assert!(!store.peer_reputations().unwrap().contains_key("7x7x7"));
    }

    #[test]
    fn decay_is_applied_once_per_call_and_each_outcome_counted_once() {
        let store = Store::open_in_memory().unwrap();
        store
            .ingest_forwards(&[
                forward(0, "1x1x1", ForwardStatus::Settled),
                forward(1, "1x1x1", ForwardStatus::Settled),
                forward(2, "1x1x1", ForwardStatus::Failed),
                forward(3, "1x1x1", ForwardStatus::Settled),
            ])
            .unwrap();
        store.update_reputation(0.5, &peers(), 10).unwrap();
        let first = rep(&store, PEER_A);
        assert_eq!((first.success_score, first.failure_score), (3.0, 1.0));

        // Nothing new: only the decay, once.
        let update = store.update_reputation(0.5, &peers(), 20).unwrap();
        assert_eq!((update.settled_counted, update.failed_counted), (0, 0));
        assert_eq!(update.peers_updated, 1);
        let second = rep(&store, PEER_A);
        assert_eq!((second.success_score, second.failure_score), (1.5, 0.5));
        assert_eq!(second.updated_at, 20);

        // One more forward: decayed first, then the new one added at full weight.
        store
            .ingest_forwards(&[forward(4, "1x1x1", ForwardStatus::Failed)])
            .unwrap();
        store.update_reputation(0.5, &peers(), 30).unwrap();
        let third = rep(&store, PEER_A);
        assert_eq!((third.success_score, third.failure_score), (0.75, 1.25));
    }

    #[test]
    fn an_offered_forward_is_counted_when_it_settles_and_not_before() {
        let store = Store::open_in_memory().unwrap();
        store
            .ingest_forwards(&[
                forward(0, "1x1x1", ForwardStatus::Settled),
                forward(1, "1x1x1", ForwardStatus::Offered),
                forward(2, "1x1x1", ForwardStatus::Failed),
            ])
            .unwrap();
        // The ingestion cursor waits at the offered forward; so does this one.
        let update = store.update_reputation(1.0, &peers(), 10).unwrap();
        assert_eq!((update.settled_counted, update.failed_counted), (1, 0));
        assert_eq!(update.cursor, 1);
        store
            .ingest_forwards(&[
                forward(1, "1x1x1", ForwardStatus::Settled),
                forward(2, "1x1x1", ForwardStatus::Failed),
            ])
            .unwrap();
        let update = store.update_reputation(1.0, &peers(), 20).unwrap();
        assert_eq!((update.settled_counted, update.failed_counted), (1, 1));
        let a = rep(&store, PEER_A);
        assert_eq!((a.success_score, a.failure_score), (2.0, 1.0));
    }

    #[test]
    fn a_closed_channel_stays_attributed_and_faded_peers_are_forgotten() {
        let store = Store::open_in_memory().unwrap();
        store.update_reputation(1.0, &peers(), 10).unwrap();
        store
            .ingest_forwards(&[forward(0, "2x2x2", ForwardStatus::Settled)])
            .unwrap();
        // 2x2x2 closed since: it is no longer in the live list.
        let update = store.update_reputation(1.0, &HashMap::new(), 20).unwrap();
        assert_eq!((update.settled_counted, update.unattributed), (1, 0));
        assert_eq!(rep(&store, PEER_B).success_score, 1.0);
        // A decay of 0 wipes all evidence: the peer is forgotten.
        let update = store.update_reputation(0.0, &HashMap::new(), 30).unwrap();
        assert_eq!(update.peers_forgotten, 1);
        assert!(store.peer_reputations().unwrap().is_empty());
    }

    #[test]
    fn scores_and_the_cursor_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("revops.sqlite3");
        {
            let store = Store::open(&path).unwrap();
            store
                .ingest_forwards(&[
                    forward(0, "1x1x1", ForwardStatus::Settled),
                    forward(1, "1x1x1", ForwardStatus::Failed),
                ])
                .unwrap();
            store.update_reputation(0.9, &peers(), 10).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let a = rep(&store, PEER_A);
        assert_eq!(
            (a.success_score, a.failure_score, a.updated_at),
            (1.0, 1.0, 10)
        );
        // Reopened: the same forwards are not counted again, only decayed.
        let update = store.update_reputation(0.9, &peers(), 20).unwrap();
        assert_eq!((update.settled_counted, update.failed_counted), (0, 0));
        let a = rep(&store, PEER_A);
        assert!((a.success_score - 0.9).abs() < 1e-12, "{a:?}");
        assert!((a.failure_score - 0.9).abs() < 1e-12, "{a:?}");
    }

    #[test]
    fn an_out_of_range_decay_is_clamped() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(
            store.update_reputation(1.5, &peers(), 1).unwrap().decay,
            1.0
        );
        assert_eq!(
            store.update_reputation(-1.0, &peers(), 1).unwrap().decay,
            0.0
        );
        assert_eq!(
            store
                .update_reputation(f64::NAN, &peers(), 1)
                .unwrap()
                .decay,
            1.0
        );
    }
}
