//! Filtered creator search for a brief, in PostgreSQL (pgvector) and in memory (kol-vector):
//! p50 / p99 latency and recall@10 against the exact answer, over a generated catalogue of about
//! 100,000 pictures (50,000 creators with one to three pictures each).
//!
//! Not a criterion benchmark: what matters is a latency distribution over many different briefs
//! and filters, and the recall that goes with it, printed as one table. Needs a server:
//!
//! ```text
//! eval "$(scripts/provision-postgres.sh --print-env)"
//! cargo bench -p kol-benches --bench search [-- CREATORS] [--no-hnsw]
//! ```
//!
//! Every mode runs the same 200 searches: briefs near each of the 12 categories, each with one of
//! four filters (none; the brief's category; category + Thailand + at least 10,000 followers; at
//! least half the audience in Thailand). Recall@10 compares each backend's approximate answer
//! with its own exact answer, creator by creator; the two exact answers are also compared with
//! each other.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use kol_core::{KolId, KolMatch, SearchMode, SearchRequest};
use kol_db::testing::TestDatabase;
use kol_db::{Database, ImportOptions, VectorIndex};
use kol_examples::catalogue::CatalogueSpec;
use kol_vector::MemoryCatalogue;

const QUERIES: usize = 200;
const K: usize = 10;

type BoxError = Box<dyn std::error::Error>;

fn requests() -> Result<Vec<SearchRequest>, BoxError> {
    Ok(kol_benches::filtered_search_requests(QUERIES, K)?)
}

fn with_mode(requests: &[SearchRequest], mode: SearchMode) -> Vec<SearchRequest> {
    requests
        .iter()
        .map(|r| SearchRequest { mode, ..r.clone() })
        .collect()
}

/// Latencies and answers of one mode.
struct Run {
    latencies: Vec<Duration>,
    answers: Vec<Vec<KolMatch>>,
}

impl Run {
    fn percentile(&self, p: f64) -> f64 {
        kol_benches::percentile_ms(&self.latencies, p)
    }

    /// Mean recall@10 against `truth`, creator ids only.
    fn recall(&self, truth: &Run) -> f64 {
        let mut sum = 0.0;
        for (found, exact) in self.answers.iter().zip(&truth.answers) {
            if exact.is_empty() {
                sum += 1.0;
                continue;
            }
            let want: HashSet<KolId> = exact.iter().map(|m| m.kol_id).collect();
            let hit = found.iter().filter(|m| want.contains(&m.kol_id)).count();
            sum += hit as f64 / want.len() as f64;
        }
        sum / self.answers.len() as f64
    }
}

/// Runs every request through `search` (after 20 warm-up searches: the first queries after an
/// index build read it from disk) and times each one.
async fn run<E>(
    requests: &[SearchRequest],
    mut search: impl AsyncFnMut(&SearchRequest) -> Result<Vec<KolMatch>, E>,
) -> Result<Run, BoxError>
where
    E: std::error::Error + 'static,
{
    for r in requests.iter().take(20) {
        search(r).await?;
    }
    let mut latencies = Vec::with_capacity(requests.len());
    let mut answers = Vec::with_capacity(requests.len());
    for r in requests {
        let started = Instant::now();
        let answer = search(r).await?;
        latencies.push(started.elapsed());
        answers.push(answer);
    }
    Ok(Run { latencies, answers })
}

async fn run_db(db: &Database, requests: &[SearchRequest]) -> Result<Run, BoxError> {
    run(requests, async |r| db.search_kols(r).await).await
}

async fn run_memory(
    catalogue: &MemoryCatalogue,
    requests: &[SearchRequest],
) -> Result<Run, BoxError> {
    run(requests, async |r| catalogue.search(r)).await
}

fn row(backend: &str, mode: &str, run: &Run, truth: &Run) {
    println!(
        "| {backend} | {mode} | {:.2} | {:.2} | {:.3} |",
        run.percentile(0.50),
        run.percentile(0.99),
        run.recall(truth)
    );
}

fn main() -> Result<(), BoxError> {
    let Some(creators) = kol_benches::bench_count_arg("search", 50_000)? else {
        return Ok(());
    };
    let hnsw = !std::env::args().any(|a| a == "--no-hnsw");
    let spec = CatalogueSpec {
        creators,
        seed: 7,
        thumbs_per_creator: 0..=2,
        ..CatalogueSpec::default()
    };
    let requests = requests()?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let t = TestDatabase::new().await?;
        let started = Instant::now();
        let report = t
            .db()
            .import_catalogue(spec.generate(), &ImportOptions::default(), |_| {})
            .await?;
        println!(
            "{} creators, {} pictures imported in {:.1} s (ivfflat lists = 100 built in {:.1} s)",
            report.inserted,
            report.media,
            started.elapsed().as_secs_f64(),
            report.index_time.as_secs_f64()
        );
        t.execute_sql("ANALYZE").await?;

        let mut memory = MemoryCatalogue::from_entries(spec.generate())?;

        println!();
        println!("| backend | mode | p50 ms | p99 ms | recall@10 |");
        println!("| --- | --- | ---: | ---: | ---: |");
        let db = t.db();
        let pg_exact = run_db(db, &requests).await?;
        row("PostgreSQL", "exact", &pg_exact, &pg_exact);
        for probes in [1, 3, 5, 10, 20] {
            let run = run_db(db, &with_mode(&requests, SearchMode::approximate(probes))).await?;
            row(
                "PostgreSQL",
                &format!("ivfflat, probes = {probes}"),
                &run,
                &pg_exact,
            );
        }

        let mem_exact = run_memory(&memory, &requests).await?;
        row("memory", "exact", &mem_exact, &mem_exact);
        memory.build_ivf(100, 7)?;
        for probes in [1, 3, 5, 10, 20] {
            let run = run_memory(
                &memory,
                &with_mode(&requests, SearchMode::approximate(probes)),
            )
            .await?;
            row(
                "memory",
                &format!("IVF (100 lists), probes = {probes}"),
                &run,
                &mem_exact,
            );
        }

        if hnsw {
            // An HNSW build of 100k x 512 needs more than the default 64 MB of
            // maintenance_work_mem to keep its graph in memory; new sessions get 1 GB.
            t.execute_sql(&format!(
                "ALTER DATABASE {} SET maintenance_work_mem = '1GB'",
                t.name()
            ))
            .await?;
            let fresh = Database::connect(t.url()).await?;
            let started = Instant::now();
            fresh
                .rebuild_vector_index(&VectorIndex::Hnsw {
                    m: 16,
                    ef_construction: 64,
                })
                .await?;
            let build = started.elapsed().as_secs_f64();
            for ef_search in [40, 100, 200] {
                let mode = SearchMode::Approximate {
                    probes: 1,
                    ef_search,
                };
                let run = run_db(&fresh, &with_mode(&requests, mode)).await?;
                row(
                    "PostgreSQL",
                    &format!("hnsw (m 16, ef_construction 64), ef_search = {ef_search}"),
                    &run,
                    &pg_exact,
                );
            }
            println!();
            println!("hnsw build: {build:.1} s");
        }

        let same = pg_exact
            .answers
            .iter()
            .zip(&mem_exact.answers)
            .filter(|(a, b)| a.iter().map(|m| m.kol_id).eq(b.iter().map(|m| m.kol_id)))
            .count();
        println!(
            "exact answers identical in PostgreSQL and in memory: {same} of {QUERIES} searches"
        );
        Ok::<_, BoxError>(())
    })
}
