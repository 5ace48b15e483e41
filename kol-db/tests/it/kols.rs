//! Creators: create, upsert, read, list with filters and pagination, delete.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{kol, test_db};
use kol_core::{
    AudienceShare, Categories, CountryCode, DeliverableItem, FollowerTier, Followers, Handle,
    KolFilter, KolId, NewRateCard, PlainText, Platform, PriceThb,
};
use kol_db::{DbError, KolQuery, Page, UpsertOutcome};

#[tokio::test]
async fn create_then_read_by_id_and_handle() {
    let t = test_db().await;
    let db = t.db();
    let new = kol(1);
    let stored = db.create_kol(&new).await.unwrap();
    assert_eq!(stored.profile, new);
    assert_eq!(db.kol(stored.id).await.unwrap(), stored);
    assert_eq!(db.kol_by_handle(&new.handle).await.unwrap(), stored);
    assert!(matches!(
        db.kol(KolId(999_999)).await,
        Err(DbError::NotFound { entity: "kol", .. })
    ));
    let other = Handle::new(Platform::X, "nobody").unwrap();
    assert!(matches!(
        db.kol_by_handle(&other).await,
        Err(DbError::NotFound { .. })
    ));
}

#[tokio::test]
async fn creating_a_duplicate_is_a_unique_violation_and_writes_nothing() {
    let t = test_db().await;
    let db = t.db();
    db.create_kol(&kol(1)).await.unwrap();
    let err = db.create_kol(&kol(1)).await.unwrap_err();
    assert!(
        matches!(&err, DbError::UniqueViolation { constraint, .. } if constraint == "kols_platform_username_key"),
        "{err}"
    );
    assert_eq!(t.count("kols").await.unwrap(), 1);
}

#[tokio::test]
async fn upsert_twice_gives_one_row_updated() {
    let t = test_db().await;
    let db = t.db();
    let mut new = kol(2);
    let first = db.upsert_kol(&new).await.unwrap();
    assert_eq!(first.outcome, UpsertOutcome::Inserted);
    new.followers = Some(Followers::new(123_456).unwrap());
    new.display_name = None;
    let second = db.upsert_kol(&new).await.unwrap();
    assert_eq!(
        second,
        kol_db::Upserted {
            id: first.id,
            outcome: UpsertOutcome::Updated
        }
    );
    assert_eq!(t.count("kols").await.unwrap(), 1);
    let stored = db.kol(first.id).await.unwrap();
    assert_eq!(
        stored.profile, new,
        "every column replaced, including the cleared display name"
    );
}

#[tokio::test]
async fn list_filters_and_pages() {
    let t = test_db().await;
    let db = t.db();
    for i in 1..=30 {
        let mut k = kol(i);
        if i % 5 == 0 {
            k.handle = Handle::new(Platform::Instagram, &format!("insta.{i}")).unwrap();
            k.country = Some(CountryCode::new("JP").unwrap());
        }
        if i == 7 {
            k.display_name = Some(PlainText::new("Crème Brûlée Café").unwrap());
        }
        db.create_kol(&k).await.unwrap();
    }
    let ids = |page: &kol_db::KolPage| page.kols.iter().map(|k| k.id).collect::<Vec<_>>();
    let all = db
        .list_kols(&KolQuery::default(), Page::first(100))
        .await
        .unwrap();
    assert_eq!(all.kols.len(), 30);
    assert!(all.next.is_none());
    assert!(all.kols.windows(2).all(|w| w[0].id < w[1].id));

    // Pagination walks every row once.
    let mut seen = Vec::new();
    let mut page = Some(Page::first(7));
    while let Some(p) = page {
        let got = db.list_kols(&KolQuery::default(), p).await.unwrap();
        seen.extend(ids(&got));
        page = got.next;
    }
    assert_eq!(seen, ids(&all));
    // A page size that divides the rows: the last full page says there is no next one.
    let mut pages = 0;
    let mut page = Some(Page::first(10));
    while let Some(p) = page {
        let got = db.list_kols(&KolQuery::default(), p).await.unwrap();
        assert_eq!(got.kols.len(), 10, "no empty trailing page");
        pages += 1;
        page = got.next;
    }
    assert_eq!(pages, 3);

    let check = |filter: KolFilter| {
        let expected: Vec<KolId> = all
            .kols
            .iter()
            .filter(|k| filter.matches_profile(&k.profile))
            .map(|k| k.id)
            .collect();
        (
            KolQuery {
                filter,
                name_contains: None,
            },
            expected,
        )
    };
    let cases = [
        KolFilter {
            platforms: vec![Platform::Instagram],
            ..Default::default()
        },
        KolFilter {
            countries: vec![CountryCode::TH],
            ..Default::default()
        },
        KolFilter {
            categories_any: Categories::parse(["food", "travel"]).unwrap(),
            ..Default::default()
        },
        KolFilter {
            min_followers: Some(Followers::new(5_000).unwrap()),
            max_followers: Some(Followers::new(12_000).unwrap()),
            ..Default::default()
        },
        KolFilter {
            tiers: vec![FollowerTier::Nano],
            ..Default::default()
        },
        KolFilter {
            min_audience_th_pct: Some(AudienceShare::new(20).unwrap()),
            ..Default::default()
        },
        KolFilter {
            platforms: vec![Platform::Tiktok],
            tiers: vec![FollowerTier::Micro, FollowerTier::Mid],
            min_audience_th_pct: Some(AudienceShare::new(15).unwrap()),
            ..Default::default()
        },
    ];
    for filter in cases {
        let (query, expected) = check(filter);
        assert!(
            !expected.is_empty() && expected.len() < 30,
            "a meaningful case: {query:?}"
        );
        let got = db.list_kols(&query, Page::first(100)).await.unwrap();
        assert_eq!(ids(&got), expected, "{query:?}");
    }

    // Name search: case- and accent-insensitive, on display name or username.
    let by_name = |q: &str| KolQuery {
        name_contains: Some(q.to_owned()),
        ..Default::default()
    };
    let got = db
        .list_kols(&by_name("creme brulee"), Page::first(10))
        .await
        .unwrap();
    assert_eq!(got.kols.len(), 1);
    assert_eq!(got.kols[0].profile.handle.username().as_str(), "creator_7");
    let got = db
        .list_kols(&by_name("INSTA.1"), Page::first(10))
        .await
        .unwrap();
    assert_eq!(got.kols.len(), 2, "insta.10 and insta.15");
    let got = db.list_kols(&by_name("%"), Page::first(10)).await.unwrap();
    assert!(got.kols.is_empty(), "wildcards are literal");

    assert!(matches!(
        db.list_kols(&KolQuery::default(), Page::first(0)).await,
        Err(DbError::InvalidArgument { name: "limit", .. })
    ));
}

#[tokio::test]
async fn max_item_price_filter_uses_rate_cards() {
    let t = test_db().await;
    let db = t.db();
    let a = db.create_kol(&kol(1)).await.unwrap();
    let b = db.create_kol(&kol(2)).await.unwrap();
    db.create_kol(&kol(3)).await.unwrap(); // no rate card
    let card = |p| {
        NewRateCard::new(
            DeliverableItem::TIKTOK_VIDEO,
            PriceThb::new(p).unwrap(),
            None,
        )
    };
    db.upsert_rate_card(a.id, &card(1_000)).await.unwrap();
    db.upsert_rate_card(b.id, &card(9_000)).await.unwrap();
    let query = KolQuery {
        filter: KolFilter {
            max_item_price: Some(PriceThb::new(5_000).unwrap()),
            ..Default::default()
        },
        name_contains: None,
    };
    let got = db.list_kols(&query, Page::first(10)).await.unwrap();
    assert_eq!(
        got.kols.iter().map(|k| k.id).collect::<Vec<_>>(),
        vec![a.id]
    );
}

#[tokio::test]
async fn deleting_a_creator_cascades_to_media_and_rate_cards() {
    let t = test_db().await;
    let db = t.db();
    let mut rng = crate::common::rng(1);
    let entry = crate::common::full_entry(1, &mut rng);
    let k = db.create_kol(&entry.kol).await.unwrap();
    for m in &entry.media {
        db.add_media(k.id, m).await.unwrap();
    }
    for c in &entry.rate_cards {
        db.upsert_rate_card(k.id, c).await.unwrap();
    }
    assert_eq!(db.media_of(k.id).await.unwrap().len(), 2);
    assert_eq!(db.rate_cards_of(k.id).await.unwrap().len(), 2);
    db.delete_kol(k.id).await.unwrap();
    assert_eq!(t.count("kol_media").await.unwrap(), 0);
    assert_eq!(t.count("rate_cards").await.unwrap(), 0);
    assert!(matches!(
        db.delete_kol(k.id).await,
        Err(DbError::NotFound { .. })
    ));
}

#[tokio::test]
async fn deleting_a_creator_with_conversations_is_refused() {
    let t = test_db().await;
    let db = t.db();
    let k = db.create_kol(&kol(1)).await.unwrap();
    let c = crate::common::running_campaign(db).await;
    db.open_conversation(
        c,
        k.id,
        kol_core::Channel::Dm,
        &kol_core::MessageBody::new("hi").unwrap(),
    )
    .await
    .unwrap();
    let err = db.delete_kol(k.id).await.unwrap_err();
    // The creator is in a campaign and has a conversation there: either keeps it.
    assert!(
        matches!(&err, DbError::RuleViolation { constraint, .. }
            if constraint == "conversations_kol_id_fkey" || constraint == "campaign_kols_kol_id_fkey"),
        "{err}"
    );
    assert_eq!(t.count("kols").await.unwrap(), 1);
}

#[tokio::test]
async fn media_and_rate_cards_round_trip() {
    let t = test_db().await;
    let db = t.db();
    let mut rng = crate::common::rng(2);
    let entry = crate::common::full_entry(3, &mut rng);
    let k = db.create_kol(&entry.kol).await.unwrap();
    let mut stored = Vec::new();
    for m in &entry.media {
        stored.push(db.add_media(k.id, m).await.unwrap());
    }
    let read = db.media_of(k.id).await.unwrap();
    assert_eq!(read, stored);
    assert_eq!(
        read.iter().map(|m| &m.media).collect::<Vec<_>>(),
        entry.media.iter().collect::<Vec<_>>()
    );

    let e = crate::common::random_embedding(&mut rng);
    db.set_embedding(read[1].id, &e).await.unwrap();
    assert_eq!(
        db.media_of(k.id).await.unwrap()[1].media.embedding.as_ref(),
        Some(&e)
    );

    for c in &entry.rate_cards {
        db.upsert_rate_card(k.id, c).await.unwrap();
    }
    let mut changed = entry.rate_cards[0].clone();
    changed.price = PriceThb::new(1).unwrap();
    db.upsert_rate_card(k.id, &changed).await.unwrap();
    let cards = db.rate_cards_of(k.id).await.unwrap();
    assert_eq!(cards.len(), 2, "upsert by item name, not a new row");
    let by_item: Vec<_> = cards
        .iter()
        .map(|c| (c.card.item.as_str(), c.card.price.get()))
        .collect();
    assert!(by_item.contains(&("tiktok_video", 1)));

    let other = db.create_kol(&kol(9)).await.unwrap();
    let map = db.rate_cards_for(&[k.id, other.id]).await.unwrap();
    assert_eq!(map.len(), 1, "creators without cards are absent");
    assert_eq!(map[&k.id], cards);

    let err = db
        .upsert_rate_card(KolId(424_242), &changed)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::NotFound { entity: "kol", ref key } if key == "424242"),
        "{err}"
    );
    assert_eq!(t.count("rate_cards").await.unwrap(), 2);
    let err = db
        .add_media(KolId(424_242), &entry.media[0])
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::NotFound { entity: "kol", ref key } if key == "424242"),
        "{err}"
    );
    assert_eq!(t.count("kol_media").await.unwrap(), stored.len() as i64);
}

/// `％`, `＿` and `＼` (and the other characters unaccent folds to `%`, `_`, `\`) are literal in
/// a name search, like their ASCII forms: the search escapes the wildcards after folding.
#[tokio::test]
async fn name_search_wildcards_stay_literal_after_folding() {
    let t = test_db().await;
    let db = t.db();
    let names = [
        "50％ off",
        "100% real",
        "snake＿case",
        "under_score",
        "back＼slash",
        "back\\slash",
        "Plain",
        "Another plain one",
    ];
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        // Usernames without `_`, so only the display names hold the characters searched.
        let mut k = kol(i);
        k.handle = Handle::new(Platform::Tiktok, &format!("person.{i}")).unwrap();
        k.display_name = Some(PlainText::new(name).unwrap());
        ids.push(db.create_kol(&k).await.unwrap().id);
    }
    let cases: [(&str, &[usize]); 9] = [
        ("％", &[0, 1]),
        ("%", &[0, 1]),
        ("﹪", &[0, 1]),
        ("＿", &[2, 3]),
        ("_", &[2, 3]),
        ("＼", &[4, 5]),
        ("\\", &[4, 5]),
        ("0％ o", &[0]),
        ("e＿c", &[2]),
    ];
    for (search, expected) in cases {
        let query = KolQuery {
            name_contains: Some(search.to_owned()),
            ..Default::default()
        };
        let got = db.list_kols(&query, Page::first(100)).await.unwrap();
        let got: Vec<KolId> = got.kols.iter().map(|k| k.id).collect();
        let want: Vec<KolId> = expected.iter().map(|&i| ids[i]).collect();
        assert_eq!(got, want, "search {search:?}");
    }
}
