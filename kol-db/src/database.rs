//! The connection pool, how connections are opened (TLS included), and migrations.

use std::sync::Arc;

use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::{DatabaseUrl, DbConfig, ParsedUrl};
use crate::error::{Cause, DbError, Result};
use crate::tls;

/// The schema migrations, embedded in the library at compile time.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A pooled connection.
pub(crate) type Conn = Object<AsyncPgConnection>;

/// The connection of a caller's transaction ([`Database::transaction`]), shared by the handles
/// of that transaction; `None` once the transaction has ended.
type TxSlot = Arc<tokio::sync::Mutex<Option<Conn>>>;

/// A connection a method works on: one from the pool, or the caller's transaction's.
// One lives on the stack for the length of a call; boxing the pooled variant would allocate on
// every call to save a few hundred bytes of stack.
#[allow(clippy::large_enum_variant)]
pub(crate) enum ConnGuard {
    Pooled(Conn),
    InTransaction(tokio::sync::OwnedMappedMutexGuard<Option<Conn>, Conn>),
}

impl std::ops::Deref for ConnGuard {
    type Target = AsyncPgConnection;

    fn deref(&self) -> &AsyncPgConnection {
        match self {
            Self::Pooled(c) => c,
            Self::InTransaction(c) => c,
        }
    }
}

impl std::ops::DerefMut for ConnGuard {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        match self {
            Self::Pooled(c) => c,
            Self::InTransaction(c) => c,
        }
    }
}

/// Opens connections: tokio-postgres settings plus the TLS connector of the URL's `sslmode`,
/// and the session settings (timeouts) every connection gets before anyone uses it.
pub(crate) struct Connector {
    pg: tokio_postgres::Config,
    tls: Option<MakeRustlsConnect>,
    session_settings: String,
}

impl Connector {
    async fn connect(&self) -> diesel::ConnectionResult<AsyncPgConnection> {
        let failed = |e: tokio_postgres::Error| {
            diesel::ConnectionError::BadConnection(connect_error_text(&e))
        };
        let mut conn = match &self.tls {
            None => {
                let (client, connection) = self
                    .pg
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(failed)?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await?
            }
            Some(tls) => {
                let (client, connection) = self.pg.connect(tls.clone()).await.map_err(failed)?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await?
            }
        };
        conn.batch_execute(&self.session_settings)
            .await
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    }
}

/// The text of a failed connection attempt. tokio-postgres displays a refusal by the server as
/// just `db error` and a network failure as `error connecting to server`; what says why is the
/// server's own message (`the database system is starting up`, `... is shutting down`, `too
/// many clients already`, an authentication failure), added with its SQLSTATE, or the I/O error
/// underneath (`Connection refused`...).
fn connect_error_text(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{error}: {} ({})", db.message(), db.code().code());
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Runs `$f` (an async closure over `&mut AsyncPgConnection` returning `Result<_, DbError>`)
/// on one snapshot of the database: a read-only, repeatable-read transaction of its own, or,
/// on a handle of [`Database::transaction`], a savepoint of the caller's transaction (whose
/// isolation then applies).
macro_rules! read_snapshot {
    ($conn:expr, $f:expr) => {{
        use diesel_async::TransactionManager as _;
        let conn: &mut diesel_async::AsyncPgConnection = $conn;
        let in_transaction = matches!(
            diesel_async::AnsiTransactionManager::transaction_manager_status_mut(conn)
                .transaction_depth(),
            Ok(Some(_))
        );
        if in_transaction {
            diesel_async::AsyncConnection::transaction::<_, $crate::error::DbError, _>(conn, $f)
                .await
        } else {
            conn.build_transaction()
                .read_only()
                .repeatable_read()
                .run::<_, $crate::error::DbError, _>($f)
                .await
        }
    }};
}
pub(crate) use read_snapshot;

/// Advisory lock key under which migrations run (per database: two instances starting together
/// take turns, and the second finds the schema up to date).
const MIGRATION_LOCK: i64 = 0x6b6f_6c5f_6d69_6772; // "kol_migr"

/// A handle on the database: a pool of async connections. Cheap to clone; share it.
///
/// Every method takes a connection from the pool for its own duration, and every change of
/// several rows runs in one transaction. [`Database::transaction`] hands a caller a handle with
/// the same methods whose calls all run in one transaction of the caller's.
#[derive(Clone)]
pub struct Database {
    pool: Pool<AsyncPgConnection>,
    url: DatabaseUrl,
    connector: Arc<Connector>,
    /// Set on the handle a caller's transaction gives: every method uses its connection.
    tx: Option<TxSlot>,
    /// Where reads that may be a little behind go (`replicas.rs`).
    read_routing: crate::replicas::ReadRouting,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("Database")
            .field("url", &self.url)
            .field("pool_size", &status.size)
            .field("pool_max", &status.max_size)
            .field("in_transaction", &self.tx.is_some())
            .finish()
    }
}

impl Database {
    /// Connects to `url` with default settings (a pool of 8).
    ///
    /// # Errors
    /// [`DbError::InvalidUrl`], [`DbError::Tls`], or [`DbError::Connection`] when the first
    /// connection cannot be opened (it is checked here, not at first use).
    pub async fn connect(url: impl Into<DatabaseUrl>) -> Result<Self> {
        Self::connect_with(DbConfig::new(url)).await
    }

    /// Connects with explicit settings.
    ///
    /// # Errors
    /// As [`Database::connect`], and [`DbError::InvalidArgument`] for a pool size of zero or a
    /// timeout out of range (see [`DbConfig`]).
    #[tracing::instrument(level = "debug", skip_all, fields(url = %config.url), err(level = "debug"))]
    pub async fn connect_with(config: DbConfig) -> Result<Self> {
        let mut db = Self::open(&config)?;
        db.read_routing = crate::replicas::ReadRouting::open(&config)?;
        drop(db.conn().await?);
        Ok(db)
    }

    /// The pool of `config.url`, without opening a connection (replicas are not set up here).
    pub(crate) fn open(config: &DbConfig) -> Result<Self> {
        if config.max_connections == 0 {
            return Err(DbError::argument("max_connections", "must be at least 1"));
        }
        let session_settings = config.session_settings()?;
        let parsed = ParsedUrl::parse(&config.url, config.connect_timeout)?;
        let connector = Arc::new(Connector {
            tls: tls::connector(parsed.ssl_mode, parsed.root_certs.as_ref())?,
            pg: parsed.pg,
            session_settings,
        });
        let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
        let setup = Arc::clone(&connector);
        manager_config.custom_setup = Box::new(move |_url: &str| {
            let connector = Arc::clone(&setup);
            async move { connector.connect().await }.boxed()
        });
        // The manager never sees the password: connections come from `custom_setup`.
        let manager =
            AsyncDieselConnectionManager::new_with_config(config.url.redacted(), manager_config);
        let pool = Pool::builder(manager)
            .max_size(config.max_connections)
            .wait_timeout(Some(config.acquire_timeout))
            .create_timeout(Some(config.connect_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Connection(Cause::new(e)))?;
        Ok(Self {
            pool,
            url: config.url.clone(),
            connector,
            tx: None,
            read_routing: crate::replicas::ReadRouting::default(),
        })
    }

    pub(crate) fn read_routing(&self) -> &crate::replicas::ReadRouting {
        &self.read_routing
    }

    pub(crate) fn set_read_routing(&mut self, routing: crate::replicas::ReadRouting) {
        self.read_routing = routing;
    }

    /// The URL this handle connects to (its `Display` hides the password).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The connection a method works on: the caller's transaction's on a handle of
    /// [`Database::transaction`], else one from the pool.
    pub(crate) async fn conn(&self) -> Result<ConnGuard> {
        match &self.tx {
            Some(slot) => Self::tx_conn(slot).await,
            None => self.pool_conn().await.map(ConnGuard::Pooled),
        }
    }

    async fn pool_conn(&self) -> Result<Conn> {
        self.pool
            .get()
            .await
            .map_err(|e| DbError::Connection(Cause::new(e)))
    }

    async fn tx_conn(slot: &TxSlot) -> Result<ConnGuard> {
        let guard = Arc::clone(slot).lock_owned().await;
        tokio::sync::OwnedMutexGuard::try_map(guard, Option::as_mut)
            .map(ConnGuard::InTransaction)
            .map_err(|_| {
                DbError::argument(
                    "transaction",
                    "this handle belongs to a transaction that has ended",
                )
            })
    }

    /// Whether this handle runs its calls in a caller's transaction.
    pub fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    /// Runs `f` with a handle on this database whose every call runs in one transaction: it
    /// commits when `f` returns `Ok` and rolls back when `f` returns an error (or is dropped
    /// before it finishes: the pool then discards the connection). For example a creator with
    /// its media and rate cards, all or nothing:
    ///
    /// ```no_run
    /// # async fn demo(db: &kol_db::Database, kol: &kol_core::NewKol,
    /// #     media: &kol_core::NewKolMedia, card: &kol_core::NewRateCard) -> kol_db::Result<()> {
    /// db.transaction(async |tx| {
    ///     let id = tx.create_kol(kol).await?.id;
    ///     tx.add_media(id, media).await?;
    ///     tx.upsert_rate_card(id, card).await?;
    ///     Ok(())
    /// })
    /// .await
    /// # }
    /// ```
    ///
    /// The handle has every method of `Database`; the operations that group several writes
    /// themselves run as savepoints inside it, and a `transaction` called on the handle nests
    /// as a savepoint too. Calls on the handle take turns on its one connection. Bulk jobs that
    /// need their own connection (catalogue and CSV imports, index rebuilds, migrations) refuse
    /// to run on it. Isolation is PostgreSQL's default (read committed); a
    /// [`DbError::TransactionConflict`] from inside means the whole transaction may be run
    /// again.
    ///
    /// # Errors
    /// `f`'s error (after the rollback), or the error of `COMMIT` (a deferred rule of the
    /// database, a serialization failure), or a connection error.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn transaction<T, F>(&self, f: F) -> Result<T>
    where
        F: AsyncFnOnce(Database) -> Result<T>,
    {
        use diesel_async::TransactionManager as _;
        type Manager = diesel_async::AnsiTransactionManager;
        let (slot, outermost) = match &self.tx {
            Some(slot) => (Arc::clone(slot), false),
            None => (
                Arc::new(tokio::sync::Mutex::new(Some(self.pool_conn().await?))),
                true,
            ),
        };
        {
            let mut conn = Self::tx_conn(&slot).await?;
            Manager::begin_transaction(&mut *conn).await?;
        }
        let handle = Database {
            tx: Some(Arc::clone(&slot)),
            ..self.clone()
        };
        let result = f(handle).await;
        let ended = match Self::tx_conn(&slot).await {
            Ok(mut conn) => match &result {
                Ok(_) => Manager::commit_transaction(&mut *conn).await,
                Err(_) => Manager::rollback_transaction(&mut *conn).await,
            }
            .map_err(DbError::from),
            Err(e) => Err(e),
        };
        if outermost {
            // Handles kept past this point get an error; the connection returns to the pool.
            slot.lock().await.take();
        }
        match (result, ended) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(commit)) => Err(commit),
            (Err(error), _) => Err(error),
        }
    }

    /// Refuses to run a bulk job on a transaction's handle.
    fn outside_transaction(&self, job: &'static str) -> Result<()> {
        if self.tx.is_some() {
            return Err(DbError::argument(
                "transaction",
                format!("{job} runs on its own connection, not inside a caller's transaction"),
            ));
        }
        Ok(())
    }

    /// A connection outside the pool, closed when dropped (for long jobs such as bulk imports,
    /// and for tests that break connections on purpose). Refused on a transaction's handle.
    pub(crate) async fn dedicated_conn(&self) -> Result<AsyncPgConnection> {
        self.outside_transaction("a bulk job")?;
        Ok(self.connector.connect().await?)
    }

    /// A dedicated connection for maintenance (migrations, index builds) that waits for locks
    /// and runs statements as long as they need: its statement and lock timeouts are off.
    pub(crate) async fn maintenance_conn(&self) -> Result<AsyncPgConnection> {
        let mut conn = self.dedicated_conn().await?;
        conn.batch_execute("SET statement_timeout = 0; SET lock_timeout = 0")
            .await?;
        Ok(conn)
    }

    /// Applies every pending migration; returns the versions applied (empty when up to date).
    ///
    /// Migrations run under a PostgreSQL advisory lock of this database: several service
    /// instances may call this at the same time, one applies the migrations while the others
    /// wait, then find the schema up to date (an empty list) and succeed too. The wait has no
    /// time limit, and neither have the migrations (no statement or lock timeout on their
    /// connection).
    ///
    /// Works from any tokio runtime, current-thread included: the synchronous migration harness
    /// runs on a blocking thread (diesel-async's own `AsyncMigrationHarness` calls
    /// `block_in_place`, which panics on a current-thread runtime).
    ///
    /// # Errors
    /// [`DbError::Migration`] when a migration fails (it is rolled back), or a connection error.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn run_migrations(&self) -> Result<Vec<String>> {
        let applied: Vec<String> = self
            .with_harness(|harness| {
                harness
                    .run_pending_migrations(MIGRATIONS)
                    .map(|versions| versions.iter().map(ToString::to_string).collect())
            })
            .await?;
        for version in &applied {
            tracing::info!(version = %version, "migration applied");
        }
        Ok(applied)
    }

    /// Reverts every applied migration, newest first; returns the versions reverted (under the
    /// same advisory lock as [`Database::run_migrations`]).
    ///
    /// This drops every table of the schema, and the data with it. Meant for tests and
    /// development databases.
    ///
    /// # Errors
    /// [`DbError::Migration`] when a `down.sql` fails, or a connection error.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn revert_all_migrations(&self) -> Result<Vec<String>> {
        let reverted: Vec<String> = self
            .with_harness(|harness| {
                harness
                    .revert_all_migrations(MIGRATIONS)
                    .map(|versions| versions.iter().map(ToString::to_string).collect())
            })
            .await?;
        for version in &reverted {
            tracing::info!(version = %version, "migration reverted");
        }
        Ok(reverted)
    }

    /// The versions of the applied migrations, oldest first (read under the migrations'
    /// advisory lock: while another instance migrates, this waits for it).
    ///
    /// # Errors
    /// [`DbError::Migration`] or a connection error.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn applied_migrations(&self) -> Result<Vec<String>> {
        self.with_harness(|harness| {
            harness.applied_migrations().map(|versions| {
                let mut v: Vec<String> = versions.iter().map(ToString::to_string).collect();
                v.sort();
                v
            })
        })
        .await
    }

    pub(crate) async fn with_harness<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AsyncConnectionWrapper<AsyncPgConnection>) -> diesel::migration::Result<T>
            + Send
            + 'static,
    {
        let mut conn = self.maintenance_conn().await?;
        // A session lock: held across the migrations' own transactions, released when this
        // connection closes at the end of the job (or if the process dies).
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .await?;
        tokio::task::spawn_blocking(move || {
            // Created on the blocking thread, the wrapper drives the connection through the
            // runtime's handle: no `block_in_place`, so any runtime flavour works.
            let mut harness = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
            let result = job(&mut harness).map_err(|e| DbError::Migration(Cause::boxed(e)));
            // Closing the connection would release the lock too; this releases it at once.
            let _ = diesel::connection::SimpleConnection::batch_execute(
                &mut harness,
                &format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"),
            );
            result
        })
        .await
        .map_err(|e| DbError::Migration(Cause::new(e)))?
    }
}

/// What a service needs around the pool: readiness and shutdown.
impl Database {
    /// The versions of the embedded migrations not yet applied to the database, oldest first
    /// (empty when the schema is up to date). A readiness probe: it answers only when the server
    /// is reachable, and waits while another instance migrates.
    ///
    /// # Errors
    /// [`DbError::Migration`] or a connection error.
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        self.with_harness(|harness| {
            harness.pending_migrations(MIGRATIONS).map(|pending| {
                pending
                    .iter()
                    .map(|m| m.name().version().to_string())
                    .collect()
            })
        })
        .await
    }

    /// Closes the pool: idle connections are closed at once, connections in use when they come
    /// back, and every later call on this handle (or a clone) fails with
    /// [`DbError::Connection`]. For a graceful shutdown, after the last request finished.
    pub fn close(&self) {
        self.pool.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_embedded_in_order() {
        use diesel::migration::MigrationSource;
        let migrations: Vec<String> = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
            .unwrap()
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
            .count();
        assert_eq!(
            migrations.len(),
            on_disk,
            "every migration directory is embedded"
        );
        assert!(migrations.windows(2).all(|w| w[0] < w[1]));
    }
}
