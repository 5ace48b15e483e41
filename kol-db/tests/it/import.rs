//! Bulk import: a 1,000-creator catalogue round-trips exactly; re-importing updates in place.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{full_entry, rng, test_db};
use kol_db::{CatalogueEntry, DbError, ImportOptions, ImportPhase, KolQuery, Page};

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
