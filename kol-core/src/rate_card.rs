//! Rate cards: what a creator sells (a deliverable item), at what price, reaching how many people.
//!
//! The original schema's `est_reach` is "usually derived from followers x heuristic %".
//! [`ReachEstimator`] is that heuristic as a replaceable, pure function; [`TieredReach`] is the
//! default (a rate per [`FollowerTier`]) and [`FlatReach`] the rule of the platform's earlier
//! version (`followers / 5`; the repository's docs/SCHEMA.md records that version's rules).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::ids::{KolId, RateCardId};
use crate::metrics::{FollowerTier, Followers, PriceThb, Reach};

/// The name of a deliverable on a rate card (`bundle`, `tiktok_video`, `ig_story`...).
///
/// Invariant: a slug of 1 to 64 characters from `a-z`, `0-9` and `_`, starting with a letter.
/// Construction lower-cases and turns spaces and `-` into `_`, so `"TikTok Video"` becomes
/// `tiktok_video`. The set is open (agencies invent new items); the common ones are constants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeliverableItem(Cow<'static, str>);

impl DeliverableItem {
    /// Longest accepted name.
    pub const MAX_LEN: usize = 64;
    /// Several deliverables sold together at a discount.
    pub const BUNDLE: Self = Self(Cow::Borrowed("bundle"));
    /// One TikTok video.
    pub const TIKTOK_VIDEO: Self = Self(Cow::Borrowed("tiktok_video"));
    /// One Instagram feed post.
    pub const IG_POST: Self = Self(Cow::Borrowed("ig_post"));
    /// One Instagram story.
    pub const IG_STORY: Self = Self(Cow::Borrowed("ig_story"));
    /// One Instagram reel.
    pub const IG_REEL: Self = Self(Cow::Borrowed("ig_reel"));
    /// One YouTube video.
    pub const YOUTUBE_VIDEO: Self = Self(Cow::Borrowed("youtube_video"));
    /// One Facebook post.
    pub const FB_POST: Self = Self(Cow::Borrowed("fb_post"));
    /// One live stream.
    pub const LIVE: Self = Self(Cow::Borrowed("live"));

    /// Normalizes and validates an item name.
    ///
    /// # Errors
    /// [`CoreError::InvalidDeliverableItem`] for an empty or over-long name, one that does not
    /// start with a letter, or one with characters outside `a-z`, `0-9`, `_` after normalization.
    pub fn new(name: &str) -> Result<Self> {
        let err = |reason| CoreError::InvalidDeliverableItem {
            input: name.to_owned(),
            reason,
        };
        let slug: String = name
            .trim()
            .chars()
            .map(|c| match c {
                ' ' | '-' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        if slug.is_empty() {
            return Err(err("it is empty"));
        }
        if slug.len() > Self::MAX_LEN {
            return Err(err("it is longer than 64 characters"));
        }
        if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(err("it must start with a letter"));
        }
        if !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(err("only letters, digits, '_', '-' and spaces are allowed"));
        }
        Ok(Self(Cow::Owned(slug)))
    }

    /// The normalized name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DeliverableItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for DeliverableItem {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<String> for DeliverableItem {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self> {
        Self::new(&s)
    }
}

impl From<DeliverableItem> for String {
    fn from(item: DeliverableItem) -> Self {
        item.0.into_owned()
    }
}

/// A rate-card item not yet stored: deliverable, price and (optional) estimated reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRateCard {
    /// What is sold.
    pub item: DeliverableItem,
    /// Its price in THB.
    #[serde(rename = "price_integer", alias = "price")]
    pub price: PriceThb,
    /// How many people it is expected to reach; `None` when the agency gave no figure, in which
    /// case [`NewRateCard::reach_or_estimate`] falls back to a [`ReachEstimator`].
    #[serde(default)]
    pub est_reach: Option<Reach>,
}

impl NewRateCard {
    /// A card with the given item, price and reach.
    pub fn new(item: DeliverableItem, price: PriceThb, est_reach: Option<Reach>) -> Self {
        Self {
            item,
            price,
            est_reach,
        }
    }

    /// The card's own reach, or the estimator's figure for a creator with `followers` when the
    /// card has none.
    pub fn reach_or_estimate(
        &self,
        followers: Followers,
        estimator: &(impl ReachEstimator + ?Sized),
    ) -> Reach {
        self.est_reach
            .unwrap_or_else(|| estimator.estimate_reach(followers))
    }
}

/// A stored rate-card item (`rate_cards` row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateCard {
    /// Row id.
    pub id: RateCardId,
    /// The creator who sells it.
    pub kol_id: KolId,
    /// Item, price and reach.
    #[serde(flatten)]
    pub card: NewRateCard,
}

/// A pure rule that estimates the reach of one deliverable from a creator's follower count.
///
/// Implement it to plug in your own figures (per platform, per category, from past campaigns);
/// closures `Fn(Followers) -> Reach` implement it too.
pub trait ReachEstimator {
    /// Estimated reach for a creator with `followers`.
    fn estimate_reach(&self, followers: Followers) -> Reach;
}

impl<F: Fn(Followers) -> Reach> ReachEstimator for F {
    fn estimate_reach(&self, followers: Followers) -> Reach {
        self(followers)
    }
}

/// Reach = followers x a rate per [`FollowerTier`], in basis points (1/100 of a percent).
///
/// Smaller creators reach a larger share of their followers; the defaults reflect that:
///
/// | tier | default rate |
/// | --- | --- |
/// | nano | 30 % |
/// | micro | 22 % |
/// | mid | 16 % |
/// | macro | 12 % |
/// | mega | 8 % |
///
/// These are planning defaults, not measurements: replace them with rates from your own
/// campaigns. The result is rounded down and never exceeds the follower count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TieredReach {
    /// Rate for each tier, in basis points (`10_000` = 100 %), indexed like [`FollowerTier::ALL`].
    rates_bp: [u16; 5],
}

impl TieredReach {
    /// Rates in basis points for nano, micro, mid, macro and mega creators.
    ///
    /// # Errors
    /// [`CoreError::OutOfRange`] naming `reach rate` when a rate is above `10_000` (100 %).
    pub fn new(rates_bp: [u16; 5]) -> Result<Self> {
        if let Some(&bad) = rates_bp.iter().find(|&&r| r > 10_000) {
            return Err(CoreError::OutOfRange {
                field: "reach rate (basis points)",
                value: i128::from(bad),
                min: 0,
                max: 10_000,
            });
        }
        Ok(Self { rates_bp })
    }

    /// The rate of a tier, in basis points.
    pub fn rate_bp(&self, tier: FollowerTier) -> u16 {
        self.rates_bp[tier as usize]
    }
}

impl Default for TieredReach {
    fn default() -> Self {
        Self {
            rates_bp: [3_000, 2_200, 1_600, 1_200, 800],
        }
    }
}

impl ReachEstimator for TieredReach {
    fn estimate_reach(&self, followers: Followers) -> Reach {
        let rate = u64::from(self.rate_bp(FollowerTier::of(followers)));
        let reach = u64::from(followers.get()) * rate / 10_000;
        // reach <= followers <= i32::MAX, so this cannot fail; saturate rather than panic anyway.
        Reach::new(i64::try_from(reach).unwrap_or(i64::MAX)).unwrap_or(Reach::MAX)
    }
}

/// Reach = followers / 5 (20 %), whatever the tier: the rule the platform's earlier version
/// applied to items without an estimated reach (see the repository's docs/SCHEMA.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlatReach;

impl ReachEstimator for FlatReach {
    fn estimate_reach(&self, followers: Followers) -> Reach {
        Reach::new(i64::from(followers.get() / 5)).unwrap_or(Reach::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_normalized_slugs() {
        assert_eq!(
            DeliverableItem::new(" TikTok Video ").unwrap(),
            DeliverableItem::TIKTOK_VIDEO
        );
        assert_eq!(
            DeliverableItem::new("ig-story").unwrap(),
            DeliverableItem::IG_STORY
        );
        assert!(DeliverableItem::new("").is_err());
        assert!(DeliverableItem::new("1video").is_err());
        assert!(DeliverableItem::new("vidéo").is_err());
        assert!(DeliverableItem::new(&"a".repeat(65)).is_err());
    }

    #[test]
    fn tiered_reach_uses_the_tier_rate() {
        let f = |n| Followers::new(n).unwrap();
        let est = TieredReach::default();
        assert_eq!(est.estimate_reach(f(5_000)).get(), 1_500);
        assert_eq!(est.estimate_reach(f(50_000)).get(), 11_000);
        assert_eq!(est.estimate_reach(f(200_000)).get(), 32_000);
        assert_eq!(est.estimate_reach(f(800_000)).get(), 96_000);
        assert_eq!(est.estimate_reach(f(2_000_000)).get(), 160_000);
        assert_eq!(est.estimate_reach(Followers::MAX).get(), 171_798_691);
        assert!(TieredReach::new([10_001, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn card_reach_falls_back_to_the_estimator() {
        let followers = Followers::new(1_000).unwrap();
        let card = NewRateCard::new(DeliverableItem::BUNDLE, PriceThb::new(100).unwrap(), None);
        assert_eq!(card.reach_or_estimate(followers, &FlatReach).get(), 200);
        let custom = |_f: Followers| Reach::new(7).unwrap();
        assert_eq!(card.reach_or_estimate(followers, &custom).get(), 7);
        let with_reach = NewRateCard {
            est_reach: Some(Reach::new(42).unwrap()),
            ..card
        };
        assert_eq!(
            with_reach.reach_or_estimate(followers, &FlatReach).get(),
            42
        );
    }
}
