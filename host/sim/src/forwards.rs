//! The forwards lightningd remembers (`listforwards`), stored compactly.
//!
//! Invariants:
//! - Records are append-only; `created_index` = position + 1, strictly increasing.
//! - `updated_index` is assigned, from its own counter, to forwards that changed
//!   state after creation (settled / failed); `local_failed` forwards are born
//!   failed and have none. Because every forward resolves as it is created, the
//!   updated order equals the created order among those that have one.
//! - Fields follow CLN's schema: settled/failed carry out_msat, fee_msat and
//!   resolved_time; local_failed carry failcode/failreason and no resolved_time.

use revops_core::{ForwardRecord, ForwardStatus, Msat};
use serde_json::{Map, Value, json};

/// `WIRE_TEMPORARY_CHANNEL_FAILURE` (UPDATE | 7).
pub(crate) const TEMPORARY_CHANNEL_FAILURE: u16 = 0x1007;

/// One forward in ~64 bytes, so a million fit comfortably in memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StoredForward {
    pub(crate) received_ms: u64,
    pub(crate) in_msat: u64,
    /// 0 when the HTLC never left (local_failed).
    pub(crate) out_msat: u64,
    pub(crate) in_htlc_id: u64,
    /// `u64::MAX` when the HTLC never left.
    pub(crate) out_htlc_id: u64,
    /// 0 = never updated.
    pub(crate) updated_index: u64,
    pub(crate) resolve_after_ms: u32,
    pub(crate) in_channel: u32,
    pub(crate) out_channel: u32,
    pub(crate) status: ForwardStatus,
    /// 0 = none.
    pub(crate) failcode: u16,
}

/// Filters of `listforwards`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ForwardQuery {
    pub(crate) status: Option<ForwardStatus>,
    pub(crate) in_channel: Option<u32>,
    pub(crate) out_channel: Option<u32>,
    pub(crate) by_updated: bool,
    pub(crate) start: u64,
    pub(crate) limit: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ForwardLog {
    records: Vec<StoredForward>,
    last_updated_index: u64,
}

impl ForwardLog {
    pub(crate) fn with_capacity(n: usize) -> Self {
        ForwardLog {
            records: Vec::with_capacity(n),
            last_updated_index: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Appends a forward, assigning its updated_index when it has one.
    pub(crate) fn push(&mut self, mut record: StoredForward) -> u64 {
        record.updated_index = match record.status {
            ForwardStatus::Settled | ForwardStatus::Failed => {
                self.last_updated_index += 1;
                self.last_updated_index
            }
            ForwardStatus::Offered | ForwardStatus::LocalFailed => 0,
        };
        self.records.push(record);
        self.records.len() as u64
    }

    /// `(created_index, record)` matching the query, in index order.
    pub(crate) fn query<'a>(
        &'a self,
        q: &'a ForwardQuery,
    ) -> impl Iterator<Item = (u64, &'a StoredForward)> + 'a {
        // With index=created the start is a position: skip straight to it.
        let skip = if q.by_updated {
            0
        } else {
            q.start.saturating_sub(1) as usize
        };
        let limit = q.limit.map(|l| l as usize).unwrap_or(usize::MAX);
        self.records
            .iter()
            .enumerate()
            .skip(skip)
            .map(|(i, r)| (i as u64 + 1, r))
            .filter(move |(_, r)| {
                (!q.by_updated || (r.updated_index != 0 && r.updated_index >= q.start))
                    && q.status.is_none_or(|s| s == r.status)
                    && q.in_channel.is_none_or(|c| c == r.in_channel)
                    && q.out_channel.is_none_or(|c| c == r.out_channel)
            })
            .take(limit)
    }
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

impl StoredForward {
    pub(crate) fn fee_msat(&self) -> u64 {
        self.in_msat.saturating_sub(self.out_msat)
    }

    pub(crate) fn resolved_ms(&self) -> u64 {
        self.received_ms + self.resolve_after_ms as u64
    }

    /// The listforwards entry, fields in lightningd's order.
    pub(crate) fn to_json(self, created_index: u64, scids: &[String]) -> Value {
        let mut m = Map::new();
        m.insert("created_index".into(), json!(created_index));
        if self.updated_index != 0 {
            m.insert("updated_index".into(), json!(self.updated_index));
        }
        m.insert("in_channel".into(), json!(scids[self.in_channel as usize]));
        m.insert("in_htlc_id".into(), json!(self.in_htlc_id));
        m.insert(
            "out_channel".into(),
            json!(scids[self.out_channel as usize]),
        );
        if self.out_htlc_id != u64::MAX {
            m.insert("out_htlc_id".into(), json!(self.out_htlc_id));
        }
        m.insert("in_msat".into(), json!(self.in_msat));
        if self.status != ForwardStatus::LocalFailed {
            m.insert("out_msat".into(), json!(self.out_msat));
            m.insert("fee_msat".into(), json!(self.fee_msat()));
        }
        m.insert("status".into(), json!(self.status.as_str()));
        if self.failcode != 0 {
            m.insert("failcode".into(), json!(self.failcode));
            m.insert("failreason".into(), json!(failreason(self.failcode)));
        }
        m.insert("style".into(), json!("tlv"));
        m.insert("received_time".into(), json!(seconds(self.received_ms)));
        if matches!(self.status, ForwardStatus::Settled | ForwardStatus::Failed) {
            m.insert("resolved_time".into(), json!(seconds(self.resolved_ms())));
        }
        Value::Object(m)
    }

    /// The engine's domain type for this forward.
    pub(crate) fn to_record(self, created_index: u64, scids: &[String]) -> ForwardRecord {
        let left = self.status != ForwardStatus::LocalFailed;
        ForwardRecord {
            created_index,
            in_channel: scids[self.in_channel as usize].clone(),
            out_channel: Some(scids[self.out_channel as usize].clone()),
            in_msat: Msat(self.in_msat),
            out_msat: left.then_some(Msat(self.out_msat)),
            fee_msat: left.then_some(Msat(self.fee_msat())),
            status: self.status,
            received_time: self.received_ms / 1000,
            resolved_time: matches!(self.status, ForwardStatus::Settled | ForwardStatus::Failed)
                .then_some(self.resolved_ms() / 1000),
        }
    }
}

fn failreason(code: u16) -> &'static str {
    match code {
        TEMPORARY_CHANNEL_FAILURE => "WIRE_TEMPORARY_CHANNEL_FAILURE",
        _ => "WIRE_UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fwd(status: ForwardStatus) -> StoredForward {
        StoredForward {
            received_ms: 1_000,
            in_msat: 1_010,
            out_msat: 1_000,
            in_htlc_id: 1,
            out_htlc_id: 2,
            updated_index: 0,
            resolve_after_ms: 500,
            in_channel: 0,
            out_channel: 1,
            status,
            failcode: 0,
        }
    }

    #[test]
    fn indexes_follow_cln_rules() {
        let mut log = ForwardLog::default();
        log.push(fwd(ForwardStatus::Settled));
        log.push(StoredForward {
            out_msat: 0,
            out_htlc_id: u64::MAX,
            failcode: TEMPORARY_CHANNEL_FAILURE,
            ..fwd(ForwardStatus::LocalFailed)
        });
        log.push(fwd(ForwardStatus::Failed));
        let q = ForwardQuery {
            by_updated: true,
            start: 2,
            ..ForwardQuery::default()
        };
        let hits: Vec<u64> = log.query(&q).map(|(i, _)| i).collect();
        assert_eq!(hits, vec![3]);
        let q = ForwardQuery {
            start: 2,
            limit: Some(1),
            ..ForwardQuery::default()
        };
        let hits: Vec<u64> = log.query(&q).map(|(i, _)| i).collect();
        assert_eq!(hits, vec![2]);
    }

    #[test]
    fn local_failed_has_no_resolution_fields() {
        let scids = vec!["1x1x0".to_string(), "2x1x0".to_string()];
        let v = StoredForward {
            out_msat: 0,
            out_htlc_id: u64::MAX,
            failcode: TEMPORARY_CHANNEL_FAILURE,
            ..fwd(ForwardStatus::LocalFailed)
        }
        .to_json(1, &scids);
        assert!(v.get("resolved_time").is_none());
        assert!(v.get("out_msat").is_none());
        assert!(v.get("updated_index").is_none());
        assert_eq!(v["failcode"], 4103);
    }
}
