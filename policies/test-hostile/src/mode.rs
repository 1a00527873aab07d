//! Which misbehaviour this build was compiled with.
//!
//! Invariants:
//! - Exactly one [`Mode`] is selected per build; with several features the
//!   first in declaration order wins (so `--all-features` still compiles).

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
            Mode::WellBehaved => "none",
        }
    }
}

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
