//! The per-channel state fee-thompson keeps between calls, and its binary
//! encoding.
//!
//! Layout (version 1, little-endian): a 40-byte header (the size of two
//! records), then one 20-byte record per observation, oldest first.
//!
//! | offset | size | field                                          |
//! |--------|------|------------------------------------------------|
//! | 0      | 1    | version = 1                                    |
//! | 1      | 1    | flags (see `FLAG_*`)                           |
//! | 2      | 4    | u32 fee returned last time, ppm                |
//! | 6      | 8    | f64 AIMD modifier                              |
//! | 14     | 2    | u16 consecutive windows without forwards       |
//! | 16     | 2    | u16 consecutive windows with forwards          |
//! | 18     | 8    | u64 last AIMD decrease, unix secs              |
//! | 26     | 2    | u16 number of observations (≤ 200)             |
//! | 28     | 12   | reserved, zero                                 |
//! | 40+20i | 4    | u32 observed fee, ppm                          |
//! | +4     | 4    | f32 revenue rate, sat/hour                     |
//! | +8     | 4    | f32 window weight, in [0.002, 2]               |
//! | +12    | 8    | u64 observed at, unix secs                     |
//!
//! The state stays in this form in memory, header slots included: decoding
//! validates the records and copies them in one block, making room for the
//! window about to be recorded at the same time; encoding writes the header
//! in place and hands the buffer back. The sandbox charges a fuel unit per
//! byte copied and per instruction, and a policy runs for every channel every
//! cycle: parsing 200 observations into structs and moving them twice more
//! cost more than everything else a call does.
//!
//! Invariants:
//! - `decode` never panics: a wrong length, unknown version or flag, more
//!   than [`MAX_OBSERVATIONS`] observations or an out-of-range value yields
//!   `None`, and the caller starts fresh — a corrupt blob costs the channel
//!   its history, never the batch.
//! - Every held record is valid: a finite, non-negative rate and a window
//!   weight within [0.002, 2] (`decode` checks, [`ThompsonState::record`]
//!   normalises); the AIMD modifier is within [0.5, 1.5].
//! - The encoding is at most [`MAX_ENCODED_LEN`] = 4040 bytes, below the
//!   host's 4096-byte cap.
//! - Round trip: `decode(encode(s)) == s`.

use crate::aimd::Aimd;
use crate::posterior::{MAX_WINDOW_WEIGHT, MIN_WINDOW_WEIGHT};
use revops_fee_model::codec::ByteReader;

/// Bumped whenever the layout changes; older blobs then decode as fresh.
pub const STATE_VERSION: u8 = 1;
/// The most observations kept per channel (reference: 200); the oldest goes
/// first. Bounds both the state size and the posterior's cost per call.
pub const MAX_OBSERVATIONS: usize = 200;
const RECORD_LEN: usize = 20;
/// The header takes the room of this many records, so header and records
/// share one `Vec<Record>` that flattens into the blob without a copy.
const HEADER_SLOTS: usize = 2;
const HEADER_LEN: usize = HEADER_SLOTS * RECORD_LEN;
/// The header's fields; the rest of its slots is reserved (zero).
const HEADER_FIELDS_LEN: usize = 28;
/// The largest state this policy ever returns, in bytes.
pub const MAX_ENCODED_LEN: usize = HEADER_LEN + MAX_OBSERVATIONS * RECORD_LEN;
const _: () = assert!(
    MAX_ENCODED_LEN <= 4096,
    "the host caps a policy's state at 4096 bytes"
);

const FLAG_HAS_LAST_FEE: u8 = 1 << 0;
const FLAG_HAS_LAST_DECREASE: u8 = 1 << 1;
const KNOWN_FLAGS: u8 = FLAG_HAS_LAST_FEE | FLAG_HAS_LAST_DECREASE;

/// One observation in its encoded form.
type Record = [u8; RECORD_LEN];

/// What one window taught: the fee in force, what it earned and how much
/// it says (the reference's `(fee, revenue_rate, weight, timestamp)`, with
/// the revenue factor folded into the weight).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub fee_ppm: u32,
    /// Fees earned over the window, in sat per hour; finite, non-negative.
    pub rate_sat_per_hour: f32,
    /// The window's weight before decay, from its length and revenue
    /// ([`crate::posterior::window_weight`]), in [0.002, 2]; the decay
    /// applies when the posterior is fitted.
    pub weight: f32,
    /// The input's `now` when the window was recorded.
    pub observed_at_unix_secs: u64,
}

impl Observation {
    fn from_record(record: &Record) -> Self {
        Observation {
            fee_ppm: u32::from_le_bytes(bytes(record, 0)),
            rate_sat_per_hour: f32::from_le_bytes(bytes(record, 4)),
            weight: f32::from_le_bytes(bytes(record, 8)),
            observed_at_unix_secs: u64::from_le_bytes(bytes(record, 12)),
        }
    }

    fn to_record(self) -> Record {
        let mut record = [0; RECORD_LEN];
        record[0..4].copy_from_slice(&self.fee_ppm.to_le_bytes());
        record[4..8].copy_from_slice(&self.rate_sat_per_hour.to_le_bytes());
        record[8..12].copy_from_slice(&self.weight.to_le_bytes());
        record[12..20].copy_from_slice(&self.observed_at_unix_secs.to_le_bytes());
        record
    }

    /// The values `decide` produces and the posterior relies on. Checked on
    /// every record of every decoded state, so on the bits: a non-negative
    /// finite f32 has the sign bit clear and an exponent below all ones,
    /// and non-negative floats order like their bit patterns.
    fn is_valid(&self) -> bool {
        let finite_non_negative = self.rate_sat_per_hour.to_bits() < f32::INFINITY.to_bits();
        let weight_bits = self.weight.to_bits();
        let min_weight_bits = (MIN_WINDOW_WEIGHT as f32).to_bits();
        let max_weight_bits = (MAX_WINDOW_WEIGHT as f32).to_bits();
        finite_non_negative
            && weight_bits.wrapping_sub(min_weight_bits) <= max_weight_bits - min_weight_bits
    }

    /// Makes any observation valid: a NaN, infinite or negative rate counts
    /// as nothing earned, a weight outside [0.002, 2] (or NaN) is clamped.
    fn normalised(self) -> Self {
        let valid_rate = self.rate_sat_per_hour.is_finite() && self.rate_sat_per_hour >= 0.0;
        let weight = if self.weight.is_nan() {
            MIN_WINDOW_WEIGHT as f32
        } else {
            self.weight
                .clamp(MIN_WINDOW_WEIGHT as f32, MAX_WINDOW_WEIGHT as f32)
        };
        Observation {
            rate_sat_per_hour: if valid_rate {
                self.rate_sat_per_hour
            } else {
                0.0
            },
            weight,
            ..self
        }
    }
}

/// `N` bytes of `record` from `at`. Only called with constant offsets
/// within the record, so the fallback never applies; copying a whole chunk
/// (not byte by byte) compiles to a single load.
fn bytes<const N: usize>(record: &Record, at: usize) -> [u8; N] {
    match record.get(at..).and_then(<[u8]>::first_chunk::<N>) {
        Some(chunk) => *chunk,
        None => [0; N],
    }
}

/// What fee-thompson remembers about one channel.
#[derive(Debug, Clone)]
pub struct ThompsonState {
    pub aimd: Aimd,
    /// The fee returned last time, to tell it apart from an external change.
    pub last_fee_ppm: Option<u32>,
    /// [`HEADER_SLOTS`] slots for the header (written by `into_encoded`),
    /// then at most [`MAX_OBSERVATIONS`] valid records, oldest first.
    slots: Vec<Record>,
}

impl Default for ThompsonState {
    fn default() -> Self {
        ThompsonState {
            aimd: Aimd::default(),
            last_fee_ppm: None,
            slots: vec![[0; RECORD_LEN]; HEADER_SLOTS],
        }
    }
}

/// Equal in what they remember (the header slots are scratch space).
impl PartialEq for ThompsonState {
    fn eq(&self, other: &Self) -> bool {
        self.aimd == other.aimd
            && self.last_fee_ppm == other.last_fee_ppm
            && self.records() == other.records()
    }
}

impl ThompsonState {
    /// Decodes a blob, falling back to a fresh state for anything invalid.
    pub fn decode_or_fresh(blob: Option<&[u8]>) -> Self {
        Self::load(blob, false)
    }

    /// As [`ThompsonState::decode_or_fresh`], for a caller about to
    /// [`record`](ThompsonState::record) one observation: with
    /// `make_room`, a full state drops its oldest observation while it is
    /// copied in, rather than moving all the others afterwards.
    pub fn load(blob: Option<&[u8]>, make_room: bool) -> Self {
        blob.and_then(|blob| Self::decode_into(blob, make_room))
            .unwrap_or_default()
    }

    /// Decodes a blob; `None` for anything invalid.
    pub fn decode(blob: &[u8]) -> Option<Self> {
        Self::decode_into(blob, false)
    }

    /// The observations, oldest first.
    pub fn observations(&self) -> impl ExactSizeIterator<Item = Observation> + '_ {
        self.records().iter().map(Observation::from_record)
    }

    /// Appends an observation (normalised to a valid one), dropping the
    /// oldest beyond [`MAX_OBSERVATIONS`].
    pub fn record(&mut self, observation: Observation) {
        let kept = self.records().len();
        if kept >= MAX_OBSERVATIONS {
            let excess = kept + 1 - MAX_OBSERVATIONS;
            self.slots.drain(HEADER_SLOTS..HEADER_SLOTS + excess);
        }
        self.slots.push(observation.normalised().to_record());
    }

    /// The encoded state (a copy; see [`ThompsonState::into_encoded`]).
    pub fn encode(&self) -> Vec<u8> {
        self.clone().into_encoded()
    }

    /// The encoded state, written into the state's own buffer.
    pub fn into_encoded(mut self) -> Vec<u8> {
        let header = self.header();
        for (slot, bytes) in self
            .slots
            .iter_mut()
            .zip(header.as_chunks::<RECORD_LEN>().0)
        {
            *slot = *bytes;
        }
        self.slots.into_flattened()
    }

    fn records(&self) -> &[Record] {
        self.slots.get(HEADER_SLOTS..).unwrap_or_default()
    }

    fn header(&self) -> [u8; HEADER_LEN] {
        let mut flags = 0;
        if self.last_fee_ppm.is_some() {
            flags |= FLAG_HAS_LAST_FEE;
        }
        if self.aimd.last_decrease_unix_secs.is_some() {
            flags |= FLAG_HAS_LAST_DECREASE;
        }
        let last_decrease = self.aimd.last_decrease_unix_secs.unwrap_or(0);
        // `record` keeps at most MAX_OBSERVATIONS (200): the cast is lossless.
        let count = self.records().len() as u16;
        let mut header = [0; HEADER_LEN];
        header[0] = STATE_VERSION;
        header[1] = flags;
        header[2..6].copy_from_slice(&self.last_fee_ppm.unwrap_or(0).to_le_bytes());
        header[6..14].copy_from_slice(&self.aimd.modifier.to_le_bytes());
        header[14..16].copy_from_slice(&self.aimd.consecutive_failures.to_le_bytes());
        header[16..18].copy_from_slice(&self.aimd.consecutive_successes.to_le_bytes());
        header[18..26].copy_from_slice(&last_decrease.to_le_bytes());
        header[26..28].copy_from_slice(&count.to_le_bytes());
        header
    }

    fn decode_into(blob: &[u8], make_room: bool) -> Option<Self> {
        let mut reader = ByteReader::new(blob);
        if reader.u8()? != STATE_VERSION {
            return None;
        }
        let flags = reader.u8()?;
        if flags & !KNOWN_FLAGS != 0 {
            return None;
        }
        let has = |flag: u8| flags & flag != 0;
        let last_fee_ppm = reader.u32()?;
        let modifier = reader.f64()?;
        let consecutive_failures = reader.u16()?;
        let consecutive_successes = reader.u16()?;
        let last_decrease_unix_secs = reader.u64()?;
        let count = usize::from(reader.u16()?);
        let reserved = reader.take::<{ HEADER_LEN - HEADER_FIELDS_LEN }>()?;
        let aimd = Aimd {
            modifier,
            consecutive_failures,
            consecutive_successes,
            last_decrease_unix_secs: has(FLAG_HAS_LAST_DECREASE).then_some(last_decrease_unix_secs),
        };
        let (records, trailing) = reader.rest().as_chunks::<RECORD_LEN>();
        let valid = aimd.is_valid()
            && reserved == [0; HEADER_LEN - HEADER_FIELDS_LEN]
            && count <= MAX_OBSERVATIONS
            && records.len() == count
            && trailing.is_empty()
            && records
                .iter()
                .all(|record| Observation::from_record(record).is_valid());
        if !valid {
            return None;
        }
        let dropped = usize::from(make_room && count == MAX_OBSERVATIONS);
        let kept = records.get(dropped..).unwrap_or_default();
        // Room for the header, the kept records and one more, copied once.
        let mut slots = Vec::with_capacity(HEADER_SLOTS + kept.len() + 1);
        slots.resize(HEADER_SLOTS, [0; RECORD_LEN]);
        slots.extend_from_slice(kept);
        Some(ThompsonState {
            aimd,
            last_fee_ppm: has(FLAG_HAS_LAST_FEE).then_some(last_fee_ppm),
            slots,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    fn observation(i: u32) -> Observation {
        Observation {
            fee_ppm: 100 + i,
            rate_sat_per_hour: i as f32 * 1.5,
            weight: 0.01 + i as f32 / 300.0,
            observed_at_unix_secs: T0 + u64::from(i) * 3600,
        }
    }

    fn full_state() -> ThompsonState {
        let mut state = ThompsonState {
            aimd: Aimd {
                modifier: 0.85,
                consecutive_failures: 4,
                consecutive_successes: 7,
                last_decrease_unix_secs: Some(T0 + 99),
            },
            last_fee_ppm: Some(321),
            ..ThompsonState::default()
        };
        for i in 0..250 {
            state.record(observation(i));
        }
        state
    }

    #[test]
    fn state_round_trips_within_the_size_cap() {
        for state in [ThompsonState::default(), full_state()] {
            let blob = state.encode();
            assert!(blob.len() <= MAX_ENCODED_LEN);
            assert_eq!(ThompsonState::decode_or_fresh(Some(&blob)), state);
        }
        assert_eq!(full_state().encode().len(), MAX_ENCODED_LEN);
    }

    #[test]
    fn making_room_drops_the_oldest_of_a_full_state_only() {
        let full = full_state();
        let blob = full.encode();
        let mut roomy = ThompsonState::load(Some(&blob), true);
        assert_eq!(roomy.observations().len(), MAX_OBSERVATIONS - 1);
        assert_eq!(roomy.observations().next(), full.observations().nth(1));
        let newest = observation(999);
        roomy.record(newest);
        let mut plain = ThompsonState::load(Some(&blob), false);
        plain.record(newest);
        assert_eq!(roomy, plain);
        assert_eq!(roomy.into_encoded(), plain.into_encoded());

        let mut short = ThompsonState::default();
        short.record(observation(1));
        let reloaded = ThompsonState::load(Some(&short.encode()), true);
        assert_eq!(reloaded, short, "room is only made in a full state");
    }

    #[test]
    fn recording_keeps_the_newest_two_hundred() {
        let observations: Vec<_> = full_state().observations().collect();
        assert_eq!(observations.len(), MAX_OBSERVATIONS);
        assert_eq!(observations[0], observation(50));
        assert_eq!(observations[199], observation(249));
    }

    #[test]
    fn recorded_observations_are_normalised() {
        let mut state = ThompsonState::default();
        state.record(Observation {
            fee_ppm: 1,
            rate_sat_per_hour: f32::NAN,
            weight: 7.0,
            observed_at_unix_secs: 0,
        });
        let kept = state.observations().next().unwrap();
        assert_eq!((kept.rate_sat_per_hour, kept.weight), (0.0, 2.0));
    }

    #[test]
    fn garbage_and_foreign_versions_decode_as_fresh() {
        let fresh = ThompsonState::default();
        let good = full_state().encode();
        let corrupt = |at: usize, bytes: &[u8]| {
            let mut blob = good.clone();
            blob[at..at + bytes.len()].copy_from_slice(bytes);
            blob
        };
        let record = HEADER_LEN + 7 * RECORD_LEN;
        let mut reserved = good.clone();
        reserved[30] = 1;
        let mut trailing = good.clone();
        trailing.push(0);
        let blobs = [
            Vec::new(),
            vec![STATE_VERSION],
            vec![0xFF; 4096],
            good[..good.len() - 1].to_vec(),
            trailing,
            corrupt(0, &[STATE_VERSION + 1]),
            corrupt(1, &[0x80]),
            reserved,
            corrupt(6, &f64::NAN.to_le_bytes()),
            corrupt(6, &7.0f64.to_le_bytes()),
            corrupt(16, &10u16.to_le_bytes()),
            corrupt(26, &201u16.to_le_bytes()),
            corrupt(26, &199u16.to_le_bytes()),
            corrupt(record + 4, &(-1.0f32).to_le_bytes()),
            corrupt(record + 4, &f32::INFINITY.to_le_bytes()),
            corrupt(record + 8, &0.0f32.to_le_bytes()),
            corrupt(record + 8, &2.5f32.to_le_bytes()),
            corrupt(record + 8, &f32::NAN.to_le_bytes()),
        ];
        for blob in blobs {
            assert_eq!(
                ThompsonState::decode_or_fresh(Some(&blob)),
                fresh,
                "{blob:?}"
            );
        }
        assert_eq!(ThompsonState::decode_or_fresh(None), fresh);
    }
}
