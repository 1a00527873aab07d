//! Loading: what is accepted, how refusals are worded, and the components
//! of every released WIT version (tests/fixtures) still loading and deciding.

use revops_runtime::{
    LoadError, LoadedPolicy, MAX_COMPONENT_BYTES, PolicyRuntime, Role, WIT_VERSION,
};

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
        matches!(&err, LoadError::WasiNotAllowed { imports } if imports == &["wasi:clocks/wall-clock@0.2.0"]),
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

/// One component kept in `tests/fixtures` as built against a released WIT
/// version: `<policy>-wit-<version>.component.wasm` (see the README there).
struct CompatFixture {
    file: String,
    policy: String,
    wit_version: String,
    wasm: Vec<u8>,
}

/// Every component fixture, read from the directory (so a new one is
/// covered without touching this test). A `.wasm` file not named by the
/// pattern is an error, not skipped.
fn compat_fixtures() -> Vec<CompatFixture> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut fixtures: Vec<CompatFixture> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("fixture dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .map(|path| {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let (policy, wit_version) = file
                .strip_suffix(".component.wasm")
                .and_then(|stem| stem.rsplit_once("-wit-"))
                .unwrap_or_else(|| {
                    panic!("{file}: name fixtures `<policy>-wit-<version>.component.wasm`")
                });
            CompatFixture {
                policy: policy.to_owned(),
                wit_version: wit_version.to_owned(),
                wasm: std::fs::read(&path).unwrap(),
                file,
            }
        })
        .collect();
    fixtures.sort_by(|a, b| a.file.cmp(&b.file));
    fixtures
}

/// A fee batch from an old component: one in-bounds decision per channel,
/// in order.
fn decides_in_bounds(runtime: &PolicyRuntime, policy: &LoadedPolicy, file: &str) {
    let inputs = crate::support::inputs(5);
    let batch = runtime
        .decide_fees(policy, &inputs)
        .unwrap_or_else(|failure| panic!("{file}: decide-fees failed: {failure}"));
    assert_eq!(batch.decisions.len(), inputs.len(), "{file}");
    for (input, decision) in inputs.iter().zip(&batch.decisions) {
        assert_eq!(decision.short_channel_id, input.short_channel_id, "{file}");
        let bounds = input.bounds.floor_ppm..=input.bounds.ceiling_ppm;
        assert!(
            bounds.contains(&decision.fee_ppm),
            "{file}: {} ppm for {} is outside {bounds:?}",
            decision.fee_ppm,
            input.short_channel_id
        );
    }
}

/// A scoring batch from an old component: one verdict per candidate (the
/// runtime has checked each against the contract).
fn scores(runtime: &PolicyRuntime, policy: &LoadedPolicy, file: &str) {
    let candidates = crate::rebalance::candidates(4);
    let batch = runtime
        .score_rebalances(policy, &candidates)
        .unwrap_or_else(|failure| panic!("{file}: score-rebalances failed: {failure}"));
    assert_eq!(batch.verdicts.len(), candidates.len(), "{file}");
}

#[test]
fn every_released_component_fixture_still_loads_and_decides() {
    let fixtures = compat_fixtures();
    let runtime = runtime();
    for fixture in &fixtures {
        let file = fixture.file.as_str();
        let policy = runtime
            .load(&fixture.wasm)
            .unwrap_or_else(|e| panic!("{file} no longer loads: {e}"));
        assert_eq!(policy.name(), fixture.policy, "{file}");
        // The fixture really is from the version its name says.
        let suffix = format!("@{}", fixture.wit_version);
        assert!(
            policy.imports().iter().all(|i| i.ends_with(&suffix)),
            "{file}: {:?}",
            policy.imports()
        );
        assert!(!policy.roles().is_empty(), "{file}");
        for role in policy.roles() {
            match role {
                Role::FeeStrategy => decides_in_bounds(&runtime, &policy, file),
                Role::RebalanceScorer => scores(&runtime, &policy, file),
                other => panic!("{file}: teach this test to call the {other:?} role"),
            }
        }
        // The check a policy passes before it is swapped in: every role on
        // canned inputs, fee decisions a second time with their own state.
        runtime
            .self_test(&policy)
            .unwrap_or_else(|failure| panic!("{file}: {failure}"));
    }
}

#[test]
fn the_current_wit_version_and_every_built_in_have_a_compat_fixture() {
    let fixtures = compat_fixtures();
    let current: Vec<&str> = fixtures
        .iter()
        .filter(|f| f.wit_version == WIT_VERSION)
        .map(|f| f.policy.as_str())
        .collect();
    for built_in in ["fee-alpha", "fee-thompson", "rebalance-ev"] {
        assert!(
            current.contains(&built_in),
            "no {built_in}-wit-{WIT_VERSION}.component.wasm in tests/fixtures: \
             copy it from host/policy-artifacts' OUT_DIR (tests/fixtures/README.md)"
        );
    }
    assert!(
        fixtures.iter().any(|f| f.wit_version == "0.1.0"),
        "the 0.1.0 fixture is gone"
    );
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
    let module = wit_component::dummy_module(
        &resolve,
        world,
        wit_parser::ManglingAndAbi::Legacy(wit_parser::LiftLowerAbi::Sync),
    );
    let wasm = crate::guest::encode(module, &resolve, world);
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
