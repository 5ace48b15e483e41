//! Per-connection timeouts: every pooled connection gets them, and each one, exceeded, fails the
//! call with its documented error (statement and lock timeouts typed; the idle-in-transaction
//! timeout ends the session, a retryable connection error).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::common::{full_entry, kol, rng, test_db};
use diesel::QueryableByName;
use diesel::sql_types::Text;
use kol_db::testing::{execute_sql, query_sql};
use kol_db::{Database, DbConfig, DbError, ImportOptions};

#[derive(QueryableByName)]
struct Settings {
    #[diesel(sql_type = Text)]
    statement: String,
    #[diesel(sql_type = Text)]
    lock: String,
    #[diesel(sql_type = Text)]
    idle: String,
}

async fn settings(db: &Database) -> (String, String, String) {
    let rows: Vec<Settings> = query_sql(
        db,
        "SELECT current_setting('statement_timeout') AS statement, \
                current_setting('lock_timeout') AS lock, \
                current_setting('idle_in_transaction_session_timeout') AS idle",
    )
    .await
    .unwrap();
    let s = rows.into_iter().next().unwrap();
    (s.statement, s.lock, s.idle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pooled_connection_gets_the_configured_timeouts() {
    let t = test_db().await;
    let expect = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());

    // The defaults.
    assert_eq!(settings(t.db()).await, expect("30s", "10s", "1min"));

    // Chosen values, read on several connections of the pool at once (each query holds its
    // connection while the others run).
    let config = DbConfig::new(t.url())
        .max_connections(4)
        .statement_timeout(Duration::from_millis(1_500))
        .lock_timeout(Duration::from_millis(700))
        .idle_in_transaction_session_timeout(Duration::from_secs(5));
    let db = Database::connect_with(config).await.unwrap();
    let reads: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let _ = execute_sql(&db, "SELECT pg_sleep(0.05)").await;
                settings(&db).await
            })
        })
        .collect();
    for read in reads {
        assert_eq!(read.await.unwrap(), expect("1500ms", "700ms", "5s"));
    }

    // Each can be turned off.
    let off = DbConfig::new(t.url())
        .statement_timeout(None)
        .lock_timeout(None)
        .idle_in_transaction_session_timeout(None);
    let db = Database::connect_with(off).await.unwrap();
    assert_eq!(settings(&db).await, expect("0", "0", "0"));

    // Out of range is refused before connecting.
    let err = Database::connect_with(DbConfig::new(t.url()).statement_timeout(Duration::ZERO))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DbError::InvalidArgument {
                name: "statement_timeout",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_statement_beyond_the_statement_timeout_fails_typed() {
    let t = test_db().await;
    let config = DbConfig::new(t.url())
        .max_connections(1)
        .statement_timeout(Duration::from_millis(200));
    let db = Database::connect_with(config).await.unwrap();
    let err = execute_sql(&db, "SELECT pg_sleep(5)").await.unwrap_err();
    assert!(matches!(err, DbError::StatementTimeout(_)), "{err:?}");
    assert!(
        !err.is_retryable(),
        "the same statement would time out again"
    );
    // The connection serves the next call.
    assert_eq!(db.count_kols().await.unwrap(), 0);
}

#[tokio::test]
async fn a_lock_wait_beyond_the_lock_timeout_fails_typed_and_retryable() {
    let t = test_db().await;
    let config = DbConfig::new(t.url()).lock_timeout(Duration::from_millis(200));
    let db = Database::connect_with(config).await.unwrap();
    let creator = kol(1);
    let stored = db.upsert_kol(&creator).await.unwrap();

    // A second client holds the creator's row.
    let (client, connection) = tokio_postgres::connect(t.url().expose(), tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    client.batch_execute("BEGIN").await.unwrap();
    client
        .execute(
            "SELECT 1 FROM kols WHERE id = $1 FOR UPDATE",
            &[&stored.id.get()],
        )
        .await
        .unwrap();

    let mut changed = creator.clone();
    changed.followers = None;
    let err = db.upsert_kol(&changed).await.unwrap_err();
    assert!(matches!(err, DbError::LockTimeout(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(
        db.kol_by_handle(&creator.handle).await.unwrap().profile,
        creator,
        "nothing written"
    );

    // Once the other transaction ends, the same call succeeds.
    client.batch_execute("ROLLBACK").await.unwrap();
    db.upsert_kol(&changed).await.unwrap();
    assert_eq!(
        db.kol_by_handle(&creator.handle).await.unwrap().profile,
        changed
    );
    drop(client);
    let _ = driver.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_idle_in_its_transaction_beyond_the_timeout_is_ended_and_keeps_nothing() {
    let t = test_db().await;
    let config =
        DbConfig::new(t.url()).idle_in_transaction_session_timeout(Duration::from_millis(300));
    let db = Database::connect_with(config).await.unwrap();
    let mut rng = rng(5);
    let entries: Vec<_> = (0..20).map(|i| full_entry(i, &mut rng)).collect();
    // The caller's iterator stalls between the two batches, longer than the timeout.
    let slow = entries.into_iter().enumerate().map(|(i, e)| {
        if i == 10 {
            std::thread::sleep(Duration::from_millis(1_500));
        }
        e
    });
    let options = ImportOptions {
        batch_size: 10,
        ..ImportOptions::default()
    };
    let err = db
        .import_catalogue(slow, &options, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Connection(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(
        t.count("kols").await.unwrap(),
        0,
        "nothing of the import kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_pooled_connection_is_bounded() {
    #[derive(QueryableByName)]
    struct Busy {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let t = test_db().await;
    let config = DbConfig::new(t.url())
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(200));
    let db = Database::connect_with(config).await.unwrap();
    let sleeper = {
        let db = db.clone();
        tokio::spawn(
            async move { execute_sql(&db, "SELECT pg_sleep(2) /* kol-db pool test */").await },
        )
    };
    // Wait (bounded) until the sleeper holds the pool's only connection.
    let mut held = false;
    for _ in 0..100 {
        let busy: Vec<Busy> = query_sql(
            t.db(),
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE query LIKE '%kol-db pool test%' AND state = 'active' AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
        if busy[0].n > 0 {
            held = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(held, "the sleeper got the connection");
    let err = db.count_kols().await.unwrap_err();
    assert!(matches!(err, DbError::Connection(_)), "{err:?}");
    assert!(err.is_retryable());
    sleeper.await.unwrap().unwrap();
    assert_eq!(db.count_kols().await.unwrap(), 0, "the pool serves again");
}
