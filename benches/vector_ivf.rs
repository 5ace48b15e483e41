//! IVF-flat search (kol-vector) at 1M rows x 512: time per query and recall@10 at several
//! `probes`, against exact search on the same matrix.
//!
//! Data: `kol_vector::synthetic::GaussianMixture::clip_like(7)`, a seeded mixture of 300
//! Gaussian clusters on the unit sphere (spread 0.6); 100 queries from the same mixture (another
//! stream). Index: cosine, `lists = 1000` (pgvector's `rows / 1000`), seed 0, 10 k-means
//! iterations on 50 samples per list. Build time and recall go to standard error.
//!
//! Run: `cargo bench -p kol-benches --bench vector_ivf`

// A benchmark with broken setup should stop loudly.
#![allow(clippy::expect_used)]
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kol_core::{KolId, MediaId};
use kol_vector::synthetic::GaussianMixture;
use kol_vector::{AnyKol, EmbeddingMatrix, IvfIndex, IvfParams, Metric, Query, recall_at_k};

const SEED: u64 = 7;
const ROWS: usize = 1_000_000;
const PROBES: [usize; 6] = [1, 2, 4, 8, 16, 32];

fn ivf(c: &mut Criterion) {
    let mixture = GaussianMixture::clip_like(SEED);
    let queries = mixture.sample(100, 1);
    let data = mixture.sample(ROWS, 0);
    let n = ROWS as i64;
    let matrix = EmbeddingMatrix::from_array(
        data,
        (0..n).map(MediaId).collect(),
        (0..n).map(|i| KolId(i / 8)).collect(),
    )
    .expect("synthetic rows are valid");

    let params = IvfParams::new(IvfParams::suggested_lists(ROWS), Metric::Cosine);
    let started = Instant::now();
    let index = IvfIndex::build(matrix, params).expect("valid parameters");
    let sizes = index.list_sizes();
    eprintln!(
        "ivf build: {} rows, {} lists, {} k-means iterations, {:.1} s; list sizes {}..{}",
        ROWS,
        index.lists(),
        index.iterations(),
        started.elapsed().as_secs_f64(),
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0),
    );

    let exact = index.matrix().exact(Metric::Cosine);
    let truth = exact
        .search_batch(queries.view(), 10, &AnyKol)
        .expect("valid queries");
    for probes in PROBES {
        let search = index.with_probes(probes).expect("probes <= lists");
        let found = search
            .search_batch(queries.view(), 10, &AnyKol)
            .expect("valid queries");
        let recall: f64 = found
            .iter()
            .zip(&truth)
            .map(|(f, t)| recall_at_k(f, t))
            .sum::<f64>()
            / truth.len() as f64;
        eprintln!("ivf recall@10 probes={probes}: {recall:.3}");
    }

    let query = Query::new(queries.row(0).as_slice().expect("contiguous")).expect("valid");
    let mut group = c.benchmark_group("vector_ivf");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function(BenchmarkId::new("exact_single_top10", ROWS), |b| {
        b.iter(|| exact.search(black_box(&query), 10, &AnyKol))
    });
    // IVF time depends on the query (list sizes differ): each iteration runs all 100 queries,
    // one at a time, and the throughput is per query.
    let all: Vec<Query> = queries
        .rows()
        .into_iter()
        .map(|q| Query::new(q.as_slice().expect("contiguous")).expect("valid"))
        .collect();
    group.throughput(Throughput::Elements(all.len() as u64));
    for probes in PROBES {
        let search = index.with_probes(probes).expect("probes <= lists");
        group.bench_function(
            BenchmarkId::new("ivf_100_queries_top10_probes", probes),
            |b| {
                b.iter(|| {
                    all.iter()
                        .map(|q| search.search(black_box(q), 10, &AnyKol).map(|h| h.len()))
                        .sum::<Result<usize, _>>()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, ivf);
criterion_main!(benches);
