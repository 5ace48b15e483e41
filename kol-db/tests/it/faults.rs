//! The fault suite: a real server, loopback only, each scenario bounded in time.
//!
//! - The backend of a catalogue import, of a CSV import and of a terms agreement is ended with
//!   `pg_terminate_backend` mid-run (inside a statement, held there by a `pg_sleep` trigger that
//!   the test creates in its own database only, or between two batches while the transaction is
//!   idle): the call fails with a typed, retryable error, nothing of it is visible, the same
//!   `Database` serves the next call, and the same call run again succeeds.
//! - A throw-away server is restarted twice (once killed as in a crash, once shut down fast)
//!   while clients run outreach operations: every acknowledged write is there afterwards, no
//!   conversation is half-written, the errors of the outage are typed and retryable, and the same
//!   `Database` serves again without being rebuilt.
//!
//! Each scenario prints one `FAULTS` line with its figures (`--no-capture` shows them);
//! RELIABILITY.md records a run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Text};
use kol_core::{
    CampaignId, CampaignKolStatus, Channel, ConversationId, ConversationStatus, KolId, NewMessage,
};
use kol_db::testing::{TestDatabase, execute_sql, query_sql};
use kol_db::{CsvImportOptions, Database, DbConfig, DbError, ImportOptions};

use crate::common::{body, full_entry, kol, rng, running_campaign, terms, test_db};
use crate::scratch_cluster::{ScratchCluster, StopMode};

/// How long a test waits for something that should happen within milliseconds (a bound, so a
/// broken fault injection fails the test instead of hanging it; not a speed assertion).
const WITHIN: Duration = Duration::from_secs(20);

/// The tables of the catalogue and of the outreach.
const CATALOGUE: [&str; 3] = ["kols", "kol_media", "rate_cards"];
const OUTREACH: [&str; 4] = ["conversations", "messages", "campaign_kols", "deliverables"];

/// Row count and a digest of every row's text, per table: equal fingerprints mean equal
/// contents.
async fn fingerprint(db: &Database, tables: &[&str]) -> Vec<(String, i64, String)> {
    #[derive(QueryableByName)]
    struct Print {
        #[diesel(sql_type = BigInt)]
        n: i64,
        #[diesel(sql_type = Text)]
        digest: String,
    }
    let mut out = Vec::new();
    for table in tables {
        let rows: Vec<Print> = query_sql(
            db,
            &format!(
                "SELECT count(*) AS n, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') \
                 AS digest FROM {table} t"
            ),
        )
        .await
        .unwrap();
        out.push(((*table).to_owned(), rows[0].n, rows[0].digest.clone()));
    }
    out
}

/// Creates, in the test's own database only, a trigger on `table` that holds any row matching
/// `when` (a trigger `WHEN` condition) in `pg_sleep` for up to 30 s: the statement, and its
/// transaction, stay open until the test ends the backend.
async fn arm_hook(t: &TestDatabase, table: &str, events: &str, when: &str) {
    t.execute_sql(
        "CREATE OR REPLACE FUNCTION fault_hook() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$",
    )
    .await
    .unwrap();
    t.execute_sql(&format!(
        "CREATE TRIGGER fault_hook BEFORE {events} ON {table} FOR EACH ROW WHEN ({when}) \
         EXECUTE FUNCTION fault_hook()"
    ))
    .await
    .unwrap();
}

async fn disarm_hook(t: &TestDatabase, table: &str) {
    t.execute_sql(&format!("DROP TRIGGER fault_hook ON {table}"))
        .await
        .unwrap();
}

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

/// Waits for a backend of the test database matching `condition` (on `pg_stat_activity`),
/// ends it with `pg_terminate_backend` from another connection, and returns its pid.
async fn terminate(t: &TestDatabase, condition: &str) -> i32 {
    let started = Instant::now();
    let pid = loop {
        let rows: Vec<Pid> = query_sql(
            t.db(),
            &format!(
                "SELECT pid FROM pg_stat_activity WHERE datname = '{}' \
                 AND pid <> pg_backend_pid() AND {condition}",
                t.name()
            ),
        )
        .await
        .unwrap();
        if let Some(row) = rows.first() {
            break row.pid;
        }
        assert!(
            started.elapsed() < WITHIN,
            "no backend with {condition} appeared"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let ended = t
        .execute_sql(&format!("SELECT pg_terminate_backend({pid})"))
        .await
        .unwrap();
    assert_eq!(ended, 1);
    pid
}

/// A backend held by [`arm_hook`]'s trigger.
const SLEEPING: &str = "wait_event = 'PgSleep'";
/// A backend between two statements of an open transaction.
const IDLE_IN_TRANSACTION: &str = "state = 'idle in transaction'";

/// The error of a call whose backend was ended: typed as a connection failure, and retryable.
fn assert_connection_lost(err: &DbError, what: &str) {
    assert!(
        err.is_connection() && err.is_retryable(),
        "{what}: expected a retryable connection error, got {err:?}"
    );
}

/// A `Database` of the test database with a pool of one: the next call must get a working
/// connection from the same pool after a broken one.
async fn single_connection_pool(t: &TestDatabase) -> Database {
    Database::connect_with(DbConfig::new(t.url()).max_connections(1))
        .await
        .unwrap()
}

/// Where a fault hits a bulk job.
#[derive(Debug, Clone, Copy)]
enum Hit {
    /// Inside a statement (held by the `pg_sleep` trigger).
    InStatement,
    /// Between two batches, while the transaction is idle.
    BetweenBatches,
}

async fn catalogue_import_fault(hit: Hit) {
    let t = test_db().await;
    let db = single_connection_pool(&t).await;
    let options = ImportOptions {
        batch_size: 200,
        ..ImportOptions::default()
    };
    // A catalogue already there.
    let mut r = rng(11);
    let first: Vec<_> = (0..300).map(|i| full_entry(i, &mut r)).collect();
    db.import_catalogue(first, &options, |_| {}).await.unwrap();
    let before = fingerprint(&db, &CATALOGUE).await;
    // The re-import updates those 300 and adds 900, in 6 batches of 200.
    let mut r = rng(12);
    let entries: Vec<_> = (0..1_200).map(|i| full_entry(i, &mut r)).collect();
    if matches!(hit, Hit::InStatement) {
        // Holds the first creator of the fifth batch.
        arm_hook(&t, "kols", "INSERT OR UPDATE", "NEW.username = 'user.800'").await;
    }
    let written = Arc::new(AtomicU64::new(0));
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let import = tokio::spawn({
        let (db, entries, options, written) = (
            db.clone(),
            entries.clone(),
            options.clone(),
            written.clone(),
        );
        async move {
            let gate = entries.into_iter().enumerate().map(move |(i, e)| {
                if matches!(hit, Hit::BetweenBatches) && i == 800 {
                    // Four batches written; the transaction is idle until the test says go
                    // (a slow producer; `block_in_place` lets the runtime's other tasks run).
                    tx.send(()).unwrap();
                    tokio::task::block_in_place(|| go_rx.recv_timeout(WITHIN)).unwrap();
                }
                e
            });
            db.import_catalogue(gate, &options, |p| {
                written.store(p.creators, Ordering::Relaxed);
            })
            .await
        }
    });
    let pid = match hit {
        Hit::InStatement => terminate(&t, SLEEPING).await,
        Hit::BetweenBatches => {
            tokio::task::spawn_blocking(move || rx.recv_timeout(WITHIN).unwrap())
                .await
                .unwrap();
            let pid = terminate(&t, IDLE_IN_TRANSACTION).await;
            go_tx.send(()).unwrap();
            pid
        }
    };
    let err = tokio::time::timeout(WITHIN, import)
        .await
        .expect("the import ends once its backend is gone")
        .unwrap()
        .unwrap_err();
    assert_connection_lost(&err, "catalogue import");
    let creators_written = written.load(Ordering::Relaxed);
    assert_eq!(creators_written, 800, "the fault hit after four batches");
    // Nothing of the import is visible, not even the four batches written before the fault.
    assert_eq!(fingerprint(&db, &CATALOGUE).await, before);
    assert_eq!(db.count_kols().await.unwrap(), 300);
    if matches!(hit, Hit::InStatement) {
        disarm_hook(&t, "kols").await;
    }
    // The same call again, on the same `Database`, succeeds.
    let report = db
        .import_catalogue(entries, &options, |_| {})
        .await
        .unwrap();
    assert_eq!((report.inserted, report.updated), (900, 300));
    assert_eq!(db.count_kols().await.unwrap(), 1_200);
    eprintln!(
        "FAULTS catalogue import ({hit:?}): backend {pid} terminated after {creators_written} \
         creators written; error: {err}; rows of the import visible: 0; retry: {} inserted, {} \
         updated",
        report.inserted, report.updated
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_import_terminated_in_a_statement_keeps_nothing_and_a_retry_succeeds() {
    catalogue_import_fault(Hit::InStatement).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_import_terminated_between_batches_keeps_nothing_and_a_retry_succeeds() {
    catalogue_import_fault(Hit::BetweenBatches).await;
}

/// A CSV file of creators `range`, followers `base + i`.
fn csv_rows(range: std::ops::Range<usize>, base: usize) -> String {
    let mut s = String::new();
    for i in range {
        s.push_str(&format!(
            "tiktok,csv_{i},Creator {i},{},line:csv{i}\n",
            base + i
        ));
    }
    s
}

const CSV_HEADER: &str = "platform,username,display_name,followers,contact\n";

async fn csv_import_fault(hit: Hit) {
    let t = test_db().await;
    let db = single_connection_pool(&t).await;
    let options = CsvImportOptions::default();
    let first = format!("{CSV_HEADER}{}", csv_rows(0..500, 1_000));
    db.import_csv(first.as_bytes(), &options, |_| {})
        .await
        .unwrap();
    let before = fingerprint(&db, &CATALOGUE).await;
    // Updates the 500 (new follower counts) and adds 2,500; batches of 1,000 rows.
    let head = format!("{CSV_HEADER}{}", csv_rows(0..1_500, 50_000));
    let tail = csv_rows(1_500..3_000, 50_000);
    if matches!(hit, Hit::InStatement) {
        // Holds a row of the third batch.
        arm_hook(&t, "kols", "INSERT OR UPDATE", "NEW.username = 'csv_2500'").await;
    }
    let (mut writer, reader) = tokio::io::duplex(64 * 1024);
    let rows_written = Arc::new(AtomicU64::new(0));
    let import = tokio::spawn({
        let (db, head, options) = (db.clone(), head.clone(), options.clone());
        let rows_written = rows_written.clone();
        async move {
            use tokio::io::AsyncReadExt;
            let input = std::io::Cursor::new(head.into_bytes()).chain(reader);
            db.import_csv(input, &options, |rows| {
                rows_written.store(rows, Ordering::Relaxed);
            })
            .await
        }
    });
    let pid = match hit {
        Hit::InStatement => {
            let feed = tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                // The import may fail before it has read everything: a broken pipe is fine.
                let _ = writer.write_all(tail.as_bytes()).await;
            });
            let pid = terminate(&t, SLEEPING).await;
            feed.await.unwrap();
            pid
        }
        Hit::BetweenBatches => {
            // Once the first batch is written, the import waits for more input, its transaction
            // idle.
            let started = Instant::now();
            while rows_written.load(Ordering::Relaxed) < 1_000 {
                assert!(
                    started.elapsed() < WITHIN,
                    "the first batch was not written"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let pid = terminate(&t, IDLE_IN_TRANSACTION).await;
            use tokio::io::AsyncWriteExt;
            let _ = writer.write_all(tail.as_bytes()).await;
            drop(writer);
            pid
        }
    };
    let err = tokio::time::timeout(WITHIN, import)
        .await
        .expect("the import ends once its backend is gone")
        .unwrap()
        .unwrap_err();
    assert_connection_lost(&err, "CSV import");
    let rows_written = rows_written.load(Ordering::Relaxed);
    assert_eq!(
        rows_written,
        if matches!(hit, Hit::InStatement) {
            2_000
        } else {
            1_000
        }
    );
    assert_eq!(fingerprint(&db, &CATALOGUE).await, before);
    assert_eq!(db.count_kols().await.unwrap(), 500);
    if matches!(hit, Hit::InStatement) {
        disarm_hook(&t, "kols").await;
    }
    let all = format!("{head}{}", csv_rows(1_500..3_000, 50_000));
    let report = db
        .import_csv(all.as_bytes(), &options, |_| {})
        .await
        .unwrap();
    assert_eq!(report.inserted, 2_500);
    assert_eq!(report.updated.len(), 500);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(db.count_kols().await.unwrap(), 3_000);
    eprintln!(
        "FAULTS CSV import ({hit:?}): backend {pid} terminated after {rows_written} rows \
         written; error: {err}; rows of the import \
         visible: 0; retry: {} inserted, {} updated",
        report.inserted,
        report.updated.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_import_terminated_in_a_statement_keeps_nothing_and_a_retry_succeeds() {
    csv_import_fault(Hit::InStatement).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_import_terminated_between_batches_keeps_nothing_and_a_retry_succeeds() {
    csv_import_fault(Hit::BetweenBatches).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terms_agreement_terminated_mid_transaction_is_all_or_nothing() {
    let t = test_db().await;
    let db = single_connection_pool(&t).await;
    let k = db.create_kol(&kol(1)).await.unwrap();
    let campaign = running_campaign(&db).await;
    let id = db
        .open_conversation(campaign, k.id, Channel::Dm, &body("hi"))
        .await
        .unwrap()
        .thread
        .conversation
        .id();
    db.propose_terms(id, terms(5_000)).await.unwrap();
    let before = fingerprint(&db, &OUTREACH).await;
    // The agreement has updated the conversation and written its message when it confirms the
    // creator in the campaign: the hook holds it there.
    arm_hook(&t, "campaign_kols", "UPDATE", "NEW.status = 'confirmed'").await;
    let agree = tokio::spawn({
        let db = db.clone();
        async move { db.agree_terms(id, terms(5_000)).await }
    });
    let pid = terminate(&t, SLEEPING).await;
    let err = tokio::time::timeout(WITHIN, agree)
        .await
        .expect("the agreement ends once its backend is gone")
        .unwrap()
        .unwrap_err();
    assert_connection_lost(&err, "agreement");
    // All or nothing: neither the status and terms, nor the message, nor the confirmation.
    assert_eq!(fingerprint(&db, &OUTREACH).await, before);
    let conversation = db.conversation(id).await.unwrap();
    assert_eq!(conversation.status(), ConversationStatus::Negotiating);
    assert!(conversation.agreed().is_none());
    disarm_hook(&t, "campaign_kols").await;
    // The pool's one connection was the one ended: the same `Database` serves the retry.
    let agreed = db.agree_terms(id, terms(5_000)).await.unwrap();
    assert_eq!(agreed.conversation.status(), ConversationStatus::Confirmed);
    assert_eq!(agreed.campaign_kol.status, CampaignKolStatus::Confirmed);
    assert_eq!(db.message_count(id).await.unwrap(), 3);
    eprintln!(
        "FAULTS agreement: backend {pid} terminated mid-transaction; error: {err}; partial \
         writes visible: 0; retry: confirmed"
    );
}

/// A write the server acknowledged (its call returned `Ok`).
#[derive(Debug, Clone)]
enum Ack {
    Kol(KolId),
    Opened(ConversationId, String),
    Message(ConversationId, String),
    Proposed(ConversationId, i64),
    Agreed(ConversationId, i64),
}

/// What the clients of the restart scenario saw.
#[derive(Debug, Default)]
struct Ledger {
    /// Calls made (retries included).
    tried: u64,
    acked: Vec<Ack>,
    /// Failed calls, all retryable.
    retryable_errors: u64,
    /// The distinct messages of those errors (a sample for the report).
    error_kinds: std::collections::BTreeSet<String>,
    /// Errors that are not retryable (must stay empty).
    unexpected: Vec<String>,
    /// Steps whose call failed but whose write turned out to have been committed (the
    /// acknowledgement was lost with the connection): found on the retry.
    committed_unacknowledged: u64,
}

/// Runs `op` until it returns anything but a retryable error; records every call and error.
/// Returns the last result and whether an earlier call failed (then a refusal may mean that
/// the earlier call was committed).
async fn until_settled<T, F>(
    ledger: &Mutex<Ledger>,
    mut op: impl FnMut() -> F,
) -> (Result<T, DbError>, bool)
where
    F: std::future::Future<Output = Result<T, DbError>>,
{
    let started = Instant::now();
    let mut failed = false;
    loop {
        ledger.lock().unwrap().tried += 1;
        match op().await {
            Err(e) if e.is_retryable() => {
                {
                    let mut l = ledger.lock().unwrap();
                    l.retryable_errors += 1;
                    let kind = format!("{e:?}");
                    let kind: String = kind.chars().take(160).collect();
                    l.error_kinds.insert(kind);
                }
                failed = true;
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "still failing after 60 s: {e}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return (other, failed),
        }
    }
}

/// One client: creates creators and takes each through the outreach (open with a first
/// message, a reply, a proposal, an agreement) until `stop`.
async fn outreach_client(
    db: Database,
    campaign: CampaignId,
    worker: usize,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
) {
    let unexpected = |ledger: &Mutex<Ledger>, what: &str, e: DbError| {
        ledger
            .lock()
            .unwrap()
            .unexpected
            .push(format!("{what}: {e:?}"));
    };
    let ack = |a: Ack| ledger.lock().unwrap().acked.push(a);
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        seq += 1;
        let n = worker * 100_000 + seq;
        let new_kol = kol(n);
        let kol_id = match until_settled(&ledger, || db.create_kol(&new_kol)).await {
            (Ok(k), _) => {
                ack(Ack::Kol(k.id));
                k.id
            }
            (Err(DbError::UniqueViolation { .. }), true) => {
                ledger.lock().unwrap().committed_unacknowledged += 1;
                db.kol_by_handle(&new_kol.handle).await.unwrap().id
            }
            (Err(e), _) => return unexpected(&ledger, "create_kol", e),
        };
        let first = format!("hello creator {n}");
        let first_body = body(&first);
        let open = until_settled(&ledger, || {
            db.open_conversation(campaign, kol_id, Channel::Dm, &first_body)
        })
        .await;
        let id = match open {
            (Ok(o), _) => {
                let id = o.thread.conversation.id();
                ack(Ack::Opened(id, first));
                id
            }
            (
                Err(DbError::OpenConversationExists {
                    conversation_id, ..
                }),
                true,
            ) => {
                ledger.lock().unwrap().committed_unacknowledged += 1;
                conversation_id
            }
            (Err(e), _) => return unexpected(&ledger, "open_conversation", e),
        };
        let reply = format!("reply of creator {n}");
        let message = NewMessage::inbound(body(&reply));
        match until_settled(&ledger, || db.add_message(id, &message)).await {
            (Ok(_), _) => ack(Ack::Message(id, reply)),
            (Err(e), _) => return unexpected(&ledger, "add_message", e),
        }
        let price = 1_000 + n as i64 % 1_000;
        match until_settled(&ledger, || db.propose_terms(id, terms(price))).await {
            (Ok(_), _) => ack(Ack::Proposed(id, price)),
            (Err(e), _) => return unexpected(&ledger, "propose_terms", e),
        }
        match until_settled(&ledger, || db.agree_terms(id, terms(price))).await {
            (Ok(_), _) => ack(Ack::Agreed(id, price)),
            (Err(DbError::InvalidInput(_)), true)
                if db.conversation(id).await.unwrap().status() == ConversationStatus::Confirmed =>
            {
                ledger.lock().unwrap().committed_unacknowledged += 1;
            }
            (Err(e), _) => return unexpected(&ledger, "agree_terms", e),
        }
    }
}

/// Waits until the clients have `n` acknowledged writes.
async fn until_acked(ledger: &Mutex<Ledger>, n: usize, what: &str) {
    let started = Instant::now();
    while ledger.lock().unwrap().acked.len() < n {
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "{what}: the clients did not get {n} writes acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(QueryableByName)]
struct HalfWritten {
    #[diesel(sql_type = BigInt)]
    without_messages: i64,
    #[diesel(sql_type = BigInt)]
    confirmation_mismatch: i64,
    #[diesel(sql_type = BigInt)]
    status_message_mismatch: i64,
    #[diesel(sql_type = BigInt)]
    terms_missing: i64,
    #[diesel(sql_type = BigInt)]
    conversations: i64,
    #[diesel(sql_type = BigInt)]
    messages: i64,
}

/// Conversations that only a half-applied write could leave: no first message, a status the
/// campaign's record of the creator disagrees with, a status without the message stating its
/// terms or such a message without the status, a status without its terms.
const HALF_WRITTEN: &str = "SELECT \
    (SELECT count(*) FROM conversations c WHERE NOT EXISTS \
        (SELECT 1 FROM messages m WHERE m.conversation_id = c.id)) AS without_messages, \
    (SELECT count(*) FROM conversations c JOIN campaign_kols ck \
        ON ck.campaign_id = c.campaign_id AND ck.kol_id = c.kol_id \
        WHERE (c.status = 'confirmed') <> (ck.status = 'confirmed')) AS confirmation_mismatch, \
    (SELECT count(*) FROM conversations c WHERE \
        NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'out') \
        OR (c.status IN ('negotiating', 'confirmed')) <> EXISTS (SELECT 1 FROM messages m \
            WHERE m.conversation_id = c.id AND m.body LIKE 'Proposed terms:%') \
        OR (c.status = 'confirmed') <> EXISTS (SELECT 1 FROM messages m \
            WHERE m.conversation_id = c.id AND m.body LIKE 'Agreed terms:%')) \
        AS status_message_mismatch, \
    (SELECT count(*) FROM conversations c WHERE \
        (c.status IN ('negotiating', 'confirmed') AND c.proposed_price_integer IS NULL) \
        OR (c.status = 'confirmed' AND c.agreed_price_integer IS NULL)) AS terms_missing, \
    (SELECT count(*) FROM conversations) AS conversations, \
    (SELECT count(*) FROM messages) AS messages";

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn outreach_through_server_restarts_keeps_every_acknowledged_write() {
    let cluster = ScratchCluster::start();
    let mut config = DbConfig::new(cluster.url("127.0.0.1", "sslmode=disable")).max_connections(4);
    config.acquire_timeout = Duration::from_secs(2);
    config.connect_timeout = Duration::from_secs(2);
    let db = Database::connect_with(config).await.unwrap();
    db.run_migrations().await.unwrap();
    let campaign = running_campaign(&db).await;

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    const CLIENTS: usize = 3;
    let clients: Vec<_> = (1..=CLIENTS)
        .map(|w| {
            tokio::spawn(outreach_client(
                db.clone(),
                campaign,
                w,
                ledger.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let mut restarts = Vec::new();
    let mut acked = 0;
    for mode in [StopMode::Immediate, StopMode::Fast] {
        acked += 60;
        until_acked(&ledger, acked, "before the restart").await;
        let down = Instant::now();
        // Blocking calls on the test's own thread: the clients run on the runtime's workers.
        cluster.stop(mode);
        std::thread::sleep(Duration::from_millis(1_000));
        cluster.start_again();
        restarts.push((mode, down.elapsed()));
        acked = ledger.lock().unwrap().acked.len() + 60;
        // The same `Database` serves again.
        until_acked(&ledger, acked, "after the restart").await;
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        tokio::time::timeout(Duration::from_secs(60), c)
            .await
            .expect("the clients stop")
            .unwrap();
    }
    let ledger = Arc::into_inner(ledger).unwrap().into_inner().unwrap();
    assert!(
        ledger.unexpected.is_empty(),
        "non-retryable errors: {:#?}",
        ledger.unexpected
    );
    assert!(
        ledger.retryable_errors > 0,
        "the restarts were seen by the clients"
    );
    assert!(
        ledger
            .error_kinds
            .iter()
            .all(|k| k.starts_with("Connection(")),
        "an outage is a connection error: {:#?}",
        ledger.error_kinds
    );

    // Every acknowledged write is there.
    let mut lost = Vec::new();
    for a in &ledger.acked {
        let there = match a {
            Ack::Kol(id) => db.kol(*id).await.is_ok(),
            Ack::Opened(id, text) | Ack::Message(id, text) => db
                .thread(*id)
                .await
                .unwrap()
                .messages
                .iter()
                .any(|m| m.body.as_str() == text),
            Ack::Proposed(id, price) => {
                db.conversation(*id).await.unwrap().proposed() == Some(&terms(*price))
            }
            Ack::Agreed(id, price) => {
                let c = db.conversation(*id).await.unwrap();
                c.status() == ConversationStatus::Confirmed && c.agreed() == Some(&terms(*price))
            }
        };
        if !there {
            lost.push(a.clone());
        }
    }
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:#?}");
    let confirmed_in_campaign = db
        .campaign_kols(campaign)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.status == CampaignKolStatus::Confirmed)
        .count();
    let agreed = ledger
        .acked
        .iter()
        .filter(|a| matches!(a, Ack::Agreed(..)))
        .count();
    assert!(confirmed_in_campaign >= agreed);

    // No half-written conversation.
    let h: Vec<HalfWritten> = query_sql(&db, HALF_WRITTEN).await.unwrap();
    let h = &h[0];
    assert_eq!(
        (
            h.without_messages,
            h.confirmation_mismatch,
            h.status_message_mismatch,
            h.terms_missing
        ),
        (0, 0, 0, 0),
        "half-written conversations"
    );
    // Still serving.
    execute_sql(&db, "SELECT 1").await.unwrap();
    eprintln!(
        "FAULTS server restarts {:?}: {} calls tried, {} writes acknowledged ({} agreements), {} \
         retryable errors during the outages, 0 other errors, {} writes committed whose \
         acknowledgement was lost (found on retry), {} conversations and {} messages after \
         recovery, acknowledged writes lost: {}; half-written conversations: 0; error kinds: {:#?}",
        restarts,
        ledger.tried,
        ledger.acked.len(),
        agreed,
        ledger.retryable_errors,
        ledger.committed_unacknowledged,
        h.conversations,
        h.messages,
        lost.len(),
        ledger.error_kinds
    );
}
