//! Rows written before the rules of migration 7 (by a second client, or by this crate before it
//! knew better): the upgrade keeps every one of them, and a row kol-db cannot read is reported
//! with its table and id instead of failing the query that met it with a generic error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kol_core::{ConversationId, KolId};
use kol_db::testing::{TestDatabase, migrate_to};
use kol_db::{DbError, KolQuery, Page, PipelineQuery};

/// The last migration of the first release.
const RELEASE_1: &str = "2026-11-25-000006";

/// Rows of the outreach tables and creators.
async fn counts(t: &TestDatabase) -> Vec<i64> {
    let mut v = Vec::new();
    for table in ["kols", "conversations", "messages"] {
        v.push(t.count(table).await.unwrap());
    }
    v
}

fn named(err: &DbError) -> (&'static str, i64) {
    match err {
        DbError::InvalidStoredData { table, id, .. } => (table, *id),
        other => panic!("expected InvalidStoredData naming the row, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_the_release_accepted_survive_the_upgrade_and_are_reported_by_id() {
    let t = TestDatabase::empty().await.unwrap();
    let db = t.db();
    migrate_to(db, RELEASE_1).await.unwrap();
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    // What migration 6 let a second client write, each breaking a rule of migration 7.
    for sql in [
        "INSERT INTO kols (id, platform, username) VALUES (1, 'tiktok', 'fine')",
        "INSERT INTO kols (id, platform, username, created_at) VALUES (2, 'tiktok', 'inf', 'infinity')",
        "INSERT INTO kols (id, platform, username, extra) VALUES (3, 'tiktok', 'big', '{\"n\": 1e400}')",
        &format!(
            "INSERT INTO kols (id, platform, username, extra) VALUES (4, 'tiktok', 'deep', '{{\"a\": {deep}}}')"
        ),
        "INSERT INTO kols (id, platform, username, display_name) VALUES (5, 'tiktok', 'nbsp', E'\\u00A0')",
        "INSERT INTO conversations (id, kol_id, channel) VALUES (1, 1, 'dm')",
        "INSERT INTO messages (id, conversation_id, direction, body) VALUES (1, 1, 'out', 'hello')",
        "INSERT INTO messages (id, conversation_id, direction, body) VALUES (2, 1, 'in', E'\\u202F\\u2007')",
        "INSERT INTO conversations (id, kol_id, channel) VALUES (2, 5, 'dm')",
        "INSERT INTO messages (id, conversation_id, direction, body, created_at) VALUES (3, 2, 'out', 'hi', 'infinity')",
        "INSERT INTO conversations (id, kol_id, channel) VALUES (3, 2, 'dm')",
        "UPDATE conversations SET status = 'negotiating', proposed_deliverables = E'\\t', \
         proposed_timeline = 'Dec', proposed_price_integer = 1 WHERE id = 3",
    ] {
        t.execute_sql(sql).await.expect(sql);
    }
    let before = counts(&t).await;
    assert_eq!(before, vec![5, 3, 3]);

    let applied = db.run_migrations().await.unwrap();
    assert_eq!(
        applied.first().map(String::as_str),
        Some("20261129000007"),
        "{applied:?}"
    );
    assert_eq!(counts(&t).await, before, "every row kept");

    // Each unreadable row is named; the readable one reads.
    assert_eq!(
        db.kol(KolId(1))
            .await
            .unwrap()
            .profile
            .handle
            .username()
            .as_str(),
        "fine"
    );
    for id in [2, 3, 4] {
        assert_eq!(named(&db.kol(KolId(id)).await.unwrap_err()), ("kols", id));
    }
    // A page holding an unreadable row names it (the infinite time sorts nowhere special:
    // pages are by id).
    let err = db
        .list_kols(&KolQuery::default(), Page::first(10))
        .await
        .unwrap_err();
    assert_eq!(named(&err).0, "kols");
    // The no-break space display name was refused by kol-core's trimming only as "empty": it
    // reads back as no display name, as kol-core would have stored it.
    assert_eq!(db.kol(KolId(5)).await.unwrap().profile.display_name, None);

    assert_eq!(
        named(&db.thread(ConversationId(1)).await.unwrap_err()),
        ("messages", 2)
    );
    // The message at `infinity` moved its conversation's last_message_at there too.
    assert_eq!(
        named(&db.thread(ConversationId(2)).await.unwrap_err()),
        ("conversations", 2)
    );
    assert_eq!(
        named(&db.conversation(ConversationId(3)).await.unwrap_err()),
        ("conversations", 3)
    );
    // The pipeline sorts `infinity` first: the page names that conversation.
    let err = db.pipeline(&PipelineQuery::default()).await.unwrap_err();
    assert_eq!(named(&err), ("conversations", 2));

    // The rules those rows break still hold for every new write.
    for (sql, constraint) in [
        (
            "INSERT INTO kols (platform, username, created_at) VALUES ('tiktok', 'inf2', 'infinity')",
            "kols_created_at_valid",
        ),
        (
            "INSERT INTO kols (platform, username, extra) VALUES ('tiktok', 'big2', '{\"n\": 1e400}')",
            "kols_extra_valid",
        ),
        (
            "INSERT INTO messages (conversation_id, direction, body) VALUES (1, 'out', E'\\u00A0')",
            "messages_body_text",
        ),
    ] {
        match t.execute_sql(sql).await {
            Err(DbError::RuleViolation { constraint: c, .. }) => assert_eq!(c, constraint),
            other => panic!("{sql}: {other:?}"),
        }
    }
    assert_eq!(counts(&t).await, before);
}

/// A database of the first release with only valid rows upgrades with every constraint
/// validated (none left NOT VALID), and ends with the schema of a fresh install.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_database_upgrades_with_every_rule_validated() {
    let t = TestDatabase::empty().await.unwrap();
    migrate_to(t.db(), RELEASE_1).await.unwrap();
    t.execute_sql(
        "INSERT INTO kols (id, platform, username, display_name, extra) \
         VALUES (1, 'tiktok', 'a', 'A', '{\"n\": [1, 2.5, {\"x\": null}]}')",
    )
    .await
    .unwrap();
    t.execute_sql("INSERT INTO conversations (id, kol_id, channel) VALUES (1, 1, 'dm')")
        .await
        .unwrap();
    t.execute_sql(
        "INSERT INTO messages (conversation_id, direction, body) VALUES (1, 'out', ' hello ')",
    )
    .await
    .unwrap();
    t.db().run_migrations().await.unwrap();
    assert_eq!(
        t.execute_sql("SELECT 1 FROM pg_constraint WHERE NOT convalidated")
            .await
            .unwrap(),
        0,
        "every constraint validated"
    );
    let fresh = TestDatabase::new().await.unwrap();
    assert_eq!(schema_of(&t).await, schema_of(&fresh).await);
    assert_eq!(
        t.db()
            .thread(ConversationId(1))
            .await
            .unwrap()
            .messages
            .len(),
        1
    );
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
pub(crate) struct SchemaLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// Tables, columns, constraints, indexes and triggers of the public schema, as text.
pub(crate) async fn schema_of(t: &TestDatabase) -> Vec<SchemaLine> {
    kol_db::testing::query_sql(
        t.db(),
        "SELECT line FROM (
            SELECT format('column %s.%s %s %s %s', table_name, column_name, data_type,
                          is_nullable, coalesce(column_default, '')) AS line
              FROM information_schema.columns WHERE table_schema = 'public'
            UNION ALL
            SELECT format('constraint %s %s %s', conrelid::regclass, conname,
                          pg_get_constraintdef(oid))
              FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            UNION ALL
            SELECT format('index %s', pg_get_indexdef(indexrelid))
              FROM pg_index WHERE indrelid::regclass::text NOT LIKE 'pg_%'
               AND indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
            UNION ALL
            SELECT format('trigger %s', pg_get_triggerdef(oid))
              FROM pg_trigger WHERE NOT tgisinternal
            UNION ALL
            SELECT format('function %s %s', p.proname, md5(p.prosrc))
              FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
        ) s ORDER BY line",
    )
    .await
    .unwrap()
}
