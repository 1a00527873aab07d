//! Calling a loaded policy's rebalance-scorer role: one fresh `Store` per
//! batch, under the same containment as fee batches (`call`).
//!
//! Invariants (DESIGN §6):
//! - Same store discipline as `decide_fees`: fresh store, fuel
//!   (`fuel_per_batch_base + fuel_per_candidate × candidates`) set before
//!   instantiation, epoch deadline, memory cap, failures classified alike.
//! - A policy without the role fails with `MissingRole` before anything is
//!   instantiated: asking is a host bug, not the guest's fault.
//! - A verdict batch is returned only if it keeps the contract: one verdict
//!   per candidate, in order; `amount-msat` at most the candidate's; an
//!   accepted verdict moves a non-zero amount; `sources` are distinct short
//!   channel ids taken from the candidate's own `sources`; `reason` at most
//!   [`MAX_REASON_BYTES`]. Unlike a fee `reason` (prose, truncated), an
//!   over-long verdict reason is refused: every field of a verdict feeds a
//!   money-moving decision, so a verdict that overruns any cap is not
//!   trusted at all.

use crate::bindings::v0_1::{RebalanceCandidate, RebalanceVerdict, Role};
use crate::call::{MAX_REASON_BYTES, missing_role, transfer_cap};
use crate::engine::PolicyRuntime;
use crate::failure::{FailureKind, PolicyFailure};
use crate::host_log::truncate_on_char_boundary;
use crate::load::LoadedPolicy;
use crate::wasi_shim::BatchClock;

/// A successful rebalance-scoring batch.
#[derive(Debug, Clone, PartialEq)]
pub struct RebalanceBatch {
    /// One per candidate, same order, checked against the contract.
    pub verdicts: Vec<RebalanceVerdict>,
    /// Fuel spent on instantiation and the call.
    pub fuel_used: u64,
    /// Log lines the policy emitted beyond the per-call cap.
    pub logs_dropped: u32,
}

impl PolicyRuntime {
    /// Scores a batch of rebalance candidates in a fresh instance of
    /// `policy`. Blocks for at most the wall-clock limit; call from
    /// `spawn_blocking`. A policy without the rebalance-scorer role fails
    /// with [`FailureKind::MissingRole`] before anything runs.
    /// Every call, whatever its outcome, is counted in
    /// [`PolicyRuntime::stats`].
    pub fn score_rebalances(
        &self,
        policy: &LoadedPolicy,
        candidates: &[RebalanceCandidate],
    ) -> Result<RebalanceBatch, PolicyFailure> {
        let result = self.run_score_rebalances(policy, candidates);
        self.recorded(policy, result, |batch| batch.fuel_used)
    }

    /// [`Self::score_rebalances`] without recording the call in the
    /// statistics.
    pub(crate) fn run_score_rebalances(
        &self,
        policy: &LoadedPolicy,
        candidates: &[RebalanceCandidate],
    ) -> Result<RebalanceBatch, PolicyFailure> {
        let indices = policy
            .rebalance_scorer()
            .ok_or_else(|| missing_role(policy, Role::RebalanceScorer))?;
        let limits = self.limits(Role::RebalanceScorer);
        let fuel_budget = limits.fuel_for_scoring(candidates.len());
        let mut call = self.call_store(
            policy.tag(),
            &limits,
            fuel_budget,
            transfer_cap(candidates.len()),
        );
        let wasi = policy
            .uses_wasi_shim()
            .then(|| BatchClock::of_candidates(candidates));
        let result = self.run_guest(&mut call, wasi, |store| {
            let instance = policy.pre().instantiate(&mut *store)?;
            indices
                .load(&mut *store, &instance)?
                .call_score_rebalances(store, candidates)
        });
        let logs_dropped = call.finish_log();
        let fuel_used = call.fuel_used();
        let verdicts = call.settle(result)?;
        validate(candidates, &verdicts)?;
        Ok(RebalanceBatch {
            verdicts,
            fuel_used,
            logs_dropped,
        })
    }
}

/// Checks a verdict batch against the contract (see module docs).
fn validate(
    candidates: &[RebalanceCandidate],
    verdicts: &[RebalanceVerdict],
) -> Result<(), PolicyFailure> {
    let invalid = |message: String| PolicyFailure::new(FailureKind::InvalidOutput, message);
    if verdicts.len() != candidates.len() {
        return Err(invalid(format!(
            "policy returned {} verdicts for {} rebalance candidates",
            verdicts.len(),
            candidates.len()
        )));
    }
    for (index, (candidate, verdict)) in candidates.iter().zip(verdicts).enumerate() {
        let scid = &candidate.destination.short_channel_id;
        let at = || format!("verdict #{index} (destination {scid})");
        if verdict.amount_msat > candidate.amount_msat {
            return Err(invalid(format!(
                "{}: amount {} msat exceeds the proposed {} msat",
                at(),
                verdict.amount_msat,
                candidate.amount_msat
            )));
        }
        if verdict.accept && verdict.amount_msat == 0 {
            return Err(invalid(format!("{}: accepted with a zero amount", at())));
        }
        for (rank, source) in verdict.sources.iter().enumerate() {
            let offered = candidate
                .sources
                .iter()
                .any(|s| s.short_channel_id == *source);
            if !offered {
                return Err(invalid(format!(
                    "{}: source `{}` is not one of the candidate's sources",
                    at(),
                    truncate_on_char_boundary(source, 64)
                )));
            }
            if verdict.sources[..rank].contains(source) {
                return Err(invalid(format!(
                    "{}: source {source} is listed twice",
                    at()
                )));
            }
        }
        if verdict.reason.len() > MAX_REASON_BYTES {
            return Err(invalid(format!(
                "{}: reason is {} bytes; the limit is {MAX_REASON_BYTES} bytes",
                at(),
                verdict.reason.len()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::v0_1::{FlowState, RebalanceChannel};

    fn channel(scid: &str) -> RebalanceChannel {
        RebalanceChannel {
            short_channel_id: scid.to_owned(),
            peer_id: "02".repeat(33),
            capacity_msat: 1_000_000_000,
            local_msat: 900_000_000,
            fee_ppm: 50,
            daily_out_msat: 10_000_000,
            flow_state: FlowState::Balanced,
        }
    }

    fn candidate(destination: &str) -> RebalanceCandidate {
        RebalanceCandidate {
            now: 1_700_000_000,
            seed: 1,
            destination: channel(destination),
            sources: vec![channel("9x9x9"), channel("8x8x8")],
            amount_msat: 500_000_000,
            inbound_fee_estimate_ppm: 100,
            cooldown_days: 1.0,
            health_multiplier: 1.0,
            min_profit_msat: 10_000,
            kelly: None,
        }
    }

    fn accept(sources: &[&str]) -> RebalanceVerdict {
        RebalanceVerdict {
            accept: true,
            amount_msat: 500_000_000,
            max_fee_ppm: 300,
            sources: sources.iter().map(|s| (*s).to_owned()).collect(),
            expected_profit_msat: 20_000,
            reason: "ok".to_owned(),
        }
    }

    fn kind(result: Result<(), PolicyFailure>) -> Option<FailureKind> {
        result.err().map(|failure| failure.kind)
    }

    #[test]
    fn a_good_batch_passes() {
        let candidates = [candidate("1x1x1"), candidate("2x2x2")];
        let verdicts = [accept(&["8x8x8", "9x9x9"]), accept(&[])];
        assert_eq!(validate(&candidates, &verdicts), Ok(()));
    }

    #[test]
    fn contract_breaches_are_invalid_output() {
        let candidates = [candidate("1x1x1")];
        let invalid = Some(FailureKind::InvalidOutput);
        assert_eq!(kind(validate(&candidates, &[])), invalid);
        assert_eq!(kind(validate(&candidates, &[accept(&["7x7x7"])])), invalid);
        assert_eq!(
            kind(validate(&candidates, &[accept(&["9x9x9", "9x9x9"])])),
            invalid
        );
        let mut too_much = accept(&["9x9x9"]);
        too_much.amount_msat += 1;
        assert_eq!(kind(validate(&candidates, &[too_much])), invalid);
        let mut nothing = accept(&["9x9x9"]);
        nothing.amount_msat = 0;
        assert_eq!(kind(validate(&candidates, &[nothing.clone()])), invalid);
        nothing.accept = false;
        assert_eq!(validate(&candidates, &[nothing]), Ok(()));
        let mut prolix = accept(&["9x9x9"]);
        prolix.reason = "r".repeat(MAX_REASON_BYTES + 1);
        let failure = validate(&candidates, &[prolix]).unwrap_err();
        assert!(failure.message.contains("1x1x1"), "{failure}");
    }
}
