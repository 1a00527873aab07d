//! How a policy call failed, told apart so the engine can count failures per
//! kind, pick the hook's fallback and quarantine a policy that keeps failing.
//!
//! Classification order matters:
//! 1. the store's limiter refused a memory grow → `OutOfMemory` (with
//!    `trap_on_grow_failure` wasmtime reports this as a plain error, not a
//!    `wasmtime::Trap`, and a guest allocator that sees a failed grow aborts
//!    with `unreachable`; the limiter's record is the reliable signal);
//! 2. `Trap::OutOfFuel` → `OutOfFuel`, `Trap::Interrupt` → `Interrupted`;
//! 3. any other trap or runtime error → `Trap`, with the innermost wasm frame
//!    when a backtrace is attached.
//!
//! `GuestError` (the guest returned `err(..)`), `InvalidOutput` (the call
//! succeeded but the answer breaks the contract) and `MissingRole` (the host
//! called a role the component does not export; nothing ran) are built by
//! the caller.

use std::fmt;

/// The kind of a policy failure. Stable snake_case names (`as_str`) are used
/// in metrics, the audit log and RPC output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The fuel budget for the batch ran out (deterministic).
    OutOfFuel,
    /// The wall-clock backstop (epoch deadline) fired.
    Interrupted,
    /// The guest tried to grow memory past the cap.
    OutOfMemory,
    /// A trap: panic, `unreachable`, out-of-bounds access, stack overflow,
    /// malformed canonical-ABI values.
    Trap,
    /// The guest returned `err(message)`.
    GuestError,
    /// The guest answered, but the answer breaks the contract.
    InvalidOutput,
    /// The host asked for a role the component does not implement (see
    /// `LoadedPolicy::roles`); the guest was not run.
    MissingRole,
}

impl FailureKind {
    /// Every kind, in declaration order (for metrics registration).
    pub const ALL: [FailureKind; 7] = [
        FailureKind::OutOfFuel,
        FailureKind::Interrupted,
        FailureKind::OutOfMemory,
        FailureKind::Trap,
        FailureKind::GuestError,
        FailureKind::InvalidOutput,
        FailureKind::MissingRole,
    ];

    /// The kind's stable snake_case name, e.g. `"out_of_fuel"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::OutOfFuel => "out_of_fuel",
            FailureKind::Interrupted => "interrupted",
            FailureKind::OutOfMemory => "out_of_memory",
            FailureKind::Trap => "trap",
            FailureKind::GuestError => "guest_error",
            FailureKind::InvalidOutput => "invalid_output",
            FailureKind::MissingRole => "missing_role",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed policy call: what kind, and a message an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFailure {
    pub kind: FailureKind,
    pub message: String,
}

impl PolicyFailure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for PolicyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for PolicyFailure {}

/// What the store saw that the error value alone does not say.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StoreEvidence {
    /// The memory grow (bytes requested) the limiter refused, if any.
    pub(crate) denied_memory_bytes: Option<usize>,
    pub(crate) memory_cap_bytes: usize,
    pub(crate) fuel_budget: u64,
    pub(crate) wall_clock_ms: u64,
    /// Bytes the guest may hand the host in one transfer (wasmtime's
    /// "hostcall fuel": the call's results, or a host call's arguments).
    pub(crate) transfer_cap_bytes: usize,
}

/// How wasmtime words a transfer over the hostcall-fuel cap; its error type
/// is private, so the text is the only signal.
const TRANSFER_CAP_MESSAGE: &str = "fuel allocated for hostcalls has been exhausted";

/// Classifies an error from instantiating or calling a guest.
pub(crate) fn classify(err: &wasmtime::Error, evidence: &StoreEvidence) -> PolicyFailure {
    if let Some(desired_bytes) = evidence.denied_memory_bytes {
        let requested = if desired_bytes == usize::MAX {
            "more memory than the host could allocate".to_owned()
        } else {
            format!("{desired_bytes} bytes of memory")
        };
        return PolicyFailure::new(
            FailureKind::OutOfMemory,
            format!(
                "policy asked for {requested}; the cap is {} bytes",
                evidence.memory_cap_bytes
            ),
        );
    }
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => PolicyFailure::new(
            FailureKind::OutOfFuel,
            format!(
                "policy used its whole fuel budget of {} for this batch",
                evidence.fuel_budget
            ),
        ),
        Some(wasmtime::Trap::Interrupt) => PolicyFailure::new(
            FailureKind::Interrupted,
            format!(
                "policy ran past the {} ms wall-clock limit",
                evidence.wall_clock_ms
            ),
        ),
        Some(wasmtime::Trap::StackOverflow) => PolicyFailure::new(
            FailureKind::Trap,
            format!(
                "stack overflow (too deep a recursion): {}",
                with_wasm_frame(&wasmtime::Trap::StackOverflow, err)
            ),
        ),
        Some(trap) => PolicyFailure::new(FailureKind::Trap, with_wasm_frame(trap, err)),
        None if format!("{err:#}").contains(TRANSFER_CAP_MESSAGE) => PolicyFailure::new(
            FailureKind::InvalidOutput,
            format!(
                "policy tried to hand the host more than {} bytes at once; the answer is refused unread",
                evidence.transfer_cap_bytes
            ),
        ),
        None => PolicyFailure::new(FailureKind::Trap, format!("{err:#}")),
    }
}

/// `"<trap>"` plus ` in <function>` naming the innermost wasm frame that is
/// the policy's own code (panic and allocator machinery skipped), when a
/// backtrace is attached (the engine keeps a few frames) and names it.
fn with_wasm_frame(trap: &wasmtime::Trap, err: &wasmtime::Error) -> String {
    let names: Vec<Option<String>> = err
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(|bt| {
            bt.frames()
                .iter()
                .map(|frame| frame.func_name().map(demangle))
                .collect()
        })
        .unwrap_or_default();
    let policy_frame = names
        .iter()
        .flatten()
        .find(|name| !is_runtime_frame(name))
        .or_else(|| names.first().and_then(Option::as_ref));
    match policy_frame {
        Some(name) => format!("{trap} in {name}"),
        None => trap.to_string(),
    }
}

/// A Rust symbol demangled without its hash; other names as they are.
fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// Frames of the guest language's runtime rather than the policy: Rust's
/// panic, abort and allocation machinery.
fn is_runtime_frame(name: &str) -> bool {
    const PREFIXES: [&str; 9] = [
        "core::",
        "std::",
        "alloc::",
        "<core::",
        "<alloc::",
        "__rustc::",
        "__rust",
        "rust_",
        "dlmalloc",
    ];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_display_as_snake_case() {
        let names: Vec<String> = FailureKind::ALL.iter().map(|k| k.to_string()).collect();
        assert_eq!(
            names,
            [
                "out_of_fuel",
                "interrupted",
                "out_of_memory",
                "trap",
                "guest_error",
                "invalid_output",
                "missing_role"
            ]
        );
    }

    #[test]
    fn denied_grow_wins_over_the_trap_code() {
        let err = wasmtime::Error::new(wasmtime::Trap::UnreachableCodeReached);
        let evidence = StoreEvidence {
            denied_memory_bytes: Some(1 << 30),
            memory_cap_bytes: 1 << 26,
            ..StoreEvidence::default()
        };
        assert_eq!(classify(&err, &evidence).kind, FailureKind::OutOfMemory);
        let no_denial = StoreEvidence::default();
        assert_eq!(classify(&err, &no_denial).kind, FailureKind::Trap);
    }
}
