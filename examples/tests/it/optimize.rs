//! The `optimize` example's request and plan formats, through the library functions it calls.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test helpers: a panic is a failed test.

use kol_examples::optimize::{parse_request, render, solve};
use kol_optimizer::{ExactOptions, Method};

const ISSUE_EXAMPLE: &str = r#"{"budget": 100000, "target_country_weighting": true, "min_reach": null,
 "candidates": [{"kol_id": 1, "audience_th_pct": 80, "relevance": 1.0,
                 "items": [{"item": "tiktok_video", "price": 5000, "est_reach": 20000},
                           {"item": "bundle", "price": 12000, "est_reach": 45000}]}],
 "pinned": [], "excluded": []}"#;

fn exact() -> Method {
    Method::Exact(ExactOptions::default())
}

/// The error line for `input`.
fn check_error(input: &str, expected: &str) {
    match solve(input, exact()) {
        Ok(plan) => panic!("expected {expected:?}, got a plan {plan:?}"),
        Err(e) => assert_eq!(e.to_string(), expected, "input: {input}"),
    }
}

#[test]
fn the_issue_example_gives_the_documented_plan() {
    let plan = solve(ISSUE_EXAMPLE, Method::Greedy).unwrap();
    let json: serde_json::Value = serde_json::from_str(&render(&plan)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "mode": "greedy",
            "selections": [{"kol_id": 1, "item": "bundle", "price": 12000, "effective_reach": 36000.0}],
            "spent": 12000, "remaining": 88000, "total_effective_reach": 36000.0,
            "upper_bound": 36000.0, "gap": 0.0
        })
    );
}

#[test]
fn optional_fields_may_be_left_out() {
    let req = parse_request(
        r#"{"budget": 10, "target_country_weighting": false,
            "candidates": [{"kol_id": 5, "items": [{"item": "TikTok Video", "price": 10.0, "est_reach": 7}]}]}"#,
    )
    .unwrap();
    assert!(req.pinned.is_empty() && req.excluded.is_empty());
    assert_eq!(req.candidates[0].offers[0].item.as_str(), "tiktok_video");
    assert_eq!(req.candidates[0].relevance.get(), 1.0);
}

#[test]
fn min_reach_reports_the_shortfall() {
    let input = ISSUE_EXAMPLE.replace(r#""min_reach": null"#, r#""min_reach": 50000"#);
    let plan = solve(&input, exact()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&render(&plan)).unwrap();
    assert_eq!(json["shortfall"], 14000.0);
    assert_eq!(json["total_effective_reach"], 36000.0);

    let input = ISSUE_EXAMPLE.replace(r#""min_reach": null"#, r#""min_reach": 10000"#);
    let plan = solve(&input, exact()).unwrap();
    assert_eq!(plan.selections[0].item.as_str(), "tiktok_video");
    assert_eq!(plan.spent, 5000);
    assert_eq!(plan.shortfall, None);
    assert_eq!(plan.cost_lower_bound, Some(5000));
}

#[test]
fn the_same_request_in_any_order_gives_the_same_bytes() {
    let a = r#"{"budget": 30, "candidates": [
        {"kol_id": 2, "audience_th_pct": 50, "items": [{"item": "a", "price": 10, "est_reach": 40}, {"item": "b", "price": 20, "est_reach": 90}]},
        {"kol_id": 1, "audience_th_pct": 90, "items": [{"item": "c", "price": 10, "est_reach": 40}]},
        {"kol_id": 3, "audience_th_pct": 70, "relevance": 0.5, "items": [{"item": "d", "price": 10, "est_reach": 100}]}],
        "excluded": [9, 4]}"#;
    let b = r#"{"excluded": [4, 9], "candidates": [
        {"items": [{"item": "d", "price": 10, "est_reach": 100}], "kol_id": 3, "relevance": 0.5, "audience_th_pct": 70},
        {"kol_id": 1, "audience_th_pct": 90, "items": [{"item": "c", "price": 10, "est_reach": 40}]},
        {"kol_id": 2, "audience_th_pct": 50, "items": [{"item": "b", "price": 20, "est_reach": 90}, {"item": "a", "price": 10, "est_reach": 40}]}],
        "budget": 30}"#;
    for method in [Method::Greedy, exact()] {
        let first = render(&solve(a, method).unwrap());
        assert_eq!(first, render(&solve(b, method).unwrap()));
        assert_eq!(first, render(&solve(a, method).unwrap()));
    }
}

#[test]
fn invalid_input_names_the_offending_field() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"budget": 1, "candidates": [{"kol_id": 1, "audience_th_pct": 1, "items": [{"item": "a", "price": 1, "est_reach": 1}, {"item": "b", "price": -5, "est_reach": 1}]}]}"#,
            "candidates[0].items[1].price: must be >= 0, got -5",
        ),
        (
            r#"{"budget": 1, "candidates": [{"kol_id": 1, "audience_th_pct": 1, "items": [{"item": "a", "price": 1, "est_reach": -1}]}]}"#,
            "candidates[0].items[0].est_reach: must be >= 0, got -1",
        ),
        (
            r#"{"budget": 1, "candidates": [{"kol_id": 1, "audience_th_pct": 1, "items": [{"item": "a", "price": 3000000000, "est_reach": 1}]}]}"#,
            "candidates[0].items[0].price: must be <= 2147483647, got 3000000000",
        ),
        (
            r#"{"budget": 1, "candidates": [{"kol_id": 1, "audience_th_pct": 1, "items": [{"item": "a", "price": 1.5, "est_reach": 1}]}]}"#,
            "candidates[0].items[0].price: must be a whole number, got 1.5",
        ),
        (
            r#"{"budget": -3, "candidates": []}"#,
            "budget: must be >= 0, got -3",
        ),
        (r#"{"candidates": []}"#, "budget: is required"),
        (
            r#"{"budget": "many", "candidates": []}"#,
            r#"budget: expected a number, got "many""#,
        ),
        (r#"{"budget": 1}"#, "candidates: is required"),
        (
            r#"{"budget": 1, "candidates": {}}"#,
            "candidates: expected an array, got an object",
        ),
        (
            r#"{"budget": 1, "candidates": [], "min_reach": -1}"#,
            "min_reach: must be >= 0, got -1",
        ),
        (
            r#"{"budget": 1, "candidates": [], "minreach": 5}"#,
            "minreach: unknown field (expected one of: budget, target_country_weighting, min_reach, candidates, pinned, excluded, constraints)",
        ),
        (r#"[1]"#, "request: expected an object, got an array"),
        (
            r#"{"budget": 1, "target_country_weighting": "yes", "candidates": []}"#,
            r#"target_country_weighting: expected true or false, got "yes""#,
        ),
        (
            r#"{"budget": 1, "candidates": [{"kol_id": 1, "audience_th_pct": 101, "items": []}]}"#,
            "candidates[0].audience_th_pct: must be <= 100, got 101",
        ),
        (
            r#"{"budget": 1, "candidates": [{"kol_id": 1, "audience_th_pct": 1, "relevance": -0.5, "items": []}]}"#,
            "candidates[0].relevance: must be a finite number between 0 and 1000, got -0.5",
        ),
        (
            r#"{"budget": 1, "candidates": [{"kol_id": 1, "audience_th_pct": 1, "items": [{"item": "", "price": 1, "est_reach": 1}]}]}"#,
            r#"candidates[0].items[0].item: invalid deliverable item "": it is empty"#,
        ),
        (
            r#"{"budget": 1, "candidates": [{"kol_id": 1, "audience_th_pct": 1, "items": []}, {"kol_id": 1, "audience_th_pct": 1, "items": []}]}"#,
            "candidates[1].kol_id: KOL 1 is listed twice (first at candidates[0])",
        ),
        (
            r#"{"budget": 1, "candidates": [{"kol_id": 1, "audience_th_pct": 1, "items": [{"item": "ig-story", "price": 1, "est_reach": 1}, {"item": "ig_story", "price": 1, "est_reach": 1}]}]}"#,
            r#"candidates[0].items[1].item: "ig_story" is listed twice for KOL 1 (first at items[0])"#,
        ),
        (
            r#"{"budget": 1, "candidates": [{"kol_id": 1, "audience_th_pct": 1, "items": [{"item": "a", "price": 5, "est_reach": 1}]}], "pinned": [{"kol_id": 1, "item": "a"}]}"#,
            "pinned: the pinned items cost 5 THB, more than the budget of 1 THB",
        ),
        (
            r#"{"budget": 1, "candidates": [], "pinned": [{"kol_id": 1}]}"#,
            "pinned[0].item: is required",
        ),
        (
            r#"{"budget": 1, "candidates": [], "excluded": ["x"]}"#,
            r#"excluded[0]: expected a number, got "x""#,
        ),
        (
            "{\"budget\": 1,",
            "invalid JSON: EOF while parsing a value at line 1 column 13",
        ),
    ];
    for (input, expected) in cases {
        check_error(input, expected);
    }
}

#[test]
fn nan_relevance_cannot_even_be_written_in_json() {
    // JSON has no NaN or infinity; serde_json refuses them as syntax, and huge numbers overflow.
    check_error(
        r#"{"budget": 1, "candidates": [{"kol_id": 1, "audience_th_pct": 1, "relevance": 1e999, "items": []}]}"#,
        "invalid JSON: number out of range at line 1 column 83",
    );
}

const WITH_QUOTAS: &str = r#"{"budget": 20000, "target_country_weighting": false,
 "candidates": [
   {"kol_id": 1, "tier": "mega", "categories": ["food"],
    "items": [{"item": "youtube_video", "price": 18000, "est_reach": 90000}]},
   {"kol_id": 2, "tier": "micro", "categories": ["beauty"],
    "items": [{"item": "tiktok_video", "price": 6000, "est_reach": 20000}]},
   {"kol_id": 3, "tier": "micro", "platform": "instagram", "categories": ["beauty"],
    "items": [{"item": "bundle", "price": 7000, "est_reach": 21000}]}],
 "constraints": {"quotas": [{"platform": "tiktok", "min_share_pct": 30}, {"tier": "micro", "min_count": 2}],
                 "categories": ["beauty"]}}"#;

#[test]
fn side_constraints_shape_the_plan() {
    for method in [Method::Greedy, exact()] {
        let plan = solve(WITH_QUOTAS, method).unwrap();
        let json: serde_json::Value = serde_json::from_str(&render(&plan)).unwrap();
        let ids: Vec<i64> = json["selections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["kol_id"].as_i64().unwrap())
            .collect();
        // Unconstrained, the mega creator alone (90,000) wins; two micro creators are required.
        assert_eq!(ids, vec![2, 3], "{json}");
        assert_eq!(json["total_effective_reach"], 41000.0);
    }
}

#[test]
fn bad_side_constraints_name_the_field() {
    let cases = [
        (
            r#""constraints": {"quotas": [{"platform": "tiktok", "min_share_pct": 130}]}"#,
            "constraints.quotas[0].min_share_pct: must be <= 100, got 130",
        ),
        (
            r#""constraints": {"quotas": [{"platform": "myspace"}]}"#,
            "constraints.quotas[0].platform:",
        ),
        (
            r#""constraints": {"quotas": [{"min_count": 1}]}"#,
            "constraints.quotas[0]: needs a platform or a tier",
        ),
        (
            r#""constraints": {"min_creator": 1}"#,
            "constraints.min_creator: unknown field",
        ),
        (
            r#""constraints": {"quotas": [{"tier": "micro", "min_count": 3, "max_count": 1}]}"#,
            "constraints.quotas[0].min_count: the minimum count 3 is above the maximum 1",
        ),
        (
            r#""constraints": {"categories": ["travel"]}"#,
            "constraints.categories[0]: no candidate covers the category \"travel\"",
        ),
        (
            r#""constraints": {"quotas": [{"tier": "micro", "min_count": 2}, {"tier": "mega", "min_count": 1}]}"#,
            "constraints: no plan within the budget meets these together:",
        ),
    ];
    for (constraints, expected) in cases {
        let input = WITH_QUOTAS.replace(
            r#""constraints": {"quotas": [{"platform": "tiktok", "min_share_pct": 30}, {"tier": "micro", "min_count": 2}],
                 "categories": ["beauty"]}"#,
            constraints,
        );
        assert_ne!(input, WITH_QUOTAS);
        match solve(&input, exact()) {
            Ok(plan) => panic!("expected {expected:?}, got {plan:?}"),
            Err(e) => assert!(
                e.to_string().starts_with(expected),
                "{e} (expected {expected:?})"
            ),
        }
    }
}
