//! `sling-job`: checks in sling's order, then store (replacing and stopping
//! any job on the same scid). Nothing starts until `sling-go`.

use super::{err, parse_scid};
use crate::channel::ChannelState;
use crate::network::SimNetwork;
use crate::rpc::SimRpcError;
use crate::sling::{Direction, StoredJob};
use serde_json::{Map, Value, json};

const KEYS: &[&str] = &[
    "amount",
    "candidates",
    "depleteuptoamount",
    "depleteuptopercent",
    "direction",
    "maxhops",
    "maxppm",
    "outppm",
    "paralleljobs",
    "scid",
    "target",
];

/// `sling-max-htlc-count` default: a push job may not run more tasks.
const MAX_HTLC_COUNT: u64 = 5;

const OUT_OF_RANGE: &str = "out of range integral type conversion attempted";

pub(crate) fn sling_job(net: &mut SimNetwork, params: &Value) -> Result<Value, SimRpcError> {
    let Value::Object(m) = params else {
        return Err(err(format!("Expected an object! Got {params} instead")));
    };
    // The map iterates in key order, so the first unknown is the alphabetically first.
    if let Some(unknown) = m.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(err(format!("Invalid argument: {unknown}")));
    }
    let job = parse(m)?;
    let scid = job.0;
    let job = job.1;

    if let Some(candidates) = &job.candidates {
        for c in candidates {
            // sling's check is about the same direction, whatever the wording says.
            if net
                .sling
                .jobs
                .get(c)
                .is_some_and(|other| other.direction == job.direction)
            {
                return Err(err(format!(
                    "candidate {c} has a {}-job that rebalances in the other direction!",
                    job.direction.word()
                )));
            }
        }
    }
    let Some(chan) = net.channel(&scid) else {
        return Err(err("Channel not found"));
    };
    if !matches!(
        chan.state,
        ChannelState::ChanneldNormal | ChannelState::ChanneldAwaitingSplice
    ) {
        return Err(err(
            "Not in CHANNELD_NORMAL or CHANNELD_AWAITING_SPLICE state!",
        ));
    }
    // A replaced job's tasks are stopped first (they show `Stopping`).
    net.sling.stop_tasks(&scid);
    net.sling.jobs.insert(scid, job);
    Ok(json!({"result": "success"}))
}

fn parse(m: &Map<String, Value>) -> Result<(String, StoredJob), SimRpcError> {
    let scid = match m.get("scid") {
        None => return Err(err("Missing scid")),
        Some(Value::String(s)) => parse_scid(s)?,
        Some(_) => return Err(err("invalid string for scid")),
    };
    let direction = match m.get("direction") {
        None => return Err(err("Missing direction")),
        Some(Value::String(s)) if s == "pull" => Direction::Pull,
        Some(Value::String(s)) if s == "push" => Direction::Push,
        Some(Value::String(s)) => {
            return Err(err(format!("could not parse flow direction from `{s}`")));
        }
        Some(_) => return Err(err("invalid string for direction")),
    };
    let amount_sat = match m.get("amount") {
        None => return Err(err("Missing amount")),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| err("amount must be a positive integer"))?,
    };
    if amount_sat == 0 {
        return Err(err("amount must be greater than 0"));
    }
    let maxppm = match m.get("maxppm") {
        None => return Err(err("Missing maxppm")),
        Some(v) => {
            let n = v.as_u64().ok_or_else(|| err("maxppm must be an integer"))?;
            u32::try_from(n).map_err(|_| err(OUT_OF_RANGE))?
        }
    };
    let outppm = optional_u64(m, "outppm", "outppm must be an integer")?;
    let target = match m.get("target") {
        None => None,
        // No range check: sling stores `1.5` as given.
        Some(v) => Some(
            v.as_f64()
                .ok_or_else(|| err("target must be a floating point"))?,
        ),
    };
    let maxhops = match optional_u64(m, "maxhops", "maxhops must be an integer")? {
        None => None,
        Some(n) => {
            let h = u8::try_from(n).map_err(|_| err(OUT_OF_RANGE))?;
            if h < 2 {
                return Err(err("maxhops must be atleast 2"));
            }
            Some(h)
        }
    };
    let depleteuptopercent = match m.get("depleteuptopercent") {
        None => None,
        Some(v) => {
            let p = v
                .as_f64()
                .ok_or_else(|| err("depleteuptopercent must be a floating point"))?;
            if !(0.0..1.0).contains(&p) {
                return Err(err("depleteuptopercent must be between 0.0 and <1.0"));
            }
            Some(p)
        }
    };
    let depleteuptoamount_sat = optional_u64(
        m,
        "depleteuptoamount",
        "depleteuptoamount must be an integer",
    )?;
    let paralleljobs = match optional_u64(m, "paralleljobs", "paralleljobs must be an integer")? {
        None => None,
        Some(n) => {
            let p = u16::try_from(n).map_err(|_| err(OUT_OF_RANGE))?;
            if p == 0 {
                return Err(err("paralleljobs must be atleast 1"));
            }
            if direction == Direction::Push && n > MAX_HTLC_COUNT {
                return Err(err(
                    "In a push job it doesn't make sense to have more paralleljobs than your max_htlc_count",
                ));
            }
            Some(p)
        }
    };
    let candidates = match m.get("candidates") {
        None => None,
        Some(Value::Array(a)) => {
            let mut out = Vec::with_capacity(a.len());
            for c in a {
                let Value::String(s) = c else {
                    return Err(err("invalid string for channel id in candidate list"));
                };
                out.push(parse_scid(s)?);
            }
            Some(out)
        }
        Some(_) => return Err(err("Invalid array for candidate list")),
    };
    if outppm.is_none() && candidates.is_none() {
        return Err(err("Atleast one of outppm and candidatelist must be set."));
    }
    Ok((
        scid,
        StoredJob {
            direction,
            // sling multiplies sats by 1000 and stores msat.
            amount_msat: amount_sat.saturating_mul(1000),
            maxppm,
            outppm,
            target,
            maxhops,
            candidates,
            depleteuptopercent,
            depleteuptoamount_msat: depleteuptoamount_sat.map(|s| s.saturating_mul(1000)),
            paralleljobs,
        },
    ))
}

fn optional_u64(
    m: &Map<String, Value>,
    key: &str,
    message: &str,
) -> Result<Option<u64>, SimRpcError> {
    match m.get(key) {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| err(message)),
    }
}

/// The stored job as `sling-jobsettings` shows it: unset keys omitted,
/// keys sorted, direction capitalised.
pub(crate) fn stored_json(job: &StoredJob) -> Value {
    let mut m = Map::new();
    m.insert("amount_msat".into(), json!(job.amount_msat));
    if let Some(c) = &job.candidates {
        m.insert("candidates".into(), json!(c));
    }
    if let Some(a) = job.depleteuptoamount_msat {
        m.insert("depleteuptoamount_msat".into(), json!(a));
    }
    if let Some(p) = job.depleteuptopercent {
        m.insert("depleteuptopercent".into(), json!(p));
    }
    if let Some(h) = job.maxhops {
        m.insert("maxhops".into(), json!(h));
    }
    m.insert("maxppm".into(), json!(job.maxppm));
    if let Some(o) = job.outppm {
        m.insert("outppm".into(), json!(o));
    }
    if let Some(p) = job.paralleljobs {
        m.insert("paralleljobs".into(), json!(p));
    }
    m.insert("sat_direction".into(), json!(job.direction.stored_word()));
    if let Some(t) = job.target {
        m.insert("target".into(), json!(t));
    }
    Value::Object(m)
}
