//! Bulk import into a fresh PostgreSQL database: 100,000 creators, 100,000 512-d embeddings
//! and 200,000 rate-card items (kol-db's `import_catalogue`), reporting rows per second and the
//! peak memory of the process. Then the search latency while the same catalogue is imported
//! again (every creator updated, its picture and rate cards replaced, the vector index rebuilt
//! beside the current one and swapped in), next to the latency of the same searches on the idle
//! database.
//!
//! Not a criterion benchmark: one import takes tens of seconds, and what matters is the figure of
//! one realistic run, printed at the end. Needs a server:
//!
//! ```text
//! eval "$(scripts/provision-postgres.sh --print-env)"
//! cargo bench -p kol-benches --bench import [-- CREATORS]
//! ```
//!
//! The searches are those of the `search` bench (briefs near each category, four filters, k = 10)
//! through the ivfflat index with 3 probes, one after another from one client with its own pool
//! of 2 connections, for as long as the import runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kol_core::{SearchMode, SearchRequest};
use kol_db::testing::TestDatabase;
use kol_db::{Database, DbConfig, ImportOptions, ImportReport};
use kol_examples::catalogue::CatalogueSpec;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Imports `spec`'s catalogue with progress every tenth, and prints the figures.
async fn import(db: &Database, spec: &CatalogueSpec, what: &str) -> Result<ImportReport, BoxError> {
    println!("{what}: importing {} creators", spec.creators);
    let started = Instant::now();
    let mut last_decile = 0;
    let report = db
        .import_catalogue(spec.generate(), &ImportOptions::default(), |p| {
            let decile = p.creators * 10 / p.total.unwrap_or(1).max(1);
            if decile > last_decile {
                last_decile = decile;
                println!(
                    "  {:>3}%  {:>7} creators  {:>6.1} s",
                    decile * 10,
                    p.creators,
                    started.elapsed().as_secs_f64()
                );
            }
        })
        .await?;
    let total = started.elapsed().as_secs_f64();
    let rows = report.inserted + report.updated + report.media + report.rate_cards;
    println!(
        "  creators {} new, {} updated; media {}; rate cards {} ({rows} rows)",
        report.inserted, report.updated, report.media, report.rate_cards
    );
    println!(
        "  load {:.1} s ({:.0} rows/s), index build and swap {:.1} s, total {:.1} s, peak RSS {:.0} MiB",
        report.load_time.as_secs_f64(),
        rows as f64 / report.load_time.as_secs_f64(),
        report.index_time.as_secs_f64(),
        total,
        peak_rss_mib().unwrap_or(f64::NAN),
    );
    Ok(report)
}

/// Runs `requests` in turn until `stop` is set (at least one round when `stop` is `None`),
/// returning each search's latency.
async fn search_loop(
    db: Database,
    requests: Vec<SearchRequest>,
    stop: Option<Arc<AtomicBool>>,
) -> Result<Vec<Duration>, BoxError> {
    let mut latencies = Vec::new();
    for (i, request) in requests.iter().cycle().enumerate() {
        match &stop {
            Some(stop) if stop.load(Ordering::Relaxed) => break,
            None if i == requests.len() => break,
            _ => {}
        }
        let started = Instant::now();
        db.search_kols(request).await?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

fn row(what: &str, latencies: &[Duration]) {
    let over_1s = latencies.iter().filter(|l| l.as_secs_f64() > 1.0).count();
    println!(
        "| {what} | {} | {:.2} | {:.2} | {:.2} | {over_1s} |",
        latencies.len(),
        kol_benches::percentile_ms(latencies, 0.50),
        kol_benches::percentile_ms(latencies, 0.99),
        kol_benches::percentile_ms(latencies, 1.0),
    );
}

fn main() -> Result<(), BoxError> {
    let Some(creators) = kol_benches::bench_count_arg("import", 100_000)? else {
        return Ok(());
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let t = TestDatabase::new().await?;
        let spec = CatalogueSpec {
            creators,
            seed: 2026,
            thumbs_per_creator: 0..=0, // one picture (the profile) per creator
            bundle_share: 1.0,         // main item + bundle: two rate-card items per creator
            extra_items: false,
        };
        println!("database {}", t.name());
        import(t.db(), &spec, "fresh database").await?;
        t.execute_sql("ANALYZE").await?;

        let requests: Vec<SearchRequest> = kol_benches::filtered_search_requests(200, 10)?
            .into_iter()
            .map(|r| SearchRequest {
                mode: SearchMode::approximate(3),
                ..r
            })
            .collect();
        // The searching service: its own pool, as another process would have.
        let searcher = Database::connect_with(DbConfig::new(t.url()).max_connections(2)).await?;
        search_loop(searcher.clone(), requests[..20].to_vec(), None).await?; // warm-up
        let idle = search_loop(searcher.clone(), requests.clone(), None).await?;

        let stop = Arc::new(AtomicBool::new(false));
        let during = tokio::spawn(search_loop(searcher, requests, Some(stop.clone())));
        let reimport = import(t.db(), &spec, "re-import while searching").await;
        stop.store(true, Ordering::Relaxed);
        let during = during.await??;
        reimport?;

        println!();
        println!(
            "| searches (ivfflat, probes = 3) | count | p50 ms | p99 ms | max ms | over 1 s |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: |");
        row("idle database", &idle);
        row(
            &format!("during the re-import of {creators} creators"),
            &during,
        );
        Ok::<_, BoxError>(())
    })
}
