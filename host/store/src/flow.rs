//! Flow data: per-channel daily volumes (live forwards plus the daily
//! aggregates of pruned ones), pruning, and the latest flow classification.
//!
//! Invariants:
//! - Pruning moves settled forwards into `daily_forwarding_stats` and deletes
//!   them in one transaction, so every total (fees, volumes, counts) is the
//!   same before and after.
//! - Only forwards the ingestion cursor has passed are pruned: a final
//!   forward beyond it would be read again and counted twice.

use crate::forwards::{FORWARDS_CURSOR, read_cursor};
use crate::{Store, StoreError, from_sql_u64, to_sql_i64};
use revops_core::Msat;
use rusqlite::params;
use serde::Serialize;
use std::collections::HashMap;

pub const DAY_SECS: u64 = 86_400;

/// One channel's settled volume on one day (unix day number).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DayFlow {
    pub day: u64,
    /// Entering through this channel.
    pub in_msat: u64,
    /// Leaving through this channel.
    pub out_msat: u64,
    /// Earned on forwards leaving through this channel.
    pub fee_msat: u64,
    pub forwards: u64,
}

/// The latest flow classification of a channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelFlow {
    pub short_channel_id: String,
    /// `source`, `sink`, `balanced` or `congested`.
    pub flow_state: String,
    /// (EMA daily out − EMA daily in) ÷ capacity.
    pub flow_ratio: f64,
    pub in_msat_per_day: u64,
    pub out_msat_per_day: u64,
    /// Settled forwards through the channel in the window.
    pub forwards: u64,
    /// Classified from the balance because the window had no forwards.
    pub inferred: bool,
    pub updated_at: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PruneSummary {
    pub forwards_aggregated: u64,
    pub forwards_deleted: u64,
}

impl Store {
    /// Daily volumes per channel from `since_day` on (inclusive).
    pub fn daily_flows(&self, since_day: u64) -> Result<HashMap<String, Vec<DayFlow>>, StoreError> {
        let conn = self.conn();
        let since_secs = to_sql_i64(since_day.saturating_mul(DAY_SECS), "since")?;
        let mut stmt = conn.prepare_cached(
            "SELECT scid, day, SUM(in_msat), SUM(out_msat), SUM(fee_msat), SUM(n) FROM (
               SELECT in_channel AS scid, resolved_time / 86400 AS day, in_msat,
                      0 AS out_msat, 0 AS fee_msat, 1 AS n
                 FROM forwards WHERE status = 'settled' AND resolved_time >= ?1
               UNION ALL
               SELECT out_channel, resolved_time / 86400, 0, out_msat, COALESCE(fee_msat, 0), 1
                 FROM forwards WHERE status = 'settled' AND resolved_time >= ?1
                   AND out_channel IS NOT NULL
               UNION ALL
               SELECT short_channel_id, day, in_msat, out_msat, fee_msat, forwards_in + forwards_out
                 FROM daily_forwarding_stats WHERE day >= ?2
             ) GROUP BY scid, day ORDER BY scid, day",
        )?;
        let rows = stmt.query_map(
            params![since_secs, to_sql_i64(since_day, "since_day")?],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    DayFlow {
                        day: from_sql_u64(r.get(1)?),
                        in_msat: from_sql_u64(r.get(2)?),
                        out_msat: from_sql_u64(r.get(3)?),
                        fee_msat: from_sql_u64(r.get(4)?),
                        forwards: from_sql_u64(r.get(5)?),
                    },
                ))
            },
        )?;
        let mut flows: HashMap<String, Vec<DayFlow>> = HashMap::new();
        for row in rows {
            let (scid, day) = row?;
            flows.entry(scid).or_default().push(day);
        }
        Ok(flows)
    }

    /// Move forwards resolved before `before_secs` into daily aggregates and
    /// delete them.
    pub fn prune_forwards(&self, before_secs: u64) -> Result<PruneSummary, StoreError> {
        let before = to_sql_i64(before_secs, "before")?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let cursor = read_cursor(&tx, FORWARDS_CURSOR)?;
        let prunable = "status = 'settled' AND resolved_time < ?1 AND created_index < ?2";
        let aggregated = tx.query_row(
            &format!("SELECT COUNT(*) FROM forwards WHERE {prunable}"),
            params![before, cursor],
            |r| r.get::<_, i64>(0),
        )?;
        for (side, amount, fee, count_in, count_out) in [
            ("in_channel", "in_msat", "0", "1", "0"),
            ("out_channel", "out_msat", "COALESCE(fee_msat, 0)", "0", "1"),
        ] {
            let (in_amount, out_amount) = if side == "in_channel" {
                (amount, "0")
            } else {
                ("0", amount)
            };
            tx.execute(
                &format!(
                    "INSERT INTO daily_forwarding_stats
                       (short_channel_id, day, in_msat, out_msat, fee_msat, forwards_in, forwards_out)
                     SELECT {side}, resolved_time / 86400, SUM({in_amount}), SUM({out_amount}),
                            SUM({fee}), SUM({count_in}), SUM({count_out})
                       FROM forwards WHERE {prunable} AND {side} IS NOT NULL
                      GROUP BY {side}, resolved_time / 86400
                     ON CONFLICT (short_channel_id, day) DO UPDATE SET
                       in_msat = in_msat + excluded.in_msat,
                       out_msat = out_msat + excluded.out_msat,
                       fee_msat = fee_msat + excluded.fee_msat,
                       forwards_in = forwards_in + excluded.forwards_in,
                       forwards_out = forwards_out + excluded.forwards_out"
                ),
                params![before, cursor],
            )?;
        }
        // Failed forwards carry no money: they go without an aggregate.
        let deleted = tx.execute(
            "DELETE FROM forwards WHERE created_index < ?2 AND status <> 'offered'
               AND COALESCE(resolved_time, received_time) < ?1",
            params![before, cursor],
        )?;
        tx.commit()?;
        Ok(PruneSummary {
            forwards_aggregated: from_sql_u64(aggregated),
            forwards_deleted: deleted as u64,
        })
    }

    /// Fees earned over the node's whole recorded history (live forwards plus
    /// pruned aggregates).
    pub fn lifetime_fees(&self) -> Result<Msat, StoreError> {
        let fees: i64 = self.conn().query_row(
            "SELECT (SELECT COALESCE(SUM(fee_msat), 0) FROM forwards WHERE status = 'settled')
                  + (SELECT COALESCE(SUM(fee_msat), 0) FROM daily_forwarding_stats)",
            [],
            |r| r.get(0),
        )?;
        Ok(Msat(from_sql_u64(fees)))
    }

    pub fn forwards_stored(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM forwards", [], |r| r.get(0))?;
        Ok(from_sql_u64(n))
    }

    pub fn save_channel_flows(&self, flows: &[ChannelFlow]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO channel_flow (short_channel_id, flow_state, flow_ratio, in_msat_per_day,
                   out_msat_per_day, forwards, inferred, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (short_channel_id) DO UPDATE SET flow_state = excluded.flow_state,
                   flow_ratio = excluded.flow_ratio, in_msat_per_day = excluded.in_msat_per_day,
                   out_msat_per_day = excluded.out_msat_per_day, forwards = excluded.forwards,
                   inferred = excluded.inferred, updated_at = excluded.updated_at",
            )?;
            for f in flows {
                upsert.execute(params![
                    f.short_channel_id,
                    f.flow_state,
                    f.flow_ratio,
                    to_sql_i64(f.in_msat_per_day, "in_msat_per_day")?,
                    to_sql_i64(f.out_msat_per_day, "out_msat_per_day")?,
                    to_sql_i64(f.forwards, "forwards")?,
                    f.inferred,
                    to_sql_i64(f.updated_at, "updated_at")?,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn channel_flows(&self) -> Result<HashMap<String, ChannelFlow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT short_channel_id, flow_state, flow_ratio, in_msat_per_day, out_msat_per_day,
                    forwards, inferred, updated_at FROM channel_flow",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ChannelFlow {
                short_channel_id: r.get(0)?,
                flow_state: r.get(1)?,
                flow_ratio: r.get(2)?,
                in_msat_per_day: from_sql_u64(r.get(3)?),
                out_msat_per_day: from_sql_u64(r.get(4)?),
                forwards: from_sql_u64(r.get(5)?),
                inferred: r.get(6)?,
                updated_at: from_sql_u64(r.get(7)?),
            })
        })?;
        rows.map(|r| {
            let f = r?;
            Ok((f.short_channel_id.clone(), f))
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use revops_core::{ForwardRecord, ForwardStatus};

    fn settled(
        index: u64,
        in_ch: &str,
        out_ch: &str,
        out_msat: u64,
        fee: u64,
        at: u64,
    ) -> ForwardRecord {
        ForwardRecord {
            created_index: index,
            in_channel: in_ch.into(),
            out_channel: Some(out_ch.into()),
            in_msat: Msat(out_msat + fee),
            out_msat: Some(Msat(out_msat)),
            fee_msat: Some(Msat(fee)),
            status: ForwardStatus::Settled,
            received_time: at - 1,
            resolved_time: Some(at),
        }
    }

    fn sample_store() -> Store {
        let store = Store::open_in_memory().unwrap();
        let day = DAY_SECS;
        store
            .ingest_forwards(&[
                settled(1, "a", "b", 1_000_000, 100, day + 10),
                settled(2, "a", "b", 2_000_000, 200, day + 20),
                settled(3, "b", "a", 500_000, 50, 2 * day + 5),
                settled(4, "a", "c", 700_000, 70, 3 * day + 5),
            ])
            .unwrap();
        store
    }

    #[test]
    fn pruning_keeps_totals_and_daily_volumes_exact() {
        let store = sample_store();
        let before_fees = store.lifetime_fees().unwrap();
        let before_flows = store.daily_flows(0).unwrap();
        let summary = store.prune_forwards(3 * DAY_SECS).unwrap();
        assert_eq!(summary.forwards_aggregated, 3);
        assert_eq!(summary.forwards_deleted, 3);
        assert_eq!(store.forwards_stored().unwrap(), 1);
        assert_eq!(store.lifetime_fees().unwrap(), before_fees);
        assert_eq!(store.daily_flows(0).unwrap(), before_flows);
        // Pruning again changes nothing.
        assert_eq!(
            store.prune_forwards(3 * DAY_SECS).unwrap().forwards_deleted,
            0
        );
        assert_eq!(store.lifetime_fees().unwrap(), before_fees);
    }

    #[test]
    fn daily_flows_sum_both_sides_of_each_forward() {
        let store = sample_store();
        let flows = store.daily_flows(0).unwrap();
        let b = &flows["b"];
        assert_eq!(
            b[0],
            DayFlow {
                day: 1,
                in_msat: 0,
                out_msat: 3_000_000,
                fee_msat: 300,
                forwards: 2
            }
        );
        assert_eq!(b[1].in_msat, 500_050);
        assert_eq!(store.daily_flows(3).unwrap().get("b"), None);
    }

    #[test]
    fn flows_round_trip() {
        let store = Store::open_in_memory().unwrap();
        let flow = ChannelFlow {
            short_channel_id: "1x1x1".into(),
            flow_state: "source".into(),
            flow_ratio: 0.12,
            in_msat_per_day: 1,
            out_msat_per_day: 2,
            forwards: 3,
            inferred: false,
            updated_at: 9,
        };
        store
            .save_channel_flows(std::slice::from_ref(&flow))
            .unwrap();
        assert_eq!(store.channel_flows().unwrap()["1x1x1"], flow);
    }
}
