//! Side constraints of a plan: the mix a media planner asks for beyond the budget.
//!
//! A [`SideConstraints`] holds quotas per platform and per follower tier (count of creators and
//! share of the plan's spend, each with a minimum and a maximum), a per-creator spend cap (a
//! percentage of the budget), a minimum and maximum number of creators, and categories that at
//! least one booked creator must cover. Candidates carry the attributes these read
//! ([`Candidate::with_platform`](crate::Candidate::with_platform),
//! [`Candidate::with_tier`](crate::Candidate::with_tier),
//! [`Candidate::with_categories`](crate::Candidate::with_categories),
//! [`Offer::with_platform`](crate::Offer::with_platform)).
//!
//! Every constraint is linear in the choice of items, so [`Problem::new`](crate::Problem::new)
//! compiles them into rows `sum(a_i x_i) <= b` with integer coefficients (a share "at least 30 %
//! of the spend on TikTok" is `sum(price_i (30 - 100 [platform_i = TikTok]) x_i) <= 0`): exact to
//! check, and what the Lagrangian bound of the constrained solver relaxes. Conflicts visible
//! without solving (a minimum above its maximum, minimum shares summing over 100 %, a category
//! no candidate covers...) are refused there with [`OptimizerError::InvalidConstraint`]. (A
//! share asked of a group nobody offers, or shares over 100 %, leave only plans that spend
//! nothing: refused, unless some item is free and such a plan can still reach something.)
//! Empty constraints compile to nothing: the unconstrained solvers run unchanged.

use std::collections::HashSet;

use kol_core::{Category, DeliverableItem, FollowerTier, Platform};

use crate::error::{OptimizerError, Result};
use crate::problem::Candidate;

/// What a [`Quota`] counts: the creators booked on one platform, or of one follower tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// Booked items on this platform (the item's platform, see
    /// [`Offer::with_platform`](crate::Offer::with_platform)).
    Platform(Platform),
    /// Booked creators of this follower tier.
    Tier(FollowerTier),
}

impl std::fmt::Display for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Platform(p) => write!(f, "platform {p}"),
            Self::Tier(t) => write!(f, "tier {t}"),
        }
    }
}

/// Bounds on one group: how many creators, and what share of the plan's spend (whole percent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    /// The group.
    pub group: Group,
    /// At least this many booked creators in the group.
    pub min_count: Option<u32>,
    /// At most this many.
    pub max_count: Option<u32>,
    /// At least this percent of the plan's spend on the group (0 to 100).
    pub min_share_pct: Option<u32>,
    /// At most this percent of the plan's spend on the group (0 to 100).
    pub max_share_pct: Option<u32>,
}

impl Quota {
    /// A quota on `group` with no bound yet.
    pub fn new(group: Group) -> Self {
        Self {
            group,
            min_count: None,
            max_count: None,
            min_share_pct: None,
            max_share_pct: None,
        }
    }

    /// With a count range (`None` leaves a side open).
    pub fn count(mut self, min: Option<u32>, max: Option<u32>) -> Self {
        self.min_count = min;
        self.max_count = max;
        self
    }

    /// With a spend-share range in whole percent (`None` leaves a side open).
    pub fn share_pct(mut self, min: Option<u32>, max: Option<u32>) -> Self {
        self.min_share_pct = min;
        self.max_share_pct = max;
        self
    }
}

/// The side constraints of a [`PlanRequest`](crate::PlanRequest); the default is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideConstraints {
    /// Quotas per platform or tier; at most one per group.
    pub quotas: Vec<Quota>,
    /// No creator's item may cost more than this percent of the budget (1 to 100).
    pub max_creator_share_pct: Option<u32>,
    /// At least this many creators booked (pins included).
    pub min_creators: Option<u32>,
    /// At most this many creators booked (pins included).
    pub max_creators: Option<u32>,
    /// Each of these categories must be covered by at least one booked creator.
    pub categories: Vec<Category>,
}

impl SideConstraints {
    /// No constraint.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when there is no constraint at all (the unconstrained solvers run).
    pub fn is_empty(&self) -> bool {
        self.quotas.is_empty()
            && self.max_creator_share_pct.is_none()
            && self.min_creators.is_none()
            && self.max_creators.is_none()
            && self.categories.is_empty()
    }

    /// With one more quota.
    pub fn quota(mut self, quota: Quota) -> Self {
        self.quotas.push(quota);
        self
    }

    /// With a per-creator spend cap, in percent of the budget.
    pub fn max_creator_share_pct(mut self, pct: u32) -> Self {
        self.max_creator_share_pct = Some(pct);
        self
    }

    /// With a range for the number of booked creators.
    pub fn creators(mut self, min: Option<u32>, max: Option<u32>) -> Self {
        self.min_creators = min;
        self.max_creators = max;
        self
    }

    /// With one more category to cover.
    pub fn cover(mut self, category: Category) -> Self {
        self.categories.push(category);
        self
    }
}

/// The platform of a common item name, if it names one.
pub(crate) fn platform_of_item(item: &DeliverableItem) -> Option<Platform> {
    let name = item.as_str();
    let prefix = |p: &str| name.starts_with(p);
    if prefix("tiktok") {
        Some(Platform::Tiktok)
    } else if prefix("ig_") || prefix("instagram") {
        Some(Platform::Instagram)
    } else if prefix("youtube") || prefix("yt_") {
        Some(Platform::Youtube)
    } else if prefix("fb_") || prefix("facebook") {
        Some(Platform::Facebook)
    } else if prefix("lemon8") {
        Some(Platform::Lemon8)
    } else if prefix("x_") || prefix("twitter") {
        Some(Platform::X)
    } else if prefix("threads") {
        Some(Platform::Threads)
    } else if prefix("twitch") {
        Some(Platform::Twitch)
    } else {
        None
    }
}

/// One compiled constraint: `sum(coef[i] x_i) <= rhs` over the flat items of the problem.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// What it is, for messages (`constraints.quotas[0].min_count (platform tiktok >= 3)`).
    pub(crate) label: String,
    /// Per flat item (canonical order), its coefficient.
    pub(crate) coef: Vec<i64>,
    pub(crate) rhs: i128,
}

/// Compiled side constraints: the rows, and the items no plan may take.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Compiled {
    pub(crate) rows: Vec<Row>,
    /// Per flat item: priced above the per-creator cap.
    pub(crate) capped: Vec<bool>,
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> OptimizerError {
    OptimizerError::InvalidConstraint {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Validates `side` against the canonical candidates and compiles it; `None` when empty.
///
/// `items` are the flat (price, micros) items, `first` the candidates' offsets into them, `excluded` and `pinned`
/// per candidate, as in [`Problem`](crate::Problem).
pub(crate) fn compile(
    side: &SideConstraints,
    budget: u64,
    candidates: &[Candidate],
    items: &[(u64, u64)],
    first: &[u32],
    excluded: &[bool],
    pinned: &[Option<u32>],
) -> Result<Option<Compiled>> {
    if side.is_empty() {
        return Ok(None);
    }
    let n = items.len();
    let available = || {
        candidates
            .iter()
            .enumerate()
            .filter(|&(ci, _)| !excluded[ci])
    };
    // Platform of every flat item.
    let mut platform: Vec<Option<Platform>> = Vec::with_capacity(n);
    for c in candidates {
        for o in &c.offers {
            platform.push(
                o.platform
                    .or_else(|| platform_of_item(&o.item))
                    .or(c.platform),
            );
        }
    }
    let mut owner: Vec<usize> = Vec::with_capacity(n);
    for (ci, c) in candidates.iter().enumerate() {
        owner.extend(std::iter::repeat_n(ci, c.offers.len()));
    }

    let pct = |v: Option<u32>, field: String| -> Result<()> {
        match v {
            Some(p) if p > 100 => Err(invalid(field, format!("must be 0 to 100, got {p}"))),
            _ => Ok(()),
        }
    };
    let range = |min: Option<u32>, max: Option<u32>, field: &str, what: &str| -> Result<()> {
        match (min, max) {
            (Some(a), Some(b)) if a > b => Err(invalid(
                field,
                format!("the minimum {what} {a} is above the maximum {b}"),
            )),
            _ => Ok(()),
        }
    };

    let mut capped = vec![false; n];
    if let Some(p) = side.max_creator_share_pct {
        let field = "constraints.max_creator_share_pct";
        if p == 0 || p > 100 {
            return Err(invalid(field, format!("must be 1 to 100, got {p}")));
        }
        let cap = u128::from(budget) * u128::from(p) / 100;
        for (i, &(price, _)) in items.iter().enumerate() {
            capped[i] = u128::from(price) > cap;
        }
        for (ci, pin) in pinned.iter().enumerate() {
            if let Some(oi) = pin {
                let c = &candidates[ci];
                let offer = &c.offers[*oi as usize];
                if u128::from(offer.price.get()) > cap {
                    return Err(invalid(
                        field,
                        format!(
                            "KOL {} is pinned with \"{}\" at {} THB, above the cap of {cap} THB ({p} % of the budget)",
                            c.kol_id, offer.item, offer.price
                        ),
                    ));
                }
            }
        }
    }

    let free_items = items.iter().any(|&(price, _)| price == 0);
    let mut rows: Vec<Row> = Vec::new();
    let mut seen: HashSet<Group> = HashSet::new();
    let (mut min_share_platform, mut min_share_tier) = (0u32, 0u32);
    let (mut min_count_platform, mut min_count_tier) = (0u64, 0u64);
    for (q, quota) in side.quotas.iter().enumerate() {
        let at = |f: &str| format!("constraints.quotas[{q}].{f}");
        if !seen.insert(quota.group) {
            return Err(invalid(
                at("group"),
                format!("{} has two quotas; give one", quota.group),
            ));
        }
        pct(quota.min_share_pct, at("min_share_pct"))?;
        pct(quota.max_share_pct, at("max_share_pct"))?;
        range(quota.min_count, quota.max_count, &at("min_count"), "count")?;
        range(
            quota.min_share_pct,
            quota.max_share_pct,
            &at("min_share_pct"),
            "share",
        )?;
        let member: Vec<bool> = (0..n)
            .map(|i| match quota.group {
                Group::Platform(p) => platform[i] == Some(p),
                Group::Tier(t) => candidates[owner[i]].tier == Some(t),
            })
            .collect();
        let share = quota.min_share_pct.unwrap_or(0);
        let count = u64::from(quota.min_count.unwrap_or(0));
        match quota.group {
            Group::Platform(_) => {
                min_share_platform += share;
                min_count_platform += count;
            }
            Group::Tier(_) => {
                min_share_tier += share;
                min_count_tier += count;
            }
        }
        // Enough candidates in the group?
        let offering = available()
            .filter(|&(ci, _)| {
                (first[ci] as usize..first[ci + 1] as usize).any(|i| member[i] && !capped[i])
            })
            .count() as u64;
        if count > offering {
            return Err(invalid(
                at("min_count"),
                format!(
                    "at least {count} creators of {} are asked for, and only {offering} candidates offer an item there",
                    quota.group
                ),
            ));
        }
        // A plan that spends nothing meets every share: with a free item to book, such a plan
        // can still reach something, so only the solver can tell.
        if share > 0 && offering == 0 && !free_items {
            return Err(invalid(
                at("min_share_pct"),
                format!(
                    "{share} % of the spend on {} is asked for, and no candidate offers an item there",
                    quota.group
                ),
            ));
        }
        if let Some(m) = quota.min_count {
            rows.push(Row {
                label: format!(
                    "{} (at least {m} creators of {})",
                    at("min_count"),
                    quota.group
                ),
                coef: member.iter().map(|&b| -i64::from(b)).collect(),
                rhs: -i128::from(m),
            });
        }
        if let Some(m) = quota.max_count {
            rows.push(Row {
                label: format!(
                    "{} (at most {m} creators of {})",
                    at("max_count"),
                    quota.group
                ),
                coef: member.iter().map(|&b| i64::from(b)).collect(),
                rhs: i128::from(m),
            });
        }
        // Share s of the spend: sum(price (s - 100 [member])) <= 0 for a minimum, and
        // sum(price (100 [member] - s)) <= 0 for a maximum.
        if let Some(s) = quota.min_share_pct.filter(|&s| s > 0) {
            rows.push(Row {
                label: format!(
                    "{} (at least {s} % of the spend on {})",
                    at("min_share_pct"),
                    quota.group
                ),
                coef: (0..n)
                    .map(|i| items[i].0 as i64 * (i64::from(s) - 100 * i64::from(member[i])))
                    .collect(),
                rhs: 0,
            });
        }
        if let Some(s) = quota.max_share_pct.filter(|&s| s < 100) {
            rows.push(Row {
                label: format!(
                    "{} (at most {s} % of the spend on {})",
                    at("max_share_pct"),
                    quota.group
                ),
                coef: (0..n)
                    .map(|i| items[i].0 as i64 * (100 * i64::from(member[i]) - i64::from(s)))
                    .collect(),
                rhs: 0,
            });
        }
    }
    if min_share_platform > 100 && !free_items {
        return Err(invalid(
            "constraints.quotas",
            format!("the minimum platform shares sum to {min_share_platform} %, over 100 %"),
        ));
    }
    if min_share_tier > 100 && !free_items {
        return Err(invalid(
            "constraints.quotas",
            format!("the minimum tier shares sum to {min_share_tier} %, over 100 %"),
        ));
    }
    range(
        side.min_creators,
        side.max_creators,
        "constraints.min_creators",
        "number of creators",
    )?;
    if let Some(max) = side.max_creators {
        let max = u64::from(max);
        for (sum, what) in [(min_count_platform, "platform"), (min_count_tier, "tier")] {
            if sum > max {
                return Err(invalid(
                    "constraints.max_creators",
                    format!(
                        "the {what} quotas ask for at least {sum} creators, above the maximum of {max}"
                    ),
                ));
            }
        }
        let pins = pinned.iter().filter(|p| p.is_some()).count() as u64;
        if pins > max {
            return Err(invalid(
                "constraints.max_creators",
                format!("{pins} creators are pinned, above the maximum of {max}"),
            ));
        }
    }
    let bookable = available()
        .filter(|&(ci, _)| (first[ci] as usize..first[ci + 1] as usize).any(|i| !capped[i]))
        .count() as u64;
    if let Some(m) = side.min_creators {
        if u64::from(m) > bookable {
            return Err(invalid(
                "constraints.min_creators",
                format!("at least {m} creators are asked for, and only {bookable} can be booked"),
            ));
        }
        rows.push(Row {
            label: format!("constraints.min_creators (at least {m} creators)"),
            coef: vec![-1; n],
            rhs: -i128::from(m),
        });
    }
    if let Some(m) = side.max_creators {
        rows.push(Row {
            label: format!("constraints.max_creators (at most {m} creators)"),
            coef: vec![1; n],
            rhs: i128::from(m),
        });
    }
    let mut listed: HashSet<&Category> = HashSet::new();
    for (k, cat) in side.categories.iter().enumerate() {
        let field = format!("constraints.categories[{k}]");
        if !listed.insert(cat) {
            return Err(invalid(field, format!("\"{cat}\" is listed twice")));
        }
        let covers: Vec<bool> = candidates
            .iter()
            .map(|c| c.categories.contains(cat))
            .collect();
        let any = available().any(|(ci, _)| covers[ci]);
        if !any {
            return Err(invalid(
                field,
                format!("no candidate covers the category \"{cat}\""),
            ));
        }
        rows.push(Row {
            label: format!("{field} (cover \"{cat}\")"),
            coef: owner.iter().map(|&ci| -i64::from(covers[ci])).collect(),
            rhs: -1,
        });
    }
    Ok(Some(Compiled { rows, capped }))
}
