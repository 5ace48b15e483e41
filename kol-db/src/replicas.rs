//! Read replicas: which server answers a read.
//!
//! A [`Database`] configured with replicas ([`DbConfig::replica`]) sends the reads that may be a
//! little behind (searches, creator listings and lookups, media and rate cards, campaign
//! reports) to a healthy PostgreSQL streaming replica, in round robin, and everything else
//! (writes, the outreach workflow, campaigns, anything inside [`Database::transaction`]) to the
//! primary. [`Database::primary`] gives a handle whose reads all go to the primary, for a caller
//! that must read its own writes.
//!
//! A replica is healthy when it is a hot standby (`pg_is_in_recovery()`: a server that accepts
//! writes is never read from, so no write can reach a promoted or misconfigured server through
//! kol-db) and its lag is at most [`DbConfig::max_replica_lag`]. The lag is measured by the
//! servers: zero when the replica has replayed the primary's current WAL position
//! (`pg_last_wal_replay_lsn() >= pg_current_wal_lsn()`, the primary's read just before),
//! otherwise the replica's `now() - pg_last_xact_replay_timestamp()`. This errs on the side of
//! freshness: after a long idle period the first write makes the lag look as long as the idle
//! time until the replica replays it (milliseconds), and the replica sits out one retry period.
//! Health is measured again every [`DbConfig::replica_check_interval`], by the read that finds it
//! stale.
//!
//! A replica that is down, lagging or not a standby is skipped for
//! [`DbConfig::replica_retry_after`], then checked again. A read that fails on a replica for a
//! reason of the replica's (a lost connection, a database it has not replayed yet, a query
//! cancelled by a recovery conflict) marks it skipped and runs again on the next replica, then on
//! the primary: the caller sees no error a healthy primary would not give. With no healthy
//! replica, reads go to the primary.
//!
//! Every routing decision is a `tracing` event of target `kol_db::replicas`: `debug` for each
//! read routed (`server`, `replica`, `lag_ms`), `warn` when a replica is skipped (`reason`), `info`
//! when a skipped replica is healthy again. [`Database::routing`] reports each replica's state
//! and how many reads each server took.
//!
//! Replicas stream the whole cluster, so the databases of the primary exist on each replica once
//! it has replayed their creation; [`Database::wait_for_replay`] waits for that (by LSN).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Bool, Double, Nullable};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::config::DbConfig;
use crate::database::{ConnGuard, Database};
use crate::error::{Cause, DbError, Result};

/// The tracing target of routing events.
const TARGET: &str = "kol_db::replicas";

/// A position in PostgreSQL's write-ahead log (a `pg_lsn`), as a byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WalLsn(pub u64);

impl std::fmt::Display for WalLsn {
    /// PostgreSQL's notation, `16/B374D848`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// How a replica stands, as [`Database::routing`] reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplicaState {
    /// Not measured yet: the next read that considers it measures it.
    Unchecked,
    /// A hot standby within the maximum lag at its last measurement.
    Healthy {
        /// The lag then measured.
        lag: Duration,
    },
    /// Down, lagging or not a standby: reads skip it until it is checked again.
    Skipped {
        /// Why, as the tracing event said.
        reason: String,
        /// How long until the next check.
        retry_in: Duration,
    },
}

/// One replica in [`Routing`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaStatus {
    /// Its URL, password hidden.
    pub url: String,
    /// Its state.
    pub state: ReplicaState,
    /// Reads it has answered through this handle's pool.
    pub reads: u64,
}

/// Where the reads of a [`Database`] went: [`Database::routing`].
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// Reads of the kinds that may go to a replica that went to the primary instead: none
    /// healthy, a replica failed during the read, a [`Database::primary`] handle, or a
    /// transaction's handle.
    pub primary_reads: u64,
    /// Each configured replica, in configuration order.
    pub replicas: Vec<ReplicaStatus>,
}

/// What a handle does with the reads that may go to a replica (a field of [`Database`]).
#[derive(Clone, Default)]
pub(crate) struct ReadRouting {
    replicas: Option<Arc<Replicas>>,
    /// Set on [`Database::primary`]'s handles.
    forced_primary: bool,
}

/// The replicas of one [`Database`] and their health.
struct Replicas {
    members: Vec<Member>,
    next: AtomicUsize,
    primary_reads: AtomicU64,
    max_lag: Duration,
    retry_after: Duration,
    check_interval: Duration,
}

struct Member {
    /// A handle on the replica (its own pool, no replicas of its own).
    db: Database,
    url: String,
    state: Mutex<Health>,
    /// Set while one read measures it, so that concurrent reads do not all measure.
    checking: AtomicBool,
    reads: AtomicU64,
}

#[derive(Debug, Clone)]
enum Health {
    Unchecked,
    Healthy { lag: Duration, checked: Instant },
    Skipped { reason: String, until: Instant },
}

/// What the replica says about itself.
#[derive(diesel::QueryableByName)]
struct StandbyRow {
    #[diesel(sql_type = Bool)]
    in_recovery: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    replay_lsn: Option<i64>,
    #[diesel(sql_type = Nullable<Double>)]
    replay_age: Option<f64>,
}

#[derive(diesel::QueryableByName)]
struct LsnRow {
    #[diesel(sql_type = BigInt)]
    lsn: i64,
}

const STANDBY_SQL: &str = "SELECT pg_is_in_recovery() AS in_recovery, \
     (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS replay_lsn, \
     extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age";

const PRIMARY_LSN_SQL: &str = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn";

impl ReadRouting {
    /// The replicas of `config`, each with a pool of its own (no connection is opened here: a
    /// replica that is down when the service starts is skipped, not an error).
    pub(crate) fn open(config: &DbConfig) -> Result<Self> {
        if config.replicas.is_empty() {
            return Ok(Self::default());
        }
        for (name, value) in [
            ("max_replica_lag", config.max_replica_lag),
            ("replica_retry_after", config.replica_retry_after),
            ("replica_check_interval", config.replica_check_interval),
        ] {
            if value.is_zero() {
                return Err(DbError::argument(name, "must be more than zero"));
            }
        }
        let mut members = Vec::with_capacity(config.replicas.len());
        for url in &config.replicas {
            let mut own = config.clone();
            own.url = url.clone();
            own.replicas = Vec::new();
            members.push(Member {
                db: Database::open(&own)?,
                url: url.redacted(),
                state: Mutex::new(Health::Unchecked),
                checking: AtomicBool::new(false),
                reads: AtomicU64::new(0),
            });
        }
        Ok(Self {
            replicas: Some(Arc::new(Replicas {
                members,
                next: AtomicUsize::new(0),
                primary_reads: AtomicU64::new(0),
                max_lag: config.max_replica_lag,
                retry_after: config.replica_retry_after,
                check_interval: config.replica_check_interval,
            })),
            forced_primary: false,
        })
    }
}

/// One read's way through the servers: replicas in round-robin order from a starting point, then
/// the primary.
pub(crate) struct Route<'a> {
    db: &'a Database,
    /// The replicas still to try (none for a handle that reads from the primary).
    order: Vec<usize>,
    position: usize,
    what: &'static str,
}

/// The server a read runs on.
pub(crate) struct Target {
    pub(crate) conn: ConnGuard,
    /// The replica's index, `None` for the primary.
    replica: Option<usize>,
}

impl<'a> Route<'a> {
    pub(crate) fn new(db: &'a Database, what: &'static str) -> Self {
        let routing = db.read_routing();
        let order = match (
            &routing.replicas,
            routing.forced_primary,
            db.in_transaction(),
        ) {
            (Some(replicas), false, false) => {
                let n = replicas.members.len();
                let start = replicas.next.fetch_add(1, Ordering::Relaxed) % n;
                (0..n).map(|i| (start + i) % n).collect()
            }
            (Some(_), true, _) => {
                tracing::debug!(target: TARGET, read = what, server = "primary", reason = "forced",
                    "read routed to the primary (a handle of Database::primary)");
                Vec::new()
            }
            (Some(_), false, true) => {
                tracing::debug!(target: TARGET, read = what, server = "primary",
                    reason = "transaction", "read routed to the primary (inside a transaction)");
                Vec::new()
            }
            (None, _, _) => Vec::new(),
        };
        Self {
            db,
            order,
            position: 0,
            what,
        }
    }

    /// The next server to run the read on: the next healthy replica, else the primary.
    pub(crate) async fn next(&mut self) -> Result<Target> {
        let routing = self.db.read_routing();
        if let Some(replicas) = &routing.replicas {
            while self.position < self.order.len() {
                let index = self.order[self.position];
                self.position += 1;
                let member = &replicas.members[index];
                let Some(lag) = replicas.usable(self.db, member).await else {
                    continue;
                };
                match member.db.conn().await {
                    Ok(conn) => {
                        tracing::debug!(target: TARGET, read = self.what, server = "replica",
                            replica = %member.url, lag_ms = lag.as_millis() as u64,
                            "read routed to a replica");
                        member.reads.fetch_add(1, Ordering::Relaxed);
                        return Ok(Target {
                            conn,
                            replica: Some(index),
                        });
                    }
                    Err(error) => replicas.skip(member, format!("no connection: {error}")),
                }
            }
            if !routing.forced_primary && !self.db.in_transaction() {
                tracing::debug!(target: TARGET, read = self.what, server = "primary",
                    reason = "no healthy replica", "read routed to the primary");
            }
            replicas.primary_reads.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Target {
            conn: self.db.conn().await?,
            replica: None,
        })
    }

    /// Whether a read that failed with `error` on `target` runs again elsewhere: only a failure
    /// of a replica's, which is then skipped.
    pub(crate) fn retry(&mut self, target: &Target, error: &DbError) -> bool {
        let (Some(index), Some(replicas)) = (target.replica, &self.db.read_routing().replicas)
        else {
            return false;
        };
        if !replica_failure(error) {
            return false;
        }
        replicas.skip(
            &replicas.members[index],
            format!("a read failed on it: {error}"),
        );
        true
    }
}

/// Errors that say the replica, not the query, failed: a lost or refused connection (down,
/// restarting, a database it has not replayed yet), and a query cancelled by a conflict with
/// recovery (SQLSTATE 40001, which kol-db maps to a transaction conflict).
fn replica_failure(error: &DbError) -> bool {
    matches!(
        error,
        DbError::Connection(_) | DbError::TransactionConflict(_)
    )
}

impl Replicas {
    /// The member's lag when it may take a read now (measuring it if its state is stale).
    async fn usable(&self, primary: &Database, member: &Member) -> Option<Duration> {
        let now = Instant::now();
        let state = lock(&member.state).clone();
        let stale = match &state {
            Health::Unchecked => true,
            Health::Healthy { checked, .. } => now.duration_since(*checked) >= self.check_interval,
            Health::Skipped { until, .. } => now >= *until,
        };
        if stale
            && member
                .checking
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            let measured = self.measure(primary, member).await;
            member.checking.store(false, Ordering::Release);
            return match measured {
                Ok(lag) if lag <= self.max_lag => {
                    let was_skipped = matches!(state, Health::Skipped { .. });
                    *lock(&member.state) = Health::Healthy {
                        lag,
                        checked: Instant::now(),
                    };
                    if was_skipped {
                        tracing::info!(target: TARGET, replica = %member.url,
                            lag_ms = lag.as_millis() as u64, "replica healthy again: reads return to it");
                    }
                    Some(lag)
                }
                Ok(lag) => {
                    self.skip(
                        member,
                        format!(
                            "lagging {} ms behind the primary (at most {} ms allowed)",
                            lag.as_millis(),
                            self.max_lag.as_millis()
                        ),
                    );
                    None
                }
                Err(reason) => {
                    self.skip(member, reason);
                    None
                }
            };
        }
        // Another read is measuring it: go by what is known.
        match state {
            Health::Healthy { lag, .. } => Some(lag),
            Health::Unchecked | Health::Skipped { .. } => None,
        }
    }

    /// The member's lag, or why it may not take reads.
    async fn measure(&self, primary: &Database, member: &Member) -> Result<Duration, String> {
        // The primary's position first: a replica that has replayed it is not behind.
        let primary_lsn = {
            let mut conn = primary
                .conn()
                .await
                .map_err(|e| format!("the primary's WAL position is unknown: {e}"))?;
            diesel::sql_query(PRIMARY_LSN_SQL)
                .get_result::<LsnRow>(&mut *conn)
                .await
                .map_err(|e| format!("the primary's WAL position is unknown: {e}"))?
                .lsn
        };
        let row = {
            let mut conn = member
                .db
                .conn()
                .await
                .map_err(|e| format!("no connection: {e}"))?;
            diesel::sql_query(STANDBY_SQL)
                .get_result::<StandbyRow>(&mut *conn)
                .await
                .map_err(|e| format!("its state is unknown: {}", DbError::from(e)))?
        };
        if !row.in_recovery {
            return Err("not a hot standby (it accepts writes): never read from".to_owned());
        }
        match (row.replay_lsn, row.replay_age) {
            (Some(replayed), _) if replayed >= primary_lsn => Ok(Duration::ZERO),
            (_, Some(age)) if age.is_finite() => Ok(Duration::from_secs_f64(age.max(0.0))),
            _ => Err("it has replayed no transaction yet: its lag is unknown".to_owned()),
        }
    }

    fn skip(&self, member: &Member, reason: String) {
        tracing::warn!(target: TARGET, replica = %member.url, %reason,
            retry_in_ms = self.retry_after.as_millis() as u64, "replica skipped");
        *lock(&member.state) = Health::Skipped {
            reason,
            until: Instant::now() + self.retry_after,
        };
    }
}

/// The state even if a thread panicked while holding the lock (the state is a plain value, valid
/// at every point).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs a read (an async closure over `&mut AsyncPgConnection` returning `Result<_, DbError>`)
/// on the server [`Route`] chooses, again on the next one when a replica fails under it.
macro_rules! on_replica {
    ($db:expr, $what:expr, $f:expr) => {{
        let db: &$crate::database::Database = $db;
        let f = $crate::replicas::read_job($f);
        let mut route = $crate::replicas::Route::new(db, $what);
        loop {
            let mut target = match route.next().await {
                Ok(target) => target,
                Err(error) => break Err(error),
            };
            match f(&mut target.conn).await {
                Err(error) if route.retry(&target, &error) => continue,
                other => break other,
            }
        }
    }};
}
pub(crate) use on_replica;

/// Gives a read's closure its type (for `on_replica!`).
pub(crate) fn read_job<T, F>(f: F) -> F
where
    F: AsyncFn(&mut AsyncPgConnection) -> Result<T>,
{
    f
}

impl Database {
    /// A handle on the same pools whose reads all go to the primary: for a caller that must read
    /// what it has just written (replicas replay the primary's changes a little later).
    pub fn primary(&self) -> Database {
        let mut handle = self.clone();
        handle.set_read_routing(ReadRouting {
            forced_primary: true,
            ..self.read_routing().clone()
        });
        handle
    }

    /// Whether this handle has replicas to send reads to (false on [`Database::primary`]'s
    /// handles and when none is configured).
    pub fn reads_from_replicas(&self) -> bool {
        let routing = self.read_routing();
        routing.replicas.is_some() && !routing.forced_primary
    }

    /// Where reads went, and each replica's state (counts are shared by all handles cloned from
    /// one [`Database::connect_with`]).
    pub fn routing(&self) -> Routing {
        let Some(replicas) = &self.read_routing().replicas else {
            return Routing {
                primary_reads: 0,
                replicas: Vec::new(),
            };
        };
        let now = Instant::now();
        Routing {
            primary_reads: AtomicU64::load(&replicas.primary_reads, Ordering::Relaxed),
            replicas: replicas
                .members
                .iter()
                .map(|m| ReplicaStatus {
                    url: m.url.clone(),
                    state: match lock(&m.state).clone() {
                        Health::Unchecked => ReplicaState::Unchecked,
                        Health::Healthy { lag, .. } => ReplicaState::Healthy { lag },
                        Health::Skipped { reason, until } => ReplicaState::Skipped {
                            reason,
                            retry_in: until.saturating_duration_since(now),
                        },
                    },
                    reads: AtomicU64::load(&m.reads, Ordering::Relaxed),
                })
                .collect(),
        }
    }

    /// The primary's current WAL position (`pg_current_wal_lsn()`): everything committed so far
    /// is before it.
    ///
    /// # Errors
    /// Connection errors.
    pub async fn wal_lsn(&self) -> Result<WalLsn> {
        let mut conn = self.conn().await?;
        let row: LsnRow = diesel::sql_query(PRIMARY_LSN_SQL)
            .get_result(&mut *conn)
            .await?;
        Ok(WalLsn(row.lsn.unsigned_abs()))
    }

    /// Waits until every configured replica has replayed the primary's WAL up to `lsn` (polling
    /// `pg_last_wal_replay_lsn()` every 10 ms): after it, a read on any replica sees every
    /// transaction committed before `lsn` was read. Returns at once without replicas.
    ///
    /// # Errors
    /// [`DbError::Connection`] when a replica cannot be reached or has not replayed `lsn` within
    /// `timeout`.
    pub async fn wait_for_replay(&self, lsn: WalLsn, timeout: Duration) -> Result<()> {
        let Some(replicas) = &self.read_routing().replicas else {
            return Ok(());
        };
        let deadline = Instant::now() + timeout;
        for member in &replicas.members {
            loop {
                let replayed = match member.db.conn().await {
                    Ok(mut conn) => diesel::sql_query(STANDBY_SQL)
                        .get_result::<StandbyRow>(&mut *conn)
                        .await
                        .map_err(DbError::from)
                        .map(|row| row.replay_lsn.map(i64::unsigned_abs)),
                    Err(error) => Err(error),
                };
                let last = match replayed {
                    Ok(Some(replayed)) if replayed >= lsn.0 => break,
                    Ok(replayed) => format!(
                        "replayed up to {}",
                        replayed.map_or("nothing".to_owned(), |l| WalLsn(l).to_string())
                    ),
                    Err(error) => error.to_string(),
                };
                if Instant::now() >= deadline {
                    return Err(DbError::Connection(Cause::message(format!(
                        "replica {} has not replayed {lsn} within {timeout:?}: {last}",
                        member.url
                    ))));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn lsn_prints_as_postgresql_does() {
        assert_eq!(WalLsn(0x16_B374_D848).to_string(), "16/B374D848");
        assert_eq!(WalLsn(0).to_string(), "0/0");
    }

    #[test]
    fn only_replica_failures_move_a_read() {
        assert!(replica_failure(&DbError::Connection(Cause::message(
            "refused"
        ))));
        assert!(replica_failure(&DbError::TransactionConflict(
            Cause::message("canceling statement due to conflict with recovery")
        )));
        assert!(!replica_failure(&DbError::not_found("kol", 1)));
        assert!(!replica_failure(&DbError::argument("k", "too large")));
    }

    #[test]
    fn zero_durations_are_refused() {
        let config = DbConfig::new("postgres://h/db")
            .replica("postgres://r/db")
            .max_replica_lag(Duration::ZERO);
        let err = ReadRouting::open(&config).err().unwrap();
        assert!(
            matches!(
                err,
                DbError::InvalidArgument {
                    name: "max_replica_lag",
                    ..
                }
            ),
            "{err}"
        );
    }
}
