//! Column values decoded without failing the whole query.
//!
//! Diesel decodes a row's columns while it reads the result; a `TIMESTAMPTZ` of `infinity`, or a
//! `JSONB` that serde_json cannot read (nested past its recursion limit, a number like `1e400`),
//! then fails the whole query with an error that names neither the table nor the row, and one such
//! row breaks every page that contains it. Migration 7 keeps new rows from holding such values;
//! rows written before it may still. The types here take the column's bytes as they are and defer
//! the check to the row's conversion, which reports [`crate::DbError::InvalidStoredData`] with
//! the table and the row's id.

use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::{Jsonb, Timestamptz};
use kol_core::CoreError;

/// A `TIMESTAMPTZ` column value, checked by [`StoredTime::get`].
#[derive(Debug, Clone, Copy, FromSqlRow)]
pub(crate) struct StoredTime {
    /// Microseconds since 2000-01-01 00:00:00 UTC, PostgreSQL's own representation
    /// (`i64::MAX` and `i64::MIN` are `infinity` and `-infinity`).
    micros: i64,
}

impl FromSql<Timestamptz, Pg> for StoredTime {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let diesel::data_types::PgTimestamp(micros) = FromSql::<Timestamptz, Pg>::from_sql(bytes)?;
        Ok(Self { micros })
    }
}

impl StoredTime {
    /// The time, when it is one kol-core accepts (years 1 to 9999, UTC).
    ///
    /// # Errors
    /// [`CoreError::InvalidTimestamp`] naming `field`.
    pub(crate) fn get(self, field: &'static str) -> kol_core::Result<DateTime<Utc>> {
        let invalid = |value: String| CoreError::InvalidTimestamp { field, value };
        match self.micros {
            i64::MAX => Err(invalid("infinity".to_owned())),
            i64::MIN => Err(invalid("-infinity".to_owned())),
            micros => {
                let epoch = DateTime::<Utc>::from_timestamp(946_684_800, 0)
                    .ok_or_else(|| invalid("the PostgreSQL epoch".to_owned()))?;
                let t = epoch
                    .checked_add_signed(chrono::TimeDelta::microseconds(micros))
                    .ok_or_else(|| invalid(format!("{micros} microseconds from 2000-01-01")))?;
                kol_core::check_timestamp(field, t)
            }
        }
    }
}

/// A `JSONB` column value, parsed by [`StoredJson::get`].
#[derive(Debug, Clone, FromSqlRow)]
pub(crate) struct StoredJson {
    /// The document's text (PostgreSQL sends `JSONB` as a version byte and the text).
    text: Vec<u8>,
}

impl FromSql<Jsonb, Pg> for StoredJson {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        match bytes.as_bytes().split_first() {
            Some((1, text)) => Ok(Self {
                text: text.to_vec(),
            }),
            _ => Err("unsupported JSONB encoding version".into()),
        }
    }
}

impl StoredJson {
    /// The parsed document.
    ///
    /// # Errors
    /// [`CoreError::InvalidExtra`] when serde_json cannot read it.
    pub(crate) fn get(&self) -> kol_core::Result<serde_json::Value> {
        serde_json::from_slice(&self.text).map_err(|e| CoreError::InvalidExtra {
            reason: format!("the stored JSON cannot be read ({e})"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infinite_and_out_of_range_times_are_errors_not_panics() {
        for (micros, shown) in [(i64::MAX, "infinity"), (i64::MIN, "-infinity")] {
            match (StoredTime { micros }).get("created_at") {
                Err(CoreError::InvalidTimestamp { field, value }) => {
                    assert_eq!((field, value.as_str()), ("created_at", shown));
                }
                other => panic!("{other:?}"),
            }
        }
        // Beyond chrono's years (262143), and within them but after 9999.
        for micros in [i64::MAX - 1, 300_000_000_000_000_000] {
            assert!(matches!(
                (StoredTime { micros }).get("t"),
                Err(CoreError::InvalidTimestamp { .. })
            ));
        }
        let zero = StoredTime { micros: 0 }.get("t");
        assert_eq!(
            zero.ok().map(|t| t.to_rfc3339()).as_deref(),
            Some("2000-01-01T00:00:00+00:00")
        );
    }

    #[test]
    fn unreadable_json_is_an_error() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        for text in [deep.as_str(), r#"{"n": 1e400}"#, "{"] {
            let stored = StoredJson {
                text: text.as_bytes().to_vec(),
            };
            assert!(
                matches!(stored.get(), Err(CoreError::InvalidExtra { .. })),
                "{text}"
            );
        }
    }
}
