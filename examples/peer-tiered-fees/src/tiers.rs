//! Peer tiers: who pays what, relative to the scarcity price.
//!
//! The operator's own lists win; every other channel is tiered by what it
//! earns (the moving average kept in [`crate::state`]) and by how long it
//! has been idle (the host's `guidance.idle-secs`).

/// Peers whose traffic is worth a premium: e.g. an exchange or a large LSP
/// that routes out through us whatever we charge. Node ids, lower-case hex.
/// Edit for your node (this one is a placeholder).
pub const PREMIUM_PEERS: &[&str] =
    &["02eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"];

/// Peers that get a discount: your own other nodes, friends you rebalance
/// with. Edit for your node (this one is a placeholder).
pub const DISCOUNT_PEERS: &[&str] =
    &["03dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"];

/// Earning at least this (msat per day, moving average) makes an `earner`.
pub const EARNER_MSAT_PER_DAY: f64 = 20_000.0;
/// Earning less than this and idle for [`IDLE_SECS`] makes a channel `idle`.
pub const IDLE_MSAT_PER_DAY: f64 = 200.0;
/// No forward out for this long (3 days) counts as idle.
pub const IDLE_SECS: u64 = 3 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Premium,
    Earner,
    Standard,
    Idle,
    Discount,
}

impl Tier {
    /// The tier of a channel to `peer_id` earning `earned_msat_per_day`,
    /// idle for `idle_secs`.
    pub fn of(peer_id: &str, earned_msat_per_day: f64, idle_secs: u64) -> Tier {
        if PREMIUM_PEERS.contains(&peer_id) {
            Tier::Premium
        } else if DISCOUNT_PEERS.contains(&peer_id) {
            Tier::Discount
        } else if earned_msat_per_day >= EARNER_MSAT_PER_DAY {
            Tier::Earner
        } else if earned_msat_per_day < IDLE_MSAT_PER_DAY && idle_secs >= IDLE_SECS {
            Tier::Idle
        } else {
            Tier::Standard
        }
    }

    /// The tier's price, in percent of the scarcity target.
    pub fn percent(self) -> u64 {
        match self {
            Tier::Premium => 150,
            Tier::Earner => 120,
            Tier::Standard => 100,
            Tier::Idle => 70,
            Tier::Discount => 50,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tier::Premium => "premium",
            Tier::Earner => "earner",
            Tier::Standard => "standard",
            Tier::Idle => "idle",
            Tier::Discount => "discount",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOMEONE: &str = "02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn the_operator_s_lists_win_over_earnings() {
        assert_eq!(Tier::of(PREMIUM_PEERS[0], 0.0, IDLE_SECS), Tier::Premium);
        assert_eq!(Tier::of(DISCOUNT_PEERS[0], 1e9, 0), Tier::Discount);
    }

    #[test]
    fn other_channels_are_tiered_by_what_they_earn_and_idle_time() {
        assert_eq!(Tier::of(SOMEONE, 25_000.0, 0), Tier::Earner);
        assert_eq!(Tier::of(SOMEONE, 5_000.0, 0), Tier::Standard);
        assert_eq!(Tier::of(SOMEONE, 0.0, IDLE_SECS - 1), Tier::Standard);
        assert_eq!(Tier::of(SOMEONE, 0.0, IDLE_SECS), Tier::Idle);
    }
}
