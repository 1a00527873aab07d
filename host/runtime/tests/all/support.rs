//! Shared helpers: a runtime, canned inputs and a log capture.

use std::sync::{Mutex, Once, OnceLock};

use revops_runtime::{
    ChannelFeeInput, FeeBounds, FeeGuidance, FeerateInfo, FlowState, Limits, LoadedPolicy,
    PolicyRuntime,
};

pub fn runtime() -> PolicyRuntime {
    runtime_with(Limits::default())
}

pub fn runtime_with(limits: Limits) -> PolicyRuntime {
    init_logger();
    PolicyRuntime::new(limits).expect("runtime starts")
}

/// One runtime with default limits and fee-alpha loaded, shared by the tests
/// that need nothing else (compiling fee-alpha is the slow part of a debug
/// test run).
pub fn shared_fee_alpha() -> &'static (PolicyRuntime, LoadedPolicy) {
    static SHARED: OnceLock<(PolicyRuntime, LoadedPolicy)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = runtime();
        let policy = runtime
            .load(revops_policy_artifacts::FEE_ALPHA)
            .expect("fee-alpha loads");
        (runtime, policy)
    })
}

/// A plausible channel: `n` picks the scid and varies the balance.
pub fn input(n: u32) -> ChannelFeeInput {
    let capacity_msat = 5_000_000_000;
    ChannelFeeInput {
        short_channel_id: format!("800000x{n}x0"),
        peer_id: format!("02{:064x}", n),
        now: 1_700_000_000,
        seed: u64::from(n) * 7919,
        capacity_msat,
        local_msat: capacity_msat / 10 * u64::from(n % 10),
        fee_ppm: 100 + n * 10,
        fee_base_msat: 1000,
        htlcs_in_flight: n % 5,
        max_htlcs: 30,
        fees_earned_msat: u64::from(n) * 1_000,
        forwarded_out_msat: u64::from(n) * 10_000_000,
        window_secs: 1800,
        flow_state: [FlowState::Source, FlowState::Sink, FlowState::Balanced][n as usize % 3],
        bounds: FeeBounds {
            floor_ppm: 10,
            ceiling_ppm: 2500,
        },
        guidance: FeeGuidance::neutral(FeeBounds {
            floor_ppm: 10,
            ceiling_ppm: 2500,
        }),
        feerates: FeerateInfo {
            current_perkw: 2500,
            average_24h_perkw: 2000,
        },
        state: None,
    }
}

pub fn inputs(n: u32) -> Vec<ChannelFeeInput> {
    (1..=n).map(input).collect()
}

/// Every record the `log` crate saw: (target, level, message).
pub static LOGGED: Mutex<Vec<(String, log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    /// Everything but the compiler's own tracing: cranelift and regalloc2
    /// built with debug assertions log every function they compile at trace
    /// level (gigabytes for an 18 MB Python component).
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        let target = metadata.target();
        !(target.starts_with("cranelift")
            || target.starts_with("regalloc2")
            || target.starts_with("wasmtime")
            || target.starts_with("wasmparser"))
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let entry = (
            record.target().to_owned(),
            record.level(),
            record.args().to_string(),
        );
        LOGGED.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
    }

    fn flush(&self) {}
}

fn init_logger() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        log::set_logger(&Capture).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// Captured lines whose message starts with `prefix`.
pub fn logged_with_prefix(prefix: &str) -> Vec<(String, log::Level, String)> {
    LOGGED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(_, _, message)| message.starts_with(prefix))
        .cloned()
        .collect()
}
