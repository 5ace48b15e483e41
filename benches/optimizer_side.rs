//! kol-optimizer with side constraints and the budget frontier: constrained greedy and exact on
//! realistic Thai rate cards with typical quotas, and a 50-point frontier over 10,000 creators
//! against one greedy plan (target: within 5x).
//!
//! `cargo bench -p kol-benches --bench optimizer_side`

#![allow(clippy::expect_used)] // Generated instances are valid; a failure is a bug to see.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kol_optimizer::instances::{thai_market, typical_quotas};
use kol_optimizer::{Budget, ExactOptions, Method, Problem};
use std::hint::black_box;
use std::time::Duration;

fn side(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimizer_side");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    for kols in [1_000, 10_000] {
        let request = thai_market(kols, 0.1, 1).with_constraints(typical_quotas());
        let problem = Problem::new(request).expect("valid instance");
        let greedy = problem.try_greedy().expect("feasible");
        let exact = problem.exact(&ExactOptions::default()).expect("feasible");
        eprintln!(
            "thai_market {kols} kols, typical quotas: greedy gap {:.4} %, exact {} gap {:.4} %, greedy / exact reach {:.5}",
            greedy.gap * 100.0,
            exact.mode,
            exact.gap * 100.0,
            greedy.total_effective_reach.people() / exact.total_effective_reach.people()
        );
        group.bench_with_input(
            BenchmarkId::new("greedy_quotas_thai_market", kols),
            &problem,
            |b, p| b.iter(|| black_box(p.try_greedy())),
        );
        group.bench_with_input(
            BenchmarkId::new("exact_quotas_thai_market", kols),
            &problem,
            |b, p| b.iter(|| black_box(p.exact(&ExactOptions::default()))),
        );
    }

    // The frontier: 50 budgets from 0 to the instance's budget, against one greedy plan.
    let request = thai_market(10_000, 0.1, 1);
    let max = request.budget;
    let problem = Problem::new(request).expect("valid instance");
    group.bench_with_input(
        BenchmarkId::new("greedy_one_plan_thai_market", 10_000),
        &problem,
        |b, p| b.iter(|| black_box(p.greedy())),
    );
    group.bench_with_input(
        BenchmarkId::new("frontier_50_points_thai_market", 10_000),
        &problem,
        |b, p| b.iter(|| black_box(p.frontier(Budget::new(0), max, 50, Method::Greedy))),
    );
    group.finish();
}

criterion_group!(benches, side);
criterion_main!(benches);
