//! Reproducible instances for tests and benchmarks: Pisinger's knapsack families, his MCKP
//! classes, and realistic Thai-market rate cards. Behind the `instances` feature.
//!
//! In Pisinger's terms an item has a weight `w` (here: its price) and a profit `p` (here: its
//! estimated reach); every generator returns a [`PlanRequest`] with target-country weighting off
//! and relevance 1 (except the Thai market), so reach is the profit exactly. A generator is a
//! pure function of its parameters and seed: the same call gives the same instance on every
//! machine (the generator is SplitMix64, implemented here, not a dependency).

use kol_core::{
    AudienceShare, Category, DeliverableItem, FollowerTier, KolId, Platform, PriceThb, Reach,
};

use crate::constraints::{Group, Quota, SideConstraints};
use crate::problem::{Candidate, Offer, PlanRequest, Weighting};
use crate::units::{Budget, Relevance};

/// A small, fast, reproducible pseudo-random generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started from `seed`.
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `lo..=hi` (nearly uniform: the bias is below `2^-32` for spans under
    /// `2^32`). Returns `lo` when `hi < lo`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u64 + 1;
        let pick = ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as u64;
        lo + pick as i64
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Shuffles a slice (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.range(0, i as i64) as usize;
            items.swap(i, j);
        }
    }
}

/// The 0-1 knapsack families of Pisinger, "Where are the hard knapsack problems?" (2005).
///
/// `w ~ U[1, R]`, `r1 = R / 10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KnapsackFamily {
    /// `p ~ U[1, R]`.
    Uncorrelated,
    /// `p ~ U[w - r1, w + r1]`, `p >= 1`.
    WeaklyCorrelated,
    /// `p = w + r1`.
    StronglyCorrelated,
    /// `p ~ U[1, R]`, `w = p + r1`.
    InverseStronglyCorrelated,
    /// `p = w`.
    SubsetSum,
}

impl KnapsackFamily {
    /// Every family.
    pub const ALL: [Self; 5] = [
        Self::Uncorrelated,
        Self::WeaklyCorrelated,
        Self::StronglyCorrelated,
        Self::InverseStronglyCorrelated,
        Self::SubsetSum,
    ];

    /// A short name (`uncorrelated`, `weakly_correlated`...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Uncorrelated => "uncorrelated",
            Self::WeaklyCorrelated => "weakly_correlated",
            Self::StronglyCorrelated => "strongly_correlated",
            Self::InverseStronglyCorrelated => "inverse_strongly_correlated",
            Self::SubsetSum => "subset_sum",
        }
    }
}

/// The MCKP classes of Pisinger's thesis (section 7.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MckpFamily {
    /// `w, p ~ U[1, R]`.
    Uncorrelated,
    /// `w ~ U[1, R]`, `p ~ U[w - 10, w + 10]`, `p >= 1`.
    WeaklyCorrelated,
    /// Items are the prefix sums of the pairs `(w', p')` sorted, `w' ~ U[1, 2R / k]`,
    /// `p' = w' + 10`, for `k` items per class.
    StronglyCorrelated,
}

impl MckpFamily {
    /// Every family.
    pub const ALL: [Self; 3] = [
        Self::Uncorrelated,
        Self::WeaklyCorrelated,
        Self::StronglyCorrelated,
    ];

    /// A short name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Uncorrelated => "uncorrelated",
            Self::WeaklyCorrelated => "weakly_correlated",
            Self::StronglyCorrelated => "strongly_correlated",
        }
    }
}

/// Item names of the synthetic families: the common deliverables first, as real rate cards.
const ITEM_NAMES: [&str; 16] = [
    "bundle",
    "fb_post",
    "ig_post",
    "ig_reel",
    "ig_story",
    "live",
    "tiktok_video",
    "youtube_video",
    "blog_post",
    "event",
    "line_post",
    "podcast",
    "review",
    "shopee_live",
    "twitter_post",
    "unboxing",
];

fn item_name(j: usize) -> DeliverableItem {
    match ITEM_NAMES.get(j) {
        Some(name) => DeliverableItem::new(name),
        None => DeliverableItem::new(&format!("item_{j}")),
    }
    .unwrap_or(DeliverableItem::BUNDLE)
}

fn offer(j: usize, price: i64, reach: i64) -> Offer {
    Offer::new(
        item_name(j),
        PriceThb::new(price.clamp(0, i64::from(i32::MAX))).unwrap_or(PriceThb::MAX),
        Reach::new(reach.clamp(0, i64::from(i32::MAX))).unwrap_or(Reach::MAX),
    )
}

fn plain(kol: usize, offers: Vec<Offer>) -> Candidate {
    Candidate::new(KolId(kol as i64 + 1), AudienceShare::ALL, offers)
}

fn request(budget: u64, candidates: Vec<Candidate>) -> PlanRequest {
    let mut req = PlanRequest::new(Budget::new(budget), candidates);
    req.weighting = Weighting::Off;
    req
}

/// A 0-1 knapsack instance: `n` KOLs with one item each, coefficients up to `range` (`R`),
/// capacity `h x sum(w) / (S + 1)` for instance `h` of a series of `s` (`1 <= h <= s`).
pub fn knapsack(
    family: KnapsackFamily,
    n: usize,
    range: i64,
    h: u64,
    s: u64,
    seed: u64,
) -> PlanRequest {
    let mut rng = SplitMix64::new(seed);
    let r1 = (range / 10).max(1);
    let mut total_w = 0u64;
    let candidates = (0..n)
        .map(|k| {
            let (w, p) = match family {
                KnapsackFamily::Uncorrelated => (rng.range(1, range), rng.range(1, range)),
                KnapsackFamily::WeaklyCorrelated => {
                    let w = rng.range(1, range);
                    (w, rng.range(w - r1, w + r1).max(1))
                }
                KnapsackFamily::StronglyCorrelated => {
                    let w = rng.range(1, range);
                    (w, w + r1)
                }
                KnapsackFamily::InverseStronglyCorrelated => {
                    let p = rng.range(1, range);
                    (p + r1, p)
                }
                KnapsackFamily::SubsetSum => {
                    let w = rng.range(1, range);
                    (w, w)
                }
            };
            total_w += w as u64;
            plain(k, vec![offer(0, w, p)])
        })
        .collect();
    let budget = u128::from(h) * u128::from(total_w) / u128::from(s + 1);
    request(u64::try_from(budget).unwrap_or(u64::MAX), candidates)
}

/// An MCKP instance: `classes` KOLs with `items` items each, coefficients up to `range`,
/// capacity `1/2 x sum over classes of (min w + max w)`.
pub fn mckp(
    family: MckpFamily,
    classes: usize,
    items: usize,
    range: i64,
    seed: u64,
) -> PlanRequest {
    let mut rng = SplitMix64::new(seed);
    let mut capacity2 = 0u64;
    let candidates = (0..classes)
        .map(|k| {
            let pairs: Vec<(i64, i64)> = match family {
                MckpFamily::Uncorrelated => (0..items)
                    .map(|_| (rng.range(1, range), rng.range(1, range)))
                    .collect(),
                MckpFamily::WeaklyCorrelated => (0..items)
                    .map(|_| {
                        let w = rng.range(1, range);
                        (w, rng.range(w - 10, w + 10).max(1))
                    })
                    .collect(),
                MckpFamily::StronglyCorrelated => {
                    let top = (2 * range / items.max(1) as i64).max(1);
                    let mut steps: Vec<i64> = (0..items).map(|_| rng.range(1, top)).collect();
                    steps.sort_unstable();
                    let (mut w, mut p) = (0, 0);
                    steps
                        .into_iter()
                        .map(|step| {
                            w += step;
                            p += step + 10;
                            (w, p)
                        })
                        .collect()
                }
            };
            let min = pairs.iter().map(|x| x.0).min().unwrap_or(0);
            let max = pairs.iter().map(|x| x.0).max().unwrap_or(0);
            capacity2 += (min + max) as u64;
            let offers = pairs
                .into_iter()
                .enumerate()
                .map(|(j, (w, p))| offer(j, w, p))
                .collect();
            plain(k, offers)
        })
        .collect();
    request(capacity2 / 2, candidates)
}

/// Deliverables of the Thai market with (price factor, reach factor) relative to a feed post.
const DELIVERABLES: [(&str, f64, f64); 7] = [
    ("ig_post", 1.0, 0.8),
    ("ig_story", 0.45, 0.5),
    ("ig_reel", 1.3, 1.1),
    ("tiktok_video", 1.2, 1.2),
    ("youtube_video", 2.5, 1.0),
    ("fb_post", 0.8, 0.6),
    ("live", 1.8, 0.4),
];

/// Realistic Thai-market rate cards: `kols` creators from nano to mega, 1 to 5 single
/// deliverables each plus, for most, a discounted bundle; budget `budget_share` of what booking
/// every creator's dearest item would cost.
///
/// Tier mix (nano 45 %, micro 35 %, mid 13 %, macro 5 %, mega 2 %); followers log-uniform in the
/// tier; a feed post costs about 0.5 (nano) down to 0.12 (mega) THB per follower, rounded to
/// 100 THB; reach is the tier's rate of followers (30 % nano down to 8 % mega) times the
/// deliverable's factor and +-30 % noise; a bundle of 2 or 3 deliverables costs 10-30 % less
/// than its parts and reaches 70-90 % of their sum (audiences overlap); Thai audience share
/// 55-98 % (10-50 % for one creator in ten); relevance 0.30-1.00.
pub fn thai_market(kols: usize, budget_share: f64, seed: u64) -> PlanRequest {
    let mut rng = SplitMix64::new(seed);
    let mut dearest_total = 0u64;
    let candidates: Vec<Candidate> = (0..kols)
        .map(|k| {
            let roll = rng.unit();
            let tier = match roll {
                x if x < 0.45 => FollowerTier::Nano,
                x if x < 0.80 => FollowerTier::Micro,
                x if x < 0.93 => FollowerTier::Mid,
                x if x < 0.98 => FollowerTier::Macro,
                _ => FollowerTier::Mega,
            };
            let (lo, hi) = tier.bounds();
            let (lo, hi) = (
                f64::from(lo.max(1_000)),
                f64::from(hi.unwrap_or(20_000_000)),
            );
            let followers = (lo.ln() + rng.unit() * (hi.ln() - lo.ln())).exp();
            let (thb_per_follower, reach_rate) = match tier {
                FollowerTier::Nano => (0.5, 0.30),
                FollowerTier::Micro => (0.35, 0.22),
                FollowerTier::Mid => (0.25, 0.16),
                FollowerTier::Macro => (0.18, 0.12),
                FollowerTier::Mega => (0.12, 0.08),
            };
            let post_price = followers * thb_per_follower * (0.7 + 0.6 * rng.unit());
            let post_reach = followers * reach_rate;
            let mut kinds: Vec<usize> = (0..DELIVERABLES.len()).collect();
            rng.shuffle(&mut kinds);
            kinds.truncate(rng.range(1, 5) as usize);
            let mut parts: Vec<(f64, f64)> = Vec::new();
            let mut offers: Vec<Offer> = kinds
                .iter()
                .map(|&d| {
                    let (name, pf, rf) = DELIVERABLES[d];
                    let price = round_price(post_price * pf);
                    let reach = post_reach * rf * (0.7 + 0.6 * rng.unit());
                    parts.push((price as f64, reach));
                    thai_offer(name, price, reach)
                })
                .collect();
            if parts.len() >= 2 && rng.unit() < 0.8 {
                let take = parts.len().min(rng.range(2, 3) as usize);
                let price: f64 = parts[..take].iter().map(|x| x.0).sum();
                let reach: f64 = parts[..take].iter().map(|x| x.1).sum();
                let discount = 0.7 + 0.2 * rng.unit();
                let overlap = 0.7 + 0.2 * rng.unit();
                offers.push(thai_offer(
                    "bundle",
                    round_price(price * discount),
                    reach * overlap,
                ));
            }
            dearest_total += offers
                .iter()
                .map(|o| u64::from(o.price.get()))
                .max()
                .unwrap_or(0);
            let share = if rng.unit() < 0.1 {
                rng.range(10, 50)
            } else {
                rng.range(55, 98)
            };
            let relevance = rng.range(30, 100) as f64 / 100.0;
            // Attributes for side constraints, from a generator of their own so the rate cards
            // stay as they were before these attributes: the main platform is the first item's,
            // one or two categories.
            let mut side = SplitMix64::new(seed ^ (k as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
            let platform = crate::constraints::platform_of_item(&offers[0].item);
            let first = side.range(0, THAI_CATEGORIES.len() as i64 - 1) as usize;
            let mut categories = vec![THAI_CATEGORIES[first]];
            if side.unit() < 0.4 {
                let second = side.range(0, THAI_CATEGORIES.len() as i64 - 1) as usize;
                categories.push(THAI_CATEGORIES[second]);
            }
            let mut candidate = Candidate::new(
                KolId(k as i64 + 1),
                AudienceShare::new(share).unwrap_or(AudienceShare::ALL),
                offers,
            )
            .with_relevance(Relevance::new(relevance).unwrap_or(Relevance::ONE))
            .with_tier(tier)
            .with_categories(categories.into_iter().filter_map(|c| Category::new(c).ok()));
            if let Some(p) = platform {
                candidate = candidate.with_platform(p);
            }
            candidate
        })
        .collect();
    let budget = (dearest_total as f64 * budget_share.clamp(0.0, 1.0)).round() as u64;
    PlanRequest::new(Budget::new(budget), candidates)
}

/// Categories of the Thai market's creators.
pub const THAI_CATEGORIES: [&str; 8] = [
    "beauty", "skincare", "food", "travel", "fashion", "gaming", "tech", "fitness",
];

/// Typical quotas of a Thai campaign (the example): at least 30 % of the spend on
/// TikTok, no creator above 15 % of the budget, at least 10 micro creators, at most 2 mega
/// creators, beauty and skincare covered.
pub fn typical_quotas() -> SideConstraints {
    let mut side = SideConstraints::new()
        .quota(Quota::new(Group::Platform(Platform::Tiktok)).share_pct(Some(30), None))
        .quota(Quota::new(Group::Tier(FollowerTier::Micro)).count(Some(10), None))
        .quota(Quota::new(Group::Tier(FollowerTier::Mega)).count(None, Some(2)))
        .max_creator_share_pct(15);
    side.categories = ["beauty", "skincare"]
        .into_iter()
        .filter_map(|c| Category::new(c).ok())
        .collect();
    side
}

fn round_price(thb: f64) -> i64 {
    ((thb / 100.0).round() as i64).max(1) * 100
}

fn thai_offer(name: &str, price: i64, reach: f64) -> Offer {
    Offer::new(
        DeliverableItem::new(name).unwrap_or(DeliverableItem::BUNDLE),
        PriceThb::new(price).unwrap_or(PriceThb::MAX),
        Reach::new(reach.round() as i64).unwrap_or(Reach::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_reproducible() {
        assert_eq!(thai_market(50, 0.1, 7), thai_market(50, 0.1, 7));
        assert_ne!(thai_market(50, 0.1, 7), thai_market(50, 0.1, 8));
        let kp = knapsack(KnapsackFamily::StronglyCorrelated, 100, 1000, 50, 100, 1);
        assert!(kp.candidates.iter().all(|c| {
            let o = &c.offers[0];
            o.est_reach.get() == o.price.get() + 100
        }));
        let mc = mckp(MckpFamily::StronglyCorrelated, 10, 5, 1000, 3);
        assert_eq!(mc.candidates.len(), 10);
        assert!(mc.candidates.iter().all(|c| c.offers.len() == 5));
    }

    #[test]
    fn thai_market_looks_like_the_market() {
        let req = thai_market(2_000, 0.1, 11);
        let offers: Vec<&Offer> = req.candidates.iter().flat_map(|c| &c.offers).collect();
        let bundles = offers
            .iter()
            .filter(|o| o.item == DeliverableItem::BUNDLE)
            .count();
        assert!(bundles > 500, "{bundles} bundles");
        assert!(
            offers
                .iter()
                .all(|o| o.price.get() % 100 == 0 && o.price.get() >= 100)
        );
        let dear = offers.iter().filter(|o| o.price.get() >= 100_000).count();
        assert!(
            dear > 10 && dear < offers.len() / 5,
            "{dear} items above 100k THB"
        );
    }
}
