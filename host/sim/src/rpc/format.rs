//! Small formatting helpers for lightningd-shaped values.

/// `YYYY-mm-ddTHH:MM:SS.000Z` (listpeerchannels `state_changes[].timestamp`).
pub(crate) fn iso8601_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// `YYYY-MM-DD HH:MM:SS`, the node's local time as sling prints it (the
/// simulated node's time zone is UTC).
pub(crate) fn local_datetime(secs: u64) -> String {
    let iso = iso8601_utc(secs);
    format!("{} {}", &iso[..10], &iso[11..19])
}

/// Howard Hinnant's days-since-epoch → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso8601_utc(1_738_000_000), "2025-01-27T17:46:40.000Z");
        assert_eq!(iso8601_utc(1_767_225_600), "2026-01-01T00:00:00.000Z");
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(local_datetime(1_767_225_600 + 3_723), "2026-01-01 01:02:03");
    }
}
