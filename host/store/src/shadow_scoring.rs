//! Shadow runs of rebalance scorers: what a candidate scorer would have
//! answered for the candidates the live scorer got (see `shadow.rs` for the
//! runs themselves).
//!
//! Invariants: as for fee shadows — one transaction per cycle that also
//! counts the cycle, rows older than [`crate::shadow::SHADOW_KEEP_SECS`]
//! pruned with it, nothing here is ever acted on.

use crate::shadow::{ShadowTable, finish_cycle};
use crate::{Store, StoreError, from_sql_u64, to_sql_i64};
use rusqlite::params;
use serde::Serialize;

/// One scorer's answer for one candidate, in short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VerdictSummary {
    pub accept: bool,
    pub amount_msat: u64,
    pub max_fee_ppm: u32,
    pub expected_profit_msat: i64,
}

/// The live and the shadow scorer's answers for one candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowVerdict {
    pub cycle_at: u64,
    /// The channel to refill.
    pub destination: String,
    pub shadow_version: String,
    /// `name@version` of the live scorer.
    pub live_policy: String,
    /// What the host proposed to move.
    pub proposed_msat: u64,
    /// `None` when the live scorer failed.
    pub live: Option<VerdictSummary>,
    /// `None` when the shadow failed.
    pub shadow: Option<VerdictSummary>,
    /// The shadow's reason, or its failure message.
    pub shadow_reason: String,
    pub shadow_failure_kind: Option<String>,
}

/// A scorer shadow run in aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ShadowScoringSummary {
    pub cycles: u64,
    pub verdicts: u64,
    /// Candidates both answered.
    pub compared: u64,
    /// Both accepted, or both rejected.
    pub agree: u64,
    pub both_accept: u64,
    /// The shadow would have started it; the live scorer did not.
    pub shadow_only_accepts: u64,
    /// The live scorer accepted it; the shadow would not have.
    pub live_only_accepts: u64,
    /// Mean of shadow − live expected profit over compared candidates.
    pub mean_profit_diff_msat: f64,
    pub shadow_failures: u64,
}

fn summary_of(
    accept: Option<bool>,
    amount: Option<i64>,
    fee: Option<u32>,
    profit: Option<i64>,
) -> Option<VerdictSummary> {
    Some(VerdictSummary {
        accept: accept?,
        amount_msat: from_sql_u64(amount?),
        max_fee_ppm: fee?,
        expected_profit_msat: profit?,
    })
}

impl Store {
    /// Records one cycle's scorer shadow verdicts of `run_id`, counts the
    /// cycle and prunes old rows, atomically.
    pub fn record_shadow_verdicts(
        &self,
        run_id: i64,
        verdicts: &[ShadowVerdict],
        now: u64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO shadow_verdicts (run_id, cycle_at, destination, shadow_version,
                    live_policy, proposed_msat, live_accept, live_amount_msat, live_max_fee_ppm,
                    live_expected_profit_msat, shadow_accept, shadow_amount_msat,
                    shadow_max_fee_ppm, shadow_expected_profit_msat, shadow_reason,
                    shadow_failure_kind)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?;
            for v in verdicts {
                let amount = |s: &Option<VerdictSummary>| {
                    s.map(|s| to_sql_i64(s.amount_msat, "amount_msat"))
                        .transpose()
                };
                insert.execute(params![
                    run_id,
                    to_sql_i64(v.cycle_at, "cycle_at")?,
                    v.destination,
                    v.shadow_version,
                    v.live_policy,
                    to_sql_i64(v.proposed_msat, "proposed_msat")?,
                    v.live.map(|s| s.accept),
                    amount(&v.live)?,
                    v.live.map(|s| s.max_fee_ppm),
                    v.live.map(|s| s.expected_profit_msat),
                    v.shadow.map(|s| s.accept),
                    amount(&v.shadow)?,
                    v.shadow.map(|s| s.max_fee_ppm),
                    v.shadow.map(|s| s.expected_profit_msat),
                    v.shadow_reason,
                    v.shadow_failure_kind,
                ])?;
            }
        }
        finish_cycle(&tx, run_id, ShadowTable::Verdicts, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Each destination's latest verdicts in `run_id`.
    pub fn latest_shadow_verdicts(&self, run_id: i64) -> Result<Vec<ShadowVerdict>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT cycle_at, destination, shadow_version, live_policy, proposed_msat,
                    live_accept, live_amount_msat, live_max_fee_ppm, live_expected_profit_msat,
                    shadow_accept, shadow_amount_msat, shadow_max_fee_ppm,
                    shadow_expected_profit_msat, shadow_reason, shadow_failure_kind
             FROM shadow_verdicts
             WHERE rowid IN (SELECT MAX(rowid) FROM shadow_verdicts WHERE run_id = ?1
                             GROUP BY destination)
             ORDER BY destination",
        )?;
        let rows = stmt.query_map(params![run_id], |r| {
            Ok(ShadowVerdict {
                cycle_at: from_sql_u64(r.get(0)?),
                destination: r.get(1)?,
                shadow_version: r.get(2)?,
                live_policy: r.get(3)?,
                proposed_msat: from_sql_u64(r.get(4)?),
                live: summary_of(r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?),
                shadow: summary_of(r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?),
                shadow_reason: r.get(13)?,
                shadow_failure_kind: r.get(14)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// `run_id`'s scorer verdicts in aggregate.
    pub fn shadow_scoring_summary(&self, run_id: i64) -> Result<ShadowScoringSummary, StoreError> {
        let conn = self.conn();
        Ok(conn.query_row(
            "SELECT (SELECT cycles FROM shadow_runs WHERE id = ?1), COUNT(*),
                    COUNT(live_accept + shadow_accept),
                    COALESCE(SUM(live_accept = shadow_accept), 0),
                    COALESCE(SUM(live_accept AND shadow_accept), 0),
                    COALESCE(SUM(shadow_accept AND NOT live_accept), 0),
                    COALESCE(SUM(live_accept AND NOT shadow_accept), 0),
                    COALESCE(AVG(shadow_expected_profit_msat - live_expected_profit_msat), 0.0),
                    COALESCE(SUM(shadow_accept IS NULL), 0)
             FROM shadow_verdicts WHERE run_id = ?1",
            params![run_id],
            |r| {
                let n = |i: usize| r.get::<_, i64>(i).map(from_sql_u64);
                Ok(ShadowScoringSummary {
                    cycles: n(0)?,
                    verdicts: n(1)?,
                    compared: n(2)?,
                    agree: n(3)?,
                    both_accept: n(4)?,
                    shadow_only_accepts: n(5)?,
                    live_only_accepts: n(6)?,
                    mean_profit_diff_msat: r.get(7)?,
                    shadow_failures: n(8)?,
                })
            },
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(destination: &str, live: Option<bool>, shadow: Option<bool>) -> ShadowVerdict {
        let summary = |accept: bool| VerdictSummary {
            accept,
            amount_msat: if accept { 1_000_000 } else { 0 },
            max_fee_ppm: if accept { 500 } else { 0 },
            expected_profit_msat: if accept { 2_000 } else { -100 },
        };
        ShadowVerdict {
            cycle_at: 100,
            destination: destination.to_string(),
            shadow_version: "1.0.0".to_string(),
            live_policy: "rebalance-ev@0.1.0".to_string(),
            proposed_msat: 1_000_000,
            live: live.map(summary),
            shadow: shadow.map(summary),
            shadow_reason: "because".to_string(),
            shadow_failure_kind: shadow.is_none().then(|| "trap".to_string()),
        }
    }

    #[test]
    fn verdicts_summarise_agreement_and_keep_the_latest_per_destination() {
        let store = Store::open_in_memory().unwrap();
        let (run, _) = store.start_shadow("mine", "rebalance-scorer", 0).unwrap();
        store
            .record_shadow_verdicts(
                run.id,
                &[
                    verdict("1x1x1", Some(true), Some(true)),
                    verdict("2x2x2", Some(false), Some(true)),
                    verdict("3x3x3", Some(true), Some(false)),
                    verdict("4x4x4", Some(false), None),
                ],
                100,
            )
            .unwrap();
        let s = store.shadow_scoring_summary(run.id).unwrap();
        assert_eq!((s.cycles, s.verdicts, s.compared), (1, 4, 3));
        assert_eq!((s.agree, s.both_accept), (1, 1));
        assert_eq!((s.shadow_only_accepts, s.live_only_accepts), (1, 1));
        assert_eq!(s.shadow_failures, 1);
        assert_eq!(s.mean_profit_diff_msat, 0.0);
        let latest = store.latest_shadow_verdicts(run.id).unwrap();
        assert_eq!(latest.len(), 4);
        assert_eq!(latest[1].shadow.unwrap().max_fee_ppm, 500);
        assert!(latest[3].shadow.is_none());
        assert!(!latest[3].live.unwrap().accept);
    }
}
