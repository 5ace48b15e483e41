//! Properties of the campaign report: it does not depend on the order of its inputs, its
//! totals are the sums of its rows, every ratio is finite and matches its definition, a count
//! drop is flagged exactly when a later capture of a post has a lower count, delivery states and
//! reach verdicts follow their definitions, and no input panics it (zero views, no snapshots,
//! no plan, snapshots of unknown deliverables, repeated ids, huge counts).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use kol_core::*;
use proptest::prelude::*;

/// Cases per report property.
const CASES: u32 = 300;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(CASES)
    }
}

const CAMPAIGN: CampaignId = CampaignId(1);

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
}

/// A time within 30 days of the start, on the hour (so ties happen).
fn hour() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..30 * 24).prop_map(|h| start() + Duration::hours(h))
}

fn due_day() -> impl Strategy<Value = NaiveDate> {
    (0i64..30).prop_map(|d| start().date_naive() + Duration::days(d))
}

fn item(i: usize) -> DeliverableItem {
    [
        DeliverableItem::TIKTOK_VIDEO,
        DeliverableItem::IG_POST,
        DeliverableItem::LIVE,
    ][i % 3]
        .clone()
}

/// Mostly small counts (so drops are frequent), sometimes zero, sometimes near `i64::MAX`.
fn count() -> impl Strategy<Value = Count> {
    prop_oneof![
        8 => 0i64..40,
        1 => Just(0i64),
        1 => (i64::MAX - 5)..=i64::MAX,
    ]
    .prop_map(|v| Count::new(v).unwrap())
}

fn metrics() -> impl Strategy<Value = PostMetrics> {
    (
        count(),
        count(),
        count(),
        count(),
        count(),
        proptest::option::weighted(0.6, count()),
    )
        .prop_map(
            |(views, likes, comments, shares, saves, reach)| PostMetrics {
                views,
                likes,
                comments,
                shares,
                saves,
                reach,
            },
        )
}

fn campaign(budget: i64) -> Campaign {
    let period = CampaignPeriod::new(
        start().date_naive(),
        start().date_naive() + Duration::days(29),
    )
    .unwrap();
    Campaign {
        id: CAMPAIGN,
        status: CampaignStatus::Running,
        created_at: start(),
        details: NewCampaign::new(
            PlainText::new("Launch").unwrap(),
            PlainText::new("Brand").unwrap(),
            PriceThb::new(budget).unwrap(),
            period,
        ),
    }
}

/// A report's input, owned.
#[derive(Debug, Clone)]
struct Input {
    campaign: Campaign,
    plan: Option<PlanRecord>,
    creators: Vec<CampaignKol>,
    deliverables: Vec<Deliverable>,
    snapshots: Vec<Snapshot>,
    as_of: DateTime<Utc>,
}

impl Input {
    fn report(&self) -> CampaignReport {
        CampaignReport::build(&ReportInput {
            campaign: &self.campaign,
            plan: self.plan.as_ref(),
            creators: &self.creators,
            deliverables: &self.deliverables,
            snapshots: &self.snapshots,
            as_of: self.as_of,
        })
    }
}

fn creators() -> impl Strategy<Value = Vec<CampaignKol>> {
    proptest::collection::vec(
        (
            1i64..9,
            0usize..5,
            proptest::option::weighted(0.8, 0i64..100_000),
            any::<bool>(),
            proptest::bool::weighted(0.1),
        ),
        0..10,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(kol, status, price, over, foreign)| CampaignKol {
                campaign_id: if foreign { CampaignId(2) } else { CAMPAIGN },
                kol_id: KolId(kol),
                status: CampaignKolStatus::ALL[status],
                agreed_price: price.map(|p| PriceThb::new(p).unwrap()),
                over_budget_approved: over,
            })
            .collect()
    })
}

fn plan() -> impl Strategy<Value = Option<PlanRecord>> {
    proptest::option::of(proptest::collection::vec(
        (
            1i64..9,
            0usize..3,
            0i64..50_000,
            0i64..100_000,
            any::<bool>(),
        ),
        0..8,
    ))
    .prop_map(|items| {
        items.map(|items| {
            let mut seen = std::collections::BTreeSet::new();
            let items: Vec<PlannedItem> = items
                .into_iter()
                .filter(|(kol, ..)| seen.insert(*kol))
                .map(|(kol, i, price, reach, estimated)| PlannedItem {
                    kol_id: KolId(kol),
                    item: item(i),
                    price: PriceThb::new(price).unwrap(),
                    est_reach: Reach::new(reach).unwrap(),
                    reach_estimated: estimated,
                    effective_reach: People::new(reach as f64 * 0.45).unwrap(),
                })
                .collect();
            let spend: i64 = items.iter().map(|i| i64::from(i.price.get())).sum();
            let reach: f64 = items.iter().map(|i| i.effective_reach.get()).sum();
            PlanRecord::new(
                PlanMode::Greedy,
                PriceThb::new(spend).unwrap(),
                People::new(reach).unwrap(),
                People::new(reach + 1.0).unwrap(),
                0.0,
                items,
            )
            .unwrap()
        })
    })
}

/// Deliverables; ids are unique unless `repeats`.
fn deliverables(repeats: bool) -> impl Strategy<Value = Vec<Deliverable>> {
    proptest::collection::vec(
        (
            1i64..15,
            1i64..9,
            0usize..3,
            due_day(),
            0usize..6,
            hour(),
            proptest::bool::weighted(0.05),
        ),
        0..12,
    )
    .prop_map(move |v| {
        v.into_iter()
            .enumerate()
            .map(|(at, (id, kol, i, due_on, status, posted_at, foreign))| {
                let status = DeliverableStatus::ALL[status];
                let url = format!("https://www.tiktok.com/@k{kol}/video/{at}");
                Deliverable::from_parts(DeliverableParts {
                    id: DeliverableId(if repeats { id } else { at as i64 + 1 }),
                    campaign_id: if foreign { CampaignId(2) } else { CAMPAIGN },
                    kol_id: KolId(kol),
                    conversation_id: ConversationId(kol),
                    item: item(i),
                    due_on,
                    status,
                    post: status.is_posted().then(|| Post {
                        url: PostUrl::new(Platform::Tiktok, &url).unwrap(),
                        posted_at,
                    }),
                })
                .unwrap()
            })
            .collect()
    })
}

/// Snapshots of deliverables 1 to 14 (some unknown); ids unique unless `repeats`.
fn snapshots(repeats: bool) -> impl Strategy<Value = Vec<Snapshot>> {
    proptest::collection::vec((1i64..40, 1i64..15, hour(), metrics()), 0..40).prop_map(move |v| {
        v.into_iter()
            .enumerate()
            .map(|(at, (id, deliverable, captured_at, metrics))| Snapshot {
                id: SnapshotId(if repeats { id } else { at as i64 + 1 }),
                deliverable_id: DeliverableId(deliverable),
                recorded_at: captured_at,
                snapshot: NewSnapshot::new(captured_at, metrics).unwrap(),
            })
            .collect()
    })
}

fn input(repeats: bool) -> impl Strategy<Value = Input> {
    (
        0i64..300_000,
        plan(),
        creators(),
        deliverables(repeats),
        snapshots(repeats),
        hour(),
    )
        .prop_map(
            |(budget, plan, creators, deliverables, snapshots, as_of)| Input {
                campaign: campaign(budget),
                plan,
                creators,
                deliverables,
                snapshots,
                as_of,
            },
        )
}

/// An input and the same input with its lists shuffled.
fn input_and_shuffled() -> impl Strategy<Value = (Input, Input)> {
    input(true).prop_flat_map(|i| {
        let original = i.clone();
        (
            Just(i.creators).prop_shuffle(),
            Just(i.deliverables).prop_shuffle(),
            Just(i.snapshots).prop_shuffle(),
        )
            .prop_map(move |(creators, deliverables, snapshots)| {
                let shuffled = Input {
                    creators,
                    deliverables,
                    snapshots,
                    ..original.clone()
                };
                (original.clone(), shuffled)
            })
    })
}

/// CPM, CPE and engagement rate as the module docs define them.
fn expected_ratios(spend: u64, views: u64, engagements: u64) -> [Option<f64>; 3] {
    let spend = spend as f64;
    [
        (views > 0).then(|| spend * 1_000.0 / views as f64),
        (engagements > 0).then(|| spend / engagements as f64),
        (views > 0).then(|| engagements as f64 / views as f64),
    ]
}

/// A sum of counts, saturating at `u64::MAX` as the report's sums do.
fn saturating_sum(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0, u64::saturating_add)
}

/// The snapshots of a posted deliverable the report should use, in capture order (ties by id).
fn valid_series<'a>(input: &'a Input, line: &DeliverableLine) -> Vec<&'a Snapshot> {
    let Some(posted_at) = line.posted_at else {
        return Vec::new();
    };
    let mut series: Vec<&Snapshot> = input
        .snapshots
        .iter()
        .filter(|s| s.deliverable_id == line.id && s.snapshot.captured_at() >= posted_at)
        .collect();
    series.sort_by_key(|s| (s.snapshot.captured_at(), s.id));
    series
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_report_does_not_depend_on_input_order((original, shuffled) in input_and_shuffled()) {
        let a = original.report();
        let b = shuffled.report();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.to_table(), b.to_table());
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    }

    #[test]
    fn totals_are_the_sums_of_the_rows(input in input(true)) {
        let r = input.report();
        let t = &r.totals;
        let rows = &r.creators;
        prop_assert!(rows.windows(2).all(|w| w[0].kol_id < w[1].kol_id), "rows by id, once each");
        prop_assert_eq!(t.creators as usize, rows.len());
        prop_assert_eq!(t.confirmed as usize, rows.iter().filter(|c| c.status == Some(CampaignKolStatus::Confirmed)).count());
        prop_assert_eq!(t.spend, rows.iter().map(|c| c.spend).sum::<u64>());
        prop_assert_eq!(t.planned_spend, rows.iter().filter_map(|c| c.planned.as_ref()).map(|p| u64::from(p.price.get())).sum::<u64>());
        prop_assert_eq!(t.planned_est_reach, rows.iter().filter_map(|c| c.planned.as_ref()).map(|p| u64::from(p.est_reach.get())).sum::<u64>());
        let eff: f64 = rows.iter().filter_map(|c| c.planned.as_ref()).map(|p| p.effective_reach.get()).sum();
        prop_assert_eq!(t.planned_effective_reach, eff);
        if let Some(plan) = &input.plan {
            prop_assert_eq!(t.planned_spend, plan.spend(), "every plan item has a row");
        }
        prop_assert_eq!(t.views, saturating_sum(rows.iter().map(|c| c.views)));
        prop_assert_eq!(t.reach, saturating_sum(rows.iter().map(|c| c.reach)));
        prop_assert_eq!(t.posts_with_reach, rows.iter().map(|c| c.posts_with_reach).sum::<u32>());
        prop_assert_eq!(t.engagements, saturating_sum(rows.iter().map(|c| c.engagements)));
        prop_assert_eq!(t.count_drops, rows.iter().map(|c| c.count_drops).sum::<u32>());
        prop_assert_eq!(t.count_drops as usize, r.count_drops.len());
        let total = |f: fn(&DeliveryCounts) -> u32| rows.iter().map(|c| f(&c.deliverables)).sum::<u32>();
        let d = &t.deliverables;
        prop_assert_eq!(
            [d.total, d.posted, d.measured, d.on_time, d.posted_late, d.overdue, d.late, d.missed, d.pending],
            [total(|d| d.total), total(|d| d.posted), total(|d| d.measured), total(|d| d.on_time),
             total(|d| d.posted_late), total(|d| d.overdue), total(|d| d.late), total(|d| d.missed),
             total(|d| d.pending)]
        );
        prop_assert_eq!(d.total as usize, r.deliverables.len());
        let short: Vec<KolId> = rows.iter().filter(|c| matches!(c.reach_verdict, ReachVerdict::Short { .. })).map(|c| c.kol_id).collect();
        prop_assert_eq!(&short, &r.short_of_promised_reach);
        prop_assert_eq!(t.short_of_promised_reach as usize, short.len());
        let b = &r.budget;
        prop_assert_eq!(b.spend, t.spend);
        prop_assert_eq!(b.budget, u64::from(input.campaign.details.budget.get()));
        prop_assert_eq!(b.remaining + t.spend.min(b.budget), b.budget);
        prop_assert_eq!(b.overrun, t.spend.saturating_sub(b.budget));
        prop_assert_eq!(b.overrun_approved, rows.iter().any(|c| c.over_budget_approved));
        // Row membership: plan items, creators past the shortlist, creators with deliverables.
        for c in rows {
            let listed = input.creators.iter().any(|k| k.campaign_id == CAMPAIGN && k.kol_id == c.kol_id
                && !matches!(k.status, CampaignKolStatus::Shortlisted | CampaignKolStatus::Dropped));
            let planned = input.plan.as_ref().is_some_and(|p| p.item_for(c.kol_id).is_some());
            let delivers = r.deliverables.iter().any(|l| l.kol_id == c.kol_id);
            prop_assert!(listed || planned || delivers, "creator {} has no reason for a row", c.kol_id);
        }
    }

    #[test]
    fn ratios_are_finite_and_match_their_definitions(input in input(true)) {
        let r = input.report();
        for c in &r.creators {
            let got = [c.cpm, c.cpe, c.engagement_rate];
            prop_assert_eq!(got, expected_ratios(c.spend, c.views, c.engagements));
            prop_assert!(got.iter().flatten().all(|x| x.is_finite() && *x >= 0.0));
        }
        let t = &r.totals;
        let got = [t.cpm, t.cpe, t.engagement_rate];
        prop_assert_eq!(got, expected_ratios(t.spend, t.views, t.engagements));
        prop_assert!(got.iter().flatten().all(|x| x.is_finite() && *x >= 0.0));
        // serde_json refuses NaN and infinities, so the JSON is complete.
        let json = serde_json::to_value(&r).unwrap();
        prop_assert_eq!(json["creators"].as_array().map(Vec::len), Some(r.creators.len()));
    }

    #[test]
    fn a_drop_is_flagged_exactly_when_a_later_capture_is_lower(input in input(false)) {
        let r = input.report();
        type Get = fn(&PostMetrics) -> Option<Count>;
        let fields: [(&str, Get); 6] = [
            ("views", |m| Some(m.views)),
            ("likes", |m| Some(m.likes)),
            ("comments", |m| Some(m.comments)),
            ("shares", |m| Some(m.shares)),
            ("saves", |m| Some(m.saves)),
            ("reach", |m| m.reach),
        ];
        for line in &r.deliverables {
            let series = valid_series(&input, line);
            prop_assert_eq!(line.snapshots as usize, series.len());
            prop_assert_eq!(line.latest.map(|l| l.id), series.last().map(|s| s.id));
            let drops: Vec<&CountDrop> = r.count_drops.iter().filter(|d| d.deliverable_id == line.id).collect();
            for (name, get) in fields {
                let values: Vec<Count> = series.iter().filter_map(|s| get(s.snapshot.metrics())).collect();
                let expected = values.iter().enumerate().any(|(i, a)| values[i + 1..].iter().any(|b| b < a));
                let flagged = drops.iter().any(|d| d.counts.contains(&name));
                prop_assert_eq!(flagged, expected, "{} of deliverable {}", name, line.id);
            }
            // Every flagged drop is real: the later capture comes later and is lower.
            let by_id = |id: SnapshotId| series.iter().position(|s| s.id == id);
            for d in &drops {
                let (Some(i), Some(j)) = (by_id(d.earlier), by_id(d.later)) else {
                    return Err(TestCaseError::fail("a drop names a snapshot the report did not use"));
                };
                prop_assert!(i < j);
                prop_assert_eq!(d.kol_id, line.kol_id);
                for name in &d.counts {
                    let (_, get) = fields.iter().find(|(n, _)| n == name).unwrap();
                    prop_assert!(get(series[j].snapshot.metrics()) < get(series[i].snapshot.metrics()));
                }
            }
        }
    }

    #[test]
    fn delivery_and_verdicts_follow_their_definitions(input in input(false)) {
        let r = input.report();
        for line in &r.deliverables {
            let d = input.deliverables.iter().find(|d| d.id() == line.id).unwrap();
            let due_passed = input.as_of.date_naive() > line.due_on;
            let expected = match (d.post(), d.status()) {
                (Some(p), _) if p.posted_at.date_naive() > line.due_on => DeliveryState::PostedLate,
                (Some(_), _) => DeliveryState::OnTime,
                (None, DeliverableStatus::Missed) => DeliveryState::Missed,
                (None, _) if due_passed => DeliveryState::Overdue,
                (None, _) => DeliveryState::Pending,
            };
            prop_assert_eq!(line.state, expected);
        }
        for c in &r.creators {
            let lines: Vec<&DeliverableLine> = r.deliverables.iter().filter(|l| l.kol_id == c.kol_id).collect();
            prop_assert_eq!(c.deliverables.total as usize, lines.len());
            let latest = lines.iter().filter_map(|l| l.latest);
            prop_assert_eq!(c.views, saturating_sum(latest.clone().map(|l| l.metrics.views.get())));
            prop_assert_eq!(c.engagements, saturating_sum(latest.clone().map(|l| u64::try_from(l.metrics.engagements()).unwrap_or(u64::MAX))));
            let delivered = saturating_sum(latest.clone().map(|l| PastPost::observed_from(&l.metrics).get()));
            let settled = lines.iter().filter(|l| l.latest.is_some() || l.state == DeliveryState::Missed).count();
            let promise = c.planned.as_ref().filter(|p| !p.reach_estimated && c.status == Some(CampaignKolStatus::Confirmed));
            match c.reach_verdict {
                ReachVerdict::Met { promised, delivered: got, .. } => {
                    prop_assert_eq!(Some(promised), promise.map(|p| p.est_reach.get()));
                    prop_assert!(settled == lines.len() && !lines.is_empty());
                    prop_assert_eq!(got, delivered);
                    prop_assert!(got >= u64::from(promised));
                }
                ReachVerdict::Short { promised, delivered: got, shortfall, .. } => {
                    prop_assert_eq!(Some(promised), promise.map(|p| p.est_reach.get()));
                    prop_assert!(settled == lines.len() && !lines.is_empty());
                    prop_assert_eq!(got, delivered);
                    prop_assert_eq!(got + shortfall, u64::from(promised));
                    prop_assert!(shortfall > 0);
                }
                ReachVerdict::Pending { settled: s, deliverables } => {
                    prop_assert!(promise.is_some());
                    prop_assert_eq!((s as usize, deliverables as usize), (settled, lines.len()));
                    prop_assert!(settled < lines.len() || lines.is_empty());
                }
                ReachVerdict::NotPlanned => prop_assert!(c.planned.is_none()),
                ReachVerdict::NotConfirmed => prop_assert!(c.status != Some(CampaignKolStatus::Confirmed)),
                ReachVerdict::Estimated => prop_assert!(c.planned.as_ref().is_some_and(|p| p.reach_estimated)),
            }
        }
    }

    #[test]
    fn no_input_panics_the_report(input in input(true), drop_plan in any::<bool>()) {
        let mut input = input;
        if drop_plan {
            input.plan = None;
        }
        let r = input.report();
        let table = r.to_table();
        prop_assert!(table.lines().count() >= r.creators.len() + 4);
        prop_assert!(r.warnings.windows(2).all(|w| w[0] < w[1]), "warnings sorted, once each");
        let json = serde_json::to_string(&r).unwrap();
        prop_assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
        // History for the estimator: measured posts of rate-card promises, shares that add up
        // to at most the promise.
        let posts = r.past_posts();
        for c in &r.creators {
            let mine: Vec<&PastPost> = posts.iter().filter(|p| p.kol_id == c.kol_id).collect();
            if let Some(planned) = c.planned.as_ref().filter(|p| !p.reach_estimated) {
                let expected: u64 = mine.iter().map(|p| u64::from(p.expected.get())).sum();
                prop_assert!(expected <= u64::from(planned.est_reach.get()) + mine.len() as u64);
                prop_assert!(mine.iter().all(|p| p.item == planned.item));
            } else {
                prop_assert!(mine.is_empty());
            }
        }
        prop_assert!(posts.len() <= r.totals.deliverables.measured as usize);
    }
}
