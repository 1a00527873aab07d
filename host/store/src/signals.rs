//! What fee guidance and the deadband need beyond the forwards themselves:
//! when a channel was first seen and last forwarded, what each channel
//! earned, and each channel's deadband sleep. (What rebalancing cost is in
//! [`crate::rebalances`]; how reliably each peer's forwards settle in
//! [`crate::reputation`].)
//!
//! Invariants:
//! - A channel's first-seen time is written once and never moves.
//! - Sleep rows are advice for the next cycle only: losing one wakes the
//!   channel, never changes a fee.

use crate::{Store, StoreError, from_sql_u64, to_sql_i64};
use revops_core::Msat;
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;

/// When a channel last earned and when the plugin first saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelActivity {
    /// Latest settled forward out through the channel (a pruned day counts
    /// from its start), if any.
    pub last_forward_out_at: Option<u64>,
    pub first_seen_at: Option<u64>,
}

impl ChannelActivity {
    /// Seconds without a forward out: since the last one, or since the
    /// channel was first seen if it never forwarded.
    pub fn idle_secs(&self, now: u64) -> u64 {
        match self.last_forward_out_at.max(self.first_seen_at) {
            Some(since) => now.saturating_sub(since),
            None => 0,
        }
    }
}

/// A channel's deadband: how many cycles its revenue rate stayed flat, and
/// whether it sleeps.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct SleepState {
    pub short_channel_id: String,
    pub flat_cycles: u32,
    pub last_rate_msat_per_hour: Option<f64>,
    /// Asleep until this time (unix seconds), if asleep.
    pub asleep_until: Option<u64>,
    /// The revenue rate when it fell asleep; a change of more than 20 %
    /// wakes it early.
    pub asleep_rate_msat_per_hour: Option<f64>,
}

impl Store {
    /// Remember the first time each channel was seen (no-op for known ones).
    pub fn mark_channels_seen<'a>(
        &self,
        short_channel_ids: impl IntoIterator<Item = &'a str>,
        now: u64,
    ) -> Result<(), StoreError> {
        let now = to_sql_i64(now, "now")?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO channels_seen (short_channel_id, first_seen_at) VALUES (?1, ?2)",
            )?;
            for scid in short_channel_ids {
                insert.execute(params![scid, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Last forward out and first sighting, per channel.
    pub fn channel_activity(&self) -> Result<HashMap<String, ChannelActivity>, StoreError> {
        let conn = self.conn();
        let mut activity: HashMap<String, ChannelActivity> = HashMap::new();
        let mut seen = conn.prepare("SELECT short_channel_id, first_seen_at FROM channels_seen")?;
        for row in seen.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (scid, at) = row?;
            activity.entry(scid).or_default().first_seen_at = Some(from_sql_u64(at));
        }
        let mut last = conn.prepare(
            "SELECT out_channel, MAX(resolved_time) FROM forwards
              WHERE status = 'settled' AND out_channel IS NOT NULL GROUP BY out_channel
             UNION ALL
             SELECT short_channel_id, MAX(day) * 86400 FROM daily_forwarding_stats
              WHERE forwards_out > 0 GROUP BY short_channel_id",
        )?;
        for row in last.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
        })? {
            let (scid, at) = row?;
            let entry = activity.entry(scid).or_default();
            entry.last_forward_out_at = entry.last_forward_out_at.max(at.map(from_sql_u64));
        }
        Ok(activity)
    }

    /// Fees earned per outgoing channel since `since`, from live forwards
    /// and the daily aggregates of pruned ones (whole days from `since`'s day).
    pub fn fees_by_channel_since(&self, since: u64) -> Result<HashMap<String, Msat>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT out_channel, SUM(fee_msat) FROM forwards
              WHERE status = 'settled' AND out_channel IS NOT NULL AND resolved_time >= ?1
              GROUP BY out_channel
             UNION ALL
             SELECT short_channel_id, SUM(fee_msat) FROM daily_forwarding_stats
              WHERE day >= ?1 / 86400 GROUP BY short_channel_id",
        )?;
        let mut fees: HashMap<String, Msat> = HashMap::new();
        for row in stmt.query_map(params![to_sql_i64(since, "since")?], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
        })? {
            let (scid, msat) = row?;
            let entry = fees.entry(scid).or_default();
            *entry = Msat(entry.msat().saturating_add(msat.map_or(0, from_sql_u64)));
        }
        Ok(fees)
    }

    pub fn sleep_states(&self) -> Result<HashMap<String, SleepState>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT short_channel_id, flat_cycles, last_rate_msat_per_hour, asleep_until,
                    asleep_rate_msat_per_hour FROM channel_sleep",
        )?;
        let rows = stmt.query_map([], |r| {
            let state = SleepState {
                short_channel_id: r.get(0)?,
                flat_cycles: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                last_rate_msat_per_hour: r.get(2)?,
                asleep_until: r.get::<_, Option<i64>>(3)?.map(from_sql_u64),
                asleep_rate_msat_per_hour: r.get(4)?,
            };
            Ok((state.short_channel_id.clone(), state))
        })?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)
    }

    /// Replace the sleep rows of the given channels, in one transaction.
    pub fn save_sleep_states(&self, states: &[SleepState]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        upsert_sleep_states(&tx, states)?;
        tx.commit()?;
        Ok(())
    }

    /// Wake every sleeping channel; returns how many were asleep after `now`.
    pub fn wake_all(&self, now: u64) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let asleep: i64 = tx.query_row(
            "SELECT COUNT(*) FROM channel_sleep WHERE asleep_until > ?1",
            params![to_sql_i64(now, "now")?],
            |r| r.get(0),
        )?;
        tx.execute(
            "UPDATE channel_sleep SET asleep_until = NULL, asleep_rate_msat_per_hour = NULL,
                                      flat_cycles = 0",
            [],
        )?;
        tx.commit()?;
        Ok(from_sql_u64(asleep))
    }

    /// When `short_channel_id` was first seen, if ever.
    pub fn first_seen_at(&self, short_channel_id: &str) -> Result<Option<u64>, StoreError> {
        let at: Option<i64> = self
            .conn()
            .query_row(
                "SELECT first_seen_at FROM channels_seen WHERE short_channel_id = ?1",
                params![short_channel_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(at.map(from_sql_u64))
    }
}

/// Upsert sleep rows inside the caller's transaction.
pub(crate) fn upsert_sleep_states(
    tx: &rusqlite::Transaction<'_>,
    states: &[SleepState],
) -> Result<(), StoreError> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO channel_sleep (short_channel_id, flat_cycles, last_rate_msat_per_hour,
                                    asleep_until, asleep_rate_msat_per_hour)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (short_channel_id) DO UPDATE SET
           flat_cycles = excluded.flat_cycles,
           last_rate_msat_per_hour = excluded.last_rate_msat_per_hour,
           asleep_until = excluded.asleep_until,
           asleep_rate_msat_per_hour = excluded.asleep_rate_msat_per_hour",
    )?;
    for s in states {
        let until = s
            .asleep_until
            .map(|t| to_sql_i64(t, "asleep_until"))
            .transpose()?;
        upsert.execute(params![
            s.short_channel_id,
            i64::from(s.flat_cycles),
            s.last_rate_msat_per_hour,
            until,
            s.asleep_rate_msat_per_hour,
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use revops_core::{ForwardRecord, ForwardStatus};

    fn store() -> Store {
        Store::open_in_memory().unwrap()
    }

    fn forward(
        index: u64,
        in_channel: &str,
        status: ForwardStatus,
        resolved: u64,
    ) -> ForwardRecord {
        ForwardRecord {
            created_index: index,
            in_channel: in_channel.into(),
            out_channel: Some("9x9x9".into()),
            in_msat: Msat(1_001_000),
            out_msat: Some(Msat(1_000_000)),
            fee_msat: Some(Msat(1_000)),
            status,
            received_time: resolved - 1,
            resolved_time: Some(resolved),
        }
    }

    #[test]
    fn first_sighting_is_kept_and_idle_time_counts_from_it_until_a_forward() {
        let store = store();
        store.mark_channels_seen(["9x9x9", "8x8x8"], 1_000).unwrap();
        store.mark_channels_seen(["9x9x9"], 5_000).unwrap();
        store
            .ingest_forwards(&[forward(1, "1x1x1", ForwardStatus::Settled, 3_000)])
            .unwrap();
        let activity = store.channel_activity().unwrap();
        assert_eq!(activity["8x8x8"].idle_secs(10_000), 9_000);
        assert_eq!(activity["9x9x9"].first_seen_at, Some(1_000));
        assert_eq!(activity["9x9x9"].idle_secs(10_000), 7_000);
    }

    #[test]
    fn wake_all_clears_every_sleep_and_counts_the_sleepers() {
        let store = store();
        let asleep = |scid: &str, until| SleepState {
            short_channel_id: scid.into(),
            flat_cycles: 0,
            last_rate_msat_per_hour: Some(0.0),
            asleep_until: Some(until),
            asleep_rate_msat_per_hour: Some(0.0),
        };
        store
            .save_sleep_states(&[asleep("1x1x1", 500), asleep("2x2x2", 50)])
            .unwrap();
        assert_eq!(store.wake_all(100).unwrap(), 1);
        assert!(
            store
                .sleep_states()
                .unwrap()
                .values()
                .all(|s| s.asleep_until.is_none())
        );
    }
}
