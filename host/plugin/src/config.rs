//! The operator-changeable configuration: one table of keys shared by
//! `revenue-config`, `setconfig` and start-up.
//!
//! Invariants:
//! - A value is validated against its key's type and range before anything
//!   changes; a bad value changes nothing.
//! - Precedence: the last `revenue-config set` / `setconfig` (persisted as an
//!   override in SQLite) wins over the lightningd option value; `reset`
//!   drops the override and returns to the option value.

use crate::options::MIB;
use revops_engine::FeeSettings;
use revops_engine::RebalanceSettings;
use revops_engine::flow::FlowSettings;
use revops_engine::quarantine::QuarantineSettings;
use revops_engine::rebalance::controls::CapitalSettings;
use revops_runtime::{Limits, RoleLimits};
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Int {
        min: i64,
        max: i64,
    },
    /// A decimal; lightningd has no float options, so it arrives as a string.
    Float {
        min: f64,
        max: f64,
    },
    Bool,
    Name,
}

#[derive(Debug)]
pub struct ConfigKey {
    /// Short name used by `revenue-config`.
    pub key: &'static str,
    /// The lightningd option (also accepted by `revenue-config`).
    pub option: &'static str,
    pub kind: Kind,
    pub mutable: bool,
    pub description: &'static str,
}

pub const KEYS: &[ConfigKey] = &[
    ConfigKey {
        key: "fee_interval",
        option: "revenue-ops-fee-interval",
        kind: Kind::Int {
            min: 60,
            max: 86_400,
        },
        mutable: true,
        description: "seconds between fee cycles",
    },
    ConfigKey {
        key: "min_fee_ppm",
        option: "revenue-ops-min-fee-ppm",
        kind: Kind::Int {
            min: 0,
            max: 100_000,
        },
        mutable: true,
        description: "lowest fee the plugin sets, in ppm",
    },
    ConfigKey {
        key: "max_fee_ppm",
        option: "revenue-ops-max-fee-ppm",
        kind: Kind::Int {
            min: 1,
            max: 100_000,
        },
        mutable: true,
        description: "highest fee the plugin sets, in ppm",
    },
    ConfigKey {
        key: "flow_interval",
        option: "revenue-ops-flow-interval",
        kind: Kind::Int {
            min: 60,
            max: 86_400,
        },
        mutable: true,
        description: "seconds between flow analyses",
    },
    ConfigKey {
        key: "flow_window_days",
        option: "revenue-ops-flow-window-days",
        kind: Kind::Int { min: 1, max: 90 },
        mutable: true,
        description: "days of forwards flow analysis looks at",
    },
    ConfigKey {
        key: "htlc_congestion_threshold",
        option: "revenue-ops-htlc-congestion-threshold",
        kind: Kind::Float { min: 0.1, max: 1.0 },
        mutable: true,
        description: "share of HTLC slots in use above which a channel is congested",
    },
    ConfigKey {
        key: "source_threshold",
        option: "revenue-ops-flow-source-threshold",
        kind: Kind::Float {
            min: 0.0001,
            max: 1.0,
        },
        mutable: true,
        description: "net daily outflow / capacity at or above which a channel is a source",
    },
    ConfigKey {
        key: "sink_threshold",
        option: "revenue-ops-flow-sink-threshold",
        kind: Kind::Float {
            min: -1.0,
            max: -0.0001,
        },
        mutable: true,
        description: "net daily flow / capacity at or below which a channel is a sink",
    },
    ConfigKey {
        key: "hive_fee_ppm",
        option: "revenue-ops-hive-fee-ppm",
        kind: Kind::Int {
            min: 0,
            max: 100_000,
        },
        mutable: true,
        description: "fee charged on channels to fleet members (strategy hive)",
    },
    ConfigKey {
        key: "dry_run",
        option: "revenue-ops-dry-run",
        kind: Kind::Bool,
        mutable: true,
        description: "decide and record, but never change a fee",
    },
    ConfigKey {
        key: "rpc_timeout_seconds",
        option: "revenue-ops-rpc-timeout-seconds",
        kind: Kind::Int { min: 1, max: 600 },
        mutable: true,
        description: "timeout for each call to lightningd",
    },
    ConfigKey {
        key: "rpc_circuit_breaker_seconds",
        option: "revenue-ops-rpc-circuit-breaker-seconds",
        kind: Kind::Int { min: 1, max: 3600 },
        mutable: true,
        description: "pause after repeated failures of a group of lightningd calls",
    },
    ConfigKey {
        key: "default_fee_policy",
        option: "revenue-ops-default-fee-policy",
        kind: Kind::Name,
        mutable: true,
        description: "fee policy for peers whose strategy is dynamic",
    },
    ConfigKey {
        key: "rebalance_interval",
        option: "revenue-ops-rebalance-interval",
        kind: Kind::Int {
            min: 60,
            max: 86_400,
        },
        mutable: true,
        description: "seconds between rebalance checks",
    },
    ConfigKey {
        key: "min_wallet_reserve",
        option: "revenue-ops-min-wallet-reserve",
        kind: Kind::Int {
            min: 0,
            max: 2_100_000_000_000_000,
        },
        mutable: true,
        description: "sats (on-chain + spendable) below which no rebalance starts",
    },
    ConfigKey {
        key: "daily_budget_sats",
        option: "revenue-ops-daily-budget-sats",
        kind: Kind::Int {
            min: 0,
            max: 100_000_000,
        },
        mutable: true,
        description: "most rebalance fees spent or held in 24 h, in sats",
    },
    ConfigKey {
        key: "proportional_budget",
        option: "revenue-ops-proportional-budget",
        kind: Kind::Bool,
        mutable: true,
        description: "let the daily budget grow to a share of the last 24 h's revenue",
    },
    ConfigKey {
        key: "proportional_budget_pct",
        option: "revenue-ops-proportional-budget-pct",
        kind: Kind::Float { min: 0.0, max: 1.0 },
        mutable: true,
        description: "share of the last 24 h's revenue the daily budget may grow to",
    },
    ConfigKey {
        key: "max_concurrent_jobs",
        option: "revenue-ops-max-concurrent-jobs",
        kind: Kind::Int { min: 0, max: 50 },
        mutable: true,
        description: "most rebalances running at once (0 pauses rebalancing)",
    },
    ConfigKey {
        key: "reservation_timeout_hours",
        option: "revenue-ops-reservation-timeout-hours",
        kind: Kind::Int { min: 1, max: 72 },
        mutable: true,
        description: "hours after which a running rebalance is given up and its hold released",
    },
    ConfigKey {
        key: "rebalance_min_profit",
        option: "revenue-ops-rebalance-min-profit",
        kind: Kind::Int {
            min: 0,
            max: 10_000_000,
        },
        mutable: true,
        description: "least expected profit, in sats, worth paying a rebalance for",
    },
    ConfigKey {
        key: "enable_kelly",
        option: "revenue-ops-enable-kelly",
        kind: Kind::Bool,
        mutable: true,
        description: "size rebalances with the Kelly criterion",
    },
    ConfigKey {
        key: "kelly_fraction",
        option: "revenue-ops-kelly-fraction",
        kind: Kind::Float {
            min: 0.01,
            max: 1.0,
        },
        mutable: true,
        description: "share of the full Kelly stake used",
    },
    ConfigKey {
        key: "enable_reputation",
        option: "revenue-ops-enable-reputation",
        kind: Kind::Bool,
        mutable: true,
        description: "keep a decayed per-peer reputation and give it to the policies",
    },
    ConfigKey {
        key: "reputation_decay",
        option: "revenue-ops-reputation-decay",
        kind: Kind::Float { min: 0.5, max: 1.0 },
        mutable: true,
        description: "factor peer reputation is multiplied by at every flow analysis",
    },
    ConfigKey {
        key: "rebalance_scorer",
        option: "revenue-ops-rebalance-scorer",
        kind: Kind::Name,
        mutable: true,
        description: "policy (rebalance-scorer role) that scores rebalances",
    },
    ConfigKey {
        key: "fee_policy_fuel_base",
        option: "revenue-ops-fee-policy-fuel-base",
        kind: FUEL_BASE,
        mutable: true,
        description: "fuel every fee-strategy call gets whatever its size",
    },
    ConfigKey {
        key: "fee_policy_fuel_per_channel",
        option: "revenue-ops-fee-policy-fuel-per-channel",
        kind: FUEL_PER_ITEM,
        mutable: true,
        description: "additional fuel a fee-strategy call gets per channel",
    },
    ConfigKey {
        key: "fee_policy_memory_mib",
        option: "revenue-ops-fee-policy-memory-mib",
        kind: MEMORY_MIB,
        mutable: true,
        description: "memory cap of a fee-strategy call, in MiB",
    },
    ConfigKey {
        key: "fee_policy_wall_clock_ms",
        option: "revenue-ops-fee-policy-wall-clock-ms",
        kind: WALL_CLOCK_MS,
        mutable: true,
        description: "wall-clock backstop of a fee-strategy call, in milliseconds",
    },
    ConfigKey {
        key: "scorer_fuel_base",
        option: "revenue-ops-scorer-fuel-base",
        kind: FUEL_BASE,
        mutable: true,
        description: "fuel every rebalance-scorer call gets whatever its size",
    },
    ConfigKey {
        key: "scorer_fuel_per_candidate",
        option: "revenue-ops-scorer-fuel-per-candidate",
        kind: FUEL_PER_ITEM,
        mutable: true,
        description: "additional fuel a rebalance-scorer call gets per candidate",
    },
    ConfigKey {
        key: "scorer_memory_mib",
        option: "revenue-ops-scorer-memory-mib",
        kind: MEMORY_MIB,
        mutable: true,
        description: "memory cap of a rebalance-scorer call, in MiB",
    },
    ConfigKey {
        key: "scorer_wall_clock_ms",
        option: "revenue-ops-scorer-wall-clock-ms",
        kind: WALL_CLOCK_MS,
        mutable: true,
        description: "wall-clock backstop of a rebalance-scorer call, in milliseconds",
    },
    ConfigKey {
        key: "policy_quarantine_failures",
        option: "revenue-ops-policy-quarantine-failures",
        kind: Kind::Int { min: 1, max: 100 },
        mutable: true,
        description: "failed calls in a row that quarantine a policy",
    },
    ConfigKey {
        key: "policy_quarantine_secs",
        option: "revenue-ops-policy-quarantine-secs",
        kind: Kind::Int {
            min: 1,
            max: 86_400,
        },
        mutable: true,
        description: "first quarantine's length in seconds (doubles each time, at most a day)",
    },
    ConfigKey {
        key: "policy_release_secs",
        option: "revenue-ops-policy-release-secs",
        kind: Kind::Int {
            min: 0,
            max: 604_800,
        },
        mutable: true,
        description: "failure-free seconds on probation that release a policy from quarantine",
    },
];

/// Ranges of the sandbox limits. Lower ends keep a built-in policy able to
/// decide (fee-alpha needs ≈ 21k fuel per channel, rebalance-ev ≈ 27k per
/// candidate, ≈ 2.3 MiB for 2,000 channels); upper ends keep one call from
/// stalling a cycle for long (≈ 10–25 G fuel/s of guest code here).
const FUEL_BASE: Kind = Kind::Int {
    min: 1_000_000,
    max: 100_000_000_000,
};
const FUEL_PER_ITEM: Kind = Kind::Int {
    min: 50_000,
    max: 1_000_000_000,
};
const MEMORY_MIB: Kind = Kind::Int { min: 8, max: 4096 };
const WALL_CLOCK_MS: Kind = Kind::Int {
    min: 50,
    max: 60_000,
};

pub fn find_key(name: &str) -> Option<&'static ConfigKey> {
    KEYS.iter().find(|k| k.key == name || k.option == name)
}

/// Parse a value given as JSON (number, bool, or a string as `setconfig`
/// sends it) for `key`. The error says what was expected.
pub fn parse_value(key: &ConfigKey, raw: &Value) -> Result<Value, String> {
    match key.kind {
        Kind::Int { min, max } => {
            let n = match raw {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("{} must be an integer, got {raw}", key.key))?;
            if !(min..=max).contains(&n) {
                return Err(format!(
                    "{} must be between {min} and {max}, got {n}",
                    key.key
                ));
            }
            Ok(json!(n))
        }
        Kind::Float { min, max } => {
            let x = match raw {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{} must be a number, got {raw}", key.key))?;
            if !(min..=max).contains(&x) {
                return Err(format!(
                    "{} must be between {min} and {max}, got {x}",
                    key.key
                ));
            }
            Ok(json!(x))
        }
        Kind::Bool => match raw {
            Value::Bool(b) => Ok(json!(b)),
            Value::String(s) if s == "true" || s == "false" => Ok(json!(s == "true")),
            _ => Err(format!("{} must be true or false, got {raw}", key.key)),
        },
        Kind::Name => match raw {
            Value::String(s)
                if !s.is_empty()
                    && s.len() <= 64
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') =>
            {
                Ok(json!(s))
            }
            _ => Err(format!(
                "{} must be a policy name ([a-z0-9-], at most 64 characters), got {raw}",
                key.key
            )),
        },
    }
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Values from lightningd's options (defaults applied by lightningd).
    option_values: BTreeMap<&'static str, Value>,
    /// Persisted overrides.
    overrides: BTreeMap<&'static str, Value>,
}

impl Config {
    pub fn new(option_values: BTreeMap<&'static str, Value>) -> Config {
        Config {
            option_values,
            overrides: BTreeMap::new(),
        }
    }

    pub fn get(&self, key: &str) -> Value {
        self.overrides
            .get(key)
            .or_else(|| self.option_values.get(key))
            .cloned()
            .unwrap_or(Value::Null)
    }

    pub fn is_overridden(&self, key: &str) -> bool {
        self.overrides.contains_key(key)
    }

    pub fn set_override(&mut self, key: &'static str, value: Value) {
        self.overrides.insert(key, value);
    }

    pub fn clear_override(&mut self, key: &str) {
        self.overrides.remove(key);
    }

    fn int(&self, key: &str) -> i64 {
        self.get(key).as_i64().unwrap_or_default()
    }

    pub fn fee_settings(&self) -> FeeSettings {
        FeeSettings {
            fee_interval_secs: self.int("fee_interval").max(60) as u64,
            min_fee_ppm: self.int("min_fee_ppm").clamp(0, u32::MAX as i64) as u32,
            max_fee_ppm: self.int("max_fee_ppm").clamp(1, u32::MAX as i64) as u32,
            dry_run: self.get("dry_run").as_bool().unwrap_or(false),
            hive_fee_ppm: self.int("hive_fee_ppm").clamp(0, 100_000) as u32,
            default_fee_policy: self
                .get("default_fee_policy")
                .as_str()
                .unwrap_or("fee-alpha")
                .to_string(),
            ..FeeSettings::default()
        }
    }

    pub fn flow_settings(&self) -> FlowSettings {
        let float = |key: &str, default: f64| self.get(key).as_f64().unwrap_or(default);
        let defaults = FlowSettings::default();
        FlowSettings {
            window_days: self.int("flow_window_days").clamp(1, 90) as u32,
            source_threshold: float("source_threshold", defaults.source_threshold),
            sink_threshold: float("sink_threshold", defaults.sink_threshold),
            congestion_threshold: float("htlc_congestion_threshold", defaults.congestion_threshold),
            reputation_enabled: self
                .get("enable_reputation")
                .as_bool()
                .unwrap_or(defaults.reputation_enabled),
            reputation_decay: float("reputation_decay", defaults.reputation_decay),
            ..defaults
        }
    }

    /// The rebalancer's settings: `base` with every operator-set field
    /// replaced (the scorer and fields without a key are kept).
    pub fn rebalance_settings(&self, base: &RebalanceSettings) -> RebalanceSettings {
        let float = |key: &str, default: f64| self.get(key).as_f64().unwrap_or(default);
        let flag = |key: &str, default: bool| self.get(key).as_bool().unwrap_or(default);
        let int = |key: &str| self.int(key).max(0) as u64;
        let defaults = &base.capital;
        RebalanceSettings {
            capital: CapitalSettings {
                min_wallet_reserve_sat: int("min_wallet_reserve"),
                daily_budget_sat: int("daily_budget_sats"),
                proportional_budget: flag("proportional_budget", defaults.proportional_budget),
                proportional_budget_pct: float(
                    "proportional_budget_pct",
                    defaults.proportional_budget_pct,
                ),
                max_concurrent_jobs: u32::try_from(int("max_concurrent_jobs")).unwrap_or(u32::MAX),
                reservation_timeout_secs: int("reservation_timeout_hours").max(1) * 3_600,
                ..defaults.clone()
            },
            dry_run: flag("dry_run", false),
            min_profit_sat: int("rebalance_min_profit"),
            reputation_enabled: flag("enable_reputation", base.reputation_enabled),
            kelly_fraction: flag("enable_kelly", false).then(|| float("kelly_fraction", 0.5)),
            congestion_threshold: float("htlc_congestion_threshold", base.congestion_threshold),
            scorer_policy: self
                .get("rebalance_scorer")
                .as_str()
                .unwrap_or(&base.scorer_policy)
                .to_string(),
            ..base.clone()
        }
    }

    pub fn rebalance_interval_secs(&self) -> u64 {
        self.int("rebalance_interval").max(60) as u64
    }

    pub fn flow_interval_secs(&self) -> u64 {
        self.int("flow_interval").max(60) as u64
    }

    pub fn rpc_timeout_secs(&self) -> u64 {
        self.int("rpc_timeout_seconds").max(1) as u64
    }

    pub fn rpc_breaker_secs(&self) -> u64 {
        self.int("rpc_circuit_breaker_seconds").max(1) as u64
    }

    /// The sandbox limits of each policy role; what the options leave unset
    /// (unit tests build a `Config` without them) keeps the runtime default.
    pub fn role_limits(&self) -> RoleLimits {
        let defaults = Limits::default();
        let positive = |key: &str, default: u64| match self.get(key).as_i64() {
            Some(value) if value > 0 => value as u64,
            _ => default,
        };
        let role = |prefix: &str, per_item_key: &str, per_item_default: u64| {
            let per_item = positive(&format!("{prefix}_{per_item_key}"), per_item_default);
            Limits {
                fuel_per_batch_base: positive(
                    &format!("{prefix}_fuel_base"),
                    defaults.fuel_per_batch_base,
                ),
                fuel_per_channel: per_item,
                fuel_per_candidate: per_item,
                memory_bytes: positive(
                    &format!("{prefix}_memory_mib"),
                    (defaults.memory_bytes / MIB) as u64,
                ) as usize
                    * MIB,
                wall_clock_ms: positive(&format!("{prefix}_wall_clock_ms"), defaults.wall_clock_ms),
                ..defaults
            }
        };
        RoleLimits {
            fee_strategy: role("fee_policy", "fuel_per_channel", defaults.fuel_per_channel),
            rebalance_scorer: role("scorer", "fuel_per_candidate", defaults.fuel_per_candidate),
        }
    }

    /// When policies are quarantined and released; unset keys keep the
    /// defaults.
    pub fn quarantine_settings(&self) -> QuarantineSettings {
        let defaults = QuarantineSettings::default();
        let int = |key: &str| self.get(key).as_i64().filter(|v| *v >= 0);
        QuarantineSettings {
            failure_streak: int("policy_quarantine_failures")
                .map_or(defaults.failure_streak, |v| v.clamp(1, 100) as u32),
            backoff_secs: int("policy_quarantine_secs")
                .map_or(defaults.backoff_secs, |v| v.max(1) as u64),
            healthy_secs: int("policy_release_secs").map_or(defaults.healthy_secs, |v| v as u64),
        }
    }

    /// Check cross-key rules before a change is accepted.
    pub fn validate(&self) -> Result<(), String> {
        let (min, max) = (self.int("min_fee_ppm"), self.int("max_fee_ppm"));
        if min > max {
            return Err(format!(
                "min_fee_ppm ({min}) must not exceed max_fee_ppm ({max})"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setconfig_strings_parse_as_their_types() {
        let k = find_key("revenue-ops-min-fee-ppm").unwrap();
        assert_eq!(parse_value(k, &json!("25")).unwrap(), json!(25));
        assert!(
            parse_value(k, &json!("abc"))
                .unwrap_err()
                .contains("integer")
        );
        assert!(parse_value(k, &json!(-1)).unwrap_err().contains("between"));
        let f = find_key("revenue-ops-htlc-congestion-threshold").unwrap();
        assert_eq!(parse_value(f, &json!("0.75")).unwrap(), json!(0.75));
        assert!(
            parse_value(f, &json!("1.5"))
                .unwrap_err()
                .contains("between")
        );
        assert!(parse_value(f, &json!("NaN")).is_err());
        let b = find_key("dry_run").unwrap();
        assert_eq!(parse_value(b, &json!("true")).unwrap(), json!(true));
        assert!(parse_value(b, &json!("yes")).is_err());
    }

    #[test]
    fn overrides_win_and_reset_returns_to_the_option() {
        let mut c = Config::new(BTreeMap::from([
            ("min_fee_ppm", json!(10)),
            ("max_fee_ppm", json!(5000)),
        ]));
        c.set_override("min_fee_ppm", json!(50));
        assert_eq!(c.fee_settings().min_fee_ppm, 50);
        c.clear_override("min_fee_ppm");
        assert_eq!(c.fee_settings().min_fee_ppm, 10);
        c.set_override("min_fee_ppm", json!(6000));
        assert!(c.validate().is_err());
    }
}
