//! The simulated lightningd's JSON-RPC face: `SimNetwork::handle_rpc`.
//!
//! Invariants:
//! - Every answer has the shape CLN produces for the same request: all fields
//!   the schema requires (cln-rpc fails on a missing one) and the usual
//!   optional ones, never a field the schema forbids.
//! - Read-only methods never advance simulated time or draw randomness; only
//!   `setchannel` changes state.
//! - Errors carry lightningd's codes: -32601 unknown method, -32602 bad params,
//!   -1 for lightningd refusing (e.g. no active channel), -3 for plugin control.
//! - sling's methods are answered only when the scenario lists sling (see
//!   `rpc/sling/`), bookkeeper's only when it lists bookkeeper (see
//!   `rpc/bookkeeper.rs`); without them they are unknown commands, as in
//!   lightningd.

pub(crate) mod bookkeeper;
mod channels;
mod feerates;
pub(crate) mod format;
mod forwards;
mod funds;
mod getinfo;
mod listconfigs;
pub(crate) mod params;
mod peers;
mod plugin;
mod setchannel;
pub(crate) mod sling;

use crate::network::SimNetwork;
use serde_json::Value;

pub use bookkeeper::BKPR_METHODS;
pub use sling::SLING_METHODS;

/// The lightningd version the simulator claims to be.
pub const SIM_LIGHTNINGD_VERSION: &str = "v26.06.6";

pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
pub(crate) const LIGHTNINGD: i64 = -1;
pub(crate) const PLUGIN_ERROR: i64 = -3;

/// A JSON-RPC error as lightningd would return it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lightningd error {code}: {message}")]
pub struct SimRpcError {
    pub code: i64,
    pub message: String,
    /// The error's `data` member: `None` = absent (lightningd's own errors),
    /// `Some(Value::Null)` = an explicit `"data": null` (sling's errors).
    pub data: Option<Value>,
}

impl SimRpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        SimRpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// The error object as it appears in a JSON-RPC reply.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::json!({"code": self.code, "message": self.message});
        if let Some(data) = &self.data {
            v["data"] = data.clone();
        }
        v
    }
}

/// The methods `handle_rpc` answers (sling's, [`SLING_METHODS`], only when
/// the scenario lists sling; bookkeeper's, [`BKPR_METHODS`], only when it
/// lists bookkeeper).
pub const SIM_METHODS: &[&str] = &[
    "getinfo",
    "listpeerchannels",
    "listpeers",
    "listforwards",
    "feerates",
    "setchannel",
    "listfunds",
    "plugin",
    "listconfigs",
];

impl SimNetwork {
    /// Answers one lightningd JSON-RPC request; `params` may be an object, an
    /// array (positional, in CLN's documented order) or null.
    pub fn handle_rpc(&mut self, method: &str, params: &Value) -> Result<Value, SimRpcError> {
        match method {
            "getinfo" => getinfo::getinfo(self, params),
            "listpeerchannels" => channels::listpeerchannels(self, params),
            "listpeers" => peers::listpeers(self, params),
            "listforwards" => forwards::listforwards(self, params),
            "feerates" => feerates::feerates(self, params),
            "setchannel" => {
                let outcome = setchannel::setchannel(self, params);
                self.record_setchannel(params, &outcome);
                outcome.map(|(value, _)| value)
            }
            "listfunds" => funds::listfunds(self, params),
            "plugin" => plugin::plugin(self, params),
            "listconfigs" => listconfigs::listconfigs(self, params),
            other => {
                let answered = if self.sling_present() {
                    sling::dispatch(self, other, params)
                } else {
                    None
                };
                let answered = match answered {
                    None if self.bookkeeper_present() => bookkeeper::dispatch(self, other, params),
                    answered => answered,
                };
                answered.unwrap_or_else(|| {
                    Err(SimRpcError::new(
                        METHOD_NOT_FOUND,
                        format!("Unknown command '{other}'"),
                    ))
                })
            }
        }
    }

    fn record_setchannel(
        &mut self,
        params: &Value,
        outcome: &Result<(Value, Vec<String>), SimRpcError>,
    ) {
        self.setchannel_calls.push(crate::network::SetchannelCall {
            at_secs: self.now(),
            params: params.clone(),
            outcome: outcome
                .as_ref()
                .map(|(_, scids)| scids.clone())
                .map_err(Clone::clone),
        });
    }
}
