//! On-chain feerate: an hourly mean-reverting random walk in log space, with
//! occasional spikes that multiply it ×4–8 and decay over hours.
//!
//! Invariants:
//! - The walk moves only on hourly steps driven by the network's random stream;
//!   spike decay is a pure function of time, so reading the feerate never draws.
//! - The reported feerate is never below `floor_perkw` (lightningd's 253 perkw floor).

use crate::sampling::Draws;

/// What an operator could tune about the on-chain fee market.
#[derive(Debug, Clone, PartialEq)]
pub struct FeerateParams {
    /// The level the walk reverts to (opening feerate, sat per 1000 weight).
    pub base_perkw: u32,
    /// Standard deviation of the hourly log-step (0.05 ≈ ±5 % per hour).
    pub volatility_per_hour: f64,
    /// Fraction of the log-distance to `base_perkw` closed each hour.
    pub mean_reversion_per_hour: f64,
    /// Expected spikes per simulated day.
    pub spikes_per_day: f64,
    /// A spike multiplies the feerate by a factor drawn uniformly from this range.
    pub spike_multiplier_min: f64,
    pub spike_multiplier_max: f64,
    /// Hours for a spike's excess over the walk to halve.
    pub spike_half_life_hours: f64,
    pub floor_perkw: u32,
}

impl Default for FeerateParams {
    fn default() -> Self {
        FeerateParams {
            base_perkw: 2_500,
            volatility_per_hour: 0.05,
            mean_reversion_per_hour: 0.05,
            spikes_per_day: 1.0 / 7.0,
            spike_multiplier_min: 4.0,
            spike_multiplier_max: 8.0,
            spike_half_life_hours: 3.0,
            floor_perkw: 253,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Spike {
    multiplier: f64,
    started_ms: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct FeerateModel {
    params: FeerateParams,
    walk_perkw: f64,
    spike: Option<Spike>,
}

const MS_PER_HOUR: f64 = 3_600_000.0;

impl FeerateModel {
    pub(crate) fn new(params: FeerateParams) -> Self {
        FeerateModel {
            walk_perkw: params.base_perkw.max(params.floor_perkw) as f64,
            params,
            spike: None,
        }
    }

    /// One hourly step of the walk, plus the chance of a new spike.
    pub(crate) fn step_hour(&mut self, draws: &mut Draws, now_ms: u64) {
        let base = (self.params.base_perkw.max(1) as f64).ln();
        let current = self.walk_perkw.ln();
        let shock = draws.standard_normal() * self.params.volatility_per_hour;
        let next = current + self.params.mean_reversion_per_hour * (base - current) + shock;
        self.walk_perkw = next.exp().max(self.params.floor_perkw as f64);

        let spike_chance = self.params.spikes_per_day / 24.0;
        let roll = draws.uniform();
        let size = draws.uniform();
        if roll < spike_chance {
            let span = self.params.spike_multiplier_max - self.params.spike_multiplier_min;
            self.start_spike(self.params.spike_multiplier_min + span * size, now_ms);
        }
        if self.spike_factor(now_ms) < 1.01 {
            self.spike = None;
        }
    }

    /// Starts a spike now (replacing any spike still decaying).
    pub(crate) fn start_spike(&mut self, multiplier: f64, now_ms: u64) {
        self.spike = Some(Spike {
            multiplier: multiplier.max(1.0),
            started_ms: now_ms,
        });
    }

    fn spike_factor(&self, now_ms: u64) -> f64 {
        match self.spike {
            None => 1.0,
            Some(s) => {
                let age_hours = now_ms.saturating_sub(s.started_ms) as f64 / MS_PER_HOUR;
                let excess = (s.multiplier - 1.0)
                    * 0.5f64.powf(age_hours / self.params.spike_half_life_hours.max(1e-6));
                1.0 + excess
            }
        }
    }

    /// The opening feerate now, sat per 1000 weight.
    pub(crate) fn perkw(&self, now_ms: u64) -> u32 {
        let value = self.walk_perkw * self.spike_factor(now_ms);
        (value.round().min(u32::MAX as f64) as u32).max(self.params.floor_perkw)
    }

    pub(crate) fn floor_perkw(&self) -> u32 {
        self.params.floor_perkw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spike_multiplies_then_decays() {
        let mut m = FeerateModel::new(FeerateParams::default());
        let before = m.perkw(0);
        m.start_spike(6.0, 0);
        assert!(m.perkw(0) >= before * 5);
        let later = m.perkw(24 * 3_600_000);
        assert!(later < before * 2, "{later} vs {before}");
    }

    #[test]
    fn walk_respects_floor() {
        let mut m = FeerateModel::new(FeerateParams {
            base_perkw: 253,
            volatility_per_hour: 1.0,
            ..FeerateParams::default()
        });
        let mut d = Draws::new(3);
        for h in 0..500 {
            m.step_hour(&mut d, h * 3_600_000);
            assert!(m.perkw(h * 3_600_000) >= 253);
        }
    }
}
