//! Plan versus actual for one campaign: a pure computation from what kol-db stores (the
//! campaign, its saved plan, its creators, deliverables and metric snapshots) to one row per
//! creator and the campaign's totals, as JSON (`Serialize`) or a plain-text table (`Display`).
//!
//! [`CampaignReport::build`] never fails and never panics: whatever it is given, it reports
//! what it can and lists what it set aside in [`CampaignReport::warnings`]. Its result does not
//! depend on the order of its inputs.
//!
//! # What each figure means
//!
//! - **Rows**: one per creator that is in the plan, past the shortlist (planned, contacted or
//!   confirmed), or has a deliverable; by creator id. A creator only shortlisted or dropped,
//!   outside the plan and with no deliverable, has no row.
//! - **Spend**: the agreed price of each *confirmed* creator; **planned spend**: the price of
//!   the creator's plan item. Campaign totals are the sums of the rows.
//! - **Budget**: the campaign's budget, the spend, what remains, and the **overrun** (spend
//!   above the budget); `overrun_approved` says whether a confirmation was explicitly allowed
//!   to take the campaign over budget.
//! - **Posts**: a deliverable that is posted or verified. Each post counts with its **latest
//!   snapshot** by capture time (ties by snapshot id), whatever order snapshots arrived in.
//!   A post without any snapshot yet is *unmeasured*: it counts as posted (on time or late) but
//!   adds nothing to views, reach or engagements; `measured` counts the posts with a snapshot.
//! - **Views**, **engagements** (likes + comments + shares + saves) and **reach** are sums over
//!   the measured posts' latest snapshots; reach sums only the posts whose platform reported a
//!   reach (`posts_with_reach` says how many did). Reach summed over several posts counts a
//!   person who saw two of them twice. Sums saturate at `u64::MAX` (1.8e19, far beyond any real
//!   count; each snapshot count is at most `i64::MAX`), so every figure fits a JSON integer.
//! - **CPM** = spend x 1,000 / views (THB per thousand views), **CPE** = spend / engagements
//!   (THB per engagement), **engagement rate** = engagements / views. Each is `None` when its
//!   denominator is 0, never NaN or infinite.
//! - **Delivery**: each deliverable is exactly one of *on time* (posted by the end of its due
//!   day, UTC), *posted late* (posted after it), *overdue* (not posted, not marked missed, and
//!   its due day ended before `as_of`), *missed* (marked missed) or *pending* (not posted, due
//!   day not over as of `as_of`). **Late** = posted late + overdue.
//! - **Count drops**: between two consecutive snapshots of one post (in capture order), the
//!   counts that went down, with both snapshots and their capture times. A count that went down
//!   anywhere between an earlier and a later capture shows up here (some consecutive pair went
//!   down too).
//! - **Reach promised versus delivered** ([`ReachVerdict`]): only a *confirmed* creator whose
//!   plan item's `est_reach` came from its rate card (`reach_estimated == false`) promised a
//!   reach. The verdict waits until every deliverable of the creator is *settled*: posted and
//!   measured, or missed (a missed deliverable delivers nothing). Then the delivered reach is the
//!   sum over its posts of the latest reach, or the views where the platform reports no reach:
//!   views count repeat viewers, so they can only overstate reach, and a creator short on views
//!   is certainly short on reach. The verdict follows the latest snapshots: a later snapshot can
//!   turn "short" into "met".
//!
//! # Inconsistent input
//!
//! kol-db's constraints prevent all of these, but the report is pure and takes any input: it
//! ignores, and lists as a [`ReportWarning`], creators and deliverables of another campaign,
//! repeated ids (keeping one deterministically), snapshots of an unknown or unposted
//! deliverable and snapshots captured before their post went up. It counts, with a warning,
//! a deliverable of a creator that is not confirmed, a deliverable of an item other than the
//! creator's plan item, and a confirmed creator without an agreed price (spend 0).
//!
//! `as_of` only decides which unposted deliverables are overdue: every snapshot given counts,
//! whenever it was captured.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt::{self, Write as _};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::campaign::{
    Campaign, CampaignKol, CampaignKolStatus, CampaignPeriod, PlanMode, PlanRecord, PlannedItem,
};
use crate::deliverable::{Deliverable, DeliverableStatus};
use crate::estimate::PastPost;
use crate::ids::{CampaignId, DeliverableId, KolId, SnapshotId};
use crate::metrics::Reach;
use crate::platform::Platform;
use crate::rate_card::DeliverableItem;
use crate::results::{PostMetrics, Snapshot};

/// Everything a report is computed from, in any order.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The campaign.
    pub campaign: &'a Campaign,
    /// Its saved plan, if it has one (a campaign may run without).
    pub plan: Option<&'a PlanRecord>,
    /// Its creators.
    pub creators: &'a [CampaignKol],
    /// Its deliverables.
    pub deliverables: &'a [Deliverable],
    /// The metric snapshots of its posts.
    pub snapshots: &'a [Snapshot],
    /// The moment the report describes: a deliverable not posted by the end of its due day is
    /// overdue once this moment is past that day.
    pub as_of: DateTime<Utc>,
}

/// Where one deliverable stands (each is exactly one of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Posted by the end of its due day (UTC).
    OnTime,
    /// Posted after the end of its due day.
    PostedLate,
    /// Not posted (nor marked missed), and its due day is over.
    Overdue,
    /// Marked missed.
    Missed,
    /// Not posted, and its due day is not over yet.
    Pending,
}

impl DeliveryState {
    /// The state of `deliverable` as of `as_of`.
    pub fn of(deliverable: &Deliverable, as_of: DateTime<Utc>) -> Self {
        let due_on = deliverable.parts().due_on;
        match (deliverable.post(), deliverable.status()) {
            (Some(post), _) if post.posted_at.date_naive() <= due_on => Self::OnTime,
            (Some(_), _) => Self::PostedLate,
            (None, DeliverableStatus::Missed) => Self::Missed,
            (None, _) if as_of.date_naive() > due_on => Self::Overdue,
            (None, _) => Self::Pending,
        }
    }
}

/// Deliverables by [`DeliveryState`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounts {
    /// All deliverables.
    pub total: u32,
    /// Posted (on time or late).
    pub posted: u32,
    /// Posted with at least one snapshot.
    pub measured: u32,
    /// Posted on time.
    pub on_time: u32,
    /// Posted late.
    pub posted_late: u32,
    /// Overdue.
    pub overdue: u32,
    /// Late: posted late or overdue.
    pub late: u32,
    /// Missed.
    pub missed: u32,
    /// Not due yet.
    pub pending: u32,
}

impl DeliveryCounts {
    fn add(&mut self, state: DeliveryState, measured: bool) {
        self.total += 1;
        match state {
            DeliveryState::OnTime => self.on_time += 1,
            DeliveryState::PostedLate => self.posted_late += 1,
            DeliveryState::Overdue => self.overdue += 1,
            DeliveryState::Missed => self.missed += 1,
            DeliveryState::Pending => self.pending += 1,
        }
        self.posted = self.on_time + self.posted_late;
        self.late = self.posted_late + self.overdue;
        self.measured += u32::from(measured);
    }

    fn sum(&mut self, other: &Self) {
        self.total += other.total;
        self.posted += other.posted;
        self.measured += other.measured;
        self.on_time += other.on_time;
        self.posted_late += other.posted_late;
        self.overdue += other.overdue;
        self.late += other.late;
        self.missed += other.missed;
        self.pending += other.pending;
    }
}

/// A post's latest snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LatestSnapshot {
    /// The snapshot.
    pub id: SnapshotId,
    /// When it was captured.
    pub captured_at: DateTime<Utc>,
    /// Its counts.
    pub metrics: PostMetrics,
}

/// One deliverable in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliverableLine {
    /// The deliverable.
    pub id: DeliverableId,
    /// Its creator.
    pub kol_id: KolId,
    /// The item it delivers.
    pub item: DeliverableItem,
    /// Its due day.
    pub due_on: NaiveDate,
    /// Its stored status.
    pub status: DeliverableStatus,
    /// Where it stands as of the report.
    pub state: DeliveryState,
    /// When its post went up.
    pub posted_at: Option<DateTime<Utc>>,
    /// The platform of its post.
    pub platform: Option<Platform>,
    /// The snapshots of its post the report used.
    pub snapshots: u32,
    /// The latest of them.
    pub latest: Option<LatestSnapshot>,
}

/// Counts of one post that went down between two consecutive snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountDrop {
    /// The creator.
    pub kol_id: KolId,
    /// The deliverable whose post it is.
    pub deliverable_id: DeliverableId,
    /// The earlier snapshot.
    pub earlier: SnapshotId,
    /// When it was captured.
    pub earlier_captured_at: DateTime<Utc>,
    /// The later snapshot, with the lower counts.
    pub later: SnapshotId,
    /// When it was captured.
    pub later_captured_at: DateTime<Utc>,
    /// The counts that went down (`views`, `likes`, `comments`, `shares`, `saves`, `reach`).
    pub counts: Vec<&'static str>,
}

/// Whether a creator delivered the reach its rate card promised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum ReachVerdict {
    /// The creator is not in the plan.
    NotPlanned,
    /// The creator is not confirmed: it agreed to nothing.
    NotConfirmed,
    /// The plan's reach for the creator was an estimate, not the rate card's figure.
    Estimated,
    /// Some deliverables are not settled yet (posted and measured, or missed).
    Pending {
        /// Deliverables settled.
        settled: u32,
        /// All deliverables.
        deliverables: u32,
    },
    /// Delivered at least the promised reach.
    Met {
        /// The rate card's reach.
        promised: u32,
        /// Reach delivered (views where the platform gives no reach).
        delivered: u64,
        /// Posts whose views stood in for reach.
        views_stood_in: u32,
    },
    /// Delivered less than the promised reach.
    Short {
        /// The rate card's reach.
        promised: u32,
        /// Reach delivered (views where the platform gives no reach).
        delivered: u64,
        /// `promised - delivered`.
        shortfall: u64,
        /// Posts whose views stood in for reach.
        views_stood_in: u32,
    },
}

/// Spend and results of one creator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreatorRow {
    /// The creator.
    pub kol_id: KolId,
    /// Where it is in the campaign (`None`: not among the campaign's creators, though in the
    /// plan or with deliverables).
    pub status: Option<CampaignKolStatus>,
    /// Its plan item.
    pub planned: Option<PlannedItem>,
    /// Its agreed price, if confirmed, else 0 (THB).
    pub spend: u64,
    /// Whether its confirmation was allowed to take the campaign over budget.
    pub over_budget_approved: bool,
    /// Its deliverables.
    pub deliverables: DeliveryCounts,
    /// Views of its measured posts.
    pub views: u64,
    /// Reach of its measured posts that report one.
    pub reach: u64,
    /// Measured posts that report a reach.
    pub posts_with_reach: u32,
    /// Likes + comments + shares + saves of its measured posts.
    pub engagements: u64,
    /// Count drops found in its posts' snapshots.
    pub count_drops: u32,
    /// THB per 1,000 views.
    pub cpm: Option<f64>,
    /// THB per engagement.
    pub cpe: Option<f64>,
    /// Engagements per view.
    pub engagement_rate: Option<f64>,
    /// Whether it delivered the reach its rate card promised.
    pub reach_verdict: ReachVerdict,
}

/// The campaign's totals: sums of the creator rows, and the ratios of those sums.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportTotals {
    /// Rows.
    pub creators: u32,
    /// Confirmed creators.
    pub confirmed: u32,
    /// Sum of the plan items' prices (THB).
    pub planned_spend: u64,
    /// Sum of the plan items' `est_reach`.
    pub planned_est_reach: u64,
    /// Sum of the plan items' effective reach.
    pub planned_effective_reach: f64,
    /// Spend (THB).
    pub spend: u64,
    /// Deliverables.
    pub deliverables: DeliveryCounts,
    /// Views.
    pub views: u64,
    /// Reach (posts that report one).
    pub reach: u64,
    /// Measured posts that report a reach.
    pub posts_with_reach: u32,
    /// Engagements.
    pub engagements: u64,
    /// Count drops.
    pub count_drops: u32,
    /// THB per 1,000 views.
    pub cpm: Option<f64>,
    /// THB per engagement.
    pub cpe: Option<f64>,
    /// Engagements per view.
    pub engagement_rate: Option<f64>,
    /// Creators whose verdict is [`ReachVerdict::Short`].
    pub short_of_promised_reach: u32,
}

/// The budget and how much of it is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BudgetLine {
    /// The campaign's budget (THB).
    pub budget: u64,
    /// Spend: agreed prices of the confirmed creators.
    pub spend: u64,
    /// Budget not spent (0 when over).
    pub remaining: u64,
    /// Spend above the budget (0 when within).
    pub overrun: u64,
    /// Whether a confirmed creator's confirmation was explicitly allowed to go over budget.
    pub overrun_approved: bool,
}

/// The saved plan's own figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlanSummary {
    /// How it was found.
    pub mode: PlanMode,
    /// The budget it was made for.
    pub budget: u64,
    /// The price of its items.
    pub spend: u64,
    /// Its effective reach.
    pub effective_reach: f64,
    /// The proven upper bound.
    pub upper_bound: f64,
    /// Its gap to the bound.
    pub gap: f64,
}

/// Something the report set aside or counted with a doubt (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum ReportWarning {
    /// A creator entry of another campaign: ignored.
    CreatorOfAnotherCampaign {
        /// The creator.
        kol_id: KolId,
        /// Its campaign.
        campaign_id: CampaignId,
    },
    /// A creator listed more than once: one entry kept (the lowest status).
    DuplicateCreator {
        /// The creator.
        kol_id: KolId,
    },
    /// A confirmed creator without an agreed price: its spend counts as 0.
    ConfirmedWithoutPrice {
        /// The creator.
        kol_id: KolId,
    },
    /// A deliverable of another campaign: ignored.
    DeliverableOfAnotherCampaign {
        /// The deliverable.
        deliverable_id: DeliverableId,
        /// Its campaign.
        campaign_id: CampaignId,
    },
    /// A deliverable id given more than once: one kept.
    DuplicateDeliverable {
        /// The deliverable.
        deliverable_id: DeliverableId,
    },
    /// A deliverable of a creator that is not confirmed in the campaign: counted.
    DeliverableOfUnconfirmedCreator {
        /// The deliverable.
        deliverable_id: DeliverableId,
        /// The creator.
        kol_id: KolId,
    },
    /// A deliverable of another item than the creator's plan item: counted.
    DeliverableOfUnplannedItem {
        /// The deliverable.
        deliverable_id: DeliverableId,
        /// Its item.
        item: DeliverableItem,
    },
    /// A snapshot id given more than once: one kept.
    DuplicateSnapshot {
        /// The snapshot.
        snapshot_id: SnapshotId,
    },
    /// A snapshot of a deliverable not in the report: ignored.
    SnapshotOfUnknownDeliverable {
        /// The snapshot.
        snapshot_id: SnapshotId,
        /// The deliverable it names.
        deliverable_id: DeliverableId,
    },
    /// A snapshot of a deliverable that is not posted: ignored.
    SnapshotOfUnpostedDeliverable {
        /// The snapshot.
        snapshot_id: SnapshotId,
        /// The deliverable.
        deliverable_id: DeliverableId,
    },
    /// A snapshot captured before its post went up: ignored.
    SnapshotBeforePost {
        /// The snapshot.
        snapshot_id: SnapshotId,
        /// The deliverable.
        deliverable_id: DeliverableId,
    },
}

impl fmt::Display for ReportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CreatorOfAnotherCampaign {
                kol_id,
                campaign_id,
            } => write!(
                f,
                "creator {kol_id} was given as a creator of campaign {campaign_id}: ignored"
            ),
            Self::DuplicateCreator { kol_id } => {
                write!(
                    f,
                    "creator {kol_id} was given more than once: one entry kept"
                )
            }
            Self::ConfirmedWithoutPrice { kol_id } => write!(
                f,
                "creator {kol_id} is confirmed without an agreed price: spend counted as 0"
            ),
            Self::DeliverableOfAnotherCampaign {
                deliverable_id,
                campaign_id,
            } => write!(
                f,
                "deliverable {deliverable_id} belongs to campaign {campaign_id}: ignored"
            ),
            Self::DuplicateDeliverable { deliverable_id } => write!(
                f,
                "deliverable {deliverable_id} was given more than once: one kept"
            ),
            Self::DeliverableOfUnconfirmedCreator {
                deliverable_id,
                kol_id,
            } => write!(
                f,
                "deliverable {deliverable_id} is for creator {kol_id}, who is not confirmed: counted"
            ),
            Self::DeliverableOfUnplannedItem {
                deliverable_id,
                item,
            } => write!(
                f,
                "deliverable {deliverable_id} delivers {item}, not its creator's plan item: counted"
            ),
            Self::DuplicateSnapshot { snapshot_id } => write!(
                f,
                "snapshot {snapshot_id} was given more than once: one kept"
            ),
            Self::SnapshotOfUnknownDeliverable {
                snapshot_id,
                deliverable_id,
            } => write!(
                f,
                "snapshot {snapshot_id} is for deliverable {deliverable_id}, not in this campaign: ignored"
            ),
            Self::SnapshotOfUnpostedDeliverable {
                snapshot_id,
                deliverable_id,
            } => write!(
                f,
                "snapshot {snapshot_id} is for deliverable {deliverable_id}, which is not posted: ignored"
            ),
            Self::SnapshotBeforePost {
                snapshot_id,
                deliverable_id,
            } => write!(
                f,
                "snapshot {snapshot_id} was captured before deliverable {deliverable_id} was posted: ignored"
            ),
        }
    }
}

/// Plan versus actual for one campaign (see the [module docs](self) for every definition).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignReport {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Its name.
    pub name: String,
    /// Its client.
    pub client: String,
    /// When it runs.
    pub period: CampaignPeriod,
    /// The moment the report describes.
    pub as_of: DateTime<Utc>,
    /// The budget and its spend.
    pub budget: BudgetLine,
    /// The saved plan's figures, if it has one.
    pub plan: Option<PlanSummary>,
    /// One row per creator, by id.
    pub creators: Vec<CreatorRow>,
    /// The sums of the rows.
    pub totals: ReportTotals,
    /// Every deliverable, by creator then id.
    pub deliverables: Vec<DeliverableLine>,
    /// Counts that went down, by creator, deliverable and capture time.
    pub count_drops: Vec<CountDrop>,
    /// Creators whose verdict is [`ReachVerdict::Short`], by id.
    pub short_of_promised_reach: Vec<KolId>,
    /// What was set aside or counted with a doubt, sorted.
    pub warnings: Vec<ReportWarning>,
}

/// A creator row while it is being built.
#[derive(Default)]
struct RowBuilder {
    entry: Option<CampaignKol>,
    planned: Option<PlannedItem>,
    deliverables: DeliveryCounts,
    views: u64,
    reach: u64,
    posts_with_reach: u32,
    engagements: u64,
    count_drops: u32,
    delivered: u64,
    views_stood_in: u32,
}

/// The drops in one post's snapshots (in capture order): each snapshot against the one before
/// for views, likes, comments, shares and saves, and against the last one that reported a reach
/// for reach (platforms do not report reach in every snapshot). A reach drop against the very
/// snapshot before shares its entry; against an older one it has its own.
fn count_drops_of<'s>(
    run: &[&'s Snapshot],
) -> Vec<(&'s Snapshot, &'s Snapshot, Vec<&'static str>)> {
    let mut drops = Vec::new();
    let mut last_reach: Option<(&Snapshot, crate::results::Count)> = None;
    let mut previous: Option<&Snapshot> = None;
    for &now in run {
        let metrics = now.snapshot.metrics();
        let reach_dropped_from = match (last_reach, metrics.reach) {
            (Some((at, before)), Some(reach)) if reach < before => Some(at),
            _ => None,
        };
        if let Some(before) = previous {
            let mut counts: Vec<&'static str> = metrics
                .decreases_since(before.snapshot.metrics())
                .into_iter()
                .filter(|c| *c != "reach")
                .collect();
            if reach_dropped_from.is_some_and(|at| at.id == before.id) {
                counts.push("reach");
            }
            if !counts.is_empty() {
                drops.push((before, now, counts));
            }
        }
        if let Some(at) = reach_dropped_from.filter(|at| previous.is_none_or(|p| p.id != at.id)) {
            drops.push((at, now, vec!["reach"]));
        }
        if let Some(reach) = metrics.reach {
            last_reach = Some((now, reach));
        }
        previous = Some(now);
    }
    drops
}

/// The row of `kol_id`, created (with its campaign entry, if any) when it has none yet.
fn row<'r>(
    rows: &'r mut BTreeMap<KolId, RowBuilder>,
    entries: &BTreeMap<KolId, &CampaignKol>,
    kol_id: KolId,
) -> &'r mut RowBuilder {
    rows.entry(kol_id).or_insert_with(|| RowBuilder {
        entry: entries.get(&kol_id).map(|c| (*c).clone()),
        ..RowBuilder::default()
    })
}

fn ratio(numerator: f64, denominator: u64) -> Option<f64> {
    // u64 -> f64 is finite (at most 1.8e19) and positive here, so the quotient is finite.
    (denominator > 0).then(|| numerator / denominator as f64)
}

/// CPM, CPE and engagement rate of a spend, views and engagements.
fn ratios(spend: u64, views: u64, engagements: u64) -> (Option<f64>, Option<f64>, Option<f64>) {
    let spend = spend as f64;
    (
        ratio(spend * 1_000.0, views),
        ratio(spend, engagements),
        ratio(engagements as f64, views),
    )
}

fn snapshot_key(s: &Snapshot) -> impl Ord {
    let m = s.snapshot.metrics();
    (
        s.id,
        s.deliverable_id,
        s.snapshot.captured_at(),
        s.recorded_at,
        (m.views, m.likes, m.comments, m.shares, m.saves, m.reach),
    )
}

fn deliverable_key(d: &Deliverable) -> impl Ord + '_ {
    let p = d.parts();
    (
        p.id,
        p.kol_id,
        p.conversation_id,
        &p.item,
        p.due_on,
        p.status,
        p.post
            .as_ref()
            .map(|post| (post.posted_at, post.url.as_str())),
    )
}

impl CampaignReport {
    /// Computes the report (see the [module docs](self)). Never fails: inconsistent input is
    /// set aside or counted as the docs say, and listed in [`CampaignReport::warnings`].
    pub fn build(input: &ReportInput<'_>) -> Self {
        let campaign = input.campaign;
        let mut warnings: Vec<ReportWarning> = Vec::new();

        // Creators: this campaign's, one entry per id (the lowest by status, price, approval).
        let mut listed: Vec<&CampaignKol> = input
            .creators
            .iter()
            .filter(|c| {
                let ours = c.campaign_id == campaign.id;
                if !ours {
                    warnings.push(ReportWarning::CreatorOfAnotherCampaign {
                        kol_id: c.kol_id,
                        campaign_id: c.campaign_id,
                    });
                }
                ours
            })
            .collect();
        listed
            .sort_unstable_by_key(|c| (c.kol_id, c.status, c.agreed_price, c.over_budget_approved));
        let mut entries: BTreeMap<KolId, &CampaignKol> = BTreeMap::new();
        for c in listed {
            match entries.entry(c.kol_id) {
                Entry::Occupied(_) => {
                    warnings.push(ReportWarning::DuplicateCreator { kol_id: c.kol_id });
                }
                Entry::Vacant(slot) => {
                    slot.insert(c);
                }
            }
        }
        let mut rows: BTreeMap<KolId, RowBuilder> = BTreeMap::new();
        for (&kol_id, c) in &entries {
            if !matches!(
                c.status,
                CampaignKolStatus::Shortlisted | CampaignKolStatus::Dropped
            ) {
                row(&mut rows, &entries, kol_id);
            }
        }
        // Plan items (one per creator by PlanRecord's invariant).
        if let Some(plan) = input.plan {
            for item in plan.items() {
                row(&mut rows, &entries, item.kol_id).planned = Some(item.clone());
            }
        }

        // Deliverables: this campaign's, one per id.
        let mut deliverables: Vec<&Deliverable> = input
            .deliverables
            .iter()
            .filter(|d| {
                let p = d.parts();
                let ours = p.campaign_id == campaign.id;
                if !ours {
                    warnings.push(ReportWarning::DeliverableOfAnotherCampaign {
                        deliverable_id: p.id,
                        campaign_id: p.campaign_id,
                    });
                }
                ours
            })
            .collect();
        deliverables.sort_unstable_by(|a, b| deliverable_key(a).cmp(&deliverable_key(b)));
        let mut by_id: BTreeMap<DeliverableId, &Deliverable> = BTreeMap::new();
        for d in deliverables {
            match by_id.entry(d.id()) {
                Entry::Occupied(_) => warnings.push(ReportWarning::DuplicateDeliverable {
                    deliverable_id: d.id(),
                }),
                Entry::Vacant(slot) => {
                    slot.insert(d);
                }
            }
        }

        // Snapshots: one per id, of a known posted deliverable, not before its post.
        let mut snapshots: Vec<&Snapshot> = input.snapshots.iter().collect();
        snapshots.sort_unstable_by(|a, b| snapshot_key(a).cmp(&snapshot_key(b)));
        snapshots.dedup_by(|later, first| {
            let same = later.id == first.id;
            if same {
                warnings.push(ReportWarning::DuplicateSnapshot {
                    snapshot_id: later.id,
                });
            }
            same
        });
        snapshots.retain(|s| {
            let warning = match by_id.get(&s.deliverable_id).map(|d| d.post()) {
                None => Some(ReportWarning::SnapshotOfUnknownDeliverable {
                    snapshot_id: s.id,
                    deliverable_id: s.deliverable_id,
                }),
                Some(None) => Some(ReportWarning::SnapshotOfUnpostedDeliverable {
                    snapshot_id: s.id,
                    deliverable_id: s.deliverable_id,
                }),
                Some(Some(post)) if s.snapshot.captured_at() < post.posted_at => {
                    Some(ReportWarning::SnapshotBeforePost {
                        snapshot_id: s.id,
                        deliverable_id: s.deliverable_id,
                    })
                }
                Some(Some(_)) => None,
            };
            let keep = warning.is_none();
            warnings.extend(warning);
            keep
        });
        snapshots.sort_unstable_by_key(|s| (s.deliverable_id, s.snapshot.captured_at(), s.id));
        let mut series: BTreeMap<DeliverableId, &[&Snapshot]> = BTreeMap::new();
        for run in snapshots.chunk_by(|a, b| a.deliverable_id == b.deliverable_id) {
            series.insert(run[0].deliverable_id, run);
        }

        // Each deliverable into its creator's row.
        let mut lines = Vec::with_capacity(by_id.len());
        let mut count_drops = Vec::new();
        for d in by_id.values() {
            let parts = d.parts();
            let row = row(&mut rows, &entries, parts.kol_id);
            if row.entry.as_ref().map(|c| c.status) != Some(CampaignKolStatus::Confirmed) {
                warnings.push(ReportWarning::DeliverableOfUnconfirmedCreator {
                    deliverable_id: parts.id,
                    kol_id: parts.kol_id,
                });
            }
            if row.planned.as_ref().is_some_and(|p| p.item != parts.item) {
                warnings.push(ReportWarning::DeliverableOfUnplannedItem {
                    deliverable_id: parts.id,
                    item: parts.item.clone(),
                });
            }
            let state = DeliveryState::of(d, input.as_of);
            let run = series.get(&parts.id).copied().unwrap_or_default();
            let latest = run.last().map(|s| LatestSnapshot {
                id: s.id,
                captured_at: s.snapshot.captured_at(),
                metrics: *s.snapshot.metrics(),
            });
            row.deliverables.add(state, latest.is_some());
            if let Some(latest) = &latest {
                let m = &latest.metrics;
                row.views = row.views.saturating_add(m.views.get());
                row.engagements = row
                    .engagements
                    .saturating_add(u64::try_from(m.engagements()).unwrap_or(u64::MAX));
                if let Some(reach) = m.reach {
                    row.reach = row.reach.saturating_add(reach.get());
                    row.posts_with_reach += 1;
                    row.delivered = row.delivered.saturating_add(reach.get());
                } else {
                    row.delivered = row.delivered.saturating_add(m.views.get());
                    row.views_stood_in += 1;
                }
            }
            for drop in count_drops_of(run) {
                row.count_drops += 1;
                count_drops.push(CountDrop {
                    kol_id: parts.kol_id,
                    deliverable_id: parts.id,
                    earlier: drop.0.id,
                    earlier_captured_at: drop.0.snapshot.captured_at(),
                    later: drop.1.id,
                    later_captured_at: drop.1.snapshot.captured_at(),
                    counts: drop.2,
                });
            }
            lines.push(DeliverableLine {
                id: parts.id,
                kol_id: parts.kol_id,
                item: parts.item.clone(),
                due_on: parts.due_on,
                status: parts.status,
                state,
                posted_at: d.post().map(|p| p.posted_at),
                platform: d.post().map(|p| p.url.platform()),
                snapshots: u32::try_from(run.len()).unwrap_or(u32::MAX),
                latest,
            });
        }
        lines.sort_unstable_by_key(|l| (l.kol_id, l.id));
        count_drops.sort_unstable_by_key(|c| {
            (
                c.kol_id,
                c.deliverable_id,
                c.later_captured_at,
                c.later,
                c.earlier,
            )
        });

        // Rows, totals, budget.
        let mut creators = Vec::with_capacity(rows.len());
        let mut totals = ReportTotals {
            creators: 0,
            confirmed: 0,
            planned_spend: 0,
            planned_est_reach: 0,
            planned_effective_reach: 0.0,
            spend: 0,
            deliverables: DeliveryCounts::default(),
            views: 0,
            reach: 0,
            posts_with_reach: 0,
            engagements: 0,
            count_drops: 0,
            cpm: None,
            cpe: None,
            engagement_rate: None,
            short_of_promised_reach: 0,
        };
        let mut overrun_approved = false;
        let mut short = Vec::new();
        for (kol_id, r) in rows {
            let status = r.entry.as_ref().map(|c| c.status);
            let confirmed = status == Some(CampaignKolStatus::Confirmed);
            let spend = match r.entry.as_ref() {
                Some(c) if confirmed => {
                    if c.agreed_price.is_none() {
                        warnings.push(ReportWarning::ConfirmedWithoutPrice { kol_id });
                    }
                    c.agreed_price.map_or(0, |p| u64::from(p.get()))
                }
                _ => 0,
            };
            let over_budget_approved =
                confirmed && r.entry.as_ref().is_some_and(|c| c.over_budget_approved);
            overrun_approved |= over_budget_approved;
            let reach_verdict = verdict(&r, confirmed);
            if matches!(reach_verdict, ReachVerdict::Short { .. }) {
                short.push(kol_id);
            }
            let (cpm, cpe, engagement_rate) = ratios(spend, r.views, r.engagements);
            totals.creators += 1;
            totals.confirmed += u32::from(confirmed);
            if let Some(p) = &r.planned {
                totals.planned_spend += u64::from(p.price.get());
                totals.planned_est_reach += u64::from(p.est_reach.get());
                totals.planned_effective_reach += p.effective_reach.get();
            }
            totals.spend += spend;
            totals.deliverables.sum(&r.deliverables);
            totals.views = totals.views.saturating_add(r.views);
            totals.reach = totals.reach.saturating_add(r.reach);
            totals.posts_with_reach += r.posts_with_reach;
            totals.engagements = totals.engagements.saturating_add(r.engagements);
            totals.count_drops += r.count_drops;
            creators.push(CreatorRow {
                kol_id,
                status,
                planned: r.planned,
                spend,
                over_budget_approved,
                deliverables: r.deliverables,
                views: r.views,
                reach: r.reach,
                posts_with_reach: r.posts_with_reach,
                engagements: r.engagements,
                count_drops: r.count_drops,
                cpm,
                cpe,
                engagement_rate,
                reach_verdict,
            });
        }
        (totals.cpm, totals.cpe, totals.engagement_rate) =
            ratios(totals.spend, totals.views, totals.engagements);
        totals.short_of_promised_reach = u32::try_from(short.len()).unwrap_or(u32::MAX);
        let budget = u64::from(campaign.details.budget.get());
        warnings.sort_unstable();
        warnings.dedup();
        Self {
            campaign_id: campaign.id,
            name: campaign.details.name.as_str().to_owned(),
            client: campaign.details.client.as_str().to_owned(),
            period: campaign.details.period,
            as_of: input.as_of,
            budget: BudgetLine {
                budget,
                spend: totals.spend,
                remaining: budget.saturating_sub(totals.spend),
                overrun: totals.spend.saturating_sub(budget),
                overrun_approved,
            },
            plan: input.plan.map(|p| PlanSummary {
                mode: p.mode(),
                budget: u64::from(p.budget().get()),
                spend: p.spend(),
                effective_reach: p.effective_reach().get(),
                upper_bound: p.upper_bound().get(),
                gap: p.gap(),
            }),
            creators,
            totals,
            deliverables: lines,
            count_drops,
            short_of_promised_reach: short,
            warnings,
        }
    }

    /// The campaign's measured posts as history for [`CalibratedReach`](crate::CalibratedReach):
    /// one [`PastPost`] per posted deliverable with a snapshot whose creator's plan item is
    /// the deliverable's item and states the rate card's reach (`reach_estimated == false`: an
    /// estimated figure may itself be calibrated already, and learning against it would count
    /// the correction twice). A creator with several deliverables of its item is expected to
    /// bring an equal share of the item's `est_reach` with each (the shares add up to it, as
    /// in the reach verdict); what a post reached is [`PastPost::observed_from`] its latest
    /// snapshot. In deliverable order (by creator, then id).
    pub fn past_posts(&self) -> Vec<PastPost> {
        let mut posts = Vec::new();
        for row in &self.creators {
            let Some(planned) = row.planned.as_ref().filter(|p| !p.reach_estimated) else {
                continue;
            };
            let lines: Vec<&DeliverableLine> = self
                .deliverables
                .iter()
                .filter(|l| l.kol_id == row.kol_id && l.item == planned.item)
                .collect();
            let Ok(share) = u32::try_from(lines.len()) else {
                continue;
            };
            if share == 0 {
                continue;
            }
            // est_reach / share, rounded to the nearest person; at most est_reach, so a Reach.
            let expected = (planned.est_reach.get() + share / 2) / share;
            let Ok(expected) = Reach::new(i64::from(expected)) else {
                continue;
            };
            for line in lines {
                if let (Some(latest), Some(posted_at), Some(platform)) =
                    (line.latest, line.posted_at, line.platform)
                {
                    posts.push(PastPost {
                        kol_id: row.kol_id,
                        platform,
                        item: line.item.clone(),
                        posted_at,
                        expected,
                        observed: PastPost::observed_from(&latest.metrics),
                    });
                }
            }
        }
        posts
    }

    /// The report as a plain-text table (what `Display` prints).
    pub fn to_table(&self) -> String {
        self.to_string()
    }
}

fn verdict(r: &RowBuilder, confirmed: bool) -> ReachVerdict {
    let Some(planned) = &r.planned else {
        return ReachVerdict::NotPlanned;
    };
    if !confirmed {
        return ReachVerdict::NotConfirmed;
    }
    if planned.reach_estimated {
        return ReachVerdict::Estimated;
    }
    let d = &r.deliverables;
    let settled = d.measured + d.missed;
    if d.total == 0 || settled < d.total {
        return ReachVerdict::Pending {
            settled,
            deliverables: d.total,
        };
    }
    let promised = planned.est_reach.get();
    let delivered = r.delivered;
    if delivered >= u64::from(promised) {
        ReachVerdict::Met {
            promised,
            delivered,
            views_stood_in: r.views_stood_in,
        }
    } else {
        ReachVerdict::Short {
            promised,
            delivered,
            shortfall: u64::from(promised) - delivered,
            views_stood_in: r.views_stood_in,
        }
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count in at most 7 characters: `99,999` in full, then `123.4k`, `4.56M`, `7.89B`, and
/// powers of ten beyond.
fn compact(n: u128) -> String {
    let x = n as f64;
    match n {
        0..=99_999 => thousands(n),
        100_000..=999_999 => format!("{:.1}k", x / 1e3),
        1_000_000..=999_999_999 => format!("{:.2}M", x / 1e6),
        1_000_000_000..=999_999_999_999 => format!("{:.2}B", x / 1e9),
        _ => format!("{x:.1e}"),
    }
}

/// THB with two decimals and thousands separators; `-` for none.
fn money(x: Option<f64>) -> String {
    x.map_or_else(
        || "-".to_owned(),
        |v| {
            let cents = (v * 100.0).round();
            if cents < 1e30 {
                let cents = cents as u128;
                format!("{}.{:02}", thousands(cents / 100), cents % 100)
            } else {
                format!("{v:.2e}")
            }
        },
    )
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn verdict_cell(v: &ReachVerdict) -> String {
    match v {
        ReachVerdict::NotPlanned | ReachVerdict::NotConfirmed => "-".to_owned(),
        ReachVerdict::Estimated => "estimated".to_owned(),
        ReachVerdict::Pending {
            settled,
            deliverables,
        } => format!("pending {settled}/{deliverables}"),
        ReachVerdict::Met { .. } => "met".to_owned(),
        ReachVerdict::Short {
            promised,
            shortfall,
            ..
        } => format!(
            "SHORT -{:.0}%",
            *shortfall as f64 * 100.0 / f64::from((*promised).max(1))
        ),
    }
}

impl fmt::Display for CampaignReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.budget;
        writeln!(
            f,
            "Campaign {} \"{}\" for {}, {} to {}, as of {}",
            self.campaign_id,
            self.name,
            self.client,
            self.period.starts_on(),
            self.period.ends_on(),
            self.as_of.format("%Y-%m-%d %H:%M UTC")
        )?;
        let mut budget = format!(
            "Budget {} THB, spent {} THB",
            thousands(b.budget.into()),
            thousands(b.spend.into())
        );
        if b.overrun > 0 {
            let _ = write!(
                budget,
                ", OVER BUDGET by {} THB ({})",
                thousands(b.overrun.into()),
                if b.overrun_approved {
                    "approved"
                } else {
                    "not approved"
                }
            );
        } else {
            let _ = write!(budget, ", {} THB left", thousands(b.remaining.into()));
        }
        match &self.plan {
            Some(p) => {
                let _ = write!(
                    budget,
                    "; plan ({}) {} THB for an effective reach of {}",
                    p.mode,
                    thousands(p.spend.into()),
                    compact(p.effective_reach.round() as u128)
                );
            }
            None => budget.push_str("; no saved plan"),
        }
        writeln!(f, "{budget}")?;
        writeln!(f)?;

        let header = [
            "creator",
            "status",
            "item",
            "plan THB",
            "spend THB",
            "promised",
            "eff.reach",
            "posts",
            "late",
            "missed",
            "views",
            "reach",
            "engage",
            "CPM",
            "CPE",
            "ER",
            "reach verdict",
        ];
        let mut table: Vec<[String; 17]> = Vec::with_capacity(self.creators.len() + 1);
        for r in &self.creators {
            let d = &r.deliverables;
            let planned = r.planned.as_ref();
            table.push([
                r.kol_id.to_string(),
                r.status.map_or("-", CampaignKolStatus::as_str).to_owned(),
                planned.map_or_else(|| "-".to_owned(), |p| p.item.to_string()),
                planned.map_or_else(|| "-".to_owned(), |p| thousands(p.price.get().into())),
                thousands(r.spend.into()),
                planned.map_or_else(
                    || "-".to_owned(),
                    |p| {
                        let mark = if p.reach_estimated { "~" } else { "" };
                        format!("{mark}{}", compact(p.est_reach.get().into()))
                    },
                ),
                planned.map_or_else(
                    || "-".to_owned(),
                    |p| compact(p.effective_reach.get().round() as u128),
                ),
                format!("{}/{}", d.posted, d.total),
                d.late.to_string(),
                d.missed.to_string(),
                compact(r.views.into()),
                if r.posts_with_reach > 0 {
                    compact(r.reach.into())
                } else {
                    "-".to_owned()
                },
                compact(r.engagements.into()),
                money(r.cpm),
                money(r.cpe),
                percent(r.engagement_rate),
                verdict_cell(&r.reach_verdict),
            ]);
        }
        let t = &self.totals;
        let d = &t.deliverables;
        table.push([
            "total".to_owned(),
            format!("{} conf.", t.confirmed),
            format!("{} creators", t.creators),
            thousands(t.planned_spend.into()),
            thousands(t.spend.into()),
            compact(t.planned_est_reach.into()),
            compact(t.planned_effective_reach.round() as u128),
            format!("{}/{}", d.posted, d.total),
            d.late.to_string(),
            d.missed.to_string(),
            compact(t.views.into()),
            if t.posts_with_reach > 0 {
                compact(t.reach.into())
            } else {
                "-".to_owned()
            },
            compact(t.engagements.into()),
            money(t.cpm),
            money(t.cpe),
            percent(t.engagement_rate),
            format!("{} short", t.short_of_promised_reach),
        ]);
        let mut widths = header.map(str::len);
        for row in &table {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        // Text columns left-aligned, numbers right-aligned.
        let left = [
            false, true, true, false, false, false, false, false, false, false, false, false,
            false, false, false, false, true,
        ];
        let write_row = |f: &mut fmt::Formatter<'_>, cells: &[&str]| -> fmt::Result {
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = widths[i].saturating_sub(cell.chars().count());
                if left[i] {
                    line.push_str(cell);
                    if i + 1 < cells.len() {
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                } else {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
            writeln!(f, "{}", line.trim_end())
        };
        write_row(f, &header)?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let rule: Vec<&str> = rule.iter().map(String::as_str).collect();
        let count = table.len();
        for (i, row) in table.iter().enumerate() {
            if i + 1 == count {
                write_row(f, &rule)?;
            }
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            write_row(f, &cells)?;
        }
        writeln!(
            f,
            "promised: the plan's est_reach (~: estimated, not the rate card's); eff.reach: the plan's \
             effective reach; posts: posted / deliverables"
        )?;
        writeln!(
            f,
            "late: posted late or overdue; CPM: THB per 1,000 views; CPE: THB per engagement; \
             ER: engagements / views"
        )?;
        if d.posted > d.measured {
            writeln!(
                f,
                "{} posted deliverable(s) have no snapshot yet and count no views.",
                d.posted - d.measured
            )?;
        }

        if !self.short_of_promised_reach.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "Below the reach their rate card promised ({}):",
                self.short_of_promised_reach.len()
            )?;
            for r in self.creators.iter() {
                if let ReachVerdict::Short {
                    promised,
                    delivered,
                    views_stood_in,
                    ..
                } = r.reach_verdict
                {
                    let note = if views_stood_in > 0 {
                        format!(" (views for reach on {views_stood_in} post(s))")
                    } else {
                        String::new()
                    };
                    writeln!(
                        f,
                        "  creator {}: promised {}, delivered {}{note}",
                        r.kol_id,
                        thousands(promised.into()),
                        thousands(delivered.into())
                    )?;
                }
            }
        }
        if !self.count_drops.is_empty() {
            writeln!(f)?;
            writeln!(f, "Counts that went down ({}):", self.count_drops.len())?;
            for c in &self.count_drops {
                writeln!(
                    f,
                    "  creator {}, deliverable {}: {} lower in snapshot {} ({}) than in snapshot {} ({})",
                    c.kol_id,
                    c.deliverable_id,
                    c.counts.join(", "),
                    c.later,
                    c.later_captured_at.format("%Y-%m-%d %H:%M"),
                    c.earlier,
                    c.earlier_captured_at.format("%Y-%m-%d %H:%M"),
                )?;
            }
        }
        if !self.warnings.is_empty() {
            writeln!(f)?;
            writeln!(f, "Warnings ({}):", self.warnings.len())?;
            for w in &self.warnings {
                writeln!(f, "  {w}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CampaignStatus;
    use crate::campaign::{NewCampaign, People};
    use crate::deliverable::{DeliverableParts, Post, PostUrl};
    use crate::ids::ConversationId;
    use crate::metrics::{PriceThb, Reach};
    use crate::platform::Platform;
    use crate::results::{Count, NewSnapshot};
    use crate::text::PlainText;
    use chrono::TimeZone;

    pub(super) fn at(m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).unwrap()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn campaign() -> Campaign {
        let period = CampaignPeriod::new(day(1), day(31)).unwrap();
        Campaign {
            id: CampaignId(1),
            status: CampaignStatus::Running,
            created_at: at(11, 20, 9),
            details: NewCampaign::new(
                PlainText::new("Glow serum launch").unwrap(),
                PlainText::new("Glow Co.").unwrap(),
                PriceThb::new(100_000).unwrap(),
                period,
            ),
        }
    }

    fn planned(
        kol: i64,
        item: DeliverableItem,
        price: i64,
        reach: i64,
        estimated: bool,
    ) -> PlannedItem {
        PlannedItem {
            kol_id: KolId(kol),
            item,
            price: PriceThb::new(price).unwrap(),
            est_reach: Reach::new(reach).unwrap(),
            reach_estimated: estimated,
            effective_reach: People::new(reach as f64 * 0.6).unwrap(),
        }
    }

    fn creator(kol: i64, status: CampaignKolStatus, price: Option<i64>, over: bool) -> CampaignKol {
        CampaignKol {
            campaign_id: CampaignId(1),
            kol_id: KolId(kol),
            status,
            agreed_price: price.map(|p| PriceThb::new(p).unwrap()),
            over_budget_approved: over,
        }
    }

    fn deliverable(
        id: i64,
        kol: i64,
        item: DeliverableItem,
        due: u32,
        status: DeliverableStatus,
        posted_at: Option<DateTime<Utc>>,
    ) -> Deliverable {
        let platform = if item.as_str().starts_with("ig") {
            Platform::Instagram
        } else {
            Platform::Tiktok
        };
        let url = match platform {
            Platform::Instagram => format!("https://www.instagram.com/p/post{id}/"),
            _ => format!("https://www.tiktok.com/@kol{kol}/video/{id}"),
        };
        Deliverable::from_parts(DeliverableParts {
            id: DeliverableId(id),
            campaign_id: CampaignId(1),
            kol_id: KolId(kol),
            conversation_id: ConversationId(kol),
            item,
            due_on: day(due),
            status,
            post: posted_at.map(|posted_at| Post {
                url: PostUrl::new(platform, &url).unwrap(),
                posted_at,
            }),
        })
        .unwrap()
    }

    fn snapshot(
        id: i64,
        deliverable: i64,
        captured_at: DateTime<Utc>,
        views: i64,
        likes: i64,
        reach: Option<i64>,
    ) -> Snapshot {
        let c = |v: i64| Count::new(v).unwrap();
        Snapshot {
            id: SnapshotId(id),
            deliverable_id: DeliverableId(deliverable),
            recorded_at: captured_at,
            snapshot: NewSnapshot::new(
                captured_at,
                PostMetrics {
                    views: c(views),
                    likes: c(likes),
                    comments: c(likes / 10),
                    shares: c(0),
                    saves: c(0),
                    reach: reach.map(c),
                },
            )
            .unwrap(),
        }
    }

    struct Scenario {
        campaign: Campaign,
        plan: PlanRecord,
        creators: Vec<CampaignKol>,
        deliverables: Vec<Deliverable>,
        snapshots: Vec<Snapshot>,
    }

    fn scenario() -> Scenario {
        use CampaignKolStatus::*;
        use DeliverableStatus as S;
        let video = DeliverableItem::TIKTOK_VIDEO;
        let post = DeliverableItem::IG_POST;
        let items = vec![
            planned(10, video.clone(), 40_000, 50_000, false),
            planned(20, post.clone(), 30_000, 20_000, false),
            planned(30, video.clone(), 20_000, 10_000, true),
            planned(40, DeliverableItem::IG_REEL, 10_000, 5_000, false),
        ];
        let plan = PlanRecord::new(
            PlanMode::Greedy,
            PriceThb::new(100_000).unwrap(),
            People::new(51_000.0).unwrap(),
            People::new(52_000.0).unwrap(),
            0.02,
            items,
        )
        .unwrap();
        Scenario {
            campaign: campaign(),
            plan,
            creators: vec![
                creator(10, Confirmed, Some(45_000), true),
                creator(20, Confirmed, Some(30_000), false),
                creator(30, Confirmed, Some(35_000), false),
                creator(40, Dropped, None, false),
                creator(50, Shortlisted, None, false),
                creator(60, Contacted, None, false),
            ],
            deliverables: vec![
                deliverable(1, 10, video.clone(), 5, S::Posted, Some(at(12, 5, 23))),
                deliverable(2, 20, post.clone(), 10, S::Verified, Some(at(12, 11, 1))),
                deliverable(3, 20, post.clone(), 15, S::Missed, None),
                deliverable(4, 30, video.clone(), 18, S::Agreed, None),
                deliverable(5, 30, video.clone(), 25, S::Approved, None),
                deliverable(6, 60, video.clone(), 28, S::Posted, Some(at(12, 19, 8))),
            ],
            snapshots: vec![
                snapshot(1, 1, at(12, 6, 0), 10_000, 500, None),
                snapshot(2, 1, at(12, 8, 0), 60_000, 3_000, None),
                snapshot(3, 1, at(12, 7, 0), 30_000, 3_500, None),
                snapshot(4, 2, at(12, 12, 0), 25_000, 1_000, Some(15_000)),
                snapshot(5, 999, at(12, 12, 0), 1, 1, None),
                snapshot(6, 3, at(12, 16, 0), 1, 1, None),
                snapshot(7, 2, at(12, 10, 0), 1, 1, None),
            ],
        }
    }

    fn build(s: &Scenario) -> CampaignReport {
        CampaignReport::build(&ReportInput {
            campaign: &s.campaign,
            plan: Some(&s.plan),
            creators: &s.creators,
            deliverables: &s.deliverables,
            snapshots: &s.snapshots,
            as_of: at(12, 20, 12),
        })
    }

    #[test]
    fn plan_versus_actual() {
        let s = scenario();
        let report = build(&s);
        let ids: Vec<i64> = report.creators.iter().map(|r| r.kol_id.get()).collect();
        assert_eq!(ids, [10, 20, 30, 40, 60], "shortlisted 50 has no row");

        assert_eq!(
            report.budget,
            BudgetLine {
                budget: 100_000,
                spend: 110_000,
                remaining: 0,
                overrun: 10_000,
                overrun_approved: true
            }
        );
        let t = &report.totals;
        assert_eq!(
            (t.planned_spend, t.planned_est_reach, t.spend),
            (100_000, 85_000, 110_000)
        );
        assert_eq!(
            (t.views, t.reach, t.posts_with_reach, t.engagements),
            (85_000, 15_000, 1, 3_300 + 1_100)
        );
        assert_eq!(t.cpm, Some(110_000.0 * 1_000.0 / 85_000.0));
        assert_eq!(t.cpe, Some(110_000.0 / 4_400.0));
        assert_eq!(t.engagement_rate, Some(4_400.0 / 85_000.0));
        assert_eq!(
            t.deliverables,
            DeliveryCounts {
                total: 6,
                posted: 3,
                measured: 2,
                on_time: 2,
                posted_late: 1,
                overdue: 1,
                late: 2,
                missed: 1,
                pending: 1
            }
        );

        let row = |kol: i64| {
            report
                .creators
                .iter()
                .find(|r| r.kol_id == KolId(kol))
                .unwrap()
        };
        assert_eq!(
            row(10).reach_verdict,
            ReachVerdict::Met {
                promised: 50_000,
                delivered: 60_000,
                views_stood_in: 1
            }
        );
        assert_eq!(
            row(20).reach_verdict,
            ReachVerdict::Short {
                promised: 20_000,
                delivered: 15_000,
                shortfall: 5_000,
                views_stood_in: 0
            }
        );
        assert_eq!(row(30).reach_verdict, ReachVerdict::Estimated);
        assert_eq!(row(40).reach_verdict, ReachVerdict::NotConfirmed);
        assert_eq!(row(60).reach_verdict, ReachVerdict::NotPlanned);
        assert_eq!(
            (row(40).spend, row(40).status),
            (0, Some(CampaignKolStatus::Dropped))
        );
        assert_eq!((row(60).views, row(60).cpm, row(60).cpe), (0, None, None));
        assert_eq!(row(10).cpm, Some(45_000.0 * 1_000.0 / 60_000.0));
        assert_eq!(report.short_of_promised_reach, [KolId(20)]);

        assert_eq!(report.count_drops.len(), 1);
        let drop = &report.count_drops[0];
        assert_eq!(
            (
                drop.kol_id,
                drop.deliverable_id,
                drop.earlier,
                drop.later,
                drop.counts.clone()
            ),
            (
                KolId(10),
                DeliverableId(1),
                SnapshotId(3),
                SnapshotId(2),
                vec!["likes", "comments"]
            )
        );
        let line = |id: i64| {
            report
                .deliverables
                .iter()
                .find(|l| l.id == DeliverableId(id))
                .unwrap()
        };
        assert_eq!(line(1).latest.map(|l| l.id), Some(SnapshotId(2)));
        assert_eq!(
            (line(1).snapshots, line(2).snapshots, line(6).snapshots),
            (3, 1, 0)
        );
        let states: Vec<DeliveryState> = (1..=6).map(|i| line(i).state).collect();
        use DeliveryState::*;
        assert_eq!(
            states,
            [OnTime, PostedLate, Missed, Overdue, Pending, OnTime]
        );

        assert_eq!(
            report.warnings,
            [
                ReportWarning::DeliverableOfUnconfirmedCreator {
                    deliverable_id: DeliverableId(6),
                    kol_id: KolId(60)
                },
                ReportWarning::SnapshotOfUnknownDeliverable {
                    snapshot_id: SnapshotId(5),
                    deliverable_id: DeliverableId(999)
                },
                ReportWarning::SnapshotOfUnpostedDeliverable {
                    snapshot_id: SnapshotId(6),
                    deliverable_id: DeliverableId(3)
                },
                ReportWarning::SnapshotBeforePost {
                    snapshot_id: SnapshotId(7),
                    deliverable_id: DeliverableId(2)
                },
            ]
        );
    }

    #[test]
    fn measured_posts_become_history() {
        let mut s = scenario();
        // A third ig_post of creator 20 (posted, measured): each of the three is expected a
        // third of its 20,000.
        s.deliverables.push(deliverable(
            8,
            20,
            DeliverableItem::IG_POST,
            20,
            DeliverableStatus::Posted,
            Some(at(12, 19, 0)),
        ));
        s.snapshots
            .push(snapshot(8, 8, at(12, 19, 6), 9_000, 100, Some(7_000)));
        let posts = build(&s).past_posts();
        let summary: Vec<(i64, Platform, u32, u64)> = posts
            .iter()
            .map(|p| {
                (
                    p.kol_id.get(),
                    p.platform,
                    p.expected.get(),
                    p.observed.get(),
                )
            })
            .collect();
        // Creator 10: its one video, views standing in for reach. Creator 20: two posts, the
        // missed one counts in the share but is not a post. Creator 30's reach was estimated;
        // creator 60 has no plan item.
        assert_eq!(
            summary,
            [
                (10, Platform::Tiktok, 50_000, 60_000),
                (20, Platform::Instagram, 6_667, 15_000),
                (20, Platform::Instagram, 6_667, 7_000),
            ]
        );
    }

    #[test]
    fn table_and_json() {
        let report = build(&scenario());
        let table = report.to_table();
        println!("{table}");
        for needle in [
            "Campaign 1 \"Glow serum launch\" for Glow Co.",
            "OVER BUDGET by 10,000 THB (approved)",
            "SHORT -25%",
            "~10,000",
            "1,294.12",
            "likes, comments lower in snapshot 2",
            "snapshot 5 is for deliverable 999",
            "1 posted deliverable(s) have no snapshot yet",
        ] {
            assert!(table.contains(needle), "{needle:?} missing from\n{table}");
        }
        let lines: Vec<&str> = table.lines().collect();
        let header = lines.iter().position(|l| l.starts_with("creator")).unwrap();
        assert!(
            lines[header + 7].starts_with("  total"),
            "{}",
            lines[header + 7]
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["totals"]["spend"], 110_000);
        assert_eq!(json["creators"][1]["reach_verdict"]["verdict"], "short");
        assert_eq!(
            json["warnings"][0]["warning"],
            "deliverable_of_unconfirmed_creator"
        );
        assert_eq!(json["creators"][4]["cpm"], serde_json::Value::Null);
        assert_eq!(
            json["count_drops"][0]["counts"],
            serde_json::json!(["likes", "comments"])
        );
    }

    #[test]
    fn inputs_of_other_campaigns_and_repeats_are_set_aside() {
        let mut s = scenario();
        let mut foreign = s.creators[0].clone();
        foreign.campaign_id = CampaignId(2);
        foreign.kol_id = KolId(70);
        s.creators.push(foreign);
        s.creators
            .push(creator(20, CampaignKolStatus::Contacted, None, false));
        s.deliverables.push(s.deliverables[0].clone());
        let mut parts = s.deliverables[1].parts().clone();
        parts.campaign_id = CampaignId(2);
        parts.id = DeliverableId(77);
        s.deliverables.push(Deliverable::from_parts(parts).unwrap());
        s.snapshots.push(s.snapshots[0]);
        let report = build(&s);
        for w in [
            ReportWarning::CreatorOfAnotherCampaign {
                kol_id: KolId(70),
                campaign_id: CampaignId(2),
            },
            ReportWarning::DuplicateCreator { kol_id: KolId(20) },
            ReportWarning::DuplicateDeliverable {
                deliverable_id: DeliverableId(1),
            },
            ReportWarning::DeliverableOfAnotherCampaign {
                deliverable_id: DeliverableId(77),
                campaign_id: CampaignId(2),
            },
            ReportWarning::DuplicateSnapshot {
                snapshot_id: SnapshotId(1),
            },
        ] {
            assert!(report.warnings.contains(&w), "{w:?}");
        }
        // The lowest entry of creator 20 is kept: contacted, so it spends nothing.
        let row = report
            .creators
            .iter()
            .find(|r| r.kol_id == KolId(20))
            .unwrap();
        assert_eq!(
            (row.status, row.spend),
            (Some(CampaignKolStatus::Contacted), 0)
        );
        assert_eq!(report.totals.deliverables.total, 6);
        assert_eq!(report.totals.views, 85_000);
    }

    #[test]
    fn empty_campaign_has_no_ratios() {
        let c = campaign();
        let report = CampaignReport::build(&ReportInput {
            campaign: &c,
            plan: None,
            creators: &[],
            deliverables: &[],
            snapshots: &[],
            as_of: at(12, 1, 0),
        });
        assert!(report.creators.is_empty() && report.warnings.is_empty() && report.plan.is_none());
        assert_eq!(
            (
                report.totals.cpm,
                report.totals.cpe,
                report.totals.engagement_rate
            ),
            (None, None, None)
        );
        assert_eq!(report.budget.remaining, 100_000);
        assert!(report.to_table().contains("no saved plan"));
    }

    #[test]
    fn confirmed_without_price_spends_nothing() {
        let c = campaign();
        let creators = [creator(5, CampaignKolStatus::Confirmed, None, false)];
        let report = CampaignReport::build(&ReportInput {
            campaign: &c,
            plan: None,
            creators: &creators,
            deliverables: &[],
            snapshots: &[],
            as_of: at(12, 1, 0),
        });
        assert_eq!(
            report.warnings,
            [ReportWarning::ConfirmedWithoutPrice { kol_id: KolId(5) }]
        );
        assert_eq!(report.totals.spend, 0);
    }

    #[test]
    fn numbers_are_formatted_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(100), "100");
        assert_eq!(compact(9_999), "9,999");
        assert_eq!(compact(99_999), "99,999");
        assert_eq!(compact(123_456), "123.5k");
        assert_eq!(money(Some(1_294.117)), "1,294.12");
        assert_eq!(money(Some(0.004)), "0.00");
        assert_eq!(money(None), "-");
        assert_eq!(compact(4_560_000), "4.56M");
        assert_eq!(compact(u128::from(u64::MAX)), "1.8e19");
    }
}
