//! The hostile component (wasm32 only): valid `metadata`, and a `decide-fees`
//! and a `score-rebalances` that misbehave as [`crate::SELECTED`] says (so
//! one build tests containment for both roles).
//!
//! Invariants:
//! - The only import is `revops:policy/host`, like a real policy, so the host
//!   loads it and the failure happens inside the call — except in the
//!   `wasi-import` and `wrong-wit-major` modes, whose WIT (chosen by
//!   `build.rs`) is the misbehaviour and which otherwise behave.

use crate::mode::{HUGE_OUTPUT_BYTES, Mode, SELECTED};
use std::hint::black_box;

// `wit_bindgen::generate!` for the WIT `build.rs` picked for this mode.
include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

use exports::revops::policy::{fee_strategy, metadata, rebalance_scorer};
use revops::policy::host::{LogLevel, log};
use revops::policy::types as wit;

struct Hostile;

impl metadata::Guest for Hostile {
    fn metadata() -> wit::PolicyMetadata {
        wit::PolicyMetadata {
            name: format!("hostile-{}", SELECTED.slug()),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            roles: vec![wit::Role::FeeStrategy, wit::Role::RebalanceScorer],
            description: "Misbehaves on purpose; for containment tests only.".to_owned(),
        }
    }
}

impl fee_strategy::Guest for Hostile {
    fn decide_fees(inputs: Vec<wit::ChannelFeeInput>) -> Result<Vec<wit::FeeDecision>, String> {
        log(
            LogLevel::Warn,
            &format!("hostile policy running in mode {}", SELECTED.slug()),
        );
        match SELECTED {
            Mode::InfiniteLoop => infinite_loop(),
            Mode::MemoryBomb => memory_bomb(),
            Mode::Panic => panic!("hostile policy: deliberate panic"),
            Mode::GuestError => Err("hostile policy: deliberate guest error".to_owned()),
            Mode::WrongCount => {
                let mut decisions = hold_all(inputs);
                decisions.pop();
                Ok(decisions)
            }
            Mode::DeepRecursion => deep_recursion(),
            Mode::HugeOutput => {
                let share = huge_share(inputs.len());
                let mut decisions = hold_all(inputs);
                for decision in &mut decisions {
                    decision.state = Some(black_box(vec![0x5A; share]));
                }
                Ok(decisions)
            }
            Mode::WasiImport => {
                black_box(wasi_random_u64());
                Ok(hold_all(inputs))
            }
            Mode::WrongWitMajor | Mode::WellBehaved => Ok(hold_all(inputs)),
        }
    }
}

impl rebalance_scorer::Guest for Hostile {
    fn score_rebalances(
        candidates: Vec<wit::RebalanceCandidate>,
    ) -> Result<Vec<wit::RebalanceVerdict>, String> {
        log(
            LogLevel::Warn,
            &format!("hostile scorer running in mode {}", SELECTED.slug()),
        );
        match SELECTED {
            Mode::InfiniteLoop => infinite_loop(),
            Mode::MemoryBomb => memory_bomb(),
            Mode::Panic => panic!("hostile scorer: deliberate panic"),
            Mode::GuestError => Err("hostile scorer: deliberate guest error".to_owned()),
            Mode::WrongCount => {
                let mut verdicts = reject_all(candidates);
                verdicts.pop();
                Ok(verdicts)
            }
            Mode::DeepRecursion => deep_recursion(),
            Mode::HugeOutput => {
                let share = huge_share(candidates.len());
                let mut verdicts = reject_all(candidates);
                for verdict in &mut verdicts {
                    verdict.reason = black_box("r".repeat(share));
                }
                Ok(verdicts)
            }
            Mode::WasiImport => {
                black_box(wasi_random_u64());
                Ok(reject_all(candidates))
            }
            Mode::WrongWitMajor | Mode::WellBehaved => Ok(reject_all(candidates)),
        }
    }
}

/// A correct answer: start nothing.
fn reject_all(candidates: Vec<wit::RebalanceCandidate>) -> Vec<wit::RebalanceVerdict> {
    candidates
        .iter()
        .map(|_| wit::RebalanceVerdict {
            accept: false,
            amount_msat: 0,
            max_fee_ppm: 0,
            sources: Vec::new(),
            expected_profit_msat: 0,
            reason: "hostile scorer rejecting everything".to_owned(),
        })
        .collect()
}

/// Spins forever; `black_box` keeps the optimiser from proving it pointless.
fn infinite_loop() -> ! {
    let mut counter = 0u64;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// Allocates and touches 1 MiB blocks without bound. When the host refuses to
/// grow memory any further, the allocator fails and the guest aborts (a trap).
fn memory_bomb() -> ! {
    const BLOCK_BYTES: usize = 1 << 20;
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        // Writing every block makes the pages real, not just reserved.
        hoard.push(black_box(vec![0xA5; BLOCK_BYTES]));
        black_box(&hoard);
    }
}

/// Recurses until the host's stack limit traps it. `recurse` is not a tail
/// call (its result is used after the inner call returns) and `black_box`
/// hides both the argument and the result from the optimiser, so it cannot
/// become a loop or be folded away; its frame holds only scalars, so the
/// wasm call stack (not the shadow stack in linear memory) is what runs out.
fn deep_recursion() -> ! {
    let depth = recurse(0);
    panic!("hostile policy: recursion ended at depth {depth}")
}

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    // Never true; without a base case rustc rejects unconditional recursion.
    if black_box(depth) == u64::MAX {
        return depth;
    }
    let below = black_box(recurse(black_box(depth + 1)));
    below.wrapping_mul(31).wrapping_add(depth)
}

/// Bytes per answer for [`Mode::HugeOutput`]: [`HUGE_OUTPUT_BYTES`] over
/// the batch.
fn huge_share(answers: usize) -> usize {
    HUGE_OUTPUT_BYTES / answers.max(1)
}

/// A random number from WASI: the call keeps the `wasi:random` import in the
/// component (an unused import would be dropped). Runs only where the host
/// allows its deterministic WASI shim (operator policies); loaded like a
/// built-in, the component is refused.
#[cfg(hostile_wasi_import)]
fn wasi_random_u64() -> u64 {
    wasi::random::random::get_random_u64()
}

/// Without the WASI import (every other mode) there is nothing to call.
#[cfg(not(hostile_wasi_import))]
fn wasi_random_u64() -> u64 {
    unreachable!("only the wasi-import build calls WASI")
}

/// A correct answer: keep every channel's current fee.
fn hold_all(inputs: Vec<wit::ChannelFeeInput>) -> Vec<wit::FeeDecision> {
    inputs
        .into_iter()
        .map(|input| wit::FeeDecision {
            short_channel_id: input.short_channel_id,
            fee_ppm: input.fee_ppm,
            step: "hold".to_owned(),
            reason: "hostile policy holding the current fee".to_owned(),
            state: None,
        })
        .collect()
}

export!(Hostile);
