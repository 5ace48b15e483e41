//! What posts achieved: metric snapshots taken over time.
//!
//! A snapshot is what a platform reported for one post at one moment. Snapshots are
//! append-only, may arrive late and out of order (they are ordered by the time they were
//! captured, not received), and a count may go down between two of them (a platform removed
//! fake views): such a drop is stored as reported and flagged in the campaign report. A negative
//! count is never accepted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::ids::{DeliverableId, SnapshotId};
use crate::time::check_timestamp;

/// A count of views, likes... : non-negative, at most `i64::MAX` (a PostgreSQL `BIGINT`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Count(u64);

impl Count {
    /// Zero.
    pub const ZERO: Self = Self(0);

    /// Checks a count, naming `field` in the error.
    ///
    /// # Errors
    /// [`CoreError::OutOfRange`] for a negative value.
    pub fn for_field(field: &'static str, value: i64) -> Result<Self> {
        u64::try_from(value)
            .map(Self)
            .map_err(|_| CoreError::OutOfRange {
                field,
                value: i128::from(value),
                min: 0,
                max: i128::from(i64::MAX),
            })
    }

    /// Checks a count.
    ///
    /// # Errors
    /// As [`Count::for_field`], naming `count`.
    pub fn new(value: i64) -> Result<Self> {
        Self::for_field("count", value)
    }

    /// The count.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The count as the database's `BIGINT` (never fails: it is at most `i64::MAX`).
    pub const fn to_i64(self) -> i64 {
        self.0 as i64
    }
}

impl TryFrom<i64> for Count {
    type Error = CoreError;

    fn try_from(value: i64) -> Result<Self> {
        Self::new(value)
    }
}

impl From<Count> for i64 {
    fn from(c: Count) -> Self {
        c.to_i64()
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The counts a platform reports for a post.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PostMetrics {
    /// Views (plays, impressions: what the platform counts as a view).
    pub views: Count,
    /// Likes.
    pub likes: Count,
    /// Comments.
    pub comments: Count,
    /// Shares.
    pub shares: Count,
    /// Saves (bookmarks).
    pub saves: Count,
    /// Distinct people reached, when the platform reports it.
    pub reach: Option<Count>,
}

impl PostMetrics {
    /// Likes, comments, shares and saves together.
    pub fn engagements(&self) -> u128 {
        [self.likes, self.comments, self.shares, self.saves]
            .iter()
            .map(|c| u128::from(c.get()))
            .sum()
    }

    /// The counts that went down from `earlier` to `self`, by name.
    pub fn decreases_since(&self, earlier: &Self) -> Vec<&'static str> {
        let pairs = [
            ("views", self.views, earlier.views),
            ("likes", self.likes, earlier.likes),
            ("comments", self.comments, earlier.comments),
            ("shares", self.shares, earlier.shares),
            ("saves", self.saves, earlier.saves),
        ];
        let mut down: Vec<&'static str> = pairs
            .iter()
            .filter(|(_, now, before)| now < before)
            .map(|(name, _, _)| *name)
            .collect();
        if let (Some(now), Some(before)) = (self.reach, earlier.reach) {
            if now < before {
                down.push("reach");
            }
        }
        down
    }
}

/// A snapshot to record: when it was captured (by the platform's clock), and the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSnapshot")]
pub struct NewSnapshot {
    captured_at: DateTime<Utc>,
    metrics: PostMetrics,
}

#[derive(Deserialize)]
struct RawSnapshot {
    captured_at: DateTime<Utc>,
    metrics: PostMetrics,
}

impl TryFrom<RawSnapshot> for NewSnapshot {
    type Error = CoreError;

    fn try_from(raw: RawSnapshot) -> Result<Self> {
        Self::new(raw.captured_at, raw.metrics)
    }
}

impl NewSnapshot {
    /// Checks a snapshot (the counts are checked by [`Count`]).
    ///
    /// # Errors
    /// [`CoreError::InvalidTimestamp`] when `captured_at` is outside the years 1 to 9999.
    pub fn new(captured_at: DateTime<Utc>, metrics: PostMetrics) -> Result<Self> {
        Ok(Self {
            captured_at: check_timestamp("captured_at", captured_at)?,
            metrics,
        })
    }

    /// When it was captured.
    pub fn captured_at(&self) -> DateTime<Utc> {
        self.captured_at
    }

    /// The counts.
    pub fn metrics(&self) -> &PostMetrics {
        &self.metrics
    }
}

/// A stored snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Its id.
    pub id: SnapshotId,
    /// The deliverable whose post it measures.
    pub deliverable_id: DeliverableId,
    /// When it was recorded (by the database's clock).
    pub recorded_at: DateTime<Utc>,
    /// When it was captured, and the counts.
    pub snapshot: NewSnapshot,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_non_negative() {
        assert!(Count::new(0).is_ok() && Count::new(i64::MAX).is_ok());
        assert!(matches!(
            Count::for_field("views", -1),
            Err(CoreError::OutOfRange { field: "views", .. })
        ));
        assert!(
            serde_json::from_str::<PostMetrics>(
                r#"{"views":-5,"likes":0,"comments":0,"shares":0,"saves":0,"reach":null}"#
            )
            .is_err()
        );
    }

    #[test]
    fn decreases_are_named() {
        let c = |v: i64| Count::new(v).unwrap();
        let before = PostMetrics {
            views: c(100),
            likes: c(10),
            reach: Some(c(80)),
            ..PostMetrics::default()
        };
        let after = PostMetrics {
            views: c(90),
            likes: c(12),
            reach: Some(c(70)),
            ..PostMetrics::default()
        };
        assert_eq!(after.decreases_since(&before), vec!["views", "reach"]);
        assert!(before.decreases_since(&before).is_empty());
        assert_eq!(after.engagements(), 12);
    }
}
