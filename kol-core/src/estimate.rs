//! Reach estimates that learn from results: a creator's own past posts calibrate the first
//! figure (the rate card's `est_reach`, or the follower heuristic) for its next deliverables.
//!
//! # The model
//!
//! Every past post gives one ratio, *observed / expected*: what the post reached (its reach
//! when the platform reports one, else its views, see [`PastPost::observed_from`]) over what was
//! expected of it when it was planned. The calibration works in logarithms, so "twice as much"
//! and "half as much" weigh the same, and each log ratio is clamped to
//! `±ln(max_factor)` ([`CalibrationConfig::max_factor`]; a post that reached no one counts as
//! the lowest ratio). Posts whose expected reach was 0 say nothing about a ratio and are skipped
//! (counted in [`ReachCalibration::posts_skipped`]).
//!
//! Per creator and platform, the factor is the **median** log ratio of the creator's posts on
//! that platform (a single wild post cannot move a median far), shrunk toward "no change" as if
//! [`CalibrationConfig::prior_posts`] more posts had delivered exactly what was expected:
//!
//! ```text
//! platform factor  f_p = median_p * n_p / (n_p + s)
//! item factor      f_i = (n_i * median_i + s * f_p) / (n_i + s)
//! estimate         = first figure * exp(f_i)           (f_p when the item has no posts)
//! ```
//!
//! So one post moves the estimate a little, many posts that agree move it (almost) all the way,
//! and an item the creator never posted on this platform uses the platform's factor. A creator
//! with no history on the platform gets the inner estimator's figure unchanged.
//!
//! Everything is deterministic and independent of the order of the posts (medians of sorted
//! values, maps ordered by key).
//!
//! [`backtest`] measures it: it holds out each creator's latest post, calibrates on the rest,
//! and compares how far the plain first figures and the calibrated ones are from what the
//! held-out posts reached.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{CoreError, Result};
use crate::ids::KolId;
use crate::metrics::{Followers, PG_INTEGER_MAX, Reach};
use crate::platform::Platform;
use crate::rate_card::{
    Calibration, DeliverableItem, ReachContext, ReachEstimate, ReachEstimator, ReachSource,
    TieredReach,
};
use crate::results::{Count, PostMetrics};

/// How strongly the calibration trusts a creator's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct CalibrationConfig {
    prior_posts: u32,
    max_factor: u32,
}

impl CalibrationConfig {
    /// Default [`prior_posts`](Self::prior_posts): one imaginary post that delivered exactly what
    /// was expected, so a single real post moves the estimate half way (in log terms), four
    /// posts 80 %.
    pub const DEFAULT_PRIOR_POSTS: u32 = 1;
    /// Default [`max_factor`](Self::max_factor): no post counts as more than 100 times (or less
    /// than a hundredth of) what was expected.
    pub const DEFAULT_MAX_FACTOR: u32 = 100;
    /// Largest accepted `max_factor`.
    pub const MAX_MAX_FACTOR: u32 = 1_000_000;

    /// Checks and builds a configuration.
    ///
    /// # Errors
    /// [`CoreError::OutOfRange`] naming `max_factor` unless `1 <= max_factor <= 1,000,000`
    /// (`1` turns calibration off).
    pub fn new(prior_posts: u32, max_factor: u32) -> Result<Self> {
        if !(1..=Self::MAX_MAX_FACTOR).contains(&max_factor) {
            return Err(CoreError::OutOfRange {
                field: "max_factor",
                value: i128::from(max_factor),
                min: 1,
                max: i128::from(Self::MAX_MAX_FACTOR),
            });
        }
        Ok(Self {
            prior_posts,
            max_factor,
        })
    }

    /// Imaginary posts at "no change" that every creator's history is shrunk toward (`0`: trust
    /// the history fully, even a single post).
    pub fn prior_posts(&self) -> u32 {
        self.prior_posts
    }

    /// No post's ratio observed / expected counts as more than `max_factor` or less than
    /// `1 / max_factor`.
    pub fn max_factor(&self) -> u32 {
        self.max_factor
    }
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        Self {
            prior_posts: Self::DEFAULT_PRIOR_POSTS,
            max_factor: Self::DEFAULT_MAX_FACTOR,
        }
    }
}

/// One past post of a creator: what was expected of it and what it reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PastPost {
    /// The creator.
    pub kol_id: KolId,
    /// Where it was posted.
    pub platform: Platform,
    /// The rate-card item it delivered.
    pub item: DeliverableItem,
    /// When it went up (the backtest holds out each creator's latest).
    pub posted_at: DateTime<Utc>,
    /// The reach expected of it when it was planned (the plan's `est_reach`).
    pub expected: Reach,
    /// What it reached ([`PastPost::observed_from`]).
    pub observed: Count,
}

impl PastPost {
    /// What a post reached, from its latest metrics: the reach when the platform reports one,
    /// else the views (which count people who watched twice twice, so they overstate reach).
    pub fn observed_from(metrics: &PostMetrics) -> Count {
        metrics.reach.unwrap_or(metrics.views)
    }

    /// Its log ratio observed / expected, clamped to `±max_log`; `None` when nothing was expected.
    fn log_ratio(&self, max_log: f64) -> Option<f64> {
        let expected = self.expected.get();
        if expected == 0 {
            return None;
        }
        let observed = self.observed.get();
        if observed == 0 {
            return Some(-max_log);
        }
        // u64 and u32 to f64 round to 53 bits at worst; the ratio stays finite and positive.
        let ratio = observed as f64 / f64::from(expected);
        Some(ratio.ln().clamp(-max_log, max_log))
    }

    /// A total order on posts (latest last), for choosing the held-out post deterministically.
    fn order_key(&self) -> (DateTime<Utc>, Platform, &DeliverableItem, Reach, Count) {
        (
            self.posted_at,
            self.platform,
            &self.item,
            self.expected,
            self.observed,
        )
    }
}

/// The factor learned for one creator, platform and item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LearnedFactor {
    /// What the first figure is multiplied by.
    pub factor: f64,
    /// Past posts of the creator on the platform (any item) it learned from.
    pub platform_posts: u32,
    /// Of those, the posts of this item.
    pub item_posts: u32,
}

#[derive(Debug, Clone, PartialEq)]
struct ItemHistory {
    log_factor: f64,
    posts: u32,
}

#[derive(Debug, Clone, PartialEq)]
struct PlatformHistory {
    log_factor: f64,
    posts: u32,
    items: BTreeMap<DeliverableItem, ItemHistory>,
}

/// Per-creator factors learned from past posts (see the [module docs](self) for the model).
#[derive(Debug, Clone, PartialEq)]
pub struct ReachCalibration {
    config: CalibrationConfig,
    creators: BTreeMap<(KolId, Platform), PlatformHistory>,
    posts_used: u32,
    posts_skipped: u32,
}

impl ReachCalibration {
    /// Learns the factors from `posts` (any order; the same posts give the same calibration).
    pub fn learn<'a>(
        config: CalibrationConfig,
        posts: impl IntoIterator<Item = &'a PastPost>,
    ) -> Self {
        let max_log = f64::from(config.max_factor).ln();
        let mut skipped = 0usize;
        let mut entries: Vec<(&PastPost, f64)> = Vec::new();
        for post in posts {
            match post.log_ratio(max_log) {
                Some(lr) => entries.push((post, lr)),
                None => skipped += 1,
            }
        }
        entries.sort_unstable_by(|(a, la), (b, lb)| {
            (a.kol_id, a.platform, &a.item)
                .cmp(&(b.kol_id, b.platform, &b.item))
                .then(la.total_cmp(lb))
        });
        let prior = f64::from(config.prior_posts);
        let mut creators = BTreeMap::new();
        let mut scratch: Vec<f64> = Vec::new();
        for group in
            entries.chunk_by(|(a, _), (b, _)| (a.kol_id, a.platform) == (b.kol_id, b.platform))
        {
            let (first, _) = group[0];
            scratch.clear();
            scratch.extend(group.iter().map(|(_, lr)| *lr));
            scratch.sort_unstable_by(f64::total_cmp);
            let n_p = group.len() as f64;
            let platform_log = median_of_sorted(&scratch) * n_p / (n_p + prior);
            let mut items = BTreeMap::new();
            for item_group in group.chunk_by(|(a, _), (b, _)| a.item == b.item) {
                // Sorted by log ratio within an item already.
                scratch.clear();
                scratch.extend(item_group.iter().map(|(_, lr)| *lr));
                let n_i = item_group.len() as f64;
                let item_log =
                    (n_i * median_of_sorted(&scratch) + prior * platform_log) / (n_i + prior);
                items.insert(
                    item_group[0].0.item.clone(),
                    ItemHistory {
                        log_factor: item_log,
                        posts: saturating_u32(item_group.len()),
                    },
                );
            }
            creators.insert(
                (first.kol_id, first.platform),
                PlatformHistory {
                    log_factor: platform_log,
                    posts: saturating_u32(group.len()),
                    items,
                },
            );
        }
        Self {
            config,
            creators,
            posts_used: saturating_u32(entries.len()),
            posts_skipped: saturating_u32(skipped),
        }
    }

    /// The configuration it learned with.
    pub fn config(&self) -> CalibrationConfig {
        self.config
    }

    /// Posts it learned from.
    pub fn posts_used(&self) -> u32 {
        self.posts_used
    }

    /// Posts it skipped because nothing was expected of them (expected reach 0).
    pub fn posts_skipped(&self) -> u32 {
        self.posts_skipped
    }

    /// Creator-and-platform pairs with a history.
    pub fn histories(&self) -> usize {
        self.creators.len()
    }

    /// The factor for a creator's item on a platform; `None` when the creator has no history
    /// on that platform.
    pub fn factor(
        &self,
        kol_id: KolId,
        platform: Platform,
        item: &DeliverableItem,
    ) -> Option<LearnedFactor> {
        let history = self.creators.get(&(kol_id, platform))?;
        let (log_factor, item_posts) = history
            .items
            .get(item)
            .map_or((history.log_factor, 0), |i| (i.log_factor, i.posts));
        Some(LearnedFactor {
            factor: log_factor.exp(),
            platform_posts: history.posts,
            item_posts,
        })
    }

    /// `base` adjusted by the creator's factor, with the factor; `None` when the creator has no
    /// history on that platform.
    pub fn apply(
        &self,
        kol_id: KolId,
        platform: Platform,
        item: &DeliverableItem,
        base: Reach,
    ) -> Option<(Reach, LearnedFactor)> {
        self.factor(kol_id, platform, item)
            .map(|f| (scale(base, f.factor), f))
    }
}

/// The median of sorted, non-empty values (the mean of the two middle ones for an even count).
fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `base x factor`, rounded to the nearest person and kept within a [`Reach`].
fn scale(base: Reach, factor: f64) -> Reach {
    let people = (f64::from(base.get()) * factor).round();
    // `as` saturates (and maps NaN to 0); the clamp keeps it within the database's INTEGER.
    let people = (people as i64).clamp(0, i64::from(PG_INTEGER_MAX));
    Reach::new(people).unwrap_or(Reach::MAX)
}

/// A [`ReachEstimator`] that adjusts an inner estimator's figure by what each creator's own past
/// posts delivered (see the [module docs](self)); [`TieredReach`] inside by default.
///
/// [`estimate`](ReachEstimator::estimate) takes the inner estimator's figure (the card's reach,
/// or its heuristic) and multiplies it by the creator's learned factor for the platform and
/// item; a creator with no history there gets the inner figure unchanged.
/// [`estimate_reach`](ReachEstimator::estimate_reach) knows no creator, so it is the inner
/// heuristic.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibratedReach<E = TieredReach> {
    inner: E,
    calibration: ReachCalibration,
}

impl CalibratedReach<TieredReach> {
    /// [`TieredReach`]'s defaults, calibrated from `posts` with the default configuration.
    pub fn from_history<'a>(posts: impl IntoIterator<Item = &'a PastPost>) -> Self {
        Self::new(
            TieredReach::default(),
            ReachCalibration::learn(CalibrationConfig::default(), posts),
        )
    }
}

impl<E: ReachEstimator> CalibratedReach<E> {
    /// `inner`'s figures adjusted by `calibration`.
    pub fn new(inner: E, calibration: ReachCalibration) -> Self {
        Self { inner, calibration }
    }

    /// The estimator whose figures are adjusted.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    /// The learned factors.
    pub fn calibration(&self) -> &ReachCalibration {
        &self.calibration
    }
}

impl<E: ReachEstimator> ReachEstimator for CalibratedReach<E> {
    fn estimate_reach(&self, followers: Followers) -> Reach {
        self.inner.estimate_reach(followers)
    }

    fn estimate(&self, context: &ReachContext<'_>) -> Option<ReachEstimate> {
        let base = self.inner.estimate(context)?;
        let Some((reach, learned)) =
            self.calibration
                .apply(context.kol_id, context.platform, context.item, base.reach)
        else {
            return Some(base);
        };
        Some(ReachEstimate {
            reach,
            source: ReachSource::Calibrated(Calibration {
                basis: base.source.basis(),
                base_reach: base.reach,
                factor: learned.factor,
                platform_posts: learned.platform_posts,
                item_posts: learned.item_posts,
            }),
        })
    }
}

/// How far predictions were from what held-out posts reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PredictionError {
    /// Posts compared.
    pub posts: u32,
    /// The median of `|ln(predicted / observed)|`, both floored at 1 person (`0.1` is about
    /// 10 % off either way); `None` with no posts.
    pub median_abs_log_error: Option<f64>,
    /// The mean of `|predicted - observed| / observed` over the posts that reached someone, as a
    /// fraction (`0.25` = 25 %); `None` when none did.
    pub mean_abs_pct_error: Option<f64>,
}

impl PredictionError {
    fn of(pairs: impl Iterator<Item = (u64, u64)> + Clone) -> Self {
        let mut log_errors: Vec<f64> = pairs
            .clone()
            .map(|(predicted, observed)| {
                ((predicted.max(1) as f64).ln() - (observed.max(1) as f64).ln()).abs()
            })
            .collect();
        log_errors.sort_unstable_by(f64::total_cmp);
        let pct: Vec<f64> = pairs
            .filter(|&(_, observed)| observed > 0)
            .map(|(predicted, observed)| predicted.abs_diff(observed) as f64 / observed as f64)
            .collect();
        Self {
            posts: saturating_u32(log_errors.len()),
            median_abs_log_error: (!log_errors.is_empty()).then(|| median_of_sorted(&log_errors)),
            mean_abs_pct_error: (!pct.is_empty())
                .then(|| pct.iter().sum::<f64>() / pct.len() as f64),
        }
    }
}

/// One held-out post of the [`backtest`]: what it reached and what each estimate said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldOutPost {
    /// The post (its `expected` is the plain first figure).
    pub post: PastPost,
    /// The calibrated estimate from the creator's other posts.
    pub calibrated: Reach,
    /// The creator's other posts on the platform the calibration used (0: no history there, the
    /// calibrated estimate is the plain one).
    pub history_posts: u32,
}

/// The result of [`backtest`]: plain first figures versus calibrated estimates on held-out
/// posts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    /// The configuration calibrated with.
    pub config: CalibrationConfig,
    /// The held-out posts (each creator's latest), by creator.
    pub held_out: Vec<HeldOutPost>,
    /// Creators with a single post, which is kept for calibration (nothing to learn from for
    /// their own prediction) and not held out.
    pub creators_with_one_post: u32,
    /// Error of the plain first figures (each post's `expected`: the rate card or the tiered
    /// heuristic the plan used).
    pub plain: PredictionError,
    /// Error of the calibrated estimates.
    pub calibrated: PredictionError,
}

/// Holds out each creator's latest post (by `posted_at`; creators with a single post keep it),
/// calibrates on all the other posts with `config`, and compares, on the held-out posts, the
/// error of the plain first figure (the post's `expected`) with the calibrated estimate
/// (`expected` adjusted by the creator's learned factor). Deterministic and independent of the
/// order of `posts`.
pub fn backtest(config: CalibrationConfig, posts: &[PastPost]) -> Backtest {
    let mut latest: BTreeMap<KolId, (usize, usize)> = BTreeMap::new();
    for (index, post) in posts.iter().enumerate() {
        latest
            .entry(post.kol_id)
            .and_modify(|(count, at)| {
                *count += 1;
                if post.order_key() > posts[*at].order_key() {
                    *at = index;
                }
            })
            .or_insert((1, index));
    }
    let held: Vec<usize> = latest
        .values()
        .filter(|(count, _)| *count >= 2)
        .map(|&(_, at)| at)
        .collect();
    let mut is_held = vec![false; posts.len()];
    for &at in &held {
        is_held[at] = true;
    }
    let calibration = ReachCalibration::learn(
        config,
        posts
            .iter()
            .zip(&is_held)
            .filter(|(_, h)| !**h)
            .map(|(p, _)| p),
    );
    let held_out: Vec<HeldOutPost> = held
        .iter()
        .map(|&at| {
            let post = &posts[at];
            let (calibrated, history_posts) = calibration
                .apply(post.kol_id, post.platform, &post.item, post.expected)
                .map_or((post.expected, 0), |(r, f)| (r, f.platform_posts));
            HeldOutPost {
                post: post.clone(),
                calibrated,
                history_posts,
            }
        })
        .collect();
    let plain = PredictionError::of(
        held_out
            .iter()
            .map(|h| (u64::from(h.post.expected.get()), h.post.observed.get())),
    );
    let calibrated = PredictionError::of(
        held_out
            .iter()
            .map(|h| (u64::from(h.calibrated.get()), h.post.observed.get())),
    );
    Backtest {
        config,
        creators_with_one_post: saturating_u32(latest.values().filter(|(c, _)| *c == 1).count()),
        held_out,
        plain,
        calibrated,
    }
}

impl std::fmt::Display for Backtest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let num = |x: Option<f64>, scale: f64, unit: &str| {
            x.map_or_else(|| "n/a".to_owned(), |v| format!("{:.2}{unit}", v * scale))
        };
        writeln!(
            f,
            "held-out posts: {} (each creator's latest; {} creators with a single post not held out)",
            self.held_out.len(),
            self.creators_with_one_post
        )?;
        writeln!(
            f,
            "{:<28} {:>16} {:>14}",
            "", "median |ln err|", "mean |% err|"
        )?;
        for (name, e) in [
            ("plain (card or heuristic)", &self.plain),
            ("calibrated", &self.calibrated),
        ] {
            writeln!(
                f,
                "{:<28} {:>16} {:>14}",
                name,
                num(e.median_abs_log_error, 1.0, ""),
                num(e.mean_abs_pct_error, 100.0, " %")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn post(kol: i64, item: &DeliverableItem, day: u32, expected: i64, observed: i64) -> PastPost {
        PastPost {
            kol_id: KolId(kol),
            platform: Platform::Tiktok,
            item: item.clone(),
            posted_at: Utc.with_ymd_and_hms(2026, 1, day, 12, 0, 0).unwrap(),
            expected: Reach::new(expected).unwrap(),
            observed: Count::new(observed).unwrap(),
        }
    }

    #[test]
    fn config_checks_its_factor() {
        assert!(CalibrationConfig::new(0, 1).is_ok());
        assert!(matches!(
            CalibrationConfig::new(1, 0),
            Err(CoreError::OutOfRange {
                field: "max_factor",
                ..
            })
        ));
        assert!(CalibrationConfig::new(1, 1_000_001).is_err());
    }

    #[test]
    fn factors_follow_the_formula() {
        let video = DeliverableItem::TIKTOK_VIDEO;
        let live = DeliverableItem::LIVE;
        // Three videos at 2x, one live at 0.5x: platform median of ln [0.5, 2, 2, 2] = ln 2.
        let posts = vec![
            post(1, &video, 1, 1_000, 2_000),
            post(1, &video, 2, 1_000, 2_000),
            post(1, &video, 3, 1_000, 2_000),
            post(1, &live, 4, 1_000, 500),
            post(2, &video, 1, 0, 500),
        ];
        let cal = ReachCalibration::learn(CalibrationConfig::new(1, 100).unwrap(), &posts);
        assert_eq!(
            (cal.posts_used(), cal.posts_skipped(), cal.histories()),
            (4, 1, 1)
        );
        let ln2 = 2f64.ln();
        let platform = ln2 * 4.0 / 5.0;
        let v = cal.factor(KolId(1), Platform::Tiktok, &video).unwrap();
        assert!((v.factor.ln() - (3.0 * ln2 + platform) / 4.0).abs() < 1e-12);
        assert_eq!((v.platform_posts, v.item_posts), (4, 3));
        let l = cal.factor(KolId(1), Platform::Tiktok, &live).unwrap();
        assert!((l.factor.ln() - (-ln2 + platform) / 2.0).abs() < 1e-12);
        let story = cal
            .factor(KolId(1), Platform::Tiktok, &DeliverableItem::IG_STORY)
            .unwrap();
        assert!((story.factor.ln() - platform).abs() < 1e-12);
        assert_eq!(story.item_posts, 0);
        assert!(cal.factor(KolId(1), Platform::Instagram, &video).is_none());
        assert!(cal.factor(KolId(2), Platform::Tiktok, &video).is_none());
        assert_eq!(
            cal.apply(
                KolId(1),
                Platform::Tiktok,
                &DeliverableItem::IG_STORY,
                Reach::new(1_000).unwrap()
            )
            .map(|(r, _)| r.get()),
            Some((platform.exp() * 1_000.0).round() as u32)
        );
    }

    #[test]
    fn zero_reach_is_the_lowest_ratio_and_scaling_saturates() {
        let video = DeliverableItem::TIKTOK_VIDEO;
        let posts = vec![
            post(1, &video, 1, 1_000, 0),
            post(2, &video, 1, 1, i64::MAX),
        ];
        let cal = ReachCalibration::learn(CalibrationConfig::new(0, 100).unwrap(), &posts);
        let low = cal.factor(KolId(1), Platform::Tiktok, &video).unwrap();
        let high = cal.factor(KolId(2), Platform::Tiktok, &video).unwrap();
        assert!((low.factor - 0.01).abs() < 1e-12 && (high.factor - 100.0).abs() < 1e-9);
        let (r, _) = cal
            .apply(KolId(2), Platform::Tiktok, &video, Reach::MAX)
            .unwrap();
        assert_eq!(r, Reach::MAX);
    }

    #[test]
    fn calibrated_estimates_say_where_they_came_from() {
        let video = DeliverableItem::TIKTOK_VIDEO;
        let posts = vec![
            post(1, &video, 1, 1_000, 3_000),
            post(1, &video, 2, 1_000, 3_000),
        ];
        let est = CalibratedReach::new(
            TieredReach::default(),
            ReachCalibration::learn(CalibrationConfig::new(0, 100).unwrap(), &posts),
        );
        let mut ctx = ReachContext::new(KolId(1), Platform::Tiktok, &video);
        assert_eq!(est.estimate(&ctx), None, "no card, no followers");
        ctx.followers = Some(Followers::new(50_000).unwrap());
        let e = est.estimate(&ctx).unwrap();
        assert_eq!(e.reach.get(), 33_000);
        let ReachSource::Calibrated(c) = e.source else {
            panic!("{e:?}")
        };
        assert_eq!(
            (c.basis, c.base_reach.get(), c.platform_posts, c.item_posts),
            (crate::ReachBasis::FollowerHeuristic, 11_000, 2, 2)
        );
        ctx.card_reach = Some(Reach::new(500).unwrap());
        assert_eq!(est.estimate(&ctx).unwrap().reach.get(), 1_500);
        let other = ReachContext {
            kol_id: KolId(9),
            ..ctx
        };
        assert_eq!(
            est.estimate(&other),
            TieredReach::default().estimate(&other)
        );
        assert_eq!(
            est.estimate_reach(Followers::new(50_000).unwrap()).get(),
            11_000
        );
    }

    #[test]
    fn backtest_holds_out_each_creators_latest_post() {
        let video = DeliverableItem::TIKTOK_VIDEO;
        let posts = vec![
            post(1, &video, 3, 1_000, 2_000),
            post(1, &video, 1, 1_000, 2_000),
            post(1, &video, 2, 1_000, 2_000),
            post(2, &video, 1, 1_000, 900),
        ];
        let bt = backtest(CalibrationConfig::new(0, 100).unwrap(), &posts);
        assert_eq!(bt.held_out.len(), 1);
        assert_eq!(bt.creators_with_one_post, 1);
        let h = &bt.held_out[0];
        assert_eq!(
            (h.post.posted_at, h.calibrated.get(), h.history_posts),
            (posts[0].posted_at, 2_000, 2)
        );
        assert_eq!(bt.plain.mean_abs_pct_error, Some(0.5));
        assert_eq!(bt.calibrated.mean_abs_pct_error, Some(0.0));
        assert!((bt.plain.median_abs_log_error.unwrap() - 2f64.ln()).abs() < 1e-12);
        let text = bt.to_string();
        assert!(
            text.contains("held-out posts: 1") && text.contains("50.00 %"),
            "{text}"
        );
        let empty = backtest(CalibrationConfig::default(), &[]);
        assert_eq!(
            empty.plain,
            PredictionError {
                posts: 0,
                median_abs_log_error: None,
                mean_abs_pct_error: None
            }
        );
    }
}
