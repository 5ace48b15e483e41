//! The nearest-media primitive agrees with an exact scan computed in Rust.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{random_embedding, rng, test_db};
use kol_core::SearchMode;
use kol_core::{Embedding, MediaKind, MediaLocation, NewKolMedia, PlainText};
use kol_db::{CatalogueEntry, DbError, ImportOptions, VectorIndex};

#[tokio::test]
async fn nearest_media_equals_an_exact_scan() {
    let t = test_db().await;
    let db = t.db();
    let mut rng = rng(11);
    let mut all: Vec<(i64, Embedding)> = Vec::new();
    let entries: Vec<CatalogueEntry> = (0..300)
        .map(|i| {
            let mut e = crate::common::full_entry(i, &mut rng);
            e.rate_cards.clear();
            e
        })
        .collect();
    db.import_catalogue(entries, &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    // Read back ids with their embeddings.
    for page in db
        .list_kols(&Default::default(), kol_db::Page::first(1000))
        .await
        .unwrap()
        .kols
    {
        for m in db.media_of(page.id).await.unwrap() {
            if let Some(e) = m.media.embedding {
                all.push((m.id.get(), e));
            }
        }
    }
    assert!(all.len() > 500);

    for _ in 0..10 {
        let q = random_embedding(&mut rng);
        let mut expected: Vec<(f64, i64)> = all
            .iter()
            .map(|(id, e)| (q.cosine_distance(e), *id))
            .collect();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let got = db.nearest_media(&q, 10, SearchMode::Exact).await.unwrap();
        assert_eq!(got.len(), 10);
        for (hit, (d, id)) in got.iter().zip(&expected) {
            assert_eq!(hit.media_id.get(), *id);
            assert!((hit.distance - d).abs() < 1e-5, "{} vs {}", hit.distance, d);
        }
        // The ivfflat index with every list probed gives the same answer.
        let via_index = db
            .nearest_media(&q, 10, SearchMode::approximate(100))
            .await
            .unwrap();
        assert_eq!(
            via_index.iter().map(|h| h.media_id).collect::<Vec<_>>(),
            got.iter().map(|h| h.media_id).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn media_without_embeddings_are_skipped_and_arguments_checked() {
    let t = test_db().await;
    let db = t.db();
    let k = db.create_kol(&crate::common::kol(1)).await.unwrap();
    let media = NewKolMedia {
        kind: MediaKind::Thumb,
        location: MediaLocation::path(PlainText::new("/x.jpg").unwrap()),
        embedding: None,
    };
    db.add_media(k.id, &media).await.unwrap();
    let q = random_embedding(&mut rng(1));
    assert!(
        db.nearest_media(&q, 5, SearchMode::Exact)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        db.nearest_media(&q, 0, SearchMode::approximate(10)).await,
        Err(DbError::InvalidInput(kol_core::CoreError::OutOfRange {
            field: "k",
            ..
        }))
    ));
    assert!(matches!(
        db.nearest_media(&q, 1, SearchMode::approximate(0)).await,
        Err(DbError::InvalidInput(kol_core::CoreError::OutOfRange {
            field: "probes",
            ..
        }))
    ));
    // pgvector's own limits, checked before the query runs.
    assert!(matches!(
        db.nearest_media(&q, 1, SearchMode::approximate(SearchMode::MAX_PROBES + 1))
            .await,
        Err(DbError::InvalidInput(kol_core::CoreError::OutOfRange {
            field: "probes",
            ..
        }))
    ));
    assert!(matches!(
        db.nearest_media(
            &q,
            1,
            SearchMode::Approximate {
                probes: 1,
                ef_search: SearchMode::MAX_EF_SEARCH + 1
            }
        )
        .await,
        Err(DbError::InvalidInput(kol_core::CoreError::OutOfRange {
            field: "ef_search",
            ..
        }))
    ));
}

#[tokio::test]
async fn search_settings_do_not_leak_to_the_next_user_of_a_connection() {
    let t = test_db().await;
    // One connection, so the next statement surely runs where the search ran.
    let db = kol_db::Database::connect_with(kol_db::DbConfig::new(t.url()).max_connections(1))
        .await
        .unwrap();
    let q = random_embedding(&mut rng(2));
    let check = async |sql: &str| kol_db::testing::execute_sql(&db, sql).await.unwrap();
    assert_eq!(
        check("SELECT 1 WHERE coalesce(current_setting('ivfflat.probes', true), '1') = '1'").await,
        1
    );
    db.nearest_media(&q, 1, SearchMode::approximate(77))
        .await
        .unwrap();
    db.nearest_media(&q, 1, SearchMode::Exact).await.unwrap();
    assert_eq!(
        check("SELECT 1 WHERE coalesce(current_setting('ivfflat.probes', true), '1') = '1'").await,
        1
    );
    assert_eq!(
        check("SELECT 1 WHERE coalesce(current_setting('hnsw.ef_search', true), '40') = '40'")
            .await,
        1
    );
    assert_eq!(
        check("SELECT 1 WHERE current_setting('enable_indexscan') = 'on'").await,
        1
    );
}

#[tokio::test]
async fn the_vector_index_can_be_rebuilt_as_ivfflat_or_hnsw() {
    let t = test_db().await;
    let db = t.db();
    db.rebuild_vector_index(&VectorIndex::Hnsw {
        m: 8,
        ef_construction: 32,
    })
    .await
    .unwrap();
    let n = t
        .execute_sql("SELECT 1 FROM pg_indexes WHERE indexname = 'kol_media_emb_idx' AND indexdef LIKE '%hnsw%'")
        .await
        .unwrap();
    assert_eq!(n, 1);
    db.rebuild_vector_index(&VectorIndex::IvfFlat { lists: 10 })
        .await
        .unwrap();
    let n = t
        .execute_sql("SELECT 1 FROM pg_indexes WHERE indexname = 'kol_media_emb_idx' AND indexdef LIKE '%ivfflat%lists=''10''%'")
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert!(matches!(
        db.rebuild_vector_index(&VectorIndex::IvfFlat { lists: 0 })
            .await,
        Err(DbError::InvalidArgument { .. })
    ));
    assert!(matches!(
        db.rebuild_vector_index(&VectorIndex::Hnsw {
            m: 16,
            ef_construction: 8
        })
        .await,
        Err(DbError::InvalidArgument { .. })
    ));
}
