//! Loading fee policies at start-up: the built-in ones, then every
//! `.wasm` file in the policy directory. A file that fails validation is
//! reported (log + `revenue-status`) and never replaces a working policy.

use revops_engine::PolicySet;
use revops_runtime::{Imports, PolicyRuntime};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize)]
pub struct PolicyLoadError {
    pub file: String,
    pub error: String,
}

/// Where each loaded policy came from, by name.
pub type Sources = std::collections::BTreeMap<String, String>;

pub fn load_all(runtime: &PolicyRuntime, dir: &Path) -> (PolicySet, Sources, Vec<PolicyLoadError>) {
    let mut set = PolicySet::default();
    let mut sources = Sources::new();
    let mut errors = Vec::new();
    for (index, component) in revops_policy_artifacts::BUILT_IN.iter().enumerate() {
        // Built-ins never get WASI (DESIGN §2).
        match runtime.load_with(component, Imports::HostOnly) {
            Ok(p) => {
                sources.insert(p.name().to_string(), "built-in".to_string());
                set.insert(Arc::new(p));
            }
            Err(e) => {
                log::error!("built-in fee policy #{index} failed to load: {e}");
                errors.push(PolicyLoadError {
                    file: format!("built-in fee policy #{index}"),
                    error: e.to_string(),
                });
            }
        }
    }
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            errors.push(PolicyLoadError {
                file: dir.display().to_string(),
                error: format!("cannot read the policy directory: {e}"),
            });
            Vec::new()
        }
    };
    files.sort();
    for path in files {
        let file = path.display().to_string();
        let loaded = std::fs::read(&path)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|bytes| {
                // An operator's file: it may use the deterministic WASI shim.
                runtime
                    .load_with(&bytes, Imports::HostAndWasiShim)
                    .map_err(|e| e.to_string())
            });
        match loaded {
            Ok(p) => {
                log::info!("loaded policy {}@{} from {file}", p.name(), p.version());
                if let Some(previous) = sources.insert(p.name().to_string(), file.clone()) {
                    log::info!(
                        "policy {} from {file} replaces the one from {previous}",
                        p.name()
                    );
                }
                set.insert(Arc::new(p));
            }
            Err(error) => {
                log::warn!("policy file {file} rejected: {error}");
                errors.push(PolicyLoadError { file, error });
            }
        }
    }
    (set, sources, errors)
}
