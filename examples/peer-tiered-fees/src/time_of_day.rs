//! A time-of-day surcharge from the input's `now` (the host's clock, unix
//! seconds, UTC): routing demand follows the waking hours of Europe and the
//! Americas.

/// UTC hours (inclusive) when demand peaks: Europe's afternoon and the
/// Americas' morning.
pub const PEAK_HOURS: std::ops::RangeInclusive<u64> = 14..=20;
/// UTC hours (inclusive) when both sleep.
pub const QUIET_HOURS: std::ops::RangeInclusive<u64> = 1..=5;

/// The UTC hour of `now`, 0–23.
pub fn utc_hour(now: u64) -> u64 {
    now % 86_400 / 3_600
}

/// The surcharge at `now`, in percent of the price, and its name.
pub fn percent(now: u64) -> (u64, &'static str) {
    let hour = utc_hour(now);
    if PEAK_HOURS.contains(&hour) {
        (110, "peak hours")
    } else if QUIET_HOURS.contains(&hour) {
        (90, "quiet hours")
    } else {
        (100, "ordinary hours")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2025-01-01T00:00:00Z.
    const MIDNIGHT: u64 = 1_735_689_600;

    #[test]
    fn hours_are_utc_and_map_to_surcharges() {
        assert_eq!(utc_hour(MIDNIGHT), 0);
        assert_eq!(utc_hour(MIDNIGHT + 15 * 3_600 + 59), 15);
        assert_eq!(percent(MIDNIGHT + 15 * 3_600).0, 110);
        assert_eq!(percent(MIDNIGHT + 3 * 3_600).0, 90);
        assert_eq!(percent(MIDNIGHT + 9 * 3_600).0, 100);
        assert_eq!(percent(MIDNIGHT + 86_400 + 20 * 3_600).0, 110);
    }
}
