//! Load on the reference HTTP service (`kol_examples::service`): `POST /plans` and `GET /kols`
//! p50 / p99 latency and throughput at 1, 8 and 32 concurrent clients, over a generated
//! catalogue of 100,000 creators in a fresh test database.
//!
//! Not a criterion benchmark: a fixed number of requests per level, one realistic run, printed
//! as a table. The load generator is bounded and loopback-only: the service listens on
//! 127.0.0.1 on a free port, in this process, and each level sends a fixed number of requests
//! (and stops early after 120 s). Needs a server:
//!
//! ```text
//! eval "$(scripts/provision-postgres.sh --print-env)"
//! cargo bench -p kol-benches --bench service_load [-- CREATORS]
//! ```
//!
//! Requests: plans for briefs near each of the 12 categories in turn (a 150,000 THB budget,
//! greedy, 100 candidates, Thai creators), through the ivfflat index (10 probes) and exact;
//! creator pages of 50 with one of four filters in turn (none; a category; Thailand and at least
//! 10,000 followers; a name substring), each continuing from a different id. The service runs
//! with its default pool of 8 connections; clients and service share the machine's cores.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kol_db::ImportOptions;
use kol_db::testing::TestDatabase;
use kol_examples::catalogue::{CATEGORIES, CatalogueSpec};
use kol_examples::service::{AppState, serve};
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Longest a level may run before it stops sending.
const LEVEL_CAP: Duration = Duration::from_secs(120);

/// What one load level measured.
struct Level {
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: Duration,
}

/// One kind of request: the `n`-th request of a level.
#[derive(Clone, Copy)]
enum Scenario {
    Plans { approximate: bool },
    Kols { max_id: i64 },
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Self::Plans { approximate: true } => "POST /plans (ivfflat, probes 10)",
            Self::Plans { approximate: false } => "POST /plans (exact search)",
            Self::Kols { .. } => "GET /kols (page of 50)",
        }
    }

    fn request(self, http: &reqwest::Client, base: &str, n: usize) -> reqwest::RequestBuilder {
        let category = CATEGORIES[n % CATEGORIES.len()];
        match self {
            Self::Plans { approximate } => {
                let search = if approximate {
                    json!({"approximate": {"probes": 10, "ef_search": 40}})
                } else {
                    json!("exact")
                };
                http.post(format!("{base}/plans")).json(&json!({
                    "brief": {"category": category},
                    "budget": 150_000,
                    "filter": {"countries": ["TH"]},
                    "candidates": 100,
                    "search": search,
                }))
            }
            Self::Kols { max_id } => {
                let after = (n as i64 * 7_919) % max_id.max(1);
                let filter = match n % 4 {
                    0 => String::new(),
                    1 => format!("&categories={category}"),
                    2 => "&countries=TH&min_followers=10000".to_owned(),
                    _ => "&name=ploy".to_owned(),
                };
                http.get(format!("{base}/kols?limit=50&after={after}{filter}"))
            }
        }
    }
}

/// Sends `total` requests of `scenario` from `clients` concurrent clients (each waits for its
/// answer before sending the next).
async fn level(
    base: &str,
    scenario: Scenario,
    clients: usize,
    total: usize,
) -> Result<Level, BoxError> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(clients)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, next, base) = (http.clone(), Arc::clone(&next), base.to_owned());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total || started.elapsed() > LEVEL_CAP {
                    break;
                }
                let sent = Instant::now();
                let ok = match scenario.request(&http, &base, n).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        });
    }
    let mut out = Level {
        latencies: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    while let Some(done) = tasks.join_next().await {
        let (latencies, errors) = done?;
        out.latencies.extend(latencies);
        out.errors += errors;
    }
    out.elapsed = started.elapsed();
    Ok(out)
}

async fn run(creators: usize) -> Result<(), BoxError> {
    let t = TestDatabase::new().await?;
    let spec = CatalogueSpec::with_creators(creators);
    println!("importing {creators} creators...");
    let started = Instant::now();
    let report = t
        .db()
        .import_catalogue(spec.generate(), &ImportOptions::default(), |_| {})
        .await?;
    println!(
        "  {} creators, {} pictures, {} rate cards in {:.1} s",
        report.inserted,
        report.media,
        report.rate_cards,
        started.elapsed().as_secs_f64()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    assert!(addr.ip().is_loopback(), "the load stays on this machine");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, AppState::new(t.db().clone()), async {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    // A sanity check, and the largest id for the pages.
    let http = reqwest::Client::new();
    let last: Value = http
        .get(format!("{base}/kols?limit=1&after={}", creators as i64 - 1))
        .send()
        .await?
        .json()
        .await?;
    let max_id = last["kols"][0]["id"].as_i64().unwrap_or(creators as i64);
    let scenarios = [
        (Scenario::Plans { approximate: true }, 100usize, 25usize),
        (Scenario::Plans { approximate: false }, 60, 15),
        (Scenario::Kols { max_id }, 400, 100),
    ];
    println!();
    println!("| endpoint | clients | requests | errors | p50 ms | p99 ms | req/s |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (scenario, base_count, per_client) in scenarios {
        // Warm-up: caches, connections, the planner's first run.
        level(&base, scenario, 2, 12).await?;
        for clients in [1usize, 8, 32] {
            let total = base_count.max(per_client * clients);
            let l = level(&base, scenario, clients, total).await?;
            let done = l.latencies.len();
            println!(
                "| {} | {clients} | {done} | {} | {:.1} | {:.1} | {:.1} |",
                scenario.name(),
                l.errors,
                kol_benches::percentile_ms(&l.latencies, 0.50),
                kol_benches::percentile_ms(&l.latencies, 0.99),
                done as f64 / l.elapsed.as_secs_f64(),
            );
        }
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let Some(creators) = kol_benches::bench_count_arg("service_load", 100_000)? else {
        return Ok(());
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(creators))
}
