//! Resource limits for policy calls, and the per-store memory limiter.
//!
//! Invariants:
//! - Every call into a guest (including `metadata` at load time) runs under a
//!   fuel budget of `fuel_per_batch_base + fuel_per_channel × channels` (fee
//!   batches) or `fuel_per_batch_base + fuel_per_candidate × candidates`
//!   (rebalance scoring), set before instantiation, and an epoch deadline of
//!   `wall_clock_ms`.
//! - Linear memory is capped at `memory_bytes` per store; a denied grow traps
//!   (`trap_on_grow_failure`) instead of letting the guest limp on, and the
//!   denial is recorded so the failure is classified as out-of-memory even
//!   though wasmtime reports it as a plain error, not a `Trap`.

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

use crate::bindings::v0_1::Role;

/// Limits applied to every policy call. Cheap to copy; fixed for the lifetime
/// of a [`crate::PolicyRuntime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel granted to every batch regardless of its size: covers
    /// instantiation, the call overhead and whatever one-off work a policy
    /// does per batch (e.g. touching its working memory).
    pub fuel_per_batch_base: u64,
    /// Additional fuel granted per channel in a fee batch.
    pub fuel_per_channel: u64,
    /// Additional fuel granted per candidate in a rebalance-scoring batch.
    pub fuel_per_candidate: u64,
    /// Cap on each store's linear memories, in bytes (summed per memory grow).
    pub memory_bytes: usize,
    /// Wall-clock backstop per batch, in milliseconds (epoch interruption).
    /// Fuel is the deterministic budget; this only catches what fuel cannot
    /// (e.g. time spent in host calls or a misconfigured fuel budget).
    pub wall_clock_ms: u64,
    /// Log lines a single call may emit; the rest are counted and dropped.
    pub max_log_lines_per_call: usize,
    /// Longest log line kept, in bytes; longer lines are truncated on a char
    /// boundary.
    pub max_log_line_bytes: usize,
    /// Largest per-channel state a decision may return, in bytes.
    pub max_state_bytes: usize,
}

impl Limits {
    /// The fuel budget for a batch of `channels` channels (saturating, so a
    /// silly configuration cannot overflow into a tiny budget).
    pub fn fuel_for_batch(&self, channels: usize) -> u64 {
        let channels = u64::try_from(channels).unwrap_or(u64::MAX);
        self.fuel_per_batch_base
            .saturating_add(self.fuel_per_channel.saturating_mul(channels))
    }

    /// The fuel budget for scoring `candidates` rebalance candidates
    /// (saturating, like [`Limits::fuel_for_batch`]).
    pub fn fuel_for_scoring(&self, candidates: usize) -> u64 {
        let candidates = u64::try_from(candidates).unwrap_or(u64::MAX);
        self.fuel_per_batch_base
            .saturating_add(self.fuel_per_candidate.saturating_mul(candidates))
    }
}

impl Default for Limits {
    /// Defaults with ample headroom over what the built-in `fee-alpha`
    /// needs. Measured (release wasm, wasmtime 48, 2,000-channel batch):
    /// ≈ 6.4k fuel per channel on a first cycle and ≈ 21k per channel in
    /// steady state (state decoded and re-encoded); ≈ 1.8k fuel to
    /// instantiate and call with an empty batch; peak linear memory
    /// ≈ 2.3 MiB (1.06 MiB of it the initial stack and data); ≈ 3.9 ms per
    /// batch in a release host (≈ 26 ms in a debug one). A Rust guest that
    /// allocates and fills memory burns ≈ 1 fuel per byte; guest code runs
    /// at roughly 10–25 G fuel/s on the 2-core dev machine.
    fn default() -> Self {
        Self {
            // 2 fuel per byte of the memory cap: a policy may touch all the
            // memory it is allowed once per batch (≈ 1 fuel/byte), so the
            // memory cap, not fuel, binds a memory-hungry policy. A runaway
            // loop burns this in ≈ 5–15 ms.
            fuel_per_batch_base: 128_000_000,
            // ≈ 12× fee-alpha's steady-state need. 2,000 channels get
            // 628 M fuel in all: well under 0.1 s of runaway guest.
            fuel_per_channel: 250_000,
            // The built-in `rebalance-ev` burns ≈ 27k fuel per candidate
            // with three sources (mostly lowering strings and writing the
            // reason), ≈ 1.6k for an empty batch. 1 M is ≈ 36× that: room
            // for dozens of sources per candidate, and 500 candidates still
            // get well under 0.1 s of runaway guest.
            fuel_per_candidate: 1_000_000,
            // ≈ 28× fee-alpha's peak for 2,000 channels.
            memory_bytes: 64 * 1024 * 1024,
            // ≈ 500× fee-alpha's 2,000-channel batch (release host); fuel
            // stops runaway guests long before, so this only catches what
            // fuel cannot see (time in the host, a misconfigured budget).
            wall_clock_ms: 2_000,
            // fee-alpha logs one line per batch.
            max_log_lines_per_call: 64,
            max_log_line_bytes: 1024,
            // Matches the WIT contract ("at most 4096 bytes"); fee-alpha
            // keeps ≈ 54 bytes per channel.
            max_state_bytes: 4096,
        }
    }
}

/// The limits of each role's calls: an operator may give a rebalance scorer
/// more memory than fee strategies, say. `metadata` (at load, before the
/// roles are known) runs under the fee-strategy limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoleLimits {
    pub fee_strategy: Limits,
    pub rebalance_scorer: Limits,
}

impl RoleLimits {
    /// The same limits for every role.
    pub fn uniform(limits: Limits) -> Self {
        Self {
            fee_strategy: limits,
            rebalance_scorer: limits,
        }
    }

    /// The limits of `role`. The roles the host does not call yet (health
    /// scorer, splice guard) get the fee-strategy limits.
    pub fn for_role(&self, role: Role) -> Limits {
        match role {
            Role::RebalanceScorer => self.rebalance_scorer,
            Role::FeeStrategy | Role::HealthScorer | Role::SpliceGuard => self.fee_strategy,
        }
    }

    pub(crate) fn for_role_mut(&mut self, role: Role) -> &mut Limits {
        match role {
            Role::RebalanceScorer => &mut self.rebalance_scorer,
            Role::FeeStrategy | Role::HealthScorer | Role::SpliceGuard => &mut self.fee_strategy,
        }
    }
}

/// Instances, tables and memories a policy component may create per store.
/// A `wit-component`-made guest has a handful of core instances (the main
/// module, shims and fixups) and one memory; the caps stay small so a
/// malicious component cannot fan out.
/// A Python policy built with componentize-py 0.25 instantiates 14 core
/// modules (CPython, libc, the WASI adapter, shims and fixups): 32 leaves
/// room for a newer toolchain or an extension module.
const MAX_INSTANCES: usize = 32;
const MAX_TABLES: usize = 8;
const MAX_MEMORIES: usize = 2;
/// Table elements per table; Rust guests use a few hundred at most.
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// `StoreLimits` plus a record of whether it refused a memory grow, so that a
/// grow failure (reported as a plain error, not a `wasmtime::Trap`) can be
/// classified as out-of-memory reliably.
#[derive(Debug)]
pub(crate) struct PolicyLimiter {
    inner: StoreLimits,
    /// The size (bytes) of the first memory grow the limiter refused.
    pub(crate) denied_memory_bytes: Option<usize>,
}

impl PolicyLimiter {
    pub(crate) fn new(limits: &Limits) -> Self {
        let inner = StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes)
            .table_elements(MAX_TABLE_ELEMENTS)
            .instances(MAX_INSTANCES)
            .tables(MAX_TABLES)
            .memories(MAX_MEMORIES)
            .trap_on_grow_failure(true)
            .build();
        Self {
            inner,
            denied_memory_bytes: None,
        }
    }

    fn note_denied(&mut self, desired_bytes: usize) {
        self.denied_memory_bytes.get_or_insert(desired_bytes);
    }
}

impl ResourceLimiter for PolicyLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let verdict = self.inner.memory_growing(current, desired, maximum);
        if !matches!(verdict, Ok(true)) {
            self.note_denied(desired);
        }
        verdict
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // The limiter allowed it but the allocation itself failed (e.g. the
        // OS refused): still the guest asking for more memory than it gets.
        self.note_denied(usize::MAX);
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}
