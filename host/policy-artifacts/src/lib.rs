//! The built-in policies as WebAssembly components, embedded in the binary.
//!
//! The build script compiles each guest crate in `policies/` for
//! `wasm32-unknown-unknown` and encodes it as a component of its WIT world
//! (`revops:policy/fee-policy@0.1.1` for fee policies,
//! `revops:policy/rebalance-policy@0.1.1` for rebalance scorers); this crate
//! only embeds the results.
//!
//! Invariants:
//! - Every constant is a complete, validated component (not a core module).
//! - [`FEE_ALPHA`], [`FEE_THOMPSON`] and [`REBALANCE_EV`] import nothing but
//!   `revops:policy` interfaces (no WASI).
//! - [`BUILT_IN`] lists fee policies only and [`BUILT_IN_SCORERS`] rebalance
//!   scorers only: callers pick a list by role.
//! - [`hostile`] components are for containment tests only: loading one in
//!   production is a bug. All but [`hostile::WASI_IMPORT`] (which also
//!   imports WASI) import only `revops:policy` interfaces.

/// The default fee policy, `fee-alpha` (crate `revops-fee-alpha`).
pub const FEE_ALPHA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/fee_alpha.component.wasm"));

/// Gaussian Thompson sampling with an AIMD overlay, `fee-thompson` (crate
/// `revops-fee-thompson`), selectable per peer or as the node default.
pub const FEE_THOMPSON: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/fee_thompson.component.wasm"));

/// Every built-in fee policy, the default first. The plugin loads them all
/// at start-up; a `.wasm` file of the same name in the policy directory
/// replaces one.
pub const BUILT_IN: &[&[u8]] = &[FEE_ALPHA, FEE_THOMPSON];

/// The reference rebalancer's expected-value model with optional Kelly
/// sizing, `rebalance-ev` (crate `revops-rebalance-ev`): the default
/// rebalance scorer. Exports only the rebalance-scorer role.
pub const REBALANCE_EV: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/rebalance_ev.component.wasm"));

/// Every built-in rebalance scorer, the default first.
pub const BUILT_IN_SCORERS: &[&[u8]] = &[REBALANCE_EV];

/// Deliberately misbehaving policies (crate `revops-test-hostile`), one per
/// failure kind the runtime must contain. Their `metadata` is valid (name
/// `hostile-<mode>`, roles fee-strategy and rebalance-scorer); `decide-fees`
/// and `score-rebalances` misbehave alike. [`hostile::WASI_IMPORT`] and
/// [`hostile::WRONG_WIT_MAJOR`] behave but break the built-ins' contract
/// itself: the runtime must refuse them at load.
pub mod hostile {
    /// `decide-fees` never returns (fuel / epoch interruption must stop it).
    pub const INFINITE_LOOP: &[u8] = include_bytes!(concat!(
        env!("OUT_DIR"),
        "/hostile_infinite_loop.component.wasm"
    ));
    /// `decide-fees` allocates without bound (the memory cap must trap it).
    pub const MEMORY_BOMB: &[u8] = include_bytes!(concat!(
        env!("OUT_DIR"),
        "/hostile_memory_bomb.component.wasm"
    ));
    /// `decide-fees` panics (a trap).
    pub const PANIC: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/hostile_panic.component.wasm"));
    /// `decide-fees` returns `err("hostile policy: deliberate guest error")`.
    pub const GUEST_ERROR: &[u8] = include_bytes!(concat!(
        env!("OUT_DIR"),
        "/hostile_guest_error.component.wasm"
    ));
    /// The same guest built without a misbehaviour (`hostile-none`): holds
    /// every fee, rejects every rebalance. A valid policy that is not built in.
    pub const WELL_BEHAVED: &[u8] = include_bytes!(concat!(
        env!("OUT_DIR"),
        "/hostile_well_behaved.component.wasm"
    ));
    /// `decide-fees` returns one decision fewer than it was given inputs.
    pub const WRONG_COUNT: &[u8] = include_bytes!(concat!(
        env!("OUT_DIR"),
        "/hostile_wrong_count.component.wasm"
    ));
    /// `decide-fees` recurses without bound (not a tail call, not optimised
    /// away): the wasm stack limit must trap it.
    pub const DEEP_RECURSION: &[u8] = include_bytes!(concat!(
        env!("OUT_DIR"),
        "/hostile_deep_recursion.component.wasm"
    ));
    /// `decide-fees` answers with 48 MiB of state spread over the batch
    /// (`score-rebalances`: 48 MiB of reason): allocatable under the default
    /// 64 MiB memory cap, so the host's output checks must refuse it.
    pub const HUGE_OUTPUT: &[u8] = include_bytes!(concat!(
        env!("OUT_DIR"),
        "/hostile_huge_output.component.wasm"
    ));
    /// Behaves, but imports `wasi:random/random@0.2.0` (and calls
    /// `get-random-u64`) besides `revops:policy/host`: refused when loaded
    /// like a built-in; loads where the WASI shim for operator policies
    /// (which provides that interface) is allowed.
    pub const WASI_IMPORT: &[u8] = include_bytes!(concat!(
        env!("OUT_DIR"),
        "/hostile_wasi_import.component.wasm"
    ));
    /// Behaves, but is built against `revops:policy@1.0.0` (the current WIT
    /// with the major version bumped): refused at load as incompatible.
    pub const WRONG_WIT_MAJOR: &[u8] = include_bytes!(concat!(
        env!("OUT_DIR"),
        "/hostile_wrong_wit_major.component.wasm"
    ));
}

#[cfg(test)]
mod tests;
