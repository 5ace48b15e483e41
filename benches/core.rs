//! Benchmarks of kol-core's validating constructors and rules, on the hot paths of imports
//! (every row goes through them) and of the in-memory search (every candidate is filtered).
//!
//! ```text
//! cargo bench -p kol-benches --bench core
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use kol_core::{
    AudienceShare, Categories, CountryCode, Embedding, Followers, Handle, KolFacts, KolFilter,
    Link, NewKol, Platform, PriceThb,
};
use std::hint::black_box;

fn constructors(c: &mut Criterion) {
    let values: Vec<f32> = (0..512).map(|i| (i as f32).sin()).collect();
    c.bench_function("embedding_new_512", |b| {
        b.iter(|| Embedding::from_slice(black_box(&values)))
    });
    c.bench_function("handle_new", |b| {
        b.iter(|| Handle::new(Platform::Instagram, black_box(" @Porji.Beauty ")))
    });
    c.bench_function("handle_from_profile_url", |b| {
        b.iter(|| Handle::from_profile_url(black_box("https://www.tiktok.com/@Porji?lang=th")))
    });
    c.bench_function("link_new", |b| {
        b.iter(|| {
            Link::new(black_box(
                "https://www.tiktok.com/@porji/video/7301234567890",
            ))
        })
    });
    c.bench_function("country_code_new", |b| {
        b.iter(|| CountryCode::new(black_box("th")))
    });
    c.bench_function("categories_parse_3", |b| {
        b.iter(|| Categories::parse(black_box(["Beauty", "skin care", "ความงาม"])))
    });
}

fn rules(c: &mut Criterion) {
    let a: Vec<f32> = (0..512).map(|i| (i as f32 * 0.37).sin()).collect();
    let b: Vec<f32> = (0..512).map(|i| (i as f32 * 0.11).cos()).collect();
    let (a, b) = match (Embedding::from_slice(&a), Embedding::from_slice(&b)) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return,
    };
    c.bench_function("embedding_cosine_distance_512", |bench| {
        bench.iter(|| black_box(&a).cosine_distance(black_box(&b)))
    });

    let Ok(handle) = Handle::new(Platform::Tiktok, "porji") else {
        return;
    };
    let mut kol = NewKol::new(handle);
    kol.categories = Categories::parse(["beauty", "skincare"]).unwrap_or_default();
    kol.followers = Followers::new(120_000).ok();
    kol.country = Some(CountryCode::TH);
    kol.audience_th_pct = AudienceShare::new(85).ok();
    let facts = KolFacts {
        cheapest_item: PriceThb::new(8_000).ok(),
        open_conversation: None,
    };
    let filter = KolFilter {
        countries: vec![CountryCode::TH],
        categories_any: Categories::parse(["food", "beauty"]).unwrap_or_default(),
        min_followers: Followers::new(10_000).ok(),
        min_audience_th_pct: AudienceShare::new(50).ok(),
        max_item_price: PriceThb::new(20_000).ok(),
        ..KolFilter::default()
    };
    c.bench_function("kol_filter_matches", |bench| {
        bench.iter(|| black_box(&filter).matches(black_box(&kol), black_box(&facts)))
    });
}

criterion_group!(benches, constructors, rules);
criterion_main!(benches);
