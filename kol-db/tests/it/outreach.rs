//! Outreach under concurrency and faults: one open conversation per creator, no lost message,
//! transitions that serialize, and a connection killed mid-transition that leaves no trace.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use crate::common::{body, kol, running_campaign, terms, test_db};
use kol_core::{
    Channel, ConversationStatus, CoreError, Direction, MessageBody, NewMessage, PriceThb, Terms,
    Transition,
};
use kol_db::testing::{TestDatabase, execute_sql};
use kol_db::{Database, DbConfig, DbError, PipelineQuery, TransitionOptions};

#[tokio::test]
async fn a_negotiation_from_first_message_to_confirmed_terms() {
    let t = test_db().await;
    let db = t.db();
    let k = db.create_kol(&kol(1)).await.unwrap();
    let c = running_campaign(db).await;
    let opened = db
        .open_conversation(c, k.id, Channel::Line, &body("Hi! Campaign for a serum?"))
        .await
        .unwrap();
    let id = opened.thread.conversation.id();
    assert_eq!(
        opened.thread.conversation.status(),
        ConversationStatus::Contacted
    );
    assert_eq!(
        opened.thread.conversation.last_message_at(),
        Some(opened.thread.messages[0].created_at)
    );

    let reply = db
        .add_message(id, &NewMessage::inbound(body("Sure, rates attached")))
        .await
        .unwrap();
    assert_eq!(reply.last_message_at, reply.message.created_at);
    assert_eq!(reply.message.direction, Direction::In);

    let proposed = db.propose_terms(id, terms(12_000)).await.unwrap();
    assert_eq!(
        proposed.conversation.status(),
        ConversationStatus::Negotiating
    );
    assert_eq!(proposed.conversation.proposed(), Some(&terms(12_000)));
    let note = proposed.message.unwrap();
    assert_eq!(note.direction, Direction::Out);
    assert!(
        note.body
            .as_str()
            .starts_with("Proposed terms: 2 TikTok videos"),
        "{}",
        note.body
    );
    assert!(note.body.as_str().contains("12000 THB"));

    db.propose_terms(id, terms(11_000)).await.unwrap();
    let agreed = db.agree_terms(id, terms(11_500)).await.unwrap();
    assert_eq!(agreed.conversation.status(), ConversationStatus::Confirmed);
    assert_eq!(agreed.conversation.agreed(), Some(&terms(11_500)));
    assert_eq!(agreed.conversation.proposed(), Some(&terms(11_000)));

    let thread = db.thread(id).await.unwrap();
    let texts: Vec<&str> = thread.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(texts.len(), 5, "{texts:?}");
    assert!(texts[4].starts_with("Agreed terms:"));
    assert!(
        thread
            .messages
            .windows(2)
            .all(|w| (w[0].created_at, w[0].id) <= (w[1].created_at, w[1].id))
    );
    assert_eq!(
        thread.conversation.last_message_at(),
        Some(thread.messages[4].created_at)
    );

    let pipeline = db
        .pipeline(&PipelineQuery {
            statuses: vec![ConversationStatus::Confirmed],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        pipeline.iter().map(|c| c.id()).collect::<Vec<_>>(),
        vec![id]
    );
    assert!(
        db.pipeline(&PipelineQuery {
            statuses: vec![ConversationStatus::Contacted],
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty()
    );
}

#[tokio::test]
async fn invalid_transitions_and_bad_input_change_nothing() {
    let t = test_db().await;
    let db = t.db();
    let k = db.create_kol(&kol(1)).await.unwrap();
    let c = running_campaign(db).await;
    let id = db
        .open_conversation(c, k.id, Channel::Dm, &body("hello"))
        .await
        .unwrap()
        .thread
        .conversation
        .id();
    let before = db.thread(id).await.unwrap();

    let err = db.agree_terms(id, terms(1)).await.unwrap_err();
    assert!(
        matches!(
            err,
            DbError::InvalidInput(CoreError::InvalidTransition {
                from: ConversationStatus::Contacted,
                to: ConversationStatus::Confirmed
            })
        ),
        "{err}"
    );
    assert_eq!(db.thread(id).await.unwrap(), before);

    // Bad input is refused by the types before anything reaches the database.
    assert!(matches!(
        MessageBody::new("   \n"),
        Err(CoreError::InvalidText {
            field: "message body",
            ..
        })
    ));
    assert!(MessageBody::new("x".repeat(MessageBody::MAX_CHARS + 1)).is_err());
    assert!(matches!(
        PriceThb::new(-100),
        Err(CoreError::OutOfRange { field: "price", .. })
    ));
    assert!(Terms::new("", "soon", PriceThb::ZERO).is_err());
    assert_eq!(db.thread(id).await.unwrap(), before);

    // A closed conversation never reopens; a fresh one may be opened afterwards.
    db.close_conversation(id).await.unwrap();
    for tr in [
        Transition::Propose(terms(1)),
        Transition::Agree(terms(1)),
        Transition::Close,
    ] {
        let err = db
            .transition(id, tr, TransitionOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            DbError::InvalidInput(CoreError::InvalidTransition {
                from: ConversationStatus::Closed,
                ..
            })
        ));
    }
    let again = db
        .open_conversation(c, k.id, Channel::Email, &body("New campaign!"))
        .await
        .unwrap();
    assert_ne!(again.thread.conversation.id(), id);
    let history = db.kol_history(k.id).await.unwrap();
    assert_eq!(
        history.iter().map(|c| c.status()).collect::<Vec<_>>(),
        [ConversationStatus::Closed, ConversationStatus::Contacted]
    );

    // Unknown ids.
    let missing = kol_core::ConversationId(987_654);
    assert!(matches!(
        db.add_message(missing, &NewMessage::inbound(body("hi")))
            .await,
        Err(DbError::NotFound { .. })
    ));
    assert!(matches!(
        db.close_conversation(missing).await,
        Err(DbError::NotFound { .. })
    ));
    assert!(matches!(
        db.open_conversation(c, kol_core::KolId(987_654), Channel::Dm, &body("hi"))
            .await,
        Err(DbError::NotFound { entity: "kol", .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_opens_give_exactly_one_conversation() {
    let t = test_db().await;
    let db = Database::connect_with(DbConfig::new(t.url()).max_connections(20))
        .await
        .unwrap();
    let k = db.create_kol(&kol(1)).await.unwrap();
    let c = running_campaign(&db).await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.open_conversation(c, k.id, Channel::Dm, &body(&format!("hello from task {i}")))
                    .await
            })
        })
        .collect();
    let mut won = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(opened) => won.push(opened.thread.conversation.id()),
            Err(DbError::OpenConversationExists {
                kol_id,
                conversation_id,
                ..
            }) => {
                assert_eq!(kol_id, k.id);
                conflicts += 1;
                won.push(conversation_id); // names the winner
            }
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert_eq!(conflicts, 49);
    assert_eq!(
        won.iter().collect::<HashSet<_>>().len(),
        1,
        "every conflict names the one winner"
    );
    assert_eq!(t.count("conversations").await.unwrap(), 1);
    assert_eq!(
        t.count("messages").await.unwrap(),
        1,
        "the losers wrote no message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_writers_store_every_message_exactly_once() {
    let t = test_db().await;
    let db = Database::connect_with(DbConfig::new(t.url()).max_connections(20))
        .await
        .unwrap();
    let k = db.create_kol(&kol(1)).await.unwrap();
    let c = running_campaign(&db).await;
    let id = db
        .open_conversation(c, k.id, Channel::Dm, &body("start"))
        .await
        .unwrap()
        .thread
        .conversation
        .id();
    // 20 writers x 25 messages; the 10,000-message run with its throughput figure is
    // `cargo bench -p kol-benches --bench outreach`.
    let tasks: Vec<_> = (0..20)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    let dir = if i % 2 == 0 {
                        Direction::Out
                    } else {
                        Direction::In
                    };
                    let m = NewMessage {
                        direction: dir,
                        body: body(&format!("writer {w} message {i}")),
                    };
                    db.add_message(id, &m).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let thread = db.thread(id).await.unwrap();
    assert_eq!(thread.messages.len(), 501);
    let distinct: HashSet<&str> = thread.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(distinct.len(), 501, "no message stored twice");
    let newest = thread.messages.iter().map(|m| m.created_at).max().unwrap();
    assert_eq!(thread.conversation.last_message_at(), Some(newest));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agree_and_close_race_exactly_one_wins() {
    let t = test_db().await;
    let db = t.db().clone();
    let k = db.create_kol(&kol(1)).await.unwrap();
    for round in 0..10 {
        // A confirmed creator is not contacted again in the same campaign: one per round.
        let c = running_campaign(&db).await;
        let id = db
            .open_conversation(c, k.id, Channel::Dm, &body("hi"))
            .await
            .unwrap()
            .thread
            .conversation
            .id();
        db.propose_terms(id, terms(1_000)).await.unwrap();
        let expect = TransitionOptions {
            expected_status: Some(ConversationStatus::Negotiating),
        };
        let (a, c) = tokio::join!(
            tokio::spawn({
                let db = db.clone();
                async move {
                    db.transition(id, Transition::Agree(terms(900)), expect)
                        .await
                }
            }),
            tokio::spawn({
                let db = db.clone();
                async move { db.transition(id, Transition::Close, expect).await }
            }),
        );
        let (a, c) = (a.unwrap(), c.unwrap());
        assert!(
            a.is_ok() != c.is_ok(),
            "round {round}: exactly one wins: {a:?} / {c:?}"
        );
        let loser = a.as_ref().err().or(c.as_ref().err()).unwrap();
        assert!(
            matches!(
                loser,
                DbError::StaleConversation {
                    expected: ConversationStatus::Negotiating,
                    ..
                }
            ),
            "{loser}"
        );
        let conv = db.conversation(id).await.unwrap();
        match conv.status() {
            ConversationStatus::Confirmed => assert_eq!(conv.agreed(), Some(&terms(900))),
            ConversationStatus::Closed => assert!(conv.agreed().is_none()),
            other => panic!("unexpected status {other}"),
        }
        if conv.status() == ConversationStatus::Confirmed {
            db.close_conversation(id).await.unwrap();
        }
    }
}

/// Waits until a backend of `db_name` is blocked on a lock, and returns its pid.
async fn blocked_backend(admin: &Database, db_name: &str) -> i32 {
    use diesel::QueryableByName;
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    for _ in 0..200 {
        let rows: Vec<Pid> = kol_db::testing::query_sql(
            admin,
            &format!("SELECT pid FROM pg_stat_activity WHERE datname = '{db_name}' AND wait_event_type = 'Lock'"),
        )
        .await
        .unwrap();
        if let Some(p) = rows.first() {
            return p.pid;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no blocked backend appeared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_killed_mid_transition_leaves_no_trace() {
    let t: TestDatabase = test_db().await;
    let db = Database::connect_with(DbConfig::new(t.url()).max_connections(2))
        .await
        .unwrap();
    let k = db.create_kol(&kol(1)).await.unwrap();
    let c = running_campaign(&db).await;
    let id = db
        .open_conversation(c, k.id, Channel::Dm, &body("hi"))
        .await
        .unwrap()
        .thread
        .conversation
        .id();
    let before = db.thread(id).await.unwrap();

    // A second client holds a lock that the transition's message insert must wait for, so the
    // transition is stopped after its UPDATE of the conversation and before its commit.
    let (client, connection) = tokio_postgres::connect(t.url().expose(), tokio_postgres::NoTls)
        .await
        .unwrap();
    let driver = tokio::spawn(connection);
    client
        .batch_execute("BEGIN; LOCK TABLE messages IN SHARE MODE")
        .await
        .unwrap();

    let transition = tokio::spawn({
        let db = db.clone();
        async move { db.propose_terms(id, terms(5_000)).await }
    });
    let pid = blocked_backend(t.db(), t.name()).await;
    let killed = execute_sql(t.db(), &format!("SELECT pg_terminate_backend({pid})"))
        .await
        .unwrap();
    assert_eq!(killed, 1);
    client.batch_execute("ROLLBACK").await.unwrap();
    drop(client);
    let _ = driver.await;

    let err = transition.await.unwrap().unwrap_err();
    assert!(
        err.is_connection(),
        "the caller gets a connection error, got {err:?}"
    );
    // No partial change: neither the status/terms update nor the message.
    assert_eq!(db.thread(id).await.unwrap(), before);
    // The pool serves the next calls normally.
    let done = db.propose_terms(id, terms(5_000)).await.unwrap();
    assert_eq!(done.conversation.status(), ConversationStatus::Negotiating);
    assert_eq!(db.message_count(id).await.unwrap(), 2);
}
