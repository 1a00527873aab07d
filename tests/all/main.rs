//! End-to-end tests: the real `cl-revenue-ops` binary started by the
//! simulated lightningd exactly as lightningd starts plugins, answering its
//! RPC from the seeded simulated network. One test binary, modules by area
//! (as wasmtime's `tests/all`).

mod support;

mod author;
mod bad_input;
mod clboss;
mod config;
mod fee_cycle;
mod fee_inputs;
mod flow;
mod forward_events;
mod hot_swap;
mod lifecycle;
mod lightningd_trouble;
mod peer_policies;
mod quarantine_shadow;
mod rebalance;
mod sandbox;
mod thompson;
mod wasm;
