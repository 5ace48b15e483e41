//! Exact top-10 search (kol-vector) against the memory-bandwidth floor: one query, batches of 64
//! through a matrix product, and one query over the 16-bit compressed copy, at 10k, 100k and 1M
//! rows of 512 `f32`.
//!
//! Data: `kol_vector::synthetic::GaussianMixture::clip_like(7)`, a seeded mixture of 300
//! Gaussian clusters on the unit sphere (rows unit length, spread 0.6); queries are drawn from
//! the same mixture (another stream). KOL ids group 8 consecutive rows.
//!
//! Run: `cargo bench -p kol-benches --bench vector_exact`

// A benchmark with broken setup should stop loudly.
#![allow(clippy::expect_used)]
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kol_core::{KolId, MediaId};
use kol_vector::synthetic::GaussianMixture;
use kol_vector::{AnyKol, CompressedMatrix, EmbeddingMatrix, Metric, Query};
use ndarray::{Array2, Axis, Slice};

const SEED: u64 = 7;

/// One pass over every value: the floor any exact scan has to pay. 32 independent partial sums
/// (eight SSE registers), so the loop is limited by memory, not by the latency of additions.
#[allow(clippy::needless_range_loop)]
fn sum_all(values: &[f32]) -> f32 {
    let mut acc = [0.0f32; 32];
    for chunk in values.chunks_exact(32) {
        let chunk: &[f32; 32] = chunk.try_into().expect("chunks_exact gives 32 values");
        for i in 0..32 {
            acc[i] += chunk[i];
        }
    }
    acc.iter().sum()
}

fn matrix(data: Array2<f32>) -> EmbeddingMatrix {
    let n = data.nrows() as i64;
    let media = (0..n).map(MediaId).collect();
    let kols = (0..n).map(|i| KolId(i / 8)).collect();
    EmbeddingMatrix::from_array(data, media, kols).expect("synthetic rows are valid")
}

/// On a shared machine, separate measurements drift with the load: alternate the floor pass and
/// the searches, and report the median of the per-round ratios (to standard error).
fn paired_ratios(compressed: &CompressedMatrix, query: &Query) {
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64()
    };
    let m = compressed.matrix();
    let rows = m.rows();
    let values = rows.as_slice().expect("contiguous");
    let search = m.exact(Metric::Cosine);
    let fast = compressed.exact(Metric::Cosine);
    let (mut single, mut kols, mut packed) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..15 {
        let floor = time(&|| {
            black_box(sum_all(black_box(values)));
        });
        single.push(
            time(&|| {
                let _ = black_box(search.search(black_box(query), 10, &AnyKol));
            }) / floor,
        );
        kols.push(
            time(&|| {
                let _ = black_box(search.search_kols(black_box(query), 10, &AnyKol));
            }) / floor,
        );
        packed.push(
            time(&|| {
                let _ = black_box(fast.search(black_box(query), 10, &AnyKol));
            }) / floor,
        );
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    eprintln!(
        "paired ratios to the floor pass at {} rows (median of 15 rounds): single_top10 {:.2}, \
         single_kols_top10 {:.2}, compressed_single_top10 {:.2}",
        m.len(),
        median(single),
        median(kols),
        median(packed)
    );
}

fn exact(c: &mut Criterion) {
    let mixture = GaussianMixture::clip_like(SEED);
    let queries = mixture.sample(64, 1);
    let query = Query::new(queries.row(0).as_slice().expect("contiguous")).expect("valid");
    // One 2 GB sample; the smaller sizes are copies of its first rows, and the largest size
    // takes the sample itself, so at most the matrix and its compressed copy are alive.
    let mut full = Some(mixture.sample(1_000_000, 0));

    let mut group = c.benchmark_group("vector_exact");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    for rows in [10_000usize, 100_000, 1_000_000] {
        let data = match full.as_ref() {
            Some(all) if all.nrows() > rows => {
                all.slice_axis(Axis(0), Slice::from(0..rows)).to_owned()
            }
            _ => full.take().expect("the full sample is used last"),
        };
        let m = matrix(data);
        if rows == 1_000_000 {
            group.throughput(Throughput::Bytes((rows * 512 * 4) as u64));
            group.bench_function(BenchmarkId::new("floor_sum", rows), |b| {
                b.iter(|| sum_all(black_box(m.rows().as_slice().expect("contiguous"))))
            });
        }
        let search = m.exact(Metric::Cosine);
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("single_top10", rows), |b| {
            b.iter(|| search.search(black_box(&query), 10, &AnyKol))
        });
        group.bench_function(BenchmarkId::new("single_kols_top10", rows), |b| {
            b.iter(|| search.search_kols(black_box(&query), 10, &AnyKol))
        });
        group.throughput(Throughput::Elements(64));
        group.bench_function(BenchmarkId::new("batch64_top10", rows), |b| {
            b.iter(|| search.search_batch(black_box(queries.view()), 10, &AnyKol))
        });
        let compressed = CompressedMatrix::new(m);
        let fast = compressed.exact(Metric::Cosine);
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("compressed_single_top10", rows), |b| {
            b.iter(|| fast.search(black_box(&query), 10, &AnyKol))
        });
        if rows == 1_000_000 {
            paired_ratios(&compressed, &query);
        }
    }
    group.finish();
}

criterion_group!(benches, exact);
criterion_main!(benches);
