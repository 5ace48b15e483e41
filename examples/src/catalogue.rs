//! A realistic, deterministic creator catalogue for examples, tests and benchmarks.
//!
//! The same [`CatalogueSpec`] (seed included) always yields the same creators, in the same
//! order, on every machine. What it models:
//!
//! - **Categories**: each creator has a primary category (beauty, skincare, food, travel, gaming,
//!   ...) and sometimes a second one.
//! - **Followers**: log-normal (median 25,000; a long tail up to tens of millions), so every tier
//!   from nano to mega appears, most creators being nano and micro, as in real markets.
//! - **Audience**: 85 % of creators are Thai, with 55-98 % of their audience in Thailand; the rest
//!   are from neighbouring markets with 0-30 % Thai audience; 5 % have no figure.
//! - **Pictures**: one profile picture and some thumbnails per creator. Their embeddings cluster
//!   by category like CLIP embeddings of real pictures do: every category has a centre on the unit
//!   sphere, every creator a point near its categories' centres, every picture a point near its
//!   creator's.
//! - **Rate cards**: by follower tier (nano creators charge more per follower than mega ones),
//!   platform items (a TikTok video, an Instagram post, story or reel, a YouTube video...), and
//!   bundles of two or three items at a discount. Estimated reach follows
//!   [`TieredReach`] with noise; some cards have none (the fallback applies).

use std::ops::RangeInclusive;

use kol_core::{
    AudienceShare, CatalogueEntry, Categories, Category, CountryCode, DeliverableItem, Embedding,
    FollowerTier, Followers, Handle, Link, MediaKind, MediaLocation, NewKol, NewKolMedia,
    NewRateCard, PlainText, Platform, PriceThb, Reach, ReachEstimator, TieredReach,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, StandardNormal};

/// The content categories of the generated catalogue.
pub const CATEGORIES: [&str; 12] = [
    "beauty",
    "skincare",
    "food",
    "travel",
    "gaming",
    "fashion",
    "fitness",
    "tech",
    "parenting",
    "pets",
    "music",
    "finance",
];

const NAMES: [&str; 24] = [
    "Ploy", "Mint", "Fah", "Beam", "Ice", "Bell", "Pim", "Kwan", "Tong", "Bank", "Golf", "Earth",
    "Film", "Nat", "Praew", "Gift", "Jane", "Mook", "Nan", "Oil", "Pang", "View", "Yok", "Fern",
];

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueSpec {
    /// Number of creators.
    pub creators: usize,
    /// The seed: same seed, same catalogue.
    pub seed: u64,
    /// Thumbnails per creator (each creator also has one profile picture).
    pub thumbs_per_creator: RangeInclusive<usize>,
    /// Share of creators (0..=1) who sell a bundle.
    pub bundle_share: f64,
    /// Whether creators sell extra platform items beyond their main one (an IG story...).
    pub extra_items: bool,
}

impl Default for CatalogueSpec {
    fn default() -> Self {
        Self {
            creators: 5_000,
            seed: 42,
            thumbs_per_creator: 1..=3,
            bundle_share: 0.5,
            extra_items: true,
        }
    }
}

impl CatalogueSpec {
    /// A spec with `creators` creators and otherwise the defaults.
    pub fn with_creators(creators: usize) -> Self {
        Self {
            creators,
            ..Self::default()
        }
    }

    /// The creators, lazily: memory holds one creator at a time.
    pub fn generate(&self) -> CatalogueGenerator {
        CatalogueGenerator::new(self.clone())
    }
}

/// The centre of a category on the unit sphere (the direction its pictures cluster around).
pub fn category_centre(category: &str) -> Vec<f32> {
    let mut seed = 0xcbf2_9ce4_8422_2325u64; // FNV-1a of the name: stable, order-independent
    for b in category.bytes() {
        seed = (seed ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    unit(&mut rng, None, 1.0)
}

/// A brief embedding for a category: its centre plus a little noise (what a text encoder would
/// give for "a {category} campaign").
pub fn brief_for_category(category: &str, seed: u64) -> Embedding {
    let centre = category_centre(category);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    embedding(unit(&mut rng, Some(&centre), 0.02))
}

/// A random direction (or one near `around`, with per-dimension noise `sigma`), unit length.
fn unit(rng: &mut impl Rng, around: Option<&[f32]>, sigma: f32) -> Vec<f32> {
    let mut v: Vec<f32> = (0..Embedding::DIM)
        .map(|i| {
            let noise: f32 = StandardNormal.sample(rng);
            around.map_or(0.0, |c| c[i]) + sigma * noise
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    for x in &mut v {
        *x /= norm;
    }
    v
}

fn embedding(v: Vec<f32>) -> Embedding {
    // A unit vector of finite values always passes; fall back to a basis vector to stay total.
    Embedding::new(v).unwrap_or_else(|_| {
        let mut e = vec![0.0; Embedding::DIM];
        e[0] = 1.0;
        Embedding::new(e).unwrap_or_else(|_| unreachable!("a basis vector is a valid embedding"))
    })
}

/// The iterator of [`CatalogueSpec::generate`].
#[derive(Debug)]
pub struct CatalogueGenerator {
    spec: CatalogueSpec,
    rng: ChaCha8Rng,
    centres: Vec<Vec<f32>>,
    next: usize,
    followers: LogNormal<f64>,
}

impl CatalogueGenerator {
    fn new(spec: CatalogueSpec) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let centres = CATEGORIES.iter().map(|c| category_centre(c)).collect();
        // ln(25,000) = 10.13: median 25k followers.
        let followers =
            LogNormal::new(10.13, 1.6).unwrap_or_else(|_| unreachable!("valid parameters"));
        Self {
            spec,
            rng,
            centres,
            next: 0,
            followers,
        }
    }

    fn entry(&mut self, i: usize) -> CatalogueEntry {
        let rng = &mut self.rng;
        let primary = rng.random_range(0..CATEGORIES.len());
        let secondary = (rng.random_bool(0.35)).then(|| rng.random_range(0..CATEGORIES.len()));
        let platform = match rng.random_range(0..100) {
            0..45 => Platform::Tiktok,
            45..75 => Platform::Instagram,
            75..90 => Platform::Youtube,
            90..95 => Platform::Facebook,
            _ => Platform::X,
        };
        let name = NAMES[rng.random_range(0..NAMES.len())];
        // Letters and digits, at most 15 characters: valid on every platform (X allows 15).
        let username = format!("{}{}{i}", name.to_lowercase(), &CATEGORIES[primary][..2]);
        let handle = Handle::new(platform, &username)
            .unwrap_or_else(|_| unreachable!("generated usernames are valid"));
        let followers = self.followers.sample(rng).clamp(300.0, 50_000_000.0) as i64;
        let followers = Followers::new(followers).unwrap_or(Followers::MAX);
        let thai = rng.random_bool(0.85);
        let country = if thai {
            CountryCode::TH
        } else {
            let others = ["VN", "MY", "SG", "ID", "PH", "JP", "KR", "US"];
            CountryCode::new(others[rng.random_range(0..others.len())]).unwrap_or(CountryCode::TH)
        };
        let audience = if rng.random_bool(0.05) {
            None
        } else if thai {
            AudienceShare::new(rng.random_range(55..=98)).ok()
        } else {
            AudienceShare::new(rng.random_range(0..=30)).ok()
        };
        let mut categories: Categories = Category::new(CATEGORIES[primary]).into_iter().collect();
        if let Some(s) = secondary
            && let Ok(c) = Category::new(CATEGORIES[s])
        {
            categories.insert(c);
        }
        let display = format!("{name} {}", title_case(CATEGORIES[primary]));
        let mut kol = NewKol::new(handle.clone());
        kol.display_name = PlainText::new(&display).ok();
        kol.categories = categories;
        kol.followers = Some(followers);
        kol.country = Some(country);
        kol.contact = PlainText::new(&handle.profile_url()).ok();
        kol.sample_links = Link::new(&format!("{}/post/{i}", handle.profile_url()))
            .into_iter()
            .collect();
        kol.audience_th_pct = audience;
        // Numbers only: no NUL character, so the insert cannot be refused.
        let _ = kol.extra.insert(
            "generated",
            serde_json::json!({ "seed": self.spec.seed, "index": i }),
        );

        // The creator's point: near its primary category, pulled towards the secondary one.
        let mut anchor = self.centres[primary].clone();
        if let Some(s) = secondary {
            for (a, c) in anchor.iter_mut().zip(&self.centres[s]) {
                *a = 0.75 * *a + 0.25 * c;
            }
        }
        let point = unit(rng, Some(&anchor), 0.025);
        let thumbs = rng.random_range(self.spec.thumbs_per_creator.clone());
        let mut media = Vec::with_capacity(1 + thumbs);
        for t in 0..=thumbs {
            let (kind, file) = if t == 0 {
                (MediaKind::Profile, "profile".to_owned())
            } else {
                (MediaKind::Thumb, format!("thumb_{t}"))
            };
            let location = MediaLocation::new(
                PlainText::new(&format!("/data/split_images/{username}/{file}.jpg")).ok(),
                Link::new(&format!(
                    "https://storage.googleapis.com/kol-demo/{username}/{file}.jpg"
                ))
                .ok(),
            )
            .unwrap_or_else(|_| unreachable!("both locations are set"));
            media.push(NewKolMedia {
                kind,
                location,
                embedding: Some(embedding(unit(rng, Some(&point), 0.02))),
            });
        }

        let rate_cards = rate_card(rng, platform, followers, &self.spec);
        CatalogueEntry {
            kol,
            media,
            rate_cards,
        }
    }
}

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// THB per follower for one main deliverable, by tier: small creators charge more per follower.
fn thb_per_follower(tier: FollowerTier) -> f64 {
    match tier {
        FollowerTier::Nano => 0.50,
        FollowerTier::Micro => 0.25,
        FollowerTier::Mid => 0.15,
        FollowerTier::Macro => 0.10,
        FollowerTier::Mega => 0.07,
    }
}

fn rate_card(
    rng: &mut ChaCha8Rng,
    platform: Platform,
    followers: Followers,
    spec: &CatalogueSpec,
) -> Vec<NewRateCard> {
    let item = |name: &str| DeliverableItem::new(name).unwrap_or(DeliverableItem::BUNDLE);
    // (item, price factor, reach factor) relative to the main deliverable.
    let (main, extras): (DeliverableItem, Vec<(DeliverableItem, f64, f64)>) = match platform {
        Platform::Tiktok => (
            DeliverableItem::TIKTOK_VIDEO,
            vec![(DeliverableItem::LIVE, 1.5, 0.6)],
        ),
        Platform::Instagram => (
            DeliverableItem::IG_POST,
            vec![
                (DeliverableItem::IG_STORY, 0.4, 0.5),
                (DeliverableItem::IG_REEL, 1.3, 1.4),
            ],
        ),
        Platform::Youtube => (
            DeliverableItem::YOUTUBE_VIDEO,
            vec![(item("youtube_short"), 0.5, 0.8)],
        ),
        Platform::Facebook => (
            DeliverableItem::FB_POST,
            vec![(DeliverableItem::LIVE, 1.5, 0.6)],
        ),
        _ => (item("x_post"), vec![]),
    };
    let tier = FollowerTier::of(followers);
    let base_price =
        (f64::from(followers.get()) * thb_per_follower(tier) * rng.random_range(0.7..1.3))
            .max(500.0);
    let base_reach = f64::from(TieredReach::default().estimate_reach(followers).get())
        * rng.random_range(0.8..1.2);
    let price =
        |p: f64| PriceThb::new(((p / 100.0).round() * 100.0) as i64).unwrap_or(PriceThb::MAX);
    let reach = |r: f64| Reach::new(r.round() as i64).ok();

    let mut cards = vec![NewRateCard::new(
        main.clone(),
        price(base_price),
        if rng.random_bool(0.9) {
            reach(base_reach)
        } else {
            None
        },
    )];
    let mut bundle_price = base_price;
    let mut bundle_reach = base_reach;
    if spec.extra_items {
        for (extra, pf, rf) in &extras {
            if rng.random_bool(0.6) {
                let (p, r) = (base_price * pf, base_reach * rf);
                cards.push(NewRateCard::new(extra.clone(), price(p), reach(r)));
                bundle_price += p;
                bundle_reach += r;
            }
        }
    }
    if rng.random_bool(spec.bundle_share.clamp(0.0, 1.0)) {
        if bundle_price == base_price {
            // A bundle of two main deliverables.
            bundle_price *= 2.0;
            bundle_reach *= 1.6;
        }
        // Bundles sell at a discount; their audiences overlap.
        cards.push(NewRateCard::new(
            DeliverableItem::BUNDLE,
            price(bundle_price * 0.8),
            reach(bundle_reach * 0.75),
        ));
    }
    cards
}

impl Iterator for CatalogueGenerator {
    type Item = CatalogueEntry;

    fn next(&mut self) -> Option<CatalogueEntry> {
        if self.next >= self.spec.creators {
            return None;
        }
        let i = self.next;
        self.next += 1;
        Some(self.entry(i))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.spec.creators - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for CatalogueGenerator {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_catalogue() {
        let spec = CatalogueSpec::with_creators(50);
        let a: Vec<_> = spec.generate().collect();
        let b: Vec<_> = spec.generate().collect();
        assert_eq!(a, b);
        let other: Vec<_> = CatalogueSpec { seed: 7, ..spec }.generate().collect();
        assert_ne!(a, other);
    }

    #[test]
    fn the_catalogue_is_realistic() {
        let all: Vec<_> = CatalogueSpec::with_creators(2_000).generate().collect();
        assert_eq!(all.len(), 2_000);
        let tiers: std::collections::BTreeSet<_> =
            all.iter().filter_map(|e| e.kol.tier()).collect();
        assert_eq!(tiers.len(), 5, "every tier appears");
        let thai = all
            .iter()
            .filter(|e| e.kol.country == Some(CountryCode::TH))
            .count();
        assert!((1_500..1_900).contains(&thai), "{thai}");
        let handles: std::collections::HashSet<_> =
            all.iter().map(|e| e.kol.handle.clone()).collect();
        assert_eq!(handles.len(), all.len(), "handles are unique");
        for e in &all {
            assert!(!e.rate_cards.is_empty());
            let items: std::collections::HashSet<_> =
                e.rate_cards.iter().map(|c| &c.item).collect();
            assert_eq!(items.len(), e.rate_cards.len(), "distinct items");
            assert!((2..=4).contains(&e.media.len()));
        }
    }

    #[test]
    fn pictures_cluster_by_category() {
        let all: Vec<_> = CatalogueSpec::with_creators(300).generate().collect();
        let brief = brief_for_category("gaming", 1);
        let gaming = Category::new("gaming").unwrap();
        let mut scored: Vec<(f64, bool)> = all
            .iter()
            .map(|e| {
                let best = e
                    .media
                    .iter()
                    .filter_map(|m| m.embedding.as_ref())
                    .map(|m| brief.cosine_distance(m))
                    .fold(f64::INFINITY, f64::min);
                (best, e.kol.categories.contains(&gaming))
            })
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
        let top = &scored[..10];
        assert!(
            top.iter().all(|(_, is_gaming)| *is_gaming),
            "the 10 nearest creators are gaming creators"
        );
    }
}
