//! What a policy component may import and must export, checked on the
//! compiled component's type before anything is linked.
//!
//! Invariants (DESIGN §2, §5):
//! - The only imports allowed are `revops:policy/host@0.1.x` and the
//!   type-only `revops:policy/types@0.1.x` (any `0.1` patch, since a 0.x
//!   minor is the compatibility track) — plus, where the loader allows the
//!   WASI shim ([`Imports::HostAndWasiShim`], operator policies only), the
//!   WASI 0.2 interfaces the shim provides (`wasi_shim::SHIM_INTERFACES`).
//!   WASI where the shim is not allowed is refused naming every WASI import
//!   (`WasiNotAllowed`); anything else with an error naming the import.
//! - A `revops:policy` import or export on another track (`0.2`, `1.0`, no
//!   version) means the guest was built against a contract this host does not
//!   speak: `IncompatibleWit`, reported before any forbidden import so the
//!   operator sees the root cause.
//! - `revops:policy/metadata` must be exported on the `0.1` track, and at
//!   least one role interface (`fee-strategy`, `rebalance-scorer`): the roles
//!   a component has are exactly the role interfaces it exports there.

use wasmtime::Engine;
use wasmtime::component::types::{self, ComponentItem};

use crate::bindings::v0_1::Role;
use crate::load::{Imports, LoadError};
use crate::wasi_shim;

/// The WIT package every policy is built against.
pub(crate) const PACKAGE: &str = "revops:policy";
/// The compatibility track this host speaks: `(major, minor)` of a 0.x
/// version (for a 0.x package the minor is the breaking component).
const TRACK: (u64, u64) = (0, 1);
/// Human form of [`TRACK`], for messages.
pub(crate) const SUPPORTED: &str = "revops:policy@0.1.x";

/// Interfaces a policy may import.
const ALLOWED_IMPORTS: [&str; 2] = ["host", "types"];
/// The interface every policy must export.
const METADATA_EXPORT: &str = "metadata";
/// The role interfaces this host calls, and the role each one implements.
/// A policy must export at least one.
const ROLE_EXPORTS: [(&str, Role); 2] = [
    ("fee-strategy", Role::FeeStrategy),
    ("rebalance-scorer", Role::RebalanceScorer),
];

/// What the import/export check found out about a component.
#[derive(Debug)]
pub(crate) struct Surface {
    /// The component's import names.
    pub(crate) imports: Vec<String>,
    /// The roles whose interfaces it exports, in [`ROLE_EXPORTS`] order.
    pub(crate) roles: Vec<Role>,
    /// It imports WASI interfaces (all provided by the shim, which was
    /// allowed).
    pub(crate) uses_wasi_shim: bool,
}

/// An interface name `namespace:package/interface@version`, split.
#[derive(Debug, PartialEq, Eq)]
struct InterfaceName<'a> {
    /// `namespace:package`, e.g. `revops:policy`.
    package: &'a str,
    interface: &'a str,
    version: Option<&'a str>,
}

fn parse_interface_name(name: &str) -> Option<InterfaceName<'_>> {
    let (path, version) = match name.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (name, None),
    };
    let (package, interface) = path.split_once('/')?;
    if !package.contains(':') || interface.is_empty() {
        return None;
    }
    Some(InterfaceName {
        package,
        interface,
        version,
    })
}

/// `(major, minor)` of a semver string; pre-release and build suffixes are
/// ignored for the track (wasmtime's linker is stricter about pre-releases
/// and will refuse to link those).
fn semver_track(version: &str) -> Option<(u64, u64)> {
    let core = version.split(['-', '+']).next()?;
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let _patch: u64 = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Is this a `revops:policy` name, and if so is it on our track?
/// `None` for other packages.
fn revops_track_ok(name: &InterfaceName<'_>) -> Option<bool> {
    (name.package == PACKAGE).then(|| {
        name.version
            .and_then(semver_track)
            .is_some_and(|track| track == TRACK)
    })
}

fn incompatible(name: &InterfaceName<'_>) -> LoadError {
    LoadError::IncompatibleWit {
        found: match name.version {
            Some(version) => format!("{}@{version}", name.package),
            None => format!("{} (unversioned)", name.package),
        },
        supported: SUPPORTED,
    }
}

/// Is this a WASI interface (`wasi:*`)?
fn is_wasi(name: &InterfaceName<'_>) -> bool {
    name.package.starts_with("wasi:")
}

/// Checks a compiled component's imports and exports against what
/// `allowed`. Returns the import names (for `LoadedPolicy::imports`), the
/// roles it exports and whether it needs the WASI shim.
pub(crate) fn check(
    engine: &Engine,
    ty: &types::Component,
    allowed: Imports,
) -> Result<Surface, LoadError> {
    let imports: Vec<(&str, ComponentItem)> = ty
        .imports(engine)
        .map(|(name, item)| (name, item.ty))
        .collect();
    let export_names: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();

    // Pass 1: a contract from another track explains everything else.
    for name in imports
        .iter()
        .map(|(name, _)| *name)
        .chain(export_names.iter().copied())
    {
        if let Some(parsed) = parse_interface_name(name)
            && revops_track_ok(&parsed) == Some(false)
        {
            return Err(incompatible(&parsed));
        }
    }

    // Pass 2: only `host`, a type-only `types` and, if allowed, the shim's
    // WASI interfaces may be imported.
    let mut wasi_imports = Vec::new();
    for (name, item) in &imports {
        let parsed = parse_interface_name(name);
        if let Some(parsed) = parsed.as_ref().filter(|parsed| is_wasi(parsed)) {
            let provided = wasi_shim::provides(parsed.package, parsed.interface, parsed.version);
            match allowed {
                Imports::HostAndWasiShim if provided => {}
                Imports::HostAndWasiShim => {
                    return Err(LoadError::ForbiddenImport {
                        import: (*name).to_owned(),
                    });
                }
                Imports::HostOnly => {}
            }
            wasi_imports.push((*name).to_owned());
            continue;
        }
        let allowed = parsed.is_some_and(|parsed| {
            parsed.package == PACKAGE && ALLOWED_IMPORTS.contains(&parsed.interface)
        });
        if !allowed {
            return Err(LoadError::ForbiddenImport {
                import: (*name).to_owned(),
            });
        }
        if let Some(func) = non_type_item(engine, name, item) {
            return Err(LoadError::ForbiddenImport {
                import: format!("{name}#{func}"),
            });
        }
    }

    if allowed == Imports::HostOnly && !wasi_imports.is_empty() {
        return Err(LoadError::WasiNotAllowed {
            imports: wasi_imports,
        });
    }

    // Pass 3: metadata and at least one role are exported on our track.
    let exports_on_track = |interface: &str| {
        export_names.iter().any(|name| {
            parse_interface_name(name).is_some_and(|parsed| {
                parsed.package == PACKAGE
                    && parsed.interface == interface
                    && revops_track_ok(&parsed) == Some(true)
            })
        })
    };
    if !exports_on_track(METADATA_EXPORT) {
        return Err(LoadError::MissingExport {
            export: format!("{PACKAGE}/{METADATA_EXPORT}@0.1.x"),
        });
    }
    let roles: Vec<Role> = ROLE_EXPORTS
        .iter()
        .filter(|(interface, _)| exports_on_track(interface))
        .map(|(_, role)| *role)
        .collect();
    if roles.is_empty() {
        let any_of: Vec<String> = ROLE_EXPORTS
            .iter()
            .map(|(interface, _)| format!("{PACKAGE}/{interface}@0.1.x"))
            .collect();
        return Err(LoadError::MissingExport {
            export: format!("a role interface ({})", any_of.join(" or ")),
        });
    }

    Ok(Surface {
        imports: imports
            .into_iter()
            .map(|(name, _)| name.to_owned())
            .collect(),
        roles,
        uses_wasi_shim: !wasi_imports.is_empty(),
    })
}

/// The WASI imports of a component (`wasi:*` names among its top-level
/// imports), read from the bytes without compiling them: a component that
/// may not use WASI is refused before the expensive step, however large it
/// is. Malformed bytes give an empty list (compilation reports them); the
/// check on the compiled type (`check`) stays the authority.
pub(crate) fn wasi_imports_before_compile(wasm: &[u8]) -> Vec<String> {
    use wasmparser::{Parser, Payload};
    let mut wasi = Vec::new();
    // Imports of nested modules and components are theirs, not the
    // component's: only depth 0 counts.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else {
            return Vec::new();
        };
        match payload {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(section) if depth == 0 => {
                for import in section.into_iter().flatten() {
                    if import.name.name.starts_with("wasi:") {
                        wasi.push(import.name.name.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    wasi
}

/// For the `types` import: the first item that is not a type (the interface
/// is type-only in every 0.1 release). `host` is exempt: the linker checks
/// its functions.
fn non_type_item(engine: &Engine, name: &str, item: &ComponentItem) -> Option<String> {
    let parsed = parse_interface_name(name)?;
    if parsed.interface != "types" {
        return None;
    }
    match item {
        ComponentItem::ComponentInstance(instance) => instance
            .exports(engine)
            .find(|(_, export)| !matches!(export.ty, ComponentItem::Type(_)))
            .map(|(export_name, _)| export_name.to_owned()),
        // `types` imported as something other than an instance.
        _ => Some("(not an instance)".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_interface_names() {
        assert_eq!(
            parse_interface_name("wasi:clocks/wall-clock@0.2.0"),
            Some(InterfaceName {
                package: "wasi:clocks",
                interface: "wall-clock",
                version: Some("0.2.0"),
            })
        );
        assert_eq!(
            parse_interface_name("revops:policy/host").map(|n| n.version),
            Some(None)
        );
        assert_eq!(parse_interface_name("log"), None);
        assert_eq!(parse_interface_name("no-colon/x"), None);
    }

    #[test]
    fn tracks_follow_semver_for_0x() {
        let track = |v| {
            let name = format!("revops:policy/host@{v}");
            revops_track_ok(&parse_interface_name(&name).unwrap())
        };
        assert_eq!(track("0.1.0"), Some(true));
        assert_eq!(track("0.1.7"), Some(true));
        assert_eq!(track("0.2.0"), Some(false));
        assert_eq!(track("1.0.0"), Some(false));
        assert_eq!(track("0.1"), Some(false));
        assert_eq!(
            revops_track_ok(&parse_interface_name("revops:policy/host").unwrap()),
            Some(false)
        );
        assert_eq!(
            revops_track_ok(&parse_interface_name("wasi:io/poll@0.1.0").unwrap()),
            None
        );
    }
}
