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

use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, InstancePre};

use crate::bindings::v0_1::{PolicyMetadata, Role, fee_strategy, metadata, rebalance_scorer};
use crate::call::PolicyStore;
use crate::engine::PolicyRuntime;
use crate::failure::PolicyFailure;
use crate::host_log::truncate_on_char_boundary;
use crate::imports;

/// Largest component accepted, in bytes. Built-in policies are ~100 KiB.
pub const MAX_COMPONENT_BYTES: usize = 16 * 1024 * 1024;
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
    #[error("policy imports `{import}`; policies may import only revops:policy/host")]
    ForbiddenImport { import: String },
    #[error("policy was built against `{found}`; this host supports {supported}")]
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
}

impl std::fmt::Debug for LoadedPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPolicy")
            .field("name", &self.name())
            .field("version", &self.version())
            .field("roles", &self.roles())
            .field("hash", &self.hash())
            .field("size_bytes", &self.size_bytes())
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

    /// The component's import names (all `revops:policy/...@0.1.x`).
    pub fn imports(&self) -> &[String] {
        &self.inner.imports
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
    /// Compiles, checks and links a policy component, and asks it for its
    /// metadata. Slow (compilation): keep off the hot path.
    pub fn load(&self, wasm: &[u8]) -> Result<LoadedPolicy, LoadError> {
        if wasm.len() > MAX_COMPONENT_BYTES {
            return Err(LoadError::TooLarge {
                size_bytes: wasm.len(),
                max_bytes: MAX_COMPONENT_BYTES,
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
        let surface = imports::check(&self.engine, &component.component_type())?;
        let pre = self
            .linker
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
            .call_metadata(&pre, &metadata_indices, &provisional_tag)
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
