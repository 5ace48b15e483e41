//! Properties of the calibrated reach estimator: with no history it is its fallback exactly,
//! with consistent history (every post k times what was expected) it predicts k times, a single
//! wild post among many moves it little, and it is deterministic and independent of the order
//! of the posts (the backtest too).

use chrono::{DateTime, Duration, TimeZone, Utc};
use kol_core::*;
use proptest::prelude::*;

/// Cases per estimator property.
const CASES: u32 = 300;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(CASES)
    }
}

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap() + Duration::days(d)
}

fn item(i: usize) -> DeliverableItem {
    [
        DeliverableItem::TIKTOK_VIDEO,
        DeliverableItem::IG_REEL,
        DeliverableItem::LIVE,
    ][i % 3]
        .clone()
}

fn platform(i: usize) -> Platform {
    [Platform::Tiktok, Platform::Instagram][i % 2]
}

/// Past posts of creators 1 to 6, with any expected and observed figures.
fn posts() -> impl Strategy<Value = Vec<PastPost>> {
    proptest::collection::vec(
        (
            1i64..7,
            0usize..2,
            0usize..3,
            0i64..60,
            prop_oneof![1 => Just(0i64), 9 => 0i64..200_000],
            prop_oneof![1 => Just(0i64), 8 => 0i64..400_000, 1 => (i64::MAX - 9)..=i64::MAX],
        ),
        0..60,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(kol, p, i, d, expected, observed)| PastPost {
                kol_id: KolId(kol),
                platform: platform(p),
                item: item(i),
                posted_at: day(d),
                expected: Reach::new(expected).unwrap(),
                observed: Count::new(observed).unwrap(),
            })
            .collect()
    })
}

/// What a deliverable's estimate is asked with.
fn context_parts() -> impl Strategy<Value = (i64, usize, usize, Option<i64>, Option<i64>)> {
    (
        1i64..9,
        0usize..2,
        0usize..3,
        proptest::option::of(0i64..5_000_000),
        proptest::option::of(0i64..2_000_000),
    )
}

fn calibration_config() -> impl Strategy<Value = CalibrationConfig> {
    (0u32..5, 1u32..1_000).prop_map(|(prior, max)| CalibrationConfig::new(prior, max).unwrap())
}

/// A ratio k = p / q (between 1/20 and 20) and posts that each delivered exactly k times what
/// was expected (expected a multiple of q, so observed is exact).
fn consistent_history() -> impl Strategy<Value = (u32, u32, Vec<PastPost>)> {
    (1u32..=20, 1u32..=20).prop_flat_map(|(p, q)| {
        proptest::collection::vec((1u32..2_000, 0i64..60), 1..25).prop_map(move |v| {
            let posts = v
                .into_iter()
                .map(|(m, d)| PastPost {
                    kol_id: KolId(1),
                    platform: Platform::Tiktok,
                    item: DeliverableItem::TIKTOK_VIDEO,
                    posted_at: day(d),
                    expected: Reach::new(i64::from(m * q)).unwrap(),
                    observed: Count::new(i64::from(m * p)).unwrap(),
                })
                .collect();
            (p, q, posts)
        })
    })
}

fn estimate(
    est: &impl ReachEstimator,
    (kol, p, i, followers, card): (i64, usize, usize, Option<i64>, Option<i64>),
) -> Option<ReachEstimate> {
    let item = item(i);
    let mut ctx = ReachContext::new(KolId(kol), platform(p), &item);
    ctx.followers = followers.map(|f| Followers::new(f).unwrap());
    ctx.card_reach = card.map(|r| Reach::new(r).unwrap());
    est.estimate(&ctx)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn with_no_history_it_is_its_fallback(
        posts in posts(),
        cfg in calibration_config(),
        parts in context_parts(),
    ) {
        let est = CalibratedReach::new(TieredReach::default(), ReachCalibration::learn(cfg, &posts));
        let (kol, p, ..) = parts;
        let has_history = posts.iter().any(|x| x.kol_id == KolId(kol) && x.platform == platform(p) && x.expected.get() > 0);
        let got = estimate(&est, parts);
        let fallback = estimate(&TieredReach::default(), parts);
        if has_history {
            prop_assert_eq!(got.map(|e| e.source.basis()), fallback.map(|e| e.source.basis()));
            prop_assert!(matches!(got.map(|e| e.source), Some(ReachSource::Calibrated(_)) | None));
        } else {
            prop_assert_eq!(got, fallback);
        }
        // Nothing learned at all: always the fallback.
        let none = CalibratedReach::new(TieredReach::default(), ReachCalibration::learn(cfg, &[]));
        prop_assert_eq!(estimate(&none, parts), fallback);
        if let Some(f) = parts.3 {
            let f = Followers::new(f).unwrap();
            prop_assert_eq!(est.estimate_reach(f), TieredReach::default().estimate_reach(f));
        }
    }

    #[test]
    fn consistent_history_predicts_k_times_expected(
        (p, q, posts) in consistent_history(),
        base in 0u32..2_000_000,
        prior in 1u32..5,
    ) {
        let k = f64::from(p) / f64::from(q);
        let base_reach = Reach::new(i64::from(base)).unwrap();
        let item = DeliverableItem::TIKTOK_VIDEO;
        // Trusting the history fully: exactly k x base, up to rounding to whole people.
        let full = ReachCalibration::learn(CalibrationConfig::new(0, 100).unwrap(), &posts);
        let (got, learned) = full.apply(KolId(1), Platform::Tiktok, &item, base_reach).unwrap();
        prop_assert!((f64::from(got.get()) - k * f64::from(base)).abs() <= 1.0, "{} vs {}", got.get(), k * f64::from(base));
        prop_assert_eq!(learned.item_posts as usize, posts.len());
        // Shrunk: between base and k x base, exactly as the formula says, and nearer k x base
        // the more posts agree.
        let shrunk = ReachCalibration::learn(CalibrationConfig::new(prior, 100).unwrap(), &posts);
        let f = shrunk.factor(KolId(1), Platform::Tiktok, &item).unwrap().factor;
        let (n, s) = (posts.len() as f64, f64::from(prior));
        let platform_log = k.ln() * n / (n + s);
        let item_log = (n * k.ln() + s * platform_log) / (n + s);
        prop_assert!((f.ln() - item_log).abs() < 1e-9);
        prop_assert!(f.ln().abs() <= k.ln().abs() + 1e-12 && f.ln() * k.ln() >= 0.0);
    }

    #[test]
    fn a_single_wild_post_moves_the_estimate_little(
        (p, q, posts) in consistent_history(),
        more in 5usize..20,
        wild in prop_oneof![Just(0i64), 1_000_000i64..i64::MAX],
    ) {
        // At least `more` agreeing posts, then one that is wildly off.
        let mut posts = posts;
        while posts.len() < more {
            let mut extra = posts[0].clone();
            extra.posted_at += Duration::days(posts.len() as i64);
            posts.push(extra);
        }
        let cfg = CalibrationConfig::default();
        let item = DeliverableItem::TIKTOK_VIDEO;
        let before = ReachCalibration::learn(cfg, &posts).factor(KolId(1), Platform::Tiktok, &item).unwrap().factor;
        let mut outlier = posts[0].clone();
        outlier.observed = Count::new(wild).unwrap();
        posts.push(outlier);
        let after = ReachCalibration::learn(cfg, &posts).factor(KolId(1), Platform::Tiktok, &item).unwrap().factor;
        let k = f64::from(p) / f64::from(q);
        // The wild post is at least 20x off...
        let wild_ratio = (wild as f64 / f64::from(posts[0].expected.get())).max(1e-300) / k;
        prop_assert!(wild_ratio >= 20.0 || wild_ratio <= 1.0 / 20.0 || wild == 0);
        // ...and the estimate moves by at most |ln k| / (n (n + 1)) in log terms (the median
        // stays at k; only the shrinkage weight changes), a few percent at most.
        let n = (posts.len() - 1) as f64;
        let moved = (after.ln() - before.ln()).abs();
        prop_assert!(moved <= k.ln().abs() / (n * (n + 1.0)) + 1e-12, "moved {moved}");
        prop_assert!(moved < 0.03);
    }

    #[test]
    fn calibration_is_deterministic_and_order_independent(
        (posts, shuffled) in posts().prop_flat_map(|p| (Just(p.clone()), Just(p).prop_shuffle())),
        cfg in calibration_config(),
        parts in context_parts(),
    ) {
        let a = ReachCalibration::learn(cfg, &posts);
        let b = ReachCalibration::learn(cfg, &shuffled);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, &ReachCalibration::learn(cfg, &posts));
        prop_assert_eq!((a.posts_used() + a.posts_skipped()) as usize, posts.len());
        let ea = CalibratedReach::new(TieredReach::default(), a);
        let eb = CalibratedReach::new(TieredReach::default(), b);
        prop_assert_eq!(estimate(&ea, parts), estimate(&eb, parts));
        let ba = backtest(cfg, &posts);
        let bb = backtest(cfg, &shuffled);
        prop_assert_eq!(&ba, &bb);
        for e in [&ba.plain, &ba.calibrated] {
            prop_assert!(e.median_abs_log_error.is_none_or(|x| x.is_finite() && x >= 0.0));
            prop_assert!(e.mean_abs_pct_error.is_none_or(|x| x.is_finite() && x >= 0.0));
        }
        prop_assert!(serde_json::to_string(&ba).is_ok() && !ba.to_string().is_empty());
    }

    #[test]
    fn the_backtest_finds_consistent_creators_exactly(
        creators in proptest::collection::vec((1u32..=10, 1u32..=10, 2usize..8), 1..8),
    ) {
        // Each creator delivers its own k = p / q on every post: calibrated on all but its
        // latest post (trusting history fully), it predicts the latest exactly.
        let mut posts = Vec::new();
        for (c, &(p, q, n)) in creators.iter().enumerate() {
            for j in 0..n {
                let m = 100 + j as u32 * 37;
                posts.push(PastPost {
                    kol_id: KolId(c as i64 + 1),
                    platform: Platform::Instagram,
                    item: DeliverableItem::IG_REEL,
                    posted_at: day(j as i64),
                    expected: Reach::new(i64::from(m * q)).unwrap(),
                    observed: Count::new(i64::from(m * p)).unwrap(),
                });
            }
        }
        let bt = backtest(CalibrationConfig::new(0, 100).unwrap(), &posts);
        prop_assert_eq!(bt.held_out.len(), creators.len());
        prop_assert_eq!(bt.creators_with_one_post, 0);
        for h in &bt.held_out {
            prop_assert_eq!(h.post.posted_at, posts.iter().filter(|p| p.kol_id == h.post.kol_id).map(|p| p.posted_at).max().unwrap());
            prop_assert!(h.calibrated.get().abs_diff(h.post.observed.get() as u32) <= 1);
        }
        let plain = bt.plain.median_abs_log_error.unwrap();
        let calibrated = bt.calibrated.median_abs_log_error.unwrap();
        prop_assert!(calibrated <= 1e-2 && calibrated <= plain + 1e-12, "{calibrated} vs {plain}");
    }
}
