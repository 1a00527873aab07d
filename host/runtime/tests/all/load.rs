//! Loading: what is accepted, and how refusals are worded.

use revops_runtime::{LoadError, MAX_COMPONENT_BYTES, Role};

use crate::guest::Guest;
use crate::support::runtime;

#[test]
fn a_well_formed_guest_loads_with_metadata_and_hash() {
    let runtime = runtime();
    let wasm = Guest::new("load-ok").component();
    let policy = runtime.load(&wasm).expect("loads");
    assert_eq!(policy.name(), "load-ok");
    assert_eq!(policy.version(), "1.0.0");
    assert_eq!(policy.metadata().roles, vec![Role::FeeStrategy]);
    assert_eq!(policy.size_bytes(), wasm.len());
    assert_eq!(policy.hash().len(), 64);
    assert!(policy.hash().chars().all(|c| c.is_ascii_hexdigit()));
    assert!(
        policy
            .imports()
            .iter()
            .all(|import| import.starts_with("revops:policy/")),
        "{:?}",
        policy.imports()
    );
    // Same bytes, same hash; a clone shares the compiled policy.
    assert_eq!(runtime.load(&wasm).unwrap().hash(), policy.clone().hash());
}

#[test]
fn a_wasi_import_is_refused_by_name() {
    let wasm = Guest::new("wants-clock").with_wasi_clock().component();
    let err = runtime().load(&wasm).expect_err("WASI is forbidden");
    assert!(
        matches!(&err, LoadError::ForbiddenImport { import } if import == "wasi:clocks/wall-clock@0.2.0"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("wasi:clocks/wall-clock@0.2.0"),
        "{message}"
    );
    assert!(message.contains("revops:policy/host"), "{message}");
}

#[test]
fn a_guest_built_against_another_major_is_incompatible() {
    let wasm = Guest::new("from-the-future")
        .wit_version("1.0.0")
        .component();
    let err = runtime().load(&wasm).expect_err("1.0 is not 0.1");
    assert!(
        matches!(&err, LoadError::IncompatibleWit { found, .. } if found == "revops:policy@1.0.0"),
        "{err:?}"
    );
    assert!(err.to_string().contains("0.1.x"), "{err}");
    let wasm = Guest::new("next-minor").wit_version("0.2.0").component();
    assert!(matches!(
        runtime().load(&wasm),
        Err(LoadError::IncompatibleWit { .. })
    ));
}

#[test]
fn a_missing_role_export_is_named() {
    let wasm = Guest::new("no-fees").metadata_only().component();
    let err = runtime().load(&wasm).expect_err("fee-strategy is required");
    assert!(
        matches!(&err, LoadError::MissingExport { export } if export.contains("fee-strategy")),
        "{err:?}"
    );
}

#[test]
fn a_guest_built_against_a_later_0_1_patch_loads() {
    let runtime = runtime();
    let wasm = Guest::new("later-patch").wit_version("0.1.3").component();
    let policy = runtime.load(&wasm).expect("0.1.3 is on the 0.1 track");
    let batch = runtime
        .decide_fees(&policy, &crate::support::inputs(2))
        .expect("callable");
    assert_eq!(batch.decisions.len(), 2);
}

#[test]
fn a_guest_built_against_0_1_0_still_loads_and_decides_fees() {
    let runtime = runtime();
    // From the 0.1.0 WIT kept verbatim in tests/fixtures.
    let wasm = Guest::new("old-contract").wit_version("0.1.0").component();
    let policy = runtime.load(&wasm).expect("0.1.0 is on the 0.1 track");
    assert_eq!(policy.roles(), [Role::FeeStrategy]);
    assert!(
        policy.imports().iter().all(|i| i.ends_with("@0.1.0")),
        "{:?}",
        policy.imports()
    );
    let batch = runtime
        .decide_fees(&policy, &crate::support::inputs(2))
        .expect("callable");
    assert_eq!(batch.decisions.len(), 2);
}

#[test]
fn the_fee_alpha_binary_built_against_0_1_0_still_loads_and_decides_fees() {
    // The real component as shipped before 0.1.1, kept as a fixture.
    let wasm = include_bytes!("../fixtures/fee-alpha-wit-0.1.0.component.wasm");
    let runtime = runtime();
    let policy = runtime.load(wasm).expect("old fee-alpha loads");
    assert_eq!(policy.name(), "fee-alpha");
    assert_eq!(policy.roles(), [Role::FeeStrategy]);
    let inputs = crate::support::inputs(20);
    let old = runtime.decide_fees(&policy, &inputs).expect("decides");
    assert_eq!(old.decisions.len(), 20);
    let (current_runtime, current) = crate::support::shared_fee_alpha();
    let new = current_runtime.decide_fees(current, &inputs).unwrap();
    let fees = |batch: &revops_runtime::FeeBatch| -> Vec<u32> {
        batch.decisions.iter().map(|d| d.fee_ppm).collect()
    };
    assert_eq!(fees(&old), fees(&new), "same policy logic, either contract");
}

#[test]
fn oversized_and_malformed_bytes_are_refused() {
    let runtime = runtime();
    let huge = vec![0u8; MAX_COMPONENT_BYTES + 1];
    assert!(matches!(
        runtime.load(&huge),
        Err(LoadError::TooLarge { .. })
    ));
    assert!(matches!(
        runtime.load(b"not wasm"),
        Err(LoadError::Compile(_))
    ));
    // A core module is not a component.
    let core = wat::parse_str("(module)").unwrap();
    assert!(matches!(runtime.load(&core), Err(LoadError::Compile(_))));
}

#[test]
fn bad_metadata_is_refused() {
    let wasm = Guest::new("Not_A_Valid_Name").component();
    let err = runtime().load(&wasm).expect_err("name is checked");
    assert!(matches!(err, LoadError::InvalidMetadata(_)), "{err:?}");
    assert!(err.to_string().contains("Not_A_Valid_Name"), "{err}");
}

#[test]
fn a_trapping_metadata_call_fails_the_load() {
    // A component whose exports all trap: wit-component's dummy module.
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve
        .push_str("policy.wit", crate::guest::POLICY_WIT)
        .unwrap();
    let world = resolve.select_world(&[pkg], Some("fee-policy")).unwrap();
    let mut module = wit_component::dummy_module(
        &resolve,
        world,
        wit_parser::ManglingAndAbi::Legacy(wit_parser::LiftLowerAbi::Sync),
    );
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .unwrap();
    let wasm = wit_component::ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap();
    let err = runtime().load(&wasm).expect_err("metadata traps");
    assert!(
        matches!(&err, LoadError::Metadata(failure) if failure.kind == revops_runtime::FailureKind::Trap),
        "{err:?}"
    );
}

#[test]
fn a_cached_compile_is_reused_and_a_corrupt_entry_is_compiled_again() {
    let dir = tempfile::tempdir().unwrap();
    let cached_runtime = || {
        let mut runtime =
            revops_runtime::PolicyRuntime::new(revops_runtime::Limits::default()).unwrap();
        runtime.set_code_cache(dir.path()).unwrap();
        runtime
    };
    let entries = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
            .collect::<Vec<_>>()
    };
    let inputs = crate::support::inputs(3);

    let runtime = cached_runtime();
    let first = runtime.load(revops_policy_artifacts::FEE_ALPHA).unwrap();
    let expected = runtime.decide_fees(&first, &inputs).unwrap().decisions;
    let written = entries();
    assert_eq!(written.len(), 1, "one entry per compiled policy");
    assert!(
        written[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(first.hash()),
        "{written:?}"
    );

    // A fresh runtime (a restart) loads from the cache — nothing is
    // compiled, so nothing is rewritten — and decides the same.
    let modified = || std::fs::metadata(&written[0]).unwrap().modified().unwrap();
    let before = modified();
    let runtime = cached_runtime();
    let again = runtime.load(revops_policy_artifacts::FEE_ALPHA).unwrap();
    assert_eq!(
        runtime.decide_fees(&again, &inputs).unwrap().decisions,
        expected
    );
    assert_eq!(modified(), before, "served from the cache, not recompiled");

    // A damaged entry is not trusted: compiled again and rewritten.
    std::fs::write(&written[0], b"not compiled code").unwrap();
    let runtime = cached_runtime();
    let recompiled = runtime.load(revops_policy_artifacts::FEE_ALPHA).unwrap();
    assert_eq!(
        runtime.decide_fees(&recompiled, &inputs).unwrap().decisions,
        expected
    );
    assert_ne!(std::fs::read(&written[0]).unwrap(), b"not compiled code");
}
