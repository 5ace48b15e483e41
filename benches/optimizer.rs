//! Greedy and LP upper bound of kol-optimizer at 1k to 1M rate-card items, against the floor of
//! sorting 1M f64 keys (the greedy is O(n log n); the target is within 2x of that sort).
//!
//! `cargo bench -p kol-benches --bench optimizer`

#![allow(clippy::expect_used)] // Generated instances are valid; a failure is a bug to see.

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kol_optimizer::Problem;
use kol_optimizer::instances::{MckpFamily, SplitMix64, mckp, thai_market};
use std::hint::black_box;
use std::time::Duration;

fn greedy_and_bound(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimizer");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    let mut rng = SplitMix64::new(42);
    let keys: Vec<f64> = (0..1_000_000).map(|_| rng.unit()).collect();
    group.throughput(Throughput::Elements(keys.len() as u64));
    group.bench_function("sort_1m_f64_floor", |b| {
        b.iter_batched_ref(
            || keys.clone(),
            |k| k.sort_unstable_by(f64::total_cmp),
            BatchSize::LargeInput,
        )
    });

    // Pisinger's uncorrelated MCKP class, 10 items per KOL, R = 10,000.
    for items in [1_000, 10_000, 100_000, 1_000_000] {
        let problem = Problem::new(mckp(MckpFamily::Uncorrelated, items / 10, 10, 10_000, 1))
            .expect("valid instance");
        group.throughput(Throughput::Elements(items as u64));
        group.bench_with_input(
            BenchmarkId::new("greedy_mckp_uncorrelated", items),
            &problem,
            |b, p| b.iter(|| black_box(p.greedy())),
        );
        group.bench_with_input(
            BenchmarkId::new("upper_bound_mckp_uncorrelated", items),
            &problem,
            |b, p| b.iter(|| black_box(p.upper_bound())),
        );
    }
    // Realistic Thai rate cards: about 3.6 items per KOL.
    for kols in [280, 2_800, 28_000, 280_000] {
        let problem = Problem::new(thai_market(kols, 0.1, 1)).expect("valid instance");
        let items = problem.item_count();
        group.throughput(Throughput::Elements(items as u64));
        group.bench_with_input(
            BenchmarkId::new("greedy_thai_market", items),
            &problem,
            |b, p| b.iter(|| black_box(p.greedy())),
        );
    }
    group.finish();
}

criterion_group!(benches, greedy_and_bound);
criterion_main!(benches);
