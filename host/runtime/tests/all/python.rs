//! Python policies on the deterministic WASI shim: the example in
//! `examples/python-fee-policy` and the probe guest in
//! `tests/python-probe`, both built with componentize-py by their
//! `build.sh` (CI builds them once, before the tests).
//!
//! The components are 18 MB and not checked in. A test finds each at
//! `$REVOPS_PYTHON_EXAMPLE_WASM` / `$REVOPS_PYTHON_PROBE_WASM` or at its
//! `build/` path. When one is missing the test says so loudly and passes —
//! unless `REVOPS_REQUIRE_PYTHON_EXAMPLE` is set (CI sets it), in which case
//! it fails: CI cannot skip these silently.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use revops_runtime::{FailureKind, Imports, LoadError, LoadedPolicy, PolicyRuntime};

#[test]
fn python_calls_are_safe_from_inside_an_async_runtime() {
    let python = python();
    let Some(probe) = &python.probe else {
        return;
    };
    // `print` goes through wasmtime-wasi's blocking stream calls, which
    // would panic on a tokio runtime's own thread without the shim's thread.
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut chatty = inputs(1);
    chatty[0].htlcs_in_flight = 3;
    let batch = tokio.block_on(async { python.runtime.decide_fees(probe, &chatty) });
    assert_eq!(batch.expect("decides").decisions.len(), 1);
}

use crate::support::{input, inputs, logged_with_prefix, runtime};

/// The Python example fee policy's path.
fn example_path() -> PathBuf {
    artifact(
        "REVOPS_PYTHON_EXAMPLE_WASM",
        "../../examples/python-fee-policy/build/python-fee-policy.wasm",
    )
}

fn probe_path() -> PathBuf {
    artifact(
        "REVOPS_PYTHON_PROBE_WASM",
        "tests/python-probe/build/python-probe.wasm",
    )
}

fn artifact(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default))
}

/// The component's bytes, or `None` (after a loud note) when it was not
/// built and nothing requires it.
fn bytes(path: PathBuf) -> Option<Vec<u8>> {
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            let required = std::env::var_os("REVOPS_REQUIRE_PYTHON_EXAMPLE")
                .is_some_and(|v| !v.is_empty() && v != "0");
            assert!(
                !required,
                "REVOPS_REQUIRE_PYTHON_EXAMPLE is set but {} cannot be read: {e}",
                path.display()
            );
            // Straight to the process's stderr: libtest captures
            // `eprintln!` of passing tests, and this must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: {} is missing ({e}); build it with its build.sh \
                 (pip install componentize-py==0.25.1) to run the Python tests ***\n",
                path.display()
            );
            None
        }
    }
}

/// A compiled-code cache shared by the runtimes of these tests, so a second
/// runtime loads a Python component without compiling it again.
fn code_cache() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// One runtime and the two Python components, compiled once per test binary
/// (compiling an 18 MB component is the slow part).
struct Python {
    runtime: PolicyRuntime,
    example: Option<(Vec<u8>, LoadedPolicy)>,
    probe: Option<LoadedPolicy>,
}

fn python() -> &'static Python {
    static PYTHON: OnceLock<Python> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let mut runtime = runtime();
        runtime
            .set_code_cache(code_cache())
            .expect("the test code cache opens");
        let load = |wasm: &[u8]| {
            runtime
                .load_with(wasm, Imports::HostAndWasiShim)
                .unwrap_or_else(|e| panic!("the Python component loads as an operator policy: {e}"))
        };
        let example = bytes(example_path()).map(|wasm| {
            let policy = load(&wasm);
            (wasm, policy)
        });
        let probe = bytes(probe_path()).map(|wasm| load(&wasm));
        Python {
            runtime,
            example,
            probe,
        }
    })
}

#[test]
fn the_example_is_an_operator_policy_on_the_shim() {
    let python = python();
    let Some((wasm, policy)) = &python.example else {
        return;
    };
    assert_eq!(policy.name(), "python-time-of-day");
    assert!(policy.uses_wasi_shim());
    let wasi: Vec<&str> = policy.wasi_imports().collect();
    assert!(
        wasi.iter().any(|i| i.starts_with("wasi:cli/stdout@0.2.")),
        "{wasi:?}"
    );
    assert!(
        wasi.iter()
            .any(|i| i.starts_with("wasi:filesystem/preopens@0.2.")),
        "{wasi:?}"
    );
    assert!(wasm.len() <= revops_runtime::MAX_OPERATOR_COMPONENT_BYTES);
    // The plugin's own pre-swap check passes.
    python.runtime.self_test(policy).expect("self-test passes");
}

#[test]
fn the_example_is_refused_as_a_built_in_naming_its_wasi_imports() {
    let Some((wasm, _)) = &python().example else {
        return;
    };
    // Refused before compiling (and before the built-ins' smaller size
    // cap), naming every WASI import.
    let err = python()
        .runtime
        .load(wasm)
        .expect_err("built-ins never get WASI");
    let LoadError::WasiNotAllowed { imports } = &err else {
        panic!("{err:?}");
    };
    assert!(imports.len() > 10, "{imports:?}");
    assert!(
        imports.iter().all(|i| i.starts_with("wasi:")),
        "{imports:?}"
    );
    let message = err.to_string();
    for import in imports {
        assert!(message.contains(import.as_str()), "{message}");
    }
    assert!(message.contains("revops:policy/host"), "{message}");
}

#[test]
fn the_example_decides_deterministically_and_by_time_of_day() {
    let python = python();
    let Some((_, policy)) = &python.example else {
        return;
    };
    // 2023-11-14 22:13 UTC: neither peak nor quiet.
    let batch = inputs(10);
    let first = python.runtime.decide_fees(policy, &batch).expect("decides");
    let again = python.runtime.decide_fees(policy, &batch).expect("decides");
    assert_eq!(first.decisions, again.decisions);
    assert_eq!(
        first.fuel_used, again.fuel_used,
        "fuel is deterministic too"
    );
    for (input, decision) in batch.iter().zip(&first.decisions) {
        let guidance = &input.guidance;
        assert!(
            (guidance.floor_ppm..=guidance.ceiling_ppm).contains(&decision.fee_ppm),
            "{decision:?}"
        );
        assert!(decision.state.is_some());
    }
    // A balanced channel (50 % local) moves only with the time of day.
    let at_hour = |hour: u64| {
        let mut channel = input(5);
        channel.now = 1_700_000_000 / 86_400 * 86_400 + hour * 3600;
        let batch = python
            .runtime
            .decide_fees(policy, &[channel])
            .expect("decides");
        let decision = batch.decisions.into_iter().next().expect("one decision");
        (decision.fee_ppm, decision.step)
    };
    let (peak_fee, peak_step) = at_hour(15);
    let (quiet_fee, quiet_step) = at_hour(3);
    let (other_fee, other_step) = at_hour(9);
    assert_eq!(
        (peak_step.as_str(), quiet_step.as_str(), other_step.as_str()),
        ("balanced+peak", "balanced+quiet", "balanced")
    );
    assert!(
        quiet_fee < other_fee && other_fee < peak_fee,
        "{quiet_fee} {other_fee} {peak_fee}"
    );
}

/// The probe's JSON report: what the guest saw through WASI.
fn probe_report(python: &Python, probe: &LoadedPolicy, now: u64, seed: u64) -> serde_json::Value {
    let mut channel = input(1);
    channel.now = now;
    channel.seed = seed;
    channel.htlcs_in_flight = 0;
    let batch = python
        .runtime
        .decide_fees(probe, &[channel])
        .expect("the probe answers");
    serde_json::from_str(&batch.decisions[0].reason).expect("the probe reports JSON")
}

#[test]
fn a_python_guest_sees_no_files_environment_network_or_real_time() {
    let python = python();
    let Some(probe) = &python.probe else {
        return;
    };
    let report = probe_report(python, probe, 1_700_000_000, 42);
    // The clock is the input's `now`; sleeping advances only the virtual
    // monotonic clock (instantly).
    assert_eq!(report["time"], 1_700_000_000.0, "{report}");
    let slept = report["slept"].as_f64().expect("sleep returns");
    assert!((5.0..5.01).contains(&slept), "{report}");
    assert_eq!(report["environ"], 0, "{report}");
    for denied in ["root", "cwd", "passwd", "write"] {
        assert!(
            report[denied]
                .as_str()
                .is_some_and(|e| e.ends_with("Error")),
            "{denied}: {report}"
        );
    }
    assert_eq!(report["stdin"], "", "{report}");
    for denied in ["connect", "resolve"] {
        let outcome = report[denied].as_str().unwrap_or_default();
        assert!(
            outcome.ends_with("Error") || outcome == "gaierror",
            "{denied}: {report}"
        );
    }
}

#[test]
fn a_python_guest_gets_its_randomness_from_the_seed() {
    let python = python();
    let Some(probe) = &python.probe else {
        return;
    };
    let a = probe_report(python, probe, 1_700_000_000, 42);
    let b = probe_report(python, probe, 1_700_000_000, 42);
    let c = probe_report(python, probe, 1_700_000_000, 43);
    assert_eq!(a, b, "same input, same bytes");
    assert_ne!(a["urandom"], c["urandom"], "another seed, other bytes");
}

#[test]
fn python_print_lands_in_the_host_log_capped() {
    let python = python();
    let Some(probe) = &python.probe else {
        return;
    };
    let mut chatty = inputs(2);
    chatty[0].htlcs_in_flight = 100;
    let batch = python
        .runtime
        .decide_fees(probe, &chatty)
        .expect("the probe answers");
    // 64 lines per call: the first 63 `print`s, the stderr line is dropped
    // with the other 37.
    let tag = format!("[{}] ", probe.tag());
    let lines = logged_with_prefix(&tag);
    let printed: Vec<&str> = lines
        .iter()
        .map(|(_, _, message)| &message[tag.len()..])
        .filter(|line| line.starts_with("probe line "))
        .collect();
    assert!(printed.contains(&"probe line 0"), "{lines:?}");
    assert!(printed.contains(&"probe line 63"), "{lines:?}");
    assert!(!printed.contains(&"probe line 64"), "{lines:?}");
    assert_eq!(batch.logs_dropped, 100 + 1 - 64);
    // A quiet call: the stderr line arrives, at warn.
    python
        .runtime
        .decide_fees(probe, &inputs(1))
        .expect("the probe answers");
    assert!(
        logged_with_prefix(&tag)
            .iter()
            .any(|(_, level, message)| *level == log::Level::Warn
                && message.ends_with("probe stderr line")),
    );
}

#[test]
fn a_python_guest_out_of_fuel_is_contained() {
    let python = python();
    let Some((wasm, example)) = &python.example else {
        return;
    };
    let mut runtime = crate::support::runtime_with(revops_runtime::Limits {
        fuel_per_batch_base: 1_000_000,
        fuel_per_channel: 0,
        ..revops_runtime::Limits::default()
    });
    // Compiled already (the example is loaded): this load only
    // deserializes.
    assert!(example.uses_wasi_shim());
    runtime.set_code_cache(code_cache()).unwrap();
    // The example starts in ≈ 160k fuel and spends ≈ 130k per channel.
    let policy = runtime
        .load_with(wasm, Imports::HostAndWasiShim)
        .expect("loads within a million fuel");
    let failure = runtime
        .decide_fees(&policy, &inputs(50))
        .expect_err("50 channels need more than a million fuel");
    assert_eq!(failure.kind, FailureKind::OutOfFuel, "{failure}");
    let batch = runtime
        .decide_fees(&policy, &inputs(1))
        .expect("one channel fits");
    assert!(batch.fuel_used < 1_000_000);
}
