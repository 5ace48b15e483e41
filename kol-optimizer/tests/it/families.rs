//! The classic instance families and realistic Thai rate cards: exact against the dynamic
//! programme oracle where budgets are small, greedy against exact everywhere, the work limit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test helpers: a panic is a failed test.

use crate::common::{Best, by_spend, check_valid, optimum, options, spend_pairs};
use kol_optimizer::instances::{KnapsackFamily, MckpFamily, knapsack, mckp, thai_market};
use kol_optimizer::{
    EffectiveReach, ExactOptions, Mode, Objective, OnWorkLimit, OptimizerError, PlanRequest,
    Problem,
};

/// Exact equals the oracle; greedy >= half of it; the upper bound is above it.
fn check_against_dp(req: &PlanRequest) {
    let table = by_spend(&options(req), req.budget.get());
    let pairs = spend_pairs(&table);
    let (best, _) = optimum(req, &pairs).unwrap();
    let max_req = PlanRequest {
        objective: Objective::MaxReach,
        ..req.clone()
    };
    let (max, _) = optimum(&max_req, &pairs).unwrap();
    let problem = Problem::new(req.clone()).unwrap();
    let exact = problem.exact(&ExactOptions::default()).unwrap();
    let (spent, reach) = check_valid(req, &exact);
    assert_eq!(exact.mode, Mode::Exact);
    assert_eq!(Best { reach, spent }, best);
    let greedy = problem.greedy();
    let (g_spent, g) = check_valid(req, &greedy);
    match req.objective {
        Objective::MaxReach => assert!(2 * g >= best.reach && g <= best.reach),
        Objective::MinCost { .. } => {
            if greedy.shortfall.is_none() {
                assert!(g_spent >= best.spent);
                assert!(greedy.cost_lower_bound.unwrap() <= best.spent);
            }
        }
    }
    assert!(problem.upper_bound().micros() >= max.reach);
}

#[test]
fn mckp_families_match_the_oracle() {
    for family in MckpFamily::ALL {
        for seed in 0..4 {
            check_against_dp(&mckp(family, 60, 5, 100, seed));
            check_against_dp(&mckp(family, 25, 10, 200, seed + 100));
        }
    }
}

#[test]
fn knapsack_families_match_the_oracle() {
    for family in KnapsackFamily::ALL {
        for h in [1, 25, 50, 99] {
            check_against_dp(&knapsack(family, 150, 100, h, 100, h));
        }
    }
}

#[test]
fn reach_targets_match_the_oracle_on_families() {
    for family in MckpFamily::ALL {
        let base = mckp(family, 40, 5, 100, 9);
        let most = Problem::new(base.clone())
            .unwrap()
            .exact(&ExactOptions::default())
            .unwrap()
            .total_effective_reach
            .micros();
        // A quarter, nine tenths, and slightly more than the budget allows.
        for target in [most / 4, most * 9 / 10, most + 1] {
            let mut req = base.clone();
            req.objective = Objective::MinCost {
                min_reach: EffectiveReach::from_micros(target),
            };
            check_against_dp(&req);
        }
    }
}

/// Larger instances: exact finishes and greedy is within the gap it reports.
#[test]
fn families_at_scale_solve_exactly() {
    let requests = [
        mckp(MckpFamily::Uncorrelated, 1_000, 10, 1_000, 1),
        mckp(MckpFamily::WeaklyCorrelated, 1_000, 10, 1_000, 2),
        mckp(MckpFamily::StronglyCorrelated, 200, 10, 1_000, 3),
        knapsack(KnapsackFamily::Uncorrelated, 2_000, 1_000, 50, 100, 4),
        knapsack(KnapsackFamily::WeaklyCorrelated, 2_000, 1_000, 50, 100, 5),
        knapsack(
            KnapsackFamily::InverseStronglyCorrelated,
            500,
            1_000,
            50,
            100,
            6,
        ),
    ];
    for req in &requests {
        let problem = Problem::new(req.clone()).unwrap();
        let exact = problem.exact(&ExactOptions::default()).unwrap();
        check_valid(req, &exact);
        assert_eq!(exact.mode, Mode::Exact);
        let greedy = problem.greedy();
        check_valid(req, &greedy);
        assert!(greedy.total_effective_reach <= exact.total_effective_reach);
        assert!(greedy.upper_bound >= exact.total_effective_reach);
        // The greedy's reported gap covers its real distance to the optimum.
        let real = 1.0
            - greedy.total_effective_reach.micros() as f64
                / exact.total_effective_reach.micros() as f64;
        assert!(real <= greedy.gap + 1e-12);
    }
}

#[test]
fn greedy_is_within_one_percent_on_realistic_rate_cards() {
    let cases = [0.02, 0.1, 0.3]
        .into_iter()
        .flat_map(|share| (1..=3).map(move |seed| (1_000, share, seed)))
        .chain([(3_000, 0.05, 4)]);
    for (kols, share, seed) in cases {
        let req = thai_market(kols, share, seed);
        let problem = Problem::new(req.clone()).unwrap();
        let exact = problem.exact(&ExactOptions::default()).unwrap();
        assert_eq!(exact.mode, Mode::Exact);
        check_valid(&req, &exact);
        let greedy = problem.greedy();
        check_valid(&req, &greedy);
        let ratio = greedy.total_effective_reach.micros() as f64
            / exact.total_effective_reach.micros() as f64;
        assert!(
            ratio >= 0.99,
            "{kols} KOLs, seed {seed}: greedy at {ratio} of optimal"
        );
        // What the greedy reports is a true bound on its distance to the optimum.
        assert!(1.0 - ratio <= greedy.gap + 1e-12);
    }
}

#[test]
fn the_work_limit_gives_a_proven_gap_or_a_typed_error() {
    let req = mckp(MckpFamily::StronglyCorrelated, 300, 10, 1_000, 7);
    let problem = Problem::new(req.clone()).unwrap();
    let optimum = problem.exact(&ExactOptions::default()).unwrap();
    assert_eq!(optimum.mode, Mode::Exact);
    let tight = ExactOptions {
        work_limit: 50,
        on_work_limit: OnWorkLimit::BestSoFar,
    };
    let stopped = problem.exact(&tight).unwrap();
    check_valid(&req, &stopped);
    assert_eq!(stopped.mode, Mode::ExactBestSoFar);
    assert!(stopped.upper_bound >= optimum.total_effective_reach);
    assert!(stopped.total_effective_reach <= optimum.total_effective_reach);
    assert!(stopped.gap > 0.0);
    // The bound a stopped search proves is no worse than the LP bound.
    assert!(stopped.upper_bound <= problem.upper_bound());

    let strict = ExactOptions {
        on_work_limit: OnWorkLimit::Error,
        ..tight
    };
    match problem.exact(&strict) {
        Err(OptimizerError::WorkLimit { limit, best }) => {
            assert_eq!(limit, 50);
            assert_eq!(*best, stopped);
        }
        other => panic!("expected a work-limit error, got {other:?}"),
    }
}
