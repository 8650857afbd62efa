//! Wall-clock time as the vendors write it: "YYYY-MM-DD HH:MM:SS" in Kuwait local time for
//! Hesabe, the same in Mountain Time for Helcim's card transactions (`specs/helcim.md` §2.3),
//! and ISO-8601 UTC for Helcim's `terminalCancel.cancelledAt` (§6.2).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::hesabe::vendor::LOCAL_UTC_OFFSET_SECS;

/// One moment, in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Stamp(pub i64);

impl Stamp {
    pub fn now() -> Stamp {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Stamp(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    /// "2025-11-12 11:25:27"
    pub fn datetime(self) -> String {
        datetime_of(self.0.saturating_add(LOCAL_UTC_OFFSET_SECS))
    }

    /// "2025-11-12"
    pub fn date(self) -> String {
        date_of(self.0.saturating_add(LOCAL_UTC_OFFSET_SECS))
    }

    /// "2026-01-14 11:38:18" in Mountain Time (MST, or MDT in summer), as Helcim dates card
    /// transactions.
    pub fn mountain_datetime(self) -> String {
        datetime_of(self.0.saturating_add(mountain_offset(self.0)))
    }

    /// "2026-01-14" in Mountain Time: what Helcim's `dateFrom`/`dateTo` filters compare.
    pub fn mountain_date(self) -> String {
        date_of(self.0.saturating_add(mountain_offset(self.0)))
    }

    /// "2026-01-14T18:38:18Z"
    pub fn iso_utc(self) -> String {
        datetime_of(self.0).replacen(' ', "T", 1) + "Z"
    }
}

/// Mountain Time's offset from UTC at a moment: -6 h from the second Sunday of March, 02:00
/// MST, to the first Sunday of November, 02:00 MDT; -7 h otherwise.
fn mountain_offset(utc_secs: i64) -> i64 {
    const MST: i64 = -7 * 3600;
    let (year, _, _) = civil_from_days(utc_secs.saturating_add(MST).div_euclid(86_400));
    let summer_starts = nth_sunday(year, 3, 2) * 86_400 + 2 * 3600 - MST;
    let summer_ends = nth_sunday(year, 11, 1) * 86_400 + 2 * 3600 - (MST + 3600);
    if (summer_starts..summer_ends).contains(&utc_secs) { MST + 3600 } else { MST }
}

/// Day count of the `n`th Sunday of a month.
fn nth_sunday(year: i64, month: i64, n: i64) -> i64 {
    let first = days_from_civil(year, month, 1);
    // 1970-01-01 was a Thursday: weekday 4 when Sunday is 0.
    let weekday = (first + 4).rem_euclid(7);
    first + (7 - weekday) % 7 + 7 * (n - 1)
}

fn datetime_of(local_secs: i64) -> String {
    let secs = local_secs.rem_euclid(86_400);
    format!("{} {:02}:{:02}:{:02}", date_of(local_secs), secs / 3600, secs / 60 % 60, secs % 60)
}

fn date_of(local_secs: i64) -> String {
    let (y, m, d) = civil_from_days(local_secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day count since 1970-01-01 of a proleptic Gregorian date (the inverse of `civil_from_days`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// True for a real calendar date written "YYYY-MM-DD".
pub(crate) fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| text.get(r).filter(|s| s.bytes().all(|c| c.is_ascii_digit())).and_then(|s| s.parse::<i64>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_001_timestamp_is_kuwait_time() {
        assert_eq!(Stamp(1_762_935_927).datetime(), "2025-11-12 11:25:27");
        assert_eq!(Stamp(1_762_935_927).date(), "2025-11-12");
    }

    #[test]
    fn calendar_edges() {
        assert_eq!(Stamp(0).datetime(), "1970-01-01 03:00:00");
        assert_eq!(Stamp(951_782_400 - 3 * 3600).date(), "2000-02-29");
        assert_eq!(Stamp(1_709_164_800 - 3 * 3600).datetime(), "2024-02-29 00:00:00");
        assert_eq!(Stamp(-86_400).date(), "1969-12-31");
        assert_eq!(Stamp(365 * 86_400).date(), "1971-01-01");
    }

    #[test]
    fn mountain_time_follows_daylight_saving() {
        // Winter: MST, UTC-7. The spec's cancel example moment.
        assert_eq!(Stamp(1_768_415_898).iso_utc(), "2026-01-14T18:38:18Z");
        assert_eq!(Stamp(1_768_415_898).mountain_datetime(), "2026-01-14 11:38:18");
        // 2026-03-08 is the second Sunday of March: 08:59:59 UTC is 01:59:59 MST, 09:00 UTC is 03:00 MDT.
        assert_eq!(Stamp(1_772_960_399).mountain_datetime(), "2026-03-08 01:59:59");
        assert_eq!(Stamp(1_772_960_400).mountain_datetime(), "2026-03-08 03:00:00");
        // 2026-11-01 is the first Sunday of November: 07:59:59 UTC is 01:59:59 MDT, 08:00 UTC is 01:00 MST.
        assert_eq!(Stamp(1_793_519_999).mountain_datetime(), "2026-11-01 01:59:59");
        assert_eq!(Stamp(1_793_520_000).mountain_datetime(), "2026-11-01 01:00:00");
        assert_eq!(Stamp(1_793_520_000).mountain_date(), "2026-11-01");
        for days in [-800_000, -1, 0, 59, 60, 10_957, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn dates() {
        for ok in ["2024-02-29", "2025-12-31", "2000-02-29"] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in ["2025-02-29", "1900-02-29", "2025-13-01", "2025-1-01", "2025/01/01", "", "2025-01-001", "２025-01-01"] {
            assert!(!is_date(bad), "{bad}");
        }
    }
}
