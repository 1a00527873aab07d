//! The guest components this crate ships, and where each comes from.
//!
//! Invariants:
//! - Every `artifact` name is unique and matches an `include_bytes!` in
//!   `src/lib.rs`.
//! - `package` is the cargo package name, `crate_dir` its directory relative
//!   to the workspace root; together with `feature` they identify one build.

/// One guest build: a package, optionally with one feature, and the file its
/// component is written to in `OUT_DIR`.
pub struct Guest {
    pub package: &'static str,
    pub crate_dir: &'static str,
    pub feature: Option<&'static str>,
    pub artifact: &'static str,
}

impl Guest {
    /// `package` or `package[feature]`, for messages.
    pub fn label(&self) -> String {
        match self.feature {
            Some(feature) => format!("{}[{feature}]", self.package),
            None => self.package.to_owned(),
        }
    }

    /// The core module cargo writes for this package (`-` becomes `_`).
    pub fn core_module_file(&self) -> String {
        format!("{}.wasm", self.package.replace('-', "_"))
    }
}

/// Path dependencies the guests share (directories relative to the
/// workspace root): not built on their own, but a change in them changes
/// the guests.
pub const SHARED_CRATE_DIRS: &[&str] = &["policies/fee-model"];

const fn hostile(feature: &'static str, artifact: &'static str) -> Guest {
    Guest {
        package: "revops-test-hostile",
        crate_dir: "policies/test-hostile",
        feature: Some(feature),
        artifact,
    }
}

pub const GUESTS: &[Guest] = &[
    Guest {
        package: "revops-fee-alpha",
        crate_dir: "policies/fee-alpha",
        feature: None,
        artifact: "fee_alpha.component.wasm",
    },
    Guest {
        package: "revops-fee-thompson",
        crate_dir: "policies/fee-thompson",
        feature: None,
        artifact: "fee_thompson.component.wasm",
    },
    Guest {
        package: "revops-rebalance-ev",
        crate_dir: "policies/rebalance-ev",
        feature: None,
        artifact: "rebalance_ev.component.wasm",
    },
    hostile("infinite-loop", "hostile_infinite_loop.component.wasm"),
    hostile("memory-bomb", "hostile_memory_bomb.component.wasm"),
    hostile("panic", "hostile_panic.component.wasm"),
    hostile("guest-error", "hostile_guest_error.component.wasm"),
    hostile("wrong-count", "hostile_wrong_count.component.wasm"),
    hostile("deep-recursion", "hostile_deep_recursion.component.wasm"),
    hostile("huge-output", "hostile_huge_output.component.wasm"),
    // These two differ in their WIT (the crate's build.rs picks it), so
    // they are refused at load.
    hostile("wasi-import", "hostile_wasi_import.component.wasm"),
    hostile("wrong-wit-major", "hostile_wrong_wit_major.component.wasm"),
    // No feature: the same guest answering correctly (holds every fee,
    // rejects every rebalance) — a well-behaved, non-built-in policy.
    Guest {
        package: "revops-test-hostile",
        crate_dir: "policies/test-hostile",
        feature: None,
        artifact: "hostile_well_behaved.component.wasm",
    },
];
