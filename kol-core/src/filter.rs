//! Which creators a search or a listing may return: the filters shared by every backend.
//!
//! The same [`KolFilter`] is answered by PostgreSQL (kol-db, in SQL) and in memory
//! ([`KolFilter::matches`]), with the same meaning, so both backends return the same creators.

use serde::{Deserialize, Serialize};

use crate::category::Categories;
use crate::conversation::ConversationStatus;
use crate::country::CountryCode;
use crate::kol::NewKol;
use crate::metrics::{AudienceShare, FollowerTier, Followers, PriceThb};
use crate::platform::Platform;

/// Conditions on the outreach state of a creator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutreachFilter {
    /// No condition.
    #[default]
    Any,
    /// Only creators without an open (not closed) conversation: skip those already contacted.
    NoOpenConversation,
    /// Only creators whose open conversation is `confirmed` (the platform's earlier version
    /// planned over confirmed creators only; the repository's docs/SCHEMA.md records its rules).
    ConfirmedOnly,
}

impl OutreachFilter {
    /// Whether a creator whose open conversation has `open_status` (`None`: no open
    /// conversation) passes.
    pub fn matches(self, open_status: Option<ConversationStatus>) -> bool {
        match self {
            Self::Any => true,
            Self::NoOpenConversation => open_status.is_none(),
            Self::ConfirmedOnly => open_status == Some(ConversationStatus::Confirmed),
        }
    }
}

/// Filters on creators. Every condition left empty or `None` accepts everything; the conditions
/// that are set must all hold.
///
/// A creator whose follower count or audience share is unknown does not pass a condition on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KolFilter {
    /// One of these platforms (empty: any).
    pub platforms: Vec<Platform>,
    /// One of these countries (empty: any).
    pub countries: Vec<CountryCode>,
    /// At least one of these categories (empty: any).
    pub categories_any: Categories,
    /// At least this many followers.
    pub min_followers: Option<Followers>,
    /// At most this many followers.
    pub max_followers: Option<Followers>,
    /// In one of these follower tiers (empty: any).
    pub tiers: Vec<FollowerTier>,
    /// At least this share of the audience in Thailand.
    pub min_audience_th_pct: Option<AudienceShare>,
    /// Has at least one rate-card item priced at most this much.
    pub max_item_price: Option<PriceThb>,
    /// Outreach state.
    pub outreach: OutreachFilter,
}

/// What [`KolFilter::matches`] needs to know of a creator beyond its profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KolFacts {
    /// Price of the creator's cheapest rate-card item (`None`: no rate card).
    pub cheapest_item: Option<PriceThb>,
    /// Status of the creator's open conversation (`None`: none open).
    pub open_conversation: Option<ConversationStatus>,
}

impl KolFilter {
    /// Whether the filter accepts everything.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the profile conditions (everything but rate cards and outreach) hold.
    pub fn matches_profile(&self, kol: &NewKol) -> bool {
        let followers = kol.followers;
        (self.platforms.is_empty() || self.platforms.contains(&kol.handle.platform()))
            && (self.countries.is_empty()
                || kol.country.is_some_and(|c| self.countries.contains(&c)))
            && (self.categories_any.is_empty() || self.categories_any.intersects(&kol.categories))
            && self
                .min_followers
                .is_none_or(|min| followers.is_some_and(|f| f >= min))
            && self
                .max_followers
                .is_none_or(|max| followers.is_some_and(|f| f <= max))
            && (self.tiers.is_empty()
                || followers.is_some_and(|f| self.tiers.contains(&FollowerTier::of(f))))
            && self
                .min_audience_th_pct
                .is_none_or(|min| kol.audience_th_pct.is_some_and(|a| a >= min))
    }

    /// Whether every condition holds for a creator with `facts`.
    pub fn matches(&self, kol: &NewKol, facts: &KolFacts) -> bool {
        self.matches_profile(kol)
            && self
                .max_item_price
                .is_none_or(|max| facts.cheapest_item.is_some_and(|p| p <= max))
            && self.outreach.matches(facts.open_conversation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handle::Handle;

    fn kol(followers: Option<i64>, audience: Option<i64>) -> NewKol {
        let mut k = NewKol::new(Handle::new(Platform::Tiktok, "a").unwrap());
        k.followers = followers.map(|f| Followers::new(f).unwrap());
        k.audience_th_pct = audience.map(|a| AudienceShare::new(a).unwrap());
        k.categories = Categories::parse(["beauty"]).unwrap();
        k.country = Some(CountryCode::TH);
        k
    }

    #[test]
    fn empty_filter_accepts_all() {
        assert!(KolFilter::default().matches(&kol(None, None), &KolFacts::default()));
        assert!(KolFilter::default().is_empty());
    }

    #[test]
    fn unknown_values_fail_conditions_on_them() {
        let f = KolFilter {
            min_followers: Some(Followers::new(10).unwrap()),
            ..Default::default()
        };
        assert!(!f.matches_profile(&kol(None, None)));
        assert!(f.matches_profile(&kol(Some(10), None)));
        assert!(!f.matches_profile(&kol(Some(9), None)));
        let f = KolFilter {
            tiers: vec![FollowerTier::Micro],
            ..Default::default()
        };
        assert!(f.matches_profile(&kol(Some(10_000), None)));
        assert!(!f.matches_profile(&kol(Some(9_999), None)));
    }

    #[test]
    fn facts_conditions() {
        let f = KolFilter {
            max_item_price: Some(PriceThb::new(100).unwrap()),
            outreach: OutreachFilter::NoOpenConversation,
            ..Default::default()
        };
        let k = kol(Some(1), Some(1));
        let cheap = KolFacts {
            cheapest_item: Some(PriceThb::new(100).unwrap()),
            open_conversation: None,
        };
        assert!(f.matches(&k, &cheap));
        assert!(!f.matches(
            &k,
            &KolFacts {
                cheapest_item: None,
                ..cheap
            }
        ));
        assert!(!f.matches(
            &k,
            &KolFacts {
                open_conversation: Some(ConversationStatus::Contacted),
                ..cheap
            }
        ));
        assert!(OutreachFilter::ConfirmedOnly.matches(Some(ConversationStatus::Confirmed)));
        assert!(!OutreachFilter::ConfirmedOnly.matches(None));
    }
}
