//! The WASI shim with small guests (no Python needed; see `python.rs` for
//! the real thing): who gets it, what links, and that a WASI guest runs
//! contained and deterministic.

use revops_policy_artifacts::{FEE_ALPHA, hostile};
use revops_runtime::{FailureKind, Imports, LoadError, Role};

use crate::guest::{Guest, Prelude};
use crate::rebalance::candidates;
use crate::support::{inputs, runtime};

#[test]
fn an_operator_policy_importing_shim_interfaces_loads_on_the_shim() {
    let runtime = runtime();
    let wasm = Guest::new("clock-user").with_wasi_clock().component();
    let policy = runtime
        .load_with(&wasm, Imports::HostAndWasiShim)
        .expect("the shim provides wasi:clocks/wall-clock@0.2.0");
    assert!(policy.uses_wasi_shim());
    assert_eq!(
        policy.wasi_imports().collect::<Vec<_>>(),
        ["wasi:clocks/wall-clock@0.2.0"]
    );
    let batch = runtime.decide_fees(&policy, &inputs(3)).expect("decides");
    assert_eq!(batch.decisions.len(), 3);
}

#[test]
fn a_policy_without_wasi_never_uses_the_shim() {
    let runtime = runtime();
    let policy = runtime
        .load_with(FEE_ALPHA, Imports::HostAndWasiShim)
        .expect("fee-alpha loads either way");
    assert!(!policy.uses_wasi_shim());
    assert_eq!(policy.wasi_imports().count(), 0);
    assert!(!runtime.load(FEE_ALPHA).unwrap().uses_wasi_shim());
}

#[test]
fn a_wasi_interface_the_shim_lacks_is_refused_by_name_even_for_operators() {
    let wasm = Guest::new("clock-0-3")
        .with_wasi_clock_version("0.3.0")
        .component();
    let err = runtime()
        .load_with(&wasm, Imports::HostAndWasiShim)
        .expect_err("the shim speaks WASI 0.2 only");
    assert!(
        matches!(&err, LoadError::ForbiddenImport { import } if import == "wasi:clocks/wall-clock@0.3.0"),
        "{err:?}"
    );
    // Where the shim is not allowed the refusal says so, for any version.
    let err = runtime().load(&wasm).expect_err("no WASI for built-ins");
    assert!(matches!(err, LoadError::WasiNotAllowed { .. }), "{err:?}");
    assert!(
        err.to_string().contains("wasi:clocks/wall-clock@0.3.0"),
        "{err}"
    );
}

#[test]
fn the_wasi_importing_hostile_guest_runs_on_the_shim_in_both_roles() {
    let runtime = runtime();
    let policy = runtime
        .load_with(hostile::WASI_IMPORT, Imports::HostAndWasiShim)
        .expect("wasi:random is a shim interface");
    assert!(policy.uses_wasi_shim());
    assert!(policy.has_role(Role::FeeStrategy) && policy.has_role(Role::RebalanceScorer));
    let batch = inputs(5);
    let first = runtime.decide_fees(&policy, &batch).expect("decides");
    let second = runtime.decide_fees(&policy, &batch).expect("decides");
    assert_eq!(first, second, "same input, same answer, same fuel");
    runtime
        .score_rebalances(&policy, &candidates(2))
        .expect("scores");
    runtime.self_test(&policy).expect("passes the self-test");
    // The shim does not widen any other limit.
    let spinner = runtime
        .load_with(
            &Guest::new("spinning-clock-user")
                .with_wasi_clock()
                .prelude(Prelude::Spin)
                .component(),
            Imports::HostAndWasiShim,
        )
        .unwrap();
    let failure = runtime
        .decide_fees(&spinner, &inputs(1))
        .expect_err("spins");
    assert_eq!(failure.kind, FailureKind::OutOfFuel, "{failure}");
}

#[test]
fn shim_calls_are_safe_from_inside_an_async_runtime() {
    // wasmtime-wasi blocks on tokio; on a runtime's own thread that would
    // panic, so the shim runs its calls on a thread of their own.
    let runtime = runtime();
    let policy = runtime
        .load_with(hostile::WASI_IMPORT, Imports::HostAndWasiShim)
        .unwrap();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let decided = tokio.block_on(async { runtime.decide_fees(&policy, &inputs(2)) });
    assert_eq!(decided.expect("decides").decisions.len(), 2);
}
