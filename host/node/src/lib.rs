//! The lightningd adapter: the engine's [`revops_core::Node`] over cln-rpc.
//!
//! Invariants:
//! - Every call has a timeout; a timed-out connection is dropped, never reused,
//!   because cln-rpc takes the next framed message on a connection as the
//!   answer and a late reply would be read as the answer to the next call.
//! - Each method group (channels, forwards, feerates, fee updates, plugins,
//!   rebalance, bookkeeper) has its own circuit breaker: after repeated failures the group
//!   fails fast for the breaker period instead of piling up calls on a
//!   struggling lightningd.
//! - Responses are parsed by cln-rpc's generated types and converted by
//!   [`convert`], which the simulated node reuses, so both parse alike.
//! - sling's methods (the [`revops_core::RebalanceExecutor`]) go through the
//!   same guarded path as raw calls in their own `rebalance` group; their
//!   requests and parsing live in [`sling`], which the simulated node reuses.
//! - bookkeeper's `bkpr-listaccountevents` (measured rebalance costs) uses
//!   cln-rpc's typed request in its own `bookkeeper` group; the lookup lives
//!   in [`bookkeeper`], which the simulated node reuses too.

pub mod bookkeeper;
mod breaker;
mod cln;
pub mod convert;
mod executor;
pub mod sling;

pub use breaker::{BreakerSnapshot, MethodGroup};
pub use cln::{ClnNode, RpcSettings};
pub use executor::BLOCKING_TIMEOUT_SECS;
