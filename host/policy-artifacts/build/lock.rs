//! An exclusive lock on the guest target dir for the whole build-and-copy
//! sequence.
//!
//! Invariants:
//! - While one build script holds the lock, no other (a concurrent debug and
//!   release build, `cargo clippy` next to `cargo test`, …) builds guests in
//!   the same dir. Cargo's own lock covers a single nested `cargo build`, but
//!   the feature variants of one crate share an output file, so without this
//!   a concurrent build could swap a variant between our build and our read.
//! - The lock is released when the guard drops (or the process exits).

use anyhow::Context;
use std::fs::{self, File};
use std::path::Path;

const LOCK_FILE: &str = ".policy-artifacts.lock";

/// Holds the lock until dropped.
pub struct GuestDirLock {
    _file: File,
}

pub fn lock_guest_dir(guest_target_dir: &Path) -> anyhow::Result<GuestDirLock> {
    fs::create_dir_all(guest_target_dir)
        .with_context(|| format!("creating {}", guest_target_dir.display()))?;
    let path = guest_target_dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.lock()
        .with_context(|| format!("locking {}", path.display()))?;
    Ok(GuestDirLock { _file: file })
}
