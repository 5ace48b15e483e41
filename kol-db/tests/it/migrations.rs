//! Migrations: up, down, up again, from a current-thread runtime (the default of tokio::test).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kol_db::testing::TestDatabase;

/// Migrations shipped in `kol-db/migrations`.
const MIGRATIONS: usize = 10;

const TABLES: [&str; 5] = [
    "kols",
    "kol_media",
    "conversations",
    "messages",
    "rate_cards",
];

#[tokio::test] // current-thread runtime on purpose: the migration harness must not need block_in_place
async fn migrations_go_up_down_and_up_again() {
    let t = TestDatabase::empty().await.unwrap();
    let db = t.db();
    assert!(db.applied_migrations().await.unwrap().is_empty());

    let applied = db.run_migrations().await.unwrap();
    assert_eq!(applied.len(), MIGRATIONS);
    assert_eq!(db.applied_migrations().await.unwrap().len(), MIGRATIONS);
    assert!(
        db.run_migrations().await.unwrap().is_empty(),
        "a second run applies nothing"
    );
    for table in TABLES {
        assert_eq!(
            t.count(table).await.unwrap(),
            0,
            "{table} exists and is empty"
        );
    }
    assert!(db.pgvector_version().await.unwrap().starts_with("0."));

    let reverted = db.revert_all_migrations().await.unwrap();
    assert_eq!(reverted.len(), MIGRATIONS);
    for table in TABLES {
        assert!(t.count(table).await.is_err(), "{table} is gone");
    }
    assert!(
        db.pgvector_version().await.unwrap().starts_with("0."),
        "the extensions stay: other schemas may use them"
    );

    assert_eq!(db.run_migrations().await.unwrap().len(), MIGRATIONS);
    for table in TABLES {
        assert_eq!(t.count(table).await.unwrap(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_on_a_multi_thread_runtime_too() {
    let t = TestDatabase::empty().await.unwrap();
    assert_eq!(t.db().run_migrations().await.unwrap().len(), MIGRATIONS);
}

#[test]
fn migrations_run_outside_any_async_test_macro() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let t = TestDatabase::empty().await.unwrap();
        assert_eq!(t.db().run_migrations().await.unwrap().len(), MIGRATIONS);
    });
}

/// Service instances starting together on a fresh database: each runs the migrations; one
/// applies them while the others wait for its advisory lock, then find nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_together_all_succeed_and_migrate_once() {
    const INSTANCES: usize = 6;
    let t = TestDatabase::empty().await.unwrap();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(INSTANCES));
    let instances: Vec<_> = (0..INSTANCES)
        .map(|_| {
            let (url, start) = (t.url(), start.clone());
            tokio::spawn(async move {
                // Each instance has its own pool, as separate processes would.
                let db = kol_db::Database::connect(url).await?;
                start.wait().await;
                db.run_migrations().await
            })
        })
        .collect();
    let mut applied = Vec::new();
    for instance in instances {
        let versions = instance
            .await
            .unwrap()
            .expect("every instance's migrations succeed");
        applied.extend(versions);
    }
    assert_eq!(
        applied.len(),
        MIGRATIONS,
        "each migration applied exactly once in all: {applied:?}"
    );
    applied.sort();
    applied.dedup();
    assert_eq!(applied.len(), MIGRATIONS);
    assert_eq!(t.db().applied_migrations().await.unwrap(), applied);
    for table in TABLES {
        assert_eq!(t.count(table).await.unwrap(), 0, "{table} exists");
    }
}
