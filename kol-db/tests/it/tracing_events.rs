//! kol-db's `tracing` spans and events: every database call opens a span, the notable steps
//! (migrations, import phases, an approximate search falling back to the exact one) are events,
//! and no field of any of them holds a password, whatever the caller's URL held.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use kol_core::{Embedding, KolFilter, KolSearch, SearchMode, SearchRequest};
use kol_db::{Database, DbConfig, ImportOptions};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use crate::common::{full_entry, rng, test_db};

/// Everything a subscriber saw, one line per span or event: its name or message, then its
/// fields.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<String>>>);

impl Recorded {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

/// A subscriber that records every span and event at every level.
struct Recorder {
    recorded: Recorded,
    next_id: std::sync::atomic::AtomicU64,
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields(format!("span {}:", span.metadata().name()));
        span.record(&mut fields);
        self.recorded.push(fields.0);
        Id::from_u64(
            1 + self
                .next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        )
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut fields = Fields("record:".to_owned());
        values.record(&mut fields);
        self.recorded.push(fields.0);
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(format!("event {}:", event.metadata().level()));
        event.record(&mut fields);
        self.recorded.push(fields.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

fn recorder() -> (Recorded, tracing::subscriber::DefaultGuard) {
    let recorded = Recorded::default();
    let guard = tracing::subscriber::set_default(Recorder {
        recorded: recorded.clone(),
        next_id: std::sync::atomic::AtomicU64::new(0),
    });
    (recorded, guard)
}

// One thread: the subscriber is this thread's default.
#[tokio::test(flavor = "current_thread")]
async fn database_calls_are_traced_without_secrets() {
    let test = test_db().await;
    let (recorded, _guard) = recorder();

    // A URL with a password (the test server trusts loopback, so it is not checked): the span
    // of the connection shows the URL with the password hidden.
    let mut url = url::Url::parse(test.url().expose()).unwrap();
    url.set_password(Some("hunter2-in-url")).unwrap();
    let db = Database::connect_with(DbConfig::new(url.as_str()))
        .await
        .unwrap();
    // A refused connection: its error event names no password either.
    let mut refused = url.clone();
    refused.set_port(Some(1)).unwrap();
    let mut config = DbConfig::new(refused.as_str());
    config.connect_timeout = std::time::Duration::from_secs(2);
    assert!(Database::connect_with(config).await.is_err());

    let mut rng = rng(7);
    let entries: Vec<_> = (0..30).map(|i| full_entry(i, &mut rng)).collect();
    db.import_catalogue(entries, &ImportOptions::default(), |_| {})
        .await
        .unwrap();
    // Filters nobody passes: the approximate search finds too few creators and answers exactly.
    let query = Embedding::new(vec![0.5; Embedding::DIM]).unwrap();
    let mut request = SearchRequest::new(query, 5);
    request.mode = SearchMode::Approximate {
        probes: 1,
        ef_search: 10,
    };
    request.filter = KolFilter {
        min_followers: Some(kol_core::Followers::new(1_000_000_000).unwrap()),
        ..KolFilter::default()
    };
    let found = KolSearch::search_kols(&db, &request).await.unwrap();
    assert!(found.is_empty());
    let _ = db.kol(kol_core::KolId(i64::MAX)).await.unwrap_err();

    let lines = recorded.lines();
    let all = lines.join("\n");
    for expected in [
        "span connect_with:",
        "span import_catalogue:",
        "catalogue import: loaded",
        "span search_kols:",
        "falling back to the exact search",
        "span kol: id=",
    ] {
        assert!(all.contains(expected), "no `{expected}` in:\n{all}");
    }
    // The failed lookup is reported as an error event of its span.
    assert!(all.contains("not found"), "{all}");
    assert!(
        !all.contains("hunter2"),
        "a password in a tracing field:\n{all}"
    );
}
