//! Where things are: the workspace root, the outer target dir, `OUT_DIR`.
//!
//! Invariants:
//! - Paths are derived lexically from cargo's environment, never by
//!   canonicalising (a workspace reached through a symlink stays that
//!   workspace).
//! - The guest target dir is `<workspace target dir>/guest-wasm`.

use anyhow::{Context, anyhow};
use std::path::{Path, PathBuf};

/// Cargo writes this file at the root of every target dir it owns.
const TARGET_DIR_MARKER: &str = "CACHEDIR.TAG";
const GUEST_TARGET_SUBDIR: &str = "guest-wasm";

pub struct Workspace {
    pub root: PathBuf,
}

impl Workspace {
    /// This crate lives at `<root>/host/policy-artifacts`.
    pub fn locate() -> anyhow::Result<Self> {
        let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
        let root = manifest_dir
            .parent()
            .and_then(Path::parent)
            .ok_or_else(|| anyhow!("{} has no grandparent", manifest_dir.display()))?
            .to_path_buf();
        if !root.join("Cargo.toml").is_file() {
            return Err(anyhow!("no workspace Cargo.toml at {}", root.display()));
        }
        Ok(Workspace { root })
    }

    /// The outer build's target dir plus `guest-wasm`: an absolute
    /// `CARGO_TARGET_DIR` if set; otherwise the ancestor of `OUT_DIR` that
    /// cargo marked as a target dir (this also covers `build.target-dir` in a
    /// config file and a relative `CARGO_TARGET_DIR`); otherwise `<root>/target`.
    pub fn guest_target_dir(&self) -> PathBuf {
        let from_env = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute());
        let from_out_dir = || {
            out_dir().ok().and_then(|out| {
                out.ancestors()
                    .find(|dir| dir.join(TARGET_DIR_MARKER).is_file())
                    .map(Path::to_path_buf)
            })
        };
        let target_dir = from_env
            .or_else(from_out_dir)
            .unwrap_or_else(|| self.root.join("target"));
        target_dir.join(GUEST_TARGET_SUBDIR)
    }
}

pub fn out_dir() -> anyhow::Result<PathBuf> {
    env("OUT_DIR").map(PathBuf::from)
}

pub fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| format!("cargo did not set {name}"))
}
