//! Side constraints: small random instances against a brute force that checks every constraint
//! from the raw request (no code shared with the solver), and the refusals of conflicting ones.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test helpers: a panic is a failed test.

use std::collections::HashMap;

use crate::common::check_valid;
use kol_core::{
    AudienceShare, Category, DeliverableItem, FollowerTier, KolId, Platform, PriceThb, Reach,
};
use kol_optimizer::{
    Budget, Candidate, EffectiveReach, ExactOptions, Group, Mode, Objective, Offer, OptimizerError,
    PlanRequest, Problem, Quota, SideConstraints, Weighting,
};
use proptest::prelude::*;

const ITEMS: [&str; 5] = ["bundle", "tiktok_video", "ig_post", "youtube_video", "live"];
const TIERS: [FollowerTier; 3] = [FollowerTier::Nano, FollowerTier::Micro, FollowerTier::Mega];
const CATS: [&str; 3] = ["beauty", "food", "travel"];
const PLATFORMS: [Platform; 3] = [Platform::Tiktok, Platform::Instagram, Platform::Youtube];

fn platform_of(cand: &Candidate, offer: &Offer) -> Option<Platform> {
    offer.platform.or(match offer.item.as_str() {
        "tiktok_video" => Some(Platform::Tiktok),
        "ig_post" => Some(Platform::Instagram),
        "youtube_video" => Some(Platform::Youtube),
        _ => cand.platform,
    })
}

/// Does the selection `(candidate index, offer index)` meet every side constraint?
fn meets(req: &PlanRequest, picks: &[(usize, usize)]) -> bool {
    let c = &req.constraints;
    let spent: u64 = picks
        .iter()
        .map(|&(k, o)| u64::from(req.candidates[k].offers[o].price.get()))
        .sum();
    if let Some(p) = c.max_creator_share_pct {
        let cap = u128::from(req.budget.get()) * u128::from(p) / 100;
        if picks
            .iter()
            .any(|&(k, o)| u128::from(req.candidates[k].offers[o].price.get()) > cap)
        {
            return false;
        }
    }
    let n = picks.len() as u32;
    if c.min_creators.is_some_and(|m| n < m) || c.max_creators.is_some_and(|m| n > m) {
        return false;
    }
    for q in &c.quotas {
        let inside: Vec<u64> = picks
            .iter()
            .filter(|&&(k, o)| {
                let cand = &req.candidates[k];
                match q.group {
                    Group::Platform(p) => platform_of(cand, &cand.offers[o]) == Some(p),
                    Group::Tier(t) => cand.tier == Some(t),
                }
            })
            .map(|&(k, o)| u64::from(req.candidates[k].offers[o].price.get()))
            .collect();
        let count = inside.len() as u32;
        let share_spend: u64 = inside.iter().sum();
        if q.min_count.is_some_and(|m| count < m) || q.max_count.is_some_and(|m| count > m) {
            return false;
        }
        if q.min_share_pct
            .is_some_and(|s| 100 * u128::from(share_spend) < u128::from(s) * u128::from(spent))
        {
            return false;
        }
        if q.max_share_pct
            .is_some_and(|s| 100 * u128::from(share_spend) > u128::from(s) * u128::from(spent))
        {
            return false;
        }
    }
    c.categories.iter().all(|cat| {
        picks
            .iter()
            .any(|&(k, _)| req.candidates[k].categories.contains(cat))
    })
}

fn micros(req: &PlanRequest, k: usize, o: usize) -> u128 {
    let cand = &req.candidates[k];
    let pct = match req.weighting {
        Weighting::TargetCountry => u128::from(cand.audience_th_pct.percent()),
        Weighting::Off => 100,
    };
    u128::from(cand.offers[o].est_reach.get()) * pct * u128::from(cand.relevance.ten_thousandths())
}

/// Every plan within the budget that meets the constraints: (spent, reach).
fn brute(req: &PlanRequest) -> Vec<(u64, u128)> {
    let mut plans: Vec<Vec<(usize, usize)>> = vec![Vec::new()];
    for (k, cand) in req.candidates.iter().enumerate() {
        let mut next = Vec::new();
        for plan in &plans {
            next.push(plan.clone());
            for o in 0..cand.offers.len() {
                let mut p = plan.clone();
                p.push((k, o));
                next.push(p);
            }
        }
        plans = next;
    }
    plans
        .into_iter()
        .filter(|p| meets(req, p))
        .map(|p| {
            let spent: u64 = p
                .iter()
                .map(|&(k, o)| u64::from(req.candidates[k].offers[o].price.get()))
                .sum();
            let reach: u128 = p.iter().map(|&(k, o)| micros(req, k, o)).sum();
            (spent, reach)
        })
        .filter(|&(s, _)| s <= req.budget.get())
        .collect()
}

fn picks_of(req: &PlanRequest, plan: &kol_optimizer::Plan) -> Vec<(usize, usize)> {
    let index: HashMap<KolId, usize> = req
        .candidates
        .iter()
        .enumerate()
        .map(|(k, c)| (c.kol_id, k))
        .collect();
    plan.selections
        .iter()
        .map(|s| {
            let k = index[&s.kol_id];
            let o = req.candidates[k]
                .offers
                .iter()
                .position(|o| o.item == s.item)
                .unwrap();
            (k, o)
        })
        .collect()
}

fn request() -> impl Strategy<Value = PlanRequest> {
    let offer = (0..ITEMS.len(), 1..=60i64, 0..=1_000i64);
    let candidate = (
        prop::collection::vec(offer, 1..=3),
        0..TIERS.len(),
        0..PLATFORMS.len(),
        prop::collection::vec(0..CATS.len(), 0..=2),
    );
    let quota = (
        prop_oneof![
            (0..PLATFORMS.len()).prop_map(|p| Group::Platform(PLATFORMS[p])),
            (0..TIERS.len()).prop_map(|t| Group::Tier(TIERS[t])),
        ],
        prop::option::weighted(0.4, 0..=2u32),
        prop::option::weighted(0.3, 1..=3u32),
        prop::option::weighted(0.3, 10..=50u32),
        prop::option::weighted(0.3, 40..=90u32),
    );
    (
        prop::collection::vec(candidate, 1..=6),
        20..=150u64,
        prop::collection::vec(quota, 0..=2),
        prop::option::weighted(0.3, 30..=100u32),
        prop::option::weighted(0.3, 1..=3u32),
        prop::option::weighted(0.3, 2..=5u32),
        prop::collection::vec(0..CATS.len(), 0..=2),
        prop::option::weighted(0.2, 100..=2_000u64),
    )
        .prop_map(|(cands, budget, quotas, cap, min_c, max_c, cats, target)| {
            let mut req = PlanRequest::new(Budget::new(budget), Vec::new());
            req.weighting = Weighting::Off;
            for (k, (offers, tier, platform, categories)) in cands.into_iter().enumerate() {
                let mut seen = std::collections::HashSet::new();
                let offers: Vec<Offer> = offers
                    .into_iter()
                    .filter(|o| seen.insert(o.0))
                    .map(|(name, price, reach)| {
                        Offer::new(
                            DeliverableItem::new(ITEMS[name]).unwrap(),
                            PriceThb::new(price).unwrap(),
                            Reach::new(reach).unwrap(),
                        )
                    })
                    .collect();
                req.candidates.push(
                    Candidate::new(KolId(k as i64 * 3 + 1), AudienceShare::ALL, offers)
                        .with_tier(TIERS[tier])
                        .with_platform(PLATFORMS[platform])
                        .with_categories(
                            categories
                                .into_iter()
                                .map(|c| Category::new(CATS[c]).unwrap()),
                        ),
                );
            }
            let mut side = SideConstraints::new();
            let mut groups = std::collections::HashSet::new();
            for (group, min, max, min_s, max_s) in quotas {
                if groups.insert(group) {
                    side = side.quota(Quota::new(group).count(min, max).share_pct(min_s, max_s));
                }
            }
            side.max_creator_share_pct = cap;
            side = side.creators(min_c, max_c);
            let mut listed = std::collections::HashSet::new();
            for c in cats {
                if listed.insert(c) {
                    side = side.cover(Category::new(CATS[c]).unwrap());
                }
            }
            req.constraints = side;
            if let Some(t) = target {
                req.objective = Objective::MinCost {
                    min_reach: EffectiveReach::from_people(t as f64).unwrap(),
                };
            }
            req
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Plans meet every constraint; the bound is never below the optimum; exact == brute force.
    #[test]
    fn constrained_plans_against_brute_force(req in request()) {
        let problem = match Problem::new(req.clone()) {
            Ok(p) => p,
            Err(OptimizerError::InvalidConstraint { .. }) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("unexpected error {e}"))),
        };
        let plans = brute(&req);
        let max_reach = plans.iter().map(|p| p.1).max();
        let exact = problem.exact(&ExactOptions::default());
        let greedy = problem.try_greedy();
        let Some(best_reach) = max_reach else {
            // No plan meets the constraints: both refuse, naming the conflict.
            for r in [exact, greedy] {
                match r {
                    Err(OptimizerError::InfeasibleConstraints { conflict }) => {
                        prop_assert!(!conflict.is_empty());
                    }
                    other => return Err(TestCaseError::fail(format!("expected infeasible, got {other:?}"))),
                }
            }
            prop_assert!(!problem.greedy().unmet_constraints.is_empty());
            return Ok(());
        };
        let exact = exact.unwrap();
        let greedy = greedy.unwrap();
        // `upper_bound` accounts for the side constraints: never below the constrained optimum,
        // never above the unconstrained LP.
        let bound = problem.upper_bound().micros();
        prop_assert!(bound >= best_reach, "upper_bound {bound} below the optimum {best_reach}");
        let mut free = req.clone();
        free.constraints = SideConstraints::new();
        let unconstrained = Problem::new(free).unwrap().upper_bound().micros();
        prop_assert!(bound <= unconstrained, "upper_bound {bound} above the LP {unconstrained}");
        for plan in [&exact, &greedy] {
            check_valid(&req, plan);
            prop_assert!(meets(&req, &picks_of(&req, plan)), "constraints unmet: {plan:?}");
            prop_assert!(plan.unmet_constraints.is_empty());
        }
        prop_assert_eq!(exact.mode, Mode::Exact);
        match req.objective {
            Objective::MaxReach => {
                prop_assert_eq!(exact.total_effective_reach.micros(), best_reach, "exact vs brute force");
                prop_assert!(greedy.upper_bound.micros() >= best_reach, "bound below the optimum");
                prop_assert!(greedy.total_effective_reach.micros() <= best_reach);
            }
            Objective::MinCost { min_reach } => {
                let t = min_reach.micros();
                let cheapest = plans.iter().filter(|p| p.1 >= t).map(|p| p.0).min();
                match cheapest {
                    Some(c) => {
                        prop_assert_eq!(exact.spent, c, "exact vs brute force (cost)");
                        if greedy.total_effective_reach.micros() >= t {
                            prop_assert!(greedy.cost_lower_bound.unwrap() <= c, "cost bound above the optimum");
                            prop_assert!(greedy.spent >= c);
                        } else {
                            // Only the unconstrained greedy may miss a reachable target (its
                            // two plans are heuristics); the constrained one decides
                            // feasibility with its feasibility phase.
                            prop_assert!(req.constraints.is_empty(), "reachable target missed");
                            prop_assert!(greedy.shortfall.is_some());
                        }
                    }
                    None => {
                        prop_assert_eq!(exact.total_effective_reach.micros(), best_reach);
                        prop_assert!(exact.shortfall.is_some());
                    }
                }
            }
        }
    }
}

fn cand(id: i64, tier: FollowerTier, cats: &[&str], offers: &[(&str, i64, i64)]) -> Candidate {
    Candidate::new(
        KolId(id),
        AudienceShare::ALL,
        offers
            .iter()
            .map(|&(n, p, r)| {
                Offer::new(
                    DeliverableItem::new(n).unwrap(),
                    PriceThb::new(p).unwrap(),
                    Reach::new(r).unwrap(),
                )
            })
            .collect(),
    )
    .with_tier(tier)
    .with_categories(cats.iter().map(|c| Category::new(c).unwrap()))
}

fn three() -> Vec<Candidate> {
    vec![
        cand(
            1,
            FollowerTier::Micro,
            &["beauty"],
            &[("tiktok_video", 150, 1_000)],
        ),
        cand(
            2,
            FollowerTier::Micro,
            &["food"],
            &[("ig_post", 200, 3_000)],
        ),
        cand(
            3,
            FollowerTier::Mega,
            &["beauty"],
            &[("youtube_video", 900, 20_000)],
        ),
    ]
}

fn refused(side: SideConstraints) -> String {
    let req = PlanRequest::new(Budget::new(1_000), three()).with_constraints(side);
    match Problem::new(req) {
        Err(e @ OptimizerError::InvalidConstraint { .. }) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn conflicting_quotas_are_refused_with_their_names() {
    let tiktok = Group::Platform(Platform::Tiktok);
    let msg = refused(SideConstraints::new().quota(Quota::new(tiktok).count(Some(3), Some(1))));
    assert!(
        msg.contains("constraints.quotas[0].min_count") && msg.contains("above the maximum"),
        "{msg}"
    );
    let msg = refused(
        SideConstraints::new()
            .quota(Quota::new(tiktok).share_pct(Some(60), None))
            .quota(Quota::new(Group::Platform(Platform::Instagram)).share_pct(Some(50), None)),
    );
    assert!(msg.contains("sum to 110 %"), "{msg}");
    let msg = refused(SideConstraints::new().cover(Category::new("travel").unwrap()));
    assert!(
        msg.contains("constraints.categories[0]") && msg.contains("travel"),
        "{msg}"
    );
    let msg = refused(SideConstraints::new().creators(Some(4), None));
    assert!(msg.contains("constraints.min_creators"), "{msg}");
    let msg = refused(SideConstraints::new().quota(Quota::new(tiktok).share_pct(Some(101), None)));
    assert!(
        msg.contains("min_share_pct") && msg.contains("101"),
        "{msg}"
    );
    let msg = refused(
        SideConstraints::new()
            .quota(Quota::new(Group::Tier(FollowerTier::Micro)).count(Some(2), None))
            .creators(None, Some(1)),
    );
    assert!(msg.contains("constraints.max_creators"), "{msg}");
}

#[test]
fn constraints_that_conflict_with_the_budget_are_named() {
    // Both micro creators and the mega one: 1,200 THB, budget 1,000.
    let side = SideConstraints::new()
        .quota(Quota::new(Group::Tier(FollowerTier::Micro)).count(Some(2), None))
        .quota(Quota::new(Group::Tier(FollowerTier::Mega)).count(Some(1), None));
    let req = PlanRequest::new(Budget::new(1_000), three()).with_constraints(side);
    let problem = Problem::new(req).unwrap();
    let err = problem.try_greedy().unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("quotas[0].min_count") && msg.contains("quotas[1].min_count"),
        "{msg}"
    );
    assert!(msg.contains("budget"), "{msg}");
    assert!(matches!(
        problem.exact(&ExactOptions::default()),
        Err(OptimizerError::InfeasibleConstraints { .. })
    ));
    let plan = problem.greedy();
    assert!(plan.selections.is_empty() && !plan.unmet_constraints.is_empty());
}

#[test]
fn items_the_budget_or_the_cap_keep_out_are_named_in_the_conflict() {
    // The only beauty creator's item costs 900: above a budget of 500, and above a cap of 50 %
    // of a budget of 1,000.
    let cover = SideConstraints::new().cover(Category::new("beauty").unwrap());
    let beauty_only = vec![three()[1].clone(), three()[2].clone()];
    for (budget, side, named) in [
        (500, cover.clone(), "budget"),
        (
            1_000,
            cover.clone().max_creator_share_pct(50),
            "constraints.max_creator_share_pct",
        ),
    ] {
        let req = PlanRequest::new(Budget::new(budget), beauty_only.clone()).with_constraints(side);
        let problem = Problem::new(req).unwrap();
        for result in [
            problem.try_greedy(),
            problem.exact(&ExactOptions::default()),
        ] {
            let msg = result.unwrap_err().to_string();
            assert!(
                msg.contains("categories[0]") && msg.contains(named),
                "{msg}"
            );
        }
    }
}

#[test]
fn a_share_of_a_group_nobody_offers_leaves_the_free_items() {
    // Nobody offers TikTok; a free Instagram post meets "at least 20 % on TikTok" (0 <= 0).
    let cands = vec![cand(
        1,
        FollowerTier::Micro,
        &["beauty"],
        &[("ig_post", 0, 100)],
    )];
    let side = SideConstraints::new()
        .quota(Quota::new(Group::Platform(Platform::Tiktok)).share_pct(Some(20), None));
    let mut req = PlanRequest::new(Budget::new(0), cands).with_constraints(side);
    req.weighting = Weighting::Off;
    let plan = Problem::new(req)
        .unwrap()
        .exact(&ExactOptions::default())
        .unwrap();
    assert_eq!(plan.total_effective_reach.people(), 100.0);
    assert_eq!(plan.mode, Mode::Exact);
}

#[test]
fn a_share_quota_changes_the_mix() {
    // Unconstrained: the mega creator alone is best per THB; at least 40 % on TikTok forces
    // the TikTok creator in.
    let req = PlanRequest::new(Budget::new(1_000), three());
    let free = Problem::new(req.clone())
        .unwrap()
        .exact(&ExactOptions::default())
        .unwrap();
    assert!(free.selections.iter().all(|s| s.kol_id != KolId(1)));
    let side = SideConstraints::new()
        .quota(Quota::new(Group::Platform(Platform::Tiktok)).share_pct(Some(30), None));
    let problem = Problem::new(req.with_constraints(side)).unwrap();
    for plan in [
        problem.try_greedy().unwrap(),
        problem.exact(&ExactOptions::default()).unwrap(),
    ] {
        let tiktok: u64 = plan
            .selections
            .iter()
            .filter(|s| s.item == DeliverableItem::TIKTOK_VIDEO)
            .map(|s| u64::from(s.price.get()))
            .sum();
        assert!(100 * tiktok >= 30 * plan.spent, "{plan:?}");
        assert!(plan.upper_bound >= plan.total_effective_reach);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The frontier's plans never decrease much below the envelope... and the envelope is
    /// non-decreasing and concave; every point's plan is within its own bound and the envelope.
    #[test]
    fn frontier_is_monotone_and_the_envelope_concave(seed in 0u64..1_000, points in 2usize..12) {
        let req = kol_optimizer::instances::thai_market(60, 0.5, seed);
        let max = req.budget.get();
        let problem = Problem::new(req).unwrap();
        let f = problem
            .frontier(Budget::new(0), Budget::new(max), points, kol_optimizer::Method::Greedy)
            .unwrap();
        prop_assert_eq!(f.points.len(), points);
        prop_assert_eq!(f.points[0].budget, 0);
        prop_assert_eq!(f.points[points - 1].budget, max);
        for w in f.envelope.windows(2) {
            prop_assert!(w[0].budget < w[1].budget);
            prop_assert!(w[0].reach <= w[1].reach, "envelope decreases");
        }
        for w in f.envelope.windows(3) {
            // Slopes decrease: (r1 - r0) / (b1 - b0) >= (r2 - r1) / (b2 - b1).
            let (a, b, c) = (w[0], w[1], w[2]);
            let left = (b.reach.micros() - a.reach.micros()) * u128::from(c.budget - b.budget);
            let right = (c.reach.micros() - b.reach.micros()) * u128::from(b.budget - a.budget);
            // Interpolated ends are rounded down by at most one micro-person per THB step.
            let slack = u128::from(c.budget - a.budget) * 2;
            prop_assert!(left + slack >= right, "envelope not concave at {:?}", b);
        }
        for p in &f.points {
            prop_assert!(p.plan.spent <= p.budget);
            prop_assert!(p.plan.total_effective_reach <= p.envelope);
            prop_assert!(p.plan.total_effective_reach <= p.plan.upper_bound);
            // The shared model gives the same plan as solving at that budget alone.
            let alone = Problem::new(
                PlanRequest::new(Budget::new(p.budget), problem.candidates().to_vec()),
            )
            .unwrap()
            .exact(&ExactOptions::default())
            .unwrap();
            prop_assert!(p.plan.total_effective_reach <= alone.total_effective_reach);
            prop_assert!(alone.total_effective_reach <= p.envelope, "envelope below an optimum");
        }
        // Exact points: the optimum never decreases with the budget.
        let exact = problem
            .frontier(Budget::new(0), Budget::new(max), points, kol_optimizer::Method::Exact(ExactOptions::default()))
            .unwrap();
        for w in exact.points.windows(2) {
            prop_assert!(w[0].plan.total_effective_reach <= w[1].plan.total_effective_reach);
            prop_assert!(w[1].marginal_reach.unwrap() >= 0.0);
        }
    }
}

#[test]
fn cost_frontier_costs_more_for_more_reach() {
    let req = kol_optimizer::instances::thai_market(80, 1.0, 3);
    let problem = Problem::new(req).unwrap();
    let top = problem.upper_bound().people();
    let f = problem
        .cost_frontier(
            EffectiveReach::from_people(top * 0.1).unwrap(),
            EffectiveReach::from_people(top * 0.6).unwrap(),
            6,
            kol_optimizer::Method::Exact(ExactOptions::default()),
        )
        .unwrap();
    for w in f.points.windows(2) {
        assert!(w[0].plan.spent <= w[1].plan.spent, "{:?}", f.points);
        assert!(w[0].lp_cost <= w[1].lp_cost);
    }
    for p in &f.points {
        assert!(p.plan.total_effective_reach >= p.target);
        assert!(p.lp_cost.unwrap() <= p.plan.spent);
    }
}
