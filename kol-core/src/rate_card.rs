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
use crate::platform::Platform;

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
        // The common items are the constants: no allocation, and clones (one per selection of
        // every plan) cost nothing.
        let known = [
            Self::BUNDLE,
            Self::TIKTOK_VIDEO,
            Self::IG_POST,
            Self::IG_STORY,
            Self::IG_REEL,
            Self::YOUTUBE_VIDEO,
            Self::FB_POST,
            Self::LIVE,
        ];
        Ok(known
            .into_iter()
            .find(|k| k.0 == slug.as_str())
            .unwrap_or(Self(Cow::Owned(slug))))
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

/// What an estimator may know about the deliverable whose reach it estimates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReachContext<'a> {
    /// The creator.
    pub kol_id: KolId,
    /// The platform the creator posts on.
    pub platform: Platform,
    /// The rate-card item.
    pub item: &'a DeliverableItem,
    /// The creator's follower count, when known.
    pub followers: Option<Followers>,
    /// The reach the rate card states for the item, when it states one.
    pub card_reach: Option<Reach>,
}

impl<'a> ReachContext<'a> {
    /// A context for one item of one creator, with no follower count and no card reach.
    pub fn new(kol_id: KolId, platform: Platform, item: &'a DeliverableItem) -> Self {
        Self {
            kol_id,
            platform,
            item,
            followers: None,
            card_reach: None,
        }
    }
}

/// Where a first figure came from, before any calibration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReachBasis {
    /// The rate card's own `est_reach`.
    RateCard,
    /// The follower heuristic ([`ReachEstimator::estimate_reach`]).
    FollowerHeuristic,
}

/// How a first figure was adjusted by a creator's own past posts (see
/// [`CalibratedReach`](crate::CalibratedReach)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calibration {
    /// Where the figure that was adjusted came from.
    pub basis: ReachBasis,
    /// That figure.
    pub base_reach: Reach,
    /// What it was multiplied by (`1.0`: no change).
    pub factor: f64,
    /// Past posts of the creator on this platform (any item) the factor learned from.
    pub platform_posts: u32,
    /// Of those, the posts of this very item.
    pub item_posts: u32,
}

/// Where an estimate came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ReachSource {
    /// The rate card's `est_reach`, as stated.
    RateCard,
    /// The follower heuristic, the card stating no reach.
    FollowerHeuristic,
    /// A first figure adjusted by the creator's own past posts.
    Calibrated(Calibration),
}

impl ReachSource {
    /// Where the first figure came from (for a calibrated figure, what was calibrated).
    pub fn basis(&self) -> ReachBasis {
        match self {
            Self::RateCard => ReachBasis::RateCard,
            Self::FollowerHeuristic => ReachBasis::FollowerHeuristic,
            Self::Calibrated(c) => c.basis,
        }
    }
}

/// An estimated reach and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReachEstimate {
    /// The figure.
    pub reach: Reach,
    /// Where it came from.
    #[serde(flatten)]
    pub source: ReachSource,
}

/// A pure rule that estimates the reach of one deliverable.
///
/// [`estimate_reach`](ReachEstimator::estimate_reach) is the follower heuristic;
/// [`estimate`](ReachEstimator::estimate) sees the whole [`ReachContext`] (creator, platform,
/// item, card reach) and says where its figure came from. Its default keeps the plain rule: the
/// card's reach when it states one, else the heuristic for the creator's followers.
///
/// Implement it to plug in your own figures (per platform, per category, from past campaigns:
/// [`CalibratedReach`](crate::CalibratedReach) learns from a creator's own posts); closures
/// `Fn(Followers) -> Reach` implement it too.
pub trait ReachEstimator {
    /// Estimated reach for a creator with `followers`.
    fn estimate_reach(&self, followers: Followers) -> Reach;

    /// Estimated reach of one deliverable, with where it came from; `None` when the card states
    /// no reach and the creator's follower count is unknown.
    fn estimate(&self, context: &ReachContext<'_>) -> Option<ReachEstimate> {
        card_or_heuristic(self, context)
    }
}

/// The plain rule: the card's reach when it states one, else `estimator`'s heuristic for the
/// creator's followers, else `None`. [`ReachEstimator::estimate`]'s default.
pub fn card_or_heuristic<E: ReachEstimator + ?Sized>(
    estimator: &E,
    context: &ReachContext<'_>,
) -> Option<ReachEstimate> {
    match (context.card_reach, context.followers) {
        (Some(reach), _) => Some(ReachEstimate {
            reach,
            source: ReachSource::RateCard,
        }),
        (None, Some(followers)) => Some(ReachEstimate {
            reach: estimator.estimate_reach(followers),
            source: ReachSource::FollowerHeuristic,
        }),
        (None, None) => None,
    }
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
    fn default_estimate_is_the_card_else_the_heuristic() {
        let item = DeliverableItem::TIKTOK_VIDEO;
        let mut ctx = ReachContext::new(KolId(7), Platform::Tiktok, &item);
        let custom = |_f: Followers| Reach::new(7).unwrap();
        let dynamic: &dyn ReachEstimator = &FlatReach;
        assert_eq!(TieredReach::default().estimate(&ctx), None);
        assert_eq!(custom.estimate(&ctx), None);
        ctx.followers = Some(Followers::new(50_000).unwrap());
        let heuristic = |reach: i64| ReachEstimate {
            reach: Reach::new(reach).unwrap(),
            source: ReachSource::FollowerHeuristic,
        };
        assert_eq!(
            TieredReach::default().estimate(&ctx),
            Some(heuristic(11_000))
        );
        assert_eq!(dynamic.estimate(&ctx), Some(heuristic(10_000)));
        assert_eq!(custom.estimate(&ctx), Some(heuristic(7)));
        ctx.card_reach = Some(Reach::new(42).unwrap());
        let card = ReachEstimate {
            reach: Reach::new(42).unwrap(),
            source: ReachSource::RateCard,
        };
        for estimate in [
            TieredReach::default().estimate(&ctx),
            dynamic.estimate(&ctx),
            custom.estimate(&ctx),
        ] {
            assert_eq!(estimate, Some(card));
            assert_eq!(card.source.basis(), ReachBasis::RateCard);
        }
        assert_eq!(
            serde_json::to_value(card).unwrap(),
            serde_json::json!({"reach": 42, "source": "rate_card"})
        );
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
