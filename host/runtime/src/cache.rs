//! Compiled policies cached on disk, so a restart or a re-load of a known
//! policy skips compilation.
//!
//! Invariants:
//! - The cache only ever holds code this host compiled itself from wasm it
//!   was given: entries are written by [`CodeCache::store`] after a
//!   successful compile, in a directory the host owns, and named by the
//!   sha256 of the wasm bytes and the engine's compatibility hash. Precompiled
//!   code from anywhere else is never accepted (DESIGN §6).
//! - The cache is an optimisation only: an unreadable, stale or corrupt
//!   entry is removed and the wasm is compiled again; a failed write is
//!   logged and ignored.
//! - Writes are atomic (temporary file + rename): a crash never leaves a
//!   half-written entry under a real name.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

pub(crate) struct CodeCache {
    dir: PathBuf,
}

impl CodeCache {
    /// A cache in `dir`, created if missing.
    pub(crate) fn open(dir: &Path) -> std::io::Result<CodeCache> {
        std::fs::create_dir_all(dir)?;
        Ok(CodeCache {
            dir: dir.to_path_buf(),
        })
    }

    fn entry(&self, engine: &Engine, wasm_sha256_hex: &str) -> PathBuf {
        // Another wasmtime version or configuration cannot read our code:
        // its entries get other names and are simply never hit.
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        self.dir
            .join(format!("{wasm_sha256_hex}-{:016x}.cwasm", hasher.finish()))
    }

    pub(crate) fn load(&self, engine: &Engine, wasm_sha256_hex: &str) -> Option<Component> {
        let path = self.entry(engine, wasm_sha256_hex);
        let bytes = std::fs::read(&path).ok()?;
        // SAFETY: the entry was written by `store` from a component this
        // engine configuration compiled (see the module invariants); wasmtime
        // still checks the header and refuses incompatible code.
        match unsafe { Component::deserialize(engine, &bytes) } {
            Ok(component) => Some(component),
            Err(e) => {
                log::warn!(
                    "compiled policy cache entry {} is unusable ({e}); compiling again",
                    path.display()
                );
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    pub(crate) fn store(&self, engine: &Engine, wasm_sha256_hex: &str, component: &Component) {
        let path = self.entry(engine, wasm_sha256_hex);
        let written = component
            .serialize()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|bytes| {
                let tmp = path.with_extension("cwasm.tmp");
                std::fs::write(&tmp, bytes)?;
                std::fs::rename(&tmp, &path)
            });
        if let Err(e) = written {
            log::warn!(
                "cannot cache the compiled policy at {}: {e}",
                path.display()
            );
        }
    }
}
