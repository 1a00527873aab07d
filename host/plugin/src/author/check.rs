//! `cl-revenue-ops policy check <file.wasm>`: validates a policy exactly as
//! the plugin would (`validate`), then runs it on randomised inputs
//! (`inputs`) and reports what an author needs: roles, WIT version,
//! imports, size and hash, the self-test, fuel per decision against the
//! budget, failures by kind with the first message, fees the host would
//! clamp, and a verdict.
//!
//! Invariants:
//! - Exit status: 0 the plugin would accept the policy and nothing failed on
//!   the randomised inputs; 1 it would refuse it, or a randomised batch
//!   failed, or it answered the same batch differently twice; 2 the file
//!   could not be read or is not a WebAssembly component at all.
//! - The randomised rounds run even when the self-test failed (a refused
//!   policy's author wants every failure at once), never when the
//!   component did not load.
//! - A fee outside the bounds is not a failure (the host clamps it); it is
//!   counted and shown.
//! - Same seed, same inputs: for a deterministic policy the report is
//!   reproducible except for the wall-clock times.

use crate::author::inputs::Population;
use crate::author::report::{
    FeeRounds, Percentiles, PolicyInfo, Randomised, Report, ScoreRounds, Verdict,
};
use crate::author::validate::{self, Stage};
use revops_runtime::{
    ChannelFeeInput, FeeDecision, Limits, LoadedPolicy, PolicyFailure, PolicyRuntime,
    RebalanceCandidate, Role,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    /// The policy component to check.
    pub file: PathBuf,
    /// Channels in every randomised fee batch.
    #[arg(long, default_value_t = 50)]
    pub channels: usize,
    /// Randomised rounds (fee cycles; one scorer batch per round too when the
    /// policy scores rebalances).
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// Seed of the randomised inputs (same seed, same inputs).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A role's randomised rounds stop after this many failed batches in a row:
/// the verdict is settled, and a memory bomb need not go off twenty times.
const STOP_AFTER_FAILURES_IN_A_ROW: u32 = 3;

/// Most distinct `step` names tallied; the rest count as `(other)`.
const MAX_STEPS_TALLIED: usize = 32;

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.channels >= 1, "--channels must be at least 1");
    let report = check(args)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(ExitCode::from(report.verdict.exit_code))
}

/// Runs every check and builds the report.
pub fn check(args: &CheckArgs) -> anyhow::Result<Report> {
    let limits = Limits::default();
    let file = args.file.display().to_string();
    let mut report = Report::new(file, limits);
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(e) => {
            report.verdict = Verdict::unloadable(format!("cannot read {}: {e}", report.file));
            return Ok(report);
        }
    };
    report.size_bytes = Some(bytes.len());
    report.sha256 = Some(sha256_hex(&bytes));
    // The same limits the plugin starts its runtime with.
    let runtime = PolicyRuntime::new(limits)?;

    let policy = match validate::load(&runtime, &bytes) {
        Ok(policy) => policy,
        Err(refusal) => {
            report.refused = Some(refusal.clone());
            report.note_failure(
                &refusal.kind,
                refusal.call.as_deref().unwrap_or("load"),
                &refusal.message,
            );
            report.verdict = if refusal.stage == Stage::Compile {
                Verdict::unloadable(refusal.message)
            } else {
                Verdict::refused(&refusal)
            };
            return Ok(report);
        }
    };
    report.policy = Some(policy_info(&runtime, &policy, &bytes));
    let reserved = validate::reserved_scorer_name(&runtime);
    match validate::after_load(&runtime, &policy, reserved.as_deref()) {
        Ok(self_test) => report.self_test = Some(self_test),
        Err(refusal) => {
            let call = match &refusal.call {
                Some(call) => format!("self-test {call}"),
                None => "load".to_string(),
            };
            report.note_failure(&refusal.kind, &call, &refusal.message);
            report.refused = Some(refusal);
        }
    }
    report.randomised = Some(randomised(&runtime, &policy, args, &mut report));
    report.verdict = verdict(&report, &policy);
    Ok(report)
}

fn verdict(report: &Report, policy: &LoadedPolicy) -> Verdict {
    if let Some(refusal) = &report.refused {
        return Verdict::refused(refusal);
    }
    let failed: u64 = report.failures.iter().map(|f| f.count).sum();
    if failed > 0 {
        let kinds: Vec<&str> = report.failures.iter().map(|f| f.kind.as_str()).collect();
        return Verdict::fail(format!(
            "the plugin would load {} {}, but {failed} randomised call(s) failed ({})",
            policy.name(),
            policy.version(),
            kinds.join(", ")
        ));
    }
    let randomised = report.randomised.as_ref();
    Verdict::pass(format!(
        "the plugin would accept {} {}; no failures in {} randomised round(s)",
        policy.name(),
        policy.version(),
        randomised.map_or(0, |r| r.rounds)
    ))
}

fn policy_info(runtime: &PolicyRuntime, policy: &LoadedPolicy, bytes: &[u8]) -> PolicyInfo {
    let (exports, wit_versions) = wit_surface(bytes);
    let metadata = policy.metadata();
    PolicyInfo {
        name: policy.name().to_string(),
        version: policy.version().to_string(),
        description: metadata.description.clone(),
        roles: policy
            .roles()
            .iter()
            .map(|r| r.as_str().to_string())
            .collect(),
        wit_version: wit_versions.join(", "),
        imports: policy.imports().to_vec(),
        exports,
        uses_wasi_shim: policy.uses_wasi_shim(),
        replaces_built_in: built_in_names(runtime).iter().any(|n| n == policy.name()),
    }
}

/// The names of the built-in fee policies (a file of one of these names
/// replaces the built-in when loaded).
fn built_in_names(runtime: &PolicyRuntime) -> Vec<String> {
    revops_policy_artifacts::BUILT_IN
        .iter()
        .filter_map(|wasm| runtime.load(wasm).ok())
        .map(|p| p.name().to_string())
        .collect()
}

/// The component's export names and the `revops:policy` versions it was
/// built against, read from its WIT (empty when it cannot be decoded).
fn wit_surface(wasm: &[u8]) -> (Vec<String>, Vec<String>) {
    use wit_parser::decoding::{DecodedWasm, decode};
    let Ok(DecodedWasm::Component(resolve, world)) = decode(wasm) else {
        return (Vec::new(), Vec::new());
    };
    let world = &resolve.worlds[world];
    let exports: Vec<String> = world
        .exports
        .keys()
        .map(|key| resolve.name_world_key(key))
        .collect();
    let mut versions: Vec<String> = world
        .imports
        .keys()
        .chain(world.exports.keys())
        .map(|key| resolve.name_world_key(key))
        .filter_map(|name| {
            let (path, version) = name.split_once('@')?;
            path.starts_with("revops:policy/")
                .then(|| format!("revops:policy@{version}"))
        })
        .collect();
    versions.sort();
    versions.dedup();
    (exports, versions)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the randomised rounds measured.
#[derive(Default)]
struct Tally {
    batches: u32,
    ok: u32,
    /// Failed batches since the last good one.
    failed_in_a_row: u32,
    fuel_per_batch: Vec<u64>,
    fuel_per_item: Vec<u64>,
    micros_per_batch: Vec<u64>,
    logs_dropped: u64,
}

impl Tally {
    /// Whether this role's rounds go on: not after
    /// [`STOP_AFTER_FAILURES_IN_A_ROW`] failed batches in a row.
    fn going(&self) -> bool {
        self.failed_in_a_row < STOP_AFTER_FAILURES_IN_A_ROW
    }

    fn record_failure(&mut self) {
        self.failed_in_a_row += 1;
    }

    fn record_ok(&mut self, fuel: u64, items: usize, micros: u64, logs_dropped: u32) {
        self.ok += 1;
        self.failed_in_a_row = 0;
        self.fuel_per_batch.push(fuel);
        self.fuel_per_item
            .push(fuel / u64::try_from(items.max(1)).unwrap_or(u64::MAX));
        self.micros_per_batch.push(micros);
        self.logs_dropped += u64::from(logs_dropped);
    }
}

fn randomised(
    runtime: &PolicyRuntime,
    policy: &LoadedPolicy,
    args: &CheckArgs,
    report: &mut Report,
) -> Randomised {
    let limits = report.limits;
    let mut population = Population::new(args.channels, args.seed);
    let candidates_per_round = (args.channels / 5).clamp(1, 20);
    let has_fees = policy.has_role(Role::FeeStrategy);
    let has_scorer = policy.has_role(Role::RebalanceScorer);

    let mut fees = FeeStats::default();
    let mut scores = ScoreStats::default();
    let mut deterministic = None;
    for round in 0..args.rounds {
        if has_fees && fees.tally.going() {
            let inputs = population.fee_inputs();
            let started = Instant::now();
            let result = runtime.decide_fees(policy, &inputs);
            let micros = micros_since(started);
            fees.tally.batches += 1;
            match result {
                Ok(batch) => {
                    fees.tally
                        .record_ok(batch.fuel_used, inputs.len(), micros, batch.logs_dropped);
                    fees.observe(&inputs, &batch.decisions);
                    if round == 0 {
                        let again = runtime.decide_fees(policy, &inputs);
                        let same = same_fees(&inputs, &batch.decisions, again);
                        if let Err(message) = &same {
                            report.note_failure(
                                "nondeterministic",
                                "decide-fees round 1 (repeated)",
                                message,
                            );
                        }
                        deterministic = Some(same.is_ok());
                    }
                    population.apply(&batch.decisions);
                }
                Err(failure) => {
                    fees.tally.record_failure();
                    note(report, &failure, "decide-fees", round);
                }
            }
        }
        if has_scorer && scores.tally.going() {
            let candidates = population.candidates(candidates_per_round);
            let started = Instant::now();
            let result = runtime.score_rebalances(policy, &candidates);
            let micros = micros_since(started);
            scores.tally.batches += 1;
            match result {
                Ok(batch) => {
                    scores.tally.record_ok(
                        batch.fuel_used,
                        candidates.len(),
                        micros,
                        batch.logs_dropped,
                    );
                    scores.observe(&candidates, &batch.verdicts);
                    if round == 0 && deterministic != Some(false) {
                        let again = runtime.score_rebalances(policy, &candidates);
                        let same = match again {
                            Ok(b) if b.verdicts == batch.verdicts => Ok(()),
                            Ok(_) => Err("the same candidates got different verdicts".to_string()),
                            Err(f) => Err(format!("the repeated batch failed: {f}")),
                        };
                        if let Err(message) = &same {
                            report.note_failure(
                                "nondeterministic",
                                "score-rebalances round 1 (repeated)",
                                message,
                            );
                        }
                        deterministic = Some(deterministic.unwrap_or(true) && same.is_ok());
                    }
                }
                Err(failure) => {
                    scores.tally.record_failure();
                    note(report, &failure, "score-rebalances", round);
                }
            }
        }
        population.advance();
    }
    Randomised {
        seed: args.seed,
        rounds: args.rounds,
        channels: args.channels,
        candidates_per_round: if has_scorer { candidates_per_round } else { 0 },
        deterministic,
        fees: has_fees.then(|| fees.finish(limits.fuel_for_batch(args.channels))),
        rebalance: has_scorer.then(|| scores.finish(limits.fuel_for_scoring(candidates_per_round))),
    }
}

fn note(report: &mut Report, failure: &PolicyFailure, call: &str, round: usize) {
    let at = format!("{call} round {}", round + 1);
    report.note_failure(failure.kind.as_str(), &at, &failure.message);
}

fn micros_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The repeated first batch must give the same decisions.
fn same_fees(
    inputs: &[ChannelFeeInput],
    first: &[FeeDecision],
    again: Result<revops_runtime::FeeBatch, PolicyFailure>,
) -> Result<(), String> {
    let again = again.map_err(|f| format!("the repeated batch failed: {f}"))?;
    for ((input, a), b) in inputs.iter().zip(first).zip(&again.decisions) {
        if a != b {
            return Err(format!(
                "channel {}: {} ppm ({}) the first time, {} ppm ({}) the second",
                input.short_channel_id, a.fee_ppm, a.step, b.fee_ppm, b.step
            ));
        }
    }
    Ok(())
}

#[derive(Default)]
struct FeeStats {
    tally: Tally,
    decisions: u64,
    changed: u64,
    below_floor: u64,
    above_ceiling: u64,
    first_clamped: Option<String>,
    max_state_bytes: usize,
    steps: BTreeMap<String, u64>,
}

impl FeeStats {
    fn observe(&mut self, inputs: &[ChannelFeeInput], decisions: &[FeeDecision]) {
        for (input, decision) in inputs.iter().zip(decisions) {
            self.decisions += 1;
            let bounds = input.bounds;
            let (fee, floor, ceiling) = (decision.fee_ppm, bounds.floor_ppm, bounds.ceiling_ppm);
            let clamped = if fee < floor {
                self.below_floor += 1;
                Some(format!("below the floor {floor}"))
            } else if fee > ceiling {
                self.above_ceiling += 1;
                Some(format!("above the ceiling {ceiling}"))
            } else {
                None
            };
            if let (Some(how), None) = (&clamped, &self.first_clamped) {
                self.first_clamped = Some(format!(
                    "channel {}: {fee} ppm, {how} ppm",
                    input.short_channel_id
                ));
            }
            if fee.clamp(floor, ceiling.max(floor)) != input.fee_ppm {
                self.changed += 1;
            }
            let state = decision.state.as_ref().map_or(0, Vec::len);
            self.max_state_bytes = self.max_state_bytes.max(state);
            let step = if self.steps.len() < MAX_STEPS_TALLIED
                || self.steps.contains_key(&decision.step)
            {
                decision.step.clone()
            } else {
                "(other)".to_string()
            };
            *self.steps.entry(step).or_default() += 1;
        }
    }

    fn finish(self, budget: u64) -> FeeRounds {
        FeeRounds {
            batches: self.tally.batches,
            batches_ok: self.tally.ok,
            stopped_early: !self.tally.going(),
            decisions: self.decisions,
            fee_changes: self.changed,
            fuel_budget_per_batch: budget,
            fuel_per_batch: Percentiles::of(&self.tally.fuel_per_batch),
            fuel_per_channel: Percentiles::of(&self.tally.fuel_per_item),
            micros_per_batch: Percentiles::of(&self.tally.micros_per_batch),
            clamped_below_floor: self.below_floor,
            clamped_above_ceiling: self.above_ceiling,
            first_clamped: self.first_clamped,
            max_state_bytes: self.max_state_bytes,
            steps: self.steps,
            logs_dropped: self.tally.logs_dropped,
        }
    }
}

#[derive(Default)]
struct ScoreStats {
    tally: Tally,
    candidates: u64,
    accepted: u64,
    reduced: u64,
}

impl ScoreStats {
    fn observe(
        &mut self,
        candidates: &[RebalanceCandidate],
        verdicts: &[revops_runtime::RebalanceVerdict],
    ) {
        for (candidate, verdict) in candidates.iter().zip(verdicts) {
            self.candidates += 1;
            if verdict.accept {
                self.accepted += 1;
                if verdict.amount_msat < candidate.amount_msat {
                    self.reduced += 1;
                }
            }
        }
    }

    fn finish(self, budget: u64) -> ScoreRounds {
        ScoreRounds {
            batches: self.tally.batches,
            batches_ok: self.tally.ok,
            stopped_early: !self.tally.going(),
            candidates: self.candidates,
            accepted: self.accepted,
            amount_reduced: self.reduced,
            fuel_budget_per_batch: budget,
            fuel_per_batch: Percentiles::of(&self.tally.fuel_per_batch),
            fuel_per_candidate: Percentiles::of(&self.tally.fuel_per_item),
            micros_per_batch: Percentiles::of(&self.tally.micros_per_batch),
            logs_dropped: self.tally.logs_dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use revops_policy_artifacts::{FEE_ALPHA, REBALANCE_EV, hostile};

    fn check_bytes(wasm: &[u8], rounds: usize) -> Report {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policy.wasm");
        std::fs::write(&file, wasm).unwrap();
        check(&CheckArgs {
            file,
            channels: 10,
            rounds,
            seed: 1,
            json: false,
        })
        .unwrap()
    }

    #[test]
    fn fee_alpha_passes_with_fuel_and_wit_reported() {
        let report = check_bytes(FEE_ALPHA, 3);
        assert_eq!(report.verdict.exit_code, 0, "{}", report.render());
        let policy = report.policy.as_ref().unwrap();
        assert_eq!(policy.roles, ["fee-strategy"]);
        assert_eq!(policy.wit_version, "revops:policy@0.1.1");
        assert!(policy.replaces_built_in);
        assert!(
            policy
                .exports
                .iter()
                .any(|e| e.starts_with("revops:policy/fee-strategy@"))
        );
        let randomised = report.randomised.as_ref().unwrap();
        assert_eq!(randomised.deterministic, Some(true));
        let fees = randomised.fees.as_ref().unwrap();
        assert_eq!((fees.batches, fees.batches_ok, fees.decisions), (3, 3, 30));
        assert!(fees.fuel_per_channel.max > 0);
        assert!(randomised.rebalance.is_none());
    }

    #[test]
    fn a_scorer_gets_candidates() {
        // The built-in scorer's name is reserved: refused, but still scored.
        let report = check_bytes(REBALANCE_EV, 2);
        assert_eq!(report.verdict.exit_code, 1);
        assert_eq!(report.refused.as_ref().unwrap().kind, "reserved_name");
        let scores = report
            .randomised
            .as_ref()
            .unwrap()
            .rebalance
            .clone()
            .unwrap();
        assert_eq!((scores.batches, scores.batches_ok), (2, 2));
        assert_eq!(scores.candidates, 4);
    }

    #[test]
    fn failures_are_counted_by_kind_with_the_first_message() {
        let report = check_bytes(hostile::PANIC, 2);
        assert_eq!(report.verdict.exit_code, 1);
        let trap = report.failures.iter().find(|f| f.kind == "trap").unwrap();
        // Self-test, then 2 fee and 2 scorer rounds.
        assert_eq!(trap.count, 5, "{}", report.render());
        // Three failed batches in a row end a role's rounds.
        let report = check_bytes(hostile::PANIC, 10);
        let trap = report.failures.iter().find(|f| f.kind == "trap").unwrap();
        assert_eq!(trap.count, 1 + 3 + 3, "{}", report.render());
        let fees = report.randomised.as_ref().unwrap().fees.as_ref().unwrap();
        assert!(fees.stopped_early && fees.batches == 3);
        assert!(
            trap.first_call.starts_with("self-test decide-fees"),
            "{trap:?}"
        );
    }

    #[test]
    fn the_repeated_batch_must_match() {
        let inputs = Population::new(1, 1).fee_inputs();
        let decision = FeeDecision {
            short_channel_id: inputs[0].short_channel_id.clone(),
            fee_ppm: 7,
            step: "a".to_string(),
            reason: String::new(),
            state: None,
        };
        let mut other = decision.clone();
        other.fee_ppm = 8;
        let batch = |d: &FeeDecision| {
            Ok(revops_runtime::FeeBatch {
                decisions: vec![d.clone()],
                fuel_used: 1,
                logs_dropped: 0,
            })
        };
        let first = [decision.clone()];
        assert_eq!(same_fees(&inputs, &first, batch(&decision)), Ok(()));
        let err = same_fees(&inputs, &first, batch(&other)).unwrap_err();
        assert!(err.contains("7 ppm (a) the first time, 8 ppm"), "{err}");
    }
}
