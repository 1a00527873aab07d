//! The fee engine's settings, swapped atomically when the operator changes
//! them (`revenue-config`, `setconfig`); a cycle reads one consistent copy.

use crate::rails::Bounds;
use revops_store::PeerPolicy;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeeSettings {
    pub fee_interval_secs: u64,
    pub min_fee_ppm: u32,
    pub max_fee_ppm: u32,
    pub dry_run: bool,
    /// Changes smaller than this fraction of the current fee are not sent.
    pub hysteresis_fraction: f64,
    /// Fee updates sent per channel per rolling 24 h, at most.
    pub max_broadcasts_per_day: u32,
    /// The fee policy for peers whose strategy is `dynamic`.
    pub default_fee_policy: String,
    /// The fee charged to fleet members (peers whose strategy is `hive`).
    pub hive_fee_ppm: u32,
}

impl Default for FeeSettings {
    fn default() -> Self {
        FeeSettings {
            fee_interval_secs: 1800,
            min_fee_ppm: 10,
            max_fee_ppm: 5000,
            dry_run: false,
            hysteresis_fraction: 0.05,
            max_broadcasts_per_day: 4,
            default_fee_policy: "fee-alpha".to_string(),
            hive_fee_ppm: 0,
        }
    }
}

impl FeeSettings {
    /// The fee range for a channel to `peer`: its own bounds where it has
    /// them, the node's otherwise.
    pub fn bounds_for(&self, peer: Option<&PeerPolicy>) -> Bounds {
        Bounds::resolve(
            self.min_fee_ppm,
            self.max_fee_ppm,
            peer.and_then(|p| p.min_fee_ppm),
            peer.and_then(|p| p.max_fee_ppm),
        )
    }
}
