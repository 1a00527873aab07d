//! The `reason` sentences operators read in `revenue-fee-debug` and the audit
//! log: one per rule, always with the numbers that drove the decision.
//!
//! Invariants:
//! - Formatting only: nothing here changes a decision.
//! - Every sentence names the final fee in ppm.

use crate::model::FeeInput;
use crate::rules::congestion::{CONGESTED_OCCUPANCY, Congestion};
use crate::rules::hill_climb::{EXCESS_OUTBOUND_RATIO, MIN_OBSERVATION_SECS, Move, Verdict};
use crate::rules::scarcity::SCARCITY_RATIO;
use crate::rules::vegas::Reflex;
use crate::state::Direction;
use crate::units::{Bounds, percent};

pub fn congestion(cause: Congestion, input: &FeeInput, bounds: Bounds) -> String {
    let slots = format!("{}/{} HTLC slots", input.htlcs_in_flight, input.max_htlcs);
    match cause {
        Congestion::Occupancy(occupancy) => format!(
            "{slots} in use ({} > {}): congested, fee at the ceiling {} ppm",
            percent(occupancy),
            percent(CONGESTED_OCCUPANCY),
            bounds.ceiling_ppm
        ),
        Congestion::ReportedByHost => format!(
            "the host reports the channel congested ({slots} in use): fee at the ceiling {} ppm",
            bounds.ceiling_ppm
        ),
    }
}

pub fn vegas(
    reflex: Reflex,
    input: &FeeInput,
    bounds: Bounds,
    raised_floor_ppm: u32,
    candidate_ppm: u32,
) -> String {
    let ratio = reflex
        .spike_ratio
        .map_or_else(|| "no average".to_owned(), |r| format!("{r:.1}×"));
    let spike = if reflex.spiking {
        ratio
    } else {
        format!("{ratio}, spike over, reflex decaying")
    };
    format!(
        "feerate {} perkw vs 24 h average {} ({spike}): Vegas reflex intensity {:.2} raises \
         the floor {} → {} ppm (×{:.2}), lifting the fee {} → {} ppm",
        input.feerate_current_perkw,
        input.feerate_average_24h_perkw,
        reflex.intensity,
        bounds.floor_ppm,
        raised_floor_ppm,
        reflex.floor_multiplier(),
        candidate_ppm,
        raised_floor_ppm
    )
}

pub fn scarcity(
    local_ratio: f64,
    multiplier: f64,
    base_ppm: u32,
    candidate_ppm: u32,
    fee_ppm: u32,
) -> String {
    let mut reason = format!(
        "local {} < {}: scarcity ×{multiplier:.2} on hill-climb base {base_ppm} ppm → {candidate_ppm} ppm",
        percent(local_ratio),
        percent(SCARCITY_RATIO),
    );
    if fee_ppm != candidate_ppm {
        reason.push_str(&format!(", capped at the ceiling {fee_ppm} ppm"));
    }
    reason
}

pub fn hill_climb(moved: &Move, local_ratio: f64, base_ppm: u32, fee_ppm: u32) -> String {
    let direction = moved.direction.word();
    let step = moved.step_ppm;
    let ema = moved.ema_msat_per_hour;
    let previous = moved.previous_ema_msat_per_hour.unwrap_or(0.0);
    let why = match moved.verdict {
        Verdict::First => format!(
            "first revenue observation {:.0} msat/h; local {} so start {direction} {step} ppm",
            moved.rate_msat_per_hour,
            balance_clause(local_ratio)
        ),
        Verdict::Idle => format!(
            "no revenue yet; local {} so move {direction} {step} ppm",
            balance_clause(local_ratio)
        ),
        Verdict::IdleDepleted => format!(
            "no revenue while depleted (local {:.0}%): holding the base, the lack of \
             liquidity explains it",
            local_ratio * 100.0
        ),
        Verdict::Improved {
            ratio,
            step_doubled,
        } => format!(
            "revenue EMA {ema:.0} msat/h vs {previous:.0} at the last move ({}): keep going \
             {direction}, step {step} ppm{}",
            change(ratio),
            if step_doubled { " (doubled)" } else { "" }
        ),
        Verdict::Worse => {
            let ratio = if previous > 0.0 {
                (ema - previous) / previous
            } else {
                0.0
            };
            format!(
                "revenue EMA {ema:.0} msat/h vs {previous:.0} at the last move ({}): reverse \
                 {direction}, step halved to {step} ppm",
                change(ratio)
            )
        }
    };
    let mut reason = why;
    if moved.step_taken_ppm > moved.step_ppm {
        reason.push_str(&format!(
            " (moving {} ppm, 5% of the fee)",
            moved.step_taken_ppm
        ));
    }
    let intended_ppm = match moved.direction {
        Direction::Up => moved.from_ppm.saturating_add(moved.step_taken_ppm),
        Direction::Down => moved.from_ppm.saturating_sub(moved.step_taken_ppm),
    };
    reason.push_str(&format!(": {} → {base_ppm} ppm", moved.from_ppm));
    if base_ppm != intended_ppm {
        reason.push_str(" (at the bound)");
    }
    if fee_ppm != base_ppm {
        reason.push_str(&format!(", fee {fee_ppm} ppm within bounds"));
    }
    reason
}

pub fn hold(pending_secs: u64, base_ppm: u32, fee_ppm: u32) -> String {
    let mut reason = format!(
        "observed {} of the {} min needed to judge revenue: holding {base_ppm} ppm",
        minutes(pending_secs),
        MIN_OBSERVATION_SECS / 60
    );
    if fee_ppm != base_ppm {
        reason.push_str(&format!(", fee {fee_ppm} ppm within bounds"));
    }
    reason
}

fn balance_clause(local_ratio: f64) -> String {
    let comparison = if local_ratio >= EXCESS_OUTBOUND_RATIO {
        "≥"
    } else {
        "<"
    };
    format!(
        "{} {comparison} {}",
        percent(local_ratio),
        percent(EXCESS_OUTBOUND_RATIO)
    )
}

fn change(ratio: f64) -> String {
    if ratio.is_infinite() {
        "up from nothing".to_owned()
    } else if ratio == 0.0 {
        "flat".to_owned()
    } else {
        format!("{:+.0}%", ratio * 100.0)
    }
}

fn minutes(secs: u64) -> String {
    format!("{} min", secs / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scarcity_reads_like_the_operator_guide() {
        let reason = scarcity(0.12, 2.314, 150, 347, 347);
        assert_eq!(
            reason,
            "local 12% < 35%: scarcity ×2.31 on hill-climb base 150 ppm → 347 ppm"
        );
    }

    #[test]
    fn hold_says_how_much_observation_is_missing() {
        assert_eq!(
            hold(1200, 150, 150),
            "observed 20 min of the 360 min needed to judge revenue: holding 150 ppm"
        );
    }
}
