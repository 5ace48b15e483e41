//! Benchmarks of kol-core's validating constructors (on hot import paths).

use criterion::{Criterion, criterion_group, criterion_main};
use kol_core::{Embedding, Handle};
use std::hint::black_box;

fn constructors(c: &mut Criterion) {
    let values: Vec<f32> = (0..512).map(|i| (i as f32).sin()).collect();
    c.bench_function("embedding_new_512", |b| {
        b.iter(|| Embedding::from_slice(black_box(&values)))
    });
    c.bench_function("handle_from_profile_url", |b| {
        b.iter(|| Handle::from_profile_url(black_box("https://www.tiktok.com/@Porji?lang=th")))
    });
}

criterion_group!(benches, constructors);
criterion_main!(benches);
