//! Which fee policies a `simulate` run compares (`--policies`).
//!
//! Invariants:
//! - Every entry names exactly one choice: `static` (fees left alone), a
//!   built-in policy by its metadata name, or a `.wasm` file. Anything else
//!   is an error naming the valid choices; nothing is silently dropped.
//! - Built-in names come from loading every component in
//!   `revops_policy_artifacts::BUILT_IN`, never from a hard-coded list, so a
//!   new built-in is selectable (and in the default) without touching this.
//! - The order of the choices is the order given (default: `static`, then
//!   the built-ins in `BUILT_IN` order); it is the order of the table rows.

use anyhow::Context;
use revops_runtime::{Imports, LoadedPolicy, PolicyRuntime};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `--policies` entry for the run with fees left alone.
pub const STATIC: &str = "static";

/// One policy to run the scenario under.
#[derive(Clone)]
pub enum PolicyChoice {
    /// Fees left alone: no engine, the baseline every other run is compared with.
    Static,
    /// A WASM fee policy, the node's default fee policy for the whole run.
    Wasm {
        policy: Arc<LoadedPolicy>,
        /// The file it came from; `None` for a built-in.
        file: Option<PathBuf>,
    },
}

impl PolicyChoice {
    /// How the reports name it: `static`, `name@version`, or
    /// `name@version (file.wasm)` so a file can be told from a built-in of
    /// the same name.
    pub fn label(&self) -> String {
        match self {
            PolicyChoice::Static => STATIC.to_string(),
            PolicyChoice::Wasm { policy, file: None } => {
                format!("{}@{}", policy.name(), policy.version())
            }
            PolicyChoice::Wasm {
                policy,
                file: Some(path),
            } => {
                let file_name = path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string());
                format!("{}@{} ({file_name})", policy.name(), policy.version())
            }
        }
    }

    pub fn policy(&self) -> Option<&Arc<LoadedPolicy>> {
        match self {
            PolicyChoice::Static => None,
            PolicyChoice::Wasm { policy, .. } => Some(policy),
        }
    }
}

/// Resolve `--policies` entries (already split at commas). An empty list
/// means the default: `static` plus every built-in.
pub fn resolve(requested: &[String], runtime: &PolicyRuntime) -> anyhow::Result<Vec<PolicyChoice>> {
    let built_in = load_built_in(runtime)?;
    if requested.is_empty() {
        let mut choices = vec![PolicyChoice::Static];
        choices.extend(
            built_in
                .into_iter()
                .map(|policy| PolicyChoice::Wasm { policy, file: None }),
        );
        return Ok(choices);
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut choices = Vec::with_capacity(requested.len());
    for raw in requested {
        let entry = raw.trim();
        anyhow::ensure!(
            !entry.is_empty(),
            "--policies has an empty entry (expected a comma-separated list such as `static,fee-alpha`)"
        );
        // Running the same policy twice on the same seed gives the same row twice.
        anyhow::ensure!(
            !seen.contains(&entry),
            "`{entry}` is listed twice in --policies"
        );
        seen.push(entry);
        choices.push(resolve_one(entry, &built_in, runtime)?);
    }
    Ok(choices)
}

fn resolve_one(
    entry: &str,
    built_in: &[Arc<LoadedPolicy>],
    runtime: &PolicyRuntime,
) -> anyhow::Result<PolicyChoice> {
    if entry == STATIC {
        return Ok(PolicyChoice::Static);
    }
    if looks_like_a_file(entry) {
        let path = Path::new(entry);
        let policy = load_file(path, runtime)?;
        return Ok(PolicyChoice::Wasm {
            policy: Arc::new(policy),
            file: Some(path.to_path_buf()),
        });
    }
    match built_in.iter().find(|p| p.name() == entry) {
        Some(policy) => Ok(PolicyChoice::Wasm {
            policy: Arc::clone(policy),
            file: None,
        }),
        None => {
            let mut valid = vec![STATIC.to_string()];
            valid.extend(built_in.iter().map(|p| p.name().to_string()));
            anyhow::bail!(
                "unknown policy `{entry}` in --policies; valid names: {} (or a path to a .wasm file)",
                valid.join(", ")
            )
        }
    }
}

/// A path, not a name: policy names never contain a path separator and
/// never end in `.wasm`.
fn looks_like_a_file(entry: &str) -> bool {
    entry.ends_with(".wasm") || entry.contains('/') || entry.contains(std::path::MAIN_SEPARATOR)
}

fn load_file(path: &Path, runtime: &PolicyRuntime) -> anyhow::Result<LoadedPolicy> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read policy file `{}`", path.display()))?;
    // An operator's file: it may use the deterministic WASI shim.
    runtime
        .load_with(&bytes, Imports::HostAndWasiShim)
        .with_context(|| format!("policy file `{}` cannot be loaded", path.display()))
}

/// A `--policy` file, validated as the plugin validates one it is asked to
/// load (load checks, then the self-test), and a fee strategy: the reports
/// compare fee policies.
pub fn validated_file(path: &Path, runtime: &PolicyRuntime) -> anyhow::Result<PolicyChoice> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read policy file `{}`", path.display()))?;
    let (policy, _) = crate::author::validate::validate(runtime, &bytes).map_err(|refusal| {
        anyhow::anyhow!(
            "policy file `{}` failed validation, as the plugin would refuse it: {refusal} \
             (`cl-revenue-ops policy check {}` tells more)",
            path.display(),
            path.display()
        )
    })?;
    anyhow::ensure!(
        policy.has_role(revops_runtime::Role::FeeStrategy),
        "policy file `{}` ({} {}) has no fee-strategy role; simulate compares fee policies",
        path.display(),
        policy.name(),
        policy.version()
    );
    Ok(PolicyChoice::Wasm {
        policy: Arc::new(policy),
        file: Some(path.to_path_buf()),
    })
}

/// Every built-in policy, in `BUILT_IN` order. A built-in that does not
/// load is a build defect, so it stops the command rather than being skipped.
fn load_built_in(runtime: &PolicyRuntime) -> anyhow::Result<Vec<Arc<LoadedPolicy>>> {
    revops_policy_artifacts::BUILT_IN
        .iter()
        .enumerate()
        .map(|(index, component)| {
            runtime
                .load_with(component, Imports::HostOnly)
                .map(Arc::new)
                .with_context(|| format!("loading built-in fee policy #{index}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use revops_runtime::Limits;

    fn runtime() -> PolicyRuntime {
        PolicyRuntime::new(Limits::default()).unwrap()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_default_is_static_then_every_built_in() {
        let choices = resolve(&[], &runtime()).unwrap();
        assert_eq!(choices[0].label(), "static");
        assert_eq!(
            choices.len(),
            1 + revops_policy_artifacts::BUILT_IN.len(),
            "one row per built-in"
        );
        assert!(choices.iter().any(|c| c.label().starts_with("fee-alpha@")));
    }

    #[test]
    fn an_unknown_name_lists_the_valid_ones() {
        let Err(e) = resolve(&names(&["static", "fee-bogus"]), &runtime()) else {
            panic!("an unknown name must be refused");
        };
        let message = format!("{e:#}");
        assert!(message.contains("`fee-bogus`"), "{message}");
        assert!(message.contains("static"), "{message}");
        assert!(message.contains("fee-alpha"), "{message}");
        assert!(message.contains(".wasm"), "{message}");
    }

    #[test]
    fn a_bad_wasm_file_is_named_with_the_reason() {
        let runtime = runtime();
        let Err(e) = resolve(&names(&["/nonexistent/dir/mine.wasm"]), &runtime) else {
            panic!("a missing file must be refused");
        };
        let message = format!("{e:#}");
        assert!(message.contains("/nonexistent/dir/mine.wasm"), "{message}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("garbage.wasm");
        std::fs::write(&path, b"not a component").unwrap();
        let Err(e) = resolve(&[path.display().to_string()], &runtime) else {
            panic!("garbage must be refused");
        };
        let message = format!("{e:#}");
        assert!(message.contains("garbage.wasm"), "{message}");
        assert!(
            message.contains("not a valid WebAssembly component"),
            "{message}"
        );
    }

    #[test]
    fn a_wasm_file_is_loaded_and_labelled_with_its_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alpha-copy.wasm");
        std::fs::write(&path, revops_policy_artifacts::FEE_ALPHA).unwrap();
        let choices = resolve(&[path.display().to_string()], &runtime()).unwrap();
        let label = choices[0].label();
        assert!(label.starts_with("fee-alpha@"), "{label}");
        assert!(label.ends_with("(alpha-copy.wasm)"), "{label}");
    }

    #[test]
    fn a_policy_file_must_pass_the_plugin_s_validation_and_decide_fees() {
        let runtime = runtime();
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, wasm: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, wasm).unwrap();
            path
        };
        let good = write(
            "behaves.wasm",
            revops_policy_artifacts::hostile::WELL_BEHAVED,
        );
        let choice = validated_file(&good, &runtime).unwrap();
        assert_eq!(choice.label(), "hostile-none@0.1.0 (behaves.wasm)");

        let panics = write("panics.wasm", revops_policy_artifacts::hostile::PANIC);
        let Err(e) = validated_file(&panics, &runtime) else {
            panic!("a panicking policy must be refused");
        };
        let message = format!("{e:#}");
        assert!(
            message.contains("panics.wasm` failed validation"),
            "{message}"
        );
        assert!(message.contains("(trap)"), "{message}");

        let scorer = write("scorer.wasm", revops_policy_artifacts::REBALANCE_EV);
        assert!(validated_file(&scorer, &runtime).is_err());
    }

    #[test]
    fn duplicates_and_empty_entries_are_refused() {
        let runtime = runtime();
        assert!(resolve(&names(&["static", "static"]), &runtime).is_err());
        assert!(resolve(&names(&["static", " "]), &runtime).is_err());
    }
}
