//! `sling-stats` contents: the job overview rows and one channel's
//! success/failure summaries, computed the way sling computes them.
//!
//! Invariants:
//! - Objects are built with sorted keys, as sling emits them.
//! - Summaries cover the stats window (30 days, sling's default); the
//!   overview's `last_*` times use the whole stored history, as sling's do.
//! - Where sling iterates a hash map (ties in top-5 lists and in the most
//!   common hop count), the sim breaks ties deterministically: larger first,
//!   then by name; equal hop counts → the smaller count.
//! - The sim has no gossip, so an alias is the scenario's channel label.

use super::{FailureRecord, SuccessRecord};
use crate::network::SimNetwork;
use crate::rpc::format::local_datetime;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// `sling-stats-delete-successes-age` / `-failures-age` default, in days.
pub(crate) const WINDOW_DAYS: u64 = 30;
const NEVER: &str = "Never";

impl SimNetwork {
    fn window_start_secs(&self) -> u64 {
        self.now().saturating_sub(WINDOW_DAYS * 86_400)
    }

    fn alias_of_scid(&self, scid: &str) -> String {
        self.by_scid
            .get(scid)
            .map(|&i| self.channels[i].spec.label.clone())
            .unwrap_or_else(|| scid.to_string())
    }

    fn alias_of_peer(&self, peer_id: &str) -> String {
        self.channels
            .iter()
            .find(|c| c.spec.peer_id == peer_id)
            .map(|c| c.spec.label.clone())
            .unwrap_or_else(|| peer_id.to_string())
    }

    fn window_successes(&self, scid: &str) -> Vec<&SuccessRecord> {
        let from = self.window_start_secs();
        self.sling
            .successes
            .get(scid)
            .map(|v| v.iter().filter(|r| r.at_secs >= from).collect())
            .unwrap_or_default()
    }

    fn window_failures(&self, scid: &str) -> Vec<&FailureRecord> {
        let from = self.window_start_secs();
        self.sling
            .failures
            .get(scid)
            .map(|v| v.iter().filter(|r| r.at_secs >= from).collect())
            .unwrap_or_default()
    }

    /// The overview rows (`sling-stats {"json": true}`): every stored job,
    /// sorted by alias ignoring case, spaces and `@`.
    pub(crate) fn sling_overview_rows(&self) -> Vec<Value> {
        let mut rows: Vec<(String, Value)> = self
            .sling
            .jobs
            .keys()
            .map(|scid| {
                let alias = self.alias_of_scid(scid);
                (sort_key(&alias), self.overview_row(scid, alias))
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows.into_iter().map(|(_, row)| row).collect()
    }

    fn overview_row(&self, scid: &str, alias: String) -> Value {
        let mut status: Vec<String> = match self.sling.tasks.get(scid) {
            Some(tasks) if !tasks.is_empty() => tasks
                .iter()
                .enumerate()
                .map(|(i, t)| format!("{}:{}", i + 1, t.state))
                .collect(),
            _ => vec!["1:NotStarted".to_string()],
        };
        // sling sorts the strings themselves.
        status.sort();
        let successes = self.window_successes(scid);
        let total_msat: u64 = successes.iter().map(|r| r.amount_msat).sum();
        let last_success = self
            .sling
            .successes
            .get(scid)
            .and_then(|v| v.last())
            .map(|r| r.at_secs);
        let last_failure = self
            .sling
            .failures
            .get(scid)
            .and_then(|v| v.last())
            .map(|r| r.at_secs);
        let last_route = last_success.max(last_failure);
        let pubkey = self
            .by_scid
            .get(scid)
            .map(|&i| self.channels[i].spec.peer_id.clone())
            .unwrap_or_default();
        json!({
            "alias": alias,
            "last_route_taken": last_route.map(local_datetime).unwrap_or_else(|| NEVER.into()),
            "last_success_reb": last_success.map(local_datetime).unwrap_or_else(|| NEVER.into()),
            "pubkey": pubkey,
            "rebamount": with_commas(total_msat / 1000),
            "scid": scid,
            "status": status,
            "w_feeppm": weighted_ppm(&successes),
        })
    }

    /// `sling-stats {"scid": …, "json": true}`.
    pub(crate) fn sling_scid_stats(&self, scid: &str) -> Value {
        json!({
            "failures_in_time_window": self.failures_window(scid),
            "successes_in_time_window": self.successes_window(scid),
        })
    }

    fn successes_window(&self, scid: &str) -> Value {
        let s = self.window_successes(scid);
        let Some(last) = s.last() else {
            return Value::Null;
        };
        let mut ppms: Vec<u64> = s.iter().map(|r| r.fee_ppm).collect();
        ppms.sort_unstable();
        let p90_index = ((ppms.len() as f64 * 0.9).ceil() as usize).max(1) - 1;
        let total_msat: u64 = s.iter().map(|r| r.amount_msat).sum();
        let fees_msat: u64 = s.iter().map(|r| r.fee_msat).sum();
        let latest = s.iter().map(|r| r.at_secs).max().unwrap_or(0);
        json!({
            "feeppm_90th_percentile": ppms[p90_index],
            "feeppm_max": ppms[ppms.len() - 1],
            "feeppm_median": ppms[ppms.len() / 2],
            "feeppm_min": ppms[0],
            "feeppm_weighted_avg": weighted_ppm(&s),
            "last_channel_partner": last.partner_scid,
            "most_common_hop_count": most_common(s.iter().map(|r| r.hops)),
            "time_of_last_rebalance": local_datetime(latest),
            "time_window_days": WINDOW_DAYS.to_string(),
            "top_5_channel_partners": self.top_partners(s.iter().map(|r| (&r.partner_scid, r.amount_msat))),
            "total_amount_sats": total_msat / 1000,
            "total_rebalances": s.len(),
            // msat fees summed, then cut to sat (4 × 61,005 msat → 244).
            "total_spent_sats": fees_msat / 1000,
        })
    }

    fn failures_window(&self, scid: &str) -> Value {
        let f = self.window_failures(scid);
        if f.is_empty() {
            return Value::Null;
        }
        let total_msat: u64 = f.iter().map(|r| r.amount_msat).sum();
        let latest = f.iter().map(|r| r.at_secs).max().unwrap_or(0);
        let nodes = top5(f.iter().map(|r| (r.fail_node.clone(), 1)));
        let reasons = top5(f.iter().map(|r| (r.reason.to_string(), 1)));
        json!({
            "most_common_hop_count": most_common(f.iter().map(|r| r.hops)),
            "time_of_last_attempt": local_datetime(latest),
            "time_window_days": WINDOW_DAYS.to_string(),
            "top_5_channel_partners": self.top_partners(f.iter().map(|r| (&r.partner_scid, r.amount_msat))),
            "top_5_fail_nodes": nodes.into_iter().map(|(id, count)| json!({
                "alias": self.alias_of_peer(&id),
                "count": count,
                "peer_id": id,
            })).collect::<Vec<_>>(),
            "top_5_failure_reasons": reasons.into_iter().map(|(reason, count)| json!({
                "failure_count": count,
                "failure_reason": reason,
            })).collect::<Vec<_>>(),
            "total_amount_tried_sats": total_msat / 1000,
            "total_rebalances_tried": f.len(),
        })
    }

    /// Sats per partner channel (each record's amount cut to sat, then summed).
    fn top_partners<'a>(&self, records: impl Iterator<Item = (&'a String, u64)>) -> Vec<Value> {
        top5(records.map(|(scid, msat)| (scid.clone(), msat / 1000)))
            .into_iter()
            .map(|(scid, sats)| {
                json!({"alias": self.alias_of_scid(&scid), "sats": sats, "scid": scid})
            })
            .collect()
    }

    /// The overview as sling's text table (`sling-stats` without `json`).
    pub(crate) fn sling_overview_table(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .sling_overview_rows()
            .iter()
            .map(|r| {
                let status: Vec<&str> = r["status"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                vec![
                    text(&r["alias"]),
                    text(&r["scid"]),
                    text(&r["pubkey"]),
                    status.join("\n"),
                    text(&r["rebamount"]),
                    text(&r["w_feeppm"]),
                    text(&r["last_route_taken"]),
                    text(&r["last_success_reb"]),
                ]
            })
            .collect();
        ascii_table(
            &[
                "alias",
                "scid",
                "pubkey",
                "status_str",
                "rebamount",
                "w_feeppm",
                "last_route_taken",
                "last_success_reb",
            ],
            &rows,
        )
    }

    /// One channel's history as text: a successes part and a failures part,
    /// each empty when there is no history of that kind.
    pub(crate) fn sling_scid_text(&self, scid: &str) -> String {
        let stats = self.sling_scid_stats(scid);
        let part = |title: &str, v: &Value| match v.as_object() {
            None => String::new(),
            Some(m) => {
                let rows: Vec<Vec<String>> =
                    m.iter().map(|(k, v)| vec![k.clone(), text(v)]).collect();
                format!("{title}\n{}", ascii_table(&["name", "value"], &rows))
            }
        };
        format!(
            "{}\n{}",
            part(
                "Successes in time window",
                &stats["successes_in_time_window"]
            ),
            part("Failures in time window", &stats["failures_in_time_window"])
        )
    }
}

/// Strings as they are, anything else as compact JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn sort_key(alias: &str) -> String {
    alias
        .chars()
        .filter(|c| c.is_ascii() && !c.is_whitespace() && *c != '@')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Amount-weighted ppm, integer division as sling does (0 without successes).
fn weighted_ppm(s: &[&SuccessRecord]) -> u64 {
    let total: u128 = s.iter().map(|r| r.amount_msat as u128).sum();
    if total == 0 {
        return 0;
    }
    let weighted: u128 = s
        .iter()
        .map(|r| r.fee_ppm as u128 * r.amount_msat as u128)
        .sum();
    (weighted / total) as u64
}

fn most_common(hops: impl Iterator<Item = u8>) -> u8 {
    let mut counts: BTreeMap<u8, u64> = BTreeMap::new();
    for h in hops {
        *counts.entry(h).or_default() += 1;
    }
    // Largest count; among equals the smallest hop count (first in the map).
    counts
        .iter()
        .fold(
            (0u8, 0u64),
            |best, (&h, &n)| if n > best.1 { (h, n) } else { best },
        )
        .0
}

/// Sums per key, then the five largest (ties by key).
fn top5(items: impl Iterator<Item = (String, u64)>) -> Vec<(String, u64)> {
    let mut sums: BTreeMap<String, u64> = BTreeMap::new();
    for (k, v) in items {
        *sums.entry(k).or_default() += v;
    }
    let mut v: Vec<(String, u64)> = sums.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(5);
    v
}

/// `1234567` → `"1,234,567"` (en-locale thousands commas).
pub(crate) fn with_commas(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// An ASCII grid (`+---+`, a rule after every row), cells left-aligned with
/// one space of padding, multi-line cells stacked: the style sling's tables use.
pub(crate) fn ascii_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            for line in cell.lines() {
                *w = (*w).max(line.chars().count());
            }
        }
    }
    let rule: String = widths.iter().fold("+".to_string(), |mut s, w| {
        s.push_str(&"-".repeat(w + 2));
        s.push('+');
        s
    });
    let mut out = vec![rule.clone()];
    let header_row: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header_row).chain(rows) {
        let lines: Vec<Vec<&str>> = row
            .iter()
            .map(|c| {
                let l: Vec<&str> = c.lines().collect();
                if l.is_empty() { vec![""] } else { l }
            })
            .collect();
        let height = lines.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            let mut line = "|".to_string();
            for (cell, w) in lines.iter().zip(&widths) {
                let part = cell.get(k).copied().unwrap_or("");
                line.push(' ');
                line.push_str(part);
                line.push_str(&" ".repeat(w - part.chars().count() + 1));
                line.push('|');
            }
            out.push(line);
        }
        out.push(rule.clone());
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_like_the_en_locale() {
        assert_eq!(with_commas(0), "0");
        assert_eq!(with_commas(999), "999");
        assert_eq!(with_commas(800_000), "800,000");
        assert_eq!(with_commas(1_234_567), "1,234,567");
    }

    #[test]
    fn ascii_table_stacks_multi_line_cells() {
        let t = ascii_table(&["a", "status"], &[vec!["x".into(), "1:A\n2:Bb".into()]]);
        assert_eq!(
            t,
            "+---+--------+\n| a | status |\n+---+--------+\n| x | 1:A    |\n|   | 2:Bb   |\n+---+--------+"
        );
        // No rows: just the header between two rules.
        assert_eq!(ascii_table(&["a"], &[]), "+---+\n| a |\n+---+");
    }

    #[test]
    fn most_common_prefers_the_smaller_count_on_ties() {
        assert_eq!(most_common([3, 2, 3, 2].into_iter()), 2);
        assert_eq!(most_common([3, 3, 2].into_iter()), 3);
    }
}
