//! kol-vector (in memory) and pgvector (in PostgreSQL) agree: 2,000 random embeddings, 50
//! queries, the 10 nearest by cosine distance (`ORDER BY emb <=> $1 LIMIT 10`, an exact scan)
//! against kol-vector's exact search: same ids (up to exact ties) and distances within 1e-5.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{kol, random_embedding, rng, test_db};
use kol_core::{Embedding, KolId, MediaKind, MediaLocation, NewKolMedia, PlainText, SearchMode};
use kol_db::{CatalogueEntry, ImportOptions};
use kol_vector::{AnyKol, EmbeddingMatrix, Metric, Query};

#[tokio::test]
async fn in_memory_and_pgvector_return_the_same_nearest_pictures() {
    let t = test_db().await;
    let db = t.db();
    let mut rng = rng(2026);
    // 200 creators with 10 pictures each: 2,000 embeddings, imported in order, so the picture
    // ids are 1..=2000 in generation order.
    let mut all: Vec<(KolId, Embedding)> = Vec::new();
    let entries: Vec<CatalogueEntry> = (0..200)
        .map(|i| {
            let media = (0..10)
                .map(|_| {
                    let e = random_embedding(&mut rng);
                    all.push((KolId(i as i64 + 1), e.clone()));
                    NewKolMedia {
                        kind: MediaKind::Thumb,
                        location: MediaLocation::path(PlainText::new("/a.jpg").unwrap()),
                        embedding: Some(e),
                    }
                })
                .collect();
            CatalogueEntry {
                kol: kol(i),
                media,
                rate_cards: vec![],
            }
        })
        .collect();
    db.import_catalogue(entries, &ImportOptions::default(), |_| {})
        .await
        .unwrap();

    let mut matrix = EmbeddingMatrix::for_embeddings();
    for (i, (kol_id, e)) in all.iter().enumerate() {
        matrix
            .push_embedding(kol_core::MediaId(i as i64 + 1), *kol_id, e)
            .unwrap();
    }
    let exact = matrix.exact(Metric::Cosine);

    let mut worst = 0.0f64;
    for _ in 0..50 {
        let q = random_embedding(&mut rng);
        let memory = exact
            .search(&Query::new(q.as_slice()).unwrap(), 10, &AnyKol)
            .unwrap();
        let postgres = db.nearest_media(&q, 10, SearchMode::Exact).await.unwrap();
        assert_eq!(memory.len(), 10);
        assert_eq!(postgres.len(), 10);
        for (m, p) in memory.iter().zip(&postgres) {
            worst = worst.max((m.distance - p.distance).abs());
            assert!(
                (m.distance - p.distance).abs() < 1e-5,
                "{} vs {}",
                m.distance,
                p.distance
            );
            if m.media_id != p.media_id {
                // Only an exact tie (within rounding) may swap two pictures.
                let other = memory
                    .iter()
                    .find(|h| h.media_id == p.media_id)
                    .expect("same set");
                assert!(
                    (other.distance - m.distance).abs() < 1e-5,
                    "ids differ beyond a tie"
                );
            }
        }
    }
    eprintln!("largest distance difference over 500 results: {worst:e}");
}
