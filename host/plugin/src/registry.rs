//! The operator's view of the loaded policies: where each came from, the
//! version it replaced (for rollback), and the files that were refused.
//! The policies themselves live in the fee engine's `PolicySet` (and the
//! rebalancer's scorer slot); this module changes them.
//!
//! Invariants:
//! - A policy replaces another only after it loaded (size, compile, import
//!   and WIT checks, metadata) and passed the self-test on canned inputs
//!   under the normal limits; a file that fails never replaces anything and
//!   its reason is kept for `revenue-wasm status`.
//! - Changes are serialised (one mutex held from reading the current set to
//!   storing the new one) and swap the whole set atomically: a cycle in
//!   flight keeps the set it started with, so no decision is made by a
//!   half-installed version.
//! - Built-in policies cannot be unloaded; a policy peers, the node default
//!   or the rebalancer use is unloaded only with `force`, which first moves
//!   its users to the built-in defaults — no peer is ever left without one.

use crate::author::validate;
use crate::policies::PolicyLoadError;
use crate::state::State;
use revops_runtime::{LoadedPolicy, PolicyRuntime, Role, SelfTestReport};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Where a built-in policy comes from, as `list` shows it.
pub const BUILT_IN: &str = "built-in";

/// The version a load replaced, kept for `rollback`.
#[derive(Clone)]
struct Previous {
    policy: Arc<LoadedPolicy>,
    source: String,
}

#[derive(Default)]
struct Books {
    /// name → `built-in` or the file it was loaded from.
    sources: BTreeMap<String, String>,
    /// name → unix seconds it was (re)installed.
    loaded_at: BTreeMap<String, u64>,
    previous: BTreeMap<String, Previous>,
    /// Refused files, newest last, one entry per file.
    rejected: Vec<PolicyLoadError>,
    /// Names the plugin ships: never unloaded (a version loaded over one
    /// is undone with rollback).
    built_in_names: std::collections::BTreeSet<String>,
}

pub struct PolicyRegistry {
    books: Mutex<Books>,
}

/// A policy that passed validation, not yet installed.
pub struct Validated {
    pub policy: Arc<LoadedPolicy>,
    pub self_test: SelfTestReport,
    pub source: String,
}

/// What an install did.
#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    pub name: String,
    pub version: String,
    pub sha256: String,
    /// The version it replaced (`None`: a new name).
    pub replaced: Option<String>,
    pub rebalance_scorer_now: bool,
}

impl PolicyRegistry {
    pub fn new(
        sources: BTreeMap<String, String>,
        rejected: Vec<PolicyLoadError>,
        now: u64,
    ) -> Self {
        let loaded_at = sources.keys().map(|name| (name.clone(), now)).collect();
        let built_in_names = sources
            .iter()
            .filter(|(_, source)| source.as_str() == BUILT_IN)
            .map(|(name, _)| name.clone())
            .collect();
        PolicyRegistry {
            books: Mutex::new(Books {
                sources,
                loaded_at,
                previous: BTreeMap::new(),
                rejected,
                built_in_names,
            }),
        }
    }

    pub fn is_built_in_name(&self, name: &str) -> bool {
        self.books().built_in_names.contains(name)
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn source(&self, name: &str) -> Option<String> {
        self.books().sources.get(name).cloned()
    }

    pub fn loaded_at(&self, name: &str) -> Option<u64> {
        self.books().loaded_at.get(name).copied()
    }

    pub fn previous_version(&self, name: &str) -> Option<String> {
        self.books().previous.get(name).map(|p| {
            format!(
                "{}@{} ({})",
                p.policy.name(),
                p.policy.version(),
                p.policy.hash()
            )
        })
    }

    pub fn rejected(&self) -> Vec<PolicyLoadError> {
        self.books().rejected.clone()
    }

    fn reject(&self, file: &str, error: &str) {
        let mut books = self.books();
        books.rejected.retain(|r| r.file != file);
        books.rejected.push(PolicyLoadError {
            file: file.to_string(),
            error: error.to_string(),
        });
    }
}

/// Reads, loads and self-tests `path` off the async threads. On failure the
/// reason is returned and, with `record`, kept against the file.
pub async fn validate(state: &State, path: &Path, record: bool) -> Result<Validated, String> {
    let file = path.display().to_string();
    let runtime: Arc<PolicyRuntime> = Arc::clone(state.0.engine.runtime());
    let owned: PathBuf = path.to_path_buf();
    let reserved = state
        .0
        .built_in_scorer
        .as_ref()
        .map(|b| b.name().to_string());
    let result = tokio::task::spawn_blocking(move || -> Result<_, String> {
        let bytes = std::fs::read(&owned).map_err(|e| format!("cannot read: {e}"))?;
        // The same checks `cl-revenue-ops policy check` runs from a terminal.
        let policy = validate::load(&runtime, &bytes).map_err(|r| r.to_string())?;
        let self_test = validate::after_load(&runtime, &policy, reserved.as_deref())
            .map_err(|r| r.to_string())?;
        Ok((policy, self_test))
    })
    .await
    .map_err(|e| format!("the validation thread failed: {e}"))
    .and_then(|r| r);
    match result {
        Ok((policy, self_test)) => Ok(Validated {
            policy: Arc::new(policy),
            self_test,
            source: file,
        }),
        Err(error) => {
            if record {
                log::warn!("policy file {file} refused: {error}");
                state.0.registry.reject(&file, &error);
            }
            Err(error)
        }
    }
}

/// Swaps `validated` in for its name; the version it replaces is kept for
/// rollback. A scorer is also handed to the rebalancer when it is the
/// selected one.
pub fn install(state: &State, validated: Validated) -> Installed {
    let Validated { policy, source, .. } = validated;
    let registry = &state.0.registry;
    let mut books = registry.books();
    let name = policy.name().to_string();
    let mut set = (*state.0.engine.policies()).clone();
    let replaced = set.insert(Arc::clone(&policy));
    state.0.engine.set_policies(set);
    // An operator's deliberate load (or rollback) of a build ends its
    // quarantine: they are asking for it to be tried.
    state.0.engine.quarantine().clear(policy.hash());
    let old_source = books.sources.insert(name.clone(), source.clone());
    books.loaded_at.insert(name.clone(), state.0.engine.now());
    books.rejected.retain(|r| r.file != source);
    let replaced_label = replaced
        .as_ref()
        .map(|old| format!("{}@{}", old.name(), old.version()));
    if let Some(old) = replaced {
        books.previous.insert(
            name.clone(),
            Previous {
                policy: old,
                source: old_source.unwrap_or_else(|| source.clone()),
            },
        );
    }
    drop(books);
    let mut rebalance_scorer_now = false;
    if let Ok(rebalancer) = state.rebalancer()
        && policy.has_role(Role::RebalanceScorer)
        && rebalancer.settings().scorer_policy == name
    {
        rebalancer.set_scorer(Arc::clone(&policy));
        rebalance_scorer_now = true;
    }
    log::info!(
        "policy {}@{} ({}) installed from {source}{}",
        policy.name(),
        policy.version(),
        &policy.hash()[..12],
        replaced_label
            .as_ref()
            .map(|r| format!(", replacing {r}"))
            .unwrap_or_default()
    );
    Installed {
        name,
        version: policy.version().to_string(),
        sha256: policy.hash().to_string(),
        replaced: replaced_label,
        rebalance_scorer_now,
    }
}

/// Puts back the version `name` replaced; the current one becomes the
/// version to roll forward to.
pub fn rollback(state: &State, name: &str) -> Result<Installed, String> {
    let previous = state
        .0
        .registry
        .books()
        .previous
        .get(name)
        .cloned()
        .ok_or_else(|| format!("policy `{name}` has no previous version to roll back to"))?;
    Ok(install(
        state,
        Validated {
            policy: previous.policy,
            self_test: SelfTestReport::default(),
            source: previous.source,
        },
    ))
}

/// Takes `name` out of the loaded set (callers have checked its users).
pub fn remove(state: &State, name: &str) -> Option<Arc<LoadedPolicy>> {
    let registry = &state.0.registry;
    let mut books = registry.books();
    let mut set = (*state.0.engine.policies()).clone();
    let removed = set.remove(name);
    state.0.engine.set_policies(set);
    books.sources.remove(name);
    books.loaded_at.remove(name);
    books.previous.remove(name);
    if let Some(policy) = &removed {
        state.0.engine.runtime().reset_stats(policy.tag());
        state.0.engine.quarantine().clear(policy.hash());
    }
    removed
}
