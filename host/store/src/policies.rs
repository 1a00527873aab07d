//! Per-peer policies (`revenue-policy`): how a peer's channels are priced,
//! whether they may be rebalanced, tags for fleet managers, bounds,
//! multiplier clamps and expiry.
//!
//! Invariants:
//! - A `static` policy always carries its `fee_ppm` (a CHECK on the table as
//!   well as the RPC's validation).
//! - Deleting a policy leaves a deletion record, so `changes since` tells a
//!   fleet manager about removals too.
//! - A batch of policies is written in one transaction: all or none.

use crate::{Store, StoreError, from_sql_u64, to_sql_i64};
use rusqlite::{Connection, Row, params};
use serde::{Serialize, Serializer};

/// How a peer's channel fees are decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// The node's default fee policy decides.
    Dynamic,
    /// Always exactly the policy's `fee_ppm`.
    Static,
    /// Never touched by the plugin.
    Passive,
    /// A fleet member: `revenue-ops-hive-fee-ppm`.
    Hive,
    /// A loaded WASM fee policy, by name.
    Policy(String),
}

impl Strategy {
    pub fn as_str(&self) -> &str {
        match self {
            Strategy::Dynamic => "dynamic",
            Strategy::Static => "static",
            Strategy::Passive => "passive",
            Strategy::Hive => "hive",
            Strategy::Policy(name) => name,
        }
    }

    /// Anything that is not a built-in strategy names a WASM policy.
    pub fn parse(s: &str) -> Strategy {
        match s {
            "dynamic" => Strategy::Dynamic,
            "static" => Strategy::Static,
            "passive" => Strategy::Passive,
            "hive" => Strategy::Hive,
            name => Strategy::Policy(name.to_string()),
        }
    }
}

impl Serialize for Strategy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Which rebalances may involve the peer's channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RebalanceMode {
    Enabled,
    Disabled,
    SourceOnly,
    SinkOnly,
}

impl RebalanceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RebalanceMode::Enabled => "enabled",
            RebalanceMode::Disabled => "disabled",
            RebalanceMode::SourceOnly => "source_only",
            RebalanceMode::SinkOnly => "sink_only",
        }
    }

    pub fn parse(s: &str) -> Option<RebalanceMode> {
        Some(match s {
            "enabled" => RebalanceMode::Enabled,
            "disabled" => RebalanceMode::Disabled,
            "source_only" => RebalanceMode::SourceOnly,
            "sink_only" => RebalanceMode::SinkOnly,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerPolicy {
    pub peer_id: String,
    pub strategy: Strategy,
    /// Required for `static`, ignored otherwise.
    pub fee_ppm: Option<u32>,
    /// Per-peer bounds that replace the node's min/max fee.
    pub min_fee_ppm: Option<u32>,
    pub max_fee_ppm: Option<u32>,
    pub rebalance_mode: RebalanceMode,
    pub tags: Vec<String>,
    /// A policy's proposal is kept within [current × min, current × max].
    pub fee_multiplier_min: Option<f64>,
    pub fee_multiplier_max: Option<f64>,
    /// After this (unix seconds) the peer falls back to the node default.
    pub expires_at: Option<u64>,
    pub updated_at: u64,
}

impl PeerPolicy {
    /// The node default for a peer: dynamic, rebalancing enabled.
    pub fn default_for(peer_id: &str, now: u64) -> PeerPolicy {
        PeerPolicy {
            peer_id: peer_id.to_string(),
            strategy: Strategy::Dynamic,
            fee_ppm: None,
            min_fee_ppm: None,
            max_fee_ppm: None,
            rebalance_mode: RebalanceMode::Enabled,
            tags: Vec::new(),
            fee_multiplier_min: None,
            fee_multiplier_max: None,
            expires_at: None,
            updated_at: now,
        }
    }

    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

/// A policy removed at `deleted_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDeletion {
    pub peer_id: String,
    pub deleted_at: u64,
}

const SELECT: &str = "SELECT peer_id, strategy, fee_ppm, min_fee_ppm, max_fee_ppm, rebalance_mode,
    tags, fee_multiplier_min, fee_multiplier_max, expires_at, updated_at FROM peer_policies";

fn row_to_policy(row: &Row<'_>) -> rusqlite::Result<Result<PeerPolicy, StoreError>> {
    let mode: String = row.get(5)?;
    let tags: String = row.get(6)?;
    let Some(rebalance_mode) = RebalanceMode::parse(&mode) else {
        return Ok(Err(StoreError::Corrupt {
            what: "peer_policies.rebalance_mode",
            value: mode,
        }));
    };
    Ok(Ok(PeerPolicy {
        peer_id: row.get(0)?,
        strategy: Strategy::parse(&row.get::<_, String>(1)?),
        fee_ppm: row.get(2)?,
        min_fee_ppm: row.get(3)?,
        max_fee_ppm: row.get(4)?,
        rebalance_mode,
        tags: tags
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        fee_multiplier_min: row.get(7)?,
        fee_multiplier_max: row.get(8)?,
        expires_at: row.get::<_, Option<i64>>(9)?.map(from_sql_u64),
        updated_at: from_sql_u64(row.get(10)?),
    }))
}

fn upsert(conn: &Connection, p: &PeerPolicy) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO peer_policies (peer_id, strategy, fee_ppm, min_fee_ppm, max_fee_ppm,
           rebalance_mode, tags, fee_multiplier_min, fee_multiplier_max, expires_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (peer_id) DO UPDATE SET strategy = excluded.strategy,
           fee_ppm = excluded.fee_ppm, min_fee_ppm = excluded.min_fee_ppm,
           max_fee_ppm = excluded.max_fee_ppm, rebalance_mode = excluded.rebalance_mode,
           tags = excluded.tags, fee_multiplier_min = excluded.fee_multiplier_min,
           fee_multiplier_max = excluded.fee_multiplier_max, expires_at = excluded.expires_at,
           updated_at = excluded.updated_at",
    )?
    .execute(params![
        p.peer_id,
        p.strategy.as_str(),
        p.fee_ppm,
        p.min_fee_ppm,
        p.max_fee_ppm,
        p.rebalance_mode.as_str(),
        p.tags.join(","),
        p.fee_multiplier_min,
        p.fee_multiplier_max,
        p.expires_at
            .map(|t| to_sql_i64(t, "expires_at"))
            .transpose()?,
        to_sql_i64(p.updated_at, "updated_at")?,
    ])?;
    Ok(())
}

impl Store {
    fn select_policies(
        &self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<PeerPolicy>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{SELECT} {filter}"))?;
        let rows = stmt.query_map(args, row_to_policy)?;
        rows.map(|r| r?).collect()
    }

    pub fn peer_policy(&self, peer_id: &str) -> Result<Option<PeerPolicy>, StoreError> {
        Ok(self
            .select_policies("WHERE peer_id = ?1", &[&peer_id])?
            .into_iter()
            .next())
    }

    pub fn peer_policies(&self) -> Result<Vec<PeerPolicy>, StoreError> {
        self.select_policies("ORDER BY peer_id", &[])
    }

    /// Policies carrying `tag`.
    pub fn peer_policies_tagged(&self, tag: &str) -> Result<Vec<PeerPolicy>, StoreError> {
        let pattern = format!("%,{tag},%");
        self.select_policies(
            "WHERE ',' || tags || ',' LIKE ?1 ORDER BY peer_id",
            &[&pattern],
        )
    }

    /// Policies set or changed after `since`, and policies deleted after it.
    pub fn peer_policy_changes(
        &self,
        since: u64,
    ) -> Result<(Vec<PeerPolicy>, Vec<PolicyDeletion>), StoreError> {
        let since = to_sql_i64(since, "since")?;
        let changed =
            self.select_policies("WHERE updated_at > ?1 ORDER BY updated_at", &[&since])?;
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT peer_id, deleted_at FROM peer_policy_deletions WHERE deleted_at > ?1
             ORDER BY deleted_at",
        )?;
        let deleted = stmt
            .query_map(params![since], |r| {
                Ok(PolicyDeletion {
                    peer_id: r.get(0)?,
                    deleted_at: from_sql_u64(r.get(1)?),
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok((changed, deleted))
    }

    pub fn upsert_peer_policy(&self, policy: &PeerPolicy) -> Result<(), StoreError> {
        upsert(&self.conn(), policy)
    }

    /// All or nothing.
    pub fn upsert_peer_policies(&self, policies: &[PeerPolicy]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for p in policies {
            upsert(&tx, p)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Returns whether a policy existed.
    pub fn delete_peer_policy(&self, peer_id: &str, now: u64) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM peer_policies WHERE peer_id = ?1",
            params![peer_id],
        )?;
        if n > 0 {
            tx.execute(
                "INSERT INTO peer_policy_deletions (peer_id, deleted_at) VALUES (?1, ?2)",
                params![peer_id, to_sql_i64(now, "deleted_at")?],
            )?;
        }
        tx.commit()?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn static_policy(peer: &str, fee_ppm: u32) -> PeerPolicy {
        PeerPolicy {
            strategy: Strategy::Static,
            fee_ppm: Some(fee_ppm),
            updated_at: 7,
            ..PeerPolicy::default_for(peer, 7)
        }
    }

    #[test]
    fn policies_round_trip_and_update_in_place() {
        let store = Store::open_in_memory().unwrap();
        store
            .upsert_peer_policy(&static_policy("02aa", 300))
            .unwrap();
        let mut p = static_policy("02aa", 400);
        p.tags = vec!["fleet".into(), "cheap".into()];
        p.rebalance_mode = RebalanceMode::SinkOnly;
        p.fee_multiplier_max = Some(1.5);
        p.expires_at = Some(99);
        store.upsert_peer_policy(&p).unwrap();
        assert_eq!(store.peer_policies().unwrap(), vec![p.clone()]);
        assert_eq!(store.peer_policy("02aa").unwrap(), Some(p));
        assert!(store.delete_peer_policy("02aa", 8).unwrap());
        assert_eq!(store.peer_policy("02aa").unwrap(), None);
    }

    #[test]
    fn a_static_policy_without_a_fee_is_refused_by_the_schema() {
        let store = Store::open_in_memory().unwrap();
        let mut p = static_policy("02bb", 1);
        p.fee_ppm = None;
        assert!(store.upsert_peer_policy(&p).is_err());
        assert!(store.peer_policies().unwrap().is_empty());
    }

    #[test]
    fn tags_find_whole_tags_only() {
        let store = Store::open_in_memory().unwrap();
        let mut a = PeerPolicy::default_for("02aa", 1);
        a.tags = vec!["fleet".into()];
        let mut b = PeerPolicy::default_for("02bb", 1);
        b.tags = vec!["fleetwood".into()];
        store.upsert_peer_policies(&[a.clone(), b]).unwrap();
        assert_eq!(store.peer_policies_tagged("fleet").unwrap(), vec![a]);
    }

    #[test]
    fn changes_include_deletions() {
        let store = Store::open_in_memory().unwrap();
        store
            .upsert_peer_policy(&PeerPolicy::default_for("02aa", 10))
            .unwrap();
        store
            .upsert_peer_policy(&PeerPolicy::default_for("02bb", 20))
            .unwrap();
        store.delete_peer_policy("02aa", 30).unwrap();
        let (changed, deleted) = store.peer_policy_changes(15).unwrap();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].peer_id, "02bb");
        assert_eq!(
            deleted,
            vec![PolicyDeletion {
                peer_id: "02aa".into(),
                deleted_at: 30
            }]
        );
    }

    #[test]
    fn a_failing_batch_writes_nothing() {
        let store = Store::open_in_memory().unwrap();
        let mut bad = static_policy("02cc", 1);
        bad.fee_ppm = None;
        assert!(
            store
                .upsert_peer_policies(&[PeerPolicy::default_for("02aa", 1), bad])
                .is_err()
        );
        assert!(store.peer_policies().unwrap().is_empty());
    }
}
