//! Fee decisions: the per-channel decision state (including the policy's
//! opaque state) and the audit log of fee changes.
//!
//! Invariant: [`Store::save_decision`] writes the channel's new state and its
//! audit row in one transaction, before the fee is sent to lightningd; the
//! row's outcome is then settled with [`Store::set_fee_change_outcome`]. A
//! crash in between leaves a `pending` row, never a change without a record.

use crate::signals::upsert_sleep_states;
use crate::{SleepState, Store, StoreError, from_sql_u64, to_sql_i64};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use std::collections::HashMap;

/// What became of a proposed fee change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeChangeOutcome {
    /// Written, `setchannel` not yet answered.
    Pending,
    /// lightningd accepted the new fee.
    Applied,
    /// Dry-run: recorded, never sent.
    DryRun,
    /// lightningd refused or did not answer.
    Failed,
    /// Set by the operator with `revenue-set-fee` and applied.
    Manual,
    /// Changed outside the plugin (by hand or another tool) and adopted.
    External,
}

impl FeeChangeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            FeeChangeOutcome::Pending => "pending",
            FeeChangeOutcome::Applied => "applied",
            FeeChangeOutcome::DryRun => "dry_run",
            FeeChangeOutcome::Failed => "failed",
            FeeChangeOutcome::Manual => "manual",
            FeeChangeOutcome::External => "external",
        }
    }
}

/// The engine's memory of one channel between cycles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelFeeState {
    pub short_channel_id: String,
    pub peer_id: String,
    pub policy_name: Option<String>,
    pub policy_version: Option<String>,
    /// The policy's opaque state, handed back on its next call.
    #[serde(skip)]
    pub policy_state: Option<Vec<u8>>,
    pub last_decision_at: u64,
    pub last_target_fee_ppm: Option<u32>,
    pub last_step: Option<String>,
    pub last_reason: Option<String>,
    /// Why the last decision did or did not change the fee.
    pub last_outcome: Option<String>,
    /// The fee the channel had after our last decision or manual change;
    /// anything else found later was set outside the plugin.
    pub last_seen_fee_ppm: Option<u32>,
}

/// An audit row about to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeeChange {
    pub timestamp: u64,
    pub short_channel_id: String,
    pub peer_id: String,
    pub old_fee_ppm: u32,
    /// What the policy (or operator) asked for, before the host's rails.
    pub proposed_fee_ppm: u32,
    pub new_fee_ppm: u32,
    pub step: String,
    pub reason: String,
    pub policy_name: String,
    pub policy_version: String,
    pub outcome: FeeChangeOutcome,
}

/// An audit row as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeeChange {
    pub id: i64,
    pub timestamp: u64,
    pub short_channel_id: String,
    pub peer_id: String,
    pub old_fee_ppm: u32,
    pub proposed_fee_ppm: u32,
    pub new_fee_ppm: u32,
    pub step: String,
    pub reason: String,
    pub policy_name: String,
    pub policy_version: String,
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyFailureRow {
    pub timestamp: u64,
    pub policy_name: String,
    pub policy_version: String,
    pub kind: String,
    pub message: String,
    pub channels: u32,
}

fn insert_change(conn: &Connection, c: &NewFeeChange) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO fee_changes (timestamp, short_channel_id, peer_id, old_fee_ppm,
           proposed_fee_ppm, new_fee_ppm, step, reason, policy_name, policy_version, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        to_sql_i64(c.timestamp, "timestamp")?,
        c.short_channel_id,
        c.peer_id,
        c.old_fee_ppm,
        c.proposed_fee_ppm,
        c.new_fee_ppm,
        c.step,
        c.reason,
        c.policy_name,
        c.policy_version,
        c.outcome.as_str(),
    ])?;
    Ok(conn.last_insert_rowid())
}

fn row_to_state(r: &Row<'_>) -> rusqlite::Result<ChannelFeeState> {
    Ok(ChannelFeeState {
        short_channel_id: r.get(0)?,
        peer_id: r.get(1)?,
        policy_name: r.get(2)?,
        policy_version: r.get(3)?,
        policy_state: r.get(4)?,
        last_decision_at: from_sql_u64(r.get(5)?),
        last_target_fee_ppm: r.get(6)?,
        last_step: r.get(7)?,
        last_reason: r.get(8)?,
        last_outcome: r.get(9)?,
        last_seen_fee_ppm: r.get(10)?,
    })
}

fn row_to_change(r: &Row<'_>) -> rusqlite::Result<FeeChange> {
    Ok(FeeChange {
        id: r.get(0)?,
        timestamp: from_sql_u64(r.get(1)?),
        short_channel_id: r.get(2)?,
        peer_id: r.get(3)?,
        old_fee_ppm: r.get(4)?,
        proposed_fee_ppm: r.get(5)?,
        new_fee_ppm: r.get(6)?,
        step: r.get(7)?,
        reason: r.get(8)?,
        policy_name: r.get(9)?,
        policy_version: r.get(10)?,
        outcome: r.get(11)?,
        detail: r.get(12)?,
    })
}

const STATE_COLUMNS: &str = "short_channel_id, peer_id, policy_name, policy_version, policy_state,
    last_decision_at, last_target_fee_ppm, last_step, last_reason, last_outcome, last_seen_fee_ppm";
const CHANGE_COLUMNS: &str = "id, timestamp, short_channel_id, peer_id, old_fee_ppm,
    proposed_fee_ppm, new_fee_ppm, step, reason, policy_name, policy_version, outcome, detail";

impl Store {
    pub fn channel_fee_state(
        &self,
        short_channel_id: &str,
    ) -> Result<Option<ChannelFeeState>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                &format!(
                    "SELECT {STATE_COLUMNS} FROM channel_fee_state WHERE short_channel_id = ?1"
                ),
                params![short_channel_id],
                row_to_state,
            )
            .optional()?)
    }

    /// Every channel's state, by short channel id (one query per cycle).
    pub fn channel_fee_states(&self) -> Result<HashMap<String, ChannelFeeState>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {STATE_COLUMNS} FROM channel_fee_state"))?;
        let rows = stmt.query_map([], row_to_state)?;
        rows.map(|r| {
            let state = r?;
            Ok((state.short_channel_id.clone(), state))
        })
        .collect()
    }

    /// Save a batch of decisions: each channel's state and, where the fee is
    /// to change, its audit row, plus the cycle's deadband rows — all in one
    /// transaction. Returns the audit row ids in the order of `decisions`
    /// (`None` where there was no change).
    pub fn save_decisions(
        &self,
        decisions: &[(ChannelFeeState, Option<NewFeeChange>)],
        sleep_states: &[SleepState],
    ) -> Result<Vec<Option<i64>>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        upsert_sleep_states(&tx, sleep_states)?;
        let mut ids = Vec::with_capacity(decisions.len());
        {
            let mut upsert = tx.prepare_cached(&format!(
                "INSERT INTO channel_fee_state ({STATE_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (short_channel_id) DO UPDATE SET peer_id = excluded.peer_id,
                   policy_name = excluded.policy_name, policy_version = excluded.policy_version,
                   policy_state = excluded.policy_state, last_decision_at = excluded.last_decision_at,
                   last_target_fee_ppm = excluded.last_target_fee_ppm, last_step = excluded.last_step,
                   last_reason = excluded.last_reason, last_outcome = excluded.last_outcome,
                   last_seen_fee_ppm = excluded.last_seen_fee_ppm"
            ))?;
            for (state, change) in decisions {
                upsert.execute(params![
                    state.short_channel_id,
                    state.peer_id,
                    state.policy_name,
                    state.policy_version,
                    state.policy_state,
                    to_sql_i64(state.last_decision_at, "last_decision_at")?,
                    state.last_target_fee_ppm,
                    state.last_step,
                    state.last_reason,
                    state.last_outcome,
                    state.last_seen_fee_ppm,
                ])?;
                let id = change.as_ref().map(|c| insert_change(&tx, c)).transpose()?;
                ids.push(id);
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Remember the fee a channel now has because of us (a manual change, or
    /// a `setchannel` that failed after the decision was saved).
    pub fn record_seen_fee(&self, short_channel_id: &str, fee_ppm: u32) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE channel_fee_state SET last_seen_fee_ppm = ?2 WHERE short_channel_id = ?1",
            params![short_channel_id, fee_ppm],
        )?;
        Ok(())
    }

    /// Write a single audit row on its own (manual fee changes).
    pub fn insert_fee_change(&self, change: &NewFeeChange) -> Result<i64, StoreError> {
        insert_change(&self.conn(), change)
    }

    pub fn set_fee_change_outcome(
        &self,
        id: i64,
        outcome: FeeChangeOutcome,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE fee_changes SET outcome = ?2, detail = ?3 WHERE id = ?1",
            params![id, outcome.as_str(), detail],
        )?;
        Ok(())
    }

    /// Fee updates actually sent to lightningd for a channel since `since`
    /// (each one is a gossip broadcast).
    pub fn broadcasts_since(&self, short_channel_id: &str, since: u64) -> Result<u32, StoreError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM fee_changes WHERE short_channel_id = ?1 AND timestamp >= ?2
               AND outcome IN ('applied', 'manual', 'pending')",
            params![short_channel_id, to_sql_i64(since, "since")?],
            |r| r.get(0),
        )?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// (all audit rows, rows still `pending`).
    pub fn fee_change_counts(&self) -> Result<(u64, u64), StoreError> {
        let (total, pending): (i64, i64) = self.conn().query_row(
            "SELECT COUNT(*), COALESCE(SUM(outcome = 'pending'), 0) FROM fee_changes",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((from_sql_u64(total), from_sql_u64(pending)))
    }

    /// Audit rows whose `setchannel` was never answered (the plugin stopped
    /// in between), oldest first.
    pub fn pending_fee_changes(&self) -> Result<Vec<FeeChange>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {CHANGE_COLUMNS} FROM fee_changes WHERE outcome = 'pending' ORDER BY id"
        ))?;
        let rows = stmt.query_map([], row_to_change)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// [`Store::broadcasts_since`] for every channel at once.
    pub fn broadcasts_by_channel_since(
        &self,
        since: u64,
    ) -> Result<HashMap<String, u32>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT short_channel_id, COUNT(*) FROM fee_changes WHERE timestamp >= ?1
               AND outcome IN ('applied', 'manual', 'pending') GROUP BY short_channel_id",
        )?;
        let rows = stmt.query_map(params![to_sql_i64(since, "since")?], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        rows.map(|r| {
            let (scid, n) = r?;
            Ok((scid, u32::try_from(n).unwrap_or(u32::MAX)))
        })
        .collect()
    }

    /// Newest first.
    pub fn fee_changes(
        &self,
        short_channel_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<FeeChange>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {CHANGE_COLUMNS} FROM fee_changes
             WHERE ?1 IS NULL OR short_channel_id = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![short_channel_id, limit], row_to_change)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn record_policy_failure(&self, row: &PolicyFailureRow) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO policy_failures (timestamp, policy_name, policy_version, kind, message, channels)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                to_sql_i64(row.timestamp, "timestamp")?,
                row.policy_name,
                row.policy_version,
                row.kind,
                row.message,
                row.channels
            ],
        )?;
        Ok(())
    }

    /// Newest first.
    pub fn policy_failures(&self, limit: u32) -> Result<Vec<PolicyFailureRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT timestamp, policy_name, policy_version, kind, message, channels
             FROM policy_failures ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit], |r| {
            Ok(PolicyFailureRow {
                timestamp: from_sql_u64(r.get(0)?),
                policy_name: r.get(1)?,
                policy_version: r.get(2)?,
                kind: r.get(3)?,
                message: r.get(4)?,
                channels: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(scid: &str, at: u64, blob: &[u8]) -> ChannelFeeState {
        ChannelFeeState {
            short_channel_id: scid.into(),
            peer_id: "02aa".into(),
            policy_name: Some("fee-alpha".into()),
            policy_version: Some("0.1.0".into()),
            policy_state: Some(blob.to_vec()),
            last_decision_at: at,
            last_target_fee_ppm: Some(120),
            last_step: Some("hill-climb".into()),
            last_reason: Some("because".into()),
            last_outcome: Some("applied".into()),
            last_seen_fee_ppm: Some(120),
        }
    }

    fn change(scid: &str, at: u64) -> NewFeeChange {
        NewFeeChange {
            timestamp: at,
            short_channel_id: scid.into(),
            peer_id: "02aa".into(),
            old_fee_ppm: 100,
            proposed_fee_ppm: 130,
            new_fee_ppm: 120,
            step: "hill-climb".into(),
            reason: "up".into(),
            policy_name: "fee-alpha".into(),
            policy_version: "0.1.0".into(),
            outcome: FeeChangeOutcome::Pending,
        }
    }

    #[test]
    fn decisions_and_audit_rows_are_saved_together() {
        let store = Store::open_in_memory().unwrap();
        let ids = store
            .save_decisions(
                &[
                    (state("1x1x1", 100, b"s1"), Some(change("1x1x1", 100))),
                    (state("2x2x2", 100, b"s2"), None),
                ],
                &[SleepState {
                    short_channel_id: "2x2x2".into(),
                    flat_cycles: 1,
                    last_rate_msat_per_hour: Some(5.0),
                    asleep_until: None,
                    asleep_rate_msat_per_hour: None,
                }],
            )
            .unwrap();
        assert!(ids[0].is_some() && ids[1].is_none());
        // The deadband row is written in the same transaction.
        assert_eq!(store.sleep_states().unwrap()["2x2x2"].flat_cycles, 1);
        store
            .set_fee_change_outcome(ids[0].unwrap(), FeeChangeOutcome::Applied, None)
            .unwrap();
        let rows = store.fee_changes(None, 10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].outcome, "applied");
        assert_eq!(
            store
                .channel_fee_state("2x2x2")
                .unwrap()
                .unwrap()
                .policy_state,
            Some(b"s2".to_vec())
        );
        assert_eq!(store.broadcasts_since("1x1x1", 50).unwrap(), 1);
        assert_eq!(store.broadcasts_since("1x1x1", 101).unwrap(), 0);
        assert_eq!(
            store.broadcasts_by_channel_since(50).unwrap().get("1x1x1"),
            Some(&1)
        );
        assert_eq!(store.channel_fee_states().unwrap().len(), 2);
        assert_eq!(store.fee_change_counts().unwrap(), (1, 0));
        assert!(store.pending_fee_changes().unwrap().is_empty());
        store.record_seen_fee("2x2x2", 333).unwrap();
        assert_eq!(
            store
                .channel_fee_state("2x2x2")
                .unwrap()
                .unwrap()
                .last_seen_fee_ppm,
            Some(333)
        );
    }

    #[test]
    fn unanswered_changes_are_listed_as_pending() {
        let store = Store::open_in_memory().unwrap();
        let id = store.insert_fee_change(&change("1x1x1", 10)).unwrap();
        let pending = store.pending_fee_changes().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id, id);
        assert_eq!(store.fee_change_counts().unwrap(), (1, 1));
    }

    #[test]
    fn dry_run_rows_are_not_broadcasts() {
        let store = Store::open_in_memory().unwrap();
        let mut c = change("1x1x1", 10);
        c.outcome = FeeChangeOutcome::DryRun;
        store.insert_fee_change(&c).unwrap();
        assert_eq!(store.broadcasts_since("1x1x1", 0).unwrap(), 0);
    }
}
