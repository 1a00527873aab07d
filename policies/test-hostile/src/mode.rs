//! Which misbehaviour this build was compiled with.
//!
//! Invariants:
//! - Exactly one [`Mode`] is selected per build; with several features the
//!   first in declaration order wins (so `--all-features` still compiles).
//! - `build.rs` includes this file to pick the WIT for [`SELECTED`], so the
//!   component's contract and its behaviour always agree.

/// What `decide-fees` does in this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Never returns: the host's fuel / epoch limits must stop it.
    InfiniteLoop,
    /// Allocates until the memory cap traps it.
    MemoryBomb,
    /// Panics (a wasm trap: `unreachable`).
    Panic,
    /// Returns `err(..)` for the batch.
    GuestError,
    /// Returns one decision fewer than inputs (malformed output; an empty
    /// batch stays empty, so give it at least one input).
    WrongCount,
    /// Recurses without bound (not a tail call, opaque to the optimiser):
    /// the host's stack limit must trap it.
    DeepRecursion,
    /// Answers with [`HUGE_OUTPUT_BYTES`] spread over the batch: a state of
    /// many MiB per fee decision, a reason of many MiB per verdict.
    HugeOutput,
    /// Behaves, but the component also imports `wasi:random/random@0.2.0`
    /// (and calls it): loaded like a built-in, the host must refuse it,
    /// naming the import, although its WASI shim for operator policies
    /// provides that interface.
    WasiImport,
    /// Behaves, but is built against `revops:policy@1.0.0` (the current
    /// contract with its major version bumped): the host must refuse it at
    /// load as an incompatible contract.
    WrongWitMajor,
    /// No feature: answers correctly, holding every channel's fee.
    WellBehaved,
}

impl Mode {
    /// The suffix of the policy name, `hostile-<mode>`.
    pub const fn slug(self) -> &'static str {
        match self {
            Mode::InfiniteLoop => "infinite-loop",
            Mode::MemoryBomb => "memory-bomb",
            Mode::Panic => "panic",
            Mode::GuestError => "guest-error",
            Mode::WrongCount => "wrong-count",
            Mode::DeepRecursion => "deep-recursion",
            Mode::HugeOutput => "huge-output",
            Mode::WasiImport => "wasi-import",
            Mode::WrongWitMajor => "wrong-wit-major",
            Mode::WellBehaved => "none",
        }
    }
}

/// Total bytes the [`Mode::HugeOutput`] answer carries: three quarters of
/// the host's default 64 MiB memory cap, so the guest can still allocate it
/// and only the host's checks on the answer can catch it (fee state over
/// 4096 bytes, verdict reason over 1024 bytes). Under a cap below ≈ 50 MiB
/// the guest runs out of memory instead.
pub const HUGE_OUTPUT_BYTES: usize = 48 << 20;

/// The mode chosen by this build's cargo features.
pub const SELECTED: Mode = if cfg!(feature = "infinite-loop") {
    Mode::InfiniteLoop
} else if cfg!(feature = "memory-bomb") {
    Mode::MemoryBomb
} else if cfg!(feature = "panic") {
    Mode::Panic
} else if cfg!(feature = "guest-error") {
    Mode::GuestError
} else if cfg!(feature = "wrong-count") {
    Mode::WrongCount
} else if cfg!(feature = "deep-recursion") {
    Mode::DeepRecursion
} else if cfg!(feature = "huge-output") {
    Mode::HugeOutput
} else if cfg!(feature = "wasi-import") {
    Mode::WasiImport
} else if cfg!(feature = "wrong-wit-major") {
    Mode::WrongWitMajor
} else {
    Mode::WellBehaved
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_make_valid_policy_names() {
        let modes = [
            Mode::InfiniteLoop,
            Mode::MemoryBomb,
            Mode::Panic,
            Mode::GuestError,
            Mode::WrongCount,
            Mode::DeepRecursion,
            Mode::HugeOutput,
            Mode::WasiImport,
            Mode::WrongWitMajor,
            Mode::WellBehaved,
        ];
        for mode in modes {
            let name = format!("hostile-{}", mode.slug());
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}"
            );
        }
    }
}
