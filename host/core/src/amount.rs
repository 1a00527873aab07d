//! Integer amounts. Every operation that could overflow is checked or saturating:
//! money arithmetic must never wrap silently.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in millisatoshi.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Msat(pub u64);

/// An amount in satoshi.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Sat(pub u64);

impl Msat {
    pub const ZERO: Msat = Msat(0);

    pub const fn msat(self) -> u64 {
        self.0
    }

    pub fn checked_add(self, other: Msat) -> Option<Msat> {
        self.0.checked_add(other.0).map(Msat)
    }

    pub fn checked_sub(self, other: Msat) -> Option<Msat> {
        self.0.checked_sub(other.0).map(Msat)
    }

    pub fn saturating_add(self, other: Msat) -> Msat {
        Msat(self.0.saturating_add(other.0))
    }

    pub fn saturating_sub(self, other: Msat) -> Msat {
        Msat(self.0.saturating_sub(other.0))
    }

    /// Whole satoshi, rounded down (what lightningd shows as `_sat`).
    pub const fn to_sat_floor(self) -> Sat {
        Sat(self.0 / 1000)
    }

    /// The fee a channel charges to forward `self` at `base_msat` + `fee_ppm`,
    /// rounded down as lightningd does. `None` on overflow.
    pub fn forwarding_fee(self, base_msat: u32, fee_ppm: u32) -> Option<Msat> {
        let proportional = (self.0 as u128).checked_mul(fee_ppm as u128)? / 1_000_000;
        let total = proportional.checked_add(base_msat as u128)?;
        u64::try_from(total).ok().map(Msat)
    }

    /// `self / whole` as a fraction in [0, 1] (0 when `whole` is zero).
    pub fn ratio_of(self, whole: Msat) -> f64 {
        if whole.0 == 0 {
            0.0
        } else {
            (self.0 as f64 / whole.0 as f64).clamp(0.0, 1.0)
        }
    }
}

impl Sat {
    pub const fn sat(self) -> u64 {
        self.0
    }

    /// `None` when the amount does not fit in millisatoshi.
    pub fn checked_to_msat(self) -> Option<Msat> {
        self.0.checked_mul(1000).map(Msat)
    }
}

impl fmt::Display for Msat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}msat", self.0)
    }
}

impl fmt::Display for Sat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}sat", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarding_fee_rounds_down_like_lightningd() {
        // 1,000,000 msat at 1 msat + 10 ppm = 1 + 10 msat.
        assert_eq!(Msat(1_000_000).forwarding_fee(1, 10), Some(Msat(11)));
        // 999 msat at 10 ppm is below one msat of proportional fee.
        assert_eq!(Msat(999).forwarding_fee(0, 10), Some(Msat(0)));
    }

    #[test]
    fn overflow_is_reported_not_wrapped() {
        assert_eq!(Msat(u64::MAX).checked_add(Msat(1)), None);
        assert_eq!(Msat(1).checked_sub(Msat(2)), None);
        assert_eq!(Sat(u64::MAX).checked_to_msat(), None);
        assert_eq!(Msat(u64::MAX).forwarding_fee(u32::MAX, u32::MAX), None);
    }

    #[test]
    fn ratio_of_empty_whole_is_zero() {
        assert_eq!(Msat(5).ratio_of(Msat(0)), 0.0);
        assert_eq!(Msat(25).ratio_of(Msat(100)), 0.25);
    }
}
