//! Per-peer fee policies (`revenue-policy`).
//!
//! Invariant: a `static` policy always carries its `fee_ppm` (enforced by the
//! table's CHECK constraint as well as by the type).

use crate::{Store, StoreError, from_sql_u64};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The node's fee policy decides.
    Dynamic,
    /// Always exactly the policy's `fee_ppm`.
    Static,
    /// Never touched by the plugin.
    Passive,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Dynamic => "dynamic",
            Strategy::Static => "static",
            Strategy::Passive => "passive",
        }
    }

    pub fn parse(s: &str) -> Option<Strategy> {
        Some(match s {
            "dynamic" => Strategy::Dynamic,
            "static" => Strategy::Static,
            "passive" => Strategy::Passive,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerPolicy {
    pub peer_id: String,
    pub strategy: Strategy,
    /// Required for `static`, ignored otherwise.
    pub fee_ppm: Option<u32>,
    /// Per-peer bounds that narrow or replace the node's min/max fee.
    pub min_fee_ppm: Option<u32>,
    pub max_fee_ppm: Option<u32>,
    pub updated_at: u64,
}

fn row_to_policy(row: &Row<'_>) -> rusqlite::Result<(PeerPolicy, String)> {
    let strategy: String = row.get(1)?;
    Ok((
        PeerPolicy {
            peer_id: row.get(0)?,
            strategy: Strategy::Dynamic,
            fee_ppm: row.get(2)?,
            min_fee_ppm: row.get(3)?,
            max_fee_ppm: row.get(4)?,
            updated_at: from_sql_u64(row.get(5)?),
        },
        strategy,
    ))
}

fn finish(pair: (PeerPolicy, String)) -> Result<PeerPolicy, StoreError> {
    let (mut policy, strategy) = pair;
    policy.strategy = Strategy::parse(&strategy).ok_or(StoreError::Corrupt {
        what: "peer_policies.strategy",
        value: strategy,
    })?;
    Ok(policy)
}

const SELECT: &str =
    "SELECT peer_id, strategy, fee_ppm, min_fee_ppm, max_fee_ppm, updated_at FROM peer_policies";

impl Store {
    pub fn peer_policy(&self, peer_id: &str) -> Result<Option<PeerPolicy>, StoreError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                &format!("{SELECT} WHERE peer_id = ?1"),
                params![peer_id],
                row_to_policy,
            )
            .optional()?;
        row.map(finish).transpose()
    }

    pub fn peer_policies(&self) -> Result<Vec<PeerPolicy>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY peer_id"))?;
        let rows = stmt.query_map([], row_to_policy)?;
        rows.map(|r| finish(r?)).collect()
    }

    pub fn upsert_peer_policy(&self, policy: &PeerPolicy) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO peer_policies (peer_id, strategy, fee_ppm, min_fee_ppm, max_fee_ppm, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (peer_id) DO UPDATE SET strategy = excluded.strategy,
               fee_ppm = excluded.fee_ppm, min_fee_ppm = excluded.min_fee_ppm,
               max_fee_ppm = excluded.max_fee_ppm, updated_at = excluded.updated_at",
            params![
                policy.peer_id,
                policy.strategy.as_str(),
                policy.fee_ppm,
                policy.min_fee_ppm,
                policy.max_fee_ppm,
                crate::to_sql_i64(policy.updated_at, "updated_at")?
            ],
        )?;
        Ok(())
    }

    /// Returns whether a policy existed.
    pub fn delete_peer_policy(&self, peer_id: &str) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "DELETE FROM peer_policies WHERE peer_id = ?1",
            params![peer_id],
        )?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn static_policy(peer: &str, fee_ppm: u32) -> PeerPolicy {
        PeerPolicy {
            peer_id: peer.to_string(),
            strategy: Strategy::Static,
            fee_ppm: Some(fee_ppm),
            min_fee_ppm: None,
            max_fee_ppm: None,
            updated_at: 7,
        }
    }

    #[test]
    fn policies_round_trip_and_update_in_place() {
        let store = Store::open_in_memory().unwrap();
        store
            .upsert_peer_policy(&static_policy("02aa", 300))
            .unwrap();
        store
            .upsert_peer_policy(&static_policy("02aa", 400))
            .unwrap();
        assert_eq!(
            store.peer_policies().unwrap(),
            vec![static_policy("02aa", 400)]
        );
        assert_eq!(
            store.peer_policy("02aa").unwrap(),
            Some(static_policy("02aa", 400))
        );
        assert!(store.delete_peer_policy("02aa").unwrap());
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
}
