//! The one error type of `kol-db`.

use kol_core::{
    CampaignId, CampaignKolStatus, CampaignStatus, ConversationId, CoreError, DeliverableId,
    DeliverableItem, KolId,
};

/// Everything that can go wrong while talking to the database.
///
/// Database errors are mapped at the boundary: a caller matches on what happened (not found, a
/// unique conflict, a rule of the database refused the write, stored data that fails kol-core
/// validation, a connection problem), never on Diesel or PostgreSQL internals.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The requested row does not exist.
    #[error("{entity} {key} not found")]
    NotFound {
        /// What was looked for (`"kol"`, `"conversation"`...).
        entity: &'static str,
        /// How it was looked for (an id or a handle).
        key: String,
    },
    /// The creator already has a conversation that is not closed in this campaign.
    #[error(
        "KOL {kol_id} already has an open conversation ({conversation_id}) in campaign {campaign_id}"
    )]
    OpenConversationExists {
        /// The campaign.
        campaign_id: CampaignId,
        /// The creator.
        kol_id: KolId,
        /// Its open conversation there.
        conversation_id: ConversationId,
    },
    /// The campaign is not in a status that allows the operation (a plan saved on a running
    /// campaign, a creator confirmed before the campaign runs, outreach on a finished one...).
    #[error("campaign {campaign_id} is {status}: {reason}")]
    CampaignNotOpen {
        /// The campaign.
        campaign_id: CampaignId,
        /// Its status.
        status: CampaignStatus,
        /// What was refused.
        reason: &'static str,
    },
    /// The creator's status in the campaign does not allow the operation (a dropped creator
    /// contacted again, a confirmed one dropped...).
    #[error("KOL {kol_id} is {status} in campaign {campaign_id}: {reason}")]
    KolNotAvailable {
        /// The campaign.
        campaign_id: CampaignId,
        /// The creator.
        kol_id: KolId,
        /// Its status there.
        status: CampaignKolStatus,
        /// What was refused.
        reason: &'static str,
    },
    /// Confirming the creator would take the campaign over its budget (and the agreement did not
    /// allow it). Nothing changed.
    #[error(
        "confirming KOL {kol_id} at {price} THB takes campaign {campaign_id} to {} THB, over its budget of {budget} THB",
        committed + price
    )]
    OverBudget {
        /// The campaign.
        campaign_id: CampaignId,
        /// The creator.
        kol_id: KolId,
        /// The campaign's budget.
        budget: u64,
        /// What its other confirmed creators cost.
        committed: u64,
        /// The agreed price.
        price: u64,
    },
    /// The creator is confirmed for another client's campaign in an overlapping period, and
    /// one of the two campaigns is exclusive.
    #[error(
        "KOL {kol_id} is confirmed for campaign {other_campaign_id} of another client in an overlapping period; campaign {campaign_id} or that one is exclusive"
    )]
    ExclusivityConflict {
        /// The campaign asking.
        campaign_id: CampaignId,
        /// The creator.
        kol_id: KolId,
        /// The campaign it is confirmed for.
        other_campaign_id: CampaignId,
    },
    /// A deliverable for an item that is not the creator's plan entry in the campaign.
    #[error("KOL {kol_id} has no planned item {item} in campaign {campaign_id}")]
    NotPlanned {
        /// The campaign.
        campaign_id: CampaignId,
        /// The creator.
        kol_id: KolId,
        /// The item asked for.
        item: DeliverableItem,
    },
    /// A metric snapshot that cannot be recorded: the deliverable is not posted, or the
    /// snapshot was captured before the post went up, or another snapshot with the same capture
    /// time holds other counts.
    #[error("snapshot of deliverable {deliverable_id} refused: {reason}")]
    SnapshotRefused {
        /// The deliverable.
        deliverable_id: DeliverableId,
        /// Why.
        reason: String,
    },
    /// The conversation is no longer in the status the caller acted on: another transition got
    /// there first. Nothing changed; read it again and decide.
    #[error("conversation {id} is {actual}, not {expected} as expected (changed meanwhile)")]
    StaleConversation {
        /// The conversation.
        id: ConversationId,
        /// The status the caller expected.
        expected: kol_core::ConversationStatus,
        /// The status it has.
        actual: kol_core::ConversationStatus,
    },
    /// A write would break a unique index.
    #[error("conflict with an existing row ({constraint}): {message}")]
    UniqueViolation {
        /// The unique constraint or index.
        constraint: String,
        /// PostgreSQL's message.
        message: String,
    },
    /// A write was refused by a rule the database enforces: a CHECK constraint, a trigger, a
    /// NOT NULL column, or a foreign key (a missing parent, or a delete that would lose history).
    #[error("rule {constraint} refused the change: {message}")]
    RuleViolation {
        /// The constraint or rule name.
        constraint: String,
        /// PostgreSQL's message.
        message: String,
    },
    /// The caller's input is invalid (checked before anything is written).
    #[error("invalid input: {0}")]
    InvalidInput(#[from] CoreError),
    /// An argument is out of its documented range (a page size of zero, `k = 0`...).
    #[error("invalid argument {name}: {reason}")]
    InvalidArgument {
        /// The argument.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored row fails kol-core validation (written by another client, or corrupted).
    #[error("invalid data stored in {table} row {id}: {source}")]
    InvalidStoredData {
        /// The table.
        table: &'static str,
        /// The row's id.
        id: i64,
        /// What is wrong with it.
        source: CoreError,
    },
    /// The database URL cannot be used (it is never echoed: it may hold a password).
    #[error("invalid database URL {url}: {reason}")]
    InvalidUrl {
        /// The URL with its password replaced by `***`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// TLS could not be set up (a bad root certificate file, an unsupported `sslmode`...).
    #[error("TLS setup failed: {0}")]
    Tls(#[source] Cause),
    /// The server could not be reached, the connection broke, or the pool could not provide one.
    #[error("database connection failed: {0}")]
    Connection(#[source] Cause),
    /// Running or reverting migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[source] Cause),
    /// The CSV input cannot be imported: it is empty, or its header is over the size limits,
    /// not UTF-8, or lacks a required column or has an unknown or repeated one (bad rows are
    /// reported in the import report instead).
    #[error("CSV input: {0}")]
    Csv(String),
    /// Reading the CSV input failed (an I/O error of the reader); nothing was kept.
    #[error("reading the CSV input failed: {0}")]
    CsvRead(#[source] std::io::Error),
    /// The transaction lost a race with a concurrent one (a serialization failure or a
    /// deadlock): PostgreSQL rolled it back, nothing was written, and running it again may
    /// succeed ([`DbError::is_retryable`]).
    #[error("transaction conflict, safe to retry: {0}")]
    TransactionConflict(#[source] Cause),
    /// The server cancelled a statement that ran longer than the connection's
    /// `statement_timeout` ([`DbConfig::statement_timeout`](crate::DbConfig::statement_timeout)).
    /// Its transaction was rolled back: nothing of the call was written. Not retryable as such:
    /// the same call would likely take as long again.
    #[error("statement cancelled after the statement timeout: {0}")]
    StatementTimeout(#[source] Cause),
    /// A statement waited longer than the connection's `lock_timeout`
    /// ([`DbConfig::lock_timeout`](crate::DbConfig::lock_timeout)) for a lock another
    /// transaction holds. Its transaction was rolled back: nothing of the call was written, and
    /// running it again may succeed ([`DbError::is_retryable`]).
    #[error("lock wait cancelled after the lock timeout, safe to retry: {0}")]
    LockTimeout(#[source] Cause),
    /// Any other database error (PostgreSQL's message, or the driver's).
    #[error("database error: {0}")]
    Query(#[source] Cause),
}

/// `Result` with [`DbError`] as the error.
pub type Result<T, E = DbError> = std::result::Result<T, E>;

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match error {
            Error::NotFound => Self::NotFound {
                entity: "row",
                key: "matching the query".to_owned(),
            },
            Error::DatabaseError(kind, info) => {
                let constraint = info.constraint_name().unwrap_or("unnamed").to_owned();
                let message = info.message().to_owned();
                match kind {
                    Kind::UniqueViolation => Self::UniqueViolation {
                        constraint,
                        message,
                    },
                    Kind::CheckViolation
                    | Kind::NotNullViolation
                    | Kind::ForeignKeyViolation
                    | Kind::RestrictViolation
                    | Kind::ExclusionViolation => Self::RuleViolation {
                        constraint,
                        message,
                    },
                    Kind::UnableToSendCommand | Kind::ClosedConnection => {
                        Self::Connection(Cause::server(kind, info))
                    }
                    Kind::SerializationFailure => {
                        Self::TransactionConflict(Cause::server(kind, info))
                    }
                    // SQLSTATE 40P01, which diesel reports as an unknown kind.
                    _ if message.starts_with("deadlock detected") => {
                        Self::TransactionConflict(Cause::server(kind, info))
                    }
                    // SQLSTATE 57014 and 55P03, which diesel reports as unknown kinds: told
                    // apart by the server's message (English, PostgreSQL's default
                    // `lc_messages`).
                    _ if message.starts_with("canceling statement due to statement timeout") => {
                        Self::StatementTimeout(Cause::server(kind, info))
                    }
                    _ if message.starts_with("canceling statement due to lock timeout") => {
                        Self::LockTimeout(Cause::server(kind, info))
                    }
                    _ if is_connection_loss(&message) => {
                        Self::Connection(Cause::server(kind, info))
                    }
                    _ => Self::Query(Cause::server(kind, info)),
                }
            }
            Error::BrokenTransactionManager => {
                Self::Connection(Cause::new(Error::BrokenTransactionManager))
            }
            other => Self::Query(Cause::new(other)),
        }
    }
}

/// Messages of the server errors that end a session (SQLSTATE classes 08 and 57P0x), which
/// diesel-async reports as unknown database errors.
fn is_connection_loss(message: &str) -> bool {
    const MARKERS: [&str; 5] = [
        "terminating connection",
        "the database system is shutting down",
        "server closed the connection",
        "connection closed",
        "connection reset",
    ];
    let lower = message.to_ascii_lowercase();
    MARKERS.iter().any(|m| lower.contains(m))
}

impl From<diesel::ConnectionError> for DbError {
    fn from(error: diesel::ConnectionError) -> Self {
        Self::Connection(Cause::new(error))
    }
}

/// The underlying error of a [`DbError`]: what PostgreSQL, the driver, the pool, the TLS library
/// or the migration runner reported. It displays that error's message and keeps its chain of
/// sources ([`std::error::Error::source`]); its type is kol-db's own, so no driver type is part
/// of kol-db's API. No `Cause` holds a password: connection settings are never in its message.
pub struct Cause {
    /// The error itself: displayed as the cause, its own sources are the cause's sources.
    inner: Box<dyn std::error::Error + Send + Sync + 'static>,
    /// PostgreSQL's error code when the server reported the error.
    server: Option<Box<ServerError>>,
}

/// What the server said beyond its message, when it said it.
#[derive(Debug, Clone)]
struct ServerError {
    kind: String,
    detail: Option<String>,
    hint: Option<String>,
    constraint: Option<String>,
    table: Option<String>,
}

/// A cause that is only a message (kol-db's own words, or a task that failed without an error
/// value).
#[derive(Debug)]
struct Message(String);

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}

/// A cause in kol-db's words around the error that caused it: displayed as `words: error`, its
/// sources are the error's own.
#[derive(Debug)]
struct Context {
    words: String,
    error: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl std::fmt::Display for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.words, self.error)
    }
}

impl std::error::Error for Context {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl Cause {
    /// Wraps an error as a cause.
    pub(crate) fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            inner: Box::new(error),
            server: None,
        }
    }

    /// Wraps a boxed error as a cause.
    pub(crate) fn boxed(error: Box<dyn std::error::Error + Send + Sync + 'static>) -> Self {
        Self {
            inner: error,
            server: None,
        }
    }

    /// `error`, explained by kol-db's `words` (shown as `words: error`).
    pub(crate) fn context(
        words: impl Into<String>,
        error: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::new(Context {
            words: words.into(),
            error: Box::new(error),
        })
    }

    /// A cause that is only a message.
    pub(crate) fn message(message: impl Into<String>) -> Self {
        Self::new(Message(message.into()))
    }

    /// An error the server reported, with its details.
    fn server(
        kind: diesel::result::DatabaseErrorKind,
        info: Box<dyn diesel::result::DatabaseErrorInformation + Send + Sync>,
    ) -> Self {
        let server = ServerError {
            kind: format!("{kind:?}"),
            detail: info.details().map(str::to_owned),
            hint: info.hint().map(str::to_owned),
            constraint: info.constraint_name().map(str::to_owned),
            table: info.table_name().map(str::to_owned),
        };
        Self {
            inner: Box::new(Message(info.message().to_owned())),
            server: Some(Box::new(server)),
        }
    }

    /// The server's detail line (`DETAIL:` in psql), when the server reported the error and
    /// gave one.
    pub fn detail(&self) -> Option<&str> {
        self.server.as_ref()?.detail.as_deref()
    }

    /// The server's hint (`HINT:` in psql), when it gave one.
    pub fn hint(&self) -> Option<&str> {
        self.server.as_ref()?.hint.as_deref()
    }

    /// The constraint the server named, when it named one.
    pub fn constraint(&self) -> Option<&str> {
        self.server.as_ref()?.constraint.as_deref()
    }

    /// The table the server named, when it named one.
    pub fn table(&self) -> Option<&str> {
        self.server.as_ref()?.table.as_deref()
    }

    /// Whether the server reported this error (rather than the driver, the pool or kol-db).
    pub fn is_from_server(&self) -> bool {
        self.server.is_some()
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.inner, f)
    }
}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Cause");
        d.field("message", &self.inner.to_string());
        if let Some(server) = &self.server {
            d.field("kind", &server.kind)
                .field("detail", &server.detail)
                .field("hint", &server.hint)
                .field("constraint", &server.constraint)
                .field("table", &server.table);
        }
        d.finish()
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

impl DbError {
    /// Whether the error comes from the connection (worth retrying on a fresh one), not from the
    /// request.
    pub fn is_connection(&self) -> bool {
        matches!(self, Self::Connection(_))
    }

    /// Whether running the same operation again may succeed: a lost connection, a transaction
    /// conflict or a lock timeout.
    ///
    /// A transaction conflict or a lock timeout wrote nothing. A lost connection wrote nothing
    /// either, except when it was lost while the server was committing (after the commit, before
    /// its reply arrived): then the call may have been written, whole (every multi-row change
    /// is one transaction, so never in part). Calls that notice an earlier success are safe to
    /// run again as they are: upserts and the imports write the same rows again,
    /// [`Database::open_conversation`](crate::Database::open_conversation) answers
    /// [`DbError::OpenConversationExists`], and a transition already made answers
    /// [`DbError::InvalidInput`] (read the conversation to tell). An append, such as
    /// [`Database::add_message`](crate::Database::add_message), may then be stored twice: read
    /// before running it again when that matters.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Connection(_) | Self::TransactionConflict(_) | Self::LockTimeout(_)
        )
    }

    pub(crate) fn not_found(entity: &'static str, key: impl std::fmt::Display) -> Self {
        Self::NotFound {
            entity,
            key: key.to_string(),
        }
    }

    pub(crate) fn stored(table: &'static str, id: i64) -> impl FnOnce(CoreError) -> Self {
        move |source| Self::InvalidStoredData { table, id, source }
    }

    /// A foreign-key violation on `constraint` as "the creator `kol_id` does not exist".
    pub(crate) fn missing_kol(
        constraint: &'static str,
        kol_id: KolId,
    ) -> impl FnOnce(Self) -> Self {
        move |error| match error {
            Self::RuleViolation { constraint: c, .. } if c == constraint => {
                Self::not_found("kol", kol_id)
            }
            other => other,
        }
    }

    pub(crate) fn argument(name: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            name,
            reason: reason.into(),
        }
    }
}

impl kol_core::SearchError for DbError {
    fn invalid_request(&self) -> Option<&CoreError> {
        match self {
            Self::InvalidInput(error) => Some(error),
            _ => None,
        }
    }
}
