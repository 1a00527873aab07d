//! The plugin's lightningd options (names as in the Python cl-revenue-ops).

use cln_plugin::options::{
    ConfigOption, DefaultBooleanConfigOption, DefaultIntegerConfigOption,
    DefaultStringConfigOption, StringConfigOption,
};

pub fn db_path() -> StringConfigOption<'static> {
    ConfigOption::new_str_no_default(
        "revenue-ops-db-path",
        "SQLite database path (default: <lightning-dir>/revenue_ops.db)",
    )
}
pub fn policy_dir() -> StringConfigOption<'static> {
    ConfigOption::new_str_no_default(
        "revenue-ops-policy-dir",
        "Directory of .wasm policies loaded at start (default: <lightning-dir>/revenue-ops/policies)",
    )
}
pub fn fee_interval() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-fee-interval",
        1800,
        "Seconds between fee cycles (±20% jitter)",
    )
    .dynamic()
}
pub fn min_fee_ppm() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-min-fee-ppm",
        10,
        "Lowest fee the plugin sets, in ppm",
    )
    .dynamic()
}
pub fn max_fee_ppm() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-max-fee-ppm",
        5000,
        "Highest fee the plugin sets, in ppm",
    )
    .dynamic()
}
pub fn dry_run() -> DefaultBooleanConfigOption<'static> {
    ConfigOption::new_bool_with_default(
        "revenue-ops-dry-run",
        false,
        "Decide and record, but never change a fee",
    )
    .dynamic()
}
pub fn rpc_timeout() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-rpc-timeout-seconds",
        15,
        "Timeout for each call to lightningd",
    )
    .dynamic()
}
pub fn rpc_breaker() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-rpc-circuit-breaker-seconds",
        60,
        "How long a failing group of lightningd calls is paused",
    )
    .dynamic()
}
pub fn default_fee_policy() -> DefaultStringConfigOption<'static> {
    ConfigOption::new_str_with_default(
        "revenue-ops-default-fee-policy",
        "fee-alpha",
        "Name of the fee policy for peers whose strategy is dynamic",
    )
    .dynamic()
}

pub fn flow_interval() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-flow-interval",
        3600,
        "Seconds between flow analyses (±20% jitter)",
    )
    .dynamic()
}

pub fn flow_window_days() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-flow-window-days",
        7,
        "Days of forwards flow analysis looks at; older forwards are aggregated daily and pruned",
    )
    .dynamic()
}

pub fn htlc_congestion_threshold() -> DefaultStringConfigOption<'static> {
    ConfigOption::new_str_with_default(
        "revenue-ops-htlc-congestion-threshold",
        "0.8",
        "Share of HTLC slots in use above which a channel is congested",
    )
    .dynamic()
}

pub fn flow_source_threshold() -> DefaultStringConfigOption<'static> {
    ConfigOption::new_str_with_default(
        "revenue-ops-flow-source-threshold",
        "0.02",
        "Net daily outflow / capacity at or above which a channel is a source",
    )
    .dynamic()
}

pub fn flow_sink_threshold() -> DefaultStringConfigOption<'static> {
    ConfigOption::new_str_with_default(
        "revenue-ops-flow-sink-threshold",
        "-0.02",
        "Net daily flow / capacity at or below which a channel is a sink",
    )
    .dynamic()
}

pub fn hive_fee_ppm() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-hive-fee-ppm",
        0,
        "Fee charged on channels to fleet members (peers whose strategy is hive)",
    )
    .dynamic()
}

pub fn rebalance_interval() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-rebalance-interval",
        900,
        "Seconds between rebalance checks (±20% jitter)",
    )
    .dynamic()
}

pub fn min_wallet_reserve() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-min-wallet-reserve",
        1_000_000,
        "Sats (confirmed on-chain + spendable in channels) below which no rebalance starts",
    )
    .dynamic()
}

pub fn daily_budget_sats() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-daily-budget-sats",
        5_000,
        "Most rebalance fees spent or held in 24 h (the floor when the proportional budget is on)",
    )
    .dynamic()
}

pub fn proportional_budget() -> DefaultBooleanConfigOption<'static> {
    ConfigOption::new_bool_with_default(
        "revenue-ops-proportional-budget",
        true,
        "Let the daily rebalance budget grow to a share of the last 24 h's revenue",
    )
    .dynamic()
}

pub fn proportional_budget_pct() -> DefaultStringConfigOption<'static> {
    ConfigOption::new_str_with_default(
        "revenue-ops-proportional-budget-pct",
        "0.30",
        "Share of the last 24 h's routing revenue the daily rebalance budget may grow to",
    )
    .dynamic()
}

pub fn max_concurrent_jobs() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-max-concurrent-jobs",
        5,
        "Most rebalances running at once",
    )
    .dynamic()
}

pub fn reservation_timeout_hours() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-reservation-timeout-hours",
        4,
        "A rebalance not done after this many hours is given up and its budget released",
    )
    .dynamic()
}

pub fn rebalance_min_profit() -> DefaultIntegerConfigOption<'static> {
    ConfigOption::new_i64_with_default(
        "revenue-ops-rebalance-min-profit",
        10,
        "Least expected profit, in sats, worth paying a rebalance for",
    )
    .dynamic()
}

pub fn enable_kelly() -> DefaultBooleanConfigOption<'static> {
    ConfigOption::new_bool_with_default(
        "revenue-ops-enable-kelly",
        false,
        "Size rebalances with the Kelly criterion on the destination peer's reputation",
    )
    .dynamic()
}

pub fn kelly_fraction() -> DefaultStringConfigOption<'static> {
    ConfigOption::new_str_with_default(
        "revenue-ops-kelly-fraction",
        "0.5",
        "Share of the full Kelly stake used when Kelly sizing is on",
    )
    .dynamic()
}

pub fn enable_reputation() -> DefaultBooleanConfigOption<'static> {
    ConfigOption::new_bool_with_default(
        "revenue-ops-enable-reputation",
        true,
        "Keep a decayed success/failure reputation per peer and give it to the policies",
    )
    .dynamic()
}

pub fn reputation_decay() -> DefaultStringConfigOption<'static> {
    ConfigOption::new_str_with_default(
        "revenue-ops-reputation-decay",
        "0.98",
        "Factor peer reputation is multiplied by at every flow analysis",
    )
    .dynamic()
}

pub fn rebalance_scorer() -> DefaultStringConfigOption<'static> {
    ConfigOption::new_str_with_default(
        "revenue-ops-rebalance-scorer",
        "rebalance-ev",
        "Name of the policy (with the rebalance-scorer role) that scores rebalances",
    )
    .dynamic()
}

/// The per-role sandbox limits: fuel (deterministic work budget), memory
/// cap and wall-clock backstop of each policy call. Defaults are the
/// runtime's `Limits::default()` (sized with wide headroom over the
/// built-ins); the `revenue-config` keys carry the accepted ranges.
pub fn policy_limits() -> Vec<DefaultIntegerConfigOption<'static>> {
    let fee = revops_runtime::Limits::default();
    let int = |name, default: u64, description| {
        ConfigOption::new_i64_with_default(name, default as i64, description).dynamic()
    };
    vec![
        int(
            "revenue-ops-fee-policy-fuel-base",
            fee.fuel_per_batch_base,
            "Fuel every fee-strategy call gets whatever its size",
        ),
        int(
            "revenue-ops-fee-policy-fuel-per-channel",
            fee.fuel_per_channel,
            "Additional fuel a fee-strategy call gets per channel",
        ),
        int(
            "revenue-ops-fee-policy-memory-mib",
            (fee.memory_bytes / MIB) as u64,
            "Memory cap of a fee-strategy call, in MiB",
        ),
        int(
            "revenue-ops-fee-policy-wall-clock-ms",
            fee.wall_clock_ms,
            "Wall-clock backstop of a fee-strategy call, in milliseconds",
        ),
        int(
            "revenue-ops-scorer-fuel-base",
            fee.fuel_per_batch_base,
            "Fuel every rebalance-scorer call gets whatever its size",
        ),
        int(
            "revenue-ops-scorer-fuel-per-candidate",
            fee.fuel_per_candidate,
            "Additional fuel a rebalance-scorer call gets per candidate",
        ),
        int(
            "revenue-ops-scorer-memory-mib",
            (fee.memory_bytes / MIB) as u64,
            "Memory cap of a rebalance-scorer call, in MiB",
        ),
        int(
            "revenue-ops-scorer-wall-clock-ms",
            fee.wall_clock_ms,
            "Wall-clock backstop of a rebalance-scorer call, in milliseconds",
        ),
    ]
}

pub fn policy_quarantine() -> Vec<DefaultIntegerConfigOption<'static>> {
    let defaults = revops_engine::quarantine::QuarantineSettings::default();
    vec![
        ConfigOption::new_i64_with_default(
            "revenue-ops-policy-quarantine-failures",
            i64::from(defaults.failure_streak),
            "Failed calls in a row that quarantine a policy (its peers fall back to the built-in)",
        )
        .dynamic(),
        ConfigOption::new_i64_with_default(
            "revenue-ops-policy-quarantine-secs",
            defaults.backoff_secs as i64,
            "First quarantine's length in seconds; it doubles at each further one, at most a day",
        )
        .dynamic(),
        ConfigOption::new_i64_with_default(
            "revenue-ops-policy-release-secs",
            defaults.healthy_secs as i64,
            "Failure-free seconds after a retry that release a policy from quarantine",
        )
        .dynamic(),
    ]
}

/// Bytes in a MiB (the memory options' unit).
pub const MIB: usize = 1024 * 1024;
