//! What the operator sets for the rebalancer, with the reference's defaults.
//!
//! Invariants:
//! - Every amount is in whole satoshi here and converted once, where used.
//! - `target_ratio`, `destination_max_outbound_ratio` and
//!   `source_min_outbound_ratio` are shares of capacity in [0, 1].

use crate::flow::FlowSettings;
use crate::rebalance::controls::CapitalSettings;
use serde::Serialize;

/// The built-in scorer's policy name.
pub const DEFAULT_SCORER_POLICY: &str = "rebalance-ev";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RebalanceSettings {
    pub capital: CapitalSettings,
    /// Log what would start (`dry_run` rows); tell sling nothing that changes it.
    pub dry_run: bool,
    /// Longest circle handed to sling, counted in other nodes.
    pub max_hops: u8,
    /// A destination needing less than this is left alone.
    pub min_amount_sat: u64,
    /// One rebalance never moves more than this.
    pub max_amount_sat: u64,
    /// What the destination peer is assumed to charge for the last hop back to us.
    pub inbound_fee_estimate_ppm: u32,
    /// The least expected profit worth paying for (before the health multiplier).
    pub min_profit_sat: u64,
    /// Operator override of the NNLB budget multiplier (clamped to
    /// [0.5, 2.5]); `None` (the default) uses the health assessment's, made
    /// once per cycle (see [`crate::health`]). `Some(1.0)` turns NNLB off.
    pub health_multiplier_override: Option<f64>,
    /// Share of the full Kelly stake; `None` leaves Kelly sizing off.
    pub kelly_fraction: Option<f64>,
    /// Kelly's success probability is the destination peer's decayed
    /// reputation score; off, every peer counts as unknown (0.5). The
    /// plugin sets it with `FlowSettings::reputation_enabled`.
    pub reputation_enabled: bool,
    /// Name of the scorer policy the plugin loads (the engine is handed it).
    pub scorer_policy: String,
    /// A channel with less than this share on our side is a destination.
    pub destination_max_outbound_ratio: f64,
    /// A channel with more than this share on our side is a source.
    pub source_min_outbound_ratio: f64,
    /// Where sling idles a job: our share of the destination's capacity.
    pub target_ratio: f64,
    /// HTLC slot use above which a channel is congested (never a destination).
    pub congestion_threshold: f64,
}

impl Default for RebalanceSettings {
    fn default() -> Self {
        RebalanceSettings {
            capital: CapitalSettings::default(),
            dry_run: false,
            max_hops: 5,
            min_amount_sat: 50_000,
            max_amount_sat: 5_000_000,
            inbound_fee_estimate_ppm: 500,
            min_profit_sat: 10,
            health_multiplier_override: None,
            kelly_fraction: None,
            reputation_enabled: true,
            scorer_policy: DEFAULT_SCORER_POLICY.to_string(),
            destination_max_outbound_ratio: 0.2,
            source_min_outbound_ratio: 0.8,
            target_ratio: 0.5,
            congestion_threshold: FlowSettings::default().congestion_threshold,
        }
    }
}

/// On-chain funds, read by the caller: `Node` has no `listfunds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct WalletFunds {
    /// Confirmed on-chain outputs we can spend.
    pub confirmed_onchain_sat: u64,
}
