//! Exact quantities of the optimizer: budget, relevance weight, and fixed-point effective reach.
//!
//! Effective reach is `est_reach x audience_th_pct / 100 x relevance`. With the audience share in
//! whole percent and the relevance read to four decimals, that product is a whole number of
//! millionths of a person, so the optimizer keeps it as an integer ([`EffectiveReach`]) and every
//! comparison, dominance test and tie-break is exact. Floats appear only at the edges (input
//! relevance, reported figures).

use std::fmt;

use kol_core::{AudienceShare, Reach};
use serde::{Serialize, Serializer};

use crate::error::{OptimizerError, Result};

/// A campaign budget in whole THB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Budget(u64);

impl Budget {
    /// A budget of `thb` baht.
    pub const fn new(thb: u64) -> Self {
        Self(thb)
    }

    /// The amount in THB.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl TryFrom<i64> for Budget {
    type Error = OptimizerError;

    /// # Errors
    /// [`OptimizerError::NegativeBudget`] for a negative amount.
    fn try_from(value: i64) -> Result<Self> {
        u64::try_from(value)
            .map(Self)
            .map_err(|_| OptimizerError::NegativeBudget { value })
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} THB", self.0)
    }
}

/// How relevant a KOL is to the brief: a weight on its reach, `0.0..=1000.0`, default `1.0`.
///
/// Invariant: stored in ten-thousandths (the input is rounded to four decimals, half away from
/// zero), so effective reach stays an exact integer. `Relevance::new(0.85)` weighs reach by
/// exactly `0.85`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Relevance(u32);

impl Relevance {
    /// Ten-thousandths per unit of weight.
    pub const SCALE: u32 = 10_000;
    /// The largest accepted weight.
    pub const MAX: f64 = 1_000.0;
    /// Weight 1: reach counts as is.
    pub const ONE: Self = Self(Self::SCALE);
    /// Weight 0: the KOL's reach counts for nothing.
    pub const ZERO: Self = Self(0);

    /// Validates and rounds a weight to four decimals.
    ///
    /// # Errors
    /// [`OptimizerError::InvalidRelevance`] for NaN, an infinity, a negative weight or one above
    /// [`Relevance::MAX`].
    pub fn new(weight: f64) -> Result<Self> {
        if !weight.is_finite() || !(0.0..=Self::MAX).contains(&weight) {
            return Err(OptimizerError::InvalidRelevance {
                value: weight,
                max: Self::MAX,
            });
        }
        // In range: 0 <= weight * 10_000 <= 10^7, so the cast is exact after rounding.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let scaled = (weight * f64::from(Self::SCALE)).round() as u32;
        Ok(Self(scaled))
    }

    /// The weight in ten-thousandths.
    pub const fn ten_thousandths(self) -> u32 {
        self.0
    }

    /// The weight as a float.
    pub fn get(self) -> f64 {
        f64::from(self.0) / f64::from(Self::SCALE)
    }
}

impl Default for Relevance {
    fn default() -> Self {
        Self::ONE
    }
}

impl fmt::Display for Relevance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

/// An effective reach, exact, in millionths of a person.
///
/// One item's effective reach is below `2^61` micro-people; sums are 128-bit and never overflow.
/// Serializes as a number of people (a float).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EffectiveReach(u128);

impl EffectiveReach {
    /// Micro-people per person.
    pub const MICROS_PER_PERSON: u128 = 1_000_000;
    /// The largest reach target accepted from a float ([`EffectiveReach::from_people`]).
    pub const MAX_PEOPLE: f64 = 1e15;
    /// No reach.
    pub const ZERO: Self = Self(0);

    /// The effective reach of one rate-card item: `est_reach x share / 100 x relevance`.
    ///
    /// `share` is `None` when target-country weighting is off.
    pub fn of_item(est_reach: Reach, share: Option<AudienceShare>, relevance: Relevance) -> Self {
        Self(u128::from(item_micros(est_reach, share, relevance)))
    }

    /// A reach of exactly `micros` millionths of a person.
    pub const fn from_micros(micros: u128) -> Self {
        Self(micros)
    }

    /// A reach of `people`, rounded to the nearest millionth.
    ///
    /// # Errors
    /// [`OptimizerError::InvalidReachTarget`] for NaN, an infinity, a negative number or one
    /// above [`EffectiveReach::MAX_PEOPLE`].
    pub fn from_people(people: f64) -> Result<Self> {
        if !people.is_finite() || !(0.0..=Self::MAX_PEOPLE).contains(&people) {
            return Err(OptimizerError::InvalidReachTarget {
                value: people,
                max: Self::MAX_PEOPLE,
            });
        }
        // In range: 0 <= people * 10^6 <= 10^21 < 2^70, exact enough and within u128.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let micros = (people * 1e6).round() as u128;
        Ok(Self(micros))
    }

    /// The reach in millionths of a person.
    pub const fn micros(self) -> u128 {
        self.0
    }

    /// The reach in people, as a float (for display and JSON).
    #[allow(clippy::cast_precision_loss)]
    pub fn people(self) -> f64 {
        // Split to keep full precision for the whole part.
        let whole = self.0 / Self::MICROS_PER_PERSON;
        let frac = self.0 % Self::MICROS_PER_PERSON;
        whole as f64 + frac as f64 / 1e6
    }
}

impl fmt::Display for EffectiveReach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / Self::MICROS_PER_PERSON;
        let frac = self.0 % Self::MICROS_PER_PERSON;
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{frac:06}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl Serialize for EffectiveReach {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.people())
    }
}

/// `est_reach x percent x relevance` in micro-people: `percent` is in hundredths and relevance in
/// ten-thousandths, so the product is in millionths. At most `(2^31) x 100 x 10^7 < 2^61`.
pub(crate) fn item_micros(
    est_reach: Reach,
    share: Option<AudienceShare>,
    relevance: Relevance,
) -> u64 {
    let percent = share.map_or(100, |s| u64::from(s.percent()));
    u64::from(est_reach.get()) * percent * u64::from(relevance.ten_thousandths())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relevance_is_validated_and_rounded() {
        assert_eq!(Relevance::new(1.0).unwrap(), Relevance::ONE);
        assert_eq!(Relevance::new(0.85).unwrap().ten_thousandths(), 8_500);
        assert_eq!(Relevance::new(0.123_46).unwrap().ten_thousandths(), 1_235);
        assert_eq!(
            Relevance::new(1000.0).unwrap().ten_thousandths(),
            10_000_000
        );
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.1, 1000.01] {
            assert!(matches!(
                Relevance::new(bad),
                Err(OptimizerError::InvalidRelevance { .. })
            ));
        }
    }

    #[test]
    fn effective_reach_is_exact() {
        let reach = Reach::new(20_000).unwrap();
        let share = AudienceShare::new(80).unwrap();
        let rel = Relevance::new(0.85).unwrap();
        let eff = EffectiveReach::of_item(reach, Some(share), rel);
        assert_eq!(eff.micros(), 13_600 * 1_000_000);
        assert_eq!(eff.to_string(), "13600");
        assert_eq!(
            EffectiveReach::of_item(reach, None, Relevance::ONE).people(),
            20_000.0
        );
        let odd = EffectiveReach::of_item(
            Reach::new(3).unwrap(),
            Some(AudienceShare::new(33).unwrap()),
            Relevance::new(0.3333).unwrap(),
        );
        assert_eq!(odd.micros(), 329_967);
        assert_eq!(odd.to_string(), "0.329967");
        let max = item_micros(
            Reach::MAX,
            Some(AudienceShare::ALL),
            Relevance::new(1000.0).unwrap(),
        );
        assert!(max < 1 << 61);
    }

    #[test]
    fn targets_and_budgets_are_validated() {
        assert_eq!(
            EffectiveReach::from_people(1.5).unwrap().micros(),
            1_500_000
        );
        assert!(EffectiveReach::from_people(-1.0).is_err());
        assert!(EffectiveReach::from_people(f64::NAN).is_err());
        assert!(EffectiveReach::from_people(1e16).is_err());
        assert_eq!(Budget::try_from(5).unwrap().get(), 5);
        assert_eq!(
            Budget::try_from(-5),
            Err(OptimizerError::NegativeBudget { value: -5 })
        );
    }
}
