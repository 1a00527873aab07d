//! A hostile fee policy for the host's containment tests (DESIGN.md §2.3, §6).
//!
//! A cargo feature selects what `decide-fees` does: loop forever, allocate
//! without bound, panic, return `err`, return one decision too few, recurse
//! without bound, or return tens of MiB. `metadata` stays valid in every
//! mode (name `hostile-<mode>`) so the host can load the component and only
//! the call itself misbehaves. Two more features change the component's
//! contract instead (a WASI import, a `revops:policy@1.0.0` build): those
//! components must be refused at load.
//!
//! Invariants:
//! - Only the wasm32 guest (`guest`, behind `target_arch = "wasm32"`) ever
//!   misbehaves; native builds (`cargo test --workspace`) compile just the
//!   harmless [`Mode`] description below.

mod mode;

#[cfg(target_arch = "wasm32")]
mod guest;

pub use mode::{HUGE_OUTPUT_BYTES, Mode, SELECTED};
