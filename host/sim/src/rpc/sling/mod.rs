//! sling's RPC methods as the simulated lightningd relays them: answered
//! only when the scenario lists sling among the plugins; otherwise they are
//! unknown commands, exactly as lightningd answers without sling.
//!
//! Invariants:
//! - Argument checks run in the order `SLING.md` lists, with its exact
//!   texts; every sling error is code -32700 with an explicit `"data": null`.
//! - Every object answered has sorted keys, as sling's do.

mod control;
mod except;
mod job;
mod stats;

use super::SimRpcError;
use crate::network::SimNetwork;
use serde_json::Value;

/// sling's error code for every failure of its own methods.
pub(crate) const SLING_ERROR: i64 = -32700;
pub(crate) const SLING_VERSION: &str = "v4.2.1";

/// The sling methods the simulator answers (when sling is present).
pub const SLING_METHODS: &[&str] = &[
    "sling-version",
    "sling-job",
    "sling-go",
    "sling-stop",
    "sling-jobsettings",
    "sling-deletejob",
    "sling-stats",
    "sling-except-peer",
];

/// An error as sling's handlers return it.
pub(crate) fn err(message: impl Into<String>) -> SimRpcError {
    SimRpcError {
        code: SLING_ERROR,
        message: message.into(),
        data: Some(Value::Null),
    }
}

/// `None` when `method` is not one the simulated sling answers.
pub(crate) fn dispatch(
    net: &mut SimNetwork,
    method: &str,
    params: &Value,
) -> Option<Result<Value, SimRpcError>> {
    Some(match method {
        "sling-version" => Ok(serde_json::json!({"version": SLING_VERSION})),
        "sling-job" => job::sling_job(net, params),
        "sling-go" => control::sling_go(net, params),
        "sling-stop" => control::sling_stop(net, params),
        "sling-jobsettings" => control::sling_jobsettings(net, params),
        "sling-deletejob" => control::sling_deletejob(net, params),
        "sling-stats" => stats::sling_stats(net, params),
        "sling-except-peer" => except::sling_except_peer(net, params),
        _ => return None,
    })
}

/// sling's strict `BLOCKxTXxOUT` parser (cln-rpc's `ShortChannelId::from_str`).
pub(crate) fn parse_scid(s: &str) -> Result<String, SimRpcError> {
    let parts: Vec<&str> = s.split('x').collect();
    let numbers: Option<Vec<u64>> = parts.iter().map(|p| p.parse::<u64>().ok()).collect();
    let Some(numbers) = numbers else {
        return Err(err(format!("Malformed short_channel_id: {s}")));
    };
    if numbers.len() != 3 {
        return Err(err("Malformed short_channel_id: element count mismatch"));
    }
    Ok(format!("{}x{}x{}", numbers[0], numbers[1], numbers[2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scids_parse_strictly() {
        assert_eq!(parse_scid("109x1x0").unwrap(), "109x1x0");
        for (bad, text) in [
            ("zzz", "Malformed short_channel_id: zzz"),
            ("", "Malformed short_channel_id: "),
            ("1:2:3", "Malformed short_channel_id: 1:2:3"),
            (
                "109x1",
                "Malformed short_channel_id: element count mismatch",
            ),
            (
                "1x2x3x4",
                "Malformed short_channel_id: element count mismatch",
            ),
        ] {
            assert_eq!(parse_scid(bad).unwrap_err().message, text);
        }
    }
}
