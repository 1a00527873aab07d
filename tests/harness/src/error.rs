//! The JSON-RPC error a caller of lightningd sees.

use serde_json::Value;

/// lightningd's "plugin terminated before replying" code.
pub const PLUGIN_TERMINATED: i64 = -4;
/// lightningd's "shutting down" code.
pub const LIGHTNINGD_SHUTDOWN: i64 = -5;
pub const INVALID_PARAMS: i64 = -32602;

/// An `error` object from a JSON-RPC reply.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("RPC error {code}: {message}")]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Reads a JSON-RPC `error` member; a malformed one becomes code -1.
    pub fn from_json(error: &Value) -> Self {
        RpcError {
            code: error.get("code").and_then(Value::as_i64).unwrap_or(-1),
            message: error
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("malformed error object: {error}")),
            data: error.get("data").cloned(),
        }
    }

    pub fn to_json(&self) -> Value {
        let mut v = serde_json::json!({"code": self.code, "message": self.message});
        if let Some(data) = &self.data {
            v["data"] = data.clone();
        }
        v
    }

    pub(crate) fn plugin_terminated() -> Self {
        RpcError::new(
            PLUGIN_TERMINATED,
            "Plugin terminated before replying to RPC call.",
        )
    }
}

impl From<revops_sim::SimRpcError> for RpcError {
    fn from(e: revops_sim::SimRpcError) -> Self {
        RpcError {
            code: e.code,
            message: e.message,
            data: e.data,
        }
    }
}
