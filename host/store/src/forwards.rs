//! Incremental forward ingestion and per-channel earnings.
//!
//! Invariant: the `listforwards` cursor only moves past forwards in a final
//! state (settled / failed / local_failed). An `offered` forward is read again
//! next time, so its settlement is never missed; rows are upserted by
//! `created_index`, so re-reading is idempotent.

use crate::{Store, StoreError, to_sql_i64};
use revops_core::{ForwardRecord, ForwardStatus, Msat};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// The forward-ingestion cursor's row in `ingest_cursors`.
pub(crate) const FORWARDS_CURSOR: &str = "listforwards.created";

/// An `ingest_cursors` row's `next_index`; 0 before it was first written.
pub(crate) fn read_cursor(conn: &Connection, name: &str) -> Result<i64, StoreError> {
    Ok(conn
        .query_row(
            "SELECT next_index FROM ingest_cursors WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Moves an `ingest_cursors` row to `next_index`.
pub(crate) fn write_cursor(
    conn: &Connection,
    name: &str,
    next_index: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO ingest_cursors (name, next_index) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET next_index = excluded.next_index",
        params![name, next_index],
    )?;
    Ok(())
}

impl Store {
    /// The `created_index` to start the next `listforwards` page at.
    pub fn forwards_cursor(&self) -> Result<u64, StoreError> {
        Ok(crate::from_sql_u64(read_cursor(
            &self.conn(),
            FORWARDS_CURSOR,
        )?))
    }

    /// Store one page of forwards (oldest first) and advance the cursor past
    /// the leading run of final ones, in one transaction. Returns the new cursor.
    pub fn ingest_forwards(&self, page: &[ForwardRecord]) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut cursor = read_cursor(&tx, FORWARDS_CURSOR)?;
        let mut blocked = false;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO forwards (created_index, in_channel, out_channel, in_msat, out_msat,
                   fee_msat, status, received_time, resolved_time)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (created_index) DO UPDATE SET out_channel = excluded.out_channel,
                   out_msat = excluded.out_msat, fee_msat = excluded.fee_msat,
                   status = excluded.status, resolved_time = excluded.resolved_time",
            )?;
            for f in page {
                let index = to_sql_i64(f.created_index, "created_index")?;
                insert.execute(params![
                    index,
                    f.in_channel,
                    f.out_channel,
                    to_sql_i64(f.in_msat.msat(), "in_msat")?,
                    f.out_msat
                        .map(|m| to_sql_i64(m.msat(), "out_msat"))
                        .transpose()?,
                    f.fee_msat
                        .map(|m| to_sql_i64(m.msat(), "fee_msat"))
                        .transpose()?,
                    f.status.as_str(),
                    to_sql_i64(f.received_time, "received_time")?,
                    f.resolved_time
                        .map(|t| to_sql_i64(t, "resolved_time"))
                        .transpose()?,
                ])?;
                if f.status == ForwardStatus::Offered {
                    blocked = true;
                }
                if !blocked && index >= cursor {
                    cursor = index + 1;
                }
            }
        }
        write_cursor(&tx, FORWARDS_CURSOR, cursor)?;
        tx.commit()?;
        Ok(crate::from_sql_u64(cursor))
    }

    /// Fees earned and amount forwarded out through `short_channel_id` by
    /// forwards settled in `(since, until]` (unix seconds).
    pub fn channel_earnings(
        &self,
        short_channel_id: &str,
        since: u64,
        until: u64,
    ) -> Result<(Msat, Msat), StoreError> {
        let (fees, out): (i64, i64) = self.conn().query_row(
            "SELECT COALESCE(SUM(fee_msat), 0), COALESCE(SUM(out_msat), 0) FROM forwards
             WHERE status = 'settled' AND out_channel = ?1
               AND resolved_time > ?2 AND resolved_time <= ?3",
            params![
                short_channel_id,
                to_sql_i64(since, "since")?,
                to_sql_i64(until, "until")?
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((
            Msat(crate::from_sql_u64(fees)),
            Msat(crate::from_sql_u64(out)),
        ))
    }

    /// When the oldest forward we know of arrived (unix seconds).
    pub fn oldest_forward_time(&self) -> Result<Option<u64>, StoreError> {
        let t: Option<i64> =
            self.conn()
                .query_row("SELECT MIN(received_time) FROM forwards", [], |r| r.get(0))?;
        Ok(t.map(crate::from_sql_u64))
    }

    /// [`Store::channel_earnings`] for every channel with settled forwards in
    /// `(since, until]`: (fees, amount out) by outgoing short channel id.
    pub fn earnings_by_channel(
        &self,
        since: u64,
        until: u64,
    ) -> Result<HashMap<String, (Msat, Msat)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT out_channel, COALESCE(SUM(fee_msat), 0), COALESCE(SUM(out_msat), 0)
             FROM forwards WHERE status = 'settled' AND out_channel IS NOT NULL
               AND resolved_time > ?1 AND resolved_time <= ?2
             GROUP BY out_channel",
        )?;
        let rows = stmt.query_map(
            params![to_sql_i64(since, "since")?, to_sql_i64(until, "until")?],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )?;
        rows.map(|r| {
            let (scid, fees, out) = r?;
            Ok((
                scid,
                (
                    Msat(crate::from_sql_u64(fees)),
                    Msat(crate::from_sql_u64(out)),
                ),
            ))
        })
        .collect()
    }

    /// Total fees earned by settled forwards resolved in `(since, until]`.
    pub fn total_earnings(&self, since: u64, until: u64) -> Result<Msat, StoreError> {
        let fees: i64 = self.conn().query_row(
            "SELECT COALESCE(SUM(fee_msat), 0) FROM forwards
             WHERE status = 'settled' AND resolved_time > ?1 AND resolved_time <= ?2",
            params![to_sql_i64(since, "since")?, to_sql_i64(until, "until")?],
            |r| r.get(0),
        )?;
        Ok(Msat(crate::from_sql_u64(fees)))
    }

    /// Record the opening feerate seen now; keeps eight days of samples.
    pub fn record_feerate(&self, now: u64, opening_perkw: u32) -> Result<(), StoreError> {
        let conn = self.conn();
        let now_i = to_sql_i64(now, "timestamp")?;
        conn.execute(
            "INSERT INTO feerate_samples (timestamp, opening_perkw) VALUES (?1, ?2)",
            params![now_i, opening_perkw],
        )?;
        conn.execute(
            "DELETE FROM feerate_samples WHERE timestamp < ?1",
            params![now_i - 8 * 86_400],
        )?;
        Ok(())
    }

    /// Mean opening feerate over samples taken at or after `since`.
    pub fn feerate_average(&self, since: u64) -> Result<Option<u32>, StoreError> {
        let avg: Option<f64> = self.conn().query_row(
            "SELECT AVG(opening_perkw) FROM feerate_samples WHERE timestamp >= ?1",
            params![to_sql_i64(since, "since")?],
            |r| r.get(0),
        )?;
        Ok(avg.map(|a| a.round().clamp(0.0, u32::MAX as f64) as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fwd(index: u64, status: ForwardStatus, fee: u64, resolved: u64) -> ForwardRecord {
        ForwardRecord {
            created_index: index,
            in_channel: "1x1x1".into(),
            out_channel: Some("2x2x2".into()),
            in_msat: Msat(1_000_000 + fee),
            out_msat: Some(Msat(1_000_000)),
            fee_msat: Some(Msat(fee)),
            status,
            received_time: resolved.saturating_sub(1),
            resolved_time: if status == ForwardStatus::Offered {
                None
            } else {
                Some(resolved)
            },
        }
    }

    #[test]
    fn cursor_stops_at_an_offered_forward_and_picks_up_its_settlement() {
        let store = Store::open_in_memory().unwrap();
        let page = vec![
            fwd(1, ForwardStatus::Settled, 100, 10),
            fwd(2, ForwardStatus::Offered, 200, 20),
            fwd(3, ForwardStatus::Settled, 300, 30),
        ];
        assert_eq!(store.ingest_forwards(&page).unwrap(), 2);
        assert_eq!(
            store.channel_earnings("2x2x2", 0, 100).unwrap().0,
            Msat(400)
        );
        // Next time the page starts at 2, now settled.
        let page = vec![
            fwd(2, ForwardStatus::Settled, 200, 25),
            fwd(3, ForwardStatus::Settled, 300, 30),
        ];
        assert_eq!(store.ingest_forwards(&page).unwrap(), 4);
        assert_eq!(store.forwards_cursor().unwrap(), 4);
        assert_eq!(
            store.channel_earnings("2x2x2", 0, 100).unwrap().0,
            Msat(600)
        );
        assert_eq!(
            store.channel_earnings("2x2x2", 10, 25).unwrap().0,
            Msat(200)
        );
        assert_eq!(store.total_earnings(0, 100).unwrap(), Msat(600));
        assert_eq!(store.oldest_forward_time().unwrap(), Some(9));
    }

    #[test]
    fn feerate_average_covers_the_window_only() {
        let store = Store::open_in_memory().unwrap();
        store.record_feerate(1_000, 100).unwrap();
        store.record_feerate(2_000, 300).unwrap();
        assert_eq!(store.feerate_average(0).unwrap(), Some(200));
        assert_eq!(store.feerate_average(1_500).unwrap(), Some(300));
        assert_eq!(store.feerate_average(5_000).unwrap(), None);
    }
}
