//! The requests we send sling: method names and keyword parameters.
//!
//! Invariants:
//! - Every call uses named (object) parameters: `sling-job` accepts nothing
//!   else, and names keep the others unambiguous (`sling-stats [true]` and
//!   `sling-stats ["<scid>"]` mean different things positionally).
//! - Amounts go out in whole sats, as sling expects (it multiplies by 1000).
//! - Keys are inserted in sorted order; sling ignores order, but a fixed
//!   order keeps logged requests comparable.

use revops_core::JobSpec;
use serde_json::{Map, Value, json};

pub const JOB: &str = "sling-job";
pub const GO: &str = "sling-go";
pub const STOP: &str = "sling-stop";
pub const DELETE_JOB: &str = "sling-deletejob";
pub const JOB_SETTINGS: &str = "sling-jobsettings";
pub const STATS: &str = "sling-stats";
pub const EXCEPT_PEER: &str = "sling-except-peer";

/// Methods that wait for running tasks to end (up to sling's
/// `sling-timeoutpay`, 120 s by default): `sling-job` stops the tasks of a
/// job it replaces, `sling-deletejob` those of the job it deletes.
pub const BLOCKING_METHODS: [&str; 3] = [JOB, STOP, DELETE_JOB];

/// `sling-job` parameters for a pull job. Call [`JobSpec::validate`] first.
pub fn job(spec: &JobSpec) -> Value {
    let mut m = Map::new();
    m.insert("amount".into(), json!(spec.amount_sat().sat()));
    if !spec.candidates.is_empty() {
        m.insert("candidates".into(), json!(spec.candidates));
    }
    m.insert("direction".into(), json!("pull"));
    if let Some(hops) = spec.max_hops {
        m.insert("maxhops".into(), json!(hops));
    }
    m.insert("maxppm".into(), json!(spec.max_ppm));
    if let Some(out_ppm) = spec.out_ppm {
        m.insert("outppm".into(), json!(out_ppm));
    }
    m.insert("scid".into(), json!(spec.short_channel_id));
    if let Some(target) = spec.target_ratio {
        m.insert("target".into(), json!(target));
    }
    Value::Object(m)
}

/// `sling-go` / `sling-stop` / `sling-jobsettings` for one channel (`None` = all).
pub fn scid(short_channel_id: Option<&str>) -> Value {
    match short_channel_id {
        Some(s) => json!({"scid": s}),
        None => json!({}),
    }
}

/// `sling-deletejob`; `None` deletes every job. Stats are never deleted.
pub fn delete_job(short_channel_id: Option<&str>) -> Value {
    json!({"delete_stats": false, "job": short_channel_id.unwrap_or("all")})
}

/// `sling-stats` as JSON: the overview of every job, or one channel's history.
pub fn stats(short_channel_id: Option<&str>) -> Value {
    match short_channel_id {
        Some(s) => json!({"json": true, "scid": s}),
        None => json!({"json": true}),
    }
}

pub fn except_peer_list() -> Value {
    json!({"command": "list"})
}

pub fn except_peer(add: bool, peer_id: &str) -> Value {
    json!({"command": if add { "add" } else { "remove" }, "id": peer_id})
}
