//! Watching the policy directory: a `.wasm` file written or replaced there
//! is validated and, if it passes, swapped in — the same path as
//! `revenue-wasm load`.
//!
//! The directory is polled every [`POLL`] (a few `stat` calls): it works on
//! every filesystem and platform, needs no inotify instance, and debounces
//! by construction.
//!
//! Invariants:
//! - A file is read only once its size and modification time stayed the
//!   same over two polls, so a file still being copied is not read
//!   half-written (one that is would fail validation and replace nothing).
//! - A file is handled once per version (size, mtime); a file whose bytes
//!   are those of a loaded policy is skipped, so the start-up load and a
//!   `touch` install nothing twice (a file refused at start-up is looked at
//!   once more by the first polls, and refused again).
//! - Removing a file unloads nothing: unloading can strand peers, so it
//!   stays an explicit `revenue-wasm unload`.
//! - The watcher never takes the plugin down: an unreadable directory is
//!   logged (once per distinct error) and polled again.

use crate::registry;
use crate::state::State;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Time between two looks at the directory; a new file is loaded after two.
pub const POLL: Duration = Duration::from_secs(1);

/// What identifies a version of a file between polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    len: u64,
    modified: Option<SystemTime>,
}

/// The poller's memory: what each file looked like last time, and the
/// version already handled.
#[derive(Default)]
struct Seen {
    last: HashMap<PathBuf, Version>,
    handled: HashMap<PathBuf, Version>,
}

impl Seen {
    /// Files that are stable (same version as last poll) and not handled
    /// yet; forgets files that are gone.
    fn ready(&mut self, now: HashMap<PathBuf, Version>) -> Vec<PathBuf> {
        let mut ready: Vec<PathBuf> = now
            .iter()
            .filter(|(path, version)| {
                self.last.get(*path) == Some(version) && self.handled.get(*path) != Some(version)
            })
            .map(|(path, _)| path.clone())
            .collect();
        ready.sort();
        self.handled.retain(|path, _| now.contains_key(path));
        for path in &ready {
            self.handled.insert(path.clone(), now[path]);
        }
        self.last = now;
        ready
    }
}

fn list(dir: &Path) -> std::io::Result<HashMap<PathBuf, Version>> {
    let mut files = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "wasm") {
            continue;
        }
        if let Ok(meta) = entry.metadata()
            && meta.is_file()
        {
            files.insert(
                path,
                Version {
                    len: meta.len(),
                    modified: meta.modified().ok(),
                },
            );
        }
    }
    Ok(files)
}

/// Starts watching `state`'s policy directory. Files already there are
/// looked at once like new ones: those loaded at start-up are skipped by
/// their hash (a file that changed between the start-up load and the first
/// poll is not missed).
pub fn spawn(state: State) {
    let dir = state.0.policy_dir.clone();
    let mut seen = Seen::default();
    log::info!("watching {} for policies", dir.display());
    tokio::spawn(async move {
        let mut last_error: Option<String> = None;
        loop {
            tokio::time::sleep(POLL).await;
            let now = match list(&dir) {
                Ok(now) => now,
                Err(e) => {
                    let error = e.to_string();
                    if last_error.as_ref() != Some(&error) {
                        log::warn!(
                            "cannot read the policy directory {}: {error}",
                            dir.display()
                        );
                        last_error = Some(error);
                    }
                    continue;
                }
            };
            last_error = None;
            for path in seen.ready(now) {
                on_change(&state, &path).await;
            }
        }
    });
}

async fn on_change(state: &State, path: &Path) {
    // A policy file is at most a few MiB: read it in place.
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            log::warn!("cannot read {}: {e}", path.display());
            return;
        }
    };
    let hash = sha256_hex(&bytes);
    if state.0.engine.policies().iter().any(|p| p.hash() == hash) {
        return;
    }
    // The registry logs and records a refusal; a pass is swapped in.
    if let Ok(validated) = registry::validate(state, path, true).await {
        let installed = registry::install(state, validated);
        log::info!(
            "{}@{} loaded from the policy directory",
            installed.name,
            installed.version
        );
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(len: u64) -> Version {
        Version {
            len,
            modified: None,
        }
    }

    fn files(entries: &[(&str, u64)]) -> HashMap<PathBuf, Version> {
        entries
            .iter()
            .map(|(name, len)| (PathBuf::from(name), v(*len)))
            .collect()
    }

    #[test]
    fn a_file_is_handled_once_it_is_stable_and_once_per_version() {
        let mut seen = Seen::default();
        // Appears while being written: not yet.
        assert!(seen.ready(files(&[("a.wasm", 10)])).is_empty());
        // Still growing: not yet.
        assert!(seen.ready(files(&[("a.wasm", 20)])).is_empty());
        // Stable over two polls: once.
        assert_eq!(
            seen.ready(files(&[("a.wasm", 20)])),
            vec![PathBuf::from("a.wasm")]
        );
        assert!(seen.ready(files(&[("a.wasm", 20)])).is_empty());
        // Replaced by a new version: once more, after it settles.
        assert!(seen.ready(files(&[("a.wasm", 30)])).is_empty());
        assert_eq!(
            seen.ready(files(&[("a.wasm", 30)])),
            vec![PathBuf::from("a.wasm")]
        );
        // Removed and written back identically: handled again.
        assert!(seen.ready(files(&[])).is_empty());
        assert!(seen.ready(files(&[("a.wasm", 30)])).is_empty());
        assert_eq!(
            seen.ready(files(&[("a.wasm", 30)])),
            vec![PathBuf::from("a.wasm")]
        );
    }

    #[test]
    fn only_wasm_files_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.wasm"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("sub.wasm")).unwrap();
        let listed = list(dir.path()).unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed.contains_key(&dir.path().join("a.wasm")));
    }
}
