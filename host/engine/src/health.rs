//! NNLB health: one score for how well the node does, its tier, and the
//! budget multiplier the tier gives the rebalancer ("no node left behind": a
//! struggling node accepts thinner rebalance margins, a thriving one asks
//! for more). The multiplier divides the scorer's profit threshold.
//!
//! The score is the reference hive's (`health_aggregator.py`), 0–100:
//!
//! ```text
//! score = profitable_share × 40 + (1 − underwater_share) × 30
//!       + liquidity_score / 100 × 20 + trend_bonus
//! liquidity_score = 100 − mean(|local_share − 0.5| × 100)      (50..=100)
//! trend_bonus     = improving 10 / stable 5 / declining 0
//! ```
//!
//! Tiers: score ≤ 30 struggling (×2.0), ≤ 50 vulnerable (×1.5), ≤ 70 stable
//! (×1.0), above thriving (×0.75).
//!
//! Channel classes, over [`ROI_WINDOW_SECS`] (the fee guidance's 30-day
//! profit window and its inputs: fees earned out through the channel, and
//! the fees of successful rebalances into it):
//!
//! ```text
//! ROI = (fees earned − rebalance cost) / cost basis
//! cost basis = rebalance cost + 30/365 × (open + close chain cost)
//! ```
//!
//! The chain cost is the guidance's own estimate (140 vB to open, 200 vB to
//! close, at the 24 h average feerate, clamped), amortised over a year as
//! the economic floor does: the node keeps no record of what each open
//! really cost. The open cost is sunk, so it is only the basis, not a loss:
//! an idle channel that paid for no rebalancing is break-even (ROI 0) —
//! and counted as stagnant. ROI > 10 % is profitable, < −10 % underwater;
//! stagnant means no forward out for [`STAGNANT_AFTER_SECS`] (counted from
//! when the plugin first saw a channel that never forwarded).
//!
//! Revenue trend: the node's fees over the last 7 days against the 7 before,
//! above +5 % improving, below −5 % declining (nothing before and something
//! now is improving).
//!
//! Invariants:
//! - Every multiplier handed on is finite and within
//!   [[`MIN_MULTIPLIER`], [`MAX_MULTIPLIER`]], whatever a [`HealthSource`]
//!   answers ([`clamp_multiplier`]).
//! - A node with no open channel is `stable`, multiplier 1.0: there is
//!   nothing to judge, so nothing is loosened or tightened.
//! - [`HealthSource::assess`] never blocks on I/O: a source that asks the
//!   fleet refreshes in the background and answers from its cache.

use crate::EngineError;
use crate::guidance::{PROFIT_WINDOW_SECS, channel_chain_cost_sat};
use crate::rebalance::RebalanceEngine;
use revops_core::{ChannelSnapshot, Clock, Msat, Node, RebalanceExecutor};
use revops_store::{DAY_SECS, Store};
use serde::Serialize;
use std::sync::Arc;

/// The multiplier handed to candidates never goes below or above these.
pub const MIN_MULTIPLIER: f64 = 0.5;
pub const MAX_MULTIPLIER: f64 = 2.5;
/// Channel profitability is judged over this period (the guidance's).
pub const ROI_WINDOW_SECS: u64 = PROFIT_WINDOW_SECS;
/// No forward out for this long makes a channel stagnant.
pub const STAGNANT_AFTER_SECS: u64 = 7 * DAY_SECS;
/// Each half of the revenue-trend comparison.
pub const TREND_WINDOW_SECS: u64 = 7 * DAY_SECS;
/// ROI above this is profitable, below its negative underwater.
pub const PROFITABLE_ROI: f64 = 0.10;
pub const UNDERWATER_ROI: f64 = -0.10;
/// Revenue change (last week ÷ the week before − 1) beyond which the trend moves.
pub const TREND_THRESHOLD: f64 = 0.05;
/// Score reported when there is no channel to judge (the middle of `stable`).
pub const NO_CHANNELS_SCORE: f64 = 60.0;
/// Feerate assumed for the chain-cost estimate when none was ever recorded:
/// lightningd's minimum relay floor.
const FALLBACK_FEERATE_PERKW: u32 = 253;
const YEAR_SECS: f64 = 365.0 * DAY_SECS as f64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthTier {
    Struggling,
    Vulnerable,
    Stable,
    Thriving,
}

impl HealthTier {
    /// The tier of a 0–100 score (a non-finite score is `stable`).
    pub fn from_score(score: f64) -> HealthTier {
        if !score.is_finite() {
            HealthTier::Stable
        } else if score <= 30.0 {
            HealthTier::Struggling
        } else if score <= 50.0 {
            HealthTier::Vulnerable
        } else if score <= 70.0 {
            HealthTier::Stable
        } else {
            HealthTier::Thriving
        }
    }

    /// What the tier divides the rebalance profit threshold by.
    pub fn budget_multiplier(self) -> f64 {
        clamp_multiplier(match self {
            HealthTier::Struggling => 2.0,
            HealthTier::Vulnerable => 1.5,
            HealthTier::Stable => 1.0,
            HealthTier::Thriving => 0.75,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HealthTier::Struggling => "struggling",
            HealthTier::Vulnerable => "vulnerable",
            HealthTier::Stable => "stable",
            HealthTier::Thriving => "thriving",
        }
    }
}

/// A budget multiplier made safe to hand on: within
/// [[`MIN_MULTIPLIER`], [`MAX_MULTIPLIER`]], 1.0 when not finite.
pub fn clamp_multiplier(multiplier: f64) -> f64 {
    if multiplier.is_finite() {
        multiplier.clamp(MIN_MULTIPLIER, MAX_MULTIPLIER)
    } else {
        1.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Improving,
    Stable,
    Declining,
}

impl Trend {
    /// Last week's revenue against the week before's.
    pub fn from_revenue(last_7d: Msat, prior_7d: Msat) -> Trend {
        let (last, prior) = (last_7d.msat() as f64, prior_7d.msat() as f64);
        if prior == 0.0 {
            return if last > 0.0 {
                Trend::Improving
            } else {
                Trend::Stable
            };
        }
        if last > prior * (1.0 + TREND_THRESHOLD) {
            Trend::Improving
        } else if last < prior * (1.0 - TREND_THRESHOLD) {
            Trend::Declining
        } else {
            Trend::Stable
        }
    }

    /// Points the trend adds to the score.
    pub fn bonus(self) -> f64 {
        match self {
            Trend::Improving => 10.0,
            Trend::Stable => 5.0,
            Trend::Declining => 0.0,
        }
    }
}

/// The node's health and what it means for the rebalance budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthAssessment {
    /// 0–100 (see the module docs).
    pub score: f64,
    pub tier: HealthTier,
    /// Divides the rebalance profit threshold; in [0.5, 2.5].
    pub budget_multiplier: f64,
    pub profitable_channels: u32,
    pub underwater_channels: u32,
    pub stagnant_channels: u32,
    pub total_channels: u32,
    /// 50 (every channel one-sided) to 100 (every channel half full).
    pub liquidity_score: f64,
    pub revenue_trend: Trend,
    /// Who assessed it: `local` for [`LocalHealth`].
    pub source: String,
}

/// One open channel as the health assessment sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChannelHealthInput {
    pub short_channel_id: String,
    pub capacity_msat: Msat,
    pub local_msat: Msat,
    /// Fees earned by forwards out through it over [`ROI_WINDOW_SECS`].
    pub earned_msat: Msat,
    /// Fees paid for successful rebalances into it over [`ROI_WINDOW_SECS`].
    pub rebalance_cost_msat: Msat,
    /// Seconds since its last forward out (or since first seen).
    pub idle_secs: u64,
}

/// The node's own figures, read once per assessment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthInputs {
    /// Open (`CHANNELD_NORMAL`) channels.
    pub channels: Vec<ChannelHealthInput>,
    /// Fees earned by the node over the last [`TREND_WINDOW_SECS`] …
    pub revenue_last_7d_msat: Msat,
    /// … and over the same span before that.
    pub revenue_prior_7d_msat: Msat,
    /// Estimated open + close chain cost of one channel, in sat.
    pub channel_chain_cost_sat: f64,
}

/// Where the rebalancer's health comes from: the node's own figures
/// ([`LocalHealth`]), or later the fleet's view of it.
pub trait HealthSource: Send + Sync {
    /// Assess the node now; must not block (see the module invariants).
    /// The engine clamps the multiplier whatever is answered.
    fn assess(&self, inputs: &HealthInputs) -> HealthAssessment;
}

/// Health computed from the node's own channels and earnings.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalHealth;

impl HealthSource for LocalHealth {
    fn assess(&self, inputs: &HealthInputs) -> HealthAssessment {
        assess_local(inputs)
    }
}

/// How a channel did over the ROI window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelClass {
    Profitable,
    BreakEven,
    Underwater,
}

/// `(earned − rebalance cost) / (rebalance cost + 30/365 × chain cost)`.
pub fn channel_roi(channel: &ChannelHealthInput, channel_chain_cost_sat: f64) -> f64 {
    let earned_sat = channel.earned_msat.msat() as f64 / 1000.0;
    let rebalance_sat = channel.rebalance_cost_msat.msat() as f64 / 1000.0;
    let open_share_sat = channel_chain_cost_sat.max(0.0) * ROI_WINDOW_SECS as f64 / YEAR_SECS;
    let basis_sat = rebalance_sat + open_share_sat;
    if !basis_sat.is_finite() || basis_sat <= 0.0 {
        // Nothing was ever paid for it: all it earned is profit.
        return if earned_sat > 0.0 { 1.0 } else { 0.0 };
    }
    (earned_sat - rebalance_sat) / basis_sat
}

pub fn classify(roi: f64) -> ChannelClass {
    if roi > PROFITABLE_ROI {
        ChannelClass::Profitable
    } else if roi < UNDERWATER_ROI {
        ChannelClass::Underwater
    } else {
        ChannelClass::BreakEven
    }
}

/// `100 − mean(|local share − 0.5| × 100)`, over channels with a capacity;
/// 100 without any.
pub fn liquidity_score(channels: &[ChannelHealthInput]) -> f64 {
    let imbalances: Vec<f64> = channels
        .iter()
        .filter(|c| c.capacity_msat.msat() > 0)
        .map(|c| (c.local_msat.ratio_of(c.capacity_msat) - 0.5).abs() * 100.0)
        .collect();
    if imbalances.is_empty() {
        return 100.0;
    }
    100.0 - imbalances.iter().sum::<f64>() / imbalances.len() as f64
}

/// The score of the given shares (each in [0, 1]), liquidity score and trend.
pub fn health_score(
    profitable_share: f64,
    underwater_share: f64,
    liquidity_score: f64,
    trend: Trend,
) -> f64 {
    profitable_share * 40.0
        + (1.0 - underwater_share) * 30.0
        + liquidity_score / 100.0 * 20.0
        + trend.bonus()
}

/// [`LocalHealth`]'s assessment.
pub fn assess_local(inputs: &HealthInputs) -> HealthAssessment {
    let revenue_trend =
        Trend::from_revenue(inputs.revenue_last_7d_msat, inputs.revenue_prior_7d_msat);
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let total_channels = count(inputs.channels.len());
    let liquidity_score = liquidity_score(&inputs.channels);
    let classes: Vec<ChannelClass> = inputs
        .channels
        .iter()
        .map(|c| classify(channel_roi(c, inputs.channel_chain_cost_sat)))
        .collect();
    let of = |class| count(classes.iter().filter(|c| **c == class).count());
    let profitable_channels = of(ChannelClass::Profitable);
    let underwater_channels = of(ChannelClass::Underwater);
    let stagnant_channels = count(
        inputs
            .channels
            .iter()
            .filter(|c| c.idle_secs >= STAGNANT_AFTER_SECS)
            .count(),
    );
    let (score, tier) = if total_channels == 0 {
        (NO_CHANNELS_SCORE, HealthTier::Stable)
    } else {
        let share = |n: u32| f64::from(n) / f64::from(total_channels);
        let score = health_score(
            share(profitable_channels),
            share(underwater_channels),
            liquidity_score,
            revenue_trend,
        );
        (score, HealthTier::from_score(score))
    };
    HealthAssessment {
        score,
        tier,
        budget_multiplier: tier.budget_multiplier(),
        profitable_channels,
        underwater_channels,
        stagnant_channels,
        total_channels,
        liquidity_score,
        revenue_trend,
        source: "local".to_string(),
    }
}

/// Read the node's own figures for an assessment: the open channels among
/// `channels`, and from the store their earnings, rebalance costs and idle
/// time, the node's revenue over the two trend weeks and the feerate.
pub(crate) fn local_inputs(
    store: &Store,
    channels: &[ChannelSnapshot],
    now: u64,
) -> Result<HealthInputs, EngineError> {
    let roi_since = now.saturating_sub(ROI_WINDOW_SECS);
    let earned = store.fees_by_channel_since(roi_since)?;
    let rebalances = store.rebalance_costs_by_channel(roi_since)?;
    let activity = store.channel_activity()?;
    let total = |by_channel: std::collections::HashMap<String, Msat>| {
        Msat(
            by_channel
                .values()
                .map(|m| m.msat())
                .fold(0, u64::saturating_add),
        )
    };
    let last_7d = total(store.fees_by_channel_since(now.saturating_sub(TREND_WINDOW_SECS))?);
    let last_14d = total(store.fees_by_channel_since(now.saturating_sub(2 * TREND_WINDOW_SECS))?);
    let feerate_perkw = store
        .feerate_average(now.saturating_sub(DAY_SECS))?
        .unwrap_or(FALLBACK_FEERATE_PERKW);
    let channels = channels
        .iter()
        .filter(|c| c.state == "CHANNELD_NORMAL")
        .map(|c| {
            let scid = c.short_channel_id.as_str();
            ChannelHealthInput {
                short_channel_id: c.short_channel_id.clone(),
                capacity_msat: c.capacity_msat,
                local_msat: c.local_msat,
                earned_msat: earned.get(scid).copied().unwrap_or_default(),
                rebalance_cost_msat: rebalances.get(scid).map_or(Msat(0), |r| r.fee_msat),
                idle_secs: activity.get(scid).map_or(0, |a| a.idle_secs(now)),
            }
        })
        .collect();
    Ok(HealthInputs {
        channels,
        revenue_last_7d_msat: last_7d,
        revenue_prior_7d_msat: Msat(last_14d.msat().saturating_sub(last_7d.msat())),
        channel_chain_cost_sat: channel_chain_cost_sat(feerate_perkw),
    })
}

impl<N: Node + RebalanceExecutor, C: Clock> RebalanceEngine<N, C> {
    /// Replace where health comes from (a fleet source, a test's fixed
    /// tier); the next assessment uses it.
    pub fn set_health_source(&self, source: Arc<dyn HealthSource>) {
        self.health_source.store(Arc::new(source));
    }

    /// Assess the node's health now, without running a cycle (for
    /// `revenue-status`). Remembered as the latest assessment.
    pub async fn assess_health(&self) -> Result<HealthAssessment, EngineError> {
        let channels = self.node.list_channels().await?;
        self.assess(&channels, self.now())
    }

    /// The latest assessment, if any was made since start-up.
    pub fn last_health(&self) -> Option<HealthAssessment> {
        self.last_health.load_full().map(|h| (*h).clone())
    }

    /// The budget multiplier to use outside a cycle (manual rebalances):
    /// the operator's override, else the latest assessment's, else 1.0.
    /// Always within [[`MIN_MULTIPLIER`], [`MAX_MULTIPLIER`]].
    pub fn health_multiplier(&self) -> f64 {
        match self.settings().health_multiplier_override {
            Some(fixed) => clamp_multiplier(fixed),
            None => self
                .last_health
                .load()
                .as_ref()
                .map_or(1.0, |h| clamp_multiplier(h.budget_multiplier)),
        }
    }

    /// One assessment from the current source, its multiplier clamped.
    pub(crate) fn assess(
        &self,
        channels: &[ChannelSnapshot],
        now: u64,
    ) -> Result<HealthAssessment, EngineError> {
        let inputs = local_inputs(&self.store, channels, now)?;
        let mut health = self.health_source.load().assess(&inputs);
        health.budget_multiplier = clamp_multiplier(health.budget_multiplier);
        self.last_health.store(Some(Arc::new(health.clone())));
        Ok(health)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAT: u64 = 1000;
    /// Chain cost at which 30 days' share is exactly 100 sat.
    const CHAIN_COST_SAT: f64 = 100.0 * 365.0 / 30.0;

    fn ch(local_pct: u64, earned_sat: u64, rebalance_sat: u64) -> ChannelHealthInput {
        ChannelHealthInput {
            short_channel_id: "1x1x1".into(),
            capacity_msat: Msat(1_000_000 * SAT),
            local_msat: Msat(local_pct * 10_000 * SAT),
            earned_msat: Msat(earned_sat * SAT),
            rebalance_cost_msat: Msat(rebalance_sat * SAT),
            idle_secs: 0,
        }
    }

    fn inputs(channels: Vec<ChannelHealthInput>, last_sat: u64, prior_sat: u64) -> HealthInputs {
        HealthInputs {
            channels,
            revenue_last_7d_msat: Msat(last_sat * SAT),
            revenue_prior_7d_msat: Msat(prior_sat * SAT),
            channel_chain_cost_sat: CHAIN_COST_SAT,
        }
    }

    #[test]
    fn tiers_change_exactly_at_their_boundaries() {
        use HealthTier::*;
        for (score, tier) in [
            (0.0, Struggling),
            (30.0, Struggling),
            (30.000_001, Vulnerable),
            (50.0, Vulnerable),
            (50.000_001, Stable),
            (70.0, Stable),
            (70.000_001, Thriving),
            (100.0, Thriving),
            (f64::NAN, Stable),
        ] {
            assert_eq!(HealthTier::from_score(score), tier, "{score}");
        }
        let multipliers: Vec<f64> = [Struggling, Vulnerable, Stable, Thriving]
            .map(HealthTier::budget_multiplier)
            .to_vec();
        assert_eq!(multipliers, [2.0, 1.5, 1.0, 0.75]);
    }

    #[test]
    fn multipliers_are_clamped_and_never_nan() {
        assert_eq!(clamp_multiplier(0.1), 0.5);
        assert_eq!(clamp_multiplier(9.0), 2.5);
        assert_eq!(clamp_multiplier(1.2), 1.2);
        assert_eq!(clamp_multiplier(f64::NAN), 1.0);
        assert_eq!(clamp_multiplier(f64::INFINITY), 1.0);
    }

    #[test]
    fn liquidity_score_is_100_when_balanced_and_50_when_one_sided() {
        assert_eq!(liquidity_score(&[ch(50, 0, 0), ch(50, 0, 0)]), 100.0);
        assert_eq!(liquidity_score(&[ch(0, 0, 0), ch(100, 0, 0)]), 50.0);
        // |0.2 − 0.5| = 30 and |0.6 − 0.5| = 10: mean 20.
        assert!((liquidity_score(&[ch(20, 0, 0), ch(60, 0, 0)]) - 80.0).abs() < 1e-9);
        let empty = ChannelHealthInput::default();
        assert_eq!(liquidity_score(&[empty]), 100.0);
    }

    #[test]
    fn roi_nets_rebalancing_against_earnings_on_a_basis_with_the_open_cost() {
        // Basis 100 sat (open share) + 100 rebalance: (500 − 100) / 200.
        assert_eq!(channel_roi(&ch(50, 500, 100), CHAIN_COST_SAT), 2.0);
        // Idle, never rebalanced: break-even, not underwater.
        assert_eq!(channel_roi(&ch(50, 0, 0), CHAIN_COST_SAT), 0.0);
        assert_eq!(classify(0.0), ChannelClass::BreakEven);
        // Spent 300 to earn 100: (100 − 300) / 400.
        assert_eq!(channel_roi(&ch(50, 100, 300), CHAIN_COST_SAT), -0.5);
        assert_eq!(classify(-0.5), ChannelClass::Underwater);
        assert_eq!(classify(0.1), ChannelClass::BreakEven);
        assert_eq!(classify(0.100_001), ChannelClass::Profitable);
        assert_eq!(classify(-0.1), ChannelClass::BreakEven);
        // No basis at all: earning is all profit.
        assert_eq!(channel_roi(&ch(50, 5, 0), 0.0), 1.0);
    }

    #[test]
    fn the_trend_compares_the_last_week_with_the_one_before() {
        let t = |last, prior| Trend::from_revenue(Msat(last), Msat(prior));
        assert_eq!(t(106, 100), Trend::Improving);
        assert_eq!(t(105, 100), Trend::Stable);
        assert_eq!(t(95, 100), Trend::Stable);
        assert_eq!(t(94, 100), Trend::Declining);
        assert_eq!(t(1, 0), Trend::Improving);
        assert_eq!(t(0, 0), Trend::Stable);
    }

    #[test]
    fn the_score_follows_the_seed_formula() {
        // 1 of 4 profitable, 1 underwater, liquidity 90, improving:
        // 0.25×40 + 0.75×30 + 0.9×20 + 10 = 60.5.
        assert!((health_score(0.25, 0.25, 90.0, Trend::Improving) - 60.5).abs() < 1e-9);
        let channels = vec![
            ch(40, 500, 0),   // profitable
            ch(60, 100, 300), // underwater
            ch(50, 0, 0),     // break-even
            ch(50, 0, 0),     // break-even
        ];
        let a = assess_local(&inputs(channels, 200, 100));
        assert_eq!(
            (
                a.profitable_channels,
                a.underwater_channels,
                a.total_channels
            ),
            (1, 1, 4)
        );
        assert!((a.liquidity_score - 95.0).abs() < 1e-9);
        assert!(
            (a.score - (10.0 + 22.5 + 19.0 + 10.0)).abs() < 1e-9,
            "{a:?}"
        );
        assert_eq!((a.tier, a.budget_multiplier), (HealthTier::Stable, 1.0));
        assert_eq!(a.revenue_trend, Trend::Improving);
        assert_eq!(a.source, "local");
    }

    #[test]
    fn a_losing_lopsided_node_struggles_and_a_profitable_balanced_one_thrives() {
        let losing: Vec<_> = (0..4).map(|_| ch(0, 10, 500)).collect();
        let a = assess_local(&inputs(losing, 50, 100));
        // 0 + 0 + 10 + 0.
        assert_eq!(a.score, 10.0);
        assert_eq!((a.tier, a.budget_multiplier), (HealthTier::Struggling, 2.0));
        let earning: Vec<_> = (0..4).map(|_| ch(50, 1_000, 0)).collect();
        let a = assess_local(&inputs(earning, 100, 100));
        assert_eq!(a.score, 95.0);
        assert_eq!((a.tier, a.budget_multiplier), (HealthTier::Thriving, 0.75));
    }

    #[test]
    fn idle_channels_are_stagnant_and_no_channels_is_stable() {
        let mut idle = ch(50, 0, 0);
        idle.idle_secs = STAGNANT_AFTER_SECS;
        let mut recent = ch(50, 0, 0);
        recent.idle_secs = STAGNANT_AFTER_SECS - 1;
        assert_eq!(
            assess_local(&inputs(vec![idle, recent], 0, 0)).stagnant_channels,
            1
        );
        let none = assess_local(&inputs(Vec::new(), 0, 0));
        assert_eq!(
            (none.tier, none.budget_multiplier, none.total_channels),
            (HealthTier::Stable, 1.0, 0)
        );
    }
}
