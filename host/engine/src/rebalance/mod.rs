//! Rebalancing: the host's side. A scorer policy proposes; these rules —
//! enforced whatever it says — decide whether anything may start.
//!
//! - [`controls`]: pure capital controls (reserve, budget, slots, cooldown,
//!   backoff, velocity, fee cap).
//! - [`candidates`]: which depleted channels may be refilled, from where.
//! - [`cycle`]: [`RebalanceEngine`] and one rebalance cycle; `monitor`
//!   settles running rebalances.
//! - [`report`]: what a cycle did, for the operator.

pub mod candidates;
pub mod controls;
pub mod cycle;
mod launch;
pub mod manual;
mod monitor;
pub mod report;
pub mod settings;
pub mod shadow;

pub use cycle::RebalanceEngine;
pub use manual::{ManualError, ManualReport, ManualRequest, ManualVerdict};
pub use monitor::ClearedReservations;
pub use report::{
    CandidateDecision, CapitalReport, Decision, ExceptPeersReport, FinishedRebalance,
    RebalanceCycleReport, SkipRule,
};
pub use settings::{DEFAULT_SCORER_POLICY, RebalanceSettings, WalletFunds};
