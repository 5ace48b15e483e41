//! Search throughput of the primary alone against the primary with a streaming replica taking
//! the searches, at 8 and 32 concurrent clients, over a generated catalogue (100,000 creators by
//! default, one picture each, ivfflat with 100 lists, searches with 3 probes and the four filters
//! of the `search` bench).
//!
//! Not a criterion benchmark: each configuration runs its clients for a fixed time and prints
//! searches per second and latency percentiles as one table. Needs root and a server (it starts
//! its own replica with `scripts/provision-postgres.sh --replica PORT` and removes it at the end):
//!
//! ```text
//! eval "$(scripts/provision-postgres.sh --print-env)"
//! cargo bench -p kol-benches --bench replicas [-- CREATORS] [--seconds=N]
//! ```

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kol_core::{SearchMode, SearchRequest};
use kol_db::testing::TestDatabase;
use kol_db::{Database, DbConfig, ImportOptions};
use kol_examples::catalogue::CatalogueSpec;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/provision-postgres.sh")
}

fn run_script(args: &[&str]) -> Result<(), BoxError> {
    let out = Command::new(script()).args(args).output()?;
    if !out.status.success() {
        return Err(format!(
            "provision-postgres.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

/// The replica, removed when dropped.
struct Replica(u16);

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = run_script(&["--stop-replica", &self.0.to_string()]);
    }
}

struct Figures {
    searches: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// `clients` tasks search in a loop for `seconds` (after one warm-up pass each).
async fn drive(
    db: &Database,
    requests: Arc<Vec<SearchRequest>>,
    clients: usize,
    seconds: u64,
) -> Result<Figures, BoxError> {
    for r in requests.iter().take(clients) {
        db.search_kols(r).await?;
    }
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        let db = db.clone();
        let requests = Arc::clone(&requests);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = c;
            while Instant::now() < until {
                let r = &requests[i % requests.len()];
                let t = Instant::now();
                db.search_kols(r).await?;
                latencies.push(t.elapsed());
                i += clients;
            }
            Ok::<_, kol_db::DbError>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(Figures {
        searches: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    })
}

fn main() -> Result<(), BoxError> {
    let Some(creators) = kol_benches::bench_count_arg("replicas", 100_000)? else {
        return Ok(());
    };
    let seconds = std::env::args()
        .find_map(|a| a.strip_prefix("--seconds=").map(str::to_owned))
        .map_or(Ok(15), |s| s.parse())?;
    let spec = CatalogueSpec {
        creators,
        seed: 7,
        thumbs_per_creator: 0..=0,
        ..CatalogueSpec::default()
    };
    let requests: Vec<SearchRequest> = kol_benches::filtered_search_requests(400, 10)?
        .into_iter()
        .map(|r| SearchRequest {
            mode: SearchMode::approximate(3),
            ..r
        })
        .collect();
    let requests = Arc::new(requests);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        run_script(&["--replica", &port.to_string()])?;
        let replica = Replica(port);
        let t = TestDatabase::new().await?;
        let started = Instant::now();
        let report = t
            .db()
            .import_catalogue(spec.generate(), &ImportOptions::default(), |_| {})
            .await?;
        t.execute_sql("ANALYZE").await?;
        let mut replica_url = url::Url::parse(t.url().expose())?;
        replica_url
            .set_port(Some(replica.0))
            .map_err(|()| "cannot set the port")?;
        let pair_config = |clients: usize| {
            DbConfig::new(t.url())
                .max_connections(clients)
                .replica(replica_url.as_str())
                .max_replica_lag(Duration::from_secs(5))
        };
        let pair = Database::connect_with(pair_config(1)).await?;
        let lsn = pair.wal_lsn().await?;
        pair.wait_for_replay(lsn, Duration::from_secs(600)).await?;
        println!(
            "{} creators, {} pictures imported in {:.1} s (index {:.1} s), replayed on the replica {:.1} s after the start",
            report.inserted,
            report.media,
            (report.load_time + report.index_time).as_secs_f64(),
            report.index_time.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        #[derive(diesel::QueryableByName)]
        struct Sizes {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            pictures: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            total: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            index: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            cluster: i64,
        }
        let sizes: Vec<Sizes> = kol_db::testing::query_sql(
            t.db(),
            "SELECT (SELECT count(*) FROM kol_media) AS pictures, \
                    pg_total_relation_size('kol_media') AS total, \
                    pg_relation_size('kol_media_emb_idx') AS index, \
                    pg_database_size(current_database()) AS cluster",
        )
        .await?;
        if let Some(s) = sizes.first() {
            let per = |bytes: i64| bytes as f64 / s.pictures.max(1) as f64;
            println!(
                "kol_media: {} pictures, {:.0} bytes per picture with its indexes ({:.0} in the \
                 ivfflat index); database {:.0} MiB",
                s.pictures,
                per(s.total),
                per(s.index),
                s.cluster as f64 / 1_048_576.0
            );
        }
        println!();
        println!("| clients | servers | searches/s | p50 ms | p99 ms | searches | reads on replica |");
        println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
        for clients in [8, 32] {
            let alone = Database::connect_with(DbConfig::new(t.url()).max_connections(clients))
                .await?;
            let pair = Database::connect_with(pair_config(clients)).await?;
            for (name, db) in [("primary alone", &alone), ("primary + replica", &pair)] {
                let before = pair.routing().replicas[0].reads;
                let f = drive(db, Arc::clone(&requests), clients, seconds).await?;
                let on_replica = pair.routing().replicas[0].reads - before;
                println!(
                    "| {clients} | {name} | {:.1} | {:.2} | {:.2} | {} | {} |",
                    f.searches as f64 / f.elapsed.as_secs_f64(),
                    kol_benches::percentile_ms(&f.latencies, 0.50),
                    kol_benches::percentile_ms(&f.latencies, 0.99),
                    f.searches,
                    on_replica
                );
            }
        }
        drop(replica);
        Ok(())
    })
}
