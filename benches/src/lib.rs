//! Shared helpers of the benchmarks.

/// Command-line handling of the plain (non-criterion) bench binaries, `import` and `search`.
///
/// `cargo bench` passes `--bench`; test runners that list or run every target pass other flags
/// (`--list`, ...). These binaries are benchmarks, not tests, so without `--bench` they do
/// nothing. Returns `Ok(None)` then, after a hint on standard error (except for `--list`), and
/// otherwise the first argument that is not a flag, parsed as a count, or `default`.
///
/// # Errors
/// The count argument is not a number.
pub fn bench_count_arg(
    name: &str,
    default: usize,
) -> Result<Option<usize>, std::num::ParseIntError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        if !args.iter().any(|a| a == "--list") {
            eprintln!(
                "{name}: a benchmark; run it with `cargo bench -p kol-benches --bench {name}`"
            );
        }
        return Ok(None);
    }
    args.iter()
        .find(|a| !a.starts_with("--"))
        .map_or(Ok(default), |a| a.parse())
        .map(Some)
}

/// The searches of the PostgreSQL benchmarks (`search`, and `import`'s searches during an
/// import): `n` briefs near each of the 12 categories in turn, each with one of four filters
/// (none; the brief's category; category + Thailand + at least 10,000 followers; at least half
/// the audience in Thailand), `k` creators each, in exact mode (set the mode per run).
///
/// # Errors
/// A filter value kol-core refuses (none of these is).
pub fn filtered_search_requests(
    n: usize,
    k: usize,
) -> Result<Vec<kol_core::SearchRequest>, kol_core::CoreError> {
    use kol_core::{AudienceShare, Categories, CountryCode, Followers, KolFilter, SearchMode};
    use kol_examples::catalogue::{CATEGORIES, brief_for_category};
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let category = CATEGORIES[i % CATEGORIES.len()];
        let query = brief_for_category(category, 10_000 + i as u64);
        let mut filter = KolFilter::default();
        match i % 4 {
            0 => {}
            1 => filter.categories_any = Categories::parse([category])?,
            2 => {
                filter.categories_any = Categories::parse([category])?;
                filter.countries = vec![CountryCode::TH];
                filter.min_followers = Some(Followers::new(10_000)?);
            }
            _ => filter.min_audience_th_pct = Some(AudienceShare::new(50)?),
        }
        out.push(kol_core::SearchRequest {
            query,
            k,
            filter,
            mode: SearchMode::Exact,
        });
    }
    Ok(out)
}

/// The `p` quantile (`0.0..=1.0`, nearest rank) of `latencies`, in milliseconds; `NaN` when there
/// are none.
pub fn percentile_ms(latencies: &[std::time::Duration], p: f64) -> f64 {
    if latencies.is_empty() {
        return f64::NAN;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}
