//! Builds the guest policies in `policies/` for `wasm32-unknown-unknown` and
//! encodes each core module as a component in `OUT_DIR`, so a plain
//! `cargo build` / `cargo test` of the workspace ships current components
//! without a manual step.
//!
//! Invariants:
//! - The nested cargo uses the workspace manifest (one shared Cargo.lock,
//!   `--locked` so it never rewrites it) and its own target dir,
//!   `<workspace target dir>/guest-wasm`, so it never waits on the outer
//!   cargo's build-directory lock.
//! - Unchanged inputs mean no rerun: every input of the guests is listed in a
//!   precise `cargo:rerun-if-changed` line.
//! - Guests are built one after another (variants of one crate share its
//!   output file), each module is read before the next build starts, all
//!   under one lock on the guest target dir (see `lock`).

mod guests;
mod lock;
mod nested;
mod paths;

use anyhow::Context;
use guests::{GUESTS, SHARED_CRATE_DIRS};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Cargo shows a failing build script's stderr; `{:#}` keeps the
            // whole context chain on one readable line.
            eprintln!("error: building the policy components failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let workspace = paths::Workspace::locate()?;
    emit_rerun_lines(&workspace.root);

    let toolchain = nested::Toolchain::from_env()?;
    toolchain.require_wasm_target()?;
    let guest_target_dir = workspace.guest_target_dir();
    let out_dir = paths::out_dir()?;
    let _lock = lock::lock_guest_dir(&guest_target_dir)?;

    for guest in GUESTS {
        let core_module = toolchain.build_guest(&workspace.root, &guest_target_dir, guest)?;
        let component = nested::encode_component(&core_module)
            .with_context(|| format!("encoding {} as a component", guest.label()))?;
        let destination = out_dir.join(guest.artifact);
        std::fs::write(&destination, component)
            .with_context(|| format!("writing {}", destination.display()))?;
    }
    Ok(())
}

/// Everything the components depend on. Listing paths (not relying on the
/// default "any file in the package") keeps a change in this crate's own
/// tests from rebuilding guests, and a guest change from being missed.
fn emit_rerun_lines(root: &Path) {
    let mut inputs = vec![
        root.join("wit"),
        root.join("Cargo.lock"),
        root.join("Cargo.toml"),
    ];
    for dir in GUESTS
        .iter()
        .map(|g| g.crate_dir)
        .chain(SHARED_CRATE_DIRS.iter().copied())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let crate_dir = root.join(dir);
        inputs.extend([crate_dir.join("Cargo.toml"), crate_dir.join("src")]);
        inputs.push(crate_dir.join("build.rs"));
    }
    inputs.push("build".into());
    for input in inputs {
        // A listed path that does not exist would make cargo rerun every time.
        if input.exists() {
            println!("cargo:rerun-if-changed={}", input.display());
        }
    }
    // Honoured when choosing the guest target dir.
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
}
