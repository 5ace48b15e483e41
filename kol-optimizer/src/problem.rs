//! What to plan: candidates and their rate-card items, the budget, pins, exclusions and the
//! objective; and [`Problem`], the validated, canonical form every solver works on.

use std::collections::HashMap;

use kol_core::{
    AudienceShare, Categories, Category, DeliverableItem, FollowerTier, KolId, Platform, PriceThb,
    Reach,
};

use crate::constraints::{self, Compiled, SideConstraints};
use crate::error::{OptimizerError, Result};
use crate::units::{Budget, EffectiveReach, Relevance};

/// One rate-card item a KOL offers: what, at what price, reaching how many people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The deliverable.
    pub item: DeliverableItem,
    /// Its price.
    pub price: PriceThb,
    /// Its estimated reach, before audience-share and relevance weighting.
    pub est_reach: Reach,
    /// Its platform, for platform quotas. When `None`, the platform a common item name says
    /// (`tiktok_video`, `ig_*`, `youtube_*`, `fb_*`...), else the candidate's platform.
    pub platform: Option<Platform>,
}

impl Offer {
    /// An item at `price` reaching `est_reach` people.
    pub fn new(item: DeliverableItem, price: PriceThb, est_reach: Reach) -> Self {
        Self {
            item,
            price,
            est_reach,
            platform: None,
        }
    }

    /// The same offer on `platform` (for platform quotas).
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }
}

/// A KOL the plan may book, with the items it offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The KOL.
    pub kol_id: KolId,
    /// Share of its audience in the target country (Thailand), used when
    /// [`Weighting::TargetCountry`] is on.
    pub audience_th_pct: AudienceShare,
    /// Weight of its reach for this brief.
    pub relevance: Relevance,
    /// Its rate card. Item names must be distinct.
    pub offers: Vec<Offer>,
    /// Its main platform: the platform of its items that name none (bundles, lives).
    pub platform: Option<Platform>,
    /// Its follower tier, for tier quotas (`None`: in no tier).
    pub tier: Option<FollowerTier>,
    /// Its content categories, for category coverage.
    pub categories: Categories,
}

impl Candidate {
    /// A candidate with relevance 1.
    pub fn new(kol_id: KolId, audience_th_pct: AudienceShare, offers: Vec<Offer>) -> Self {
        Self {
            kol_id,
            audience_th_pct,
            relevance: Relevance::ONE,
            offers,
            platform: None,
            tier: None,
            categories: Categories::new(),
        }
    }

    /// The same candidate with a main platform.
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.platform = Some(platform);
        self
    }

    /// The same candidate in follower tier `tier`.
    pub fn with_tier(mut self, tier: FollowerTier) -> Self {
        self.tier = Some(tier);
        self
    }

    /// The same candidate with these categories.
    pub fn with_categories(mut self, categories: impl IntoIterator<Item = Category>) -> Self {
        self.categories = categories.into_iter().collect();
        self
    }

    /// The same candidate with another relevance weight.
    pub fn with_relevance(mut self, relevance: Relevance) -> Self {
        self.relevance = relevance;
        self
    }
}

/// An item that must be in the plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pin {
    /// The KOL.
    pub kol_id: KolId,
    /// The item of that KOL's rate card.
    pub item: DeliverableItem,
}

impl Pin {
    /// Pins `item` of `kol_id`.
    pub fn new(kol_id: KolId, item: DeliverableItem) -> Self {
        Self { kol_id, item }
    }
}

/// Whether reach counts only the audience in the target country.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Weighting {
    /// Effective reach = est_reach x `audience_th_pct` / 100 x relevance (the default).
    #[default]
    TargetCountry,
    /// Effective reach = est_reach x relevance.
    Off,
}

/// What the plan optimizes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Objective {
    /// The largest total effective reach within the budget; among equal reach, the lowest spend.
    #[default]
    MaxReach,
    /// The cheapest plan within the budget whose effective reach is at least `min_reach`; among
    /// equal spend, the largest reach. When the budget cannot reach the target, the plan of
    /// largest reach, with the shortfall reported.
    MinCost {
        /// The reach target.
        min_reach: EffectiveReach,
    },
}

/// Everything a plan is asked for. Build one, then validate it with [`Problem::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRequest {
    /// The most the plan may spend.
    pub budget: Budget,
    /// The KOLs to choose from; ids must be distinct.
    pub candidates: Vec<Candidate>,
    /// Items that must be in the plan: at most one item per KOL (the same pin given twice
    /// counts once).
    pub pinned: Vec<Pin>,
    /// KOLs that must not be in the plan (ids that are not candidates are ignored).
    pub excluded: Vec<KolId>,
    /// Target-country weighting of reach.
    pub weighting: Weighting,
    /// What to optimize.
    pub objective: Objective,
    /// The mix the plan must respect (none by default).
    pub constraints: SideConstraints,
}

impl PlanRequest {
    /// A max-reach request with target-country weighting, no pins and no exclusions.
    pub fn new(budget: Budget, candidates: Vec<Candidate>) -> Self {
        Self {
            budget,
            candidates,
            pinned: Vec::new(),
            excluded: Vec::new(),
            weighting: Weighting::default(),
            objective: Objective::default(),
            constraints: SideConstraints::default(),
        }
    }

    /// The same request with side constraints.
    pub fn with_constraints(mut self, constraints: SideConstraints) -> Self {
        self.constraints = constraints;
        self
    }
}

/// The item names most rate cards use: kol-core's constants, which clone without allocating (a
/// plan clones the name of every item it books).
const COMMON_ITEMS: [DeliverableItem; 8] = [
    DeliverableItem::BUNDLE,
    DeliverableItem::TIKTOK_VIDEO,
    DeliverableItem::IG_POST,
    DeliverableItem::IG_STORY,
    DeliverableItem::IG_REEL,
    DeliverableItem::YOUTUBE_VIDEO,
    DeliverableItem::FB_POST,
    DeliverableItem::LIVE,
];

/// Swaps a common item name for kol-core's constant of the same name and returns its index in
/// [`COMMON_ITEMS`].
fn intern(item: &mut DeliverableItem) -> Option<usize> {
    let k = COMMON_ITEMS.iter().position(|c| c == item)?;
    *item = COMMON_ITEMS[k].clone();
    Some(k)
}

/// A validated request in canonical form: candidates sorted by KOL id, each one's items sorted by
/// name, pins resolved, exclusions applied.
///
/// Invariants: KOL ids are distinct, item names are distinct per KOL, every pin names an existing
/// item of a non-excluded KOL, at most one pin per KOL, and the pins fit the budget. Because the
/// form is canonical, the order in which candidates, items, pins or exclusions were given never
/// changes a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub(crate) budget: u64,
    pub(crate) weighting: Weighting,
    pub(crate) objective: Objective,
    pub(crate) candidates: Vec<Candidate>,
    /// Per candidate (canonical order): the pinned offer index, if any.
    pub(crate) pinned: Vec<Option<u32>>,
    /// The pins as (candidate, offer), in canonical order.
    pub(crate) pins: Vec<(usize, usize)>,
    /// Per candidate (canonical order): excluded?
    pub(crate) excluded: Vec<bool>,
    pub(crate) pinned_price: u64,
    /// What booking the dearest item of every free (not pinned, not excluded) KOL would cost.
    pub(crate) free_price_total: u64,
    /// Every item's (price, effective reach in micro-people), candidate after candidate in
    /// canonical order: what the solvers read, contiguous.
    pub(crate) items: Vec<(u64, u64)>,
    /// Every item's name (an index into `names`) and price as given, in the order of `items`:
    /// what plans read, in a table small enough to stay in cache.
    pub(crate) labels: Vec<(u32, PriceThb)>,
    /// The item names `labels` points into: the common ones, then every other name once per item
    /// that uses it.
    pub(crate) names: Vec<DeliverableItem>,
    /// Every candidate's KOL id, in canonical order (dense, for plans).
    pub(crate) kol_ids: Vec<KolId>,
    /// Candidate `c`'s items are `items[first[c]..first[c + 1]]`.
    pub(crate) first: Vec<u32>,
    /// The side constraints, compiled; `None` when there are none.
    pub(crate) side: Option<Compiled>,
    /// The side constraints as given.
    pub(crate) constraints: SideConstraints,
}

impl Problem {
    /// Validates and canonicalizes a request.
    ///
    /// # Errors
    /// [`OptimizerError::DuplicateKol`], [`OptimizerError::DuplicateItem`],
    /// [`OptimizerError::PinUnknownKol`], [`OptimizerError::PinUnknownItem`],
    /// [`OptimizerError::DuplicatePin`], [`OptimizerError::PinnedAndExcluded`],
    /// [`OptimizerError::InfeasiblePins`], [`OptimizerError::InvalidConstraint`] for side
    /// constraints that conflict on their face, or [`OptimizerError::TooManyItems`] when there are
    /// more than `u32::MAX - 9` items (or candidates).
    pub fn new(request: PlanRequest) -> Result<Self> {
        let PlanRequest {
            budget,
            candidates,
            pinned,
            excluded,
            weighting,
            objective,
            constraints,
        } = request;

        let total_items: usize = candidates.iter().map(|c| c.offers.len()).sum();
        // Item and candidate indices, and item name indices (up to 8 common names plus one per
        // item), all fit a u32 below u32::MAX (which marks "none").
        let max = u32::MAX as usize - 1 - COMMON_ITEMS.len();
        if total_items > max || candidates.len() > max {
            return Err(OptimizerError::TooManyItems {
                items: total_items.max(candidates.len()),
                max,
            });
        }

        // Distinct KOL ids; report the first repeat in input order.
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by_key(|&i| (candidates[i].kol_id, i));
        if let Some(repeat) = order
            .windows(2)
            .filter(|w| candidates[w[0]].kol_id == candidates[w[1]].kol_id)
            .min_by_key(|w| w[1])
        {
            return Err(OptimizerError::DuplicateKol {
                kol_id: candidates[repeat[0]].kol_id,
                first: repeat[0],
                second: repeat[1],
            });
        }
        // Distinct item names per KOL, checked in input order of candidates.
        for (ci, cand) in candidates.iter().enumerate() {
            let mut items: Vec<usize> = (0..cand.offers.len()).collect();
            items.sort_by(|&a, &b| {
                cand.offers[a]
                    .item
                    .cmp(&cand.offers[b].item)
                    .then(a.cmp(&b))
            });
            if let Some(repeat) = items
                .windows(2)
                .filter(|w| cand.offers[w[0]].item == cand.offers[w[1]].item)
                .min_by_key(|w| w[1])
            {
                return Err(OptimizerError::DuplicateItem {
                    kol_id: cand.kol_id,
                    candidate: ci,
                    item: cand.offers[repeat[0]].item.clone(),
                    first: repeat[0],
                    second: repeat[1],
                });
            }
        }

        // Canonical order: candidates by KOL id, items by name; the names interned.
        let mut labels = Vec::with_capacity(total_items);
        let mut names = COMMON_ITEMS.to_vec();
        let mut canonical: Vec<Candidate> = Vec::with_capacity(candidates.len());
        let mut slots: Vec<Option<Candidate>> = candidates.into_iter().map(Some).collect();
        for &i in &order {
            if let Some(mut cand) = slots[i].take() {
                cand.offers.sort_by(|a, b| a.item.cmp(&b.item));
                for offer in &mut cand.offers {
                    let name = intern(&mut offer.item).unwrap_or_else(|| {
                        names.push(offer.item.clone());
                        names.len() - 1
                    });
                    // Fewer than u32::MAX names: the item count is checked above.
                    labels.push((u32::try_from(name).unwrap_or(u32::MAX), offer.price));
                }
                canonical.push(cand);
            }
        }
        let position: HashMap<KolId, usize> = canonical
            .iter()
            .enumerate()
            .map(|(i, c)| (c.kol_id, i))
            .collect();

        let mut is_excluded = vec![false; canonical.len()];
        for kol in &excluded {
            // Excluding a KOL that is not a candidate is harmless: it is already out.
            if let Some(&i) = position.get(kol) {
                is_excluded[i] = true;
            }
        }

        let mut pin_of: Vec<Option<u32>> = vec![None; canonical.len()];
        let mut pin_index: Vec<Option<usize>> = vec![None; canonical.len()];
        let mut pinned_price = 0u64;
        for (index, pin) in pinned.iter().enumerate() {
            let &ci = position
                .get(&pin.kol_id)
                .ok_or(OptimizerError::PinUnknownKol {
                    index,
                    kol_id: pin.kol_id,
                })?;
            if is_excluded[ci] {
                return Err(OptimizerError::PinnedAndExcluded {
                    index,
                    kol_id: pin.kol_id,
                });
            }
            let offers = &canonical[ci].offers;
            let oi = offers
                .binary_search_by(|o| o.item.cmp(&pin.item))
                .map_err(|_| OptimizerError::PinUnknownItem {
                    index,
                    kol_id: pin.kol_id,
                    item: pin.item.clone(),
                })?;
            if let Some(first) = pin_index[ci] {
                if pin_of[ci] == Some(oi as u32) {
                    // The same pin twice asks for nothing new.
                    continue;
                }
                return Err(OptimizerError::DuplicatePin {
                    kol_id: pin.kol_id,
                    first,
                    second: index,
                });
            }
            pin_index[ci] = Some(index);
            pin_of[ci] = Some(oi as u32);
            pinned_price += u64::from(offers[oi].price.get());
        }
        if pinned_price > budget.get() {
            return Err(OptimizerError::InfeasiblePins {
                pinned_price,
                budget: budget.get(),
            });
        }

        let free_price_total = canonical
            .iter()
            .enumerate()
            .filter(|&(ci, _)| !is_excluded[ci] && pin_of[ci].is_none())
            .map(|(_, c)| {
                c.offers
                    .iter()
                    .map(|o| u64::from(o.price.get()))
                    .max()
                    .unwrap_or(0)
            })
            .sum();
        let mut items = Vec::with_capacity(total_items);

        let mut first = Vec::with_capacity(canonical.len() + 1);
        for cand in &canonical {
            first.push(items.len() as u32);
            let share = match weighting {
                Weighting::TargetCountry => Some(cand.audience_th_pct),
                Weighting::Off => None,
            };
            items.extend(cand.offers.iter().map(|o| {
                let micros = crate::units::item_micros(o.est_reach, share, cand.relevance);
                (u64::from(o.price.get()), micros)
            }));
        }
        first.push(items.len() as u32);
        let side = constraints::compile(
            &constraints,
            budget.get(),
            &canonical,
            &items,
            &first,
            &is_excluded,
            &pin_of,
        )?;
        Ok(Self {
            side,
            constraints,
            items,
            labels,
            names,
            kol_ids: canonical.iter().map(|c| c.kol_id).collect(),
            first,
            free_price_total,
            budget: budget.get(),
            weighting,
            objective,
            candidates: canonical,
            pins: (pin_of.iter().enumerate())
                .filter_map(|(ci, pin)| pin.map(|oi| (ci, oi as usize)))
                .collect(),
            pinned: pin_of,
            excluded: is_excluded,
            pinned_price,
        })
    }

    /// The budget.
    pub fn budget(&self) -> Budget {
        Budget::new(self.budget)
    }

    /// The objective.
    pub fn objective(&self) -> Objective {
        self.objective
    }

    /// The weighting of reach.
    pub fn weighting(&self) -> Weighting {
        self.weighting
    }

    /// The side constraints (empty when none were given).
    pub fn constraints(&self) -> &SideConstraints {
        &self.constraints
    }

    /// The candidates, sorted by KOL id, each one's items sorted by name.
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// The same problem with another objective (the candidates are not validated again).
    pub fn with_objective(mut self, objective: Objective) -> Self {
        self.objective = objective;
        self
    }

    /// Total number of rate-card items over all candidates.
    pub fn item_count(&self) -> usize {
        self.items.len()
    }

    /// The (price, effective reach in micro-people) of every item of candidate `candidate`
    /// (canonical positions).
    pub(crate) fn items_of(&self, candidate: usize) -> &[(u64, u64)] {
        &self.items[self.first[candidate] as usize..self.first[candidate + 1] as usize]
    }

    /// The effective reach of item `offer` of candidate `candidate` (canonical positions).
    pub(crate) fn micros(&self, candidate: usize, offer: usize) -> u64 {
        self.items_of(candidate)[offer].1
    }
}
