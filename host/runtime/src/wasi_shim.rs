//! The deterministic, capability-free WASI shim for operator policies whose
//! language runtime needs WASI (Python built with componentize-py imports 25
//! WASI 0.2 interfaces even when the policy uses none of them).
//!
//! What a guest on the shim sees (DESIGN §2 principle 1, §5):
//! - Clocks: `wasi:clocks/wall-clock` is the batch's `now` (the largest
//!   `now` of its inputs; 0 during `metadata`), frozen for the call.
//!   `wasi:clocks/monotonic-clock` starts at the same instant and advances
//!   only deterministically: [`MONOTONIC_TICK_NS`] per read, and a sleep
//!   (`subscribe-duration` / `subscribe-instant`) is ready at once and moves
//!   the clock to its deadline. Nothing ever waits on real time.
//! - Randomness: `wasi:random/{random,insecure,insecure-seed}` come from a
//!   PRNG seeded by the batch's seeds (all of them, in order), so the same
//!   batch sees the same bytes. Not secret: policies are replayable.
//! - No capabilities: no preopened directories (the filesystem is empty),
//!   no environment variables, no arguments, stdin at end of file, no
//!   network (TCP, UDP and name lookup denied, every address refused).
//!   `wasi:cli/exit` ends the call as a trap.
//! - stdout and stderr are split into lines and written to the policy's
//!   host log (info and warn) under the same per-call caps as `host.log`
//!   (`host_log`). Both report being a terminal, so Python line-buffers
//!   `print()` instead of holding output that would never be flushed.
//!
//! Invariants:
//! - Only operator policies may use the shim ([`crate::Imports`]); built-in
//!   and Rust policies import nothing but `revops:policy/host`. A component
//!   that does not import WASI never gets a shim even when allowed.
//! - The shim links exactly [`SHIM_INTERFACES`] (WASI 0.2.x); any other
//!   WASI interface (wasi:http, a 0.3 interface, …) is refused at load by
//!   name, like any forbidden import.
//! - Every pollable the shim can hand out is ready at once (clock
//!   subscriptions, always-writable log streams, a closed stdin; sockets and
//!   files cannot be opened), so no WASI call blocks the host thread.
//! - wasmtime-wasi drives its synchronous calls through tokio and panics if
//!   that happens on a tokio worker thread. A call on the shim therefore runs
//!   on its own short-lived thread inside the shim's private current-thread
//!   runtime (no worker threads, no I/O or timer driver), whatever thread
//!   the caller is on.

use std::pin::Pin;
use std::task::{Context, Poll};

use rand::SeedableRng;
use rand::rngs::StdRng;
use wasmtime::component::{HasData, HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream, WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{HostWallClock, WasiClocks, WasiClocksView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random, sockets, sync};
use wasmtime_wasi::p2::{DynPollable, OutputStream, Pollable, StreamResult, subscribe};
use wasmtime_wasi::random::{WasiRandom, WasiRandomView};
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::v0_1::{AllRoles, ChannelFeeInput, RebalanceCandidate};
use crate::call::{CallStore, PolicyStore};
use crate::engine::RuntimeError;
use crate::host_log::{GuestStream, HostLog};

/// The WASI interfaces the shim provides, `(package, interface)`, any
/// `0.2.x` version.
pub(crate) const SHIM_INTERFACES: &[(&str, &str)] = &[
    ("wasi:io", "error"),
    ("wasi:io", "poll"),
    ("wasi:io", "streams"),
    ("wasi:clocks", "wall-clock"),
    ("wasi:clocks", "monotonic-clock"),
    ("wasi:random", "random"),
    ("wasi:random", "insecure"),
    ("wasi:random", "insecure-seed"),
    ("wasi:cli", "environment"),
    ("wasi:cli", "exit"),
    ("wasi:cli", "stdin"),
    ("wasi:cli", "stdout"),
    ("wasi:cli", "stderr"),
    ("wasi:cli", "terminal-input"),
    ("wasi:cli", "terminal-output"),
    ("wasi:cli", "terminal-stdin"),
    ("wasi:cli", "terminal-stdout"),
    ("wasi:cli", "terminal-stderr"),
    ("wasi:filesystem", "types"),
    ("wasi:filesystem", "preopens"),
    ("wasi:sockets", "network"),
    ("wasi:sockets", "instance-network"),
    ("wasi:sockets", "tcp"),
    ("wasi:sockets", "tcp-create-socket"),
    ("wasi:sockets", "udp"),
    ("wasi:sockets", "udp-create-socket"),
    ("wasi:sockets", "ip-name-lookup"),
];

/// Whether `package`/`interface`@`version` is one the shim provides.
pub(crate) fn provides(package: &str, interface: &str, version: Option<&str>) -> bool {
    let on_track = version.is_some_and(|v| {
        let mut parts = v.split(['.', '-', '+']);
        parts.next() == Some("0") && parts.next() == Some("2")
    });
    on_track && SHIM_INTERFACES.contains(&(package, interface))
}

/// Nanoseconds the monotonic clock advances per read (also its reported
/// resolution): a guest that busy-waits on it sees time pass, burning fuel.
pub const MONOTONIC_TICK_NS: u64 = 1_000;

/// Largest `get-random-bytes` answer, in bytes (wasmtime-wasi's default is
/// 64 MiB of host memory per call).
const MAX_RANDOM_BYTES: u64 = 1024 * 1024;

/// Bytes a guest may write to stdout/stderr per `write` call.
const WRITE_PERMIT: usize = 64 * 1024;

/// The process's shim: the linker with the host interface and the WASI
/// interfaces, and the tokio runtime its calls run in.
pub(crate) struct WasiShim {
    pub(crate) linker: Linker<PolicyStore>,
    /// Always `Some` until dropped (see `Drop`).
    tokio: Option<tokio::runtime::Runtime>,
}

impl Drop for WasiShim {
    /// A tokio runtime dropped inside another runtime's async context panics
    /// (the engine's tests and the plugin drop the policy runtime there):
    /// shut it down without blocking instead.
    fn drop(&mut self) {
        if let Some(tokio) = self.tokio.take() {
            tokio.shutdown_background();
        }
    }
}

impl WasiShim {
    pub(crate) fn new(engine: &Engine) -> Result<Self, RuntimeError> {
        let linker = shim_linker(engine).map_err(|e| RuntimeError::WasiShim(format!("{e:#}")))?;
        let tokio = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| RuntimeError::WasiShim(format!("cannot start its tokio runtime: {e}")))?;
        Ok(Self {
            linker,
            tokio: Some(tokio),
        })
    }

    /// Runs `f` (instantiation and the call of a guest on the shim) on its
    /// own thread inside the shim's tokio runtime; see the module invariants.
    fn run_isolated<T: Send>(
        &self,
        f: impl FnOnce() -> wasmtime::Result<T> + Send,
    ) -> wasmtime::Result<T> {
        std::thread::scope(|scope| {
            let thread = std::thread::Builder::new()
                .name("revops-wasi-call".into())
                .spawn_scoped(scope, || {
                    let _runtime = self.tokio.as_ref().map(|tokio| tokio.enter());
                    f()
                })
                .map_err(|e| {
                    wasmtime::Error::msg(format!("cannot start the policy thread: {e}"))
                })?;
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

/// What the shim derives from a batch: its clock and its entropy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BatchClock {
    /// Unix seconds: the largest `now` in the batch.
    pub(crate) now: u64,
    /// Every seed of the batch, mixed in order.
    pub(crate) seed: u64,
}

impl BatchClock {
    fn of(items: impl Iterator<Item = (u64, u64)>) -> Self {
        let mut clock = BatchClock {
            now: 0,
            seed: 0x05ee_d0fb_a7c4,
        };
        for (now, seed) in items {
            clock.now = clock.now.max(now);
            clock.seed = splitmix64(clock.seed ^ seed);
        }
        clock
    }

    pub(crate) fn of_fee_inputs(inputs: &[ChannelFeeInput]) -> Self {
        Self::of(inputs.iter().map(|i| (i.now, i.seed)))
    }

    pub(crate) fn of_candidates(candidates: &[RebalanceCandidate]) -> Self {
        Self::of(candidates.iter().map(|c| (c.now, c.seed)))
    }
}

/// SplitMix64's finaliser: a cheap, well-mixing step for seed derivation.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The per-store WASI state of a call on the shim.
pub(crate) struct WasiState {
    ctx: WasiCtx,
    table: ResourceTable,
    monotonic_ns: u64,
}

impl WasiState {
    fn new(clock: BatchClock, log: &HostLog) -> Self {
        let seed = clock.seed;
        let insecure_seed =
            (u128::from(splitmix64(seed ^ 2)) << 64) | u128::from(splitmix64(seed ^ 3));
        let ctx = WasiCtxBuilder::new()
            .wall_clock(FrozenWallClock {
                unix_secs: clock.now,
            })
            .secure_random(StdRng::seed_from_u64(splitmix64(seed)))
            .insecure_random(StdRng::seed_from_u64(splitmix64(seed ^ 1)))
            .insecure_random_seed(insecure_seed)
            .max_random_size(MAX_RANDOM_BYTES)
            .stdout(LogSink {
                log: log.clone(),
                stream: GuestStream::Stdout,
            })
            .stderr(LogSink {
                log: log.clone(),
                stream: GuestStream::Stderr,
            })
            // Explicit, though they are the builder's defaults too: stdin at
            // end of file, no environment, arguments or preopens, no network.
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            ctx,
            table: ResourceTable::new(),
            monotonic_ns: clock.now.saturating_mul(1_000_000_000),
        }
    }
}

impl WasiView for PolicyStore {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        // Only stores of policies on the shim are linked against WASI, and
        // `enable_wasi` gives those their state before anything runs; an
        // inert state (clock 0, output to the log) keeps this total anyway.
        let state = self
            .wasi
            .get_or_insert_with(|| WasiState::new(BatchClock::default(), &self.log));
        WasiCtxView {
            ctx: &mut state.ctx,
            table: &mut state.table,
        }
    }
}

impl CallStore {
    /// Gives this call's store the shim's state for `clock`.
    fn enable_wasi(&mut self, clock: BatchClock) {
        let data = self.store.data_mut();
        data.wasi = Some(WasiState::new(clock, &data.log));
    }
}

impl crate::engine::PolicyRuntime {
    /// Runs `f` on `call`: directly for a policy without the shim
    /// (`wasi: None`), else after giving the store the shim's state for the
    /// batch, on the shim's own thread.
    pub(crate) fn run_guest<T: Send>(
        &self,
        call: &mut CallStore,
        wasi: Option<BatchClock>,
        f: impl FnOnce(&mut Store<PolicyStore>) -> wasmtime::Result<T> + Send,
    ) -> wasmtime::Result<T> {
        match wasi {
            None => f(&mut call.store),
            Some(clock) => {
                call.enable_wasi(clock);
                let store = &mut call.store;
                self.wasi.run_isolated(|| f(store))
            }
        }
    }
}

/// `wasi:clocks/wall-clock`: the batch's `now`, frozen.
struct FrozenWallClock {
    unix_secs: u64,
}

impl HostWallClock for FrozenWallClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    fn now(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.unix_secs)
    }
}

/// `wasi:clocks/monotonic-clock` on the store's virtual clock.
struct ShimMonotonicClock;

impl HasData for ShimMonotonicClock {
    type Data<'a> = MonotonicView<'a>;
}

struct MonotonicView<'a> {
    now_ns: &'a mut u64,
    table: &'a mut ResourceTable,
}

fn monotonic_view(store: &mut PolicyStore) -> MonotonicView<'_> {
    // Materialises the (inert) state if needed, as `WasiView::ctx` does.
    let _ = WasiView::ctx(store);
    let state = store.wasi.as_mut().expect("WasiView::ctx just created it");
    MonotonicView {
        now_ns: &mut state.monotonic_ns,
        table: &mut state.table,
    }
}

impl MonotonicView<'_> {
    /// A pollable that is ready at once: the clock has already moved.
    fn ready(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        let ready = self.table.push(Ready)?;
        subscribe(self.table, ready)
    }
}

impl clocks::monotonic_clock::Host for MonotonicView<'_> {
    fn now(&mut self) -> wasmtime::Result<u64> {
        *self.now_ns = self.now_ns.saturating_add(MONOTONIC_TICK_NS);
        Ok(*self.now_ns)
    }

    fn resolution(&mut self) -> wasmtime::Result<u64> {
        Ok(MONOTONIC_TICK_NS)
    }

    fn subscribe_instant(&mut self, when: u64) -> wasmtime::Result<Resource<DynPollable>> {
        *self.now_ns = (*self.now_ns).max(when);
        self.ready()
    }

    fn subscribe_duration(&mut self, duration: u64) -> wasmtime::Result<Resource<DynPollable>> {
        *self.now_ns = self.now_ns.saturating_add(duration);
        self.ready()
    }
}

/// A pollable that is always ready.
struct Ready;

#[wasmtime_wasi::async_trait]
impl Pollable for Ready {
    async fn ready(&mut self) {}
}

/// stdout or stderr, into the policy's host log.
struct LogSink {
    log: HostLog,
    stream: GuestStream,
}

impl IsTerminal for LogSink {
    /// A terminal, so that Python line-buffers `print()` (a block-buffered
    /// stdout is flushed only at interpreter exit, which never comes).
    fn is_terminal(&self) -> bool {
        true
    }
}

impl StdoutStream for LogSink {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LogWriter {
            log: self.log.clone(),
            stream: self.stream,
        })
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(LogWriter {
            log: self.log.clone(),
            stream: self.stream,
        })
    }
}

/// One handle on stdout or stderr; every handle writes to the same lines.
struct LogWriter {
    log: HostLog,
    stream: GuestStream,
}

#[wasmtime_wasi::async_trait]
impl Pollable for LogWriter {
    async fn ready(&mut self) {}
}

#[wasmtime_wasi::async_trait]
impl OutputStream for LogWriter {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.log.write_output(self.stream, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

impl tokio::io::AsyncWrite for LogWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.log.write_output(self.stream, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// `wasi:io` on the store's resource table.
struct ShimIo;

impl HasData for ShimIo {
    type Data<'a> = &'a mut ResourceTable;
}

fn table(store: &mut PolicyStore) -> &mut ResourceTable {
    WasiView::ctx(store).table
}

/// The host interface plus exactly [`SHIM_INTERFACES`], synchronous.
fn shim_linker(engine: &Engine) -> wasmtime::Result<Linker<PolicyStore>> {
    type T = PolicyStore;
    let mut linker = Linker::new(engine);
    let l = &mut linker;
    AllRoles::add_to_linker::<T, HasSelf<HostLog>>(l, |store| &mut store.log)?;

    sync::io::error::add_to_linker::<T, ShimIo>(l, table)?;
    sync::io::poll::add_to_linker::<T, ShimIo>(l, table)?;
    sync::io::streams::add_to_linker::<T, ShimIo>(l, table)?;

    clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)?;
    clocks::monotonic_clock::add_to_linker::<T, ShimMonotonicClock>(l, monotonic_view)?;

    random::random::add_to_linker::<T, WasiRandom>(l, T::random)?;
    random::insecure::add_to_linker::<T, WasiRandom>(l, T::random)?;
    random::insecure_seed::add_to_linker::<T, WasiRandom>(l, T::random)?;

    cli::environment::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::exit::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli)?;
    cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli)?;

    filesystem::preopens::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)?;
    sync::filesystem::types::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)?;

    let network_options = sockets::network::LinkOptions::default();
    sockets::network::add_to_linker::<T, WasiSockets>(l, &network_options, T::sockets)?;
    sockets::instance_network::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    sockets::tcp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    sockets::ip_name_lookup::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    sync::sockets::tcp::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    sync::sockets::udp::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    sync::sockets::udp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)?;
    Ok(linker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_wasi_0_2_shim_interfaces_are_provided() {
        assert!(provides("wasi:io", "poll", Some("0.2.9")));
        assert!(provides("wasi:cli", "stdout", Some("0.2.0")));
        assert!(provides("wasi:sockets", "tcp", Some("0.2.12")));
        assert!(!provides("wasi:io", "poll", Some("0.3.0")));
        assert!(!provides("wasi:io", "poll", None));
        assert!(!provides("wasi:http", "types", Some("0.2.9")));
        assert!(!provides("wasi:clocks", "timezone", Some("0.2.9")));
    }

    #[test]
    fn batch_clocks_are_deterministic_and_order_sensitive() {
        let a = BatchClock::of([(10, 1), (30, 2), (20, 3)].into_iter());
        assert_eq!(a.now, 30);
        assert_eq!(a, BatchClock::of([(10, 1), (30, 2), (20, 3)].into_iter()));
        assert_ne!(
            a.seed,
            BatchClock::of([(10, 2), (30, 1), (20, 3)].into_iter()).seed
        );
        assert_eq!(BatchClock::of(std::iter::empty()).now, 0);
    }
}
