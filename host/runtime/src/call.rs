//! Calling a loaded policy: one fresh `Store` per batch.
//!
//! Invariants (DESIGN §6, §9):
//! - A new store per call: a trap poisons an instance for good, and a fresh
//!   store also means fresh memory, fresh fuel and a fresh log budget.
//! - Fuel is set *before* instantiation (instantiation burns fuel), the epoch
//!   deadline before anything runs, and the memory limiter is installed
//!   before the first memory exists.
//! - A decision batch is returned only if it keeps the contract: one decision
//!   per input, in order, echoing `short-channel-id`, state within
//!   `max_state_bytes`, a `step` of 1–64 chars. An over-long `reason` is
//!   truncated (it is prose), not refused.

use wasmtime::Store;

use wasmtime::component::InstancePre;

use crate::bindings::v0_1::{ChannelFeeInput, FeeDecision, PolicyMetadata, Role, metadata};
use crate::engine::{PolicyRuntime, epoch_deadline_ticks};
use crate::failure::{FailureKind, PolicyFailure, StoreEvidence, classify};
use crate::host_log::{HostLog, truncate_on_char_boundary};
use crate::limits::{Limits, PolicyLimiter};
use crate::load::LoadedPolicy;
use crate::wasi_shim::{BatchClock, WasiState};

/// Longest `step`, in chars.
pub const MAX_STEP_CHARS: usize = 64;
/// Longest `reason` kept, in bytes; longer ones are cut on a char boundary.
pub const MAX_REASON_BYTES: usize = 1024;
/// Longest guest error message kept, in bytes.
pub const MAX_GUEST_ERROR_BYTES: usize = 1024;

/// A successful fee batch.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeBatch {
    /// One per input, same order, `short_channel_id` echoed.
    pub decisions: Vec<FeeDecision>,
    /// Fuel spent on instantiation and the call.
    pub fuel_used: u64,
    /// Log lines the policy emitted beyond the per-call cap.
    pub logs_dropped: u32,
}

/// The data of every policy store.
pub(crate) struct PolicyStore {
    pub(crate) limiter: PolicyLimiter,
    pub(crate) log: HostLog,
    /// The WASI shim's state, for a policy that uses it (`wasi_shim`).
    pub(crate) wasi: Option<WasiState>,
}

/// A store prepared for one call, plus what is needed to explain a failure.
pub(crate) struct CallStore {
    pub(crate) store: Store<PolicyStore>,
    evidence: StoreEvidence,
}

impl CallStore {
    /// The failure for `err`, using what the store observed.
    pub(crate) fn fail(&mut self, err: &wasmtime::Error) -> PolicyFailure {
        self.evidence.denied_memory_bytes = self.store.data().limiter.denied_memory_bytes;
        classify(err, &self.evidence)
    }

    /// Fuel spent so far.
    pub(crate) fn fuel_used(&self) -> u64 {
        let left = self.store.get_fuel().unwrap_or(0);
        self.evidence.fuel_budget.saturating_sub(left)
    }

    /// Ends the call's logging (reporting dropped lines once).
    pub(crate) fn finish_log(&mut self) -> u32 {
        self.store.data_mut().log.finish()
    }

    /// The guest's answer, or the failure: its own `err` is a guest error
    /// (message cut to [`MAX_GUEST_ERROR_BYTES`]); anything wasmtime raised
    /// (trap, fuel, epoch, memory) is classified from what the store saw.
    pub(crate) fn settle<T>(
        &mut self,
        result: wasmtime::Result<Result<T, String>>,
    ) -> Result<T, PolicyFailure> {
        match result {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(message)) => Err(PolicyFailure::new(
                FailureKind::GuestError,
                truncate_on_char_boundary(&message, MAX_GUEST_ERROR_BYTES),
            )),
            Err(err) => Err(self.fail(&err)),
        }
    }
}

/// Bytes any call may hand over whatever its size: metadata, a log line, a
/// Python runtime's stdout write (64 KiB at most).
const TRANSFER_BASE_BYTES: usize = 1024 * 1024;
/// Bytes per batch item (channel or candidate) on top: a legitimate fee
/// decision is at most ≈ 5.5 KiB (4096 state + 1024 kept of the reason +
/// step and id); a verdict lists a few dozen source ids at most.
const TRANSFER_BYTES_PER_ITEM: usize = 64 * 1024;

/// The transfer cap of a call over `items` channels or candidates.
pub(crate) fn transfer_cap(items: usize) -> usize {
    TRANSFER_BASE_BYTES.saturating_add(TRANSFER_BYTES_PER_ITEM.saturating_mul(items))
}

impl PolicyRuntime {
    /// A fresh store for a call under `limits` with `fuel_budget` fuel,
    /// tagged `tag` in the log.
    /// `transfer_cap_bytes` bounds what the guest may hand over in one
    /// transfer (its answer, or one host call's arguments), so the host never
    /// copies out more than a legitimate answer could need.
    pub(crate) fn call_store(
        &self,
        tag: &str,
        limits: &Limits,
        fuel_budget: u64,
        transfer_cap_bytes: usize,
    ) -> CallStore {
        let data = PolicyStore {
            limiter: PolicyLimiter::new(limits),
            log: HostLog::new(tag, limits),
            wasi: None,
        };
        let mut store = Store::new(&self.engine, data);
        store.limiter(|data| &mut data.limiter);
        // Cannot fail: fuel consumption is enabled on the engine.
        let _ = store.set_fuel(fuel_budget);
        store.set_epoch_deadline(epoch_deadline_ticks(limits));
        store.epoch_deadline_trap();
        store.set_hostcall_fuel(transfer_cap_bytes);
        CallStore {
            store,
            evidence: StoreEvidence {
                denied_memory_bytes: None,
                memory_cap_bytes: limits.memory_bytes,
                fuel_budget,
                wall_clock_ms: limits.wall_clock_ms,
                transfer_cap_bytes,
            },
        }
    }

    /// Calls `metadata` (used once, at load) under the batch-base limits.
    pub(crate) fn call_metadata(
        &self,
        pre: &InstancePre<PolicyStore>,
        indices: &metadata::GuestIndices,
        tag: &str,
        uses_wasi_shim: bool,
    ) -> Result<PolicyMetadata, PolicyFailure> {
        let limits = self.limits(Role::FeeStrategy);
        let mut call = self.call_store(tag, &limits, limits.fuel_for_batch(0), transfer_cap(0));
        let wasi = uses_wasi_shim.then(BatchClock::default);
        let result = self.run_guest(&mut call, wasi, |store| {
            let instance = pre.instantiate(&mut *store)?;
            indices.load(&mut *store, &instance)?.call_metadata(store)
        });
        call.finish_log();
        result.map_err(|err| call.fail(&err))
    }

    /// Decides fees for a batch of channels in a fresh instance of `policy`.
    /// Blocks for at most the wall-clock limit; call from `spawn_blocking`.
    /// A policy without the fee-strategy role fails with
    /// [`FailureKind::MissingRole`] before anything runs.
    /// Every call, whatever its outcome, is counted in
    /// [`PolicyRuntime::stats`].
    pub fn decide_fees(
        &self,
        policy: &LoadedPolicy,
        inputs: &[ChannelFeeInput],
    ) -> Result<FeeBatch, PolicyFailure> {
        let result = self.run_decide_fees(policy, inputs);
        self.recorded(policy, result, |batch| batch.fuel_used)
    }

    /// [`Self::decide_fees`] without recording the call in the statistics.
    pub(crate) fn run_decide_fees(
        &self,
        policy: &LoadedPolicy,
        inputs: &[ChannelFeeInput],
    ) -> Result<FeeBatch, PolicyFailure> {
        let indices = policy
            .fee_strategy()
            .ok_or_else(|| missing_role(policy, Role::FeeStrategy))?;
        let limits = self.limits(Role::FeeStrategy);
        let mut call = self.call_store(
            policy.tag(),
            &limits,
            limits.fuel_for_batch(inputs.len()),
            transfer_cap(inputs.len()),
        );
        let wasi = policy
            .uses_wasi_shim()
            .then(|| BatchClock::of_fee_inputs(inputs));
        let result = self.run_guest(&mut call, wasi, |store| {
            let instance = policy.pre().instantiate(&mut *store)?;
            indices
                .load(&mut *store, &instance)?
                .call_decide_fees(store, inputs)
        });
        let logs_dropped = call.finish_log();
        let fuel_used = call.fuel_used();
        let decisions = validate(inputs, call.settle(result)?, limits.max_state_bytes)?;
        Ok(FeeBatch {
            decisions,
            fuel_used,
            logs_dropped,
        })
    }
}

/// The failure for calling `role` on a policy that does not implement it.
pub(crate) fn missing_role(policy: &LoadedPolicy, role: Role) -> PolicyFailure {
    let has: Vec<&str> = policy.roles().iter().map(|r| r.as_str()).collect();
    PolicyFailure::new(
        FailureKind::MissingRole,
        format!(
            "policy {} does not implement the {} role (it implements: {})",
            policy.tag(),
            role.as_str(),
            has.join(", ")
        ),
    )
}

/// Checks a batch against the contract (see module docs); truncates reasons.
fn validate(
    inputs: &[ChannelFeeInput],
    mut decisions: Vec<FeeDecision>,
    max_state_bytes: usize,
) -> Result<Vec<FeeDecision>, PolicyFailure> {
    let invalid = |message: String| PolicyFailure::new(FailureKind::InvalidOutput, message);
    if decisions.len() != inputs.len() {
        return Err(invalid(format!(
            "policy returned {} decisions for {} channels",
            decisions.len(),
            inputs.len()
        )));
    }
    for (index, (input, decision)) in inputs.iter().zip(decisions.iter_mut()).enumerate() {
        let scid = &input.short_channel_id;
        if decision.short_channel_id != *scid {
            return Err(invalid(format!(
                "decision #{index} is for channel `{}` but input #{index} is channel {scid}",
                truncate_on_char_boundary(&decision.short_channel_id, 64)
            )));
        }
        if let Some(state) = &decision.state
            && state.len() > max_state_bytes
        {
            return Err(invalid(format!(
                "channel {scid}: state is {} bytes; the limit is {max_state_bytes} bytes",
                state.len()
            )));
        }
        let step_chars = decision.step.chars().count();
        if step_chars == 0 || step_chars > MAX_STEP_CHARS {
            return Err(invalid(format!(
                "channel {scid}: step must be 1 to {MAX_STEP_CHARS} characters, got {step_chars}"
            )));
        }
        let kept = truncate_on_char_boundary(&decision.reason, MAX_REASON_BYTES).len();
        decision.reason.truncate(kept);
    }
    Ok(decisions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::v0_1::{FeeBounds, FeeGuidance, FeerateInfo, FlowState};

    fn input(scid: &str) -> ChannelFeeInput {
        ChannelFeeInput {
            short_channel_id: scid.to_owned(),
            peer_id: "02".repeat(33),
            now: 1_700_000_000,
            seed: 7,
            capacity_msat: 1_000_000_000,
            local_msat: 500_000_000,
            fee_ppm: 100,
            fee_base_msat: 1000,
            htlcs_in_flight: 0,
            max_htlcs: 30,
            fees_earned_msat: 0,
            forwarded_out_msat: 0,
            window_secs: 0,
            flow_state: FlowState::Unknown,
            bounds: FeeBounds {
                floor_ppm: 10,
                ceiling_ppm: 5000,
            },
            guidance: FeeGuidance::neutral(FeeBounds {
                floor_ppm: 10,
                ceiling_ppm: 5000,
            }),
            feerates: FeerateInfo {
                current_perkw: 1000,
                average_24h_perkw: 1000,
            },
            state: None,
        }
    }

    fn decision(scid: &str) -> FeeDecision {
        FeeDecision {
            short_channel_id: scid.to_owned(),
            fee_ppm: 100,
            step: "hold".to_owned(),
            reason: "é".repeat(1000),
            state: Some(vec![0; 16]),
        }
    }

    fn kind_of(result: Result<Vec<FeeDecision>, PolicyFailure>) -> Option<FailureKind> {
        result.err().map(|failure| failure.kind)
    }

    #[test]
    fn a_good_batch_passes_with_reasons_truncated() {
        let inputs = [input("1x1x1"), input("2x2x2")];
        let out = validate(&inputs, vec![decision("1x1x1"), decision("2x2x2")], 4096).unwrap();
        assert!(out.iter().all(|d| d.reason.len() <= MAX_REASON_BYTES));
        assert!(out.iter().all(|d| d.reason.chars().all(|c| c == 'é')));
    }

    #[test]
    fn contract_breaches_are_invalid_output() {
        let inputs = [input("1x1x1"), input("2x2x2")];
        let invalid = Some(FailureKind::InvalidOutput);
        assert_eq!(
            kind_of(validate(&inputs, vec![decision("1x1x1")], 4096)),
            invalid
        );
        let swapped = vec![decision("2x2x2"), decision("1x1x1")];
        assert_eq!(kind_of(validate(&inputs, swapped, 4096)), invalid);
        let big_state = vec![decision("1x1x1"), decision("2x2x2")];
        assert_eq!(kind_of(validate(&inputs, big_state, 8)), invalid);
        let mut no_step = vec![decision("1x1x1"), decision("2x2x2")];
        no_step[1].step.clear();
        let failure = validate(&inputs, no_step, 4096).unwrap_err();
        assert!(failure.message.contains("2x2x2"), "{failure}");
    }
}
