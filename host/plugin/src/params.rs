//! RPC parameters as lightningd passes them: an object (`-k` / `key=value`)
//! or a positional array (lightning-cli's default), `null` meaning "not given".
//! Every error is JSON-RPC -32602 and names the parameter.

use serde_json::{Map, Value, json};

/// A JSON-RPC error carried through cln-plugin: it sends `{code, message}`
/// when the error's text is that JSON object.
pub fn rpc_error(code: i64, message: impl Into<String>) -> anyhow::Error {
    anyhow::anyhow!(json!({"code": code, "message": message.into()}).to_string())
}

pub const INVALID_PARAMS: i64 = -32602;

pub fn invalid(message: impl Into<String>) -> anyhow::Error {
    rpc_error(INVALID_PARAMS, message)
}

pub struct Params {
    method: &'static str,
    values: Map<String, Value>,
}

impl Params {
    /// Accept `names` positionally or by name; reject unknown names and extra
    /// positional values.
    pub fn parse(method: &'static str, raw: &Value, names: &[&str]) -> anyhow::Result<Params> {
        let mut values = Map::new();
        match raw {
            Value::Null => {}
            Value::Array(items) => {
                if items.len() > names.len() {
                    return Err(invalid(format!(
                        "{method}: too many parameters ({} given, at most {}: {})",
                        items.len(),
                        names.len(),
                        names.join(", ")
                    )));
                }
                for (name, v) in names.iter().zip(items) {
                    if !v.is_null() {
                        values.insert(name.to_string(), v.clone());
                    }
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    if !names.contains(&k.as_str()) {
                        return Err(invalid(format!(
                            "{method}: unknown parameter `{k}` (expected: {})",
                            names.join(", ")
                        )));
                    }
                    if !v.is_null() {
                        values.insert(k.clone(), v.clone());
                    }
                }
            }
            other => {
                return Err(invalid(format!(
                    "{method}: parameters must be an object or an array, got {other}"
                )));
            }
        }
        Ok(Params { method, values })
    }

    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    pub fn str(&self, name: &str) -> anyhow::Result<Option<String>> {
        match self.values.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(invalid(format!(
                "{}: `{name}` must be a string, got {v}",
                self.method
            ))),
        }
    }

    pub fn required_str(&self, name: &str, what: &str) -> anyhow::Result<String> {
        self.str(name)?
            .ok_or_else(|| invalid(format!("{}: `{name}` is required ({what})", self.method)))
    }

    /// A non-negative integer within `max`, accepting numeric strings.
    pub fn u32(&self, name: &str, max: u32) -> anyhow::Result<Option<u32>> {
        let out_of_range = |v: &Value| {
            invalid(format!(
                "{}: `{name}` must be an integer from 0 to {max}, got {v}",
                self.method
            ))
        };
        let Some(raw) = self.values.get(name) else {
            return Ok(None);
        };
        match self.u64(name).map_err(|_| out_of_range(raw))? {
            Some(n) if n <= u64::from(max) => Ok(Some(n as u32)),
            _ => Err(out_of_range(raw)),
        }
    }

    /// A non-negative integer, accepting numeric strings.
    pub fn u64(&self, name: &str) -> anyhow::Result<Option<u64>> {
        let Some(v) = self.values.get(name) else {
            return Ok(None);
        };
        let n = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        n.map(Some).ok_or_else(|| {
            invalid(format!(
                "{}: `{name}` must be a non-negative integer, got {v}",
                self.method
            ))
        })
    }

    pub fn bool(&self, name: &str) -> anyhow::Result<Option<bool>> {
        match self.values.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
            Some(v) => Err(invalid(format!(
                "{}: `{name}` must be true or false, got {v}",
                self.method
            ))),
        }
    }
}

/// An optional `channel_id` parameter, checked as a short channel id.
pub fn optional_scid(method: &str, params: &Params) -> anyhow::Result<Option<String>> {
    params
        .str("channel_id")?
        .map(|scid| check_scid(method, "channel_id", &scid))
        .transpose()
}

/// A node id: 66 hex characters starting with 02 or 03.
pub fn check_node_id(method: &str, name: &str, id: &str) -> anyhow::Result<String> {
    let id = id.to_ascii_lowercase();
    if id.len() == 66
        && (id.starts_with("02") || id.starts_with("03"))
        && id.chars().all(|c| c.is_ascii_hexdigit())
    {
        Ok(id)
    } else {
        Err(invalid(format!(
            "{method}: `{name}` must be a node id (66 hex characters starting with 02 or 03), got `{id}`"
        )))
    }
}

/// A short channel id `BLOCKxTXxOUT`.
pub fn check_scid(method: &str, name: &str, scid: &str) -> anyhow::Result<String> {
    let parts: Vec<&str> = scid.split('x').collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.parse::<u64>().is_ok())
    {
        Ok(scid.to_string())
    } else {
        Err(invalid(format!(
            "{method}: `{name}` must be a short channel id like 812345x1234x0, got `{scid}`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_and_named_params_agree() {
        let names = ["channel_id", "fee_ppm", "force"];
        let a = Params::parse("m", &json!(["1x2x3", 100, null]), &names).unwrap();
        let o = Params::parse(
            "m",
            &json!({"channel_id": "1x2x3", "fee_ppm": "100"}),
            &names,
        )
        .unwrap();
        assert!(
            a.u32("fee_ppm", 10).is_err(),
            "100 is above the maximum of 10"
        );
        assert_eq!(a.u32("fee_ppm", 1000).unwrap(), Some(100));
        assert_eq!(o.u32("fee_ppm", 1000).unwrap(), Some(100));
        assert_eq!(a.bool("force").unwrap(), None);
    }

    #[test]
    fn errors_name_the_parameter() {
        let names = ["fee_ppm"];
        let e = Params::parse("m", &json!({"fee": 1}), &names)
            .err()
            .unwrap();
        assert!(e.to_string().contains("unknown parameter `fee`"));
        let p = Params::parse("m", &json!({"fee_ppm": "lots"}), &names).unwrap();
        assert!(
            p.u32("fee_ppm", 10)
                .unwrap_err()
                .to_string()
                .contains("`fee_ppm`")
        );
        assert!(check_scid("m", "channel_id", "12x3").is_err());
        assert!(check_node_id("m", "peer_id", "02ab").is_err());
    }
}
