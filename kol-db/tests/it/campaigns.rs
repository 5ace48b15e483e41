//! Campaigns end to end against the real server: plan, outreach per campaign, agreement with
//! deliverables, posts on the creator's own platform, snapshots; the rules under concurrency;
//! bad input that changes nothing; and the upgrade of a release-1 database with its
//! conversations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kol_core::{
    CampaignId, CampaignKolStatus, CampaignPeriod, CampaignStatus, Channel, ConversationId,
    ConversationStatus, CoreError, Count, DeliverableItem, DeliverableStatus, KolId, NewCampaign,
    NewDeliverable, NewSnapshot, People, PlainText, PlanMode, PlanRecord, PlannedItem, PostMetrics,
    PriceThb, Reach, Terms,
};
use kol_db::testing::{TestDatabase, migrate_to};
use kol_db::{Agreement, Database, DbConfig, DbError, TransitionOptions};

use crate::common::{body, campaign_for, kol, test_db};

fn terms(price: i64) -> Terms {
    Terms::new(
        "1 TikTok video",
        "December 2026",
        PriceThb::new(price).unwrap(),
    )
    .unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
}

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap()
}

fn item(s: &str) -> DeliverableItem {
    DeliverableItem::new(s).unwrap()
}

/// A plan buying `item` from each creator at `price`.
fn plan(budget: i64, entries: &[(KolId, &str, i64)]) -> PlanRecord {
    let items: Vec<PlannedItem> = entries
        .iter()
        .map(|&(kol_id, name, price)| PlannedItem {
            kol_id,
            item: item(name),
            price: PriceThb::new(price).unwrap(),
            est_reach: Reach::new(price * 10).unwrap(),
            reach_estimated: false,
            effective_reach: People::new(price as f64 * 5.0).unwrap(),
        })
        .collect();
    let reach: f64 = items.iter().map(|i| i.effective_reach.get()).sum();
    PlanRecord::new(
        PlanMode::Greedy,
        PriceThb::new(budget).unwrap(),
        People::new(reach).unwrap(),
        People::new(reach * 1.01).unwrap(),
        1.0 - 1.0 / 1.01,
        items,
    )
    .unwrap()
}

/// A draft campaign of `client` over December 2026.
fn new_campaign(client: &str, budget: i64, exclusive: bool) -> NewCampaign {
    let mut c = NewCampaign::new(
        PlainText::new(&format!("{client} launch")).unwrap(),
        PlainText::new(client).unwrap(),
        PriceThb::new(budget).unwrap(),
        CampaignPeriod::new(day(1), day(31)).unwrap(),
    );
    c.exclusive = exclusive;
    c
}

/// A running campaign with `plan` saved.
async fn planned_campaign(
    db: &Database,
    c: NewCampaign,
    entries: &[(KolId, &str, i64)],
) -> CampaignId {
    let budget = i64::from(c.budget.get());
    let id = db.create_campaign(&c).await.unwrap().id;
    db.save_plan(id, &plan(budget, entries)).await.unwrap();
    db.set_campaign_status(id, CampaignStatus::Running)
        .await
        .unwrap();
    id
}

/// Opens, proposes and returns the conversation of `kol` in `campaign`.
async fn negotiate(db: &Database, campaign: CampaignId, kol: KolId, price: i64) -> ConversationId {
    let id = db
        .open_conversation(campaign, kol, Channel::Line, &body("hello"))
        .await
        .unwrap()
        .thread
        .conversation
        .id();
    db.propose_terms(id, terms(price)).await.unwrap();
    id
}

fn metrics(views: i64, likes: i64, reach: Option<i64>) -> PostMetrics {
    let c = |v| Count::new(v).unwrap();
    PostMetrics {
        views: c(views),
        likes: c(likes),
        comments: c(likes / 10),
        shares: c(likes / 20),
        saves: c(likes / 30),
        reach: reach.map(c),
    }
}

#[tokio::test]
async fn a_campaign_from_plan_to_posted_results() {
    let t = test_db().await;
    let db = t.db();
    let a = db.create_kol(&kol(1)).await.unwrap().id; // TikTok
    let b = db.create_kol(&kol(2)).await.unwrap().id;
    let draft = db
        .create_campaign(&new_campaign("Glow", 100_000, false))
        .await
        .unwrap();
    assert_eq!(draft.status, CampaignStatus::Draft);
    let id = draft.id;
    let saved = db
        .save_plan(
            id,
            &plan(
                100_000,
                &[(a, "tiktok_video", 30_000), (b, "tiktok_video", 20_000)],
            ),
        )
        .await
        .unwrap();
    assert!(saved.iter().all(|k| k.status == CampaignKolStatus::Planned));
    // A new plan replaces the old one while planning; b, left out, goes back to shortlisted.
    db.save_plan(id, &plan(100_000, &[(a, "bundle", 40_000)]))
        .await
        .unwrap();
    let kols = db.campaign_kols(id).await.unwrap();
    let status: Vec<_> = kols.iter().map(|k| (k.kol_id, k.status)).collect();
    assert_eq!(
        status,
        vec![
            (a, CampaignKolStatus::Planned),
            (b, CampaignKolStatus::Shortlisted)
        ]
    );
    let stored = db.campaign_plan(id).await.unwrap().unwrap();
    assert_eq!(stored, plan(100_000, &[(a, "bundle", 40_000)]));

    // Confirming needs a running campaign; the plan is frozen from then on.
    let conv = negotiate(db, id, a, 40_000).await;
    let err = db.agree_terms(conv, terms(40_000)).await.unwrap_err();
    assert!(
        matches!(
            err,
            DbError::CampaignNotOpen {
                status: CampaignStatus::Planning,
                ..
            }
        ),
        "{err}"
    );
    db.set_campaign_status(id, CampaignStatus::Running)
        .await
        .unwrap();
    let err = db.save_plan(id, &plan(100_000, &[])).await.unwrap_err();
    assert!(matches!(err, DbError::CampaignNotOpen { .. }), "{err}");

    // An unplanned item is refused, whole.
    let agreement = Agreement {
        deliverables: Some(vec![NewDeliverable {
            item: item("ig_post"),
            due_on: day(10),
        }]),
        ..Agreement::new(terms(40_000))
    };
    let err = db
        .agree(conv, &agreement, TransitionOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::NotPlanned { .. }), "{err}");
    assert_eq!(
        db.conversation(conv).await.unwrap().status(),
        ConversationStatus::Negotiating
    );

    let agreement = Agreement {
        deliverables: Some(vec![
            NewDeliverable {
                item: item("bundle"),
                due_on: day(10),
            },
            NewDeliverable {
                item: item("bundle"),
                due_on: day(20),
            },
        ]),
        ..Agreement::new(terms(40_000))
    };
    let agreed = db
        .agree(conv, &agreement, TransitionOptions::default())
        .await
        .unwrap();
    assert_eq!(agreed.conversation.status(), ConversationStatus::Confirmed);
    assert_eq!(agreed.campaign_kol.status, CampaignKolStatus::Confirmed);
    assert_eq!(
        agreed.campaign_kol.agreed_price,
        Some(PriceThb::new(40_000).unwrap())
    );
    assert_eq!(agreed.deliverables.len(), 2);
    let first = agreed.deliverables[0].id();

    // Posting: only a link on the creator's own platform.
    let err = db
        .post_deliverable(first, "https://www.instagram.com/p/C1a2b3c4d5e/", at(9, 12))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::InvalidInput(CoreError::InvalidPostUrl { .. })),
        "{err}"
    );
    assert_eq!(
        db.deliverable(first).await.unwrap().status(),
        DeliverableStatus::Agreed
    );
    let posted = db
        .post_deliverable(
            first,
            "https://www.tiktok.com/@creator_1/video/7312345678901234567",
            at(9, 12),
        )
        .await
        .unwrap();
    assert_eq!(posted.status(), DeliverableStatus::Posted);
    assert_eq!(posted.post().unwrap().posted_at, at(9, 12));

    // Snapshots: not before the post, out of order is fine, twice is stored once.
    let early = NewSnapshot::new(at(9, 11), metrics(10, 1, None)).unwrap();
    let err = db.record_snapshot(first, &early).await.unwrap_err();
    assert!(matches!(err, DbError::SnapshotRefused { .. }), "{err}");
    let late = NewSnapshot::new(at(11, 12), metrics(9_000, 800, Some(7_000))).unwrap();
    let sooner = NewSnapshot::new(at(10, 12), metrics(5_000, 400, Some(4_500))).unwrap();
    assert!(db.record_snapshot(first, &late).await.unwrap().new);
    assert!(db.record_snapshot(first, &sooner).await.unwrap().new);
    let again = db.record_snapshot(first, &late).await.unwrap();
    assert!(!again.new);
    let clash = NewSnapshot::new(at(11, 12), metrics(9_001, 800, Some(7_000))).unwrap();
    assert!(matches!(
        db.record_snapshot(first, &clash).await.unwrap_err(),
        DbError::SnapshotRefused { .. }
    ));
    // The second deliverable is not posted: no metrics.
    let second = agreed.deliverables[1].id();
    assert!(matches!(
        db.record_snapshot(second, &late).await.unwrap_err(),
        DbError::SnapshotRefused { .. }
    ));
    let snaps = db.campaign_snapshots(id).await.unwrap();
    let captured: Vec<_> = snaps.iter().map(|s| s.snapshot.captured_at()).collect();
    assert_eq!(captured, vec![at(10, 12), at(11, 12)], "by capture time");

    // Deliverable moves follow the state machine.
    assert!(matches!(
        db.set_deliverable_status(first, DeliverableStatus::Missed)
            .await
            .unwrap_err(),
        DbError::InvalidInput(CoreError::InvalidStatusChange { .. })
    ));
    db.set_deliverable_status(first, DeliverableStatus::Verified)
        .await
        .unwrap();
    db.set_deliverable_status(second, DeliverableStatus::Missed)
        .await
        .unwrap();
    db.set_campaign_status(id, CampaignStatus::Done)
        .await
        .unwrap();
    assert!(matches!(
        db.set_campaign_status(id, CampaignStatus::Running)
            .await
            .unwrap_err(),
        DbError::InvalidInput(CoreError::InvalidStatusChange { .. })
    ));
}

#[tokio::test]
async fn the_budget_is_kept_unless_an_overrun_is_allowed() {
    let t = test_db().await;
    let db = t.db();
    let a = db.create_kol(&kol(1)).await.unwrap().id;
    let b = db.create_kol(&kol(2)).await.unwrap().id;
    let id = planned_campaign(
        db,
        new_campaign("Glow", 50_000, false),
        &[(a, "tiktok_video", 30_000), (b, "tiktok_video", 20_000)],
    )
    .await;
    let ca = negotiate(db, id, a, 30_000).await;
    let cb = negotiate(db, id, b, 25_000).await;
    db.agree_terms(ca, terms(30_000)).await.unwrap();
    let err = db.agree_terms(cb, terms(25_000)).await.unwrap_err();
    match err {
        DbError::OverBudget {
            budget,
            committed,
            price,
            ..
        } => {
            assert_eq!((budget, committed, price), (50_000, 30_000, 25_000));
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        db.conversation(cb).await.unwrap().status(),
        ConversationStatus::Negotiating
    );
    let allowed = Agreement {
        allow_over_budget: true,
        ..Agreement::new(terms(25_000))
    };
    let agreed = db
        .agree(cb, &allowed, TransitionOptions::default())
        .await
        .unwrap();
    assert!(agreed.campaign_kol.over_budget_approved);
    // The database refuses an overrun that a second client writes without the approval.
    let c = db.create_kol(&kol(3)).await.unwrap().id;
    db.open_conversation(id, c, Channel::Dm, &body("hi"))
        .await
        .unwrap();
    let err = t
        .execute_sql(&format!(
            "UPDATE campaign_kols SET status = 'confirmed', agreed_price_integer = 1 \
             WHERE campaign_id = {id} AND kol_id = {c}"
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DbError::RuleViolation { constraint, .. } if constraint == "campaign_kols_within_budget"),
        "{err}"
    );
}

#[tokio::test]
async fn exclusivity_keeps_a_creator_from_competing_clients() {
    let t = test_db().await;
    let db = t.db();
    let a = db.create_kol(&kol(1)).await.unwrap().id;
    let glow = planned_campaign(
        db,
        new_campaign("Glow", 100_000, true),
        &[(a, "tiktok_video", 10_000)],
    )
    .await;
    let shine = planned_campaign(
        db,
        new_campaign("Shine", 100_000, false),
        &[(a, "tiktok_video", 10_000)],
    )
    .await;
    let glow_too = planned_campaign(
        db,
        new_campaign("Glow", 100_000, false),
        &[(a, "tiktok_video", 10_000)],
    )
    .await;
    let c1 = negotiate(db, glow, a, 10_000).await;
    // In talks for two campaigns at once, and told so.
    let opened = db
        .open_conversation(shine, a, Channel::Dm, &body("hi"))
        .await
        .unwrap();
    assert_eq!(
        opened
            .other_campaigns
            .iter()
            .map(|m| m.campaign_id)
            .collect::<Vec<_>>(),
        vec![glow, glow_too],
        "the campaigns it is planned or in talks for"
    );
    let c2 = opened.thread.conversation.id();
    db.propose_terms(c2, terms(10_000)).await.unwrap();
    db.agree_terms(c1, terms(10_000)).await.unwrap();
    let err = db.agree_terms(c2, terms(10_000)).await.unwrap_err();
    match err {
        DbError::ExclusivityConflict {
            campaign_id,
            other_campaign_id,
            ..
        } => {
            assert_eq!((campaign_id, other_campaign_id), (shine, glow));
        }
        other => panic!("{other}"),
    }
    // The same client's other campaign is no competitor.
    let c3 = negotiate(db, glow_too, a, 10_000).await;
    db.agree_terms(c3, terms(10_000)).await.unwrap();
    let memberships = db.kol_campaigns(a).await.unwrap();
    assert_eq!(memberships.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_opens_for_one_creator_and_campaign_give_one_conversation() {
    let t = test_db().await;
    let db = Database::connect_with(DbConfig::new(t.url()).max_connections(20))
        .await
        .unwrap();
    let k = db.create_kol(&kol(1)).await.unwrap().id;
    let one = campaign_for(&db, "Glow", 100_000).await;
    let two = campaign_for(&db, "Shine", 100_000).await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.open_conversation(one, k, Channel::Dm, &body(&format!("hello {i}")))
                    .await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(opened) => {
                ids.insert(opened.thread.conversation.id());
            }
            Err(DbError::OpenConversationExists {
                conversation_id,
                campaign_id,
                ..
            }) => {
                assert_eq!(campaign_id, one);
                ids.insert(conversation_id);
                conflicts += 1;
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!((ids.len(), conflicts), (1, 49));
    // Another campaign: its own conversation, concurrently with a third.
    let three = campaign_for(&db, "Bright", 100_000).await;
    let (two_hello, three_hello) = (body("two"), body("three"));
    let (x, y) = tokio::join!(
        db.open_conversation(two, k, Channel::Dm, &two_hello),
        db.open_conversation(three, k, Channel::Dm, &three_hello),
    );
    assert!(x.is_ok() && y.is_ok(), "{x:?} {y:?}");
    assert_eq!(t.count("conversations").await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agree_versus_drop_ends_one_way() {
    let t = test_db().await;
    let db = t.db().clone();
    let mut outcomes = HashSet::new();
    for round in 0..12 {
        let k = db.create_kol(&kol(round + 1)).await.unwrap().id;
        let c = planned_campaign(
            &db,
            new_campaign("Glow", 100_000, false),
            &[(k, "tiktok_video", 1_000)],
        )
        .await;
        let conv = negotiate(&db, c, k, 1_000).await;
        let (agree, drop) = tokio::join!(
            tokio::spawn({
                let db = db.clone();
                async move { db.agree_terms(conv, terms(1_000)).await }
            }),
            tokio::spawn({
                let db = db.clone();
                async move { db.drop_kol(c, k).await }
            }),
        );
        let (agree, drop) = (agree.unwrap(), drop.unwrap());
        assert!(
            agree.is_ok() != drop.is_ok(),
            "round {round}: {agree:?} / {drop:?}"
        );
        let agree_won = agree.is_ok();
        let member = db.campaign_kols(c).await.unwrap().remove(0);
        let conversation = db.conversation(conv).await.unwrap();
        let deliverables = db.deliverables(c).await.unwrap();
        if agree_won {
            assert_eq!(member.status, CampaignKolStatus::Confirmed);
            assert_eq!(conversation.status(), ConversationStatus::Confirmed);
            assert_eq!(deliverables.len(), 1);
            assert!(matches!(drop.unwrap_err(), DbError::KolNotAvailable { .. }));
        } else {
            assert_eq!(member.status, CampaignKolStatus::Dropped);
            assert_eq!(conversation.status(), ConversationStatus::Closed);
            assert!(deliverables.is_empty());
            let err = agree.unwrap_err();
            assert!(
                matches!(
                    err,
                    DbError::KolNotAvailable { .. } | DbError::InvalidInput(_)
                ),
                "{err}"
            );
        }
        outcomes.insert(agree_won);
    }
    eprintln!("outcomes seen: {outcomes:?}");
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let t = test_db().await;
    let db = t.db();
    let a = db.create_kol(&kol(1)).await.unwrap().id;
    let id = planned_campaign(
        db,
        new_campaign("Glow", 100_000, false),
        &[(a, "tiktok_video", 1_000)],
    )
    .await;
    let missing = CampaignId(987_654);
    assert!(matches!(
        db.campaign(missing).await,
        Err(DbError::NotFound {
            entity: "campaign",
            ..
        })
    ));
    assert!(matches!(
        db.open_conversation(missing, a, Channel::Dm, &body("hi"))
            .await,
        Err(DbError::NotFound {
            entity: "campaign",
            ..
        })
    ));
    assert!(matches!(
        db.open_conversation(id, KolId(987_654), Channel::Dm, &body("hi"))
            .await,
        Err(DbError::NotFound { entity: "kol", .. })
    ));
    assert!(matches!(
        db.shortlist(id, &[a, KolId(987_654)]).await,
        Err(DbError::NotFound { entity: "kol", .. })
    ));
    assert!(matches!(
        db.save_plan(missing, &plan(1_000, &[])).await,
        Err(DbError::NotFound {
            entity: "campaign",
            ..
        })
    ));
    // A dropped creator is not contacted again in that campaign.
    db.drop_kol(id, a).await.unwrap();
    assert!(matches!(
        db.open_conversation(id, a, Channel::Dm, &body("again"))
            .await,
        Err(DbError::KolNotAvailable {
            status: CampaignKolStatus::Dropped,
            ..
        })
    ));
    for table in [
        "conversations",
        "messages",
        "deliverables",
        "post_snapshots",
    ] {
        assert_eq!(t.count(table).await.unwrap(), 0, "{table}");
    }
    // Values no type lets through: negative counts, a period that ends first.
    assert!(Count::new(-1).is_err());
    assert!(CampaignPeriod::new(day(2), day(1)).is_err());
}

/// A second client cannot confirm a creator without the agreement behind it: its conversation
/// in the campaign confirmed, at the same price (migration 10). With it, the confirmation is
/// accepted, and kol-db reads it back.
#[tokio::test]
async fn a_creator_is_confirmed_only_with_its_agreement() {
    let t = test_db().await;
    let db = t.db();
    let a = db.create_kol(&kol(1)).await.unwrap().id;
    let id = planned_campaign(
        db,
        new_campaign("Glow", 100_000, false),
        &[(a, "tiktok_video", 1_000)],
    )
    .await;
    let conv = negotiate(db, id, a, 1_000).await;
    let confirm = |price: i64| {
        format!(
            "UPDATE campaign_kols SET status = 'confirmed', agreed_price_integer = {price} \
             WHERE campaign_id = {id} AND kol_id = {a}"
        )
    };
    let refused = |err: DbError| {
        assert!(
            matches!(&err, DbError::RuleViolation { constraint, .. } if constraint == "campaign_kols_agreed_in_conversation"),
            "{err}"
        );
    };
    // Still negotiating: no agreement.
    refused(t.execute_sql(&confirm(1_000)).await.unwrap_err());
    // The conversation agreed at 900 THB: not at another price.
    t.execute_sql(&format!(
        "UPDATE conversations SET status = 'confirmed', agreed_deliverables = '1 video', \
         agreed_timeline = 'Dec', agreed_price_integer = 900 WHERE id = {conv}"
    ))
    .await
    .unwrap();
    refused(t.execute_sql(&confirm(1_000)).await.unwrap_err());
    let kols = db.campaign_kols(id).await.unwrap();
    assert_eq!(kols[0].status, CampaignKolStatus::Contacted, "{kols:?}");
    // At the agreed price: confirmed.
    assert_eq!(t.execute_sql(&confirm(900)).await.unwrap(), 1);
    let kols = db.campaign_kols(id).await.unwrap();
    assert_eq!(kols[0].status, CampaignKolStatus::Confirmed, "{kols:?}");
    assert_eq!(kols[0].agreed_price.map(|p| p.get()), Some(900), "{kols:?}");
}

/// A database of migration 9 with a creator confirmed by agreement and one a second client
/// confirmed without any upgrades to migration 10 with every row kept and both readable; from
/// then on, only the first kind of confirmation is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_10_keeps_the_confirmations_stored_before_it() {
    let t = TestDatabase::empty().await.unwrap();
    let db = t.db();
    migrate_to(db, "2026-11-29-000009").await.unwrap();
    let (a, b, c) = (
        db.create_kol(&kol(1)).await.unwrap().id,
        db.create_kol(&kol(2)).await.unwrap().id,
        db.create_kol(&kol(3)).await.unwrap().id,
    );
    let id = planned_campaign(
        db,
        new_campaign("Glow", 100_000, false),
        &[(a, "tiktok_video", 1_000)],
    )
    .await;
    let conv = negotiate(db, id, a, 1_000).await;
    db.agree_terms(conv, terms(1_000)).await.unwrap();
    negotiate(db, id, b, 2_000).await;
    negotiate(db, id, c, 3_000).await;
    let confirm = |kol: KolId, price: i64| {
        format!(
            "UPDATE campaign_kols SET status = 'confirmed', agreed_price_integer = {price} \
             WHERE campaign_id = {id} AND kol_id = {kol}"
        )
    };
    // What migration 9 let a second client write: b confirmed with no agreement.
    t.execute_sql(&confirm(b, 2_000)).await.unwrap();
    let tables = ["campaign_kols", "conversations", "messages", "deliverables"];
    let mut before = Vec::new();
    for table in tables {
        before.push(t.count(table).await.unwrap());
    }
    let kols_before = db.campaign_kols(id).await.unwrap();

    let applied = db.run_migrations().await.unwrap();
    assert_eq!(applied, vec!["20261130000010".to_owned()]);
    let mut after = Vec::new();
    for table in tables {
        after.push(t.count(table).await.unwrap());
    }
    assert_eq!(after, before, "every row kept");
    assert_eq!(db.campaign_kols(id).await.unwrap(), kols_before);
    assert!(
        kols_before
            .iter()
            .filter(|k| k.status == CampaignKolStatus::Confirmed)
            .count()
            == 2,
        "{kols_before:?}"
    );
    let err = t.execute_sql(&confirm(c, 3_000)).await.unwrap_err();
    assert!(
        matches!(&err, DbError::RuleViolation { constraint, .. } if constraint == "campaign_kols_agreed_in_conversation"),
        "{err}"
    );
}

/// What a second client could write, refused by the database itself.
#[tokio::test]
async fn the_database_keeps_the_campaign_rules() {
    let t = test_db().await;
    let db = t.db();
    let a = db.create_kol(&kol(1)).await.unwrap().id;
    let b = db.create_kol(&kol(2)).await.unwrap().id;
    let id = planned_campaign(
        db,
        new_campaign("Glow", 100_000, false),
        &[(a, "tiktok_video", 1_000)],
    )
    .await;
    let conv = negotiate(db, id, a, 1_000).await;
    let d = db
        .agree_terms(conv, terms(1_000))
        .await
        .unwrap()
        .deliverables[0]
        .id();
    db.shortlist(id, &[b]).await.unwrap();
    let cases = [
        (
            "INSERT INTO campaigns (name, client, budget_integer, starts_on, ends_on, status) \
          VALUES ('x', 'y', 1, '2026-12-01', '2026-12-31', 'running')",
            "campaigns_start_draft",
        ),
        (
            "INSERT INTO campaigns (name, client, budget_integer, starts_on, ends_on) \
          VALUES ('x', 'y', 1, '2026-12-31', '2026-12-01')",
            "campaigns_period",
        ),
        (
            "INSERT INTO campaigns (name, client, budget_integer, starts_on, ends_on) \
          VALUES (' x', 'y', 1, '2026-12-01', '2026-12-31')",
            "campaigns_name_text",
        ),
        (
            &*format!("UPDATE campaigns SET status = 'draft' WHERE id = {id}"),
            "campaigns_status_transition",
        ),
        (
            &*format!("UPDATE campaigns SET budget_integer = 1 WHERE id = {id}"),
            "campaigns_fixed_once_running",
        ),
        (
            &*format!("DELETE FROM campaign_plan_items WHERE campaign_id = {id}"),
            "campaign_plans_fixed",
        ),
        (
            &*format!("UPDATE campaign_plans SET gap = 0 WHERE campaign_id = {id}"),
            "campaign_plans_fixed",
        ),
        (
            &*format!(
                "UPDATE campaign_kols SET status = 'dropped' WHERE campaign_id = {id} AND kol_id = {a}"
            ),
            "campaign_kols_status_transition",
        ),
        (
            &*format!(
                "UPDATE campaign_kols SET status = 'confirmed', agreed_price_integer = 1 WHERE campaign_id = {id} AND kol_id = {b}"
            ),
            "campaign_kols_status_transition",
        ),
        (
            &*format!("DELETE FROM campaign_kols WHERE campaign_id = {id} AND kol_id = {b}"),
            "campaign_kols_append_only",
        ),
        (
            &*format!(
                "INSERT INTO conversations (campaign_id, kol_id, channel) VALUES ({id}, {a}, 'dm')"
            ),
            "conversations_one_open_per_campaign_kol",
        ),
        (
            &*format!("UPDATE conversations SET campaign_id = campaign_id + 1 WHERE id = {conv}"),
            "conversations_campaign_fixed",
        ),
        (
            &*format!(
                "INSERT INTO deliverables (campaign_id, kol_id, conversation_id, item, due_on) VALUES ({id}, {a}, {conv}, 'ig_post', '2026-12-10')"
            ),
            "deliverables_planned_item_fkey",
        ),
        (
            &*format!(
                "UPDATE deliverables SET status = 'posted', post_url = 'https://www.instagram.com/p/x/', posted_at = now() WHERE id = {d}"
            ),
            "deliverables_post_on_platform",
        ),
        // Links kol-core would read as another host, or not at all (migration 9).
        (
            &*format!(
                "UPDATE deliverables SET status = 'posted', post_url = 'https://www.tiktok.com:99999/@a/video/1', posted_at = now() WHERE id = {d}"
            ),
            "deliverables_post_on_platform",
        ),
        (
            &*format!(
                "UPDATE deliverables SET status = 'posted', post_url = 'https://www.T\u{130}KTOK.com/@a/video/1', posted_at = now() WHERE id = {d}"
            ),
            "deliverables_post_on_platform",
        ),
        (
            &*format!("UPDATE deliverables SET status = 'posted' WHERE id = {d}"),
            "deliverables_post_when_posted",
        ),
        (
            &*format!(
                "UPDATE deliverables SET status = 'verified', post_url = 'https://www.tiktok.com/@a/video/1', posted_at = now() WHERE id = {d}"
            ),
            "deliverables_status_transition",
        ),
        (
            &*format!("DELETE FROM deliverables WHERE id = {d}"),
            "deliverables_append_only",
        ),
        (
            &*format!(
                "INSERT INTO post_snapshots (deliverable_id, captured_at, views, likes, comments, shares, saves) VALUES ({d}, now(), 1, 1, 1, 1, 1)"
            ),
            "post_snapshots_of_posted",
        ),
    ];
    for (sql, constraint) in cases {
        let err = t.execute_sql(sql).await.expect_err(sql);
        match &err {
            DbError::RuleViolation { constraint: c, .. }
            | DbError::UniqueViolation { constraint: c, .. } => {
                assert_eq!(c, constraint, "{sql}: {err}");
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
    // Posted on the right platform, the snapshot rules: not before the post, never negative,
    // never edited.
    db.post_deliverable(d, "https://www.tiktok.com/@creator_1/video/1", at(5, 10))
        .await
        .unwrap();
    // The post is checked against the creator's platform, which is now fixed.
    match t
        .execute_sql(&format!(
            "UPDATE kols SET platform = 'instagram' WHERE id = {a}"
        ))
        .await
    {
        Err(DbError::RuleViolation { constraint, .. }) => {
            assert_eq!(constraint, "kols_platform_fixed")
        }
        other => panic!("{other:?}"),
    }
    assert!(!db.deliverables(id).await.unwrap().is_empty());
    let snap = |captured: &str, views: i64| {
        format!(
            "INSERT INTO post_snapshots (deliverable_id, captured_at, views, likes, comments, shares, saves) VALUES ({d}, '{captured}', {views}, 0, 0, 0, 0)"
        )
    };
    for (sql, constraint) in [
        (
            snap("2026-12-05 09:00:00+00", 1),
            "post_snapshots_after_post",
        ),
        (
            snap("2026-12-06 09:00:00+00", -1),
            "post_snapshots_counts_non_negative",
        ),
    ] {
        match t.execute_sql(&sql).await {
            Err(DbError::RuleViolation { constraint: c, .. }) => assert_eq!(c, constraint),
            other => panic!("{sql}: {other:?}"),
        }
    }
    t.execute_sql(&snap("2026-12-06 09:00:00+00", 5))
        .await
        .unwrap();
    match t.execute_sql("UPDATE post_snapshots SET views = 6").await {
        Err(DbError::RuleViolation { constraint, .. }) => {
            assert_eq!(constraint, "post_snapshots_append_only")
        }
        other => panic!("{other:?}"),
    }
}

/// The campaign's status is read under a lock: a confirmation waiting for a transaction that
/// closes the campaign sees it closed and is refused; and confirmations under REPEATABLE READ
/// (whose snapshot would hide a concurrent confirmation) are refused outright.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_racing_the_campaigns_end_is_refused() {
    let t = test_db().await;
    let db = t.db();
    let a = db.create_kol(&kol(1)).await.unwrap().id;
    let id = planned_campaign(
        db,
        new_campaign("Glow", 100_000, false),
        &[(a, "tiktok_video", 1_000)],
    )
    .await;
    negotiate(db, id, a, 1_000).await;
    let url = t.url();
    let connect = || async {
        let (client, connection) = tokio_postgres::connect(url.expose(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    };
    let confirm = format!(
        "UPDATE campaign_kols SET status = 'confirmed', agreed_price_integer = 1000 \
         WHERE campaign_id = {id} AND kol_id = {a}"
    );

    let repeatable = connect().await;
    repeatable
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .await
        .unwrap();
    let err = repeatable.execute(&confirm, &[]).await.unwrap_err();
    let constraint = err.as_db_error().and_then(|e| e.constraint());
    assert_eq!(constraint, Some("kol_isolation_level"), "{err}");
    repeatable.batch_execute("ROLLBACK").await.unwrap();

    let closer = connect().await;
    closer.batch_execute("BEGIN").await.unwrap();
    closer
        .execute(
            &format!("UPDATE campaigns SET status = 'done' WHERE id = {id}"),
            &[],
        )
        .await
        .unwrap();
    let confirmer = connect().await;
    let waiting = tokio::spawn(async move { confirmer.execute(&confirm, &[]).await });
    // Wait until the confirmation waits for the campaign's lock, then close the campaign.
    let watcher = connect().await;
    loop {
        let row = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap();
        if row.get::<_, i64>(0) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    closer.batch_execute("COMMIT").await.unwrap();
    let err = waiting.await.unwrap().unwrap_err();
    let constraint = err.as_db_error().and_then(|e| e.constraint());
    assert_eq!(constraint, Some("campaign_kols_campaign_open"), "{err}");
    let kols = db.campaign_kols(id).await.unwrap();
    assert!(
        kols.iter()
            .all(|k| k.status != CampaignKolStatus::Confirmed),
        "{kols:?}"
    );
}

/// A release-1 database with conversations in every state upgrades: every conversation and
/// message is kept with its contents, they sit in one campaign, each creator with the status
/// of its latest conversation, and the outreach API goes on working on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_one_conversations_move_into_a_campaign_with_every_row() {
    let t = TestDatabase::empty().await.unwrap();
    let db = t.db();
    migrate_to(db, "2026-11-25-000006").await.unwrap();
    let statements = [
        "INSERT INTO kols (id, platform, username) VALUES (1, 'tiktok', 'a'), (2, 'tiktok', 'b'), \
         (3, 'instagram', 'c'), (4, 'youtube', 'd'), (5, 'x', 'e')",
        // a: closed without agreement, then a new open one (negotiating).
        "INSERT INTO conversations (id, kol_id, channel, created_at) VALUES (1, 1, 'dm', '2026-10-01')",
        "UPDATE conversations SET status = 'closed' WHERE id = 1",
        "INSERT INTO conversations (id, kol_id, channel, created_at) VALUES (2, 1, 'line', '2026-11-01')",
        "UPDATE conversations SET status = 'negotiating', proposed_deliverables = '1 video', \
         proposed_timeline = 'Dec', proposed_price_integer = 5000 WHERE id = 2",
        // b: confirmed.
        "INSERT INTO conversations (id, kol_id, channel) VALUES (3, 2, 'email')",
        "UPDATE conversations SET status = 'negotiating', proposed_deliverables = '2 posts', \
         proposed_timeline = 'Nov', proposed_price_integer = 9000 WHERE id = 3",
        "UPDATE conversations SET status = 'confirmed', agreed_deliverables = '2 posts', \
         agreed_timeline = 'Nov', agreed_price_integer = 8500 WHERE id = 3",
        // c: confirmed, then closed (a done deal).
        "INSERT INTO conversations (id, kol_id, channel) VALUES (4, 3, 'dm')",
        "UPDATE conversations SET status = 'negotiating', proposed_deliverables = 'reel', \
         proposed_timeline = 'Oct', proposed_price_integer = 3000 WHERE id = 4",
        "UPDATE conversations SET status = 'confirmed', agreed_deliverables = 'reel', \
         agreed_timeline = 'Oct', agreed_price_integer = 3000 WHERE id = 4",
        "UPDATE conversations SET status = 'closed' WHERE id = 4",
        // d: contacted. e: never contacted.
        "INSERT INTO conversations (id, kol_id, channel) VALUES (5, 4, 'phone')",
        "INSERT INTO messages (conversation_id, direction, body, created_at) SELECT id, 'out', \
         'hello ' || id, created_at + interval '1 hour' FROM conversations",
        "SELECT setval('conversations_id_seq', 5)",
        "INSERT INTO messages (conversation_id, direction, body) VALUES (2, 'in', 'rates?'), \
         (3, 'in', 'deal'), (5, 'in', 'later')",
    ];
    for sql in statements {
        t.execute_sql(sql).await.expect(sql);
    }
    let dump = "SELECT concat_ws('|', id, kol_id, channel, status, created_at, last_message_at, \
                proposed_deliverables, proposed_timeline, proposed_price_integer, \
                agreed_deliverables, agreed_timeline, agreed_price_integer) AS line \
                FROM conversations UNION ALL SELECT concat_ws('|', 'm', id, conversation_id, \
                direction, body, created_at) FROM messages ORDER BY 1";
    let before: Vec<Line> = kol_db::testing::query_sql(db, dump).await.unwrap();
    assert_eq!(before.len(), 5 + 8);

    db.run_migrations().await.unwrap();
    let after: Vec<Line> = kol_db::testing::query_sql(db, dump).await.unwrap();
    assert_eq!(after, before, "every conversation and message, unchanged");

    let legacy = db.campaigns(&Default::default()).await.unwrap();
    assert_eq!(legacy.len(), 1);
    let campaign = &legacy[0];
    assert_eq!(campaign.details.name.as_str(), "Outreach before campaigns");
    assert_eq!(campaign.status, CampaignStatus::Running);
    let members: Vec<_> = db
        .campaign_kols(campaign.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.kol_id.get(), m.status, m.agreed_price.map(|p| p.get())))
        .collect();
    assert_eq!(
        members,
        vec![
            (1, CampaignKolStatus::Contacted, None),
            (2, CampaignKolStatus::Confirmed, Some(8_500)),
            (3, CampaignKolStatus::Confirmed, Some(3_000)),
            (4, CampaignKolStatus::Contacted, None),
        ]
    );
    // The API works on them: a's negotiation is agreed in the campaign it moved to.
    let thread = db.thread(ConversationId(2)).await.unwrap();
    assert_eq!(thread.conversation.campaign_id(), campaign.id);
    assert_eq!(thread.messages.len(), 2);
    let agreed = db
        .agree_terms(ConversationId(2), terms(5_000))
        .await
        .unwrap();
    assert_eq!(agreed.campaign_kol.status, CampaignKolStatus::Confirmed);
    assert!(
        agreed.deliverables.is_empty(),
        "no plan entry, no deliverable"
    );
    // e can be contacted in a new campaign, and in the legacy one.
    let fresh = campaign_for(db, "Glow", 10_000).await;
    db.open_conversation(fresh, KolId(5), Channel::Dm, &body("hi"))
        .await
        .unwrap();
    db.open_conversation(campaign.id, KolId(5), Channel::Dm, &body("hi"))
        .await
        .unwrap();
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}
