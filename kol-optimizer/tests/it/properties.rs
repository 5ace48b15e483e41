//! Property tests: random instances of up to 12 KOLs x 3 items against independent oracles.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test helpers: a panic is a failed test.

use crate::common::{Best, brute, by_spend, check_valid, optimum, options, spend_pairs};
use kol_core::{AudienceShare, DeliverableItem, KolId, PriceThb, Reach};
use kol_optimizer::instances::SplitMix64;
use kol_optimizer::{
    Budget, Candidate, EffectiveReach, ExactOptions, Mode, Objective, Offer, OptimizerError, Pin,
    PlanRequest, Problem, Relevance, Weighting,
};
use proptest::prelude::*;

const ITEMS: [&str; 8] = [
    "bundle",
    "ig_story",
    "tiktok_video",
    "ig_post",
    "ig_reel",
    "fb_post",
    "live",
    "youtube_video",
];

/// A random request: up to `max_kols` KOLs with up to `max_items` items, prices up to
/// `max_price`.
fn request(max_kols: usize, max_price: i64, max_budget: u64) -> impl Strategy<Value = PlanRequest> {
    request_with(max_kols, 3, max_price, max_budget)
}

fn request_with(
    max_kols: usize,
    max_items: usize,
    max_price: i64,
    max_budget: u64,
) -> impl Strategy<Value = PlanRequest> {
    let offer = (0..ITEMS.len(), 0..=max_price, 0..=1_000i64);
    let candidate = (
        prop::collection::vec(offer, 0..=max_items),
        0..=100i64,
        prop_oneof![
            prop::sample::select(vec![0.0, 0.5, 1.0, 1.0, 1.0]),
            0.0..=3.0f64,
        ],
        any::<bool>(),
        any::<bool>(),
        0..=3usize,
    );
    (
        prop::collection::vec(candidate, 0..=max_kols),
        0..=max_budget,
        any::<bool>(),
        prop::option::weighted(0.3, 0..=8_000u64),
        any::<u64>(),
    )
        .prop_map(move |(cands, budget, weighting, target, seed)| {
            let mut rng = SplitMix64::new(seed);
            let mut req = PlanRequest::new(Budget::new(budget), Vec::new());
            for (k, (offers, share, rel, pin, exclude, pin_pick)) in cands.into_iter().enumerate() {
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
                // Ids spread out and out of order, so sorting matters.
                let kol = KolId((k as i64 * 7919) % 1000 - 500);
                if pin && !offers.is_empty() && rng.range(0, 3) == 0 {
                    let item = offers[pin_pick % offers.len()].item.clone();
                    req.pinned.push(Pin::new(kol, item));
                } else if exclude && rng.range(0, 3) == 0 {
                    req.excluded.push(kol);
                }
                let c = Candidate::new(kol, AudienceShare::new(share).unwrap(), offers)
                    .with_relevance(Relevance::new(rel).unwrap());
                req.candidates.push(c);
            }
            req.weighting = if weighting {
                Weighting::TargetCountry
            } else {
                Weighting::Off
            };
            if let Some(t) = target {
                req.objective = Objective::MinCost {
                    min_reach: EffectiveReach::from_people(t as f64).unwrap(),
                };
            }
            req
        })
}

/// Checks both solvers on one request against the optimum given by `oracle` (all plans'
/// (spend, reach) pairs).
fn check(req: &PlanRequest, plans: Vec<(u64, u128)>) -> Result<(), TestCaseError> {
    let problem = match Problem::new(req.clone()) {
        Ok(p) => p,
        Err(OptimizerError::InfeasiblePins {
            pinned_price,
            budget,
        }) => {
            prop_assert!(pinned_price > budget);
            prop_assert!(plans.is_empty());
            return Ok(());
        }
        Err(e) => return Err(TestCaseError::fail(format!("unexpected error {e}"))),
    };
    let (best, met) = optimum(req, &plans).expect("pins fit, so the empty plan fits");
    let max = optimum(
        &PlanRequest {
            objective: Objective::MaxReach,
            ..req.clone()
        },
        &plans,
    )
    .unwrap()
    .0;

    let exact = problem.exact(&ExactOptions::default()).unwrap();
    let (spent, reach) = check_valid(req, &exact);
    prop_assert_eq!(exact.mode, Mode::Exact);
    prop_assert_eq!(Best { reach, spent }, best, "exact vs oracle");

    let greedy = problem.greedy();
    let (g_spent, g_reach) = check_valid(req, &greedy);
    let ub = problem.upper_bound().micros();
    prop_assert!(
        ub >= max.reach,
        "upper bound {} < optimum {}",
        ub,
        max.reach
    );
    prop_assert!(greedy.upper_bound.micros() >= max.reach);

    match req.objective {
        Objective::MaxReach => {
            prop_assert_eq!(exact.gap, 0.0);
            prop_assert_eq!(exact.upper_bound, exact.total_effective_reach);
            prop_assert!(g_reach <= max.reach);
            prop_assert!(
                2 * g_reach >= max.reach,
                "greedy {} < half of {}",
                g_reach,
                max.reach
            );
            prop_assert!(greedy.shortfall.is_none() && greedy.cost_lower_bound.is_none());
        }
        Objective::MinCost { min_reach } => {
            let t = min_reach.micros();
            if met {
                prop_assert!(exact.shortfall.is_none());
                prop_assert_eq!(exact.cost_lower_bound, Some(exact.spent));
            } else {
                prop_assert_eq!(exact.shortfall.map(|s| s.micros()), Some(t - reach));
                prop_assert!(exact.cost_lower_bound.is_none());
            }
            // The greedy meets the target when it says so, never below the proven cost bound.
            match greedy.shortfall {
                None => {
                    prop_assert!(met, "greedy met a target the oracle cannot");
                    prop_assert!(g_reach >= t);
                    prop_assert!(g_spent >= best.spent);
                    let lb = greedy.cost_lower_bound.unwrap();
                    prop_assert!(
                        lb <= best.spent,
                        "cost bound {} > optimum {}",
                        lb,
                        best.spent
                    );
                }
                Some(s) => prop_assert_eq!(s.micros(), t - g_reach),
            }
        }
    }
    Ok(())
}

/// The same request with candidates, items, pins and exclusions in another order.
fn shuffled(req: &PlanRequest, seed: u64) -> PlanRequest {
    let mut rng = SplitMix64::new(seed);
    let mut out = req.clone();
    rng.shuffle(&mut out.candidates);
    for c in &mut out.candidates {
        rng.shuffle(&mut c.offers);
    }
    rng.shuffle(&mut out.pinned);
    rng.shuffle(&mut out.excluded);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    /// Up to 12 KOLs x 3 items, small prices: the DP over the exact spend is the oracle.
    #[test]
    fn solvers_match_the_dp_oracle(req in request(12, 60, 400), seed in any::<u64>()) {
        let opts = options(&req);
        let table = by_spend(&opts, req.budget.get());
        check(&req, spend_pairs(&table))?;
        // Shuffling the input changes nothing, byte for byte.
        if let Ok(problem) = Problem::new(req.clone()) {
            let other = Problem::new(shuffled(&req, seed)).unwrap();
            prop_assert_eq!(problem.greedy(), other.greedy());
            prop_assert_eq!(
                problem.exact(&ExactOptions::default()).unwrap(),
                other.exact(&ExactOptions::default()).unwrap()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// Up to 7 KOLs x 3 items, any prices: every combination is enumerated.
    #[test]
    fn solvers_match_brute_force(req in request(7, 2_000_000, 8_000_000)) {
        let opts = options(&req);
        check(&req, brute(&opts, req.budget.get()))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Up to 60 KOLs x 6 items: deeper exact searches, still against the DP oracle.
    #[test]
    fn larger_instances_match_the_dp_oracle(req in request_with(60, 6, 40, 600)) {
        let opts = options(&req);
        let table = by_spend(&opts, req.budget.get());
        check(&req, spend_pairs(&table))?;
    }
}
