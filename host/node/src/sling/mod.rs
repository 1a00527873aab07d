//! sling (daywalker90/sling, v4.2) as a [`revops_core::RebalanceExecutor`]:
//! the requests we send ([`request`]), serde mirrors of its answers
//! ([`wire`]), their conversion to domain types ([`convert`]) and the
//! operations over any raw JSON-RPC transport ([`ops`]).
//!
//! Invariants:
//! - The facts come from `cln-fixtures/SLING.md` (sling's real surface,
//!   checked on real nodes); nothing here assumes more than it states.
//! - The simulated node drives the same [`ops`] through its `handle_rpc`, so
//!   requests and parsing are exercised identically in tests and `simulate`.
//! - Listing jobs uses `sling-jobsettings`; `sling-job` is only ever sent to
//!   create, because it stores a job (and stops the tasks of one it replaces).

pub mod convert;
pub mod ops;
pub mod request;
pub mod wire;

#[cfg(test)]
mod tests;

pub use ops::RawRpc;
