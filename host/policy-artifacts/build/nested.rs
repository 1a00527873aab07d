//! The nested `cargo build` for one guest, and the core-module → component
//! encoding.
//!
//! Invariants:
//! - The nested cargo is the outer one (`CARGO`) driving the outer `RUSTC`,
//!   with the outer build's flags scrubbed from its environment: host
//!   RUSTFLAGS (coverage, target-cpu, …) must not reach a wasm32 build, and
//!   the outer target settings must not redirect it.
//! - `CARGO_MAKEFLAGS` is kept, so the nested build shares the outer
//!   jobserver instead of oversubscribing the cores.

use crate::guests::Guest;
use crate::paths::env;
use anyhow::{Context, anyhow, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Variables the outer cargo sets (or a user sets for the host build) that
/// would change or break the wasm32 build if inherited.
const SCRUBBED_ENV: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    // Set to clippy-driver under `cargo clippy`: the guests would be
    // linted instead of just built, and their fingerprints would flip.
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_PRIMARY_PACKAGE",
];

/// Guest profile on top of the workspace's `[profile.release]` (which keeps
/// `overflow-checks = true`). Optimised for speed: a fee policy runs on every
/// channel every cycle, and the component is small either way.
const PROFILE_OVERRIDES: &[&str] = &[
    "profile.release.opt-level=3",
    "profile.release.lto=true",
    "profile.release.codegen-units=1",
    "profile.release.debug=false",
];

pub struct Toolchain {
    cargo: PathBuf,
    rustc: String,
}

impl Toolchain {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Toolchain {
            cargo: PathBuf::from(env("CARGO")?),
            rustc: env("RUSTC").unwrap_or_else(|_| "rustc".to_owned()),
        })
    }

    /// Fails with the fix when the wasm32 standard library is not installed.
    pub fn require_wasm_target(&self) -> anyhow::Result<()> {
        let output = Command::new(&self.rustc)
            .args(["--print", "target-libdir", "--target", WASM_TARGET])
            .output()
            .with_context(|| format!("running {} --print target-libdir", self.rustc))?;
        let libdir = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let has_std = std::fs::read_dir(&libdir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|entry| entry.file_name().to_string_lossy().starts_with("libstd-"))
        });
        if !output.status.success() || !has_std {
            bail!(
                "the {WASM_TARGET} target is not installed for {}: \
                 run `rustup target add {WASM_TARGET}`",
                self.rustc
            );
        }
        Ok(())
    }

    /// Builds `guest` and returns its core module's bytes.
    pub fn build_guest(
        &self,
        workspace_root: &Path,
        target_dir: &Path,
        guest: &Guest,
    ) -> anyhow::Result<Vec<u8>> {
        let mut command = Command::new(&self.cargo);
        command
            .current_dir(workspace_root)
            .args(["build", "--release", "--locked", "--target", WASM_TARGET])
            .arg("--manifest-path")
            .arg(workspace_root.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir)
            .args(["-p", guest.package]);
        if let Some(feature) = guest.feature {
            command.args(["--features", feature]);
        }
        for setting in PROFILE_OVERRIDES {
            command.args(["--config", setting]);
        }
        for name in SCRUBBED_ENV {
            command.env_remove(name);
        }
        command.env("RUSTC", &self.rustc);

        // Captured, not inherited: this script's stdout is cargo's
        // instruction channel.
        let output = command
            .output()
            .with_context(|| format!("running {}", self.cargo.display()))?;
        if !output.status.success() {
            return Err(anyhow!(
                "`cargo build` of {} for {WASM_TARGET} failed ({}):\n{}{}",
                guest.label(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let module_path = target_dir
            .join(WASM_TARGET)
            .join("release")
            .join(guest.core_module_file());
        std::fs::read(&module_path).with_context(|| format!("reading {}", module_path.display()))
    }
}

/// Turns a core module carrying wit-bindgen's component-type section into a
/// validated component.
pub fn encode_component(core_module: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .module(core_module)?
        .validate(true)
        .encode()
}
