//! Checks on the embedded components: they are components (not core
//! modules), and they import only the `revops:policy` interfaces.

use super::{BUILT_IN, BUILT_IN_SCORERS, FEE_ALPHA, FEE_THOMPSON, REBALANCE_EV, hostile};
use wasmparser::{Parser, Payload};

/// `\0asm`, version 0x0d, layer 1: the component-model preamble.
const COMPONENT_PREAMBLE: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

const ALL: [(&str, &[u8]); 13] = [
    ("fee-alpha", FEE_ALPHA),
    ("fee-thompson", FEE_THOMPSON),
    ("rebalance-ev", REBALANCE_EV),
    ("infinite-loop", hostile::INFINITE_LOOP),
    ("memory-bomb", hostile::MEMORY_BOMB),
    ("panic", hostile::PANIC),
    ("guest-error", hostile::GUEST_ERROR),
    ("wrong-count", hostile::WRONG_COUNT),
    ("well-behaved", hostile::WELL_BEHAVED),
    ("deep-recursion", hostile::DEEP_RECURSION),
    ("huge-output", hostile::HUGE_OUTPUT),
    ("wasi-import", hostile::WASI_IMPORT),
    ("wrong-wit-major", hostile::WRONG_WIT_MAJOR),
];

/// The component built to import WASI on purpose.
const WITH_WASI: &[u8] = hostile::WASI_IMPORT;

/// Names of the component's top-level imports and exports.
fn component_interface(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    // `parse_all` also walks nested modules and components (wit-component
    // wraps exports in inner components with their own `import-type-*`
    // imports); only the outermost level says what the host must provide.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("component parses") {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(section) if depth == 0 => {
                for import in section {
                    imports.push(import.expect("import parses").name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(section) if depth == 0 => {
                for export in section {
                    exports.push(export.expect("export parses").name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

#[test]
fn every_artifact_is_a_component() {
    for (name, bytes) in ALL {
        assert!(
            bytes.starts_with(&COMPONENT_PREAMBLE),
            "{name} does not start with the component preamble: {:02x?}",
            &bytes[..bytes.len().min(8)]
        );
    }
}

#[test]
fn every_artifact_imports_only_revops_policy_interfaces() {
    for (name, bytes) in ALL.into_iter().filter(|(_, bytes)| *bytes != WITH_WASI) {
        let (imports, _) = component_interface(bytes);
        assert!(
            imports.iter().all(|i| i.starts_with("revops:policy/")),
            "{name} imports {imports:?}"
        );
    }
}

#[test]
fn built_in_policies_import_the_host_log_and_export_the_fee_strategy() {
    for (name, bytes) in [("fee-alpha", FEE_ALPHA), ("fee-thompson", FEE_THOMPSON)] {
        let (imports, exports) = component_interface(bytes);
        assert!(
            imports.contains(&"revops:policy/host@0.1.1".to_owned()),
            "{name}: {imports:?}"
        );
        for export in [
            "revops:policy/metadata@0.1.1",
            "revops:policy/fee-strategy@0.1.1",
        ] {
            assert!(exports.contains(&export.to_owned()), "{name}: {exports:?}");
        }
        assert!(
            !exports.iter().any(|e| e.contains("rebalance-scorer")),
            "{name}: {exports:?}"
        );
    }
}

#[test]
fn the_built_in_scorer_exports_only_the_rebalance_scorer_role() {
    let (imports, exports) = component_interface(REBALANCE_EV);
    assert!(
        imports.contains(&"revops:policy/host@0.1.1".to_owned()),
        "{imports:?}"
    );
    for export in [
        "revops:policy/metadata@0.1.1",
        "revops:policy/rebalance-scorer@0.1.1",
    ] {
        assert!(exports.contains(&export.to_owned()), "{exports:?}");
    }
    assert!(
        !exports.iter().any(|e| e.contains("fee-strategy")),
        "{exports:?}"
    );
}

#[test]
fn built_in_scorers_are_listed_apart_from_fee_policies() {
    assert_eq!(BUILT_IN_SCORERS, [REBALANCE_EV]);
    assert!(!BUILT_IN.contains(&REBALANCE_EV));
}

#[test]
fn built_in_lists_every_fee_policy_once_the_default_first() {
    assert_eq!(BUILT_IN.len(), 2);
    assert_eq!(BUILT_IN[0], FEE_ALPHA, "fee-alpha is the default");
    assert_eq!(BUILT_IN[1], FEE_THOMPSON);
}

#[test]
fn the_wasi_import_guest_imports_wasi_random_besides_the_host() {
    let (imports, exports) = component_interface(hostile::WASI_IMPORT);
    assert!(
        imports.contains(&"wasi:random/random@0.2.0".to_owned()),
        "{imports:?}"
    );
    assert!(
        imports.contains(&"revops:policy/host@0.1.1".to_owned()),
        "{imports:?}"
    );
    assert!(
        exports.contains(&"revops:policy/fee-strategy@0.1.1".to_owned()),
        "{exports:?}"
    );
}

#[test]
fn the_wrong_major_guest_speaks_only_revops_policy_1_0_0() {
    let (imports, exports) = component_interface(hostile::WRONG_WIT_MAJOR);
    assert!(!imports.is_empty() && !exports.is_empty());
    for name in imports.iter().chain(&exports) {
        assert!(
            name.starts_with("revops:policy/") && name.ends_with("@1.0.0"),
            "{name}"
        );
    }
}
