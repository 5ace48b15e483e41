//! Campaigns: the unit an agency works in. A client's brief, budget and dates, the plan it was
//! given (frozen when saved), and the creators taking part.
//!
//! Statuses move forward only, and the database enforces the same moves:
//!
//! ```text
//! campaign:  draft -> planning -> running -> done          (any but done -> cancelled)
//! creator:   shortlisted -> planned -> contacted -> confirmed
//!            shortlisted -> contacted               (any but confirmed -> dropped)
//!            planned -> shortlisted                 (left out of a new plan)
//! ```
//!
//! A confirmed creator is not dropped: what it agreed to deliver is tracked to the end (a
//! deliverable it does not post becomes `missed`). This is what makes "agree" and "drop" on the
//! same creator at the same time end one way or the other, never both.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::conversation::string_enum_impls;
use crate::embedding::Embedding;
use crate::error::{CoreError, Result};
use crate::ids::{CampaignId, KolId};
use crate::metrics::{PriceThb, Reach};
use crate::rate_card::DeliverableItem;
use crate::text::{self, PlainText};

/// Where a campaign is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum CampaignStatus {
    /// Being set up: brief, budget, dates.
    Draft,
    /// A plan is being made (and may be replaced).
    Planning,
    /// Creators are contacted and posting; the plan is frozen.
    Running,
    /// Finished.
    Done,
    /// Stopped before it finished.
    Cancelled,
}

impl CampaignStatus {
    /// Every status, in life order.
    pub const ALL: [Self; 5] = [
        Self::Draft,
        Self::Planning,
        Self::Running,
        Self::Done,
        Self::Cancelled,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Planning => "planning",
            Self::Running => "running",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether a campaign may move from `self` to `to`: one step forward, or to `cancelled`
    /// from any status before `done`.
    pub const fn can_transition_to(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Draft, Self::Planning)
                | (Self::Planning, Self::Running)
                | (Self::Running, Self::Done)
                | (
                    Self::Draft | Self::Planning | Self::Running,
                    Self::Cancelled
                )
        )
    }

    /// Whether the campaign still runs or is being prepared (not done, not cancelled).
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Draft | Self::Planning | Self::Running)
    }
}

string_enum_impls!(
    CampaignStatus,
    "campaign status",
    "draft, planning, running, done, cancelled"
);

/// The days a campaign runs, both ends included.
///
/// Invariant: `starts_on <= ends_on`, both in the years 1 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawPeriod")]
pub struct CampaignPeriod {
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

#[derive(Deserialize)]
struct RawPeriod {
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

impl TryFrom<RawPeriod> for CampaignPeriod {
    type Error = CoreError;

    fn try_from(raw: RawPeriod) -> Result<Self> {
        Self::new(raw.starts_on, raw.ends_on)
    }
}

impl CampaignPeriod {
    /// Checks and builds a period.
    ///
    /// # Errors
    /// [`CoreError::InvalidPeriod`] when it ends before it starts or lies outside the years 1
    /// to 9999.
    pub fn new(starts_on: NaiveDate, ends_on: NaiveDate) -> Result<Self> {
        let in_range = |d: NaiveDate| (1..=9999).contains(&d.year());
        if !in_range(starts_on) || !in_range(ends_on) {
            return Err(CoreError::InvalidPeriod {
                reason: format!("{starts_on} to {ends_on} is outside the years 1 to 9999"),
            });
        }
        if ends_on < starts_on {
            return Err(CoreError::InvalidPeriod {
                reason: format!("it ends ({ends_on}) before it starts ({starts_on})"),
            });
        }
        Ok(Self { starts_on, ends_on })
    }

    /// The first day.
    pub fn starts_on(&self) -> NaiveDate {
        self.starts_on
    }

    /// The last day.
    pub fn ends_on(&self) -> NaiveDate {
        self.ends_on
    }

    /// Whether the two periods share at least one day.
    pub fn overlaps(&self, other: &Self) -> bool {
        self.starts_on <= other.ends_on && other.starts_on <= self.ends_on
    }
}

/// A campaign as a client asks for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCampaign {
    /// The campaign's name ("Glow serum launch, Dec 2026").
    pub name: PlainText,
    /// The client (brand) it runs for. Exclusivity compares clients by this name.
    pub client: PlainText,
    /// The brief in words.
    pub brief: Option<BriefText>,
    /// The brief as a CLIP embedding, when it has one.
    pub brief_embedding: Option<Embedding>,
    /// The budget, in THB.
    pub budget: PriceThb,
    /// When it runs.
    pub period: CampaignPeriod,
    /// Whether the client has its creators exclusively: a creator confirmed here may not be
    /// confirmed for another client's campaign in an overlapping period, and the other way
    /// round.
    pub exclusive: bool,
}

impl NewCampaign {
    /// A campaign with a name, a client, a budget and dates; no brief, not exclusive.
    pub fn new(
        name: PlainText,
        client: PlainText,
        budget: PriceThb,
        period: CampaignPeriod,
    ) -> Self {
        Self {
            name,
            client,
            brief: None,
            brief_embedding: None,
            budget,
            period,
            exclusive: false,
        }
    }
}

/// The text of a brief: trimmed, non-empty, at most [`BriefText::MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BriefText(String);

impl BriefText {
    /// Longest accepted brief.
    pub const MAX_CHARS: usize = 10_000;

    /// Trims and checks a brief.
    ///
    /// # Errors
    /// [`CoreError::InvalidText`] naming `brief` when it is empty, too long or holds a NUL.
    pub fn new(input: &str) -> Result<Self> {
        text::clean("brief", input, Self::MAX_CHARS).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BriefText {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self> {
        Self::new(&s)
    }
}

impl From<BriefText> for String {
    fn from(b: BriefText) -> Self {
        b.0
    }
}

/// A stored campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    /// Its id.
    pub id: CampaignId,
    /// Where it is.
    pub status: CampaignStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// What the client asked for.
    #[serde(flatten)]
    pub details: NewCampaign,
}

/// How a plan was found (kol-optimizer's mode, recorded with the plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum PlanMode {
    /// The greedy: at least half the optimum, with its gap to the upper bound.
    Greedy,
    /// The exact search finished: the plan is optimal.
    Exact,
    /// The exact search hit its work limit: the best plan found, with its proven gap.
    ExactBestSoFar,
}

impl PlanMode {
    /// Every mode.
    pub const ALL: [Self; 3] = [Self::Greedy, Self::Exact, Self::ExactBestSoFar];

    /// The stored name (`greedy`, `exact`, `exact_best_so_far`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Greedy => "greedy",
            Self::Exact => "exact",
            Self::ExactBestSoFar => "exact_best_so_far",
        }
    }
}

string_enum_impls!(PlanMode, "plan mode", "greedy, exact, exact_best_so_far");

/// A non-negative, finite number of people (effective reach, a bound), as a plan reported it.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct People(f64);

impl People {
    /// No one.
    pub const ZERO: Self = Self(0.0);

    /// Checks a figure.
    ///
    /// # Errors
    /// [`CoreError::InvalidPlan`] when it is negative or not finite.
    pub fn new(value: f64) -> Result<Self> {
        if value.is_finite() && value >= 0.0 {
            // -0.0 is stored as 0.
            Ok(Self(value + 0.0))
        } else {
            Err(CoreError::InvalidPlan {
                reason: format!("{value} is not a number of people"),
            })
        }
    }

    /// The figure.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for People {
    type Error = CoreError;

    fn try_from(value: f64) -> Result<Self> {
        Self::new(value)
    }
}

impl From<People> for f64 {
    fn from(p: People) -> Self {
        p.0
    }
}

/// One item of a saved plan: what was bought from whom, at what price, for what reach, with the
/// figures as they were when the plan was made (later rate-card changes do not touch it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedItem {
    /// The creator.
    pub kol_id: KolId,
    /// The rate-card item.
    pub item: DeliverableItem,
    /// Its price then.
    pub price: PriceThb,
    /// Its reach then (the card's, or estimated).
    pub est_reach: Reach,
    /// Whether `est_reach` was estimated (the card had none, or past posts calibrated it).
    pub reach_estimated: bool,
    /// `est_reach x audience share x relevance`, in people.
    pub effective_reach: People,
}

/// A plan as a campaign keeps it.
///
/// Invariants: at most one item per creator; `spend` is the sum of the items' prices and at
/// most `budget`; `effective_reach <= upper_bound` (up to rounding); `gap` in `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPlanRecord")]
pub struct PlanRecord {
    mode: PlanMode,
    budget: PriceThb,
    effective_reach: People,
    upper_bound: People,
    gap: f64,
    items: Vec<PlannedItem>,
}

#[derive(Deserialize)]
struct RawPlanRecord {
    mode: PlanMode,
    budget: PriceThb,
    effective_reach: People,
    upper_bound: People,
    gap: f64,
    items: Vec<PlannedItem>,
}

impl TryFrom<RawPlanRecord> for PlanRecord {
    type Error = CoreError;

    fn try_from(r: RawPlanRecord) -> Result<Self> {
        Self::new(
            r.mode,
            r.budget,
            r.effective_reach,
            r.upper_bound,
            r.gap,
            r.items,
        )
    }
}

impl PlanRecord {
    /// Checks and builds a plan record; items are kept sorted by creator id.
    ///
    /// # Errors
    /// [`CoreError::InvalidPlan`] when a creator appears twice, the items cost more than the
    /// budget, the gap is outside `[0, 1]`, or the reach exceeds the upper bound by more than
    /// rounding (one millionth).
    pub fn new(
        mode: PlanMode,
        budget: PriceThb,
        effective_reach: People,
        upper_bound: People,
        gap: f64,
        mut items: Vec<PlannedItem>,
    ) -> Result<Self> {
        let invalid = |reason: String| Err(CoreError::InvalidPlan { reason });
        items.sort_by_key(|i| i.kol_id);
        if let Some(w) = items.windows(2).find(|w| w[0].kol_id == w[1].kol_id) {
            return invalid(format!("creator {} appears twice", w[0].kol_id));
        }
        let spend: u64 = items.iter().map(|i| u64::from(i.price.get())).sum();
        if spend > u64::from(budget.get()) {
            return invalid(format!(
                "its items cost {spend} THB, over the budget of {budget}"
            ));
        }
        if !(0.0..=1.0).contains(&gap) {
            return invalid(format!("gap {gap} is outside [0, 1]"));
        }
        if effective_reach.get() > upper_bound.get() * (1.0 + 1e-6) + 1e-6 {
            return invalid(format!(
                "its reach {} is above its upper bound {}",
                effective_reach.get(),
                upper_bound.get()
            ));
        }
        Ok(Self {
            mode,
            budget,
            effective_reach,
            upper_bound,
            gap,
            items,
        })
    }

    /// How the plan was found.
    pub fn mode(&self) -> PlanMode {
        self.mode
    }

    /// The budget it was made for.
    pub fn budget(&self) -> PriceThb {
        self.budget
    }

    /// Its total effective reach.
    pub fn effective_reach(&self) -> People {
        self.effective_reach
    }

    /// The proven upper bound on the reach of any plan for that budget.
    pub fn upper_bound(&self) -> People {
        self.upper_bound
    }

    /// `1 - effective_reach / upper_bound`.
    pub fn gap(&self) -> f64 {
        self.gap
    }

    /// Its items, by creator id.
    pub fn items(&self) -> &[PlannedItem] {
        &self.items
    }

    /// The item planned for `kol_id`.
    pub fn item_for(&self, kol_id: KolId) -> Option<&PlannedItem> {
        self.items
            .binary_search_by_key(&kol_id, |i| i.kol_id)
            .ok()
            .map(|at| &self.items[at])
    }

    /// Total price of the items.
    pub fn spend(&self) -> u64 {
        self.items.iter().map(|i| u64::from(i.price.get())).sum()
    }
}

/// Where a creator is in a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum CampaignKolStatus {
    /// Considered.
    Shortlisted,
    /// In the saved plan.
    Planned,
    /// Outreach started.
    Contacted,
    /// Terms agreed: it delivers.
    Confirmed,
    /// Out of this campaign.
    Dropped,
}

impl CampaignKolStatus {
    /// Every status, in order.
    pub const ALL: [Self; 5] = [
        Self::Shortlisted,
        Self::Planned,
        Self::Contacted,
        Self::Confirmed,
        Self::Dropped,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Shortlisted => "shortlisted",
            Self::Planned => "planned",
            Self::Contacted => "contacted",
            Self::Confirmed => "confirmed",
            Self::Dropped => "dropped",
        }
    }

    /// Whether a creator may move from `self` to `to` (see the module docs).
    pub const fn can_transition_to(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Shortlisted, Self::Planned | Self::Contacted)
                | (Self::Planned, Self::Contacted | Self::Shortlisted)
                | (Self::Contacted, Self::Confirmed)
                | (
                    Self::Shortlisted | Self::Planned | Self::Contacted,
                    Self::Dropped
                )
        )
    }
}

string_enum_impls!(
    CampaignKolStatus,
    "campaign creator status",
    "shortlisted, planned, contacted, confirmed, dropped"
);

/// A creator taking part in a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignKol {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// The creator.
    pub kol_id: KolId,
    /// Where it is.
    pub status: CampaignKolStatus,
    /// The price it agreed to, once confirmed (what the campaign spends on it).
    pub agreed_price: Option<PriceThb>,
    /// Whether its confirmation was allowed to take the campaign over budget.
    pub over_budget_approved: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn campaign_moves() {
        use CampaignStatus::*;
        let allowed = [
            (Draft, Planning),
            (Planning, Running),
            (Running, Done),
            (Draft, Cancelled),
            (Planning, Cancelled),
            (Running, Cancelled),
        ];
        for from in CampaignStatus::ALL {
            for to in CampaignStatus::ALL {
                assert_eq!(from.can_transition_to(to), allowed.contains(&(from, to)));
            }
        }
    }

    #[test]
    fn creator_moves() {
        use CampaignKolStatus::*;
        let allowed = [
            (Shortlisted, Planned),
            (Shortlisted, Contacted),
            (Planned, Contacted),
            (Planned, Shortlisted),
            (Contacted, Confirmed),
            (Shortlisted, Dropped),
            (Planned, Dropped),
            (Contacted, Dropped),
        ];
        for from in CampaignKolStatus::ALL {
            for to in CampaignKolStatus::ALL {
                assert_eq!(from.can_transition_to(to), allowed.contains(&(from, to)));
            }
        }
    }

    #[test]
    fn periods() {
        let p = CampaignPeriod::new(day(2026, 12, 1), day(2026, 12, 31)).unwrap();
        let q = CampaignPeriod::new(day(2026, 12, 31), day(2027, 1, 15)).unwrap();
        let r = CampaignPeriod::new(day(2027, 1, 1), day(2027, 1, 1)).unwrap();
        assert!(
            p.overlaps(&q) && q.overlaps(&p),
            "one shared day is an overlap"
        );
        assert!(!p.overlaps(&r));
        assert!(matches!(
            CampaignPeriod::new(day(2026, 12, 2), day(2026, 12, 1)),
            Err(CoreError::InvalidPeriod { .. })
        ));
        assert!(
            serde_json::from_str::<CampaignPeriod>(
                r#"{"starts_on":"2026-12-02","ends_on":"2026-12-01"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn plan_records_check_their_sums() {
        let item = |kol: i64, price: i64| PlannedItem {
            kol_id: KolId(kol),
            item: DeliverableItem::new("tiktok_video").unwrap(),
            price: PriceThb::new(price).unwrap(),
            est_reach: Reach::new(1_000).unwrap(),
            reach_estimated: false,
            effective_reach: People::new(500.0).unwrap(),
        };
        let people = |x: f64| People::new(x).unwrap();
        let budget = PriceThb::new(1_000).unwrap();
        let ok = PlanRecord::new(
            PlanMode::Greedy,
            budget,
            people(1_000.0),
            people(1_100.0),
            0.09,
            vec![item(2, 500), item(1, 500)],
        )
        .unwrap();
        assert_eq!(ok.items()[0].kol_id, KolId(1));
        assert_eq!(ok.spend(), 1_000);
        assert_eq!(ok.item_for(KolId(2)).map(|i| i.price.get()), Some(500));
        for bad in [
            vec![item(1, 500), item(1, 400)],
            vec![item(1, 600), item(2, 500)],
        ] {
            assert!(
                PlanRecord::new(PlanMode::Greedy, budget, people(1.0), people(2.0), 0.5, bad)
                    .is_err()
            );
        }
        assert!(
            PlanRecord::new(
                PlanMode::Exact,
                budget,
                people(3.0),
                people(2.0),
                0.0,
                vec![]
            )
            .is_err()
        );
        assert!(People::new(f64::NAN).is_err() && People::new(-1.0).is_err());
    }
}
