//! Points in time every part of the platform can store and read back.
//!
//! PostgreSQL's `TIMESTAMPTZ` holds `infinity` and years up to 294276, which chrono cannot
//! represent and which sort before or after every real event; JSON and ISO 8601 readers expect
//! four-digit years. The platform's times are therefore the years 1 to 9999 (UTC), in Rust here
//! and in the database (`kol_time_valid`).

use chrono::{DateTime, Datelike, Utc};

use crate::error::{CoreError, Result};

/// Checks that `t` lies in the years 1 to 9999 (UTC); returns it unchanged.
///
/// # Errors
/// [`CoreError::InvalidTimestamp`] naming `field` otherwise.
pub fn check_timestamp(field: &'static str, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if (1..=9999).contains(&t.year()) {
        Ok(t)
    } else {
        Err(CoreError::InvalidTimestamp {
            field,
            value: t.to_rfc3339(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn years_one_to_9999_are_accepted() {
        let first = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).single();
        let last = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single();
        for t in [first, last].into_iter().flatten() {
            assert_eq!(check_timestamp("t", t).ok(), Some(t));
        }
        let before = Utc.with_ymd_and_hms(0, 12, 31, 23, 59, 59).single();
        let after = Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).single();
        for t in [before, after].into_iter().flatten() {
            assert!(matches!(
                check_timestamp("t", t),
                Err(CoreError::InvalidTimestamp { field: "t", .. })
            ));
        }
    }
}
