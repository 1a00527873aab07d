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
