//! The typed API on small, hand-checked cases: validation errors, ties, pins, free items, JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test helpers: a panic is a failed test.

use kol_core::{AudienceShare, DeliverableItem, KolId, PriceThb, Reach};
use kol_optimizer::{
    Budget, Candidate, EffectiveReach, ExactOptions, Method, Mode, Objective, Offer,
    OptimizerError, Pin, PlanRequest, Problem, Relevance, Weighting,
};

fn item(name: &str) -> DeliverableItem {
    DeliverableItem::new(name).unwrap()
}

fn offer(name: &str, price: i64, reach: i64) -> Offer {
    Offer::new(
        item(name),
        PriceThb::new(price).unwrap(),
        Reach::new(reach).unwrap(),
    )
}

fn kol(id: i64, pct: i64, offers: Vec<Offer>) -> Candidate {
    Candidate::new(KolId(id), AudienceShare::new(pct).unwrap(), offers)
}

/// Solves with both methods and checks the chosen (KOL, item) pairs and the reach in people.
fn check(req: PlanRequest, greedy: &[(i64, &str)], exact: &[(i64, &str)], exact_reach: f64) {
    let problem = Problem::new(req).unwrap();
    let picks = |plan: &kol_optimizer::Plan| -> Vec<(i64, String)> {
        plan.selections
            .iter()
            .map(|s| (s.kol_id.get(), s.item.to_string()))
            .collect()
    };
    let owned = |v: &[(i64, &str)]| -> Vec<(i64, String)> {
        v.iter().map(|&(k, i)| (k, i.to_owned())).collect()
    };
    let g = problem.solve(Method::Greedy).unwrap();
    let e = problem
        .solve(Method::Exact(ExactOptions::default()))
        .unwrap();
    assert_eq!(picks(&g), owned(greedy), "greedy");
    assert_eq!(picks(&e), owned(exact), "exact");
    assert_eq!(e.total_effective_reach.people(), exact_reach);
    assert_eq!(e.mode, Mode::Exact);
}

#[test]
fn the_issue_example_books_the_bundle() {
    let req = PlanRequest::new(
        Budget::new(100_000),
        vec![kol(
            1,
            80,
            vec![
                offer("tiktok_video", 5_000, 20_000),
                offer("bundle", 12_000, 45_000),
            ],
        )],
    );
    check(req, &[(1, "bundle")], &[(1, "bundle")], 36_000.0);
}

#[test]
fn greedy_can_be_beaten_and_says_by_how_much() {
    // Efficiency: A 13/6 per THB, then B, C, D 7/4 each. Both greedy fills end with A and one
    // of B, C, D (20); the optimum is B + C + D (21).
    let req = PlanRequest::new(
        Budget::new(12),
        vec![
            kol(1, 100, vec![offer("a", 6, 13)]),
            kol(2, 100, vec![offer("b", 4, 7)]),
            kol(3, 100, vec![offer("c", 4, 7)]),
            kol(4, 100, vec![offer("d", 4, 7)]),
        ],
    );
    let problem = Problem::new(req.clone()).unwrap();
    let g = problem.greedy();
    assert_eq!(g.total_effective_reach.people(), 20.0);
    // LP: A (13) + B (7) + half of C (3.5) = 23.5.
    assert_eq!(g.upper_bound.people(), 23.5);
    assert!((g.gap - (1.0 - 20.0 / 23.5)).abs() < 1e-12);
    check(
        req,
        &[(1, "a"), (2, "b")],
        &[(2, "b"), (3, "c"), (4, "d")],
        21.0,
    );
}

#[test]
fn ties_go_to_the_lower_kol_id_then_the_first_item_by_name() {
    let req = PlanRequest::new(
        Budget::new(100),
        vec![
            kol(9, 100, vec![offer("ig_post", 100, 50)]),
            kol(
                3,
                100,
                vec![offer("tiktok_video", 100, 50), offer("ig_post", 100, 50)],
            ),
            kol(5, 100, vec![offer("ig_post", 100, 50)]),
        ],
    );
    check(req, &[(3, "ig_post")], &[(3, "ig_post")], 50.0);
}

#[test]
fn equal_reach_prefers_the_lower_spend() {
    let req = PlanRequest::new(
        Budget::new(100),
        vec![kol(
            1,
            100,
            vec![offer("dear", 90, 50), offer("cheap", 40, 50)],
        )],
    );
    check(req, &[(1, "cheap")], &[(1, "cheap")], 50.0);
}

#[test]
fn free_items_are_taken_and_useless_ones_are_not() {
    let req = PlanRequest::new(
        Budget::new(0),
        vec![
            kol(1, 100, vec![offer("free", 0, 7), offer("paid", 10, 100)]),
            kol(2, 100, vec![offer("free", 0, 0)]),
            kol(3, 0, vec![offer("free", 0, 1_000)]),
        ],
    );
    check(req, &[(1, "free")], &[(1, "free")], 7.0);
}

#[test]
fn weighting_and_relevance_scale_reach() {
    let cands = vec![
        kol(1, 50, vec![offer("a", 10, 100)]),
        kol(2, 100, vec![offer("b", 10, 80)]).with_relevance(Relevance::new(0.5).unwrap()),
    ];
    let mut req = PlanRequest::new(Budget::new(10), cands);
    // Weighted: KOL 1 reaches 50, KOL 2 reaches 40.
    check(req.clone(), &[(1, "a")], &[(1, "a")], 50.0);
    req.weighting = Weighting::Off;
    // Unweighted: KOL 1 reaches 100, KOL 2 reaches 40.
    check(req, &[(1, "a")], &[(1, "a")], 100.0);
}

#[test]
fn pins_are_booked_and_exclusions_are_not() {
    let mut req = PlanRequest::new(
        Budget::new(20),
        vec![
            kol(1, 100, vec![offer("a", 10, 100)]),
            kol(2, 100, vec![offer("b", 10, 10), offer("c", 15, 90)]),
            kol(3, 100, vec![offer("d", 10, 50)]),
        ],
    );
    req.pinned = vec![Pin::new(KolId(2), item("b"))];
    req.excluded = vec![KolId(1), KolId(42)];
    check(req, &[(2, "b"), (3, "d")], &[(2, "b"), (3, "d")], 60.0);
}

#[test]
fn min_reach_buys_the_cheapest_plan_or_reports_the_shortfall() {
    let cands = vec![
        kol(1, 100, vec![offer("a", 10, 100)]),
        kol(2, 100, vec![offer("b", 4, 30), offer("c", 6, 60)]),
        kol(3, 100, vec![offer("d", 5, 40)]),
    ];
    let mut req = PlanRequest::new(Budget::new(100), cands);
    req.objective = Objective::MinCost {
        min_reach: EffectiveReach::from_people(70.0).unwrap(),
    };
    // Cheapest reaching 70: b + d (9 THB, 70) beats c + d (11), a (10).
    check(
        req.clone(),
        &[(2, "b"), (3, "d")],
        &[(2, "b"), (3, "d")],
        70.0,
    );
    let plan = Problem::new(req.clone())
        .unwrap()
        .exact(&ExactOptions::default())
        .unwrap();
    assert_eq!(plan.cost_lower_bound, Some(9));
    assert_eq!(plan.shortfall, None);

    req.budget = Budget::new(15);
    req.objective = Objective::MinCost {
        min_reach: EffectiveReach::from_people(500.0).unwrap(),
    };
    let plan = Problem::new(req)
        .unwrap()
        .exact(&ExactOptions::default())
        .unwrap();
    // Best within 15 THB: a + d (140).
    assert_eq!(plan.total_effective_reach.people(), 140.0);
    assert_eq!(plan.shortfall.unwrap().people(), 360.0);
    assert_eq!(plan.cost_lower_bound, None);
}

#[test]
fn bad_requests_are_typed_errors_naming_the_entry() {
    let base = || {
        PlanRequest::new(
            Budget::new(100),
            vec![
                kol(1, 100, vec![offer("a", 10, 100)]),
                kol(2, 100, vec![offer("b", 10, 10), offer("c", 15, 90)]),
            ],
        )
    };
    let err = |req: PlanRequest| Problem::new(req).unwrap_err();

    let mut req = base();
    req.candidates.push(kol(1, 100, vec![]));
    assert_eq!(
        err(req).to_string(),
        "candidates[2].kol_id: KOL 1 is listed twice (first at candidates[0])"
    );

    let mut req = base();
    req.candidates[1].offers.push(offer("b", 1, 1));
    assert_eq!(
        err(req).to_string(),
        "candidates[1].items[2].item: \"b\" is listed twice for KOL 2 (first at items[0])"
    );

    let mut req = base();
    req.pinned = vec![Pin::new(KolId(7), item("a"))];
    assert!(matches!(
        err(req),
        OptimizerError::PinUnknownKol { index: 0, .. }
    ));

    let mut req = base();
    req.pinned = vec![Pin::new(KolId(1), item("z"))];
    assert_eq!(
        err(req).to_string(),
        "pinned[0].item: KOL 1 offers no item \"z\""
    );

    let mut req = base();
    req.pinned = vec![Pin::new(KolId(2), item("b")), Pin::new(KolId(2), item("c"))];
    assert!(matches!(
        err(req),
        OptimizerError::DuplicatePin {
            first: 0,
            second: 1,
            ..
        }
    ));

    let mut req = base();
    req.pinned = vec![Pin::new(KolId(1), item("a"))];
    req.excluded = vec![KolId(1)];
    assert!(matches!(
        err(req),
        OptimizerError::PinnedAndExcluded { index: 0, .. }
    ));

    let mut req = base();
    req.budget = Budget::new(20);
    req.pinned = vec![Pin::new(KolId(1), item("a")), Pin::new(KolId(2), item("c"))];
    assert_eq!(
        err(req),
        OptimizerError::InfeasiblePins {
            pinned_price: 25,
            budget: 20
        }
    );

    assert!(matches!(
        Budget::try_from(-5),
        Err(OptimizerError::NegativeBudget { value: -5 })
    ));
    assert!(matches!(
        Relevance::new(f64::NAN),
        Err(OptimizerError::InvalidRelevance { .. })
    ));
}

#[test]
fn plans_serialize_with_the_documented_field_names() {
    let req = PlanRequest::new(
        Budget::new(100_000),
        vec![kol(
            1,
            80,
            vec![
                offer("tiktok_video", 5_000, 20_000),
                offer("bundle", 12_000, 45_000),
            ],
        )],
    );
    let plan = Problem::new(req).unwrap().greedy();
    let json = serde_json::to_string(&plan).unwrap();
    assert_eq!(
        json,
        r#"{"mode":"greedy","selections":[{"kol_id":1,"item":"bundle","price":12000,"effective_reach":36000.0}],"spent":12000,"remaining":88000,"total_effective_reach":36000.0,"upper_bound":36000.0,"gap":0.0}"#
    );
}
