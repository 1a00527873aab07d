//! Loading a policy: size cap → compile → import/export check (which also
//! discovers the roles it exports) → link (`InstancePre`, cached, plus the
//! export indices of each role present) → `metadata` call under the normal
//! limits → metadata sanity check → sha256 of the bytes.
//!
//! Invariants:
//! - Only wasm bytes are accepted, never precompiled code (DESIGN §6); the
//!   optional code cache holds only what this host compiled (`cache`).
//! - Compiling takes 10–35 ms for a small policy: callers load off the hot
//!   path (e.g. `spawn_blocking`) and swap the result in.
//! - A [`LoadedPolicy`] is immutable and cheap to clone (`Arc` inside); every
//!   call instantiates it afresh in its own store.
//! - A component exports at least one role, and the roles its `metadata`
//!   declares are exactly the roles it exports ([`LoadedPolicy::roles`]).
//! - The caller says what a policy may import ([`Imports`]): built-in
//!   policies never get WASI; an operator policy may use the deterministic
//!   WASI shim (`wasi_shim`), and [`LoadedPolicy::uses_wasi_shim`] says
//!   whether it does. [`PolicyRuntime::load`] is the strict choice.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, InstancePre};

use crate::bindings::v0_1::{PolicyMetadata, Role, fee_strategy, metadata, rebalance_scorer};
use crate::call::PolicyStore;
use crate::engine::PolicyRuntime;
use crate::failure::PolicyFailure;
use crate::host_log::truncate_on_char_boundary;
use crate::imports;

/// Largest component accepted with [`Imports::HostOnly`], in bytes.
/// Built-in policies are ~100 KiB.
pub const MAX_COMPONENT_BYTES: usize = 16 * 1024 * 1024;
/// Largest component accepted with [`Imports::HostAndWasiShim`] (operator
/// policies), in bytes: a Python policy built with componentize-py 0.25
/// carries the interpreter and its standard library, ≈ 18.4 MB (6.5 MB of
/// it code) before any dependency of its own; compiling one takes ≈ 15 s
/// and ≈ 370 MiB in a release host (once: the code cache keeps it). The cap
/// bounds what an operator's file can cost to compile.
pub const MAX_OPERATOR_COMPONENT_BYTES: usize = 32 * 1024 * 1024;

/// What a policy may import besides `revops:policy/host` (and the type-only
/// `revops:policy/types`). The loader's caller decides, by where the policy
/// comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Imports {
    /// Nothing else: built-in policies (and every Rust policy, which needs
    /// nothing else). A WASI import is refused, naming every WASI import.
    /// Components up to [`MAX_COMPONENT_BYTES`].
    HostOnly,
    /// Also the WASI 0.2 interfaces the deterministic, capability-free shim
    /// provides, for operator policies whose language runtime needs WASI
    /// (Python). A policy that imports no WASI runs exactly as with
    /// `HostOnly`. Components up to [`MAX_OPERATOR_COMPONENT_BYTES`].
    HostAndWasiShim,
}

impl Imports {
    /// The largest component accepted under this choice.
    pub fn max_component_bytes(self) -> usize {
        match self {
            Imports::HostOnly => MAX_COMPONENT_BYTES,
            Imports::HostAndWasiShim => MAX_OPERATOR_COMPONENT_BYTES,
        }
    }
}
/// Longest policy name, in chars (`[a-z0-9-]`).
pub const MAX_NAME_CHARS: usize = 64;
/// Longest policy version string, in bytes.
pub const MAX_VERSION_BYTES: usize = 64;
/// Longest description kept, in bytes (longer ones are truncated).
pub const MAX_DESCRIPTION_BYTES: usize = 1024;

/// Why a policy could not be loaded. Messages are written for operators.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("policy is {size_bytes} bytes; the limit is {max_bytes} bytes")]
    TooLarge { size_bytes: usize, max_bytes: usize },
    #[error("not a valid WebAssembly component: {0}")]
    Compile(String),
    #[error(
        "policy imports `{import}`; policies may import only revops:policy/host (and operator policies the WASI 0.2 interfaces of the deterministic shim)"
    )]
    ForbiddenImport { import: String },
    #[error(
        "policy imports WASI ({}); built-in policies may import only revops:policy/host — the deterministic WASI shim is for operator policies",
        imports.join(", ")
    )]
    WasiNotAllowed { imports: Vec<String> },
    #[error(
        "policy was built against `{found}`, which this host cannot run: it supports {supported}; rebuild the policy against that WIT (wit/policy.wit)"
    )]
    IncompatibleWit {
        found: String,
        supported: &'static str,
    },
    #[error("policy does not export `{export}`")]
    MissingExport { export: String },
    #[error("policy does not link against the revops:policy@0.1.x contract: {0}")]
    Link(String),
    #[error("policy's `metadata` call failed: {0}")]
    Metadata(#[source] PolicyFailure),
    #[error("policy's metadata is invalid: {0}")]
    InvalidMetadata(String),
    #[error(
        "policy `{name}` declares the roles [{declared}] but exports the interfaces of [{exported}]; they must match"
    )]
    RoleMismatch {
        name: String,
        declared: String,
        exported: String,
    },
}

/// A compiled, linked and checked policy, ready to be called. Cheap to clone.
#[derive(Clone)]
pub struct LoadedPolicy {
    inner: Arc<Inner>,
}

struct Inner {
    pre: InstancePre<PolicyStore>,
    /// Export indices of each role the component has (`None`: not exported).
    fee_strategy: Option<fee_strategy::GuestIndices>,
    rebalance_scorer: Option<rebalance_scorer::GuestIndices>,
    metadata: PolicyMetadata,
    /// `name@version`, the tag on the policy's log lines.
    tag: String,
    hash_hex: String,
    size_bytes: usize,
    imports: Vec<String>,
    uses_wasi_shim: bool,
}

impl std::fmt::Debug for LoadedPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPolicy")
            .field("name", &self.name())
            .field("version", &self.version())
            .field("roles", &self.roles())
            .field("hash", &self.hash())
            .field("size_bytes", &self.size_bytes())
            .field("uses_wasi_shim", &self.uses_wasi_shim())
            .finish_non_exhaustive()
    }
}

impl LoadedPolicy {
    /// What the policy said about itself (description possibly truncated).
    pub fn metadata(&self) -> &PolicyMetadata {
        &self.inner.metadata
    }

    /// The roles the component implements: the role interfaces it exports,
    /// which its metadata declares too (checked at load).
    pub fn roles(&self) -> &[Role] {
        &self.inner.metadata.roles
    }

    /// Whether the component implements `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    pub fn name(&self) -> &str {
        &self.inner.metadata.name
    }

    pub fn version(&self) -> &str {
        &self.inner.metadata.version
    }

    /// Lower-case hex sha256 of the wasm bytes.
    pub fn hash(&self) -> &str {
        &self.inner.hash_hex
    }

    /// Size of the wasm bytes.
    pub fn size_bytes(&self) -> usize {
        self.inner.size_bytes
    }

    /// The component's import names: `revops:policy/...@0.1.x`, and the
    /// WASI interfaces it gets from the shim if [`Self::uses_wasi_shim`].
    pub fn imports(&self) -> &[String] {
        &self.inner.imports
    }

    /// Whether the policy imports WASI and so runs on the deterministic
    /// WASI shim (only possible when loaded with
    /// [`Imports::HostAndWasiShim`]).
    pub fn uses_wasi_shim(&self) -> bool {
        self.inner.uses_wasi_shim
    }

    /// The WASI imports the shim provides to it (empty unless
    /// [`Self::uses_wasi_shim`]).
    pub fn wasi_imports(&self) -> impl Iterator<Item = &str> {
        self.inner
            .imports
            .iter()
            .map(String::as_str)
            .filter(|name| name.starts_with("wasi:"))
    }

    pub(crate) fn pre(&self) -> &InstancePre<PolicyStore> {
        &self.inner.pre
    }

    pub(crate) fn fee_strategy(&self) -> Option<&fee_strategy::GuestIndices> {
        self.inner.fee_strategy.as_ref()
    }

    pub(crate) fn rebalance_scorer(&self) -> Option<&rebalance_scorer::GuestIndices> {
        self.inner.rebalance_scorer.as_ref()
    }

    /// `name@version`: the tag on the policy's log lines and the key of its
    /// call statistics ([`PolicyRuntime::stats`]).
    pub fn tag(&self) -> &str {
        &self.inner.tag
    }
}

impl PolicyRuntime {
    /// [`Self::load_with`] [`Imports::HostOnly`]: for built-in policies and
    /// anything else that must not get WASI.
    pub fn load(&self, wasm: &[u8]) -> Result<LoadedPolicy, LoadError> {
        self.load_with(wasm, Imports::HostOnly)
    }

    /// Compiles, checks and links a policy component that may import what
    /// `imports` allows, and asks it for its metadata. Slow (compilation;
    /// seconds for a Python policy): keep off the hot path.
    pub fn load_with(&self, wasm: &[u8], imports: Imports) -> Result<LoadedPolicy, LoadError> {
        if imports == Imports::HostOnly {
            let wasi = imports::wasi_imports_before_compile(wasm);
            if !wasi.is_empty() {
                return Err(LoadError::WasiNotAllowed { imports: wasi });
            }
        }
        let max_bytes = imports.max_component_bytes();
        if wasm.len() > max_bytes {
            return Err(LoadError::TooLarge {
                size_bytes: wasm.len(),
                max_bytes,
            });
        }
        let hash_hex = sha256_hex(wasm);
        let cached = self
            .code_cache
            .as_ref()
            .and_then(|cache| cache.load(&self.engine, &hash_hex));
        let component = match cached {
            Some(component) => component,
            None => {
                let component = Component::new(&self.engine, wasm)
                    .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
                if let Some(cache) = &self.code_cache {
                    cache.store(&self.engine, &hash_hex, &component);
                }
                component
            }
        };
        let surface = imports::check(&self.engine, &component.component_type(), imports)?;
        let linker = if surface.uses_wasi_shim {
            &self.wasi.linker
        } else {
            &self.linker
        };
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let link = |e: wasmtime::Error| LoadError::Link(format!("{e:#}"));
        let metadata_indices = metadata::GuestIndices::new(&pre).map_err(link)?;
        let fee_strategy = surface
            .roles
            .contains(&Role::FeeStrategy)
            .then(|| fee_strategy::GuestIndices::new(&pre))
            .transpose()
            .map_err(link)?;
        let rebalance_scorer = surface
            .roles
            .contains(&Role::RebalanceScorer)
            .then(|| rebalance_scorer::GuestIndices::new(&pre))
            .transpose()
            .map_err(link)?;

        // Until the policy has named itself, its log lines carry its hash.
        let provisional_tag = format!("sha256:{}", &hash_hex[..12]);
        let metadata = self
            .call_metadata(
                &pre,
                &metadata_indices,
                &provisional_tag,
                surface.uses_wasi_shim,
            )
            .map_err(LoadError::Metadata)?;
        let metadata = check_metadata(metadata, &surface.roles)?;
        let tag = format!("{}@{}", metadata.name, metadata.version);
        Ok(LoadedPolicy {
            inner: Arc::new(Inner {
                pre,
                fee_strategy,
                rebalance_scorer,
                metadata,
                tag,
                hash_hex,
                size_bytes: wasm.len(),
                imports: surface.imports,
                uses_wasi_shim: surface.uses_wasi_shim,
            }),
        })
    }
}

/// `fee-strategy, rebalance-scorer`, for messages.
fn role_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// Name `[a-z0-9-]{1,64}`, version non-empty and short, declared roles
/// (duplicates ignored) equal to the `exported` ones; an over-long
/// description is truncated, not refused. The kept roles are `exported`, in
/// its canonical order.
fn check_metadata(
    mut metadata: PolicyMetadata,
    exported: &[Role],
) -> Result<PolicyMetadata, LoadError> {
    let name = &metadata.name;
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(LoadError::InvalidMetadata(format!(
            "name `{}` must be 1 to {MAX_NAME_CHARS} characters",
            truncate_on_char_boundary(name, 2 * MAX_NAME_CHARS)
        )));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(LoadError::InvalidMetadata(format!(
            "name `{name}` may contain only a-z, 0-9 and `-`"
        )));
    }
    let version = &metadata.version;
    if version.is_empty()
        || version.len() > MAX_VERSION_BYTES
        || version.chars().any(char::is_control)
    {
        return Err(LoadError::InvalidMetadata(format!(
            "policy `{name}` has an empty, over-long or unprintable version"
        )));
    }
    let declared_all_exported = metadata.roles.iter().all(|role| exported.contains(role));
    let exported_all_declared = exported.iter().all(|role| metadata.roles.contains(role));
    if !(declared_all_exported && exported_all_declared) {
        return Err(LoadError::RoleMismatch {
            name: name.clone(),
            declared: role_list(&metadata.roles),
            exported: role_list(exported),
        });
    }
    metadata.roles = exported.to_vec();
    let kept = truncate_on_char_boundary(&metadata.description, MAX_DESCRIPTION_BYTES).len();
    metadata.description.truncate(kept);
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(name: &str) -> PolicyMetadata {
        PolicyMetadata {
            name: name.to_owned(),
            version: "1.0.0".to_owned(),
            roles: vec![Role::FeeStrategy],
            description: "d".repeat(5000),
        }
    }

    #[test]
    fn metadata_names_are_checked() {
        let fees = [Role::FeeStrategy];
        assert!(check_metadata(metadata("fee-alpha"), &fees).is_ok());
        assert!(check_metadata(metadata(""), &fees).is_err());
        assert!(check_metadata(metadata("Fee"), &fees).is_err());
        assert!(check_metadata(metadata("fee alpha"), &fees).is_err());
        assert!(check_metadata(metadata(&"a".repeat(65)), &fees).is_err());
        assert!(check_metadata(metadata(&"a".repeat(64)), &fees).is_ok());
    }

    #[test]
    fn description_is_truncated_and_roles_must_match_exports() {
        let fees = [Role::FeeStrategy];
        let ok = check_metadata(metadata("x"), &fees).unwrap();
        assert_eq!(ok.description.len(), MAX_DESCRIPTION_BYTES);
        let mut reserved = metadata("x");
        reserved.roles = vec![Role::HealthScorer];
        assert!(matches!(
            check_metadata(reserved, &fees),
            Err(LoadError::RoleMismatch { .. })
        ));
        let both = [Role::FeeStrategy, Role::RebalanceScorer];
        let err = check_metadata(metadata("x"), &both).unwrap_err();
        assert!(
            err.to_string()
                .contains("declares the roles [fee-strategy]"),
            "{err}"
        );
        assert!(err.to_string().contains("rebalance-scorer"), "{err}");
        let mut twice = metadata("x");
        twice.roles = vec![Role::RebalanceScorer, Role::FeeStrategy, Role::FeeStrategy];
        assert_eq!(check_metadata(twice, &both).unwrap().roles, both);
    }

    #[test]
    fn hashes_are_lower_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
