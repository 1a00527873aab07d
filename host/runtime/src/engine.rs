//! The process's policy runtime: one wasmtime `Engine`, its epoch ticker and
//! the linker that provides the `host` import.
//!
//! Invariants (DESIGN §6):
//! - Create one [`PolicyRuntime`] per process and share it (`Arc`); it owns
//!   the only `Engine`, so every loaded policy is compiled for and runs on it.
//! - The engine consumes fuel (the deterministic budget) and checks epochs
//!   (the wall-clock backstop). The epoch advances every [`EPOCH_TICK_MS`]
//!   on a ticker thread that stops when the runtime is dropped.
//! - The linker defines exactly the `revops:policy/host` interface: anything
//!   else a component imports fails to link, and is refused even earlier by
//!   the import check in `load`. A second linker (`wasi_shim`) adds the
//!   deterministic WASI shim's interfaces; only operator policies that
//!   import WASI are linked against it (`Imports`).
//! - The API is synchronous and may block for up to `wall_clock_ms`; async
//!   callers use `spawn_blocking`.

use std::num::NonZeroUsize;
use std::sync::{PoisonError, RwLock, mpsc};
use std::thread;
use std::time::Duration;

use crate::cache::CodeCache;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine};

use crate::bindings::v0_1::{AllRoles, Role};
use crate::call::PolicyStore;
use crate::host_log::HostLog;
use crate::limits::{Limits, RoleLimits};
use crate::stats::StatsBook;
use crate::wasi_shim::WasiShim;

/// How often the epoch advances; a call's wall-clock deadline is a whole
/// number of these ticks.
pub const EPOCH_TICK_MS: u64 = 10;

/// Wasm frames kept in a trap's backtrace.
const BACKTRACE_FRAMES: usize = 16;

/// The runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot create the wasmtime engine: {0}")]
    Engine(String),
    #[error("cannot link the host interface: {0}")]
    Linker(String),
    #[error("cannot start the epoch ticker thread: {0}")]
    Ticker(#[source] std::io::Error),
    #[error("cannot open the compiled policy cache: {0}")]
    CodeCache(#[source] std::io::Error),
    #[error("cannot set up the WASI shim: {0}")]
    WasiShim(String),
}

/// Loads policies and calls them under [`Limits`]. See the module docs for
/// the invariants.
pub struct PolicyRuntime {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<PolicyStore>,
    /// The linker (and runtime) for operator policies on the WASI shim.
    pub(crate) wasi: WasiShim,
    /// Per-role limits; read at the start of every call, so a change applies
    /// to the next call and never to one in flight.
    limits: RwLock<RoleLimits>,
    pub(crate) code_cache: Option<CodeCache>,
    /// Per-policy call statistics (`stats`).
    pub(crate) stats: StatsBook,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for PolicyRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyRuntime")
            .field("limits", &self.role_limits())
            .finish_non_exhaustive()
    }
}

impl PolicyRuntime {
    /// Builds the engine, the linker and the epoch ticker; every role starts
    /// with `limits` (see [`PolicyRuntime::set_limits`]).
    pub fn new(limits: Limits) -> Result<PolicyRuntime, RuntimeError> {
        let engine =
            Engine::new(&engine_config()).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        AllRoles::add_to_linker::<PolicyStore, HasSelf<HostLog>>(&mut linker, |store| {
            &mut store.log
        })
        .map_err(|e| RuntimeError::Linker(format!("{e:#}")))?;
        let wasi = WasiShim::new(&engine)?;
        let ticker = EpochTicker::start(engine.clone()).map_err(RuntimeError::Ticker)?;
        Ok(PolicyRuntime {
            engine,
            linker,
            wasi,
            limits: RwLock::new(RoleLimits::uniform(limits)),
            code_cache: None,
            stats: StatsBook::default(),
            _ticker: ticker,
        })
    }

    /// Keep compiled policies in `dir` (a directory this host owns) so a
    /// policy seen before loads without compiling. See `cache` for what is
    /// trusted and why.
    pub fn set_code_cache(&mut self, dir: &std::path::Path) -> Result<(), RuntimeError> {
        self.code_cache = Some(CodeCache::open(dir).map_err(RuntimeError::CodeCache)?);
        Ok(())
    }

    /// The limits calls for `role` run under now.
    pub fn limits(&self, role: Role) -> Limits {
        self.role_limits().for_role(role)
    }

    /// Every role's limits.
    pub fn role_limits(&self) -> RoleLimits {
        // A poisoned lock still holds a whole `RoleLimits` (it is `Copy` and
        // replaced in one assignment), so its value is safe to use.
        *self.limits.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces every role's limits; calls already running keep the limits
    /// they started with.
    pub fn set_role_limits(&self, limits: RoleLimits) {
        *self.limits.write().unwrap_or_else(PoisonError::into_inner) = limits;
    }

    /// Replaces the limits of one role (see [`Self::set_role_limits`]).
    pub fn set_limits(&self, role: Role, limits: Limits) {
        let mut all = self.limits.write().unwrap_or_else(PoisonError::into_inner);
        *all.for_role_mut(role) = limits;
    }
}

/// The epoch deadline, in ticks beyond the current epoch, for a call
/// allowed `wall_clock_ms`. One extra tick because the next tick may land
/// immediately after the deadline is set.
pub(crate) fn epoch_deadline_ticks(limits: &Limits) -> u64 {
    limits
        .wall_clock_ms
        .div_ceil(EPOCH_TICK_MS)
        .saturating_add(1)
}

fn engine_config() -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        // A few wasm frames are enough to name the guest function that
        // trapped (see `failure`); deeper traces cost time on every trap.
        .wasm_backtrace_max_frames(NonZeroUsize::new(BACKTRACE_FRAMES));
    config
}

/// A thread that advances the engine's epoch every [`EPOCH_TICK_MS`] until
/// dropped. Dropping the sender wakes the thread at once (`Disconnected`).
struct EpochTicker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("revops-epoch".into())
            .spawn(move || {
                let tick = Duration::from_millis(EPOCH_TICK_MS);
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // The thread only loops and increments; a join error would mean it
            // panicked, which leaves nothing to clean up.
            let _ = thread.join();
        }
    }
}
