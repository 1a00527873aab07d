//! Shadow runs: a candidate policy decides beside the live one on the same
//! inputs, and what it would have done is kept here, never acted on.
//!
//! Invariants:
//! - At most one active run (no `stopped_at`) per policy name and role
//!   (a partial unique index).
//! - A run's decisions are written in one transaction per cycle (which also
//!   counts the cycle); rows older
//!   than [`SHADOW_KEEP_SECS`] are pruned in the same transaction, so a
//!   forgotten shadow cannot grow the database without bound.
//! - The shadow's per-channel state is its own (the latest row's
//!   `shadow_state`), never the live policy's.

use crate::{Store, StoreError, from_sql_u64, to_sql_i64};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::collections::HashMap;

/// How long shadow decisions are kept.
pub const SHADOW_KEEP_SECS: u64 = 14 * crate::DAY_SECS;

/// One shadow run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowRun {
    pub id: i64,
    pub policy_name: String,
    /// `fee-strategy` or `rebalance-scorer`.
    pub role: String,
    pub started_at: u64,
    pub stopped_at: Option<u64>,
}

/// What the shadow would have decided for one channel in one cycle, beside
/// what the live policy proposed. Fees are both within the channel's
/// bounds (the host's clamp), before hysteresis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowDecision {
    pub cycle_at: u64,
    pub short_channel_id: String,
    pub shadow_version: String,
    /// `name@version` of the live policy.
    pub live_policy: String,
    pub current_fee_ppm: u32,
    /// `None` when the live policy failed.
    pub live_fee_ppm: Option<u32>,
    /// `None` when the shadow failed.
    pub shadow_fee_ppm: Option<u32>,
    /// The shadow's reason, or its failure message.
    pub shadow_reason: String,
    pub shadow_failure_kind: Option<String>,
    #[serde(skip)]
    pub shadow_state: Option<Vec<u8>>,
}

/// A run's decisions in aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ShadowSummary {
    /// Fee cycles the shadow decided in.
    pub cycles: u64,
    pub decisions: u64,
    /// Decisions where both answered.
    pub compared: u64,
    pub shadow_higher: u64,
    pub shadow_lower: u64,
    pub same: u64,
    /// Mean of `shadow − live` over compared decisions, in ppm.
    pub mean_diff_ppm: f64,
    /// Mean of `|shadow − live|`, in ppm.
    pub mean_abs_diff_ppm: f64,
    pub max_abs_diff_ppm: u64,
    /// Decisions the shadow failed on.
    pub shadow_failures: u64,
    /// Decisions where the shadow's fee differs from the channel's current
    /// one (what it would have sent to lightningd, before hysteresis).
    pub shadow_would_change: u64,
    pub live_would_change: u64,
}

fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ShadowRun> {
    Ok(ShadowRun {
        id: r.get(0)?,
        policy_name: r.get(1)?,
        role: r.get(2)?,
        started_at: from_sql_u64(r.get(3)?),
        stopped_at: r.get::<_, Option<i64>>(4)?.map(from_sql_u64),
    })
}

/// Where a role's shadow answers are kept.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ShadowTable {
    Decisions,
    Verdicts,
}

impl ShadowTable {
    fn name(self) -> &'static str {
        match self {
            ShadowTable::Decisions => "shadow_decisions",
            ShadowTable::Verdicts => "shadow_verdicts",
        }
    }
}

/// Ends one cycle's write of a run's answers, inside its transaction:
/// counts the cycle and prunes the table's rows older than
/// [`SHADOW_KEEP_SECS`].
pub(crate) fn finish_cycle(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    table: ShadowTable,
    now: u64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE shadow_runs SET cycles = cycles + 1 WHERE id = ?1",
        params![run_id],
    )?;
    tx.execute(
        &format!("DELETE FROM {} WHERE cycle_at < ?1", table.name()),
        params![to_sql_i64(
            now.saturating_sub(SHADOW_KEEP_SECS),
            "cycle_at"
        )?],
    )?;
    Ok(())
}

const RUN_COLUMNS: &str = "id, policy_name, role, started_at, stopped_at";

impl Store {
    /// Starts shadowing `policy_name` for `role`, or returns the run already
    /// active (and `false`).
    pub fn start_shadow(
        &self,
        policy_name: &str,
        role: &str,
        now: u64,
    ) -> Result<(ShadowRun, bool), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let active = tx
            .query_row(
                &format!(
                    "SELECT {RUN_COLUMNS} FROM shadow_runs
                     WHERE policy_name = ?1 AND role = ?2 AND stopped_at IS NULL"
                ),
                params![policy_name, role],
                run_from_row,
            )
            .optional()?;
        if let Some(run) = active {
            return Ok((run, false));
        }
        tx.execute(
            "INSERT INTO shadow_runs (policy_name, role, started_at) VALUES (?1, ?2, ?3)",
            params![policy_name, role, to_sql_i64(now, "started_at")?],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok((
            ShadowRun {
                id,
                policy_name: policy_name.to_string(),
                role: role.to_string(),
                started_at: now,
                stopped_at: None,
            },
            true,
        ))
    }

    /// Stops the active run of `policy_name` for `role`, if any.
    pub fn stop_shadow(
        &self,
        policy_name: &str,
        role: &str,
        now: u64,
    ) -> Result<Option<ShadowRun>, StoreError> {
        let conn = self.conn();
        let run = conn
            .query_row(
                &format!(
                    "UPDATE shadow_runs SET stopped_at = ?3
                     WHERE policy_name = ?1 AND role = ?2 AND stopped_at IS NULL
                     RETURNING {RUN_COLUMNS}"
                ),
                params![policy_name, role, to_sql_i64(now, "stopped_at")?],
                run_from_row,
            )
            .optional()?;
        Ok(run)
    }

    /// Every active run, oldest first.
    pub fn active_shadows(&self) -> Result<Vec<ShadowRun>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM shadow_runs WHERE stopped_at IS NULL ORDER BY id"
        ))?;
        let rows = stmt.query_map([], run_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The latest run of `policy_name` (active or not), if there was one.
    pub fn latest_shadow(&self, policy_name: &str) -> Result<Option<ShadowRun>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                &format!(
                    "SELECT {RUN_COLUMNS} FROM shadow_runs WHERE policy_name = ?1
                     ORDER BY id DESC LIMIT 1"
                ),
                params![policy_name],
                run_from_row,
            )
            .optional()?)
    }

    /// Records one cycle's shadow decisions of `run_id`, counts the cycle
    /// and prunes what is older than [`SHADOW_KEEP_SECS`], atomically.
    pub fn record_shadow_decisions(
        &self,
        run_id: i64,
        decisions: &[ShadowDecision],
        now: u64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO shadow_decisions (run_id, cycle_at, short_channel_id,
                    shadow_version, live_policy, current_fee_ppm, live_fee_ppm,
                    shadow_fee_ppm, shadow_reason, shadow_failure_kind, shadow_state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for d in decisions {
                insert.execute(params![
                    run_id,
                    to_sql_i64(d.cycle_at, "cycle_at")?,
                    d.short_channel_id,
                    d.shadow_version,
                    d.live_policy,
                    d.current_fee_ppm,
                    d.live_fee_ppm,
                    d.shadow_fee_ppm,
                    d.shadow_reason,
                    d.shadow_failure_kind,
                    d.shadow_state,
                ])?;
            }
        }
        finish_cycle(&tx, run_id, ShadowTable::Decisions, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Each channel's latest decision in `run_id`.
    pub fn latest_shadow_decisions(&self, run_id: i64) -> Result<Vec<ShadowDecision>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT cycle_at, short_channel_id, shadow_version, live_policy, current_fee_ppm,
                    live_fee_ppm, shadow_fee_ppm, shadow_reason, shadow_failure_kind,
                    shadow_state
             FROM shadow_decisions
             WHERE rowid IN (SELECT MAX(rowid) FROM shadow_decisions WHERE run_id = ?1
                             GROUP BY short_channel_id)
             ORDER BY short_channel_id",
        )?;
        let rows = stmt.query_map(params![run_id], |r| {
            Ok(ShadowDecision {
                cycle_at: from_sql_u64(r.get(0)?),
                short_channel_id: r.get(1)?,
                shadow_version: r.get(2)?,
                live_policy: r.get(3)?,
                current_fee_ppm: r.get(4)?,
                live_fee_ppm: r.get(5)?,
                shadow_fee_ppm: r.get(6)?,
                shadow_reason: r.get(7)?,
                shadow_failure_kind: r.get(8)?,
                shadow_state: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The shadow's own state per channel (its latest decision's).
    pub fn shadow_states(&self, run_id: i64) -> Result<HashMap<String, Vec<u8>>, StoreError> {
        Ok(self
            .latest_shadow_decisions(run_id)?
            .into_iter()
            .filter_map(|d| Some((d.short_channel_id, d.shadow_state?)))
            .collect())
    }

    /// `run_id`'s decisions in aggregate.
    pub fn shadow_summary(&self, run_id: i64) -> Result<ShadowSummary, StoreError> {
        let conn = self.conn();
        let summary = conn.query_row(
            "SELECT (SELECT cycles FROM shadow_runs WHERE id = ?1), COUNT(*),
                    COUNT(live_fee_ppm * shadow_fee_ppm),
                    COALESCE(SUM(shadow_fee_ppm > live_fee_ppm), 0),
                    COALESCE(SUM(shadow_fee_ppm < live_fee_ppm), 0),
                    COALESCE(SUM(shadow_fee_ppm = live_fee_ppm), 0),
                    COALESCE(AVG(shadow_fee_ppm - live_fee_ppm), 0.0),
                    COALESCE(AVG(ABS(shadow_fee_ppm - live_fee_ppm)), 0.0),
                    COALESCE(MAX(ABS(shadow_fee_ppm - live_fee_ppm)), 0),
                    COALESCE(SUM(shadow_fee_ppm IS NULL), 0),
                    COALESCE(SUM(shadow_fee_ppm != current_fee_ppm), 0),
                    COALESCE(SUM(live_fee_ppm != current_fee_ppm), 0)
             FROM shadow_decisions WHERE run_id = ?1",
            params![run_id],
            |r| {
                let n = |i: usize| r.get::<_, i64>(i).map(from_sql_u64);
                Ok(ShadowSummary {
                    cycles: n(0)?,
                    decisions: n(1)?,
                    compared: n(2)?,
                    shadow_higher: n(3)?,
                    shadow_lower: n(4)?,
                    same: n(5)?,
                    mean_diff_ppm: r.get(6)?,
                    mean_abs_diff_ppm: r.get(7)?,
                    max_abs_diff_ppm: n(8)?,
                    shadow_failures: n(9)?,
                    shadow_would_change: n(10)?,
                    live_would_change: n(11)?,
                })
            },
        )?;
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(
        scid: &str,
        cycle_at: u64,
        live: Option<u32>,
        shadow: Option<u32>,
    ) -> ShadowDecision {
        ShadowDecision {
            cycle_at,
            short_channel_id: scid.to_string(),
            shadow_version: "1.0.0".to_string(),
            live_policy: "fee-alpha@0.1.0".to_string(),
            current_fee_ppm: 100,
            live_fee_ppm: live,
            shadow_fee_ppm: shadow,
            shadow_reason: "because".to_string(),
            shadow_failure_kind: shadow.is_none().then(|| "trap".to_string()),
            shadow_state: shadow.map(|fee| fee.to_le_bytes().to_vec()),
        }
    }

    #[test]
    fn one_active_run_per_policy_and_role() {
        let store = Store::open_in_memory().unwrap();
        let (run, started) = store.start_shadow("mine", "fee-strategy", 10).unwrap();
        assert!(started);
        let (again, started) = store.start_shadow("mine", "fee-strategy", 20).unwrap();
        assert_eq!((again.id, started), (run.id, false));
        assert_eq!(store.active_shadows().unwrap(), vec![run.clone()]);
        let stopped = store
            .stop_shadow("mine", "fee-strategy", 30)
            .unwrap()
            .unwrap();
        assert_eq!(stopped.stopped_at, Some(30));
        assert!(store.active_shadows().unwrap().is_empty());
        assert!(
            store
                .stop_shadow("mine", "fee-strategy", 31)
                .unwrap()
                .is_none()
        );
        let (next, started) = store.start_shadow("mine", "fee-strategy", 40).unwrap();
        assert!(started && next.id != run.id);
        assert_eq!(store.latest_shadow("mine").unwrap(), Some(next));
    }

    #[test]
    fn summary_latest_states_and_pruning() {
        let store = Store::open_in_memory().unwrap();
        let (run, _) = store.start_shadow("mine", "fee-strategy", 0).unwrap();
        let day = crate::DAY_SECS;
        store
            .record_shadow_decisions(run.id, &[decision("1x1x1", day, Some(100), Some(150))], day)
            .unwrap();
        store
            .record_shadow_decisions(
                run.id,
                &[
                    decision("1x1x1", 2 * day, Some(100), Some(80)),
                    decision("2x2x2", 2 * day, Some(300), None),
                ],
                2 * day,
            )
            .unwrap();
        let summary = store.shadow_summary(run.id).unwrap();
        assert_eq!(
            (summary.cycles, summary.decisions, summary.compared),
            (2, 3, 2)
        );
        assert_eq!(
            (summary.shadow_higher, summary.shadow_lower, summary.same),
            (1, 1, 0)
        );
        assert_eq!(summary.mean_diff_ppm, 15.0);
        assert_eq!(summary.mean_abs_diff_ppm, 35.0);
        assert_eq!(summary.max_abs_diff_ppm, 50);
        assert_eq!(summary.shadow_failures, 1);
        let latest = store.latest_shadow_decisions(run.id).unwrap();
        assert_eq!(latest.len(), 2);
        assert_eq!(latest[0].shadow_fee_ppm, Some(80));
        let states = store.shadow_states(run.id).unwrap();
        assert_eq!(states.get("1x1x1"), Some(&80u32.to_le_bytes().to_vec()));
        assert!(!states.contains_key("2x2x2"));
        // Fifteen days on, the first cycle's rows are gone.
        store
            .record_shadow_decisions(run.id, &[], 2 * day + SHADOW_KEEP_SECS)
            .unwrap();
        let summary = store.shadow_summary(run.id).unwrap();
        assert_eq!((summary.cycles, summary.decisions), (3, 2));
    }
}
