//! The operator-changeable configuration: one table of keys shared by
//! `revenue-config`, `setconfig` and start-up.
//!
//! Invariants:
//! - A value is validated against its key's type and range before anything
//!   changes; a bad value changes nothing.
//! - Precedence: the last `revenue-config set` / `setconfig` (persisted as an
//!   override in SQLite) wins over the lightningd option value; `reset`
//!   drops the override and returns to the option value.

use revops_engine::FeeSettings;
use revops_engine::flow::FlowSettings;
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
];

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
            ..defaults
        }
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
