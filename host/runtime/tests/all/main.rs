//! Integration tests for `revops-runtime`, one binary with modules (as
//! wasmtime does): real components in, classified failures out.

mod fee_alpha;
mod fee_thompson;
mod guest;
mod hostile;
mod limits;
mod load;
mod logging;
mod python;
mod rebalance;
mod stats;
mod support;
mod wasi_shim;
