//! The cl-revenue-ops decision engine.
//!
//! It knows no CLN plugin types: it talks to lightningd through the
//! [`revops_core::Node`] trait, reads time from a [`revops_core::Clock`],
//! asks WASM policies for decisions through `revops-runtime`, and records
//! everything in `revops-store`. The plugin and `simulate` drive the very
//! same engine.
//!
//! Invariants:
//! - A policy proposes; the host's rails ([`rails`]) decide what is sent:
//!   bounds, hysteresis, broadcast rate limit, no-op suppression, dry-run.
//! - A failing policy never changes a fee: its batch keeps every channel's
//!   current fee, and the failure is counted, stored and reported.
//! - Decisions are written before their effect (see `revops-store`).

mod analysis;
mod clboss;
mod cycle;
mod deadband;
mod debug;
mod error;
pub mod flow;
mod guidance;
pub mod health;
mod ingest;
mod inputs;
mod judge;
mod manual;
mod outcome;
mod policy_set;
pub mod quarantine;
pub mod rails;
pub mod rebalance;
mod settings;
pub mod shadow;
mod status;

pub use analysis::FlowReport;
pub use clboss::ClbossStatus;
pub use cycle::{FALLBACK_FEE_POLICY, FeeEngine};
pub use debug::{BoundsExplained, FeeDebug};
pub use error::EngineError;
pub use guidance::GuidanceExplained;
pub use health::{HealthAssessment, HealthSource, HealthTier, LocalHealth};
pub use outcome::{
    ChannelAction, ChannelOutcome, FeeCycleReport, ManualFeeChange, PolicyFailureReport,
};
pub use policy_set::PolicySet;
pub use rebalance::{RebalanceCycleReport, RebalanceEngine, RebalanceSettings, WalletFunds};
pub use settings::FeeSettings;
pub use status::{CycleSummary, EngineStatus};
