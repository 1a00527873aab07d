//! The `reason` sentences operators read in `revenue-fee-debug` and the audit
//! log: one per step, always with the numbers that drove the decision
//! (posterior mean and std, observations, AIMD modifier).
//!
//! Invariants:
//! - Formatting only: nothing here changes a decision.
//! - Every sentence names the final fee in ppm.
//! - No `core::fmt`: sentences are appended piece by piece, numbers rounded
//!   to integers (ppm) or integer hundredths. In the sandbox `format!` costs
//!   ≈ 500 fuel per argument (≈ 2,000 per float) and a reason has a dozen
//!   numbers: formatting would cost more than deciding.

use crate::aimd::{AimdChange, FAILURE_THRESHOLD, SUCCESS_THRESHOLD};
use crate::decide::EXPLORE_MODIFIER;
use crate::posterior::{MIN_OBSERVATIONS, Posterior};
use crate::state::ThompsonState;
use revops_fee_model::{Bounds, round_ppm};

pub fn hold(first_call: bool, fee_in_force_ppm: u32, fee_ppm: u32) -> String {
    let why = if first_call {
        "first decision for this channel and no observation window yet"
    } else {
        "a zero-length observation window teaches nothing"
    };
    let mut reason = Reason::new()
        .text(why)
        .text(": holding ")
        .ppm(fee_in_force_ppm);
    if fee_ppm != fee_in_force_ppm {
        reason = reason.text(", fee ").ppm(fee_ppm).text(" within bounds");
    }
    reason.finish()
}

pub fn congestion(bounds: Bounds, state: &ThompsonState, change: Option<AimdChange>) -> String {
    Reason::new()
        .aimd(change)
        .text("the host reports the channel congested: fee at the ceiling ")
        .ppm(bounds.ceiling_ppm)
        .text(", window not recorded as an observation (")
        .count(state.observations().len())
        .text(" kept, AIMD modifier ")
        .hundredths(state.aimd.modifier)
        .text(")")
        .finish()
}

pub fn thompson(
    posterior: &Posterior,
    draw_ppm: u32,
    sampled_fee_ppm: u32,
    modifier: f64,
    fee_ppm: u32,
    bounds: Bounds,
    change: Option<AimdChange>,
) -> String {
    let (mean_ppm, std_ppm) = posterior.sampling_distribution(EXPLORE_MODIFIER);
    let mut reason = Reason::new().aimd(change);
    reason = if posterior.samples_prior() {
        reason
            .count(posterior.observations)
            .text(" of ")
            .count(MIN_OBSERVATIONS)
            .text(" observations needed, sampled the widened prior")
    } else {
        reason
            .text("posterior")
            .normal(posterior.mean_ppm, posterior.std_ppm)
            .text(" from ")
            .count(posterior.observations)
            .text(" observations (weight ")
            .hundredths(posterior.total_weight)
            .text("), sampled")
    };
    reason = reason
        .normal(mean_ppm, std_ppm)
        .text(": drew ")
        .ppm(draw_ppm);
    if sampled_fee_ppm != draw_ppm {
        reason = reason.text(", kept within bounds at ").ppm(sampled_fee_ppm);
    }
    reason
        .text(", × AIMD modifier ")
        .hundredths(modifier)
        .text(" → ")
        .ppm(fee_ppm)
        .text(" within [")
        .int(u64::from(bounds.floor_ppm))
        .text(", ")
        .int(u64::from(bounds.ceiling_ppm))
        .text("]")
        .finish()
}

/// A reason under construction (see the module docs for why not `format!`).
struct Reason(String);

impl Reason {
    fn new() -> Self {
        Reason(String::with_capacity(256))
    }

    fn finish(self) -> String {
        self.0
    }

    fn text(mut self, text: &str) -> Self {
        self.0.push_str(text);
        self
    }

    fn int(mut self, value: u64) -> Self {
        // u64::MAX has 20 digits.
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut rest = value;
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        for &digit in &digits[start..] {
            self.0.push(char::from(digit));
        }
        self
    }

    fn count(self, count: usize) -> Self {
        // usize is at most 64 bits on every target.
        self.int(count as u64)
    }

    fn ppm(self, fee_ppm: u32) -> Self {
        self.int(u64::from(fee_ppm)).text(" ppm")
    }

    /// ` N(mean, std) ppm`, rounded to whole ppm.
    fn normal(self, mean_ppm: f64, std_ppm: f64) -> Self {
        self.text(" N(")
            .int(u64::from(round_ppm(mean_ppm)))
            .text(", ")
            .int(u64::from(round_ppm(std_ppm)))
            .text(") ppm")
    }

    /// A non-negative number with two decimals, e.g. `0.85` (negative and
    /// NaN values cannot reach here; they would show as 0.00).
    fn hundredths(self, value: f64) -> Self {
        // `as` saturates and maps NaN to 0.
        let hundredths = (value * 100.0).round() as u64;
        let cents = hundredths % 100;
        self.int(hundredths / 100)
            .text(if cents < 10 { ".0" } else { "." })
            .int(cents)
    }

    /// The AIMD change that fired on this call, if any, as a leading clause.
    fn aimd(self, change: Option<AimdChange>) -> Self {
        let (count, what, from, to) = match change {
            None => return self,
            Some(AimdChange::Decreased { from, to }) => {
                (FAILURE_THRESHOLD, " windows without forwards cut", from, to)
            }
            Some(AimdChange::Increased { from, to }) => {
                (SUCCESS_THRESHOLD, " windows with forwards raised", from, to)
            }
        };
        self.int(u64::from(count))
            .text(what)
            .text(" the AIMD modifier ")
            .hundredths(from)
            .text(" → ")
            .hundredths(to)
            .text("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decrease_reads_with_its_numbers() {
        let reason = thompson(
            &Posterior::prior(),
            200,
            200,
            0.85,
            170,
            Bounds::sanitised(10, 5000),
            Some(AimdChange::Decreased {
                from: 1.0,
                to: 0.85,
            }),
        );
        assert_eq!(
            reason,
            "3 windows without forwards cut the AIMD modifier 1.00 → 0.85; 0 of 3 observations \
             needed, sampled the widened prior N(200, 150) ppm: drew 200 ppm, × AIMD modifier \
             0.85 → 170 ppm within [10, 5000]"
        );
    }

    #[test]
    fn numbers_read_like_format_would_write_them() {
        let hundredths = |value: f64| Reason::new().hundredths(value).finish();
        assert_eq!(hundredths(0.85), "0.85");
        assert_eq!(hundredths(1.0), "1.00");
        assert_eq!(hundredths(1.02), "1.02");
        assert_eq!(hundredths(0.7225), "0.72");
        assert_eq!(hundredths(123.456), "123.46");
        assert_eq!(hundredths(0.0), "0.00");
        for value in [0, 7, 10, 99, 100, 12_345, u64::MAX] {
            assert_eq!(Reason::new().int(value).finish(), value.to_string());
        }
    }

    #[test]
    fn congestion_and_posterior_reasons_carry_their_numbers() {
        let mut state = ThompsonState::default();
        state.aimd.modifier = 0.7225;
        let reason = congestion(Bounds::sanitised(10, 2500), &state, None);
        assert_eq!(
            reason,
            "the host reports the channel congested: fee at the ceiling 2500 ppm, window not \
             recorded as an observation (0 kept, AIMD modifier 0.72)"
        );
        let posterior = Posterior {
            mean_ppm: 312.4,
            std_ppm: 45.6,
            observations: 14,
            total_weight: 3.456,
        };
        let reason = thompson(
            &posterior,
            3,
            10,
            1.02,
            10,
            Bounds::sanitised(10, 2500),
            Some(AimdChange::Increased {
                from: 1.0,
                to: 1.02,
            }),
        );
        assert_eq!(
            reason,
            "10 windows with forwards raised the AIMD modifier 1.00 → 1.02; posterior \
             N(312, 46) ppm from 14 observations (weight 3.46), sampled N(312, 46) ppm: \
             drew 3 ppm, kept within bounds at 10 ppm, × AIMD modifier 1.02 → 10 ppm within \
             [10, 2500]"
        );
    }

    #[test]
    fn hold_says_why() {
        assert_eq!(
            hold(true, 150, 150),
            "first decision for this channel and no observation window yet: holding 150 ppm"
        );
        assert!(hold(false, 9000, 5000).ends_with("fee 5000 ppm within bounds"));
    }
}
