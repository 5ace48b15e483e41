//! Independent oracles for the optimizer's tests: a true brute force and a dynamic programme over
//! the exact spend. Both work from the raw request, sharing no code with the solvers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test helpers: a panic is a failed test.
#![allow(dead_code, unreachable_pub)]

use std::collections::{HashMap, HashSet};

use kol_optimizer::{Objective, Plan, PlanRequest, Weighting};

/// The options of one KOL: (price, micro-reach, item index) with index `None` for nothing.
pub type Options = Vec<(u64, u128, Option<usize>)>;

/// Per KOL of the request (in request order): the options a plan may take. Pinned KOLs have only
/// their pinned item, excluded ones only "nothing". `None` when a pin is infeasible by itself.
pub fn options(req: &PlanRequest) -> Vec<Options> {
    let excluded: HashSet<_> = req.excluded.iter().collect();
    let pins: HashMap<_, _> = req.pinned.iter().map(|p| (p.kol_id, &p.item)).collect();
    req.candidates
        .iter()
        .map(|c| {
            let pct: u128 = match req.weighting {
                Weighting::TargetCountry => u128::from(c.audience_th_pct.percent()),
                Weighting::Off => 100,
            };
            let rel = u128::from(c.relevance.ten_thousandths());
            let all: Options = c
                .offers
                .iter()
                .enumerate()
                .map(|(j, o)| {
                    let micros = u128::from(o.est_reach.get()) * pct * rel;
                    (u64::from(o.price.get()), micros, Some(j))
                })
                .collect();
            if excluded.contains(&c.kol_id) {
                vec![(0, 0, None)]
            } else if let Some(item) = pins.get(&c.kol_id) {
                all.into_iter()
                    .filter(|o| &&c.offers[o.2.unwrap()].item == item)
                    .collect()
            } else {
                let mut v = vec![(0, 0, None)];
                v.extend(all);
                v
            }
        })
        .collect()
}

/// What an optimum looks like: reach and spend (the selections may differ among ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Best {
    pub reach: u128,
    pub spent: u64,
}

/// Every Pareto-relevant (spend -> max reach) value, by dynamic programming over the exact
/// spend. `None` for a spend no plan has. Needs a small budget.
pub fn by_spend(opts: &[Options], budget: u64) -> Vec<Option<u128>> {
    let b = budget as usize;
    let mut best: Vec<Option<u128>> = vec![None; b + 1];
    best[0] = Some(0);
    for class in opts {
        let mut next: Vec<Option<u128>> = vec![None; b + 1];
        for (spend, reach) in best.iter().enumerate() {
            let Some(reach) = reach else { continue };
            for &(p, r, _) in class {
                let s = spend + p as usize;
                if s <= b && next[s].is_none_or(|x| x < reach + r) {
                    next[s] = Some(reach + r);
                }
            }
        }
        best = next;
    }
    best
}

/// Every combination, for small instances: (spend, reach) of each plan within the budget.
pub fn brute(opts: &[Options], budget: u64) -> Vec<(u64, u128)> {
    let mut out = vec![(0u64, 0u128)];
    for class in opts {
        let mut next = Vec::with_capacity(out.len() * class.len());
        for &(s, r) in &out {
            for &(p, q, _) in class {
                if s + p <= budget {
                    next.push((s + p, r + q));
                }
            }
        }
        out = next;
    }
    out
}

/// The optimum of a request from all (spend, reach) pairs: for max reach, the largest reach,
/// then the lowest spend; for a target, the lowest spend meeting it, then the largest reach, or
/// the max-reach optimum when nothing meets it (with `met == false`).
pub fn optimum(req: &PlanRequest, plans: &[(u64, u128)]) -> Option<(Best, bool)> {
    let max = plans
        .iter()
        .min_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)))
        .map(|&(spent, reach)| Best { reach, spent })?;
    match req.objective {
        Objective::MaxReach => Some((max, true)),
        Objective::MinCost { min_reach } => {
            let t = min_reach.micros();
            match plans
                .iter()
                .filter(|p| p.1 >= t)
                .min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
            {
                Some(&(spent, reach)) => Some((Best { reach, spent }, true)),
                None => Some((max, false)),
            }
        }
    }
}

/// The DP's (spend, reach) pairs, as input to [`optimum`].
pub fn spend_pairs(table: &[Option<u128>]) -> Vec<(u64, u128)> {
    table
        .iter()
        .enumerate()
        .filter_map(|(s, r)| r.map(|r| (s as u64, r)))
        .collect()
}

/// Checks the plan is a valid answer to the request: within budget, one item per KOL, items
/// exist, pins in, exclusions out, totals add up. Returns (spent, reach).
pub fn check_valid(req: &PlanRequest, plan: &Plan) -> (u64, u128) {
    let mut seen = HashSet::new();
    let mut spent = 0u64;
    let mut reach = 0u128;
    for s in &plan.selections {
        assert!(seen.insert(s.kol_id), "KOL {} twice", s.kol_id);
        assert!(
            !req.excluded.contains(&s.kol_id),
            "excluded KOL {} booked",
            s.kol_id
        );
        let cand = req
            .candidates
            .iter()
            .find(|c| c.kol_id == s.kol_id)
            .unwrap();
        let offer = cand.offers.iter().find(|o| o.item == s.item).unwrap();
        assert_eq!(offer.price, s.price);
        spent += u64::from(s.price.get());
        reach += s.effective_reach.micros();
    }
    for pin in &req.pinned {
        assert!(
            plan.selections
                .iter()
                .any(|s| s.kol_id == pin.kol_id && s.item == pin.item),
            "pin {pin:?} missing"
        );
    }
    assert!(
        plan.selections
            .windows(2)
            .all(|w| w[0].kol_id < w[1].kol_id),
        "selections sorted by KOL id"
    );
    assert_eq!(plan.spent, spent);
    assert!(spent <= req.budget.get(), "over budget");
    assert_eq!(plan.remaining, req.budget.get() - spent);
    assert_eq!(plan.total_effective_reach.micros(), reach);
    assert!(plan.upper_bound >= plan.total_effective_reach);
    assert!((0.0..=1.0).contains(&plan.gap));
    (spent, reach)
}
