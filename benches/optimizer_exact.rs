//! kol-optimizer's exact search per instance family, at the largest sizes it finishes quickly.
//! Target: 10,000 KOLs x 10 items, uncorrelated and weakly correlated, proven optimal < 50 ms.
//!
//! `cargo bench -p kol-benches --bench optimizer_exact`

#![allow(clippy::expect_used)] // Generated instances are valid; a failure is a bug to see.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kol_optimizer::instances::{KnapsackFamily, MckpFamily, knapsack, mckp, thai_market};
use kol_optimizer::{ExactOptions, Mode, PlanRequest, Problem};
use std::hint::black_box;
use std::time::Duration;

fn exact(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimizer_exact");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let mut cases: Vec<(String, PlanRequest)> = Vec::new();
    for family in [MckpFamily::Uncorrelated, MckpFamily::WeaklyCorrelated] {
        for range in [1_000, 10_000] {
            cases.push((
                format!("mckp_{}_R{range}/10000x10", family.name()),
                mckp(family, 10_000, 10, range, 1),
            ));
        }
    }
    cases.push((
        "mckp_strongly_correlated_R1000/1000x10".into(),
        mckp(MckpFamily::StronglyCorrelated, 1_000, 10, 1_000, 1),
    ));
    cases.push((
        "mckp_strongly_correlated_R10000/10000x10".into(),
        mckp(MckpFamily::StronglyCorrelated, 10_000, 10, 10_000, 1),
    ));
    for (family, n) in [
        (KnapsackFamily::Uncorrelated, 100_000),
        (KnapsackFamily::WeaklyCorrelated, 100_000),
        (KnapsackFamily::StronglyCorrelated, 1_000),
        (KnapsackFamily::InverseStronglyCorrelated, 1_000),
        (KnapsackFamily::SubsetSum, 10_000),
    ] {
        cases.push((
            format!("kp_{}_R1000/{n}", family.name()),
            knapsack(family, n, 1_000, 50, 100, 1),
        ));
    }
    for kols in [1_000, 10_000, 100_000] {
        cases.push((
            format!("thai_market/{kols}_kols"),
            thai_market(kols, 0.1, 1),
        ));
    }

    for (name, request) in cases {
        let problem = Problem::new(request).expect("valid instance");
        let options = ExactOptions::default();
        let plan = problem.exact(&options).expect("within the work limit");
        assert_eq!(plan.mode, Mode::Exact, "{name} must finish");
        let (family, size) = name.split_once('/').unwrap_or((&name, ""));
        group.bench_with_input(BenchmarkId::new(family, size), &problem, |b, p| {
            b.iter(|| black_box(p.exact(&options)))
        });
    }
    group.finish();
}

criterion_group!(benches, exact);
criterion_main!(benches);
