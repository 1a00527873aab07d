//! The verdict for one candidate: the reference's EV decision, step by step,
//! each refusal named in the reason.
//!
//! Order: zero amount → no source → pricing source (the best-ranked
//! positive-spread source; failing that the cheapest, which must be within
//! the tolerance) → budget (× Kelly factor when enabled; no Kelly edge
//! rejects) → max fee ppm → utilisation, income, source loss → EV against
//! the health-scaled threshold.
//!
//! Invariants:
//! - The verdict keeps the host's contract for any input (see the crate
//!   docs): accepted amounts are the proposed amount, sources come from the
//!   candidate (distinct), the reason is cut to [`MAX_REASON_BYTES`].
//! - `max-fee-ppm = min(inbound + spread ÷ 2, budget ppm, destination fee)`,
//!   rounded down so it never exceeds any of them; a cap of 0 rejects.

use crate::ev::{
    PPM, expected_income_msat, expected_source_loss_msat, expected_utilisation, max_budget_msat,
    opportunity_cost_ppm, threshold_msat, tolerance_ppm,
};
use crate::kelly;
use crate::model::{Candidate, Verdict};
use crate::sources::{Priced, cheapest, ranked};

/// Longest reason produced, in bytes (the host's cap).
pub const MAX_REASON_BYTES: usize = 1024;
/// Longest short channel id quoted in a reason, in chars.
const MAX_QUOTED_SCID_CHARS: usize = 32;

/// Scores one candidate. Total and deterministic.
pub fn score(candidate: &Candidate) -> Verdict {
    let mut verdict = decide(candidate);
    cut_on_char_boundary(&mut verdict.reason, MAX_REASON_BYTES);
    verdict
}

fn reject(reason: String) -> Verdict {
    Verdict {
        accept: false,
        amount_msat: 0,
        max_fee_ppm: 0,
        sources: Vec::new(),
        expected_profit_msat: 0,
        reason,
    }
}

fn decide(candidate: &Candidate) -> Verdict {
    let amount_msat = candidate.amount_msat;
    let destination = &candidate.destination;
    let inbound_ppm = candidate.inbound_fee_estimate_ppm;
    if amount_msat == 0 {
        return reject("reject: the proposed amount is zero".to_owned());
    }
    if candidate.sources.is_empty() {
        return reject("reject: no source channel to pull from".to_owned());
    }

    // The sources offered, best first; the first one prices the rebalance.
    let tolerance = tolerance_ppm(amount_msat);
    let mut offered = ranked(destination, inbound_ppm, &candidate.sources);
    if offered.is_empty() {
        // No positive spread: the reference still goes ahead within the
        // tolerance, with the cheapest source alone.
        match cheapest(destination, inbound_ppm, &candidate.sources) {
            Some(best) if best.spread_ppm >= -tolerance => offered.push(best),
            Some(best) => {
                return reject(format!(
                    "reject: best spread {:.0} ppm is below the -{tolerance:.0} ppm tolerance \
                     (destination fee {} ppm, inbound estimate {inbound_ppm} ppm)",
                    best.spread_ppm, destination.fee_ppm
                ));
            }
            None => return reject("reject: no source channel to pull from".to_owned()),
        }
    }
    let Priced {
        index: pricing_index,
        spread_ppm,
    } = offered[0];
    let source = &candidate.sources[pricing_index];

    let mut budget_msat = max_budget_msat(spread_ppm, amount_msat);
    let mut kelly_note = String::new();
    if let Some(kelly) = &candidate.kelly {
        let cost_ppm = f64::from(inbound_ppm) + opportunity_cost_ppm(source);
        match kelly::budget_factor(kelly, destination.fee_ppm, cost_ppm) {
            Some(factor) => {
                budget_msat *= factor;
                kelly_note = format!(", Kelly factor {factor:.3}");
            }
            None => {
                return reject(format!(
                    "reject: no Kelly edge (success probability {:.2}, destination fee {} ppm \
                     against cost {cost_ppm:.0} ppm)",
                    kelly.success_probability, destination.fee_ppm
                ));
            }
        }
    }
    let budget_ppm = budget_msat * PPM / amount_msat as f64;
    let cap_ppm = (f64::from(inbound_ppm) + spread_ppm / 2.0)
        .min(budget_ppm)
        .min(f64::from(destination.fee_ppm));
    // `as` saturates and maps NaN to 0; floor keeps the cap under each term.
    let max_fee_ppm = cap_ppm.max(0.0).floor() as u32;
    if max_fee_ppm == 0 {
        return reject(format!(
            "reject: no room for a routing fee (spread {spread_ppm:.0} ppm, budget \
             {budget_ppm:.0} ppm, destination fee {} ppm)",
            destination.fee_ppm
        ));
    }

    let utilisation = expected_utilisation(destination, candidate.cooldown_days);
    let income_msat = expected_income_msat(amount_msat, utilisation, destination);
    let source_loss_msat = expected_source_loss_msat(amount_msat, utilisation, source);
    let ev_msat = income_msat - budget_msat - source_loss_msat;
    let threshold = threshold_msat(candidate.min_profit_msat, candidate.health_multiplier);
    let accept = ev_msat >= threshold;
    let scid = quoted(&source.short_channel_id);
    let reason = format!(
        "{}: EV {:.1} sat {} threshold {:.1} sat (income {:.1} sat at {:.0} % utilisation, \
         budget {:.1} sat{kelly_note}, source loss {:.1} sat; spread {spread_ppm:.0} ppm via \
         {scid}, max fee {max_fee_ppm} ppm)",
        if accept { "accept" } else { "reject" },
        ev_msat / 1000.0,
        if accept { ">=" } else { "<" },
        threshold / 1000.0,
        income_msat / 1000.0,
        utilisation * 100.0,
        budget_msat / 1000.0,
        source_loss_msat / 1000.0,
    );
    if !accept {
        return Verdict {
            expected_profit_msat: ev_msat.round() as i64,
            ..reject(reason)
        };
    }
    Verdict {
        accept: true,
        amount_msat,
        max_fee_ppm,
        sources: distinct_scids(candidate, &offered),
        // `as` saturates: an absurd EV cannot wrap.
        expected_profit_msat: ev_msat.round() as i64,
        reason,
    }
}

/// The offered sources' short channel ids in rank order, each once (the
/// host refuses a verdict naming a source twice, and may send duplicates).
fn distinct_scids(candidate: &Candidate, offered: &[Priced]) -> Vec<String> {
    let mut scids: Vec<String> = Vec::with_capacity(offered.len());
    for priced in offered {
        let scid = &candidate.sources[priced.index].short_channel_id;
        if !scids.contains(scid) {
            scids.push(scid.clone());
        }
    }
    scids
}

/// A short channel id for prose, cut to a readable length.
fn quoted(scid: &str) -> &str {
    match scid.char_indices().nth(MAX_QUOTED_SCID_CHARS) {
        Some((cut, _)) => &scid[..cut],
        None => scid,
    }
}

fn cut_on_char_boundary(text: &mut String, max_bytes: usize) {
    if text.len() <= max_bytes {
        return;
    }
    let mut cut = max_bytes;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
}
