//! `revops-sim`: a deterministic, seeded simulated Lightning routing node.
//!
//! It serves three users with one model: the end-to-end tests (through the
//! simulated lightningd in `tests/harness`, which answers the plugin's RPC
//! calls with [`SimNetwork::handle_rpc`]), the `simulate` command, and the
//! benchmarks. See `docs/simulation-model.md` for the model's assumptions.
//!
//! Invariants:
//! - Same [`Scenario`] (seed included) and the same sequence of calls give
//!   byte-identical outputs: one seeded ChaCha8 stream, integer money, no
//!   wall clock, no hash-map iteration.
//! - Simulated time moves only through [`SimNetwork::advance_to`]; a
//!   simulated sling's jobs (when the scenario lists sling) run as it moves,
//!   and a simulated bookkeeper (when listed) reports their settled payments.
//! - RPC answers have CLN's exact shapes (every schema-required field), so
//!   cln-rpc's typed responses deserialize them.
//! - Results are comparisons between runs on the same seed, never income promises.

mod channel;
mod feerate;
mod forwards;
mod history;
mod ids;
mod model;
mod network;
mod node_adapter;
pub mod rpc;
mod sampling;
mod scenario;
mod sling;

pub use channel::{ChannelState, ChannelView, UnknownChannelState};
pub use feerate::FeerateParams;
pub use network::{SetchannelCall, SimError, SimNetwork};
pub use node_adapter::{SimClock, SimNode};
pub use rpc::{BKPR_METHODS, SIM_LIGHTNINGD_VERSION, SIM_METHODS, SLING_METHODS, SimRpcError};
pub use scenario::{
    ChannelSpec, DEFAULT_START_BLOCKHEIGHT, DEFAULT_START_TIME_SECS, PluginSpec, Scenario,
    TrafficParams,
};
pub use sling::{RebalanceOutcome, RebalanceRecord, SlingParams};
