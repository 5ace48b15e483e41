//! From creator search results to a campaign plan, with the reason for every choice.
//!
//! A search (kol-db in PostgreSQL, kol-vector in memory: both answer kol-core's
//! [`KolSearch`](kol_core::KolSearch)) returns the creators nearest to a brief with their best
//! picture's distance. [`plan_campaign`] turns them, with their profiles and rate cards, into
//! optimizer candidates, solves, and explains each selection.
//!
//! How the candidates are made:
//!
//! - **Relevance** of a creator = its cosine *similarity* to the brief, `1 - distance`, floored at
//!   0 (a picture pointing away from the brief is irrelevant, not negative) and capped at 1.
//!   Effective reach is then the share of the reach that looks like the brief.
//! - **Reach** of an item = what the [`ReachEstimator`] says of it
//!   ([`ReachEstimator::estimate`], which sees the creator, platform, item and card): by default
//!   its rate card's `est_reach`, or, when the card has none, the
//!   [`ReachEstimator`]'s figure for the creator's followers (the platform's earlier version used
//!   `followers / 5`, [`FlatReach`](kol_core::FlatReach), see the repository's docs/SCHEMA.md;
//!   the default is
//!   [`TieredReach`](kol_core::TieredReach)). No followers and no reach: 0.
//! - **Audience share**: with target-country weighting a creator whose Thai audience share is
//!   unknown counts as 0 % (unknown is not assumed good), so it is chosen only when pinned.
//! - Creators without a rate card cannot be bought and are left out.

use std::collections::HashMap;

use kol_core::{
    AudienceShare, DeliverableItem, KolId, KolMatch, MatchedKol, NewKol, NewRateCard, People,
    PlanMode, PlanRecord, PlannedItem, PriceThb, Reach, ReachContext, ReachEstimator, ReachSource,
};
use serde::Serialize;

use crate::error::Result;
use crate::plan::Plan;
use crate::problem::{Candidate, Objective, Offer, Pin, PlanRequest, Problem, Weighting};
use crate::solve::Method;
use crate::units::{Budget, Relevance};

/// One creator found for the brief: who, how well it matches, and what it sells.
#[derive(Debug, Clone, Copy)]
pub struct MatchedCreator<'a> {
    /// The search result (creator id, best picture, distance).
    pub matched: KolMatch,
    /// The creator's profile (followers, audience share).
    pub profile: &'a NewKol,
    /// Its rate card.
    pub rate_cards: &'a [NewRateCard],
}

/// Settings of [`plan_campaign`].
pub struct CampaignOptions<'a> {
    /// The budget.
    pub budget: Budget,
    /// Greedy (fast, at least half the optimum) or exact (proven, with a work limit).
    pub method: Method,
    /// Weight reach by the Thai audience share (default) or not.
    pub weighting: Weighting,
    /// Maximize reach (default), or find the cheapest plan reaching a target.
    pub objective: Objective,
    /// Items that must be in the plan.
    pub pinned: Vec<Pin>,
    /// Creators that must not be.
    pub excluded: Vec<KolId>,
    /// The mix the plan must respect (none by default). Candidates get their platform (the
    /// handle's), follower tier and categories from their profiles.
    pub constraints: crate::constraints::SideConstraints,
    /// The reach of each item: by default the card's, else the follower heuristic's; a
    /// [`kol_core::CalibratedReach`] corrects either by the creator's past posts.
    pub reach_estimator: &'a dyn ReachEstimator,
}

impl std::fmt::Debug for CampaignOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CampaignOptions")
            .field("budget", &self.budget)
            .field("method", &self.method)
            .field("weighting", &self.weighting)
            .field("objective", &self.objective)
            .field("pinned", &self.pinned)
            .field("excluded", &self.excluded)
            .field("constraints", &self.constraints)
            .finish_non_exhaustive()
    }
}

impl<'a> CampaignOptions<'a> {
    /// Maximize reach within `budget`, greedy, weighting by Thai audience, estimating missing
    /// reach with `reach_estimator`.
    pub fn new(budget: Budget, reach_estimator: &'a dyn ReachEstimator) -> Self {
        Self {
            budget,
            method: Method::Greedy,
            weighting: Weighting::TargetCountry,
            objective: Objective::MaxReach,
            pinned: Vec::new(),
            excluded: Vec::new(),
            constraints: crate::constraints::SideConstraints::default(),
            reach_estimator,
        }
    }
}

/// Why a creator is in the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The creator.
    pub kol_id: KolId,
    /// The item bought.
    pub item: DeliverableItem,
    /// Its price.
    pub price: PriceThb,
    /// Its reach, from the rate card or estimated.
    pub est_reach: Reach,
    /// Whether `est_reach` is not the card's own figure (estimated from followers, or calibrated
    /// by past posts).
    pub reach_estimated: bool,
    /// The creator's Thai audience share (`None`: unknown).
    pub audience_th_pct: Option<AudienceShare>,
    /// Cosine distance of the creator's best picture to the brief.
    pub distance: f64,
    /// Relevance to the brief, `1 - distance` in `[0, 1]`.
    pub relevance: f64,
    /// `est_reach x audience share x relevance`, in people.
    pub effective_reach: f64,
    /// Effective reach per THB (`None` for a free item).
    pub reach_per_thb: Option<f64>,
    /// Whether the item was pinned.
    pub pinned: bool,
}

/// A plan and the reason for each of its selections (in the plan's order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignPlan {
    /// The optimizer's plan.
    pub plan: Plan,
    /// One explanation per selection.
    pub explanations: Vec<Explanation>,
}

/// The relevance of a creator at cosine `distance` from the brief: `1 - distance` in `[0, 1]`,
/// kept to four decimals.
pub fn relevance_of(distance: f64) -> Relevance {
    let similarity = if distance.is_finite() {
        (1.0 - distance).clamp(0.0, 1.0)
    } else {
        0.0
    };
    // In [0, 1]: always a valid relevance.
    Relevance::new(similarity).unwrap_or(Relevance::ZERO)
}

/// What the planner knows of a candidate, to explain its selection.
struct Known<'a> {
    creator: &'a MatchedCreator<'a>,
    relevance: Relevance,
    reach: HashMap<&'a DeliverableItem, (Reach, bool)>,
}

/// The request of a campaign: one candidate per creator with rate cards (platform of its
/// handle, tier of its followers, its categories), and what is known of each.
fn campaign_request<'a>(
    creators: &'a [MatchedCreator<'a>],
    options: &CampaignOptions<'_>,
) -> (PlanRequest, HashMap<KolId, Known<'a>>) {
    let mut known: HashMap<KolId, Known<'a>> = HashMap::new();
    let mut candidates = Vec::new();
    for creator in creators.iter().filter(|c| !c.rate_cards.is_empty()) {
        let relevance = relevance_of(creator.matched.distance);
        let mut reach = HashMap::new();
        let offers: Vec<Offer> = creator
            .rate_cards
            .iter()
            .map(|card| {
                let context = ReachContext {
                    kol_id: creator.matched.kol_id,
                    platform: creator.profile.handle.platform(),
                    item: &card.item,
                    followers: creator.profile.followers,
                    card_reach: card.est_reach,
                };
                let (r, estimated) = match options.reach_estimator.estimate(&context) {
                    Some(e) => (e.reach, e.source != ReachSource::RateCard),
                    None => (Reach::ZERO, true),
                };
                reach.insert(&card.item, (r, estimated));
                Offer::new(card.item.clone(), card.price, r)
            })
            .collect();
        let share = creator
            .profile
            .audience_th_pct
            .unwrap_or(AudienceShare::NONE);
        let mut candidate = Candidate::new(creator.matched.kol_id, share, offers)
            .with_relevance(relevance)
            .with_platform(creator.profile.handle.platform())
            .with_categories(creator.profile.categories.iter().cloned());
        if let Some(f) = creator.profile.followers {
            candidate = candidate.with_tier(kol_core::FollowerTier::of(f));
        }
        candidates.push(candidate);
        known.insert(
            creator.matched.kol_id,
            Known {
                creator,
                relevance,
                reach,
            },
        );
    }
    let request = PlanRequest {
        budget: options.budget,
        candidates,
        pinned: options.pinned.clone(),
        excluded: options.excluded.clone(),
        weighting: options.weighting,
        objective: options.objective,
        constraints: options.constraints.clone(),
    };
    (request, known)
}

/// The validated problem [`plan_campaign`] solves, for what else a problem answers (its
/// [`Problem::frontier`], another method).
///
/// # Errors
/// As [`Problem::new`].
pub fn campaign_problem(
    creators: &[MatchedCreator<'_>],
    options: &CampaignOptions<'_>,
) -> Result<Problem> {
    Problem::new(campaign_request(creators, options).0)
}

/// Builds the candidates, solves, and explains the plan.
///
/// # Errors
/// The optimizer's errors: a creator listed twice, an item listed twice for one creator, pins
/// that cannot all fit, a pinned item that is not offered, side constraints that conflict, and
/// the exact search's work limit (with `OnWorkLimit::Error`).
pub fn plan_campaign(
    creators: &[MatchedCreator<'_>],
    options: &CampaignOptions<'_>,
) -> Result<CampaignPlan> {
    let (request, known) = campaign_request(creators, options);
    let plan = Problem::new(request)?.solve(options.method)?;
    let explanations = plan
        .selections
        .iter()
        .filter_map(|s| {
            let k = known.get(&s.kol_id)?;
            let (est_reach, reach_estimated) = k.reach.get(&s.item).copied()?;
            let effective = s.effective_reach.people();
            let price = f64::from(s.price.get());
            Some(Explanation {
                kol_id: s.kol_id,
                item: s.item.clone(),
                price: s.price,
                est_reach,
                reach_estimated,
                audience_th_pct: k.creator.profile.audience_th_pct,
                distance: k.creator.matched.distance,
                relevance: k.relevance.get(),
                effective_reach: effective,
                reach_per_thb: (price > 0.0).then(|| effective / price),
                pinned: s.pinned,
            })
        })
        .collect();
    Ok(CampaignPlan { plan, explanations })
}

impl CampaignPlan {
    /// The plan as a campaign keeps it (kol-core's [`PlanRecord`]): mode, budget, reach, bound,
    /// gap and, per selection, the item, price, reach and effective reach of the moment, so
    /// that later rate-card changes never rewrite it.
    ///
    /// # Errors
    /// [`kol_core::CoreError::OutOfRange`] when the budget is above what a `PriceThb` holds
    /// (`i32::MAX` THB); [`kol_core::CoreError::InvalidPlan`] cannot happen for a plan the
    /// optimizer made (its figures add up), but is reported rather than assumed.
    pub fn record(&self) -> kol_core::Result<PlanRecord> {
        let budget = PriceThb::new(
            i64::try_from(self.plan.spent + self.plan.remaining).unwrap_or(i64::MAX),
        )?;
        let mode = match self.plan.mode {
            crate::plan::Mode::Greedy => PlanMode::Greedy,
            crate::plan::Mode::Exact => PlanMode::Exact,
            crate::plan::Mode::ExactBestSoFar => PlanMode::ExactBestSoFar,
        };
        let items = self
            .explanations
            .iter()
            .map(|e| {
                Ok(PlannedItem {
                    kol_id: e.kol_id,
                    item: e.item.clone(),
                    price: e.price,
                    est_reach: e.est_reach,
                    reach_estimated: e.reach_estimated,
                    effective_reach: People::new(e.effective_reach)?,
                })
            })
            .collect::<kol_core::Result<Vec<_>>>()?;
        PlanRecord::new(
            mode,
            budget,
            People::new(self.plan.total_effective_reach.people())?,
            People::new(self.plan.upper_bound.people())?,
            self.plan.gap.clamp(0.0, 1.0),
            items,
        )
    }
}

/// [`plan_campaign`] on what a search backend returns with profiles and rate cards (kol-core's
/// [`MatchedKol`], from kol-db's `search_candidates`), in one call.
///
/// # Errors
/// As [`plan_campaign`].
pub fn plan_candidates(
    candidates: &[MatchedKol],
    options: &CampaignOptions<'_>,
) -> Result<CampaignPlan> {
    let cards: Vec<Vec<NewRateCard>> = candidates
        .iter()
        .map(|c| c.rate_cards.iter().map(|r| r.card.clone()).collect())
        .collect();
    let creators: Vec<MatchedCreator<'_>> = candidates
        .iter()
        .zip(&cards)
        .map(|(c, cards)| MatchedCreator {
            matched: c.matched,
            profile: &c.kol.profile,
            rate_cards: cards,
        })
        .collect();
    plan_campaign(&creators, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kol_core::{Followers, Handle, MediaId, Platform, TieredReach};

    fn profile(followers: Option<i64>, share: Option<i64>) -> NewKol {
        let mut k = NewKol::new(Handle::new(Platform::Tiktok, "a").unwrap());
        k.followers = followers.map(|f| Followers::new(f).unwrap());
        k.audience_th_pct = share.map(|s| AudienceShare::new(s).unwrap());
        k
    }

    fn card(item: &str, price: i64, reach: Option<i64>) -> NewRateCard {
        NewRateCard::new(
            DeliverableItem::new(item).unwrap(),
            PriceThb::new(price).unwrap(),
            reach.map(|r| Reach::new(r).unwrap()),
        )
    }

    #[test]
    fn relevance_is_similarity_clamped() {
        assert_eq!(relevance_of(0.0).get(), 1.0);
        assert_eq!(relevance_of(0.25).get(), 0.75);
        assert_eq!(relevance_of(1.5).get(), 0.0);
        assert_eq!(relevance_of(f64::NAN).get(), 0.0);
    }

    #[test]
    fn plans_with_estimated_reach_and_explains() {
        let a = profile(Some(100_000), Some(80));
        let b = profile(Some(50_000), None);
        let c = profile(None, Some(90));
        let cards_a = [
            card("tiktok_video", 10_000, None),
            card("bundle", 30_000, Some(60_000)),
        ];
        let cards_b = [card("ig_post", 1_000, Some(100_000))];
        let cards_c: [NewRateCard; 0] = [];
        let m = |id: i64, d: f64| KolMatch {
            kol_id: KolId(id),
            media_id: MediaId(id),
            distance: d,
        };
        let creators = [
            MatchedCreator {
                matched: m(1, 0.2),
                profile: &a,
                rate_cards: &cards_a,
            },
            MatchedCreator {
                matched: m(2, 0.1),
                profile: &b,
                rate_cards: &cards_b,
            },
            MatchedCreator {
                matched: m(3, 0.1),
                profile: &c,
                rate_cards: &cards_c,
            },
        ];
        let estimator = TieredReach::default();
        let options = CampaignOptions::new(Budget::new(12_000), &estimator);
        let planned = plan_campaign(&creators, &options).unwrap();
        // KOL 2's audience share is unknown: 0 % under weighting, so KOL 1's video wins.
        assert_eq!(planned.explanations.len(), 1);
        let e = &planned.explanations[0];
        assert_eq!((e.kol_id, e.item.as_str()), (KolId(1), "tiktok_video"));
        assert!(e.reach_estimated);
        assert_eq!(e.est_reach.get(), 16_000, "mid tier: 16 % of 100k");
        assert_eq!(e.relevance, 0.8);
        assert!((e.effective_reach - 16_000.0 * 0.8 * 0.8).abs() < 1e-6);
        assert!((e.reach_per_thb.unwrap() - e.effective_reach / 10_000.0).abs() < 1e-12);

        let unweighted = CampaignOptions {
            weighting: Weighting::Off,
            ..CampaignOptions::new(Budget::new(12_000), &estimator)
        };
        let planned = plan_campaign(&creators, &unweighted).unwrap();
        let chosen: Vec<_> = planned.explanations.iter().map(|e| e.kol_id).collect();
        assert_eq!(chosen, vec![KolId(1), KolId(2)], "both fit: 11,000 THB");
    }

    #[test]
    fn past_posts_correct_the_reach_and_the_plan_records_it() {
        use kol_core::{CalibratedReach, Count, PastPost, Platform};
        let a = profile(Some(100_000), Some(100));
        let cards_a = [card("tiktok_video", 10_000, Some(20_000))];
        let creators = [MatchedCreator {
            matched: KolMatch {
                kol_id: KolId(1),
                media_id: MediaId(1),
                distance: 0.0,
            },
            profile: &a,
            rate_cards: &cards_a,
        }];
        // Three posts that each reached half of the 20,000 promised.
        let posts: Vec<PastPost> = (0..3)
            .map(|d| PastPost {
                kol_id: KolId(1),
                platform: Platform::Tiktok,
                item: DeliverableItem::new("tiktok_video").unwrap(),
                posted_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH + chrono::TimeDelta::days(d),
                expected: Reach::new(20_000).unwrap(),
                observed: Count::new(10_000).unwrap(),
            })
            .collect();
        let calibrated = CalibratedReach::from_history(&posts);
        let planned = plan_campaign(
            &creators,
            &CampaignOptions::new(Budget::new(10_000), &calibrated),
        )
        .unwrap();
        let e = &planned.explanations[0];
        assert!(e.reach_estimated, "calibrated, not the card's figure");
        assert!(
            e.est_reach.get() < 20_000 && e.est_reach.get() >= 10_000,
            "{}",
            e.est_reach
        );

        let record = planned.record().unwrap();
        assert_eq!(record.items().len(), 1);
        assert_eq!(record.items()[0].est_reach, e.est_reach);
        assert_eq!(record.budget().get(), 10_000);
        assert_eq!(record.spend(), 10_000);
        assert_eq!(record.mode(), PlanMode::Greedy);
    }
}
