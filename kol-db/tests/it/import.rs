//! Bulk import: a 1,000-creator catalogue round-trips exactly; re-importing updates in place;
//! searches answer while an import runs, and see the catalogue before it or after it, never
//! part of it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use crate::common::{full_entry, random_embedding, rng, test_db};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use kol_core::{KolId, SearchMode, SearchRequest};
use kol_db::testing::{TestDatabase, query_sql};
use kol_db::{CatalogueEntry, Database, DbError, ImportOptions, ImportPhase, KolQuery, Page};

fn catalogue(n: usize, seed: u64) -> Vec<CatalogueEntry> {
    let mut rng = rng(seed);
    (0..n).map(|i| full_entry(i, &mut rng)).collect()
}

#[tokio::test]
async fn a_thousand_creators_round_trip_exactly() {
    let t = test_db().await;
    let db = t.db();
    let entries = catalogue(1_000, 7);
    let mut calls = Vec::new();
    let options = ImportOptions {
        batch_size: 300,
        ..ImportOptions::default()
    };
    let report = db
        .import_catalogue(entries.clone(), &options, |p| calls.push(*p))
        .await
        .unwrap();
    assert_eq!((report.inserted, report.updated), (1_000, 0));
    assert_eq!(report.media, 2_000);
    assert_eq!(report.rate_cards, 2_000);
    // Progress: after each of the 4 batches, then indexing, then done.
    let creators: Vec<u64> = calls.iter().map(|p| p.creators).collect();
    assert_eq!(creators, [300, 600, 900, 1_000, 1_000, 1_000]);
    assert!(calls.iter().all(|p| p.total == Some(1_000)));
    assert_eq!(calls.last().unwrap().phase, ImportPhase::Done);
    assert_eq!(calls[4].phase, ImportPhase::Indexing);

    // Every field, every embedding bit for bit.
    for entry in &entries {
        let kol = db.kol_by_handle(&entry.kol.handle).await.unwrap();
        assert_eq!(kol.profile, entry.kol);
        let media = db.media_of(kol.id).await.unwrap();
        assert_eq!(media.len(), entry.media.len());
        for (got, want) in media.iter().zip(&entry.media) {
            assert_eq!(got.media.kind, want.kind);
            assert_eq!(got.media.location, want.location);
            match (&got.media.embedding, &want.embedding) {
                (Some(g), Some(w)) => {
                    let bits = |e: &kol_core::Embedding| {
                        e.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                    };
                    assert_eq!(bits(g), bits(w));
                }
                (None, None) => {}
                other => panic!("embedding presence differs: {other:?}"),
            }
        }
        let mut cards: Vec<_> = db
            .rate_cards_of(kol.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.card)
            .collect();
        let mut want = entry.rate_cards.clone();
        cards.sort_by(|a, b| a.item.cmp(&b.item));
        want.sort_by(|a, b| a.item.cmp(&b.item));
        assert_eq!(cards, want);
    }
}

#[tokio::test]
async fn reimporting_updates_and_replaces_media_and_cards() {
    let t = test_db().await;
    let db = t.db();
    let first = catalogue(50, 1);
    db.import_catalogue(first.clone(), &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    let ids_before = db
        .list_kols(&KolQuery::default(), Page::first(100))
        .await
        .unwrap();

    // Same creators (same handles), new data; plus the same creator twice in one batch.
    let mut second = catalogue(50, 2);
    let mut dup = second[3].clone();
    dup.kol.followers = None;
    second.push(dup.clone());
    let report = db
        .import_catalogue(second.clone(), &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        (report.inserted, report.updated),
        (0, 51),
        "51 entries: 50 updates, and the repeat updates once more"
    );
    assert_eq!(t.count("kols").await.unwrap(), 50);
    assert_eq!(
        t.count("kol_media").await.unwrap(),
        100,
        "media replaced, not added"
    );
    assert_eq!(t.count("rate_cards").await.unwrap(), 100);
    let ids_after = db
        .list_kols(&KolQuery::default(), Page::first(100))
        .await
        .unwrap();
    assert_eq!(
        ids_before.kols.iter().map(|k| k.id).collect::<Vec<_>>(),
        ids_after.kols.iter().map(|k| k.id).collect::<Vec<_>>(),
        "ids are kept"
    );
    let kol = db.kol_by_handle(&dup.kol.handle).await.unwrap();
    assert_eq!(kol.profile, dup.kol, "the later entry wins");
}

#[tokio::test]
async fn a_failing_import_keeps_nothing() {
    let t = test_db().await;
    let db = t.db();
    let mut entries = catalogue(30, 3);
    let card = entries[25].rate_cards[0].clone();
    entries[25].rate_cards.push(card); // the same item twice: refused
    let err = db
        .import_catalogue(
            entries,
            &ImportOptions {
                batch_size: 10,
                ..Default::default()
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DbError::InvalidArgument {
                name: "rate_cards",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        t.count("kols").await.unwrap(),
        0,
        "the first two batches were rolled back"
    );
    assert_eq!(t.count("kol_media").await.unwrap(), 0);

    let err = db
        .import_catalogue(
            Vec::new(),
            &ImportOptions {
                batch_size: 0,
                ..Default::default()
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        DbError::InvalidArgument {
            name: "batch_size",
            ..
        }
    ));
}

/// A search must answer within this (a bound, so a blocked search fails the test instead of
/// hanging it; not a speed assertion).
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// Creators and pictures, read in one statement (one snapshot).
async fn rows(db: &Database) -> (i64, i64) {
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = BigInt)]
        kols: i64,
        #[diesel(sql_type = BigInt)]
        media: i64,
    }
    let c: Vec<Counts> = query_sql(
        db,
        "SELECT (SELECT count(*) FROM kols) AS kols, (SELECT count(*) FROM kol_media) AS media",
    )
    .await
    .unwrap();
    (c[0].kols, c[0].media)
}

/// The vector indexes of `kol_media` and their definitions.
async fn vector_indexes(t: &TestDatabase) -> Vec<(String, String)> {
    #[derive(QueryableByName)]
    struct Index {
        #[diesel(sql_type = Text)]
        indexname: String,
        #[diesel(sql_type = Text)]
        indexdef: String,
    }
    let rows: Vec<Index> = query_sql(
        t.db(),
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'kol_media' \
         AND indexdef LIKE '%vector_cosine_ops%' ORDER BY indexname",
    )
    .await
    .unwrap();
    rows.into_iter()
        .map(|i| (i.indexname, i.indexdef))
        .collect()
}

/// One round of the searches a service runs: approximate and exact creator search, nearest
/// pictures; each must answer within [`ANSWER_WITHIN`]. Returns the creators found.
async fn search_round(db: &Database, seed: u64) -> HashSet<KolId> {
    let brief = random_embedding(&mut rng(seed));
    let mut found = HashSet::new();
    for mode in [SearchMode::approximate(3), SearchMode::Exact] {
        let request = SearchRequest {
            mode,
            ..SearchRequest::new(brief.clone(), 10)
        };
        let matches = tokio::time::timeout(ANSWER_WITHIN, db.search_kols(&request))
            .await
            .expect("the search answers during the import")
            .unwrap();
        found.extend(matches.iter().map(|m| m.kol_id));
    }
    let hits = tokio::time::timeout(
        ANSWER_WITHIN,
        db.nearest_media(&brief, 10, SearchMode::approximate(3)),
    )
    .await
    .expect("nearest pictures answer during the import")
    .unwrap();
    found.extend(hits.iter().map(|h| h.kol_id));
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn searches_answer_while_an_import_is_open_and_see_none_of_it() {
    let t = test_db().await;
    let db = t.db().clone();
    let before = catalogue(200, 11);
    db.import_catalogue(before, &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    let old_ids: HashSet<KolId> = db
        .list_kols(&KolQuery::default(), Page::first(1_000))
        .await
        .unwrap()
        .kols
        .iter()
        .map(|k| k.id)
        .collect();
    let indexes_before = vector_indexes(&t).await;
    assert_eq!(indexes_before.len(), 1, "{indexes_before:?}");
    let counts_before = rows(&db).await;

    // 600 new creators in batches of 100; the caller's iterator holds the import open after
    // the first batch is written (inside the import's transaction) until the searches are done.
    let mut r = rng(12);
    let new: Vec<CatalogueEntry> = (1_000..1_600).map(|i| full_entry(i, &mut r)).collect();
    let (paused_tx, paused_rx) = tokio::sync::oneshot::channel::<()>();
    let (resume_tx, resume_rx) = std::sync::mpsc::channel::<()>();
    let mut paused_tx = Some(paused_tx);
    let entries = new.into_iter().enumerate().map(move |(i, e)| {
        if i == 100 {
            if let Some(tx) = paused_tx.take() {
                let _ = tx.send(());
            }
            let _ = resume_rx.recv_timeout(Duration::from_secs(60));
        }
        e
    });
    let importer = db.clone();
    let import = tokio::spawn(async move {
        let options = ImportOptions {
            batch_size: 100,
            ..ImportOptions::default()
        };
        importer.import_catalogue(entries, &options, |_| {}).await
    });
    tokio::time::timeout(ANSWER_WITHIN, paused_rx)
        .await
        .expect("the import reaches its second batch")
        .unwrap();

    // The import's transaction is open and holds 100 new creators: searches answer, and see
    // the catalogue as it was.
    for seed in 0..5 {
        let found = search_round(&db, 100 + seed).await;
        assert!(!found.is_empty());
        assert!(
            found.is_subset(&old_ids),
            "a search saw part of the open import"
        );
    }
    assert_eq!(rows(&db).await, counts_before);
    resume_tx.send(()).unwrap();
    let report = import.await.unwrap().unwrap();
    assert_eq!(report.inserted, 600);

    // After the commit: everything at once, and the index rebuilt under its name.
    assert_eq!(rows(&db).await, (800, 1_600));
    let indexes_after = vector_indexes(&t).await;
    assert_eq!(
        indexes_after, indexes_before,
        "same index, same definition, no replacement left behind"
    );
    let mut seen_new = false;
    for seed in 0..5 {
        seen_new |= !search_round(&db, 200 + seed).await.is_subset(&old_ids);
    }
    assert!(seen_new, "searches find the imported creators");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn searches_keep_answering_through_a_whole_import_and_its_index_swap() {
    let t = test_db().await;
    let db = t.db().clone();
    db.import_catalogue(catalogue(300, 21), &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    let before = rows(&db).await;

    // A service searching in a loop, from before the import starts until after it ends.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let searcher = {
        let (db, stop) = (db.clone(), stop.clone());
        tokio::spawn(async move {
            let mut started_tx = Some(started_tx);
            let mut observed = Vec::new();
            let mut seed = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                search_round(&db, 1_000 + seed).await;
                observed.push(rows(&db).await);
                if let Some(tx) = started_tx.take() {
                    let _ = tx.send(());
                }
                seed += 1;
            }
            observed
        })
    };
    started_rx.await.unwrap();
    let mut r = rng(22);
    let new: Vec<CatalogueEntry> = (2_000..3_500).map(|i| full_entry(i, &mut r)).collect();
    let mut phases = Vec::new();
    let report = db
        .import_catalogue(
            new,
            &ImportOptions {
                batch_size: 250,
                ..ImportOptions::default()
            },
            |p| phases.push(p.phase),
        )
        .await
        .unwrap();
    assert_eq!(report.inserted, 1_500);
    assert!(
        phases.contains(&ImportPhase::Indexing),
        "the index was rebuilt"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let observed = searcher.await.unwrap();

    let after = (before.0 + 1_500, before.1 + 3_000);
    assert_eq!(rows(&db).await, after);
    assert!(observed.len() >= 2, "searches ran during the import");
    for counts in &observed {
        assert!(
            *counts == before || *counts == after,
            "a reader saw part of the import: {counts:?} (before {before:?}, after {after:?})"
        );
    }
    assert_eq!(vector_indexes(&t).await.len(), 1);
}
