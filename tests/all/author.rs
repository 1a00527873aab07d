//! Author tooling through the real binary, from a terminal:
//! `cl-revenue-ops policy new|check` and `simulate --policy`.
//!
//! Building a scaffold needs a wasm32 cargo build (and the crates.io
//! registry), so it is exercised in `.ci/run` on `examples/peer-tiered-fees`
//! and a fresh scaffold; here `policy new` is checked for its files and its
//! name rules.

use crate::support::plugin_path;
use revops_policy_artifacts::{FEE_ALPHA, hostile};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary with `args` from a terminal (never as a plugin).
fn run(args: &[&str]) -> Output {
    Command::new(plugin_path())
        .args(args)
        .env_remove("LIGHTNINGD_PLUGIN")
        .output()
        .expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn write(dir: &Path, name: &str, wasm: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, wasm).unwrap();
    path
}

fn check(path: &Path, extra: &[&str]) -> Output {
    let path = path.display().to_string();
    let mut args = vec![
        "policy",
        "check",
        path.as_str(),
        "--rounds",
        "3",
        "--channels",
        "8",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// What `policy check` must say about an artifact.
enum Expect {
    /// Exit 1, with this failure kind listed and named in the verdict.
    Fails(&'static str),
    /// Exit 0, the report containing this line fragment.
    Passes(&'static str),
}

/// Every hostile artifact and what `policy check` must make of it; one line
/// per artifact.
fn hostile_table() -> Vec<(&'static str, &'static [u8], Expect)> {
    use Expect::*;
    vec![
        (
            "infinite-loop",
            hostile::INFINITE_LOOP,
            Fails("out_of_fuel"),
        ),
        ("memory-bomb", hostile::MEMORY_BOMB, Fails("out_of_memory")),
        ("panic", hostile::PANIC, Fails("trap")),
        ("guest-error", hostile::GUEST_ERROR, Fails("guest_error")),
        ("wrong-count", hostile::WRONG_COUNT, Fails("invalid_output")),
        ("deep-recursion", hostile::DEEP_RECURSION, Fails("trap")),
        ("huge-output", hostile::HUGE_OUTPUT, Fails("invalid_output")),
        (
            "wrong-wit-major",
            hostile::WRONG_WIT_MAJOR,
            Fails("incompatible_wit"),
        ),
        // It behaves, and the plugin gives operator policies the
        // deterministic WASI shim (`author::validate::OPERATOR_IMPORTS`):
        // accepted, with the WASI use pointed out.
        (
            "wasi-import",
            hostile::WASI_IMPORT,
            Passes("imports WASI: runs on the host's deterministic shim"),
        ),
        (
            "well-behaved",
            hostile::WELL_BEHAVED,
            Passes("failures    none"),
        ),
    ]
}

#[test]
fn check_names_the_failure_of_every_hostile_guest() {
    let dir = tempfile::tempdir().unwrap();
    for (label, wasm, expected) in hostile_table() {
        let path = write(dir.path(), &format!("{label}.wasm"), wasm);
        let output = check(&path, &[]);
        let report = text(&output);
        let last = report.lines().last().unwrap_or_default().to_string();
        match expected {
            Expect::Fails(kind) => {
                assert_eq!(output.status.code(), Some(1), "{label}:\n{report}");
                assert!(last.starts_with("verdict: FAIL"), "{label}: {last}");
                let listed = report
                    .lines()
                    .skip_while(|l| *l != "failures")
                    .any(|l| l.trim_start().starts_with(kind));
                assert!(
                    listed,
                    "{label}: `{kind}` not among the failures:\n{report}"
                );
                assert!(
                    last.contains(kind),
                    "{label}: the verdict names {kind}: {last}"
                );
            }
            Expect::Passes(fragment) => {
                assert_eq!(output.status.code(), Some(0), "{label}:\n{report}");
                assert!(last.starts_with("verdict: PASS"), "{label}: {last}");
                assert!(
                    report.contains(fragment),
                    "{label}: no `{fragment}`:\n{report}"
                );
            }
        }
    }
}

#[test]
fn check_passes_fee_alpha_and_reports_its_surface_and_fuel() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "alpha.wasm", FEE_ALPHA);
    let output = check(&path, &[]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    for expected in [
        "policy     fee-alpha ",
        "roles      fee-strategy",
        "WIT        revops:policy@0.1.1",
        "imports    revops:policy/",
        "self-test   ok: 2 fee batches",
        "randomised  3 rounds (seed 1) of a fee batch of 8 channels",
        "fuel per channel",
        "would be clamped",
        "deterministic     yes",
        "failures    none",
        "a built-in policy is named `fee-alpha`",
    ] {
        assert!(report.contains(expected), "`{expected}` missing:\n{report}");
    }
}

#[test]
fn check_json_parses_and_carries_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "panic.wasm", hostile::PANIC);
    let output = check(&path, &["--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("--json prints JSON");
    assert_eq!(report["verdict"]["exit_code"], 1);
    assert_eq!(report["verdict"]["passed"], false);
    assert_eq!(report["refused"]["stage"], "self_test");
    assert_eq!(report["refused"]["kind"], "trap");
    assert_eq!(report["policy"]["name"], "hostile-panic");
    assert_eq!(
        report["policy"]["roles"],
        serde_json::json!(["fee-strategy", "rebalance-scorer"])
    );
    assert_eq!(report["failures"][0]["kind"], "trap");
    assert!(report["failures"][0]["count"].as_u64().unwrap() >= 1);
    assert_eq!(report["randomised"]["rounds"], 3);

    let good = write(dir.path(), "alpha.wasm", FEE_ALPHA);
    let output = check(&good, &["--json"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verdict"]["exit_code"], 0);
    let fees = &report["randomised"]["fees"];
    assert_eq!(fees["decisions"], 24);
    assert!(
        fees["fuel_per_channel"]["p99"].as_u64().unwrap() > 0,
        "{fees}"
    );
    assert_eq!(report["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn check_exits_2_on_what_is_not_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let junk = write(dir.path(), "junk.wasm", b"this is not wasm");
    let output = check(&junk, &[]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert!(
        report.contains("not a valid WebAssembly component"),
        "{report}"
    );
    assert!(report.contains("verdict: CANNOT LOAD"), "{report}");

    // The common slip: cargo's core module instead of the component.
    let core = write(dir.path(), "core.wasm", b"\0asm\x01\0\0\0");
    let output = check(&core, &[]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert!(
        report.contains("a core WebAssembly module, not a component"),
        "{report}"
    );

    let missing = dir.path().join("missing.wasm");
    let output = check(&missing, &[]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert!(report.contains("cannot read"), "{report}");
}

#[test]
fn new_scaffolds_a_standalone_crate_and_refuses_bad_names_and_existing_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("tiered");
    let crate_arg = crate_dir.display().to_string();
    let output = run(&["policy", "new", "tiered-fees", "--dir", &crate_arg]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("cl-revenue-ops policy build"));
    for file in [
        "Cargo.toml",
        ".gitignore",
        "README.md",
        "wit/policy.wit",
        "src/lib.rs",
    ] {
        assert!(crate_dir.join(file).is_file(), "{file} missing");
    }
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"tiered-fees\""), "{manifest}");
    assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
    let lib = std::fs::read_to_string(crate_dir.join("src/lib.rs")).unwrap();
    assert!(lib.contains("world: \"fee-policy\""));
    assert!(lib.contains("pub const NAME: &str = \"tiered-fees\";"));
    let wit = std::fs::read_to_string(crate_dir.join("wit/policy.wit")).unwrap();
    let ours =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit/policy.wit"))
            .unwrap();
    assert_eq!(
        wit, ours,
        "the scaffold carries the contract this binary speaks"
    );

    // Never over an existing directory, and nothing written there.
    let again = run(&["policy", "new", "tiered-fees", "--dir", &crate_arg]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    for (name, reason) in [
        ("Tiered", "may contain only a-z, 0-9 and `-`"),
        ("tiered_fees", "may contain only a-z, 0-9 and `-`"),
        ("9lives", "must start with a letter"),
        ("fn", "Rust keyword"),
    ] {
        let target = dir.path().join(format!("bad-{}", name.len()));
        let output = run(&[
            "policy",
            "new",
            name,
            "--dir",
            &target.display().to_string(),
        ]);
        assert_eq!(output.status.code(), Some(1), "{name}");
        assert!(text(&output).contains(reason), "{name}: {}", text(&output));
        assert!(!target.exists(), "{name}: nothing is written");
    }

    let scorer_dir = dir.path().join("scorer");
    let output = run(&[
        "policy",
        "new",
        "my-scorer",
        "--role",
        "rebalance",
        "--dir",
        &scorer_dir.display().to_string(),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let lib = std::fs::read_to_string(scorer_dir.join("src/lib.rs")).unwrap();
    assert!(lib.contains("world: \"rebalance-policy\""));
}

#[test]
fn simulate_runs_a_policy_file_against_the_built_ins_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "panics.wasm", hostile::PANIC);
    let output = run(&[
        "simulate",
        "--days",
        "1",
        "--policy",
        &bad.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output);
    assert!(
        message.contains("panics.wasm` failed validation"),
        "{message}"
    );
    assert!(message.contains("(trap)"), "{message}");

    let good = write(dir.path(), "behaves.wasm", hostile::WELL_BEHAVED);
    let output = run(&[
        "simulate",
        "--days",
        "1",
        "--no-rebalance",
        "--policy",
        &good.display().to_string(),
    ]);
    let report = text(&output);
    assert!(output.status.success(), "{report}");
    for row in [
        "static ",
        "fee-alpha@",
        "fee-thompson@",
        "hostile-none@0.1.0 (behaves.wasm)",
    ] {
        assert!(
            report.lines().any(|l| l.starts_with(row)),
            "no `{row}` row:\n{report}"
        );
    }
}
