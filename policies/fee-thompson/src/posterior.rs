//! The Gaussian posterior over a channel's best fee, fitted from its
//! observations as the reference's `GaussianThompsonState` does: a weighted
//! mean and spread of the fees observed, where a window weighs more the
//! longer it was, the more it earned and the more recent it is, blended with
//! the prior N(200, 100) ppm.
//!
//! Invariants:
//! - [`Posterior::fit`] is total: any observations (none, all idle, huge
//!   fees, future timestamps) give a finite mean and a std of at least
//!   [`MIN_STD_PPM`]; nothing panics.
//! - The prior's pull never vanishes: its weight is at least 10 %.
//! - [`Posterior::sample_ppm`] depends on the seed only through one standard
//!   normal draw, so the same posterior and seed give the same sample.
//!
//! Cost: fitting runs over up to 200 observations for every channel every
//! cycle, in a fuel-metered sandbox, so the per-observation loop does the
//! least it can: the time-independent part of a weight is computed once per
//! window ([`window_weight`]), and the decay avoids libm's `exp2` (see
//! [`decay`]).

use crate::state::Observation;
use revops_fee_model::prng::SplitMix64;

/// Prior mean and spread of the best fee (reference defaults).
pub const PRIOR_MEAN_PPM: f64 = 200.0;
pub const PRIOR_STD_PPM: f64 = 100.0;
/// The posterior never becomes more certain than this: fees keep being
/// explored a little however much history agrees.
pub const MIN_STD_PPM: f64 = 10.0;
/// Below this many observations the prior is sampled, widened by
/// [`PRIOR_EXPLORATION_FACTOR`]: two windows say little about a fee curve.
pub const MIN_OBSERVATIONS: usize = 3;
pub const PRIOR_EXPLORATION_FACTOR: f64 = 1.5;
/// An observation's weight halves every week (reference `DECAY_HOURS`).
pub const HALF_LIFE_HOURS: f64 = 168.0;
/// A window this long (or longer) counts fully; shorter ones pro rata.
pub const FULL_WEIGHT_WINDOW_HOURS: f64 = 6.0;
/// Revenue at which a window's base weight saturates: (rate + 1) / 100.
pub const FULL_WEIGHT_RATE_SAT_PER_HOUR: f64 = 100.0;
/// Range of a window's base weight. The floor (reference) lets idle windows
/// still count a little.
pub const MIN_BASE_WEIGHT: f64 = 0.01;
pub const MAX_BASE_WEIGHT: f64 = 1.0;
/// Range of the revenue factor (see [`revenue_factor`]).
const MIN_REVENUE_FACTOR: f64 = 0.2;
const MAX_REVENUE_FACTOR: f64 = 2.0;
/// Range of a window's weight before decay (see [`window_weight`]).
pub const MIN_WINDOW_WEIGHT: f64 = MIN_BASE_WEIGHT * MIN_REVENUE_FACTOR;
pub const MAX_WINDOW_WEIGHT: f64 = MAX_BASE_WEIGHT * MAX_REVENUE_FACTOR;
/// Below this total weight the observations are too thin and decayed to
/// trust, and the posterior is the prior (reference threshold). Idle windows
/// weigh 0.002 each, so a channel that never earned stays on the prior.
const MIN_TOTAL_WEIGHT: f64 = 0.1;
const SECS_PER_HOUR: f64 = 3600.0;
/// Half-lives per second of age.
const HALF_LIVES_PER_SEC: f64 = 1.0 / (HALF_LIFE_HOURS * SECS_PER_HOUR);

/// A Gaussian over the fee, in ppm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Posterior {
    pub mean_ppm: f64,
    /// At least [`MIN_STD_PPM`].
    pub std_ppm: f64,
    /// How many observations it was fitted from (decayed ones included).
    pub observations: usize,

    pub total_weight: f64,
}

impl Posterior {
    pub fn prior() -> Self {
        Posterior {
            mean_ppm: PRIOR_MEAN_PPM,
            std_ppm: PRIOR_STD_PPM,
            observations: 0,
            total_weight: 0.0,
        }
    }

    /// Fits the posterior to `observations` as seen at `now_unix_secs`.
    pub fn fit(observations: impl IntoIterator<Item = Observation>, now_unix_secs: u64) -> Self {
        let mut observations = observations.into_iter().peekable();
        let Some(first) = observations.peek() else {
            return Self::prior();
        };
        // Moments of the fees shifted by the first one: numerically stable
        // in one pass, whatever the fees' magnitude.
        let shift_ppm = f64::from(first.fee_ppm);
        let (mut total_weight, mut sum_dev, mut sum_dev_sq) = (0.0, 0.0, 0.0);
        let mut n = 0;
        for observation in observations {
            let weight = weight(&observation, now_unix_secs);
            let dev_ppm = f64::from(observation.fee_ppm) - shift_ppm;
            total_weight += weight;
            sum_dev += weight * dev_ppm;
            sum_dev_sq += weight * dev_ppm * dev_ppm;
            n += 1;
        }
        if total_weight <= MIN_TOTAL_WEIGHT {
            return Posterior {
                observations: n,
                total_weight,
                ..Self::prior()
            };
        }
        let mean_dev = sum_dev / total_weight;
        let variance = (sum_dev_sq / total_weight - mean_dev * mean_dev).max(MIN_STD_PPM.powi(2));
        let observed_mean_ppm = shift_ppm + mean_dev;
        let observed_std_ppm = variance.sqrt();

        let prior_weight = prior_weight(n);
        Posterior {
            mean_ppm: observed_mean_ppm * (1.0 - prior_weight) + PRIOR_MEAN_PPM * prior_weight,
            std_ppm: (observed_std_ppm * (1.0 - prior_weight) + PRIOR_STD_PPM * prior_weight)
                .max(MIN_STD_PPM),
            observations: n,
            total_weight,
        }
    }

    /// Whether sampling uses the widened prior (fewer than
    /// [`MIN_OBSERVATIONS`] observations).
    pub fn samples_prior(&self) -> bool {
        self.observations < MIN_OBSERVATIONS
    }

    /// The (mean, std) in ppm a sample is drawn from. `explore_modifier`
    /// widens (> 1) or narrows (< 1) the spread.
    pub fn sampling_distribution(&self, explore_modifier: f64) -> (f64, f64) {
        if self.samples_prior() {
            let std_ppm = PRIOR_STD_PPM * PRIOR_EXPLORATION_FACTOR * explore_modifier;
            (PRIOR_MEAN_PPM, std_ppm)
        } else {
            let std_ppm = (self.std_ppm * explore_modifier).max(MIN_STD_PPM);
            (self.mean_ppm, std_ppm)
        }
    }

    /// One draw in ppm (unclamped, may be negative) from the sampling
    /// distribution, using only `seed`.
    pub fn sample_ppm(&self, seed: u64, explore_modifier: f64) -> f64 {
        let (mean_ppm, std_ppm) = self.sampling_distribution(explore_modifier);
        mean_ppm + std_ppm * SplitMix64::new(seed).next_standard_normal()
    }
}

/// The prior's share of the blend: 1 with no observations, ½ at 10, never
/// below 10 %.
pub fn prior_weight(observations: usize) -> f64 {
    (1.0 / (1.0 + observations as f64 / 10.0)).max(0.1)
}

/// An observation's weight at `now`: its window weight × decay.
fn weight(observation: &Observation, now_unix_secs: u64) -> f64 {
    f64::from(observation.weight)
        * decay(now_unix_secs.saturating_sub(observation.observed_at_unix_secs))
}

/// A window's weight before decay: base weight × revenue factor, in
/// [[`MIN_WINDOW_WEIGHT`], [`MAX_WINDOW_WEIGHT`]]. Neither factor changes
/// with time, so the product is computed once, when the window is recorded.
pub fn window_weight(window_secs: u64, rate_sat_per_hour: f64) -> f64 {
    (base_weight(window_secs, rate_sat_per_hour) * revenue_factor(rate_sat_per_hour))
        .clamp(MIN_WINDOW_WEIGHT, MAX_WINDOW_WEIGHT)
}

/// Confidence in one window: longer windows and windows that earned more
/// say more about their fee. In [[`MIN_BASE_WEIGHT`], [`MAX_BASE_WEIGHT`]].
pub fn base_weight(window_secs: u64, rate_sat_per_hour: f64) -> f64 {
    let window_hours = window_secs as f64 / SECS_PER_HOUR;
    let by_length = (window_hours / FULL_WEIGHT_WINDOW_HOURS).min(1.0);
    let by_revenue = ((rate_sat_per_hour + 1.0) / FULL_WEIGHT_RATE_SAT_PER_HOUR).min(1.0);
    (by_length * by_revenue).clamp(MIN_BASE_WEIGHT, MAX_BASE_WEIGHT)
}

/// 0.5^(age / half-life). An observation "from the future" (a clock set
/// back) has age 0: it counts as new rather than more than new.
///
/// Computed as 2^-n · e^y with n the nearest whole number of half-lives and
/// |y| ≤ ln 2 / 2, e^y by its Taylor series to y⁷ (relative error < 1e-8):
/// a weight needs no more, and it costs a third of libm's `exp2` in the
/// sandbox. Pure arithmetic, so native and wasm32 agree bit for bit.
pub fn decay(age_secs: u64) -> f64 {
    let half_lives = age_secs as f64 * HALF_LIVES_PER_SEC;
    // After 1000 half-lives (19 years) the weight is below 1e-301: nothing.
    if half_lives >= 1000.0 {
        return 0.0;
    }
    let whole = half_lives.round_ties_even();
    let y = (whole - half_lives) * std::f64::consts::LN_2;
    let mut e_y = INVERSE_FACTORIALS[7];
    for coefficient in INVERSE_FACTORIALS[..7].iter().rev() {
        e_y = e_y * y + coefficient;
    }
    // 2^-whole, built from its exponent bits: whole ∈ [0, 1000], so the
    // biased exponent 1023 - whole stays normal (and the subtraction never
    // wraps). `as` is exact on these whole numbers.
    let two_to_minus_whole = f64::from_bits(1023u64.wrapping_sub(whole as u64) << 52);
    e_y * two_to_minus_whole
}

/// 1/k! for k = 0..=7, the Taylor coefficients of e^y.
const INVERSE_FACTORIALS: [f64; 8] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
];

/// What pulls the mean towards fees that earned: 0.2 for an idle window,
/// 1 at 40 sat/hour, capped at 2 from 90 sat/hour.
pub fn revenue_factor(rate_sat_per_hour: f64) -> f64 {
    ((rate_sat_per_hour + 10.0) / 50.0).clamp(MIN_REVENUE_FACTOR, MAX_REVENUE_FACTOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    fn observed(fee_ppm: u32, rate_sat_per_hour: f32, hours_ago: u64) -> Observation {
        Observation {
            fee_ppm,
            rate_sat_per_hour,
            weight: window_weight(6 * 3600, f64::from(rate_sat_per_hour)) as f32,
            observed_at_unix_secs: T0 - hours_ago * 3600,
        }
    }

    #[test]
    fn no_or_idle_observations_leave_the_prior() {
        assert_eq!(Posterior::fit([], T0), Posterior::prior());
        let idle: Vec<_> = (0..20).map(|i| observed(500, 0.0, i)).collect();
        let posterior = Posterior::fit(idle, T0);
        assert_eq!(posterior.mean_ppm, PRIOR_MEAN_PPM);
        assert_eq!(posterior.std_ppm, PRIOR_STD_PPM);
        assert_eq!(posterior.observations, 20);
    }

    #[test]
    fn the_mean_blends_the_weighted_fees_with_the_prior() {
        // Ten equal observations at 400 ppm: prior weight ½.
        let at_400: Vec<_> = (0..10).map(|_| observed(400, 100.0, 0)).collect();
        let posterior = Posterior::fit(at_400, T0);
        assert!((posterior.mean_ppm - 300.0).abs() < 1e-9, "{posterior:?}");
        // Observed spread is 0 → raised to 10, blended: 0.5·10 + 0.5·100.
        assert!((posterior.std_ppm - 55.0).abs() < 1e-9, "{posterior:?}");
    }

    #[test]
    fn earning_fees_outweigh_idle_ones() {
        let mut observations: Vec<_> = (0..10).map(|_| observed(100, 0.0, 0)).collect();
        observations.extend((0..10).map(|_| observed(600, 200.0, 0)));
        let posterior = Posterior::fit(observations, T0);
        assert!(posterior.mean_ppm > 450.0, "{posterior:?}");
    }

    #[test]
    fn old_observations_fade_with_a_week_half_life() {
        assert_eq!(decay(0), 1.0);
        assert_eq!(decay(168 * 3600), 0.5);
        let mut observations: Vec<_> = (0..10).map(|_| observed(800, 100.0, 24 * 28)).collect();
        observations.extend((0..10).map(|_| observed(300, 100.0, 0)));
        let posterior = Posterior::fit(observations, T0);
        // Four half-lives: the old fees weigh 1/16 of the new ones.
        let observed_mean = (800.0 / 16.0 + 300.0) / (1.0 / 16.0 + 1.0);
        let expected = observed_mean * (2.0 / 3.0) + PRIOR_MEAN_PPM / 3.0;
        assert!(
            (posterior.mean_ppm - expected).abs() < 1e-6,
            "{posterior:?}"
        );
    }

    #[test]
    fn decay_matches_exp2_closely() {
        // Up to 1000 half-lives (≈ 604.8 M seconds), then nothing.
        for age_secs in (0..604_000_000u64).step_by(1_777_777).chain([1, 59, 3599]) {
            let exact = (-(age_secs as f64) / 3600.0 / HALF_LIFE_HOURS).exp2();
            let fast = decay(age_secs);
            assert!(
                (fast - exact).abs() <= exact * 1e-8,
                "{age_secs}: {fast} vs {exact}"
            );
        }
        assert_eq!(decay(605_000_000), 0.0);
        assert_eq!(decay(u64::MAX), 0.0);
    }

    #[test]
    fn weights_follow_the_reference_formulas() {
        assert_eq!(base_weight(6 * 3600, 99.0), 1.0);
        assert!((base_weight(3 * 3600, 49.0) - 0.25).abs() < 1e-12);
        assert_eq!(base_weight(0, 1000.0), 0.01);
        assert_eq!(base_weight(u64::MAX, f64::MAX), 1.0);
        assert_eq!(revenue_factor(0.0), 0.2);
        assert_eq!(revenue_factor(1e9), 2.0);
        assert_eq!(window_weight(0, 0.0), MIN_WINDOW_WEIGHT);
        assert_eq!(window_weight(6 * 3600, 99.0), MAX_WINDOW_WEIGHT);
        assert!((window_weight(3 * 3600, 49.0) - 0.25 * 1.18).abs() < 1e-12);
        assert_eq!(prior_weight(0), 1.0);
        assert_eq!(prior_weight(10), 0.5);
        assert_eq!(prior_weight(200), 0.1);
    }

    #[test]
    fn few_observations_sample_the_widened_prior() {
        let two: Vec<_> = (0..2).map(|_| observed(900, 500.0, 0)).collect();
        let posterior = Posterior::fit(two, T0);
        assert!(posterior.samples_prior());
        assert_eq!(posterior.sampling_distribution(1.0), (200.0, 150.0));
    }

    #[test]
    fn samples_are_finite_for_extreme_fees() {
        let extreme: Vec<_> = (0..200)
            .map(|i| observed(if i % 2 == 0 { 0 } else { u32::MAX }, f32::MAX, 0))
            .collect();
        let posterior = Posterior::fit(extreme, T0 + u64::from(u32::MAX));
        assert!(posterior.mean_ppm.is_finite() && posterior.std_ppm.is_finite());
        for seed in 0..100 {
            assert!(posterior.sample_ppm(seed, 1.0).is_finite());
        }
    }
}
