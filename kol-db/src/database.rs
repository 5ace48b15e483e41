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
use crate::error::{DbError, Result};
use crate::tls;

/// The schema migrations, embedded in the library at compile time.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A pooled connection.
pub(crate) type Conn = Object<AsyncPgConnection>;

/// Opens connections: tokio-postgres settings plus the TLS connector of the URL's `sslmode`,
/// and the session settings (timeouts) every connection gets before anyone uses it.
pub(crate) struct Connector {
    pg: tokio_postgres::Config,
    tls: Option<MakeRustlsConnect>,
    session_settings: String,
}

impl Connector {
    async fn connect(&self) -> diesel::ConnectionResult<AsyncPgConnection> {
        let failed =
            |e: tokio_postgres::Error| diesel::ConnectionError::BadConnection(e.to_string());
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

/// Advisory lock key under which migrations run (per database: two instances starting together
/// take turns, and the second finds the schema up to date).
const MIGRATION_LOCK: i64 = 0x6b6f_6c5f_6d69_6772; // "kol_migr"

/// A handle on the database: a pool of async connections. Cheap to clone; share it.
///
/// Every method takes a connection from the pool for its own duration, and every change of
/// several rows runs in one transaction.
#[derive(Clone)]
pub struct Database {
    pool: Pool<AsyncPgConnection>,
    url: DatabaseUrl,
    connector: Arc<Connector>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("Database")
            .field("url", &self.url)
            .field("pool_size", &status.size)
            .field("pool_max", &status.max_size)
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
    pub async fn connect_with(config: DbConfig) -> Result<Self> {
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
            .map_err(|e| DbError::Connection(e.to_string()))?;
        let db = Self {
            pool,
            url: config.url,
            connector,
        };
        drop(db.conn().await?);
        Ok(db)
    }

    /// The URL this handle connects to (its `Display` hides the password).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A connection from the pool.
    pub(crate) async fn conn(&self) -> Result<Conn> {
        self.pool
            .get()
            .await
            .map_err(|e| DbError::Connection(e.to_string()))
    }

    /// A connection outside the pool, closed when dropped (for long jobs such as bulk imports,
    /// and for tests that break connections on purpose).
    pub(crate) async fn dedicated_conn(&self) -> Result<AsyncPgConnection> {
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
    pub async fn run_migrations(&self) -> Result<Vec<String>> {
        self.with_harness(|harness| {
            harness
                .run_pending_migrations(MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect())
        })
        .await
    }

    /// Reverts every applied migration, newest first; returns the versions reverted (under the
    /// same advisory lock as [`Database::run_migrations`]).
    ///
    /// This drops every table of the schema, and the data with it. Meant for tests and
    /// development databases.
    ///
    /// # Errors
    /// [`DbError::Migration`] when a `down.sql` fails, or a connection error.
    pub async fn revert_all_migrations(&self) -> Result<Vec<String>> {
        self.with_harness(|harness| {
            harness
                .revert_all_migrations(MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect())
        })
        .await
    }

    /// The versions of the applied migrations, oldest first (read under the migrations'
    /// advisory lock: while another instance migrates, this waits for it).
    ///
    /// # Errors
    /// [`DbError::Migration`] or a connection error.
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
            let result = job(&mut harness).map_err(|e| DbError::Migration(e.to_string()));
            // Closing the connection would release the lock too; this releases it at once.
            let _ = diesel::connection::SimpleConnection::batch_execute(
                &mut harness,
                &format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"),
            );
            result
        })
        .await
        .map_err(|e| DbError::Migration(format!("the migration task failed: {e}")))?
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
