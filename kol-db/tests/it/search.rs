//! Creator search by brief in PostgreSQL: exact results equal a brute force over the same
//! catalogue with kol-core's filter semantics; the approximate mode still returns k creators
//! whenever k match.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use crate::common::{random_embedding, rng, test_db};
use kol_core::{
    AudienceShare, Categories, Channel, ConversationStatus, CountryCode, FollowerTier, Followers,
    KolFacts, KolFilter, KolId, KolMatch, MessageBody, NewKol, OutreachFilter, Platform, PriceThb,
    SearchMode, SearchRequest, order_matches,
};
use kol_db::{Database, ImportOptions, KolQuery, Page};

/// Everything the brute force needs: profiles, facts, and every embedding per creator.
struct World {
    kols: HashMap<KolId, NewKol>,
    facts: HashMap<KolId, KolFacts>,
    media: Vec<(KolId, kol_core::MediaId, kol_core::Embedding)>,
}

async fn world(db: &Database) -> World {
    let mut w = World {
        kols: HashMap::new(),
        facts: HashMap::new(),
        media: Vec::new(),
    };
    let all = db
        .list_kols(&KolQuery::default(), Page::first(10_000))
        .await
        .unwrap();
    let ids: Vec<KolId> = all.kols.iter().map(|k| k.id).collect();
    let cards = db.rate_cards_for(&ids).await.unwrap();
    for k in all.kols {
        for m in db.media_of(k.id).await.unwrap() {
            if let Some(e) = m.media.embedding {
                w.media.push((k.id, m.id, e));
            }
        }
        let open = db
            .kol_history(k.id)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.status().is_open())
            .map(|c| c.status());
        let cheapest = cards
            .get(&k.id)
            .and_then(|c| c.iter().map(|c| c.card.price).min());
        w.facts.insert(
            k.id,
            KolFacts {
                cheapest_item: cheapest,
                open_conversation: open,
            },
        );
        w.kols.insert(k.id, k.profile);
    }
    w
}

fn brute_force(w: &World, request: &SearchRequest) -> Vec<KolMatch> {
    let mut best: HashMap<KolId, KolMatch> = HashMap::new();
    for (kol_id, media_id, e) in &w.media {
        if !request.filter.matches(&w.kols[kol_id], &w.facts[kol_id]) {
            continue;
        }
        let m = KolMatch {
            kol_id: *kol_id,
            media_id: *media_id,
            distance: request.query.cosine_distance(e),
        };
        best.entry(*kol_id)
            .and_modify(|b| {
                if (m.distance, m.media_id) < (b.distance, b.media_id) {
                    *b = m;
                }
            })
            .or_insert(m);
    }
    let mut v: Vec<KolMatch> = best.into_values().collect();
    v.sort_by(order_matches);
    v.truncate(request.k);
    v
}

fn assert_same(got: &[KolMatch], want: &[KolMatch], what: &str) {
    assert_eq!(
        got.iter()
            .map(|m| (m.kol_id, m.media_id))
            .collect::<Vec<_>>(),
        want.iter()
            .map(|m| (m.kol_id, m.media_id))
            .collect::<Vec<_>>(),
        "{what}"
    );
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g.distance - w.distance).abs() < 1e-5,
            "{what}: {} vs {}",
            g.distance,
            w.distance
        );
    }
}

fn filters() -> Vec<KolFilter> {
    vec![
        KolFilter::default(),
        KolFilter {
            platforms: vec![Platform::Instagram],
            ..Default::default()
        },
        KolFilter {
            countries: vec![CountryCode::TH],
            min_audience_th_pct: Some(AudienceShare::new(50).unwrap()),
            ..Default::default()
        },
        KolFilter {
            categories_any: Categories::parse(["food"]).unwrap(),
            ..Default::default()
        },
        KolFilter {
            tiers: vec![FollowerTier::Micro, FollowerTier::Mid],
            ..Default::default()
        },
        KolFilter {
            min_followers: Some(Followers::new(50_000).unwrap()),
            max_followers: Some(Followers::new(150_000).unwrap()),
            ..Default::default()
        },
        KolFilter {
            max_item_price: Some(PriceThb::new(10_000).unwrap()),
            ..Default::default()
        },
        KolFilter {
            outreach: OutreachFilter::NoOpenConversation,
            ..Default::default()
        },
        KolFilter {
            outreach: OutreachFilter::ConfirmedOnly,
            ..Default::default()
        },
        // Very selective: a handful of creators.
        KolFilter {
            platforms: vec![Platform::Youtube],
            min_audience_th_pct: Some(AudienceShare::new(95).unwrap()),
            ..Default::default()
        },
        // Nobody.
        KolFilter {
            countries: vec![CountryCode::new("JP").unwrap()],
            ..Default::default()
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_agrees_with_a_brute_force_under_every_filter() {
    let t = test_db().await;
    let db = t.db();
    let mut rng = rng(99);
    let mut entries: Vec<_> = (0..400)
        .map(|i| crate::common::full_entry(i, &mut rng))
        .collect();
    // Unknown values (NULL in SQL, `None` in kol-core): every filter on them must treat them
    // the same way in both.
    for (i, e) in entries.iter_mut().enumerate() {
        if i % 5 == 1 {
            e.kol.followers = None;
        }
        if i % 6 == 2 {
            e.kol.country = None;
        }
        if i % 4 == 3 {
            e.kol.audience_th_pct = None;
        }
        if i % 9 == 4 {
            e.kol.categories = Categories::new();
        }
    }
    db.import_catalogue(entries, &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    // Outreach state: some creators contacted, some confirmed.
    let hello = MessageBody::new("hello").unwrap();
    let terms = kol_core::Terms::new("1 video", "soon", PriceThb::new(1_000).unwrap()).unwrap();
    let campaign = crate::common::running_campaign(db).await;
    for id in (1..=400).step_by(7) {
        let c = db
            .open_conversation(campaign, KolId(id), Channel::Dm, &hello)
            .await
            .unwrap()
            .thread
            .conversation
            .id();
        if id % 2 == 0 {
            db.propose_terms(c, terms.clone()).await.unwrap();
            db.agree_terms(c, terms.clone()).await.unwrap();
        }
    }
    let w = world(db).await;
    assert!(
        w.facts
            .values()
            .any(|f| f.open_conversation == Some(ConversationStatus::Confirmed))
    );

    for filter in filters() {
        for (k, seed) in [(10usize, 1u64), (25, 2)] {
            let query = random_embedding(&mut crate::common::rng(seed));
            let request = SearchRequest {
                query,
                k,
                filter: filter.clone(),
                mode: SearchMode::Exact,
            };
            let want = brute_force(&w, &request);
            let got = db.search_kols(&request).await.unwrap();
            assert_same(&got, &want, &format!("exact, k = {k}, {filter:?}"));

            // Approximate mode with every list probed is exact too, and with few probes it
            // still returns min(k, matching) creators that all pass the filter.
            let all_lists = SearchRequest {
                mode: SearchMode::approximate(100),
                ..request.clone()
            };
            assert_same(
                &db.search_kols(&all_lists).await.unwrap(),
                &want,
                &format!("probes = lists, {filter:?}"),
            );
            let few = SearchRequest {
                mode: SearchMode::approximate(1),
                ..request.clone()
            };
            let got = db.search_kols(&few).await.unwrap();
            assert_eq!(
                got.len(),
                want.len(),
                "k creators whenever k match: {filter:?}"
            );
            for m in &got {
                assert!(
                    request
                        .filter
                        .matches(&w.kols[&m.kol_id], &w.facts[&m.kol_id])
                );
            }
            let distinct: std::collections::HashSet<_> = got.iter().map(|m| m.kol_id).collect();
            assert_eq!(distinct.len(), got.len(), "distinct creators");
            assert!(
                got.windows(2).all(|p| order_matches(&p[0], &p[1]).is_le()),
                "ordered"
            );
        }
    }
}

#[tokio::test]
async fn an_empty_catalogue_or_filter_gives_an_empty_result_not_an_error() {
    let t = test_db().await;
    let query = random_embedding(&mut rng(5));
    let request = SearchRequest::new(query, 10);
    assert!(t.db().search_kols(&request).await.unwrap().is_empty());
    let approx = SearchRequest {
        mode: SearchMode::approximate(5),
        ..request.clone()
    };
    assert!(t.db().search_kols(&approx).await.unwrap().is_empty());
    let zero = SearchRequest {
        k: 0,
        ..request.clone()
    };
    assert!(matches!(
        t.db().search_kols(&zero).await,
        Err(kol_db::DbError::InvalidInput(
            kol_core::CoreError::OutOfRange { field: "k", .. }
        ))
    ));
    let too_many = SearchRequest {
        k: SearchRequest::MAX_K + 1,
        ..request
    };
    assert!(matches!(
        t.db().search_kols(&too_many).await,
        Err(kol_db::DbError::InvalidInput(
            kol_core::CoreError::OutOfRange { field: "k", .. }
        ))
    ));
}

/// Search to plan in one step: the matches in the search's order, each with the creator's stored
/// profile and rate card.
#[tokio::test]
async fn search_candidates_bring_profiles_and_rate_cards() {
    let t = test_db().await;
    let db = t.db();
    let mut r = rng(11);
    let entries: Vec<_> = (0..60)
        .map(|i| crate::common::full_entry(i, &mut r))
        .collect();
    db.import_catalogue(entries, &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    let request = kol_core::SearchRequest::new(random_embedding(&mut r), 10);
    let matches = db.search_kols(&request).await.unwrap();
    let candidates = db.search_candidates(&request).await.unwrap();
    assert_eq!(
        candidates.iter().map(|c| c.matched).collect::<Vec<_>>(),
        matches
    );
    for c in &candidates {
        assert_eq!(c.kol, db.kol(c.matched.kol_id).await.unwrap());
        assert_eq!(
            c.rate_cards,
            db.rate_cards_of(c.matched.kol_id).await.unwrap()
        );
        assert!(!c.rate_cards.is_empty());
    }
    let bad = kol_core::SearchRequest::new(random_embedding(&mut r), 0);
    assert!(db.search_candidates(&bad).await.is_err());
}
