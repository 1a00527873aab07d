//! Flow analysis: each channel's daily in/out volume over the window,
//! EMA-smoothed, classified as source / sink / balanced / congested.
//!
//! Thresholds (see docs/flow-analysis.md): the Python plugin called a
//! channel a source or sink when its net daily flow exceeded ±50% of its
//! capacity, which almost no real channel does, so almost everything was
//! "balanced". Here the default is ±2% of capacity per day: a channel that
//! nets 2% a day drains or fills from half-full in about 25 days — slow
//! enough to be a trend, fast enough to matter within a month.
//!
//! Invariants:
//! - Congestion (HTLC slots in use above the threshold) is checked first.
//! - A channel with no settled forward in the window is classified from its
//!   balance and marked `inferred`.
//! - Missing days count as zero volume, so an idle stretch pulls the EMA down.

use revops_core::ChannelSnapshot;
use revops_store::{ChannelFlow, DAY_SECS, DayFlow};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FlowSettings {
    pub window_days: u32,
    /// Net daily outflow ÷ capacity at or above which a channel is a source.
    pub source_threshold: f64,
    /// Net daily flow ÷ capacity at or below which a channel is a sink (negative).
    pub sink_threshold: f64,
    pub congestion_threshold: f64,
    /// Weight of the newest day in the EMA.
    pub ema_weight: f64,
    /// Keep a decayed reputation per peer (updated each flow analysis) and
    /// hand it to the policies: fee guidance's `peer-success-ratio`.
    /// Off: guidance says nothing about the peer and scores stop moving.
    pub reputation_enabled: bool,
    /// Factor every peer's reputation evidence is multiplied by once per
    /// flow analysis, in [0, 1] (1 = never forget).
    pub reputation_decay: f64,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            window_days: 7,
            source_threshold: 0.02,
            sink_threshold: -0.02,
            congestion_threshold: 0.8,
            ema_weight: 0.3,
            reputation_enabled: true,
            reputation_decay: 0.98,
        }
    }
}

/// Without flow data: outbound below this is a source (it has been drained).
const INFER_SOURCE_BELOW: f64 = 0.3;
/// Without flow data: outbound above this is a sink (it has been filled).
const INFER_SINK_ABOVE: f64 = 0.7;

pub fn classify(
    channel: &ChannelSnapshot,
    days: &[DayFlow],
    today: u64,
    settings: &FlowSettings,
    now: u64,
) -> ChannelFlow {
    let window = u64::from(settings.window_days.max(1));
    let first_day = today.saturating_sub(window - 1);
    let (mut ema_in, mut ema_out, mut forwards) = (0.0_f64, 0.0_f64, 0_u64);
    let mut seen_first = false;
    for day in first_day..=today {
        let flow = days
            .iter()
            .find(|d| d.day == day)
            .copied()
            .unwrap_or_default();
        forwards += flow.forwards;
        let (x_in, x_out) = (flow.in_msat as f64, flow.out_msat as f64);
        if seen_first {
            ema_in = settings.ema_weight * x_in + (1.0 - settings.ema_weight) * ema_in;
            ema_out = settings.ema_weight * x_out + (1.0 - settings.ema_weight) * ema_out;
        } else {
            (ema_in, ema_out, seen_first) = (x_in, x_out, true);
        }
    }
    let capacity = channel.capacity_msat.msat().max(1) as f64;
    let flow_ratio = (ema_out - ema_in) / capacity;
    let local = channel.local_ratio();
    let (flow_state, inferred) = if channel.htlc_utilisation() > settings.congestion_threshold {
        ("congested", false)
    } else if forwards == 0 {
        let state = if local < INFER_SOURCE_BELOW {
            "source"
        } else if local > INFER_SINK_ABOVE {
            "sink"
        } else {
            "balanced"
        };
        (state, true)
    } else if flow_ratio >= settings.source_threshold {
        ("source", false)
    } else if flow_ratio <= settings.sink_threshold {
        ("sink", false)
    } else {
        ("balanced", false)
    };
    ChannelFlow {
        short_channel_id: channel.short_channel_id.clone(),
        flow_state: flow_state.to_string(),
        flow_ratio,
        in_msat_per_day: ema_in.round() as u64,
        out_msat_per_day: ema_out.round() as u64,
        forwards,
        inferred,
        updated_at: now,
    }
}

/// The unix day number of `secs`.
pub fn day_of(secs: u64) -> u64 {
    secs / DAY_SECS
}

#[cfg(test)]
mod tests {
    use super::*;
    use revops_core::Msat;

    fn channel(local_pct: u64, htlcs: u32) -> ChannelSnapshot {
        ChannelSnapshot {
            short_channel_id: "1x1x1".into(),
            peer_id: "02".repeat(33),
            peer_connected: true,
            state: "CHANNELD_NORMAL".into(),
            capacity_msat: Msat(1_000_000_000),
            local_msat: Msat(10_000_000 * local_pct),
            fee_base_msat: 0,
            fee_ppm: 100,
            htlcs_in_flight: htlcs,
            max_htlcs: 30,
        }
    }

    fn days(out_msat: u64, in_msat: u64) -> Vec<DayFlow> {
        (10..17)
            .map(|day| DayFlow {
                day,
                in_msat,
                out_msat,
                fee_msat: 0,
                forwards: 5,
            })
            .collect()
    }

    fn state(c: &ChannelSnapshot, d: &[DayFlow]) -> ChannelFlow {
        classify(c, d, 16, &FlowSettings::default(), 0)
    }

    #[test]
    fn steady_net_outflow_is_a_source_and_inflow_a_sink() {
        // 5% of capacity out per day, 1% in.
        let s = state(&channel(50, 0), &days(50_000_000, 10_000_000));
        assert_eq!((s.flow_state.as_str(), s.inferred), ("source", false));
        assert!((s.flow_ratio - 0.04).abs() < 1e-9, "{}", s.flow_ratio);
        let s = state(&channel(50, 0), &days(10_000_000, 50_000_000));
        assert_eq!(s.flow_state, "sink");
    }

    #[test]
    fn small_imbalances_are_balanced() {
        let s = state(&channel(50, 0), &days(20_000_000, 10_000_000));
        assert_eq!(s.flow_state, "balanced");
    }

    #[test]
    fn congestion_wins_and_no_data_is_inferred_from_balance() {
        assert_eq!(
            state(&channel(50, 28), &days(50_000_000, 0)).flow_state,
            "congested"
        );
        let s = state(&channel(10, 0), &[]);
        assert_eq!((s.flow_state.as_str(), s.inferred), ("source", true));
        assert_eq!(state(&channel(90, 0), &[]).flow_state, "sink");
        assert_eq!(state(&channel(50, 0), &[]).flow_state, "balanced");
    }

    #[test]
    fn recent_days_weigh_more() {
        // Heavy outflow a week ago, heavy inflow in the last three days.
        let mut d = days(80_000_000, 0);
        for day in d.iter_mut().filter(|d| d.day >= 14) {
            (day.in_msat, day.out_msat) = (80_000_000, 0);
        }
        assert_eq!(state(&channel(50, 0), &d).flow_state, "sink");
    }
}
