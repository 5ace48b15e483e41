//! Properties of exact, batched and IVF search against a plain reference: sort every distance.
//!
//! Vectors are small integers (many exact ties, duplicate rows) or scaled floats, at widths
//! around the kernels' 32 lanes, and at scales up to where `f32` sums of products approach
//! overflow, so the tie-breaking rules and the batched search's error bounds are exercised.

// Helpers of a test file fail the test on bad data, like the tests themselves.
#![allow(clippy::unwrap_used)]
use std::collections::{BTreeMap, HashSet};

use kol_core::{KolId, MediaId};
use kol_vector::{
    AnyKol, CompressedMatrix, EmbeddingMatrix, Hit, IvfIndex, IvfParams, KolIdFilter, Metric,
    Query, cosine_distance,
};
use ndarray::Array2;
use proptest::prelude::*;

/// One test case: rows with ids, queries, and search parameters.
#[derive(Debug, Clone)]
struct Case {
    dim: usize,
    rows: Vec<(i64, i64, Vec<f32>)>,
    queries: Vec<Vec<f32>>,
    k: usize,
    metric: Metric,
    allowed: HashSet<i64>,
}

fn metric() -> impl Strategy<Value = Metric> {
    prop_oneof![
        Just(Metric::Cosine),
        Just(Metric::L2),
        Just(Metric::NegativeInnerProduct)
    ]
}

/// Values: small integers (ties) or floats times a scale (up to near-overflow magnitudes).
fn vector(dim: usize, scale: f32, integers: bool) -> impl Strategy<Value = Vec<f32>> {
    if integers {
        prop::collection::vec((-2i8..=2).prop_map(f32::from), dim).boxed()
    } else {
        prop::collection::vec((-1.0f32..1.0).prop_map(move |v| v * scale), dim).boxed()
    }
}

fn case() -> impl Strategy<Value = Case> {
    (
        1usize..=40,
        1usize..=200,
        prop_oneof![Just(1e-3f32), Just(1.0), Just(1e3), Just(4e18)],
        any::<bool>(),
        metric(),
    )
        .prop_flat_map(|(dim, n, scale, integers, metric)| {
            let scale = if integers { 1.0 } else { scale };
            (
                Just(dim),
                prop::collection::vec((0i64..6, vector(dim, scale, integers)), n),
                prop::collection::vec(vector(dim, scale, integers), 1..=5),
                1usize..=n + 3,
                Just(metric),
                prop::collection::hash_set(0i64..6, 0..=6),
            )
        })
        .prop_map(|(dim, rows, queries, k, metric, allowed)| Case {
            dim,
            // Media ids: distinct, not in row order.
            rows: rows
                .into_iter()
                .enumerate()
                .map(|(i, (kol, v))| ((i as i64 * 37) % 1009, kol, v))
                .collect(),
            queries,
            k,
            metric,
            allowed,
        })
}

/// The matrix of the rows that pass validation (others are skipped; bad rows are tested
/// elsewhere), or `None` when no row is valid.
fn build(case: &Case) -> Option<EmbeddingMatrix> {
    let mut m = EmbeddingMatrix::new(case.dim).ok()?;
    for (media, kol, v) in &case.rows {
        let _ = m.push(MediaId(*media), KolId(*kol), v);
    }
    (!m.is_empty()).then_some(m)
}

fn valid_queries(case: &Case) -> Vec<Query> {
    case.queries
        .iter()
        .filter_map(|q| Query::new(q).ok())
        .collect()
}

/// Reference: every distance, sorted by (distance, media id), first k.
fn reference_media(
    m: &EmbeddingMatrix,
    metric: Metric,
    q: &Query,
    k: usize,
    filter: &dyn Fn(KolId) -> bool,
) -> Vec<Hit> {
    let mut all: Vec<Hit> = (0..m.len())
        .filter(|&r| filter(m.kol_id(r).unwrap()))
        .map(|r| Hit {
            media_id: m.media_id(r).unwrap(),
            kol_id: m.kol_id(r).unwrap(),
            distance: metric
                .distance(m.row_slice(r).unwrap(), q.as_slice())
                .unwrap(),
        })
        .collect();
    all.sort_by(|a, b| {
        a.distance
            .total_cmp(&b.distance)
            .then(a.media_id.cmp(&b.media_id))
    });
    all.truncate(k);
    all
}

/// Reference: each KOL's best row (by distance, then media id), sorted by (distance, KOL id).
fn reference_kols(
    m: &EmbeddingMatrix,
    metric: Metric,
    q: &Query,
    k: usize,
    filter: &dyn Fn(KolId) -> bool,
) -> Vec<Hit> {
    let mut best: BTreeMap<KolId, Hit> = BTreeMap::new();
    for hit in reference_media(m, metric, q, usize::MAX, filter) {
        best.entry(hit.kol_id).or_insert(hit); // rows come sorted: the first one is the best
    }
    let mut kols: Vec<Hit> = best.into_values().collect();
    kols.sort_by(|a, b| {
        a.distance
            .total_cmp(&b.distance)
            .then(a.kol_id.cmp(&b.kol_id))
    });
    kols.truncate(k);
    kols
}

fn queries_array(queries: &[Query], dim: usize) -> Array2<f32> {
    let flat: Vec<f32> = queries.iter().flat_map(|q| q.as_slice().to_vec()).collect();
    Array2::from_shape_vec((queries.len(), dim), flat).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Exact top-k (single, batched and compressed, media and KOL level, with and without a
    /// filter) equals sorting every distance; KOL-level results never repeat a KOL; filtered
    /// results all pass.
    #[test]
    fn exact_search_equals_sorting_every_distance(case in case()) {
        let Some(m) = build(&case) else { return Ok(()) };
        let queries = valid_queries(&case);
        prop_assume!(!queries.is_empty());
        let search = m.exact(case.metric);
        let compressed = CompressedMatrix::new(m.clone());
        let fast = compressed.exact(case.metric);
        let allowed = |k: KolId| case.allowed.contains(&k.get());
        let everyone = |_: KolId| true;
        let batch = queries_array(&queries, case.dim);
        let batch_media = search.search_batch(batch.view(), case.k, &AnyKol).unwrap();
        let batch_kols = search.search_kols_batch(batch.view(), case.k, &AnyKol).unwrap();
        let batch_filtered = search.search_kols_batch(batch.view(), case.k, &allowed).unwrap();
        for (i, q) in queries.iter().enumerate() {
            let want = reference_media(&m, case.metric, q, case.k, &everyone);
            prop_assert_eq!(&search.search(q, case.k, &AnyKol).unwrap(), &want);
            prop_assert_eq!(&batch_media[i], &want);
            prop_assert_eq!(&fast.search(q, case.k, &AnyKol).unwrap(), &want);

            let want_kols = reference_kols(&m, case.metric, q, case.k, &everyone);
            let got_kols = search.search_kols(q, case.k, &AnyKol).unwrap();
            let distinct: HashSet<KolId> = got_kols.iter().map(|h| h.kol_id).collect();
            prop_assert_eq!(distinct.len(), got_kols.len());
            prop_assert_eq!(&got_kols, &want_kols);
            prop_assert_eq!(&batch_kols[i], &want_kols);

            let want_filtered = reference_media(&m, case.metric, q, case.k, &allowed);
            let got_filtered = search.search(q, case.k, &allowed).unwrap();
            prop_assert!(got_filtered.iter().all(|h| allowed(h.kol_id)));
            prop_assert_eq!(&got_filtered, &want_filtered);
            let want_filtered_kols = reference_kols(&m, case.metric, q, case.k, &allowed);
            prop_assert_eq!(&batch_filtered[i], &want_filtered_kols);
            prop_assert_eq!(&fast.search_kols(q, case.k, &allowed).unwrap(), &want_filtered_kols);
            prop_assert_eq!(&fast.search(q, case.k, &allowed).unwrap(), &want_filtered);
            prop_assert_eq!(&search.search_kols(q, case.k, &case.allowed.iter().map(|&k| KolId(k)).collect::<HashSet<_>>()).unwrap(), &want_filtered_kols);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// IVF with `probes = lists` is exact search; with fewer probes, results are still exact
    /// distances of rows that pass the filter, sorted, without repeated KOLs, and there are
    /// `min(k, passing)` of them.
    #[test]
    fn ivf_with_all_probes_is_exact(case in case(), lists in 1usize..=8, seed in any::<u64>(), probes in 1usize..=8) {
        let Some(m) = build(&case) else { return Ok(()) };
        let queries = valid_queries(&case);
        prop_assume!(!queries.is_empty());
        let lists = lists.min(m.len());
        let params = IvfParams { max_iterations: 5, ..IvfParams::new(lists, case.metric).with_seed(seed) };
        let index = IvfIndex::build(m, params).unwrap();
        let m = index.matrix();
        let exact = m.exact(case.metric);
        let all = index.with_probes(lists).unwrap();
        let some = index.with_probes(probes.min(lists)).unwrap();
        let allowed = |k: KolId| case.allowed.contains(&k.get());
        let passing_rows = (0..m.len()).filter(|&r| allowed(m.kol_id(r).unwrap())).count();
        let passing_kols: HashSet<KolId> =
            (0..m.len()).map(|r| m.kol_id(r).unwrap()).filter(|&k| allowed(k)).collect();
        for q in &queries {
            prop_assert_eq!(all.search(q, case.k, &AnyKol).unwrap(), exact.search(q, case.k, &AnyKol).unwrap());
            prop_assert_eq!(all.search_kols(q, case.k, &allowed).unwrap(), exact.search_kols(q, case.k, &allowed).unwrap());

            let hits = some.search(q, case.k, &allowed).unwrap();
            prop_assert_eq!(hits.len(), case.k.min(passing_rows));
            let kols = some.search_kols(q, case.k, &allowed).unwrap();
            prop_assert_eq!(kols.len(), case.k.min(passing_kols.len()));
            let distinct: HashSet<KolId> = kols.iter().map(|h| h.kol_id).collect();
            prop_assert_eq!(distinct.len(), kols.len());
            for list in [&hits, &kols] {
                prop_assert!(list.windows(2).all(|w| w[0].distance <= w[1].distance));
                for h in list.iter() {
                    prop_assert!(allowed(h.kol_id));
                    let row = m.media_ids().iter().position(|&id| id == h.media_id).unwrap();
                    let d = case.metric.distance(m.row_slice(row).unwrap(), q.as_slice()).unwrap();
                    prop_assert_eq!(d, h.distance);
                }
            }
        }
    }
}

/// Plain `f64` cosine distance, the textbook formula.
fn cosine_f64(a: &[f32], b: &[f32]) -> f64 {
    let (mut d, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        d += x * y;
        na += x * x;
        nb += y * y;
    }
    1.0 - (d / (na * nb).sqrt()).clamp(-1.0, 1.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// pgvector-semantics cosine distance (f32 sums) is within 1e-5 of an f64 reference, for
    /// CLIP-sized vectors at any scale, including nearly parallel and opposite pairs.
    #[test]
    fn cosine_distance_matches_an_f64_reference(
        (a, b) in (1usize..=512).prop_flat_map(|dim| (
            prop::collection::vec(-1.0f32..1.0, dim),
            prop::collection::vec(-1.0f32..1.0, dim),
        )),
        scale_a in prop_oneof![Just(1e-6f32), Just(1.0), Just(1e6)],
        mix in prop_oneof![Just(0.0f32), Just(1e-3), Just(1.0)],
        sign in prop_oneof![Just(1.0f32), Just(-1.0)],
    ) {
        let a: Vec<f32> = a.iter().map(|v| v * scale_a).collect();
        // b close to ±a when `mix` is small: distances near 0 or 2.
        let b: Vec<f32> = a.iter().zip(&b).map(|(x, y)| sign * x + mix * y * scale_a).collect();
        let (na, nb): (f32, f32) = (a.iter().map(|v| v * v).sum(), b.iter().map(|v| v * v).sum());
        prop_assume!(na >= f32::MIN_POSITIVE && nb >= f32::MIN_POSITIVE);
        let ours = cosine_distance(&a, &b).unwrap();
        let reference = cosine_f64(&a, &b);
        prop_assert!((ours - reference).abs() <= 1e-5, "{} vs {}", ours, reference);
    }
}

/// A filter given as a trait object works like the closure it wraps.
#[test]
fn filters_can_be_trait_objects() {
    let mut m = EmbeddingMatrix::new(2).unwrap();
    for i in 0..10 {
        m.push(MediaId(i), KolId(i % 3), &[1.0, i as f32]).unwrap();
    }
    let q = Query::new(&[1.0, 0.0]).unwrap();
    let only_one: Box<dyn KolIdFilter> = Box::new(|k: KolId| k == KolId(1));
    let hits = m
        .exact(Metric::Cosine)
        .search(&q, 2, only_one.as_ref())
        .unwrap();
    let ids: Vec<i64> = hits.iter().map(|h| h.media_id.get()).collect();
    assert_eq!(ids, vec![1, 4]);
}
