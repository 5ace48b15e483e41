//! Read replicas against a real primary and streaming replica: each test starts its own hot
//! standby of the test server with `scripts/provision-postgres.sh --replica PORT` on a free
//! loopback port, and removes it (data directory and replication slot) when it ends, even when
//! the test fails. Needs root (the script runs the replica as the postgres user).
//!
//! Waits are on WAL positions (`Database::wait_for_replay`) or on the routing state the code
//! reports, never on fixed sleeps.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kol_core::{SearchMode, SearchRequest};
use kol_db::testing::TestDatabase;
use kol_db::{Database, DbConfig, DbError, ImportOptions, ReplicaState, VectorIndex};

use crate::common::{full_entry, kol, random_embedding, rng, test_db};

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/provision-postgres.sh")
}

fn run_script(args: &[&str]) {
    let out = Command::new(script())
        .args(args)
        .output()
        .expect("run scripts/provision-postgres.sh");
    assert!(
        out.status.success(),
        "provision-postgres.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A streaming replica of the test server, removed when dropped.
struct Replica {
    port: u16,
}

impl Replica {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let replica = Self { port };
        run_script(&["--replica", &port.to_string()]);
        replica
    }

    fn pause(&self) {
        run_script(&["--pause-replica", &self.port.to_string()]);
    }

    fn resume(&self) {
        run_script(&["--replica", &self.port.to_string()]);
    }

    /// The URL of `t`'s database on this replica.
    fn url_of(&self, t: &TestDatabase) -> String {
        let mut url = url::Url::parse(t.url().expose()).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.to_string()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["--stop-replica", &self.port.to_string()])
            .output();
    }
}

async fn pair(t: &TestDatabase, replica: &Replica) -> Database {
    Database::connect_with(
        DbConfig::new(t.url())
            .replica(replica.url_of(t))
            .max_replica_lag(Duration::from_secs(5))
            .replica_retry_after(Duration::from_millis(100))
            .replica_check_interval(Duration::from_millis(20)),
    )
    .await
    .unwrap()
}

/// Waits until the replica has replayed everything committed on the primary so far.
async fn replayed(db: &Database) {
    let lsn = db.wal_lsn().await.unwrap();
    db.wait_for_replay(lsn, Duration::from_secs(60))
        .await
        .unwrap();
}

fn replica_reads(db: &Database) -> u64 {
    db.routing().replicas[0].reads
}

/// The routing events, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Searches, listings and lookups go to the replica and give what the primary gives (exact and
/// through the vector index, whose definition is the same on both); writes, transactions and
/// `Database::primary` go to the primary, and the replica refuses a write sent to it directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_replica_with_the_primarys_results_and_writes_never_do() {
    let t = test_db().await;
    let replica = Replica::start();
    let db = pair(&t, &replica).await;
    let mut r = rng(15);
    let entries: Vec<_> = (0..300).map(|i| full_entry(i, &mut r)).collect();
    // Writes: a replica would refuse them (hot standby), so their success says where they went.
    db.import_catalogue(entries, &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    db.rebuild_vector_index(&VectorIndex::IvfFlat { lists: 8 })
        .await
        .unwrap();
    let reads_before = replica_reads(&db);
    let created = db.create_kol(&kol(10_000)).await.unwrap();
    db.upsert_kol(&kol(10_001)).await.unwrap();
    assert_eq!(replica_reads(&db), reads_before, "writes are not routed");

    // Read-your-writes: on the primary, at once.
    assert_eq!(db.primary().kol(created.id).await.unwrap(), created);
    let in_tx = db
        .transaction(async |tx| {
            let k = tx.create_kol(&kol(10_002)).await?;
            tx.kol(k.id).await
        })
        .await
        .unwrap();
    assert_eq!(replica_reads(&db), reads_before, "primary reads stay there");
    assert!(db.reads_from_replicas() && !db.primary().reads_from_replicas());

    replayed(&db).await;
    let from_replica = db.kol(in_tx.id).await.unwrap();
    assert_eq!(from_replica, in_tx);
    assert!(replica_reads(&db) > reads_before, "{:?}", db.routing());
    assert!(matches!(
        db.routing().replicas[0].state,
        ReplicaState::Healthy { .. }
    ));

    // Searches: the same answer from both servers, exact and approximate.
    let primary = db.primary();
    for mode in [SearchMode::Exact, SearchMode::approximate(2)] {
        for _ in 0..5 {
            let mut request = SearchRequest::new(random_embedding(&mut r), 10);
            request.mode = mode;
            let before = replica_reads(&db);
            let on_replica = db.search_kols(&request).await.unwrap();
            assert_eq!(
                replica_reads(&db),
                before + 1,
                "the search ran on the replica"
            );
            assert_eq!(on_replica, primary.search_kols(&request).await.unwrap());
            assert_eq!(on_replica.len(), 10);
            let nearest = db.nearest_media(&request.query, 7, mode).await.unwrap();
            assert_eq!(
                nearest,
                primary
                    .nearest_media(&request.query, 7, mode)
                    .await
                    .unwrap()
            );
        }
    }
    let page = kol_db::Page::first(50);
    let query = kol_db::KolQuery::default();
    assert_eq!(
        db.list_kols(&query, page).await.unwrap(),
        primary.list_kols(&query, page).await.unwrap()
    );
    assert_eq!(db.count_kols().await.unwrap(), 303);

    // The vector index: the same definition on both servers.
    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct IndexDef {
        #[diesel(sql_type = diesel::sql_types::Text)]
        indexdef: String,
    }
    let sql = "SELECT indexdef FROM pg_indexes WHERE tablename = 'kol_media' ORDER BY indexname";
    let direct = Database::connect(replica.url_of(&t)).await.unwrap();
    let on_replica: Vec<IndexDef> = kol_db::testing::query_sql(&direct, sql).await.unwrap();
    let on_primary: Vec<IndexDef> = kol_db::testing::query_sql(&db.primary(), sql)
        .await
        .unwrap();
    assert_eq!(on_replica, on_primary);
    assert!(
        on_replica.iter().any(|d| d.indexdef.contains("ivfflat")),
        "{on_replica:?}"
    );

    // The replica itself refuses writes: nothing kol-db sends there could change it.
    let refused = direct.create_kol(&kol(20_000)).await.unwrap_err();
    assert!(
        refused.to_string().contains("read-only transaction"),
        "{refused}"
    );
}

/// Stopping the replica while reads run moves them to the primary without a failed call;
/// starting it again brings them back. Every decision is a tracing event.
#[tokio::test]
async fn a_stopped_replica_sends_reads_to_the_primary_and_a_restarted_one_takes_them_back() {
    let events = Captured::default();
    let writer = events.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread runtime: every task of this test runs on this thread, under this
    // subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let t = test_db().await;
    let replica = Arc::new(Replica::start());
    let db = pair(&t, &replica).await;
    let mut r = rng(16);
    let entries: Vec<_> = (0..80).map(|i| full_entry(i, &mut r)).collect();
    db.import_catalogue(entries, &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    replayed(&db).await;
    let request = SearchRequest::new(random_embedding(&mut r), 5);
    let want = db.primary().search_kols(&request).await.unwrap();
    assert_eq!(db.search_kols(&request).await.unwrap(), want);
    assert_eq!(replica_reads(&db), 1);

    // Reads go on, without pause, while the replica is stopped and started again.
    let stopped = {
        let replica = Arc::clone(&replica);
        tokio::task::spawn_blocking(move || replica.pause())
    };
    let mut calls = 0u64;
    let mut stopped = Some(stopped);
    let deadline = Instant::now() + Duration::from_secs(120);
    // Phase 1: until the pause is done and a read has gone to the primary because of it.
    loop {
        let got = db.search_kols(&request).await;
        calls += 1;
        assert_eq!(got.unwrap(), want, "call {calls} failed");
        if stopped.as_ref().is_some_and(|s| s.is_finished()) {
            stopped.take().unwrap().await.unwrap();
        }
        if stopped.is_none() && db.routing().primary_reads > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{:?}", db.routing());
        tokio::task::yield_now().await;
    }
    assert!(matches!(
        db.routing().replicas[0].state,
        ReplicaState::Skipped { .. }
    ));
    let on_primary = db.routing().primary_reads;
    let replica_before = replica_reads(&db);

    // Phase 2: the replica starts again; reads go on until one is back on it.
    let started = {
        let replica = Arc::clone(&replica);
        tokio::task::spawn_blocking(move || replica.resume())
    };
    loop {
        let got = db.search_kols(&request).await;
        calls += 1;
        assert_eq!(got.unwrap(), want, "call {calls} failed");
        let k = db.kol(want[0].kol_id).await;
        calls += 1;
        assert!(k.is_ok(), "call {calls} failed: {k:?}");
        if started.is_finished() && replica_reads(&db) > replica_before {
            break;
        }
        assert!(Instant::now() < deadline, "{:?}", db.routing());
        tokio::task::yield_now().await;
    }
    started.await.unwrap();
    assert!(db.routing().primary_reads >= on_primary);
    assert!(matches!(
        db.routing().replicas[0].state,
        ReplicaState::Healthy { .. }
    ));

    let log = events.text();
    for event in [
        "read routed to a replica",
        "replica skipped",
        "read routed to the primary",
        "replica healthy again",
    ] {
        assert!(log.contains(event), "no event {event:?} in:\n{log}");
    }
    assert!(log.contains("kol_db::replicas"), "{log}");
}

/// A replica that is not reachable at all is skipped from the first read, and a configuration
/// with nonsense durations is refused.
#[tokio::test]
async fn an_unreachable_replica_is_skipped_and_bad_settings_are_refused() {
    let t = test_db().await;
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut url = url::Url::parse(t.url().expose()).unwrap();
    url.set_port(Some(closed_port)).unwrap();
    let db = Database::connect_with(DbConfig::new(t.url()).replica(url.as_str()))
        .await
        .unwrap();
    db.create_kol(&kol(1)).await.unwrap();
    assert_eq!(db.count_kols().await.unwrap(), 1);
    let routing = db.routing();
    assert_eq!(routing.primary_reads, 1);
    assert!(
        matches!(&routing.replicas[0].state, ReplicaState::Skipped { reason, .. } if reason.contains("no connection")),
        "{routing:?}"
    );
    // The password never shows.
    assert!(
        !format!("{routing:?}").contains(":kol_test@"),
        "{routing:?}"
    );

    let err = Database::connect_with(
        DbConfig::new(t.url())
            .replica(url.as_str())
            .replica_retry_after(Duration::ZERO),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            DbError::InvalidArgument {
                name: "replica_retry_after",
                ..
            }
        ),
        "{err}"
    );
}
