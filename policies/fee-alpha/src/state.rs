//! The per-channel state fee-alpha keeps between calls, and its binary encoding.
//!
//! Layout (version 1, 54 bytes, little-endian):
//!
//! | offset | size | field                                   |
//! |--------|------|-----------------------------------------|
//! | 0      | 1    | version = 1                             |
//! | 1      | 1    | flags (see `FLAG_*`)                    |
//! | 2      | 8    | f64 revenue EMA, msat/h                 |
//! | 10     | 8    | f64 revenue EMA at the last move, msat/h|
//! | 18     | 4    | u32 hill-climb step, ppm                |
//! | 22     | 8    | f64 Vegas reflex intensity              |
//! | 30     | 8    | u64 fees accumulated, not yet evaluated, msat |
//! | 38     | 8    | u64 seconds accumulated, not yet evaluated    |
//! | 46     | 4    | u32 hill-climb base fee, ppm            |
//! | 50     | 4    | u32 fee returned last time, ppm         |
//!
//! Invariants:
//! - `decode` never panics: a wrong length, unknown version, unknown flag bit
//!   or out-of-range value yields `None`, and the caller starts fresh — a
//!   corrupt blob costs the channel its history, never the batch.
//! - Every decoded state satisfies the ranges `encode` writes: finite
//!   non-negative EMAs, step within [`MIN_STEP_PPM`, `MAX_STEP_PPM`],
//!   intensity within [0, 1].
//! - The encoding is far below the host's 4096-byte cap.

use revops_fee_model::codec::ByteReader;

/// Bumped whenever the layout changes; older blobs then decode as fresh.
pub const STATE_VERSION: u8 = 1;
const ENCODED_LEN: usize = 54;

/// Hill-climbing step limits and start value (reference `MIN_STEP`, `MAX_STEP`,
/// `STEP_PPM`).
pub const MIN_STEP_PPM: u32 = 10;
pub const MAX_STEP_PPM: u32 = 200;
pub const INITIAL_STEP_PPM: u32 = 50;

const FLAG_HAS_EMA: u8 = 1 << 0;
const FLAG_HAS_LAST_MOVE: u8 = 1 << 1;
const FLAG_DIRECTION_UP: u8 = 1 << 2;
const FLAG_PREVIOUS_SPIKE: u8 = 1 << 3;
const FLAG_HAS_BASE: u8 = 1 << 4;
const FLAG_HAS_LAST_FEE: u8 = 1 << 5;
const KNOWN_FLAGS: u8 = FLAG_HAS_EMA
    | FLAG_HAS_LAST_MOVE
    | FLAG_DIRECTION_UP
    | FLAG_PREVIOUS_SPIKE
    | FLAG_HAS_BASE
    | FLAG_HAS_LAST_FEE;

/// Which way the hill climber is moving the fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    pub fn reversed(self) -> Self {
        match self {
            Direction::Up => Direction::Down,
            Direction::Down => Direction::Up,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// What fee-alpha remembers about one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyState {
    /// Smoothed revenue rate; `None` until the first full observation.
    pub ema_msat_per_hour: Option<f64>,
    /// The EMA when the hill climber last moved, and the direction it moved;
    /// `None` before the first move.
    pub last_move: Option<(f64, Direction)>,
    pub step_ppm: u32,
    /// Vegas reflex intensity in [0, 1].
    pub vegas_intensity: f64,
    /// Whether the previous call saw a feerate spike (≥ 2× the average).
    pub previous_spike: bool,
    /// Observation windows too short to judge, summed until they reach an hour.
    pub pending_fees_msat: u64,
    pub pending_secs: u64,
    /// The fee hill climbing chose, before scarcity/Vegas/congestion overlays.
    pub base_fee_ppm: Option<u32>,
    /// The final fee returned last time, to tell our own overlays apart from
    /// an external fee change.
    pub last_fee_ppm: Option<u32>,
}

impl Default for PolicyState {
    fn default() -> Self {
        PolicyState {
            ema_msat_per_hour: None,
            last_move: None,
            step_ppm: INITIAL_STEP_PPM,
            vegas_intensity: 0.0,
            previous_spike: false,
            pending_fees_msat: 0,
            pending_secs: 0,
            base_fee_ppm: None,
            last_fee_ppm: None,
        }
    }
}

impl PolicyState {
    /// Decodes a blob, falling back to a fresh state for anything invalid.
    pub fn decode_or_fresh(blob: Option<&[u8]>) -> Self {
        blob.and_then(Self::decode).unwrap_or_default()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut flags = 0;
        let mut set = |on: bool, flag: u8| {
            if on {
                flags |= flag;
            }
        };
        set(self.ema_msat_per_hour.is_some(), FLAG_HAS_EMA);
        set(self.last_move.is_some(), FLAG_HAS_LAST_MOVE);
        set(
            matches!(self.last_move, Some((_, Direction::Up))),
            FLAG_DIRECTION_UP,
        );
        set(self.previous_spike, FLAG_PREVIOUS_SPIKE);
        set(self.base_fee_ppm.is_some(), FLAG_HAS_BASE);
        set(self.last_fee_ppm.is_some(), FLAG_HAS_LAST_FEE);

        let mut out = Vec::with_capacity(ENCODED_LEN);
        out.push(STATE_VERSION);
        out.push(flags);
        out.extend_from_slice(&self.ema_msat_per_hour.unwrap_or(0.0).to_le_bytes());
        out.extend_from_slice(&self.last_move.map_or(0.0, |(ema, _)| ema).to_le_bytes());
        out.extend_from_slice(&self.step_ppm.to_le_bytes());
        out.extend_from_slice(&self.vegas_intensity.to_le_bytes());
        out.extend_from_slice(&self.pending_fees_msat.to_le_bytes());
        out.extend_from_slice(&self.pending_secs.to_le_bytes());
        out.extend_from_slice(&self.base_fee_ppm.unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&self.last_fee_ppm.unwrap_or(0).to_le_bytes());
        debug_assert_eq!(out.len(), ENCODED_LEN);
        out
    }

    fn decode(blob: &[u8]) -> Option<Self> {
        let mut reader = ByteReader::new(blob);
        if blob.len() != ENCODED_LEN || reader.u8()? != STATE_VERSION {
            return None;
        }
        let flags = reader.u8()?;
        if flags & !KNOWN_FLAGS != 0 {
            return None;
        }
        let has = |flag: u8| flags & flag != 0;
        let ema = read_rate(&mut reader)?;
        let last_move_ema = read_rate(&mut reader)?;
        let step_ppm = reader.u32()?;
        let vegas_intensity = reader.f64()?;
        let pending_fees_msat = reader.u64()?;
        let pending_secs = reader.u64()?;
        let base_fee_ppm = reader.u32()?;
        let last_fee_ppm = reader.u32()?;

        let valid_step = (MIN_STEP_PPM..=MAX_STEP_PPM).contains(&step_ppm);
        let valid_intensity = (0.0..=1.0).contains(&vegas_intensity);
        if !valid_step || !valid_intensity {
            return None;
        }
        let direction = if has(FLAG_DIRECTION_UP) {
            Direction::Up
        } else {
            Direction::Down
        };
        Some(PolicyState {
            ema_msat_per_hour: has(FLAG_HAS_EMA).then_some(ema),
            last_move: has(FLAG_HAS_LAST_MOVE).then_some((last_move_ema, direction)),
            step_ppm,
            vegas_intensity,
            previous_spike: has(FLAG_PREVIOUS_SPIKE),
            pending_fees_msat,
            pending_secs,
            base_fee_ppm: has(FLAG_HAS_BASE).then_some(base_fee_ppm),
            last_fee_ppm: has(FLAG_HAS_LAST_FEE).then_some(last_fee_ppm),
        })
    }
}

/// A revenue rate: finite and non-negative, or the blob is corrupt.
fn read_rate(reader: &mut ByteReader<'_>) -> Option<f64> {
    reader.f64().filter(|r| r.is_finite() && *r >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy_state() -> PolicyState {
        PolicyState {
            ema_msat_per_hour: Some(1234.5),
            last_move: Some((1000.25, Direction::Up)),
            step_ppm: 100,
            vegas_intensity: 0.42,
            previous_spike: true,
            pending_fees_msat: 777,
            pending_secs: 1800,
            base_fee_ppm: Some(350),
            last_fee_ppm: Some(700),
        }
    }

    #[test]
    fn state_round_trips() {
        for state in [PolicyState::default(), busy_state()] {
            let blob = state.encode();
            assert!(blob.len() <= 4096);
            assert_eq!(PolicyState::decode_or_fresh(Some(&blob)), state);
        }
    }

    #[test]
    fn garbage_and_foreign_versions_decode_as_fresh() {
        let fresh = PolicyState::default();
        let mut wrong_version = busy_state().encode();
        wrong_version[0] = STATE_VERSION + 1;
        let mut unknown_flag = busy_state().encode();
        unknown_flag[1] |= 0x80;
        let mut nan_ema = busy_state().encode();
        nan_ema[2..10].copy_from_slice(&f64::NAN.to_le_bytes());
        let mut huge_step = busy_state().encode();
        huge_step[18..22].copy_from_slice(&10_000u32.to_le_bytes());
        let truncated = &busy_state().encode()[..20];
        let blobs: [&[u8]; 7] = [
            &[],
            &[0xFF; 4096],
            truncated,
            &wrong_version,
            &unknown_flag,
            &nan_ema,
            &huge_step,
        ];
        for blob in blobs {
            assert_eq!(PolicyState::decode_or_fresh(Some(blob)), fresh);
        }
        assert_eq!(PolicyState::decode_or_fresh(None), fresh);
    }
}
