//! `revops-lightningd-sim`: a simulated lightningd for end-to-end tests.
//!
//! It runs the real plugin binary exactly as lightningd does (PROTOCOL.md):
//! cwd = lightning-dir, `LIGHTNINGD_PLUGIN=1`, `getmanifest` then `init` with
//! typed options, compact JSON with `"\n\n"` framing on stdin/stdout; it
//! serves JSON-RPC on `<lightning-dir>/lightning-rpc` from a shared
//! [`revops_sim::SimNetwork`], records every call, log and protocol
//! violation, and drives the plugin like `lightning-cli` (passthrough,
//! `setconfig` with string values, notifications, shutdown, kill -9).
//!
//! Invariants:
//! - Anything on the plugin's stdout that is not JSON-RPC is a recorded
//!   violation ([`SimLightningd::protocol_violations`]), never ignored.
//! - The simulated network is only touched under its mutex and never across
//!   an await; tests must not hold its guard across an await either.
//! - Simulated time moves only when the test calls `advance_to` on the network.

mod error;
pub mod framing;
mod lightningd;
mod link;
mod manifest;
mod process;
mod record;
mod rpc_server;
mod shared;

pub use error::{LIGHTNINGD_SHUTDOWN, PLUGIN_TERMINATED, RpcError};
pub use lightningd::{LIGHTNINGD_VERSION, LightningdConfig, SimLightningd};
pub use shared::RpcOverride;
