//! Throw-away databases for tests and benchmarks (feature `test-support`).
//!
//! [`TestDatabase::new`] creates a fresh database, migrated, from a template built once per
//! migration set (so each test pays a fast `CREATE DATABASE ... TEMPLATE`, not the migrations),
//! and drops it when the value is dropped, even when the test panics. Tests can therefore run in
//! parallel processes (cargo-nextest) and leave nothing behind.
//!
//! The server is given by `KOL_TEST_DATABASE_URL` (a role allowed to create databases; the
//! repository's `scripts/test.sh` provisions one and sets it).

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::migration::MigrationSource;
use diesel_migrations::MigrationHarness;

use crate::config::DatabaseUrl;
use crate::database::{Database, MIGRATIONS};
use crate::error::{Cause, DbError, Result};

/// The environment variable naming the test server.
pub const TEST_URL_VAR: &str = "KOL_TEST_DATABASE_URL";

/// A database that exists for the lifetime of this value.
#[derive(Debug)]
pub struct TestDatabase {
    db: Database,
    name: String,
    admin: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDatabase {
    /// A fresh database with every migration applied.
    ///
    /// # Errors
    /// [`DbError::Connection`] when `KOL_TEST_DATABASE_URL` is not set or the server is down.
    pub async fn new() -> Result<Self> {
        Self::create(true).await
    }

    /// A fresh, empty database (no migration applied), for tests of the migrations themselves.
    ///
    /// # Errors
    /// As [`TestDatabase::new`].
    pub async fn empty() -> Result<Self> {
        Self::create(false).await
    }

    async fn create(migrated: bool) -> Result<Self> {
        let admin = std::env::var(TEST_URL_VAR).map_err(|_| {
            DbError::Connection(Cause::message(format!(
                "{TEST_URL_VAR} is not set: run `scripts/test.sh`, or set it to a PostgreSQL URL \
                 of a role that may create databases"
            )))
        })?;
        let client = admin_client(&admin).await?;
        sweep_orphans(&client).await;
        let name = format!(
            "kol_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            chrono::Utc::now().timestamp_subsec_nanos()
        );
        let create = if migrated {
            let template = ensure_template(&client, &admin).await?;
            format!("CREATE DATABASE {name} TEMPLATE {template}")
        } else {
            format!("CREATE DATABASE {name}")
        };
        client.batch_execute(&create).await.map_err(admin_error)?;
        let url = with_database(&admin, &name)?;
        let db = Database::connect(url).await?;
        Ok(Self { db, name, admin })
    }

    /// The database handle.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Runs one SQL statement as a second client would (bypassing kol-core validation), with
    /// kol-db's error mapping: tests use it to check that the database refuses what breaks a rule.
    ///
    /// # Errors
    /// The mapped [`DbError`] of the statement.
    pub async fn execute_sql(&self, sql: &str) -> Result<usize> {
        execute_sql(&self.db, sql).await
    }

    /// Number of rows of `table`.
    ///
    /// # Errors
    /// As [`TestDatabase::execute_sql`].
    pub async fn count(&self, table: &str) -> Result<i64> {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.db.conn().await?;
        let row: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result(&mut conn)
            .await?;
        Ok(row.n)
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL of this database (for a second client, such as a raw connection in a test).
    pub fn url(&self) -> DatabaseUrl {
        with_database(&self.admin, &self.name).unwrap_or_else(|_| DatabaseUrl::new(""))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside or outside a runtime: a thread with its own runtime works in both.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(client) = admin_client(&admin).await {
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// Runs one SQL statement on a pooled connection of `db`, with kol-db's error mapping; returns
/// the number of rows affected (or returned).
///
/// # Errors
/// The mapped [`DbError`] of the statement.
pub async fn execute_sql(db: &Database, sql: &str) -> Result<usize> {
    use diesel_async::RunQueryDsl;
    let mut conn = db.conn().await?;
    Ok(diesel::sql_query(sql).execute(&mut conn).await?)
}

/// Runs one SQL query on a pooled connection of `db` and loads its rows (for tests that read
/// server views such as `pg_stat_activity`).
///
/// # Errors
/// The mapped [`DbError`] of the query.
pub async fn query_sql<T>(db: &Database, sql: &str) -> Result<Vec<T>>
where
    T: diesel::QueryableByName<diesel::pg::Pg> + Send + 'static,
{
    use diesel_async::RunQueryDsl;
    let mut conn = db.conn().await?;
    Ok(diesel::sql_query(sql).load(&mut conn).await?)
}

/// Applies the pending migrations of [`MIGRATIONS`] up to and including version `last` (as in
/// the migration's directory name, `2026-11-25-000006`, or without its dashes), oldest first;
/// returns the versions applied. For upgrade tests: migrate to a release's schema, fill it as
/// that release would, then run [`Database::run_migrations`] and compare.
///
/// # Errors
/// [`DbError::Migration`] when a migration fails, or a connection error.
pub async fn migrate_to(db: &Database, last: &str) -> Result<Vec<String>> {
    use diesel::migration::Migration;
    let last: String = last.chars().filter(|c| *c != '-').collect();
    db.with_harness(move |harness| {
        let applied: Vec<String> = harness
            .applied_migrations()?
            .iter()
            .map(ToString::to_string)
            .collect();
        let mut pending: Vec<_> = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)?
            .into_iter()
            .filter(|m| {
                let version = m.name().version().to_string();
                version.as_str() <= last.as_str() && !applied.contains(&version)
            })
            .collect();
        pending.sort_by_key(|m| m.name().version().to_string());
        let mut done = Vec::new();
        for migration in pending {
            harness.run_migration(&migration)?;
            done.push(migration.name().version().to_string());
        }
        Ok(done)
    })
    .await
}

async fn admin_client(admin: &str) -> Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
        .await
        .map_err(admin_error)?;
    tokio::spawn(connection);
    Ok(client)
}

fn admin_error(e: tokio_postgres::Error) -> DbError {
    DbError::Connection(Cause::context("test server", e))
}

/// The admin URL with its database replaced by `name`.
fn with_database(admin: &str, name: &str) -> Result<DatabaseUrl> {
    let mut url = url::Url::parse(admin).map_err(|e| DbError::InvalidUrl {
        url: DatabaseUrl::new(admin).redacted(),
        reason: e.to_string(),
    })?;
    url.set_path(&format!("/{name}"));
    Ok(DatabaseUrl::new(url.to_string()))
}

/// Drops test databases whose creating process is gone (a test killed before its drop ran).
async fn sweep_orphans(client: &tokio_postgres::Client) {
    let Ok(rows) = client
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'kol\\_t\\_%'",
            &[],
        )
        .await
    else {
        return;
    };
    for row in rows {
        let name: String = row.get(0);
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        }
    }
}

/// The template database for the current migrations, created once (under an advisory lock, so
/// parallel test processes wait for the first one).
async fn ensure_template(client: &tokio_postgres::Client, admin: &str) -> Result<String> {
    let migrations = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_err(|e| DbError::Migration(Cause::boxed(e)))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for m in &migrations {
        m.name().to_string().hash(&mut hasher);
    }
    for dir in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for file in ["up.sql", "down.sql"] {
            if let Ok(sql) = std::fs::read_to_string(dir.path().join(file)) {
                sql.hash(&mut hasher);
            }
        }
    }
    let template = format!("kol_tpl_{:016x}", hasher.finish());
    client
        .batch_execute("SELECT pg_advisory_lock(7343001)")
        .await
        .map_err(admin_error)?;
    let result = async {
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&template])
            .await
            .map_err(admin_error)?
            .is_some();
        if !exists {
            let building = format!("{template}_build");
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .await
                .map_err(admin_error)?;
            client
                .batch_execute(&format!("CREATE DATABASE {building}"))
                .await
                .map_err(admin_error)?;
            {
                let db = Database::connect(with_database(admin, &building)?).await?;
                db.run_migrations().await?;
            }
            // Pooled connections close asynchronously; make sure none is left before renaming.
            client
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    &[&building],
                )
                .await
                .map_err(admin_error)?;
            client
                .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
                .await
                .map_err(admin_error)?;
        }
        Ok(template.clone())
    }
    .await;
    let _ = client
        .batch_execute("SELECT pg_advisory_unlock(7343001)")
        .await;
    result
}
