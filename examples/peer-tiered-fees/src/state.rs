//! What the policy remembers about a channel between cycles: the moving
//! average of the fees it earns. The host stores these bytes and hands them
//! back as `state` next time (at most 4096 bytes; we use 9).
//!
//! Invariant: decoding never fails the batch. Bytes we cannot read (another
//! version's, or corrupted) are replaced by a fresh state.

/// Format version: the first byte, so a later version can migrate.
const VERSION: u8 = 1;
/// Version byte + one little-endian `f64`.
const LEN: usize = 9;
/// Time constant of the moving average: three days.
const TAU_SECS: f64 = 3.0 * 86_400.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelState {
    /// Moving average of routing fees earned, msat per day; `None` before
    /// the first observation.
    pub earned_msat_per_day: Option<f64>,
}

impl ChannelState {
    pub const FRESH: ChannelState = ChannelState {
        earned_msat_per_day: None,
    };

    pub fn decode(bytes: Option<&[u8]>) -> ChannelState {
        let Some(bytes) = bytes else {
            return Self::FRESH;
        };
        if bytes.len() != LEN || bytes[0] != VERSION {
            return Self::FRESH;
        }
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&bytes[1..]);
        let value = f64::from_le_bytes(raw);
        if value.is_finite() && value >= 0.0 {
            ChannelState {
                earned_msat_per_day: Some(value),
            }
        } else {
            Self::FRESH
        }
    }

    pub fn encode(self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(LEN);
        bytes.push(VERSION);
        bytes.extend_from_slice(&self.earned_msat_per_day.unwrap_or(0.0).to_le_bytes());
        bytes
    }

    /// Folds in `fees_earned_msat` earned over `window_secs`: the longer the
    /// window, the more it weighs (`1 − e^(−window/τ)`). The first
    /// observation is taken as it is.
    pub fn observe(self, fees_earned_msat: u64, window_secs: u64) -> ChannelState {
        if window_secs == 0 {
            return self;
        }
        let rate = fees_earned_msat as f64 * 86_400.0 / window_secs as f64;
        let average = match self.earned_msat_per_day {
            None => rate,
            Some(previous) => {
                let weight = 1.0 - (-(window_secs as f64) / TAU_SECS).exp();
                previous + weight * (rate - previous)
            }
        };
        ChannelState {
            earned_msat_per_day: Some(average),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_garbage_starts_fresh() {
        let state = ChannelState {
            earned_msat_per_day: Some(1234.5),
        };
        assert_eq!(ChannelState::decode(Some(&state.encode())), state);
        assert_eq!(ChannelState::decode(None), ChannelState::FRESH);
        assert_eq!(ChannelState::decode(Some(b"junk")), ChannelState::FRESH);
        let mut other_version = state.encode();
        other_version[0] = 9;
        assert_eq!(
            ChannelState::decode(Some(&other_version)),
            ChannelState::FRESH
        );
        let mut nan = vec![VERSION];
        nan.extend_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(ChannelState::decode(Some(&nan)), ChannelState::FRESH);
    }

    #[test]
    fn the_average_starts_at_the_first_rate_then_moves_by_window() {
        // 1,000 msat in half an hour = 48,000 msat/day.
        let first = ChannelState::FRESH.observe(1_000, 1_800);
        assert_eq!(first.earned_msat_per_day, Some(48_000.0));
        // A quiet half hour moves it down by 1 − e^(−1/144) ≈ 0.69 %.
        let second = first.observe(0, 1_800).earned_msat_per_day.unwrap();
        assert!((second - 47_667.0).abs() < 1.0, "{second}");
        // No window, no information.
        assert_eq!(first.observe(5, 0), first);
    }
}
