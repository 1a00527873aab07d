//! The rebalance ledger: one `rebalance_log` row per attempt (expected
//! profit, max fee, actual or estimated fee, outcome, reason) and the budget
//! held for every running one.
//!
//! Invariants:
//! - Starting a rebalance checks the daily budget and takes its reservation
//!   in one `BEGIN IMMEDIATE` transaction: two starters can never both fit
//!   under the same remaining budget.
//! - Spend over the last 24 h = fees of rebalances finished in that time +
//!   every reservation still held; a reservation is released (or turned into
//!   spend) exactly once, when its rebalance finishes, times out or is
//!   cleared.
//! - Rows are finished once: finishing a row that is no longer `running` is
//!   a no-op, so a late report cannot rewrite history.

use crate::{Store, StoreError, from_sql_u64, to_sql_i64};
use revops_core::Msat;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use std::collections::HashMap;

use crate::flow::DAY_SECS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RebalanceOutcome {
    Running,
    Success,
    Failed,
    Timeout,
    Stopped,
    /// Dry-run: what would have been started; nothing was.
    DryRun,
}

impl RebalanceOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RebalanceOutcome::Running => "running",
            RebalanceOutcome::Success => "success",
            RebalanceOutcome::Failed => "failed",
            RebalanceOutcome::Timeout => "timeout",
            RebalanceOutcome::Stopped => "stopped",
            RebalanceOutcome::DryRun => "dry_run",
        }
    }

    fn parse(s: &str) -> RebalanceOutcome {
        match s {
            "running" => RebalanceOutcome::Running,
            "success" => RebalanceOutcome::Success,
            "timeout" => RebalanceOutcome::Timeout,
            "stopped" => RebalanceOutcome::Stopped,
            "dry_run" => RebalanceOutcome::DryRun,
            _ => RebalanceOutcome::Failed,
        }
    }
}

/// A rebalance about to start: liquidity pulled into `to_channel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRebalance {
    pub started_at: u64,
    pub to_channel: String,
    /// Candidate sources handed to the executor, best first.
    pub from_channels: Vec<String>,
    pub amount_msat: Msat,
    pub max_fee_ppm: u32,
    /// The scorer's expected profit (may be negative within tolerance).
    pub expected_profit_msat: i64,
}

impl NewRebalance {
    /// The most this rebalance may cost: what the reservation holds.
    pub fn max_fee_msat(&self) -> Msat {
        Msat(
            (u128::from(self.amount_msat.msat()) * u128::from(self.max_fee_ppm) / 1_000_000)
                .try_into()
                .unwrap_or(u64::MAX),
        )
    }
}

/// How a rebalance ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebalanceEnd {
    pub outcome: RebalanceOutcome,
    pub moved_msat: Msat,
    /// Fee paid, if any is known.
    pub fee_msat: Option<Msat>,
    /// The fee was estimated (e.g. sling's weighted ppm × amount), not
    /// measured by the bookkeeper.
    pub fee_is_estimate: bool,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RebalanceEntry {
    pub id: i64,
    pub started_at: u64,
    pub finished_at: Option<u64>,
    pub to_channel: String,
    pub from_channels: Vec<String>,
    pub amount_msat: Msat,
    pub max_fee_ppm: u32,
    pub expected_profit_msat: i64,
    pub moved_msat: Msat,
    pub fee_msat: Option<Msat>,
    pub fee_is_estimate: bool,
    pub outcome: RebalanceOutcome,
    pub reason: String,
    /// Budget still held for it (running rebalances only).
    pub reserved_msat: Option<Msat>,
    /// The destination's local balance when it started (`None` for rows
    /// written before it was recorded, and for dry runs).
    pub start_local_msat: Option<Msat>,
}

/// The budget as it stands: what was spent in 24 h and what running
/// rebalances hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BudgetUse {
    pub spent_24h_msat: Msat,
    pub held_msat: Msat,
}

impl BudgetUse {
    pub fn committed_msat(&self) -> Msat {
        Msat(
            self.spent_24h_msat
                .msat()
                .saturating_add(self.held_msat.msat()),
        )
    }
}

/// What the ledger says about one destination, for cooldown and backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DestinationHistory {
    pub last_success_at: Option<u64>,
    /// Failed or timed-out attempts since the last success.
    pub consecutive_failures: u32,
    pub last_failure_at: Option<u64>,
}

/// Successful rebalancing into one channel over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RebalanceCost {
    pub count: u64,
    pub moved_msat: Msat,
    pub fee_msat: Msat,
}

impl RebalanceCost {
    /// Average cost in ppm of the amount moved, `None` when nothing moved.
    pub fn average_ppm(&self) -> Option<f64> {
        (self.moved_msat.msat() > 0)
            .then(|| self.fee_msat.msat() as f64 * 1e6 / self.moved_msat.msat() as f64)
    }
}

const ENTRY_COLUMNS: &str = "l.id, l.started_at, l.finished_at, l.to_channel, l.from_channels,
    l.amount_msat, l.max_fee_ppm, l.expected_profit_msat, l.moved_msat, l.fee_msat,
    l.fee_is_estimate, l.outcome, l.reason,
    CASE WHEN r.status = 'held' THEN r.reserved_msat END, l.start_local_msat";

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<RebalanceEntry> {
    let from: String = r.get(4)?;
    Ok(RebalanceEntry {
        id: r.get(0)?,
        started_at: from_sql_u64(r.get(1)?),
        finished_at: r.get::<_, Option<i64>>(2)?.map(from_sql_u64),
        to_channel: r.get(3)?,
        from_channels: from
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        amount_msat: Msat(from_sql_u64(r.get(5)?)),
        max_fee_ppm: u32::try_from(r.get::<_, i64>(6)?).unwrap_or(u32::MAX),
        expected_profit_msat: r.get(7)?,
        moved_msat: Msat(from_sql_u64(r.get(8)?)),
        fee_msat: r.get::<_, Option<i64>>(9)?.map(|f| Msat(from_sql_u64(f))),
        fee_is_estimate: r.get::<_, i64>(10)? != 0,
        outcome: RebalanceOutcome::parse(&r.get::<_, String>(11)?),
        reason: r.get(12)?,
        reserved_msat: r.get::<_, Option<i64>>(13)?.map(|m| Msat(from_sql_u64(m))),
        start_local_msat: r.get::<_, Option<i64>>(14)?.map(|m| Msat(from_sql_u64(m))),
    })
}

fn budget_use(conn: &rusqlite::Connection, now: u64) -> Result<BudgetUse, StoreError> {
    let since = to_sql_i64(now.saturating_sub(DAY_SECS), "since")?;
    let spent: i64 = conn.query_row(
        "SELECT COALESCE(SUM(fee_msat), 0) FROM rebalance_log
          WHERE fee_msat IS NOT NULL AND finished_at >= ?1",
        params![since],
        |r| r.get(0),
    )?;
    let held: i64 = conn.query_row(
        "SELECT COALESCE(SUM(reserved_msat), 0) FROM budget_reservations WHERE status = 'held'",
        [],
        |r| r.get(0),
    )?;
    Ok(BudgetUse {
        spent_24h_msat: Msat(from_sql_u64(spent)),
        held_msat: Msat(from_sql_u64(held)),
    })
}

impl Store {
    /// Start a rebalance if its maximum fee fits the budget: logs it as
    /// `running` and holds its maximum fee. `Ok(Err(use))` is a refusal with
    /// the budget as it stood; nothing was written.
    pub fn start_rebalance(
        &self,
        rebalance: &NewRebalance,
        daily_budget_msat: Msat,
    ) -> Result<Result<i64, BudgetUse>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let used = budget_use(&tx, rebalance.started_at)?;
        let reserve_msat = rebalance.max_fee_msat();
        if used
            .committed_msat()
            .msat()
            .saturating_add(reserve_msat.msat())
            > daily_budget_msat.msat()
        {
            return Ok(Err(used));
        }
        tx.execute(
            "INSERT INTO rebalance_log (started_at, to_channel, from_channels, amount_msat,
                                        max_fee_ppm, expected_profit_msat, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running')",
            params![
                to_sql_i64(rebalance.started_at, "started_at")?,
                rebalance.to_channel,
                rebalance.from_channels.join(","),
                to_sql_i64(rebalance.amount_msat.msat(), "amount_msat")?,
                rebalance.max_fee_ppm,
                rebalance.expected_profit_msat,
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO budget_reservations (rebalance_id, reserved_msat, reserved_at, status)
             VALUES (?1, ?2, ?3, 'held')",
            params![
                id,
                to_sql_i64(reserve_msat.msat(), "reserved_msat")?,
                to_sql_i64(rebalance.started_at, "reserved_at")?,
            ],
        )?;
        tx.commit()?;
        Ok(Ok(id))
    }

    /// Record the destination's local balance at the start of a running
    /// rebalance: the baseline its success is judged against. Returns false
    /// when the row is not running (nothing written).
    pub fn set_rebalance_start_local(
        &self,
        id: i64,
        start_local_msat: Msat,
    ) -> Result<bool, StoreError> {
        let updated = self.conn().execute(
            "UPDATE rebalance_log SET start_local_msat = ?2 WHERE id = ?1 AND outcome = 'running'",
            params![id, to_sql_i64(start_local_msat.msat(), "start_local_msat")?],
        )?;
        Ok(updated == 1)
    }

    /// Log what a dry run would have started; no budget is held.
    pub fn record_dry_run_rebalance(
        &self,
        rebalance: &NewRebalance,
        reason: &str,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO rebalance_log (started_at, finished_at, to_channel, from_channels,
                                        amount_msat, max_fee_ppm, expected_profit_msat,
                                        outcome, reason)
             VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, 'dry_run', ?7)",
            params![
                to_sql_i64(rebalance.started_at, "started_at")?,
                rebalance.to_channel,
                rebalance.from_channels.join(","),
                to_sql_i64(rebalance.amount_msat.msat(), "amount_msat")?,
                rebalance.max_fee_ppm,
                rebalance.expected_profit_msat,
                reason,
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Finish a running rebalance and settle its reservation. Returns false
    /// (and writes nothing) when it was not running any more.
    pub fn finish_rebalance(
        &self,
        id: i64,
        end: &RebalanceEnd,
        now: u64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now_i = to_sql_i64(now, "now")?;
        let fee = end
            .fee_msat
            .map(|f| to_sql_i64(f.msat(), "fee_msat"))
            .transpose()?;
        let updated = tx.execute(
            "UPDATE rebalance_log SET finished_at = ?2, outcome = ?3, moved_msat = ?4,
                    fee_msat = ?5, fee_is_estimate = ?6, reason = ?7
              WHERE id = ?1 AND outcome = 'running'",
            params![
                id,
                now_i,
                end.outcome.as_str(),
                to_sql_i64(end.moved_msat.msat(), "moved_msat")?,
                fee,
                end.fee_is_estimate,
                end.reason,
            ],
        )?;
        if updated == 0 {
            return Ok(false);
        }
        let status = if end.fee_msat.is_some_and(|f| f.msat() > 0) {
            "spent"
        } else {
            "released"
        };
        tx.execute(
            "UPDATE budget_reservations SET status = ?2, released_at = ?3
              WHERE rebalance_id = ?1 AND status = 'held'",
            params![id, status, now_i],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Running rebalances, oldest first, with what they hold.
    pub fn running_rebalances(&self) -> Result<Vec<RebalanceEntry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM rebalance_log l
               LEFT JOIN budget_reservations r ON r.rebalance_id = l.id
              WHERE l.outcome = 'running' ORDER BY l.id"
        ))?;
        let rows = stmt.query_map([], entry)?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)
    }

    /// The latest `limit` attempts, newest first.
    pub fn rebalance_log(&self, limit: u32) -> Result<Vec<RebalanceEntry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM rebalance_log l
               LEFT JOIN budget_reservations r ON r.rebalance_id = l.id
              ORDER BY l.id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit], entry)?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)
    }

    pub fn rebalance(&self, id: i64) -> Result<Option<RebalanceEntry>, StoreError> {
        let conn = self.conn();
        conn.query_row(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM rebalance_log l
                   LEFT JOIN budget_reservations r ON r.rebalance_id = l.id WHERE l.id = ?1"
            ),
            params![id],
            entry,
        )
        .optional()
        .map_err(StoreError::from)
    }

    pub fn budget_use(&self, now: u64) -> Result<BudgetUse, StoreError> {
        budget_use(&self.conn(), now)
    }

    /// Cooldown and backoff facts for every channel ever rebalanced into.
    pub fn destination_histories(&self) -> Result<HashMap<String, DestinationHistory>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "WITH last_success AS (
                 SELECT to_channel, MAX(finished_at) AS at FROM rebalance_log
                  WHERE outcome = 'success' GROUP BY to_channel)
             SELECT l.to_channel, s.at,
                    SUM(l.outcome IN ('failed', 'timeout') AND l.finished_at > COALESCE(s.at, -1)),
                    MAX(CASE WHEN l.outcome IN ('failed', 'timeout') THEN l.finished_at END)
               FROM rebalance_log l LEFT JOIN last_success s ON s.to_channel = l.to_channel
              GROUP BY l.to_channel",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                DestinationHistory {
                    last_success_at: r.get::<_, Option<i64>>(1)?.map(from_sql_u64),
                    consecutive_failures: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(u32::MAX),
                    last_failure_at: r.get::<_, Option<i64>>(3)?.map(from_sql_u64),
                },
            ))
        })?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)
    }

    /// Successful rebalancing into each channel finished at or after `since`.
    pub fn rebalance_costs_by_channel(
        &self,
        since: u64,
    ) -> Result<HashMap<String, RebalanceCost>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT to_channel, COUNT(*), SUM(moved_msat), COALESCE(SUM(fee_msat), 0)
               FROM rebalance_log
              WHERE outcome = 'success' AND finished_at >= ?1 GROUP BY to_channel",
        )?;
        let rows = stmt.query_map(params![to_sql_i64(since, "since")?], |r| {
            Ok((
                r.get::<_, String>(0)?,
                RebalanceCost {
                    count: from_sql_u64(r.get(1)?),
                    moved_msat: Msat(from_sql_u64(r.get(2)?)),
                    fee_msat: Msat(from_sql_u64(r.get(3)?)),
                },
            ))
        })?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAT: u64 = 1000;

    fn new(at: u64, amount_sat: u64, max_fee_ppm: u32) -> NewRebalance {
        NewRebalance {
            started_at: at,
            to_channel: "1x1x1".into(),
            from_channels: vec!["2x2x2".into(), "3x3x3".into()],
            amount_msat: Msat(amount_sat * SAT),
            max_fee_ppm,
            expected_profit_msat: 12_000,
        }
    }

    fn success(moved_sat: u64, fee_sat: u64) -> RebalanceEnd {
        RebalanceEnd {
            outcome: RebalanceOutcome::Success,
            moved_msat: Msat(moved_sat * SAT),
            fee_msat: Some(Msat(fee_sat * SAT)),
            fee_is_estimate: false,
            reason: "destination balance rose".into(),
        }
    }

    #[test]
    fn reservations_hold_the_maximum_fee_and_refuse_past_the_budget() {
        let store = Store::open_in_memory().unwrap();
        let budget = Msat(5_000 * SAT);
        // 1,000,000 sat at 2,000 ppm holds 2,000 sat.
        let first = store
            .start_rebalance(&new(100, 1_000_000, 2_000), budget)
            .unwrap();
        let second = store
            .start_rebalance(&new(100, 1_000_000, 2_000), budget)
            .unwrap();
        assert!(first.is_ok() && second.is_ok());
        let refused = store
            .start_rebalance(&new(100, 1_000_000, 2_000), budget)
            .unwrap();
        assert_eq!(
            refused,
            Err(BudgetUse {
                spent_24h_msat: Msat(0),
                held_msat: Msat(4_000 * SAT)
            })
        );
        assert_eq!(store.running_rebalances().unwrap().len(), 2);
    }

    #[test]
    fn finishing_turns_the_hold_into_spend_or_releases_it_once() {
        let store = Store::open_in_memory().unwrap();
        let budget = Msat(5_000 * SAT);
        let id = store
            .start_rebalance(&new(100, 1_000_000, 2_000), budget)
            .unwrap()
            .unwrap();
        let failed = store
            .start_rebalance(&new(100, 1_000_000, 2_000), budget)
            .unwrap()
            .unwrap();
        assert!(
            store
                .finish_rebalance(id, &success(1_000_000, 700), 200)
                .unwrap()
        );
        let end = RebalanceEnd {
            outcome: RebalanceOutcome::Failed,
            moved_msat: Msat(0),
            fee_msat: None,
            fee_is_estimate: false,
            reason: "no route".into(),
        };
        assert!(store.finish_rebalance(failed, &end, 200).unwrap());
        // A late report changes nothing.
        assert!(!store.finish_rebalance(id, &success(1, 1), 300).unwrap());
        assert_eq!(
            store.budget_use(300).unwrap(),
            BudgetUse {
                spent_24h_msat: Msat(700 * SAT),
                held_msat: Msat(0)
            }
        );
        // A day later the spend has rolled out of the window.
        assert_eq!(
            store.budget_use(200 + DAY_SECS + 1).unwrap().spent_24h_msat,
            Msat(0)
        );
        let logged = store.rebalance(id).unwrap().unwrap();
        assert_eq!(logged.outcome, RebalanceOutcome::Success);
        assert_eq!(logged.start_local_msat, None);
        assert_eq!(logged.from_channels, ["2x2x2", "3x3x3"]);
        assert_eq!(logged.reserved_msat, None);
    }

    #[test]
    fn the_start_balance_is_kept_for_running_rows_only() {
        let store = Store::open_in_memory().unwrap();
        let budget = Msat(5_000 * SAT);
        let id = store
            .start_rebalance(&new(100, 1_000_000, 2_000), budget)
            .unwrap()
            .unwrap();
        assert!(store.set_rebalance_start_local(id, Msat(42_000)).unwrap());
        assert_eq!(
            store.running_rebalances().unwrap()[0].start_local_msat,
            Some(Msat(42_000))
        );
        store.finish_rebalance(id, &success(1, 0), 200).unwrap();
        assert!(!store.set_rebalance_start_local(id, Msat(1)).unwrap());
        assert_eq!(
            store.rebalance(id).unwrap().unwrap().start_local_msat,
            Some(Msat(42_000))
        );
    }

    #[test]
    fn failures_since_the_last_success_are_counted_per_destination() {
        let store = Store::open_in_memory().unwrap();
        let budget = Msat(1_000_000 * SAT);
        let fail = RebalanceEnd {
            outcome: RebalanceOutcome::Failed,
            moved_msat: Msat(0),
            fee_msat: None,
            fee_is_estimate: false,
            reason: "no route".into(),
        };
        for (at, end) in [
            (100, &fail),
            (200, &success(1, 1)),
            (300, &fail),
            (400, &fail),
        ] {
            let id = store
                .start_rebalance(&new(at, 1_000, 100), budget)
                .unwrap()
                .unwrap();
            store.finish_rebalance(id, end, at).unwrap();
        }
        assert_eq!(
            store.destination_histories().unwrap()["1x1x1"],
            DestinationHistory {
                last_success_at: Some(200),
                consecutive_failures: 2,
                last_failure_at: Some(400),
            }
        );
    }

    #[test]
    fn costs_per_channel_count_successes_only() {
        let store = Store::open_in_memory().unwrap();
        let budget = Msat(1_000_000 * SAT);
        for (moved, fee) in [(1_000_000, 500), (3_000_000, 2_500)] {
            let id = store
                .start_rebalance(&new(100, moved, 2_000), budget)
                .unwrap()
                .unwrap();
            store
                .finish_rebalance(id, &success(moved, fee), 150)
                .unwrap();
        }
        store
            .record_dry_run_rebalance(&new(100, 5_000_000, 2_000), "dry-run")
            .unwrap();
        let cost = store.rebalance_costs_by_channel(100).unwrap()["1x1x1"];
        assert_eq!(cost.count, 2);
        assert_eq!(cost.average_ppm(), Some(750.0));
        assert_eq!(store.rebalance_log(10).unwrap().len(), 3);
    }
}
