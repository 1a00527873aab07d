//! `sling-go`, `sling-stop`, `sling-jobsettings`, `sling-deletejob`.

use super::job::stored_json;
use super::{err, parse_scid};
use crate::network::SimNetwork;
use crate::rpc::SimRpcError;
use crate::sling::Task;
use revops_core::TaskState;
use serde_json::{Map, Value, json};

const ONE_OR_NOTHING: &str = "Please provide exactly one ShortChannelId or nothing";

/// The scid named by `sling-go` / `sling-stop` params (`None` = all).
fn go_stop_scid(method: &str, params: &Value) -> Result<Option<String>, SimRpcError> {
    match params {
        Value::Array(a) if a.len() > 1 => Err(err(ONE_OR_NOTHING)),
        Value::Array(a) => match a.first() {
            None => Ok(None),
            Some(Value::String(s)) => parse_scid(s).map(Some),
            Some(_) => Err(err("invalid ShortChannelId")),
        },
        Value::Object(m) if method == "sling-stop" => match m.get("scid") {
            // sling-stop ignores other keys: no `scid` stops everything.
            None => Ok(None),
            Some(Value::String(s)) => parse_scid(s).map(Some),
            Some(_) => Err(err("invalid scid")),
        },
        Value::Object(m) if m.is_empty() => Ok(None),
        Value::Object(m) => match m.get("scid") {
            Some(Value::String(s)) => parse_scid(s).map(Some),
            _ => Err(err("invalid scid")),
        },
        other => Err(err(format!(
            "{method}: invalid arguments, expected array or object with `scid`, got: {other}"
        ))),
    }
}

pub(crate) fn sling_go(net: &mut SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    if net.sling.jobs.is_empty() {
        return Err(err("No jobs found"));
    }
    let scids: Vec<String> = match go_stop_scid("sling-go", params)? {
        Some(scid) if !net.sling.jobs.contains_key(&scid) => {
            return Err(err("Shortchannelid not found in jobs"));
        }
        Some(scid) => vec![scid],
        None => net.sling.jobs.keys().cloned().collect(),
    };
    let start_at = net.now_ms() + crate::sling::START_DELAY_MS;
    let mut started = 0u64;
    for scid in scids {
        let wanted = net.sling.jobs[&scid]
            .paralleljobs
            .unwrap_or(crate::sling::DEFAULT_PARALLELJOBS) as usize;
        let tasks = net.sling.tasks.entry(scid).or_default();
        tasks.resize(
            wanted,
            Task {
                state: TaskState::NotStarted,
                running: false,
                next_try_ms: start_at,
            },
        );
        // Tasks already running are not counted (a second go gives 0).
        for t in tasks.iter_mut().filter(|t| !t.running) {
            t.running = true;
            t.state = TaskState::Starting;
            t.next_try_ms = start_at;
            started += 1;
        }
    }
    Ok(json!({"tasks_failed_start:": 0, "tasks_started": started}))
}

pub(crate) fn sling_stop(net: &mut SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    let scids: Vec<String> = match go_stop_scid("sling-stop", params)? {
        Some(scid) => vec![scid],
        None => net.sling.tasks.keys().cloned().collect(),
    };
    // Every task sling knows for the scid(s), running or not; unknown → 0.
    let stopped: u64 = scids.iter().map(|s| net.sling.stop_tasks(s)).sum();
    Ok(json!({"stopped_count": stopped}))
}

pub(crate) fn sling_jobsettings(net: &SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    const ONE: &str = "Please provide exactly one ShortChannelId or nothing for all";
    let scid = match params {
        Value::Array(a) if a.len() > 1 => return Err(err(ONE)),
        Value::Array(a) => match a.first() {
            None => None,
            Some(Value::String(s)) => Some(parse_scid(s)?),
            Some(_) => return Err(err("invalid input, not a string")),
        },
        Value::Object(m) if m.len() > 1 => return Err(err(ONE)),
        Value::Object(m) if m.is_empty() => None,
        Value::Object(m) => match m.get("scid") {
            None => return Err(err("Expected object with scid field")),
            Some(Value::String(s)) => Some(parse_scid(s)?),
            Some(_) => return Err(err("invalid scid, not a string")),
        },
        other => {
            return Err(err(format!(
                "sling-jobsettings: invalid arguments, expected array or object with `scid`, got: {other}"
            )));
        }
    };
    let mut out = Map::new();
    match scid {
        Some(scid) => {
            let job = net
                .sling
                .jobs
                .get(&scid)
                .ok_or_else(|| err("channel not found"))?;
            out.insert(scid, stored_json(job));
        }
        None => {
            for (scid, job) in &net.sling.jobs {
                out.insert(scid.clone(), stored_json(job));
            }
        }
    }
    Ok(Value::Object(out))
}

pub(crate) fn sling_deletejob(net: &mut SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    const BAD_JOB: &str = "invalid string for deleting job(s)";
    let (job, delete_stats) = match params {
        Value::Array(a) if a.is_empty() || a.len() > 2 => {
            return Err(err(
                "Invalid amount of arguments: Please provide exactly one ShortChannelId or `all` and optionally if you want to delete the stats",
            ));
        }
        Value::Array(a) => (a.first(), a.get(1)),
        Value::Object(m) => (m.get("job"), m.get("delete_stats")),
        _ => (None, None),
    };
    let job = match job {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(err(BAD_JOB)),
    };
    let delete_stats = match delete_stats {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" => true,
        Some(Value::String(s)) if s == "false" => false,
        Some(Value::String(_)) => return Err(err("provided string was not `true` or `false`")),
        Some(_) => return Err(err("invalid type for deleting stats boolean")),
    };
    if job == "all" {
        let scids: Vec<String> = net.sling.tasks.keys().cloned().collect();
        for scid in &scids {
            net.sling.stop_tasks(scid);
        }
        net.sling.jobs.clear();
        net.sling.tasks.clear();
        // Observed on real nodes: `all` with delete_stats leaves the stats.
    } else {
        let scid = parse_scid(&job)?;
        net.sling.stop_tasks(&scid);
        net.sling.jobs.remove(&scid);
        net.sling.tasks.remove(&scid);
        if delete_stats {
            net.sling.successes.remove(&scid);
            net.sling.failures.remove(&scid);
        }
    }
    // Also for a scid that has no job.
    Ok(json!({"result": "success"}))
}
