//! Wall-clock time as Hesabe writes it: "YYYY-MM-DD HH:MM:SS" in Kuwait local time.

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
        let local = self.0.saturating_add(LOCAL_UTC_OFFSET_SECS);
        let secs = local.rem_euclid(86_400);
        format!("{} {:02}:{:02}:{:02}", date_of(local), secs / 3600, secs / 60 % 60, secs % 60)
    }

    /// "2025-11-12"
    pub fn date(self) -> String {
        date_of(self.0.saturating_add(LOCAL_UTC_OFFSET_SECS))
    }
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
    fn dates() {
        for ok in ["2024-02-29", "2025-12-31", "2000-02-29"] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in ["2025-02-29", "1900-02-29", "2025-13-01", "2025-1-01", "2025/01/01", "", "2025-01-001", "２025-01-01"] {
            assert!(!is_date(bad), "{bad}");
        }
    }
}
