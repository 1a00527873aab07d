//! Generated bindings, one module per WIT package version.
//!
//! Invariant: this is the only place in the workspace that runs
//! `wasmtime::component::bindgen!`. Each supported `revops:policy` version
//! gets its own module (`v0_1` for `0.1.x`), so a later `0.2` can sit beside
//! it and the host can keep loading guests built against the older contract.

pub mod v0_1;
