//! What the engine reports about itself in `revenue-status`.

use revops_store::PolicyFailureRow;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize)]
pub struct CycleSummary {
    pub started_at: u64,
    pub duration_ms: u64,
    pub channels: usize,
    pub changed: usize,
    pub skipped: usize,
    pub failed: usize,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EngineStatus {
    pub last_fee_cycle: Option<CycleSummary>,
    pub fee_cycles_run: u64,
    pub policy_failures_total: u64,
    pub policy_failures_by_kind: BTreeMap<String, u64>,
    pub last_policy_failure: Option<PolicyFailureRow>,
}
