//! Parameter parsing shared by every method, following lightningd's `param()`:
//! params may be an object (named) or an array (positional, in the documented
//! order); `null` counts as "not given"; errors are -32602 with CLN's wording.

use super::SimRpcError;
use serde_json::{Map, Value};

pub(crate) const INVALID_PARAMS: i64 = -32602;

pub(crate) struct Params<'a> {
    names: &'static [&'static str],
    named: Option<&'a Map<String, Value>>,
    positional: Option<&'a Vec<Value>>,
}

impl<'a> Params<'a> {
    /// Checks the shape against the method's parameter names.
    pub(crate) fn parse(
        params: &'a Value,
        names: &'static [&'static str],
    ) -> Result<Params<'a>, SimRpcError> {
        let (named, positional) = match params {
            Value::Null => (None, None),
            Value::Object(m) => {
                if let Some(unknown) = m.keys().find(|k| !names.contains(&k.as_str())) {
                    return Err(invalid(format!("unknown parameter: {unknown}")));
                }
                (Some(m), None)
            }
            Value::Array(a) => {
                if a.len() > names.len() {
                    return Err(invalid(format!(
                        "too many parameters: got {}, expected {}",
                        a.len(),
                        names.len()
                    )));
                }
                (None, Some(a))
            }
            _ => return Err(invalid("Expected array or object for params".to_string())),
        };
        Ok(Params {
            names,
            named,
            positional,
        })
    }

    /// The value of `name`, treating `null` as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        let v = if let Some(m) = self.named {
            m.get(name)
        } else if let Some(a) = self.positional {
            let pos = self.names.iter().position(|n| *n == name)?;
            a.get(pos)
        } else {
            None
        };
        v.filter(|v| !v.is_null())
    }

    pub(crate) fn required(&self, name: &str) -> Result<&'a Value, SimRpcError> {
        self.get(name)
            .ok_or_else(|| invalid(format!("missing required parameter: {name}")))
    }

    pub(crate) fn string(&self, name: &str) -> Result<Option<&'a str>, SimRpcError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(bad(name, "should be a string", other)),
        }
    }

    pub(crate) fn u64(&self, name: &str) -> Result<Option<u64>, SimRpcError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => parse_u64(v)
                .map(Some)
                .ok_or_else(|| bad(name, "should be an unsigned 64 bit integer", v)),
        }
    }

    pub(crate) fn u32(&self, name: &str) -> Result<Option<u32>, SimRpcError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => parse_u64(v)
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| bad(name, "should be an unsigned 32 bit integer", v)),
        }
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, SimRpcError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(other) => Err(bad(name, "should be 'true' or 'false'", other)),
        }
    }

    /// An amount: a number of msat, or a string with a `msat`/`sat` suffix.
    pub(crate) fn msat(&self, name: &str) -> Result<Option<u64>, SimRpcError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => parse_msat(v)
                .map(Some)
                .ok_or_else(|| bad(name, "should be a millisatoshi amount", v)),
        }
    }
}

/// lightning-cli sends numbers from positional args as JSON numbers, but a
/// numeric string is accepted too (lightningd parses the token text).
fn parse_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn parse_msat(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => {
            if let Some(n) = s.strip_suffix("msat") {
                n.parse().ok()
            } else if let Some(n) = s.strip_suffix("sat") {
                n.parse::<u64>().ok()?.checked_mul(1000)
            } else {
                s.parse().ok()
            }
        }
        _ => None,
    }
}

pub(crate) fn invalid(message: String) -> SimRpcError {
    SimRpcError::new(INVALID_PARAMS, message)
}

/// lightningd's `command_fail_badparam` wording (non-developer mode).
pub(crate) fn bad(name: &str, what: &str, _token: &Value) -> SimRpcError {
    invalid(format!(
        "{name}: {what}: invalid token (see logs for details)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NAMES: &[&str] = &["id", "feebase", "feeppm"];

    #[test]
    fn object_and_array_are_equivalent() {
        let a = json!({"id": "1x1x1", "feeppm": 10});
        let b = json!(["1x1x1", null, 10]);
        for v in [&a, &b] {
            let p = Params::parse(v, NAMES).unwrap();
            assert_eq!(p.string("id").unwrap(), Some("1x1x1"));
            assert_eq!(p.msat("feebase").unwrap(), None);
            assert_eq!(p.u32("feeppm").unwrap(), Some(10));
        }
    }

    #[test]
    fn bad_shapes_are_invalid_params() {
        assert_eq!(
            Params::parse(&json!({"nope": 1}), NAMES)
                .err()
                .unwrap()
                .code,
            -32602
        );
        assert_eq!(
            Params::parse(&json!([1, 2, 3, 4]), NAMES)
                .err()
                .unwrap()
                .code,
            -32602
        );
        let v = json!({"feeppm": "x"});
        let p = Params::parse(&v, NAMES).unwrap();
        assert_eq!(p.u32("feeppm").unwrap_err().code, -32602);
        assert_eq!(
            p.required("id").unwrap_err().message,
            "missing required parameter: id"
        );
    }

    #[test]
    fn msat_accepts_suffixes() {
        assert_eq!(parse_msat(&json!("5sat")), Some(5000));
        assert_eq!(parse_msat(&json!("7msat")), Some(7));
        assert_eq!(parse_msat(&json!(9)), Some(9));
    }
}
