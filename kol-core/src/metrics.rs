//! Counts and amounts: followers, audience share, prices in THB, reach, and follower tiers.
//!
//! Every count is stored in a PostgreSQL `INTEGER` column, so each type here is non-negative and
//! at most `i32::MAX` (2,147,483,647); arithmetic on them is done by callers in 64-bit.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// Largest value a PostgreSQL `INTEGER` can hold, as the upper bound of every count.
pub const PG_INTEGER_MAX: u32 = i32::MAX as u32;

macro_rules! count_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(try_from = "i64", into = "i64")]
        pub struct $name(u32);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(0);
            /// The largest value (`i32::MAX`, what the database column holds).
            pub const MAX: Self = Self(PG_INTEGER_MAX);

            /// Validates `value`.
            ///
            /// # Errors
            #[doc = concat!("[`CoreError::OutOfRange`] naming `", $field, "` unless `0 <= value <= i32::MAX`.")]
            pub fn new(value: i64) -> Result<Self> {
                match u32::try_from(value) {
                    Ok(v) if v <= PG_INTEGER_MAX => Ok(Self(v)),
                    _ => Err(CoreError::OutOfRange {
                        field: $field,
                        value: i128::from(value),
                        min: 0,
                        max: i128::from(PG_INTEGER_MAX),
                    }),
                }
            }

            /// The value.
            pub const fn get(self) -> u32 {
                self.0
            }

            /// The value as the database's `INTEGER`; never fails, since it is at most `i32::MAX`.
            pub const fn to_i32(self) -> i32 {
                self.0 as i32
            }
        }

        impl TryFrom<i64> for $name {
            type Error = CoreError;

            fn try_from(value: i64) -> Result<Self> {
                Self::new(value)
            }
        }

        impl From<$name> for i64 {
            fn from(value: $name) -> Self {
                i64::from(value.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = CoreError;

            fn from_str(s: &str) -> Result<Self> {
                let trimmed = s.trim().replace('_', "");
                let value: i64 = trimmed.parse().map_err(|_| CoreError::InvalidText {
                    field: $field,
                    reason: format!("{s:?} is not a whole number"),
                })?;
                Self::new(value)
            }
        }
    };
}

count_type!(
    /// A follower count: `0..=i32::MAX`.
    Followers,
    "followers"
);
count_type!(
    /// A price in Thai baht (THB), whole baht: `0..=i32::MAX`.
    PriceThb,
    "price"
);
count_type!(
    /// An estimated reach (people who see a deliverable): `0..=i32::MAX`.
    Reach,
    "est_reach"
);

/// The share of a creator's audience in one country, in whole percent: `0..=100`.
///
/// The original schema's `audience_th_pct` (share of the audience in Thailand) weights reach in
/// the budget optimizer when target-country weighting is on.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct AudienceShare(u8);

impl AudienceShare {
    /// No audience in the country.
    pub const NONE: Self = Self(0);
    /// The whole audience in the country.
    pub const ALL: Self = Self(100);

    /// Validates a percentage.
    ///
    /// # Errors
    /// [`CoreError::OutOfRange`] naming `audience_th_pct` unless `0 <= percent <= 100`.
    pub fn new(percent: i64) -> Result<Self> {
        match u8::try_from(percent) {
            Ok(p) if p <= 100 => Ok(Self(p)),
            _ => Err(CoreError::OutOfRange {
                field: "audience_th_pct",
                value: i128::from(percent),
                min: 0,
                max: 100,
            }),
        }
    }

    /// The percentage, `0..=100`.
    pub const fn percent(self) -> u8 {
        self.0
    }

    /// The share as a fraction, `0.0..=1.0`.
    pub fn fraction(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl TryFrom<i64> for AudienceShare {
    type Error = CoreError;

    fn try_from(value: i64) -> Result<Self> {
        Self::new(value)
    }
}

impl From<AudienceShare> for i64 {
    fn from(value: AudienceShare) -> Self {
        i64::from(value.0)
    }
}

impl std::fmt::Display for AudienceShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// Creator size classes by follower count, with the thresholds of the platform's earlier version
/// (kept unchanged; the repository's docs/SCHEMA.md records that version's rules).
///
/// | tier | followers |
/// | --- | --- |
/// | nano | `< 10,000` |
/// | micro | `10,000 ..< 100,000` |
/// | mid | `100,000 ..< 500,000` |
/// | macro | `500,000 ..< 1,000,000` |
/// | mega | `>= 1,000,000` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FollowerTier {
    /// Fewer than 10k followers.
    Nano,
    /// 10k to under 100k followers.
    Micro,
    /// 100k to under 500k followers.
    Mid,
    /// 500k to under 1M followers.
    Macro,
    /// 1M followers or more.
    Mega,
}

impl FollowerTier {
    /// Every tier, smallest first.
    pub const ALL: [Self; 5] = [Self::Nano, Self::Micro, Self::Mid, Self::Macro, Self::Mega];

    /// The tier of a follower count.
    pub const fn of(followers: Followers) -> Self {
        match followers.get() {
            0..10_000 => Self::Nano,
            10_000..100_000 => Self::Micro,
            100_000..500_000 => Self::Mid,
            500_000..1_000_000 => Self::Macro,
            _ => Self::Mega,
        }
    }

    /// The follower range of the tier: `min..max` with `max` exclusive, `None` for no upper bound.
    pub const fn bounds(self) -> (u32, Option<u32>) {
        match self {
            Self::Nano => (0, Some(10_000)),
            Self::Micro => (10_000, Some(100_000)),
            Self::Mid => (100_000, Some(500_000)),
            Self::Macro => (500_000, Some(1_000_000)),
            Self::Mega => (1_000_000, None),
        }
    }

    /// The lower-case name (`"nano"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Nano => "nano",
            Self::Micro => "micro",
            Self::Mid => "mid",
            Self::Macro => "macro",
            Self::Mega => "mega",
        }
    }
}

impl std::fmt::Display for FollowerTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FollowerTier {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| CoreError::UnknownVariant {
                kind: "follower tier",
                input: s.to_owned(),
                expected: "nano, micro, mid, macro, mega",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fit_postgres_integer() {
        assert_eq!(Followers::new(0).unwrap().get(), 0);
        assert_eq!(Followers::new(i64::from(i32::MAX)).unwrap(), Followers::MAX);
        assert!(matches!(
            Followers::new(i64::from(i32::MAX) + 1),
            Err(CoreError::OutOfRange {
                field: "followers",
                ..
            })
        ));
        assert!(matches!(
            PriceThb::new(-1),
            Err(CoreError::OutOfRange { field: "price", .. })
        ));
        assert_eq!("1_500".parse::<PriceThb>().unwrap().get(), 1500);
        assert!("abc".parse::<Reach>().is_err());
    }

    #[test]
    fn audience_share_is_a_percentage() {
        assert_eq!(AudienceShare::new(100).unwrap(), AudienceShare::ALL);
        assert!(AudienceShare::new(101).is_err());
        assert!(AudienceShare::new(-1).is_err());
        assert_eq!(AudienceShare::new(25).unwrap().fraction(), 0.25);
    }

    #[test]
    fn tiers_follow_the_python_thresholds() {
        let tier = |n: i64| FollowerTier::of(Followers::new(n).unwrap());
        assert_eq!(tier(0), FollowerTier::Nano);
        assert_eq!(tier(9_999), FollowerTier::Nano);
        assert_eq!(tier(10_000), FollowerTier::Micro);
        assert_eq!(tier(99_999), FollowerTier::Micro);
        assert_eq!(tier(100_000), FollowerTier::Mid);
        assert_eq!(tier(499_999), FollowerTier::Mid);
        assert_eq!(tier(500_000), FollowerTier::Macro);
        assert_eq!(tier(999_999), FollowerTier::Macro);
        assert_eq!(tier(1_000_000), FollowerTier::Mega);
        for t in FollowerTier::ALL {
            let (lo, hi) = t.bounds();
            assert_eq!(FollowerTier::of(Followers::new(i64::from(lo)).unwrap()), t);
            if let Some(hi) = hi {
                assert_ne!(FollowerTier::of(Followers::new(i64::from(hi)).unwrap()), t);
            }
            assert_eq!(t.as_str().parse::<FollowerTier>().unwrap(), t);
        }
    }
}
