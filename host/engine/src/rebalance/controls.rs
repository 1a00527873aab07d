//! Capital controls for rebalancing, enforced by the host whatever a scorer
//! proposes: the wallet reserve, the daily budget, job slots, per-destination
//! cooldown and exponential backoff, the futility breaker, the velocity gate,
//! and a per-rebalance fee cap at what the destination earns.
//!
//! Invariants:
//! - Pure functions of their inputs (time comes in as `now`): the same
//!   inputs give the same verdict, and every refusal names its numbers.
//! - A cap only ever lowers what the scorer asked for.

use revops_core::Msat;
use revops_store::DestinationHistory;
use serde::Serialize;

const HOUR_SECS: u64 = 3_600;
use revops_store::DAY_SECS;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapitalSettings {
    /// Confirmed on-chain plus spendable in channels must stay above this.
    pub min_wallet_reserve_sat: u64,
    pub daily_budget_sat: u64,
    /// When on, the budget grows to this share of the last 24 h's revenue.
    pub proportional_budget: bool,
    pub proportional_budget_pct: f64,
    pub max_concurrent_jobs: u32,
    /// After a success, a destination rests this long.
    pub cooldown_secs: u64,
    /// After a failure: base × 2^min(consecutive failures, 4).
    pub backoff_base_secs: u64,
    /// More failures than this in a row pause the destination.
    pub futility_failures: u32,
    pub futility_pause_secs: u64,
    /// A destination moving less than this share of its capacity a day is
    /// idle and not filled.
    pub min_turnover_per_day: f64,
    /// A running rebalance is given up (and its budget released) after this.
    pub reservation_timeout_secs: u64,
}

impl Default for CapitalSettings {
    fn default() -> Self {
        CapitalSettings {
            min_wallet_reserve_sat: 1_000_000,
            daily_budget_sat: 5_000,
            proportional_budget: true,
            proportional_budget_pct: 0.30,
            max_concurrent_jobs: 5,
            cooldown_secs: DAY_SECS,
            backoff_base_secs: 600,
            futility_failures: 10,
            futility_pause_secs: 48 * HOUR_SECS,
            min_turnover_per_day: 0.01,
            reservation_timeout_secs: 4 * HOUR_SECS,
        }
    }
}

/// Why the host refuses to start a rebalance.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Refusal {
    WalletReserve {
        have_sat: u64,
        reserve_sat: u64,
    },
    Budget {
        committed_msat: Msat,
        max_fee_msat: Msat,
        budget_msat: Msat,
    },
    Slots {
        running: u32,
        max: u32,
    },
    Cooldown {
        until: u64,
    },
    Backoff {
        until: u64,
        consecutive_failures: u32,
    },
    Futility {
        until: u64,
        consecutive_failures: u32,
    },
    Idle {
        turnover_per_day: f64,
        min_turnover_per_day: f64,
    },
}

impl Refusal {
    /// A short key for counting refusals by reason.
    pub fn rule(&self) -> &'static str {
        match self {
            Refusal::WalletReserve { .. } => "wallet_reserve",
            Refusal::Budget { .. } => "budget",
            Refusal::Slots { .. } => "slots",
            Refusal::Cooldown { .. } => "cooldown",
            Refusal::Backoff { .. } => "backoff",
            Refusal::Futility { .. } => "futility",
            Refusal::Idle { .. } => "idle",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::WalletReserve {
                have_sat,
                reserve_sat,
            } => write!(
                f,
                "wallet reserve: {have_sat} sat on-chain and spendable, {reserve_sat} sat must stay"
            ),
            Refusal::Budget {
                committed_msat,
                max_fee_msat,
                budget_msat,
            } => write!(
                f,
                "daily budget: {} sat spent or held + {} sat for this one > {} sat",
                committed_msat.msat() / 1000,
                max_fee_msat.msat() / 1000,
                budget_msat.msat() / 1000
            ),
            Refusal::Slots { running, max } => write!(f, "{running} of {max} job slots in use"),
            Refusal::Cooldown { until } => write!(f, "cooling down after a success until {until}"),
            Refusal::Backoff {
                until,
                consecutive_failures,
            } => write!(
                f,
                "backing off after {consecutive_failures} failure(s) until {until}"
            ),
            Refusal::Futility {
                until,
                consecutive_failures,
            } => write!(
                f,
                "futility breaker: {consecutive_failures} failures in a row, paused until {until}"
            ),
            Refusal::Idle {
                turnover_per_day,
                min_turnover_per_day,
            } => write!(
                f,
                "idle destination: turnover {:.4}/day < {:.4}/day, filling it would earn nothing",
                turnover_per_day, min_turnover_per_day
            ),
        }
    }
}

/// The daily budget: the fixed one, or the revenue share if larger.
pub fn daily_budget_msat(settings: &CapitalSettings, revenue_24h_msat: Msat) -> Msat {
    let fixed_msat = settings.daily_budget_sat.saturating_mul(1000);
    if !settings.proportional_budget {
        return Msat(fixed_msat);
    }
    let share = revenue_24h_msat.msat() as f64 * settings.proportional_budget_pct.clamp(0.0, 1.0);
    Msat(fixed_msat.max(share as u64))
}

pub fn check_wallet_reserve(
    settings: &CapitalSettings,
    confirmed_onchain_sat: u64,
    spendable_msat: Msat,
) -> Result<(), Refusal> {
    let have_sat = confirmed_onchain_sat.saturating_add(spendable_msat.msat() / 1000);
    if have_sat < settings.min_wallet_reserve_sat {
        return Err(Refusal::WalletReserve {
            have_sat,
            reserve_sat: settings.min_wallet_reserve_sat,
        });
    }
    Ok(())
}

pub fn check_slots(settings: &CapitalSettings, running: u32) -> Result<(), Refusal> {
    if running >= settings.max_concurrent_jobs {
        return Err(Refusal::Slots {
            running,
            max: settings.max_concurrent_jobs,
        });
    }
    Ok(())
}

/// Cooldown after a success, the futility pause, then exponential backoff.
pub fn check_destination(
    settings: &CapitalSettings,
    history: DestinationHistory,
    now: u64,
) -> Result<(), Refusal> {
    if let Some(at) = history.last_success_at {
        let until = at.saturating_add(settings.cooldown_secs);
        if now < until {
            return Err(Refusal::Cooldown { until });
        }
    }
    let Some(failed_at) = history.last_failure_at else {
        return Ok(());
    };
    let failures = history.consecutive_failures;
    if failures > settings.futility_failures {
        let until = failed_at.saturating_add(settings.futility_pause_secs);
        if now < until {
            return Err(Refusal::Futility {
                until,
                consecutive_failures: failures,
            });
        }
        return Ok(());
    }
    if failures > 0 {
        let backoff_secs = settings
            .backoff_base_secs
            .saturating_mul(1 << failures.min(4));
        let until = failed_at.saturating_add(backoff_secs);
        if now < until {
            return Err(Refusal::Backoff {
                until,
                consecutive_failures: failures,
            });
        }
    }
    Ok(())
}

/// The velocity gate: filling a channel nobody routes through earns nothing.
pub fn check_velocity(
    settings: &CapitalSettings,
    daily_volume_msat: f64,
    capacity_msat: Msat,
) -> Result<(), Refusal> {
    let turnover_per_day = if capacity_msat.msat() == 0 {
        0.0
    } else {
        daily_volume_msat / capacity_msat.msat() as f64
    };
    if turnover_per_day < settings.min_turnover_per_day {
        return Err(Refusal::Idle {
            turnover_per_day,
            min_turnover_per_day: settings.min_turnover_per_day,
        });
    }
    Ok(())
}

/// A rebalance never pays more per unit than the destination earns per unit.
pub fn cap_max_fee_ppm(proposed_max_ppm: u32, destination_fee_ppm: u32) -> u32 {
    proposed_max_ppm.min(destination_fee_ppm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_grows_with_revenue_only_when_proportional() {
        let mut settings = CapitalSettings::default();
        assert_eq!(
            daily_budget_msat(&settings, Msat(1_000_000)),
            Msat(5_000_000)
        );
        // 30% of 50,000 sat = 15,000 sat.
        assert_eq!(
            daily_budget_msat(&settings, Msat(50_000_000)),
            Msat(15_000_000)
        );
        settings.proportional_budget = false;
        assert_eq!(
            daily_budget_msat(&settings, Msat(50_000_000)),
            Msat(5_000_000)
        );
    }

    #[test]
    fn the_wallet_reserve_counts_onchain_and_spendable() {
        let settings = CapitalSettings::default();
        assert!(check_wallet_reserve(&settings, 600_000, Msat(400_000_000)).is_ok());
        let refused = check_wallet_reserve(&settings, 600_000, Msat(399_999_000)).unwrap_err();
        assert_eq!(refused.rule(), "wallet_reserve");
        assert!(refused.to_string().contains("999999 sat"), "{refused}");
    }

    #[test]
    fn slots_are_limited() {
        let settings = CapitalSettings::default();
        assert!(check_slots(&settings, 4).is_ok());
        assert_eq!(check_slots(&settings, 5).unwrap_err().rule(), "slots");
    }

    #[test]
    fn a_destination_cools_down_backs_off_and_trips_the_breaker() {
        let settings = CapitalSettings::default();
        let success = DestinationHistory {
            last_success_at: Some(1_000),
            ..Default::default()
        };
        assert_eq!(
            check_destination(&settings, success, 1_000 + 3_600)
                .unwrap_err()
                .rule(),
            "cooldown"
        );
        assert!(check_destination(&settings, success, 1_000 + DAY_SECS).is_ok());

        // Three failures: 600 s × 8.
        let failing = DestinationHistory {
            last_success_at: None,
            consecutive_failures: 3,
            last_failure_at: Some(1_000),
        };
        assert_eq!(
            check_destination(&settings, failing, 1_000 + 4_799),
            Err(Refusal::Backoff {
                until: 1_000 + 4_800,
                consecutive_failures: 3
            })
        );
        assert!(check_destination(&settings, failing, 1_000 + 4_800).is_ok());

        // Eleven failures: paused 48 h, then allowed to try again.
        let futile = DestinationHistory {
            consecutive_failures: 11,
            ..failing
        };
        assert_eq!(
            check_destination(&settings, futile, 1_000 + DAY_SECS)
                .unwrap_err()
                .rule(),
            "futility"
        );
        assert!(check_destination(&settings, futile, 1_000 + 2 * DAY_SECS).is_ok());
    }

    #[test]
    fn idle_destinations_are_not_filled() {
        let settings = CapitalSettings::default();
        let capacity = Msat(1_000_000_000);
        assert_eq!(
            check_velocity(&settings, 5_000_000.0, capacity)
                .unwrap_err()
                .rule(),
            "idle"
        );
        assert!(check_velocity(&settings, 20_000_000.0, capacity).is_ok());
    }

    #[test]
    fn the_fee_cap_never_exceeds_what_the_destination_earns() {
        assert_eq!(cap_max_fee_ppm(12_700, 800), 800);
        assert_eq!(cap_max_fee_ppm(300, 800), 300);
    }
}
