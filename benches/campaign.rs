//! The campaign report and the calibrated reach estimator (kol-core, pure): the plan-versus-actual
//! report of a campaign of 500 creators with 20 metric snapshots each (4 deliverables per
//! creator, 5 snapshots per post, given in shuffled order), and calibrating the estimator over
//! 100,000 past posts, its lookups, and the backtest over the same posts.
//!
//! `cargo bench -p kol-benches --bench campaign`
//!
//! Before measuring, it prints the backtest's errors on the synthetic history (creators whose
//! own factor is log-normal, noisy posts, 1 % wild ones) for several shrinkage strengths.

#![allow(clippy::expect_used, clippy::unwrap_used)] // Generated data is valid; a failure is a bug to see.

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kol_core::{
    CalibratedReach, CalibrationConfig, Campaign, CampaignId, CampaignKol, CampaignKolStatus,
    CampaignPeriod, CampaignReport, CampaignStatus, ConversationId, Count, Deliverable,
    DeliverableId, DeliverableItem, DeliverableParts, DeliverableStatus, Followers, KolId,
    NewCampaign, NewSnapshot, PastPost, People, PlainText, PlanMode, PlanRecord, PlannedItem,
    Platform, Post, PostMetrics, PostUrl, PriceThb, Reach, ReachCalibration, ReachContext,
    ReachEstimator, ReportInput, Snapshot, SnapshotId, TieredReach, backtest,
};
use kol_optimizer::instances::SplitMix64;
use std::hint::black_box;
use std::time::Duration as StdDuration;

const CREATORS: i64 = 500;
const DELIVERABLES_PER_CREATOR: i64 = 4;
const SNAPSHOTS_PER_POST: i64 = 5;
const PAST_POSTS: usize = 100_000;
const PAST_CREATORS: i64 = 10_000;

/// A campaign's report input, owned.
struct CampaignData {
    campaign: Campaign,
    plan: PlanRecord,
    creators: Vec<CampaignKol>,
    deliverables: Vec<Deliverable>,
    snapshots: Vec<Snapshot>,
    as_of: DateTime<Utc>,
}

impl CampaignData {
    fn input(&self) -> ReportInput<'_> {
        ReportInput {
            campaign: &self.campaign,
            plan: Some(&self.plan),
            creators: &self.creators,
            deliverables: &self.deliverables,
            snapshots: &self.snapshots,
            as_of: self.as_of,
        }
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut SplitMix64) -> f64 {
    let u = rng.unit().max(1e-12);
    let v = rng.unit();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// 500 confirmed creators, each with a plan item, 4 posted deliverables and 5 snapshots per
/// post (views growing toward the creator's own multiple of its promised reach, log-normal
/// around 1, with reach 70 % of views, so most fall short; 2 % of snapshots lower than the one
/// before; 10 % without reach).
fn campaign_data() -> CampaignData {
    let mut rng = SplitMix64::new(12);
    let period = CampaignPeriod::new(
        start().date_naive(),
        start().date_naive() + Duration::days(30),
    )
    .unwrap();
    let items = [
        (DeliverableItem::TIKTOK_VIDEO, Platform::Tiktok),
        (DeliverableItem::IG_REEL, Platform::Instagram),
        (DeliverableItem::BUNDLE, Platform::Tiktok),
    ];
    let mut planned = Vec::new();
    let mut creators = Vec::new();
    let mut deliverables = Vec::new();
    let mut snapshots = Vec::new();
    for kol in 1..=CREATORS {
        let (item, platform) = items[(kol % 3) as usize].clone();
        let followers = (10f64.powf(3.7 + 2.5 * rng.unit())) as i64;
        let price = 500 + followers / 10;
        let creator_factor = (0.4 * normal(&mut rng)).exp();
        let est_reach = TieredReach::default()
            .estimate_reach(Followers::new(followers).unwrap())
            .get();
        planned.push(PlannedItem {
            kol_id: KolId(kol),
            item: item.clone(),
            price: PriceThb::new(price).unwrap(),
            est_reach: Reach::new(i64::from(est_reach)).unwrap(),
            reach_estimated: rng.unit() < 0.2,
            effective_reach: People::new(f64::from(est_reach) * 0.7).unwrap(),
        });
        creators.push(CampaignKol {
            campaign_id: CampaignId(1),
            kol_id: KolId(kol),
            status: CampaignKolStatus::Confirmed,
            agreed_price: Some(PriceThb::new(price + rng.range(-100, 100)).unwrap()),
            over_budget_approved: false,
        });
        for n in 0..DELIVERABLES_PER_CREATOR {
            let id = kol * DELIVERABLES_PER_CREATOR + n;
            let due_on = start().date_naive() + Duration::days(5 + 6 * n);
            let posted_at = start() + Duration::hours(24 * (5 + 6 * n) + rng.range(-48, 30));
            let url = match platform {
                Platform::Instagram => format!("https://www.instagram.com/reel/r{id}/"),
                _ => format!("https://www.tiktok.com/@creator{kol}/video/{id}"),
            };
            deliverables.push(
                Deliverable::from_parts(DeliverableParts {
                    id: DeliverableId(id),
                    campaign_id: CampaignId(1),
                    kol_id: KolId(kol),
                    conversation_id: ConversationId(kol),
                    item: item.clone(),
                    due_on,
                    status: DeliverableStatus::Posted,
                    post: Some(Post {
                        url: PostUrl::new(platform, &url).unwrap(),
                        posted_at,
                    }),
                })
                .unwrap(),
            );
            let mut views = 0i64;
            // Per snapshot, on average a 20th of the creator's multiple of its promise: four
            // posts of five snapshots add up to about that multiple.
            let step = (f64::from(est_reach) * creator_factor / 10.0) as i64 + 10;
            for s in 0..SNAPSHOTS_PER_POST {
                views = if rng.unit() < 0.02 {
                    views * 9 / 10
                } else {
                    views + rng.range(0, step)
                };
                let c = |v: i64| Count::new(v).unwrap();
                let captured_at = posted_at + Duration::hours(12 + 24 * s);
                snapshots.push(Snapshot {
                    id: SnapshotId(id * SNAPSHOTS_PER_POST + s),
                    deliverable_id: DeliverableId(id),
                    recorded_at: captured_at + Duration::hours(rng.range(0, 72)),
                    snapshot: NewSnapshot::new(
                        captured_at,
                        PostMetrics {
                            views: c(views),
                            likes: c(views / 25),
                            comments: c(views / 300),
                            shares: c(views / 500),
                            saves: c(views / 400),
                            reach: (rng.unit() >= 0.1).then(|| c(views * 7 / 10)),
                        },
                    )
                    .unwrap(),
                });
            }
        }
    }
    // Snapshots arrive late and out of order.
    rng.shuffle(&mut snapshots);
    rng.shuffle(&mut deliverables);
    rng.shuffle(&mut creators);
    let spend: i64 = planned.iter().map(|p| i64::from(p.price.get())).sum();
    let reach: f64 = planned.iter().map(|p| p.effective_reach.get()).sum();
    let plan = PlanRecord::new(
        PlanMode::Greedy,
        PriceThb::new(spend).unwrap(),
        People::new(reach).unwrap(),
        People::new(reach * 1.01).unwrap(),
        0.01,
        planned,
    )
    .unwrap();
    CampaignData {
        campaign: Campaign {
            id: CampaignId(1),
            status: CampaignStatus::Running,
            created_at: start() - Duration::days(10),
            details: NewCampaign::new(
                PlainText::new("Benchmark launch").unwrap(),
                PlainText::new("Bench Co.").unwrap(),
                PriceThb::new(spend).unwrap(),
                period,
            ),
        },
        plan,
        creators,
        deliverables,
        snapshots,
        as_of: start() + Duration::days(28),
    }
}

/// 100,000 past posts of 10,000 creators on two platforms and three items. Each creator
/// delivers its own factor of what the tiered heuristic expects (log-normal, sigma 0.5), each
/// post varies around it (sigma 0.35), and 1 % of posts are 20x off either way.
fn past_posts() -> Vec<PastPost> {
    let mut rng = SplitMix64::new(7);
    let factors: Vec<f64> = (0..PAST_CREATORS).map(|_| 0.5 * normal(&mut rng)).collect();
    let followers: Vec<u32> = (0..PAST_CREATORS)
        .map(|_| 10f64.powf(3.5 + 3.0 * rng.unit()) as u32)
        .collect();
    let items = [
        DeliverableItem::TIKTOK_VIDEO,
        DeliverableItem::IG_REEL,
        DeliverableItem::LIVE,
    ];
    (0..PAST_POSTS)
        .map(|n| {
            let c = rng.range(0, PAST_CREATORS - 1) as usize;
            let item = rng.range(0, 2) as usize;
            let expected = TieredReach::default()
                .estimate_reach(Followers::new(i64::from(followers[c])).unwrap());
            let mut log = factors[c] + 0.35 * normal(&mut rng) + 0.2 * (item as f64 - 1.0);
            if rng.unit() < 0.01 {
                log += if rng.unit() < 0.5 { 3.0 } else { -3.0 };
            }
            PastPost {
                kol_id: KolId(c as i64 + 1),
                platform: if c.is_multiple_of(4) {
                    [Platform::Tiktok, Platform::Instagram][n % 2]
                } else {
                    Platform::Tiktok
                },
                item: items[item].clone(),
                posted_at: start() - Duration::days(rng.range(0, 365)),
                expected,
                observed: Count::new((f64::from(expected.get()) * log.exp()).round() as i64)
                    .unwrap(),
            }
        })
        .collect()
}

fn report(c: &mut Criterion) {
    let data = campaign_data();
    let report = CampaignReport::build(&data.input());
    assert_eq!(report.creators.len(), CREATORS as usize);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    eprintln!(
        "report: {} creators, {} deliverables, {} snapshots, {} count drops, {} short of their promised reach",
        report.creators.len(),
        report.deliverables.len(),
        data.snapshots.len(),
        report.count_drops.len(),
        report.short_of_promised_reach.len(),
    );
    let mut group = c.benchmark_group("report");
    group
        .sample_size(20)
        .warm_up_time(StdDuration::from_secs(1))
        .measurement_time(StdDuration::from_secs(4));
    group.throughput(Throughput::Elements(data.snapshots.len() as u64));
    group.bench_function("build_500_creators_10k_snapshots", |b| {
        b.iter(|| black_box(CampaignReport::build(black_box(&data.input()))))
    });
    group.bench_function("table_500_creators", |b| {
        b.iter(|| black_box(report.to_table()))
    });
    group.bench_function("json_500_creators", |b| {
        b.iter(|| black_box(serde_json::to_string(&report).unwrap()))
    });
    group.finish();
}

fn estimator(c: &mut Criterion) {
    let posts = past_posts();
    for prior in [0, 1, 2, 4] {
        let config = CalibrationConfig::new(prior, CalibrationConfig::DEFAULT_MAX_FACTOR).unwrap();
        let bt = backtest(config, &posts);
        eprintln!("backtest on the synthetic history, prior_posts = {prior}:\n{bt}");
    }
    let calibration = ReachCalibration::learn(CalibrationConfig::default(), &posts);
    let estimator = CalibratedReach::new(TieredReach::default(), calibration);
    let items = [
        DeliverableItem::TIKTOK_VIDEO,
        DeliverableItem::IG_REEL,
        DeliverableItem::LIVE,
        DeliverableItem::IG_STORY,
    ];
    let mut rng = SplitMix64::new(3);
    let contexts: Vec<ReachContext<'_>> = (0..10_000)
        .map(|_| {
            let mut ctx = ReachContext::new(
                // A fifth of the lookups are for creators with no history.
                KolId(rng.range(1, PAST_CREATORS * 5 / 4)),
                [Platform::Tiktok, Platform::Instagram][rng.range(0, 1) as usize],
                &items[rng.range(0, 3) as usize],
            );
            ctx.followers = Some(Followers::new(rng.range(1_000, 3_000_000)).unwrap());
            ctx
        })
        .collect();

    let mut group = c.benchmark_group("estimator");
    group
        .sample_size(10)
        .warm_up_time(StdDuration::from_secs(1))
        .measurement_time(StdDuration::from_secs(5));
    group.throughput(Throughput::Elements(posts.len() as u64));
    group.bench_function("calibrate_100k_posts", |b| {
        b.iter(|| {
            black_box(ReachCalibration::learn(
                CalibrationConfig::default(),
                black_box(&posts),
            ))
        })
    });
    group.bench_function("backtest_100k_posts", |b| {
        b.iter(|| black_box(backtest(CalibrationConfig::default(), black_box(&posts))))
    });
    group.throughput(Throughput::Elements(contexts.len() as u64));
    group.bench_function("estimate_10k_lookups", |b| {
        b.iter(|| {
            for ctx in &contexts {
                black_box(estimator.estimate(black_box(ctx)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, report, estimator);
criterion_main!(benches);
