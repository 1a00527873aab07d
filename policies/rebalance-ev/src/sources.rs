//! Which sources to offer the executor, best first (REFERENCE §1.8).
//!
//! A source is eligible when its spread is positive; eligible sources are
//! ranked by the reference's score, `local ratio × 50 − fee ppm ÷ 10`, plus
//! 100 for a sink (it refills by itself) and [`STAGNANT_BONUS`] for stagnant
//! liquidity (40–60 % local, turnover under 0.0015 a day: money doing
//! nothing).
//!
//! Invariants:
//! - The ranking is a stable sort on a finite score: equal scores keep the
//!   host's order, so the result is deterministic.
//! - Every returned index points into the given sources, once.

use crate::ev::{local_ratio, spread_ppm, turnover_per_day};
use crate::model::{Channel, FlowState};

/// Score bonus for a sink source.
pub const SINK_BONUS: f64 = 100.0;
/// Score bonus for stagnant liquidity. REFERENCE.md names the bonus but not
/// its size; 25 ranks a stagnant source above a busy one with the same
/// balance and fee, yet below any sink.
pub const STAGNANT_BONUS: f64 = 25.0;
/// Stagnant: local share within this range…
const STAGNANT_RATIO: (f64, f64) = (0.40, 0.60);
/// …and turnover below this, per day.
const STAGNANT_TURNOVER_PER_DAY: f64 = 0.0015;

/// The reference's source score; higher is better.
pub fn source_score(source: &Channel) -> f64 {
    let ratio = local_ratio(source);
    let mut score = ratio * 50.0 - f64::from(source.fee_ppm) / 10.0;
    if source.flow_state == FlowState::Sink {
        score += SINK_BONUS;
    }
    let (low, high) = STAGNANT_RATIO;
    if (low..=high).contains(&ratio) && turnover_per_day(source) < STAGNANT_TURNOVER_PER_DAY {
        score += STAGNANT_BONUS;
    }
    score
}

/// A source with its spread, by index into the candidate's sources.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priced {
    pub index: usize,
    pub spread_ppm: f64,
}

/// Eligible (positive-spread) sources, best score first.
pub fn ranked(destination: &Channel, inbound_fee_ppm: u32, sources: &[Channel]) -> Vec<Priced> {
    let mut eligible: Vec<(f64, Priced)> = sources
        .iter()
        .enumerate()
        .map(|(index, source)| {
            let priced = Priced {
                index,
                spread_ppm: spread_ppm(destination, inbound_fee_ppm, source),
            };
            (source_score(source), priced)
        })
        .filter(|(_, priced)| priced.spread_ppm > 0.0)
        .collect();
    // Scores are finite (bounded ratio and u32 fee), so total_cmp is the
    // plain numeric order here.
    eligible.sort_by(|(a, _), (b, _)| b.total_cmp(a));
    eligible.into_iter().map(|(_, priced)| priced).collect()
}

/// The source with the highest spread (the first on ties), eligible or not.
pub fn cheapest(
    destination: &Channel,
    inbound_fee_ppm: u32,
    sources: &[Channel],
) -> Option<Priced> {
    sources
        .iter()
        .enumerate()
        .map(|(index, source)| Priced {
            index,
            spread_ppm: spread_ppm(destination, inbound_fee_ppm, source),
        })
        .fold(None, |best: Option<Priced>, next| match best {
            Some(best) if best.spread_ppm >= next.spread_ppm => Some(best),
            _ => Some(next),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(scid: &str, local_pct: u64, fee_ppm: u32, flow_state: FlowState) -> Channel {
        Channel {
            short_channel_id: scid.into(),
            peer_id: String::new(),
            capacity_msat: 100_000_000,
            local_msat: local_pct * 1_000_000,
            fee_ppm,
            // 0.05 a day: not stagnant.
            daily_out_msat: 5_000_000,
            flow_state,
        }
    }

    fn destination(fee_ppm: u32) -> Channel {
        source("dest", 5, fee_ppm, FlowState::Source)
    }

    #[test]
    fn scores_follow_the_reference() {
        let plain = source("a", 90, 100, FlowState::Balanced);
        assert!((source_score(&plain) - (45.0 - 10.0)).abs() < 1e-9);
        let sink = source("b", 90, 100, FlowState::Sink);
        assert!((source_score(&sink) - (135.0)).abs() < 1e-9);
        let mut stagnant = source("c", 50, 0, FlowState::Balanced);
        stagnant.daily_out_msat = 0;
        assert!((source_score(&stagnant) - (25.0 + STAGNANT_BONUS)).abs() < 1e-9);
    }

    #[test]
    fn ranking_puts_sinks_first_and_drops_negative_spreads() {
        let mut dear = source("dear", 99, 2000, FlowState::Balanced);
        // Turnover 0.2 a day: weight 1, spread 500 − 100 − 2000 < 0.
        dear.daily_out_msat = 20_000_000;
        let sources = [
            source("busy", 95, 10, FlowState::Balanced),
            source("sink", 85, 10, FlowState::Sink),
            dear,
        ];
        let order: Vec<usize> = ranked(&destination(500), 100, &sources)
            .iter()
            .map(|p| p.index)
            .collect();
        assert_eq!(order, [1, 0]);
        // The sink drains at 0.3 of its fee: cheapest.
        assert_eq!(cheapest(&destination(500), 100, &sources).unwrap().index, 1);
        assert_eq!(cheapest(&destination(500), 100, &[]), None);
    }
}
