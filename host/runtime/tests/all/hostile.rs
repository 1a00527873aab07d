//! The hostile guests from `revops-policy-artifacts` (real Rust guests built
//! for wasm32): each fails with the right kind, in both roles, and the
//! runtime keeps working for a well-behaved policy afterwards; the two
//! whose contract is wrong (a WASI import, WIT 1.0.0) are refused at load;
//! the self-test a policy must pass before it is swapped in flags every one
//! of them; and an answer that points many strings at one buffer cannot make
//! the host copy without bound.

use std::sync::OnceLock;

use revops_policy_artifacts::{FEE_ALPHA, REBALANCE_EV, hostile};
use revops_runtime::{FailureKind, Limits, LoadError, LoadedPolicy, PolicyFailure, PolicyRuntime};

use crate::rebalance::candidates;
use crate::support::{inputs, runtime_with, shared_fee_alpha};

/// The hostile guests that load and fail inside the call, with the kind
/// both `decide-fees` and `score-rebalances` must fail with under the
/// default limits. Each is named `hostile-<mode>` by its metadata.
const FAILING_CALLS: [(&[u8], FailureKind); 7] = [
    (hostile::INFINITE_LOOP, FailureKind::OutOfFuel),
    (hostile::MEMORY_BOMB, FailureKind::OutOfMemory),
    (hostile::PANIC, FailureKind::Trap),
    (hostile::GUEST_ERROR, FailureKind::GuestError),
    (hostile::WRONG_COUNT, FailureKind::InvalidOutput),
    (hostile::DEEP_RECURSION, FailureKind::Trap),
    (hostile::HUGE_OUTPUT, FailureKind::InvalidOutput),
];

/// A runtime with the default limits but a 30 s wall clock, with fee-alpha
/// and rebalance-ev loaded, for the tables. The host copies a guest's whole
/// answer out of its memory before checking it, and the guest's post-return
/// cleanup runs after that copy under the same epoch deadline: lifting
/// `hostile::HUGE_OUTPUT`'s 48 MiB takes ≈ 0.6 s in a debug test build,
/// enough on a loaded machine to turn the output check into an
/// `interrupted`. Fuel and memory, which decide every other kind here, are
/// the defaults.
fn patient() -> &'static (PolicyRuntime, LoadedPolicy, LoadedPolicy) {
    static PATIENT: OnceLock<(PolicyRuntime, LoadedPolicy, LoadedPolicy)> = OnceLock::new();
    PATIENT.get_or_init(|| {
        let runtime = runtime_with(Limits {
            wall_clock_ms: 30_000,
            ..Limits::default()
        });
        let fee_alpha = runtime.load(FEE_ALPHA).expect("fee-alpha loads");
        let scorer = runtime.load(REBALANCE_EV).expect("rebalance-ev loads");
        (runtime, fee_alpha, scorer)
    })
}

fn fail(runtime: &PolicyRuntime, wasm: &[u8]) -> PolicyFailure {
    let policy = runtime
        .load(wasm)
        .expect("hostile guests have valid metadata");
    runtime
        .decide_fees(&policy, &inputs(3))
        .expect_err("hostile guests fail")
}

fn default_policy_still_works(runtime: &PolicyRuntime, policy: &LoadedPolicy) {
    let batch = runtime
        .decide_fees(policy, &inputs(3))
        .expect("fee-alpha works");
    assert_eq!(batch.decisions.len(), 3);
}

#[test]
fn each_hostile_guest_fails_with_its_kind() {
    let (runtime, fee_alpha, _) = patient();
    for (wasm, kind) in FAILING_CALLS {
        let failure = fail(runtime, wasm);
        assert_eq!(failure.kind, kind, "{failure}");
        default_policy_still_works(runtime, fee_alpha);
    }
}

#[test]
fn each_hostile_scorer_fails_with_its_kind() {
    let (runtime, _, scorer) = patient();
    for (wasm, kind) in FAILING_CALLS {
        let policy = runtime.load(wasm).expect("hostile guests load");
        let name = policy.name();
        let failure = runtime
            .score_rebalances(&policy, &candidates(3))
            .expect_err("hostile scorers fail");
        assert_eq!(failure.kind, kind, "{name}: {failure}");
        let batch = runtime
            .score_rebalances(scorer, &candidates(3))
            .expect("rebalance-ev still scores");
        assert_eq!(batch.verdicts.len(), 3, "after {name}");
    }
}

#[test]
fn deep_recursion_is_a_stack_overflow_trap() {
    let (runtime, fee_alpha) = shared_fee_alpha();
    let failure = fail(runtime, hostile::DEEP_RECURSION);
    assert_eq!(failure.kind, FailureKind::Trap, "{failure}");
    // wasmtime's wording for `Trap::StackOverflow`, and the recursing
    // function named from the backtrace.
    assert!(
        failure.message.contains("call stack exhausted"),
        "{failure}"
    );
    assert!(failure.message.contains("recurse"), "{failure}");
    default_policy_still_works(runtime, fee_alpha);
}

#[test]
fn huge_output_is_refused_by_the_output_checks() {
    let (runtime, fee_alpha, _) = patient();
    // 48 MiB over 3 channels: far more than the ≈ 1.2 MiB transfer cap of a
    // 3-channel answer, so the host refuses it before copying it out.
    let failure = fail(runtime, hostile::HUGE_OUTPUT);
    assert_eq!(failure.kind, FailureKind::InvalidOutput, "{failure}");
    assert!(failure.message.contains("bytes at once"), "{failure}");
    default_policy_still_works(runtime, fee_alpha);

    let policy = runtime.load(hostile::HUGE_OUTPUT).unwrap();
    let failure = runtime
        .score_rebalances(&policy, &candidates(3))
        .expect_err("a 16 MiB reason is refused");
    assert_eq!(failure.kind, FailureKind::InvalidOutput, "{failure}");
    assert!(failure.message.contains("bytes at once"), "{failure}");
}

#[test]
fn huge_output_under_a_smaller_memory_cap_runs_out_of_memory() {
    // The same guest cannot even build its answer in 32 MiB.
    let runtime = runtime_with(Limits {
        memory_bytes: 32 << 20,
        ..Limits::default()
    });
    let fee_alpha = runtime.load(FEE_ALPHA).unwrap();
    let failure = fail(&runtime, hostile::HUGE_OUTPUT);
    assert_eq!(failure.kind, FailureKind::OutOfMemory, "{failure}");
    default_policy_still_works(&runtime, &fee_alpha);
}

#[test]
fn a_guest_importing_wasi_random_is_refused_at_load_by_name() {
    let (runtime, fee_alpha) = shared_fee_alpha();
    let err = runtime
        .load(hostile::WASI_IMPORT)
        .expect_err("built-in-style guests may not import WASI");
    assert!(
        matches!(&err, LoadError::WasiNotAllowed { imports } if imports == &["wasi:random/random@0.2.0"]),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("wasi:random/random@0.2.0"),
        "{err}"
    );
    default_policy_still_works(runtime, fee_alpha);
}

#[test]
fn a_guest_built_against_wit_1_0_0_is_refused_as_incompatible() {
    let (runtime, fee_alpha) = shared_fee_alpha();
    let err = runtime
        .load(hostile::WRONG_WIT_MAJOR)
        .expect_err("1.0 is not on the 0.1 track");
    assert!(
        matches!(&err, LoadError::IncompatibleWit { found, .. } if found == "revops:policy@1.0.0"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("revops:policy@1.0.0"), "{message}");
    assert!(message.contains("revops:policy@0.1.x"), "{message}");
    default_policy_still_works(runtime, fee_alpha);
}

#[test]
fn the_self_test_flags_every_hostile_guest_and_passes_the_well_behaved_one() {
    let (runtime, _, _) = patient();
    for (wasm, kind) in FAILING_CALLS {
        let policy = runtime.load(wasm).expect("hostile guests load");
        let name = policy.name();
        let failure = runtime
            .self_test(&policy)
            .expect_err("the self-test must catch it");
        assert_eq!(failure.failure.kind, kind, "{name}: {failure}");
        // The fee role is tested first.
        assert!(failure.call.starts_with("decide-fees"), "{name}: {failure}");
    }
    for wasm in [hostile::WASI_IMPORT, hostile::WRONG_WIT_MAJOR] {
        assert!(runtime.load(wasm).is_err(), "refused before any self-test");
    }
    let well_behaved = runtime.load(hostile::WELL_BEHAVED).unwrap();
    let report = runtime.self_test(&well_behaved).expect("passes");
    assert!(
        report.fee_decisions > 0 && report.verdicts > 0,
        "{report:?}"
    );
}

#[test]
fn the_guest_error_message_comes_through() {
    let failure = fail(&shared_fee_alpha().0, hostile::GUEST_ERROR);
    assert!(
        failure.message.contains("deliberate guest error"),
        "{failure}"
    );
}

#[test]
fn the_epoch_backstop_stops_the_infinite_loop_when_fuel_is_huge() {
    let runtime = runtime_with(Limits {
        fuel_per_batch_base: u64::MAX / 2,
        fuel_per_channel: 0,
        wall_clock_ms: 100,
        ..Limits::default()
    });
    let fee_alpha = runtime.load(FEE_ALPHA).unwrap();
    let failure = fail(&runtime, hostile::INFINITE_LOOP);
    assert_eq!(failure.kind, FailureKind::Interrupted, "{failure}");
    default_policy_still_works(&runtime, &fee_alpha);
}

/// Peak resident memory of this process, in bytes (Linux; `None`
/// elsewhere).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// A fee policy (hand-written, like `guest.rs`) whose answer is `copies`
/// decisions that all point their `reason` at the same `reason_bytes`
/// buffer: a few MiB of guest memory that would lift into
/// `copies × reason_bytes` of host strings.
fn aliasing_guest(copies: u32, reason_bytes: u32) -> Vec<u8> {
    const PAGE: u32 = 65_536;
    // Memory map: 16 name, 96 version, 160 roles, 176 description, 1024
    // metadata return area, 2048 decide return area, 4096 scid/step
    // "hold", 32 KiB the decisions, 64 KiB the reason (zeros: valid UTF-8),
    // then the heap for the inputs.
    assert!(copies * 40 <= PAGE / 2);
    let heap = PAGE + reason_bytes.next_multiple_of(PAGE);
    let pages = heap / PAGE + 1;
    let v = crate::guest::CURRENT_WIT_VERSION;
    let wat = format!(
        r#"
(module
  (import "revops:policy/host@{v}" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") {pages})
  (global $heap (mut i32) (i32.const {heap}))
  (data (i32.const 16) "alias-bomb")
  (data (i32.const 96) "1.0.0")
  (data (i32.const 160) "\00")
  (data (i32.const 176) "a test policy")
  (data (i32.const 4096) "hold")
  (func (export "cabi_realloc")
        (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
               (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (local.get $ptr))
  (func (export "revops:policy/metadata@{v}#metadata") (result i32)
    (i32.store (i32.const 1024) (i32.const 16))
    (i32.store (i32.const 1028) (i32.const 10))
    (i32.store (i32.const 1032) (i32.const 96))
    (i32.store (i32.const 1036) (i32.const 5))
    (i32.store (i32.const 1040) (i32.const 160))
    (i32.store (i32.const 1044) (i32.const 1))
    (i32.store (i32.const 1048) (i32.const 176))
    (i32.store (i32.const 1052) (i32.const 13))
    (i32.const 1024))
  (func (export "revops:policy/fee-strategy@{v}#decide-fees")
        (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $d i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (i32.const {copies})))
        (local.set $d (i32.add (i32.const 32768) (i32.mul (local.get $i) (i32.const 40))))
        (i32.store (local.get $d) (i32.const 4096))
        (i32.store offset=4 (local.get $d) (i32.const 4))
        (i32.store offset=8 (local.get $d) (i32.const 100))
        (i32.store offset=12 (local.get $d) (i32.const 4096))
        (i32.store offset=16 (local.get $d) (i32.const 4))
        (i32.store offset=20 (local.get $d) (i32.const {PAGE}))
        (i32.store offset=24 (local.get $d) (i32.const {reason_bytes}))
        (i32.store8 offset=28 (local.get $d) (i32.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.store8 (i32.const 2048) (i32.const 0))
    (i32.store (i32.const 2052) (i32.const 32768))
    (i32.store (i32.const 2056) (i32.const {copies}))
    (i32.const 2048))
)"#
    );
    crate::guest::encode_fee_policy(wat::parse_str(wat).expect("WAT is valid"))
}

#[test]
fn an_answer_aliasing_one_buffer_cannot_make_the_host_copy_without_bound() {
    // 512 decisions sharing one 8 MiB reason: 8.1 MiB of guest memory,
    // 4 GiB of host strings if the host lifted it all. wasmtime charges
    // every byte it lifts against the store's hostcall fuel, which the
    // runtime sets to what a legitimate answer of the batch's size needs
    // (≈ 1 MiB for one channel), and gives up there.
    let (runtime, fee_alpha) = shared_fee_alpha();
    let policy = runtime
        .load(&aliasing_guest(512, 8 << 20))
        .expect("a valid policy");
    let before = peak_rss_bytes();
    let failure = runtime
        .decide_fees(&policy, &inputs(1))
        .expect_err("refused");
    if let (Some(before), Some(after)) = (before, peak_rss_bytes()) {
        assert!(
            after - before < 256 << 20,
            "the host's peak memory grew by {} MiB",
            (after - before) >> 20
        );
    }
    assert_eq!(failure.kind, FailureKind::InvalidOutput, "{failure}");
    assert!(failure.message.contains("bytes at once"), "{failure}");
    default_policy_still_works(runtime, fee_alpha);
}
