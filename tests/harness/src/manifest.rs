//! The plugin's `getmanifest` answer: validated as lightningd validates it
//! (PROTOCOL.md §3), and used to type the option values sent in `init`.
//!
//! Invariants:
//! - A manifest that lightningd would reject (or that disables the plugin) is
//!   an error here, never silently accepted.
//! - Option values in `init` are typed by the declared option type: int →
//!   number, bool → bool, string → string, flag → `true` only when set,
//!   multi → array; defaults apply as lightningd applies them.

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::{Map, Value, json};

/// lightningd's own option names a plugin may not take.
const BUILTIN_OPTIONS: &[&str] = &[
    "network",
    "lightning-dir",
    "rpc-file",
    "alias",
    "rgb",
    "fee-base",
    "fee-per-satoshi",
    "cltv-delta",
    "max-concurrent-htlcs",
    "plugin",
    "plugin-dir",
    "log-level",
    "log-file",
    "addr",
    "bind-addr",
    "announce-addr",
    "allow-deprecated-apis",
    "developer",
];

/// lightningd's built-in commands a plugin may not register.
const BUILTIN_COMMANDS: &[&str] = &[
    "help",
    "stop",
    "check",
    "setconfig",
    "listconfigs",
    "plugin",
    "getinfo",
    "listpeers",
    "listpeerchannels",
    "listfunds",
    "listforwards",
    "setchannel",
    "feerates",
    "listchannels",
    "listnodes",
    "connect",
    "disconnect",
    "close",
    "fundchannel",
    "datastore",
    "listdatastore",
    "deldatastore",
    "sendcustommsg",
    "signmessage",
    "checkmessage",
    "wait",
    "notifications",
    "invoice",
    "pay",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    String,
    StringConceal,
    Int,
    Bool,
    Flag,
}

impl OptionKind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => OptionKind::String,
            "string-conceal" => OptionKind::StringConceal,
            "int" => OptionKind::Int,
            "bool" => OptionKind::Bool,
            "flag" => OptionKind::Flag,
            _ => return None,
        })
    }
}

/// One declared option.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionSpec {
    pub name: String,
    pub kind: OptionKind,
    pub default: Option<Value>,
    pub multi: bool,
    pub dynamic: bool,
}

impl OptionSpec {
    /// `value` converted to this option's JSON type.
    pub fn typed(&self, value: &Value) -> Result<Value> {
        if self.multi {
            let items: Vec<Value> = match value {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            return items
                .iter()
                .map(|v| scalar(self.kind, v))
                .collect::<Result<Vec<_>>>()
                .map(Value::Array)
                .with_context(|| format!("option `{}`", self.name));
        }
        scalar(self.kind, value).with_context(|| format!("option `{}`", self.name))
    }
}

fn scalar(kind: OptionKind, value: &Value) -> Result<Value> {
    Ok(match (kind, value) {
        (OptionKind::Int, Value::Number(n)) if n.is_i64() => value.clone(),
        (OptionKind::Int, Value::String(s)) => json!(
            s.trim()
                .parse::<i64>()
                .map_err(|_| anyhow!("`{s}` is not an integer"))?
        ),
        (OptionKind::Bool | OptionKind::Flag, Value::Bool(_)) => value.clone(),
        (OptionKind::Bool | OptionKind::Flag, Value::String(s)) => match s.as_str() {
            "true" => json!(true),
            "false" => json!(false),
            _ => bail!("`{s}` is not a boolean"),
        },
        (OptionKind::String | OptionKind::StringConceal, Value::String(_)) => value.clone(),
        (OptionKind::String | OptionKind::StringConceal, Value::Number(n)) => json!(n.to_string()),
        (OptionKind::String | OptionKind::StringConceal, Value::Bool(b)) => json!(b.to_string()),
        (kind, other) => bail!("{other} does not fit an option of type {kind:?}"),
    })
}

/// A validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub options: Vec<OptionSpec>,
    pub rpcmethods: Vec<String>,
    pub subscriptions: Vec<String>,
    pub hooks: Vec<String>,
    pub dynamic: bool,
}

fn is_option_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Whether `featurebits` sets any bit (an empty object, as cln-plugin always
/// sends, sets none; lightningd only objects to non-empty ones).
fn has_featurebits(v: Option<&Value>) -> Result<bool> {
    let Some(v) = v else {
        return Ok(false);
    };
    let obj = v
        .as_object()
        .ok_or_else(|| anyhow!("manifest `featurebits` is not an object: {v}"))?;
    let mut any = false;
    for (place, hex) in obj {
        ensure!(
            matches!(place.as_str(), "node" | "channel" | "init" | "invoice"),
            "unknown featurebits place `{place}`"
        );
        let hex = hex
            .as_str()
            .ok_or_else(|| anyhow!("featurebits `{place}` is not a hex string"))?;
        ensure!(
            hex.len() % 2 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "featurebits `{place}` is not hex: {hex}"
        );
        any |= !hex.is_empty();
    }
    Ok(any)
}

fn string_array(v: Option<&Value>, what: &str) -> Result<Vec<String>> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| anyhow!("{what} entries must be strings, got {x}"))
            })
            .collect(),
        Some(other) => bail!("{what} must be an array, got {other}"),
    }
}

impl Manifest {
    /// Validates a `getmanifest` result as lightningd does.
    pub fn parse(raw: &Value) -> Result<Manifest> {
        let m = raw
            .as_object()
            .ok_or_else(|| anyhow!("getmanifest result is not an object: {raw}"))?;
        if let Some(reason) = m.get("disable") {
            bail!("plugin disabled itself in getmanifest: {reason}");
        }
        let options_raw = m
            .get("options")
            .ok_or_else(|| anyhow!("manifest lacks `options`"))?
            .as_array()
            .ok_or_else(|| anyhow!("manifest `options` is not an array"))?;
        let methods_raw = m
            .get("rpcmethods")
            .ok_or_else(|| anyhow!("manifest lacks `rpcmethods`"))?
            .as_array()
            .ok_or_else(|| anyhow!("manifest `rpcmethods` is not an array"))?;
        let dynamic = match m.get("dynamic") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => bail!("manifest `dynamic` must be a boolean, got {other}"),
        };
        let sets_featurebits = has_featurebits(m.get("featurebits"))?;
        if dynamic && sets_featurebits {
            bail!("manifest sets featurebits on a dynamic plugin (lightningd refuses it)");
        }
        if let Some(v) = m.get("nonnumericids") {
            ensure!(
                v == &json!(true),
                "manifest `nonnumericids` must be true if present"
            );
        }

        let mut options = Vec::new();
        for o in options_raw {
            let name = o
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("option without a string `name`: {o}"))?;
            ensure!(
                is_option_name(name),
                "option name `{name}` is not lowercase [0-9a-z_-]"
            );
            ensure!(
                !BUILTIN_OPTIONS.contains(&name),
                "option `{name}` clashes with a lightningd option"
            );
            ensure!(
                !options.iter().any(|x: &OptionSpec| x.name == name),
                "option `{name}` declared twice"
            );
            let kind_str = o
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("option `{name}` lacks a string `type`"))?;
            let kind = OptionKind::parse(kind_str)
                .ok_or_else(|| anyhow!("option `{name}` has unknown type `{kind_str}`"))?;
            ensure!(
                o.get("description").is_some_and(Value::is_string),
                "option `{name}` lacks a string `description`"
            );
            let multi = o.get("multi").and_then(Value::as_bool).unwrap_or(false);
            ensure!(
                !multi || matches!(kind, OptionKind::String | OptionKind::Int),
                "option `{name}`: multi is only allowed for string and int"
            );
            let default = o.get("default").filter(|d| !d.is_null()).cloned();
            if kind == OptionKind::Flag {
                ensure!(
                    default.is_none() || default == Some(json!(false)),
                    "flag option `{name}` may only default to false"
                );
            }
            let spec = OptionSpec {
                name: name.to_string(),
                kind,
                default,
                multi,
                dynamic: o.get("dynamic").and_then(Value::as_bool).unwrap_or(false),
            };
            if let Some(d) = &spec.default {
                spec.typed(d)
                    .with_context(|| format!("default of option `{name}`"))?;
            }
            options.push(spec);
        }

        let mut rpcmethods = Vec::new();
        for r in methods_raw {
            let name = r
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("rpcmethod without a string `name`: {r}"))?;
            ensure!(
                r.get("usage").is_some_and(Value::is_string),
                "rpcmethod `{name}`: usage not provided"
            );
            ensure!(
                !BUILTIN_COMMANDS.contains(&name),
                "rpcmethod `{name}` clashes with a lightningd command"
            );
            ensure!(
                !rpcmethods.contains(&name.to_string()),
                "rpcmethod `{name}` registered twice"
            );
            rpcmethods.push(name.to_string());
        }

        let hooks = match m.get("hooks") {
            None => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|h| match h {
                    Value::String(s) => Ok(s.clone()),
                    Value::Object(o) => o
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| anyhow!("hook without a name: {h}")),
                    other => Err(anyhow!("hook entry must be a string or object: {other}")),
                })
                .collect::<Result<_>>()?,
            Some(other) => bail!("manifest `hooks` must be an array, got {other}"),
        };
        // Declared custom notification topics: checked for shape only.
        match m.get("notifications") {
            None => {}
            Some(Value::Array(a)) => {
                for n in a {
                    ensure!(
                        n.get("method").is_some_and(Value::is_string),
                        "notification entry without a string `method`: {n}"
                    );
                }
            }
            Some(other) => bail!("manifest `notifications` must be an array, got {other}"),
        }
        Ok(Manifest {
            options,
            rpcmethods,
            subscriptions: string_array(m.get("subscriptions"), "subscriptions")?,
            hooks,
            dynamic,
        })
    }

    pub fn option(&self, name: &str) -> Option<&OptionSpec> {
        self.options.iter().find(|o| o.name == name)
    }

    pub fn has_method(&self, method: &str) -> bool {
        self.rpcmethods.iter().any(|m| m == method)
    }

    pub fn subscribes_to(&self, topic: &str) -> bool {
        self.subscriptions.iter().any(|s| s == topic || s == "*")
    }

    /// The `options` object of `init`: user values typed, defaults applied.
    pub fn init_options(&self, user: &Map<String, Value>) -> Result<Map<String, Value>> {
        if let Some(unknown) = user.keys().find(|k| self.option(k).is_none()) {
            bail!(
                "option `{unknown}` is not declared by the plugin (lightningd would refuse to start)"
            );
        }
        let mut out = Map::new();
        for spec in &self.options {
            let value = match (user.get(&spec.name), &spec.default) {
                (Some(v), _) => Some(spec.typed(v)?),
                (None, Some(d)) if spec.kind != OptionKind::Flag => Some(spec.typed(d)?),
                _ => None,
            };
            match (spec.kind, value) {
                // A flag appears only when set, and then as `true`.
                (OptionKind::Flag, Some(Value::Bool(true))) => {
                    out.insert(spec.name.clone(), json!(true));
                }
                (OptionKind::Flag, _) => {}
                (_, Some(v)) => {
                    out.insert(spec.name.clone(), v);
                }
                (_, None) => {}
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(options: Value) -> Value {
        json!({"options": options, "rpcmethods": [{"name": "m", "usage": ""}], "dynamic": true})
    }

    #[test]
    fn types_init_options_from_declarations() {
        let m = Manifest::parse(&manifest(json!([
            {"name": "a-int", "type": "int", "default": 5, "description": ""},
            {"name": "a-bool", "type": "bool", "default": false, "description": ""},
            {"name": "a-str", "type": "string", "description": ""},
            {"name": "a-flag", "type": "flag", "description": ""},
            {"name": "a-multi", "type": "int", "multi": true, "default": 3, "description": ""},
        ])))
        .unwrap();
        let mut user = Map::new();
        user.insert("a-bool".into(), json!("true"));
        user.insert("a-flag".into(), json!(true));
        let init = m.init_options(&user).unwrap();
        assert_eq!(
            Value::Object(init),
            json!({"a-int": 5, "a-bool": true, "a-flag": true, "a-multi": [3]})
        );
        user.insert("nope".into(), json!(1));
        assert!(m.init_options(&user).is_err());
    }

    #[test]
    fn rejects_what_lightningd_rejects() {
        let bad = [
            json!({"rpcmethods": []}),
            json!({"options": []}),
            json!({"options": [], "rpcmethods": [{"name": "m"}]}),
            json!({"options": [{"name": "Bad", "type": "int", "description": ""}], "rpcmethods": []}),
            json!({"options": [{"name": "x", "type": "float", "description": ""}], "rpcmethods": []}),
            json!({"options": [], "rpcmethods": [], "dynamic": true, "featurebits": {"node": "0200"}}),
            json!({"options": [], "rpcmethods": [], "featurebits": {"node": "xyz"}}),
            json!({"options": [], "rpcmethods": [], "disable": "no thanks"}),
            json!({"options": [], "rpcmethods": [{"name": "getinfo", "usage": ""}]}),
        ];
        for m in bad {
            assert!(Manifest::parse(&m).is_err(), "accepted {m}");
        }
        // cln-plugin always sends an empty featurebits object, dynamic or not.
        let ok = json!({"options": [], "rpcmethods": [], "dynamic": true, "featurebits": {}});
        assert!(Manifest::parse(&ok).is_ok());
    }
}
