//! Caller-controlled transactions: several calls, all or nothing, through a handle with the
//! same methods as `Database`.

use std::time::Duration;

use kol_core::{Channel, MessageBody, PriceThb, SearchRequest, Terms};
use kol_db::{DbError, ImportOptions, KolQuery, Page};

use crate::common::{full_entry, kol, rng, running_campaign, test_db};

#[tokio::test]
async fn a_creator_with_media_and_rate_cards_commits_whole_or_not_at_all() {
    let t = test_db().await;
    let db = t.db();
    let entry = full_entry(1, &mut rng(1));
    let id = db
        .transaction(async |tx| {
            assert!(tx.in_transaction());
            let id = tx.create_kol(&entry.kol).await?.id;
            for media in &entry.media {
                tx.add_media(id, media).await?;
            }
            for card in &entry.rate_cards {
                tx.upsert_rate_card(id, card).await?;
            }
            // Another connection sees nothing yet.
            assert_eq!(t.count("kols").await?, 0);
            Ok(id)
        })
        .await
        .unwrap();
    assert_eq!(db.media_of(id).await.unwrap().len(), entry.media.len());
    assert_eq!(
        db.rate_cards_of(id).await.unwrap().len(),
        entry.rate_cards.len()
    );

    // An error half-way rolls everything back.
    let second = full_entry(2, &mut rng(2));
    let err = db
        .transaction(async |tx| {
            let id = tx.create_kol(&second.kol).await?.id;
            tx.add_media(id, &second.media[0]).await?;
            // The same creator again: a unique conflict.
            tx.create_kol(&second.kol).await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::UniqueViolation { .. }), "{err}");
    assert_eq!(t.count("kols").await.unwrap(), 1);
    assert_eq!(
        t.count("kol_media").await.unwrap(),
        entry.media.len() as i64
    );
}

#[tokio::test]
async fn a_nested_transaction_is_a_savepoint() {
    let t = test_db().await;
    let db = t.db();
    db.transaction(async |tx| {
        tx.create_kol(&kol(1)).await?;
        let inner = tx
            .transaction(async |inner| {
                inner.create_kol(&kol(2)).await?;
                inner.create_kol(&kol(2)).await?; // fails: rolls back to the savepoint
                Ok(())
            })
            .await;
        assert!(matches!(inner, Err(DbError::UniqueViolation { .. })));
        tx.create_kol(&kol(3)).await?;
        Ok(())
    })
    .await
    .unwrap();
    let names: Vec<String> = db
        .list_kols(&KolQuery::default(), Page::first(10))
        .await
        .unwrap()
        .kols
        .into_iter()
        .map(|k| k.profile.handle.username().as_str().to_owned())
        .collect();
    assert_eq!(names, ["creator_1", "creator_3"]);
}

/// Every kind of call works on the handle (reads in one snapshot, outreach with its own
/// transactions inside), without the handle waiting on itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_call_runs_on_the_handle() {
    let t = test_db().await;
    let db = t.db();
    let campaign = running_campaign(db).await;
    let entry = full_entry(1, &mut rng(3));
    let brief = entry.media[0].embedding.clone().unwrap();
    let work = db.transaction(async |tx| {
        let id = tx.create_kol(&entry.kol).await?.id;
        tx.add_media(id, &entry.media[0]).await?;
        let found = tx
            .search_kols(&SearchRequest::new(brief.clone(), 5))
            .await?;
        assert_eq!(found.first().map(|m| m.kol_id), Some(id));
        let opened = tx
            .open_conversation(campaign, id, Channel::Dm, &MessageBody::new("hi")?)
            .await?;
        let conv = opened.thread.conversation.id();
        let terms = Terms::new("1 video", "Dec", PriceThb::new(1_000)?)?;
        tx.propose_terms(conv, terms.clone()).await?;
        tx.agree_terms(conv, terms).await?;
        assert_eq!(tx.thread(conv).await?.messages.len(), 3);
        let report = tx.campaign_report(campaign, chrono::Utc::now()).await?;
        assert_eq!(report.totals.spend, 1_000);
        // Bulk jobs need their own connection.
        let refused = tx
            .import_catalogue(Vec::new(), &ImportOptions::default(), |_| {})
            .await;
        assert!(matches!(
            refused,
            Err(DbError::InvalidArgument {
                name: "transaction",
                ..
            })
        ));
        Ok(())
    });
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .expect("the handle never waits on itself")
        .unwrap();
    assert_eq!(t.count("messages").await.unwrap(), 3);
}

#[tokio::test]
async fn a_handle_kept_past_its_transaction_is_refused() {
    let t = test_db().await;
    let db = t.db();
    let kept = db.transaction(async |tx| Ok(tx.clone())).await.unwrap();
    let err = kept.create_kol(&kol(1)).await.unwrap_err();
    assert!(
        matches!(
            err,
            DbError::InvalidArgument {
                name: "transaction",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(t.count("kols").await.unwrap(), 0);
    // The pool is fine.
    db.create_kol(&kol(1)).await.unwrap();
}
