//! One search, two backends: the same scenarios through PostgreSQL (kol-db) and in memory
//! (kol-vector) give the same creators in the same order (exact mode) and the same plan; filters
//! are honoured; approximate mode keeps recall@10 >= 0.9 in both.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use kol_core::{
    AudienceShare, Categories, Channel, CountryCode, FollowerTier, Followers, KolFilter, KolId,
    KolMatch, KolSearch, MessageBody, OutreachFilter, Platform, PriceThb, SearchMode,
    SearchRequest, Terms,
};
use kol_db::testing::TestDatabase;
use kol_db::{ImportOptions, VectorIndex};
use kol_examples::campaign::{CampaignSettings, run_in_memory, run_in_postgres};
use kol_examples::catalogue::{CATEGORIES, CatalogueSpec, brief_for_category};
use kol_optimizer::Method;
use kol_vector::MemoryCatalogue;

fn spec() -> CatalogueSpec {
    CatalogueSpec {
        creators: 1_500,
        seed: 7,
        ..CatalogueSpec::default()
    }
}

/// The same catalogue in a fresh database and in memory, with the same outreach state: creators
/// 3, 10, 17... contacted, every other one of them confirmed.
async fn both() -> (TestDatabase, MemoryCatalogue) {
    let t = TestDatabase::new().await.unwrap();
    let db = t.db();
    db.import_catalogue(spec().generate(), &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    let mut memory = MemoryCatalogue::from_entries(spec().generate()).unwrap();
    let hello = MessageBody::new("hello").unwrap();
    let terms = Terms::new("1 video", "next month", PriceThb::new(1_000).unwrap()).unwrap();
    let campaign = running_campaign(db).await;
    for (n, id) in (3..1_500).step_by(7).enumerate() {
        let id = KolId(id);
        let c = db
            .open_conversation(campaign, id, Channel::Line, &hello)
            .await
            .unwrap()
            .thread
            .conversation
            .id();
        let status = if n % 2 == 0 {
            db.propose_terms(c, terms.clone()).await.unwrap();
            db.agree_terms(c, terms.clone())
                .await
                .unwrap()
                .conversation
                .status()
        } else {
            kol_core::ConversationStatus::Contacted
        };
        assert!(memory.set_open_conversation(id, Some(status)));
    }
    (t, memory)
}

/// A running campaign with a budget no test reaches.
async fn running_campaign(db: &kol_db::Database) -> kol_core::CampaignId {
    use kol_core::{CampaignPeriod, CampaignStatus, NewCampaign, PlainText};
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let campaign = NewCampaign::new(
        PlainText::new("Launch").unwrap(),
        PlainText::new("Brand").unwrap(),
        PriceThb::new(i64::from(i32::MAX)).unwrap(),
        CampaignPeriod::new(day(1), day(31)).unwrap(),
    );
    let id = db.create_campaign(&campaign).await.unwrap().id;
    for status in [CampaignStatus::Planning, CampaignStatus::Running] {
        db.set_campaign_status(id, status).await.unwrap();
    }
    id
}

fn filters() -> Vec<KolFilter> {
    vec![
        KolFilter::default(),
        KolFilter {
            countries: vec![CountryCode::TH],
            min_audience_th_pct: Some(AudienceShare::new(70).unwrap()),
            ..Default::default()
        },
        KolFilter {
            platforms: vec![Platform::Tiktok, Platform::Youtube],
            tiers: vec![FollowerTier::Micro],
            ..Default::default()
        },
        KolFilter {
            categories_any: Categories::parse(["food", "travel"]).unwrap(),
            ..Default::default()
        },
        KolFilter {
            min_followers: Some(Followers::new(100_000).unwrap()),
            max_followers: Some(Followers::new(2_000_000).unwrap()),
            ..Default::default()
        },
        KolFilter {
            max_item_price: Some(PriceThb::new(3_000).unwrap()),
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
        // Fewer than k creators match.
        KolFilter {
            platforms: vec![Platform::X],
            min_followers: Some(Followers::new(100_000).unwrap()),
            ..Default::default()
        },
        // None matches.
        KolFilter {
            categories_any: Categories::parse(["knitting"]).unwrap(),
            ..Default::default()
        },
    ]
}

fn key(m: &[KolMatch]) -> Vec<(KolId, kol_core::MediaId)> {
    m.iter().map(|m| (m.kol_id, m.media_id)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_return_the_same_creators_in_the_same_order() {
    let (t, memory) = both().await;
    let db = t.db();
    let mut saw_fewer = false;
    for filter in filters() {
        let matching = (1..=1_500)
            .map(KolId)
            .filter(|id| {
                let k = memory.kol(*id).unwrap();
                filter.matches(&k.profile, &k.facts)
            })
            .count();
        for (k, category) in [(10usize, "beauty"), (40, "gaming")] {
            let request = SearchRequest {
                query: brief_for_category(category, 3),
                k,
                filter: filter.clone(),
                mode: SearchMode::Exact,
            };
            let in_memory = KolSearch::search_kols(&memory, &request).await.unwrap();
            let in_postgres = KolSearch::search_kols(db, &request).await.unwrap();
            assert_eq!(key(&in_memory), key(&in_postgres), "{filter:?}, k = {k}");
            for (a, b) in in_memory.iter().zip(&in_postgres) {
                assert!((a.distance - b.distance).abs() < 1e-5);
            }
            assert_eq!(
                in_memory.len(),
                k.min(matching),
                "k creators whenever k match: {filter:?}"
            );
            saw_fewer |= matching > 0 && matching < k;
            for m in &in_memory {
                let c = memory.kol(m.kol_id).unwrap();
                assert!(filter.matches(&c.profile, &c.facts), "filter honoured");
            }
            let distinct: HashSet<_> = in_memory.iter().map(|m| m.kol_id).collect();
            assert_eq!(distinct.len(), in_memory.len());
        }
    }
    assert!(saw_fewer, "a scenario matches fewer than k creators");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approximate_search_keeps_recall_at_ten_above_ninety_percent_in_both() {
    let (t, mut memory) = both().await;
    let db = t.db();
    db.rebuild_vector_index(&VectorIndex::IvfFlat { lists: 60 })
        .await
        .unwrap();
    memory.build_ivf(60, 7).unwrap();
    let mut found = [0usize; 2];
    let mut total = 0usize;
    for (i, category) in CATEGORIES.iter().enumerate() {
        for seed in 0..3u64 {
            let exact = SearchRequest::new(brief_for_category(category, seed * 31 + i as u64), 10);
            let truth: HashSet<KolId> = memory
                .search(&exact)
                .unwrap()
                .iter()
                .map(|m| m.kol_id)
                .collect();
            let approx = SearchRequest {
                mode: SearchMode::approximate(6),
                ..exact.clone()
            };
            let mem: HashSet<KolId> = memory
                .search(&approx)
                .unwrap()
                .iter()
                .map(|m| m.kol_id)
                .collect();
            let pg: HashSet<KolId> = db
                .search_kols(&approx)
                .await
                .unwrap()
                .iter()
                .map(|m| m.kol_id)
                .collect();
            found[0] += mem.intersection(&truth).count();
            found[1] += pg.intersection(&truth).count();
            total += truth.len();
        }
    }
    let recall = found.map(|f| f as f64 / total as f64);
    eprintln!(
        "recall@10 with 6 of 60 lists: memory {:.3}, postgres {:.3}",
        recall[0], recall[1]
    );
    assert!(recall[0] >= 0.9, "memory recall {}", recall[0]);
    assert!(recall[1] >= 0.9, "postgres recall {}", recall[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_campaign_plans_the_same_in_memory_and_in_postgres() {
    let t = TestDatabase::new().await.unwrap();
    for (category, budget, method, filter) in [
        (
            "beauty",
            250_000,
            Method::Exact(Default::default()),
            KolFilter::default(),
        ),
        (
            "travel",
            80_000,
            Method::Greedy,
            KolFilter {
                countries: vec![CountryCode::TH],
                ..Default::default()
            },
        ),
        (
            "tech",
            400_000,
            Method::Exact(Default::default()),
            KolFilter {
                tiers: vec![FollowerTier::Micro, FollowerTier::Mid],
                ..Default::default()
            },
        ),
    ] {
        let settings = CampaignSettings {
            budget,
            method,
            filter,
            catalogue: spec(),
            candidates: 60,
            ..CampaignSettings::default()
        };
        let brief = brief_for_category(category, 1);
        let memory = run_in_memory(&settings, brief.clone(), category.into()).unwrap();
        let postgres = run_in_postgres(&settings, t.url(), brief, category.into())
            .await
            .unwrap();
        assert!(!memory.rows.is_empty());
        assert!(memory.spent <= budget);
        assert_eq!((memory.backend, postgres.backend), ("memory", "postgres"));
        let strip = |mut r: kol_examples::campaign::CampaignReport| {
            r.backend = "";
            r
        };
        assert_eq!(strip(memory), strip(postgres), "{category}");
    }
}

/// The same bad request gets the same refusal from both backends: kol-core's error, reached
/// through `SearchError::invalid_request` whatever the backend's own error type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_request_is_refused_the_same_way_by_both() {
    use kol_core::{KolSearch, SearchError, SearchMode, SearchRequest};
    let (t, memory) = both().await;
    let brief = brief_for_category(CATEGORIES[0], 1);
    let bad = [
        SearchRequest::new(brief.clone(), 0),
        SearchRequest::new(brief.clone(), SearchRequest::MAX_K + 1),
        SearchRequest {
            mode: SearchMode::approximate(0),
            ..SearchRequest::new(brief.clone(), 5)
        },
        SearchRequest {
            mode: SearchMode::Approximate {
                probes: 1,
                ef_search: SearchMode::MAX_EF_SEARCH + 1,
            },
            ..SearchRequest::new(brief.clone(), 5)
        },
    ];
    for request in &bad {
        let in_db = KolSearch::search_kols(t.db(), request).await.unwrap_err();
        let in_memory = KolSearch::search_kols(&memory, request).await.unwrap_err();
        let (a, b) = (in_db.invalid_request(), in_memory.invalid_request());
        assert!(a.is_some(), "{in_db}");
        assert_eq!(a, b, "k = {}, mode = {:?}", request.k, request.mode);
    }
}
