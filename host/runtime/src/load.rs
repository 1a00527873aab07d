//! Loading a policy: size cap → compile → import/export check → link
//! (`InstancePre`, cached) → `metadata` call under the normal limits →
//! metadata sanity check → sha256 of the bytes.
//!
//! Invariants:
//! - Only wasm bytes are accepted, never precompiled code (DESIGN §6).
//! - Compiling takes 10–35 ms for a small policy: callers load off the hot
//!   path (e.g. `spawn_blocking`) and swap the result in.
//! - A [`LoadedPolicy`] is immutable and cheap to clone (`Arc` inside); every
//!   call instantiates it afresh in its own store.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::bindings::v0_1::{FeePolicyPre, PolicyMetadata, Role};
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
    #[error("policy does not match the fee-policy world: {0}")]
    Link(String),
    #[error("policy's `metadata` call failed: {0}")]
    Metadata(#[source] PolicyFailure),
    #[error("policy's metadata is invalid: {0}")]
    InvalidMetadata(String),
}

/// A compiled, linked and checked policy, ready to be called. Cheap to clone.
#[derive(Clone)]
pub struct LoadedPolicy {
    inner: Arc<Inner>,
}

struct Inner {
    pre: FeePolicyPre<PolicyStore>,
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

    pub(crate) fn pre(&self) -> &FeePolicyPre<PolicyStore> {
        &self.inner.pre
    }

    /// `name@version`.
    pub(crate) fn tag(&self) -> &str {
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
        let component =
            Component::new(&self.engine, wasm).map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        let imports = imports::check(&self.engine, &component.component_type())?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let pre = FeePolicyPre::new(instance_pre).map_err(|e| LoadError::Link(format!("{e:#}")))?;

        // Until the policy has named itself, its log lines carry its hash.
        let provisional_tag = format!("sha256:{}", &hash_hex[..12]);
        let metadata = self
            .call_metadata(&pre, &provisional_tag)
            .map_err(LoadError::Metadata)?;
        let metadata = check_metadata(metadata)?;
        let tag = format!("{}@{}", metadata.name, metadata.version);
        Ok(LoadedPolicy {
            inner: Arc::new(Inner {
                pre,
                metadata,
                tag,
                hash_hex,
                size_bytes: wasm.len(),
                imports,
            }),
        })
    }
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

/// Name `[a-z0-9-]{1,64}`, version non-empty and short, roles include
/// `fee-strategy`; an over-long description is truncated, not refused.
fn check_metadata(mut metadata: PolicyMetadata) -> Result<PolicyMetadata, LoadError> {
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
    if !metadata.roles.contains(&Role::FeeStrategy) {
        return Err(LoadError::InvalidMetadata(format!(
            "policy `{name}` does not declare the fee-strategy role"
        )));
    }
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
        assert!(check_metadata(metadata("fee-alpha")).is_ok());
        assert!(check_metadata(metadata("")).is_err());
        assert!(check_metadata(metadata("Fee")).is_err());
        assert!(check_metadata(metadata("fee alpha")).is_err());
        assert!(check_metadata(metadata(&"a".repeat(65))).is_err());
        assert!(check_metadata(metadata(&"a".repeat(64))).is_ok());
    }

    #[test]
    fn description_is_truncated_and_role_required() {
        let ok = check_metadata(metadata("x")).unwrap();
        assert_eq!(ok.description.len(), MAX_DESCRIPTION_BYTES);
        let mut no_role = metadata("x");
        no_role.roles = vec![Role::HealthScorer];
        assert!(check_metadata(no_role).is_err());
    }

    #[test]
    fn hashes_are_lower_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
