//! The one text form of an audit time: RFC 3339, UTC, six fractional digits, `Z`.
//!
//! A time has exactly one text form, so that a stored time cannot be rewritten
//! into another spelling of the same instant, and a time read back compares
//! equal to the time that was hashed.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike as _, SubsecRound, Timelike as _, Utc};
use serde::{Deserialize, Deserializer, Serializer};

const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Formats `time` as `2026-01-02T03:04:05.123456Z` (sub-microseconds are dropped).
///
/// Years 0 to 9999 outside a leap second are written digit by digit, as every append
/// and every verified event needs it; the rest goes through chrono's formatter.
pub fn format(time: &DateTime<Utc>) -> String {
    let nanos = time.nanosecond();
    if !(0..=9999).contains(&time.year()) || nanos >= 1_000_000_000 {
        return time.format(FORMAT).to_string();
    }
    let mut out = String::with_capacity(27);
    // Writing into a string cannot fail.
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        nanos / 1000
    );
    out
}

/// Parses a time written by [`format`]; any other spelling is refused.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    let time = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    (format(&time) == text).then_some(time)
}

/// Whether `text` is a time in the form [`format`] writes, as [`parse`] would accept it.
///
/// The common case, a valid date and time of years 1 to 9999 in the fixed 27-character
/// layout, is checked digit by digit without building the time twice; anything else goes
/// through [`parse`].
pub fn is_stored_form(text: &str) -> bool {
    is_plain_stored_form(text.as_bytes()) || parse(text).is_some()
}

/// Whether `text` is `YYYY-MM-DDTHH:MM:SS.ffffffZ` with a valid date and time, year >= 1.
fn is_plain_stored_form(text: &[u8]) -> bool {
    const LAYOUT: &[u8; 27] = b"dddd-dd-ddTdd:dd:dd.ddddddZ";
    if text.len() != LAYOUT.len() {
        return false;
    }
    let layout_matches = text.iter().zip(LAYOUT).all(|(&c, &want)| match want {
        b'd' => c.is_ascii_digit(),
        _ => c == want,
    });
    if !layout_matches {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        text.get(range).map_or(0, |digits| {
            digits
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)).unwrap_or(0);
    let date = chrono::NaiveDate::from_ymd_opt(year, number(5..7), number(8..10));
    let time = chrono::NaiveTime::from_hms_micro_opt(
        number(11..13),
        number(14..16),
        number(17..19),
        number(20..26),
    );
    year >= 1 && date.is_some() && time.is_some()
}

/// `time` cut to whole microseconds, the precision that is stored and hashed.
pub fn to_micros(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(6)
}

/// Serde support for a `DateTime<Utc>` in the one text form.
///
/// Use as `#[serde(with = "rampart_audit::time::micros")]`.
pub mod micros {
    use super::*;

    /// Writes the time in the one text form.
    pub fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&super::format(time))
    }

    /// Reads a time in the one text form.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse(&text).ok_or_else(|| {
            serde::de::Error::custom("must be a UTC time such as \"2026-01-02T03:04:05.000000Z\"")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_quick_stored_form_check_agrees_with_parsing() {
        let cases = [
            "2026-01-02T03:04:05.000006Z",
            "2024-02-29T23:59:59.999999Z",
            "0001-01-01T00:00:00.000000Z",
            "2026-02-30T03:04:05.000006Z",
            "2026-13-02T03:04:05.000006Z",
            "2026-01-02T24:04:05.000006Z",
            "2026-01-02T03:60:05.000006Z",
            "2026-01-02T03:04:60.000006Z",
            "2026-01-02T03:04:05.00006Z",
            "2026-01-02T03:04:05.000006+00:00",
            "2026-01-02t03:04:05.000006Z",
            "2026-01-02T03:04:05.00000aZ",
            "2026-01-02 03:04:05.000006Z",
            "",
        ];
        for text in cases {
            assert_eq!(is_stored_form(text), parse(text).is_some(), "{text}");
        }
        assert!(is_plain_stored_form(b"2026-01-02T03:04:05.000006Z"));
        assert!(!is_plain_stored_form(b"2026-02-30T03:04:05.000006Z"));
    }

    #[test]
    fn formats_with_six_fractional_digits_and_z() {
        let time = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(format(&time), "2026-01-02T03:04:05.000000Z");
    }

    #[test]
    fn parses_only_its_own_spelling() {
        let text = "2026-01-02T03:04:05.123456Z";
        assert_eq!(parse(text).map(|t| format(&t)), Some(text.to_owned()));
        assert_eq!(parse("2026-01-02T03:04:05.123456+00:00"), None);
        assert_eq!(parse("2026-01-02T03:04:05.1234567Z"), None);
        assert_eq!(parse("2026-01-02T03:04:05Z"), None);
    }

    #[test]
    fn formats_like_chrono_for_every_kind_of_instant() {
        let times = [
            Utc.timestamp_opt(0, 0).unwrap(),
            Utc.timestamp_opt(1_767_225_599, 999_999_999).unwrap(),
            Utc.timestamp_opt(1_767_225_599, 1_500_000_000).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 6, 1, 12, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(7, 3, 4, 5, 6, 7).unwrap(),
        ];
        for time in times {
            assert_eq!(format(&time), time.format(FORMAT).to_string(), "{time:?}");
        }
    }

    #[test]
    fn cuts_times_to_microseconds() {
        let time = Utc.timestamp_opt(1, 123_456_789).unwrap();
        assert_eq!(to_micros(time).timestamp_subsec_nanos(), 123_456_000);
    }
}
