//! Vector search primitives on pgvector: the k nearest pictures of a query embedding, and the
//! vector index (ivfflat by default, as in the original schema; hnsw on request).
//!
//! Per-query settings (`ivfflat.probes`, `hnsw.ef_search`, disabling index scans for an exact
//! answer) are set with `SET LOCAL` semantics (`set_config(..., true)`) inside the query's own
//! transaction, so they never leak to the next user of a pooled connection.

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use kol_core::{CoreError, Embedding, KolId, KolMatch, MediaId, SearchMode, SearchRequest};
use pgvector::VectorExpressionMethods;

use crate::database::Database;
use crate::error::{DbError, Result};
use crate::schema::kol_media;

/// The vector index on `kol_media.emb` (cosine distance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorIndex {
    /// ivfflat with this many lists (the original schema's index: `lists = 100`). pgvector suggests
    /// `rows / 1000` lists up to a million rows.
    IvfFlat {
        /// Number of inverted lists (`1..=32768`).
        lists: u32,
    },
    /// hnsw with these build parameters (pgvector's defaults: `m = 16`, `ef_construction = 64`).
    Hnsw {
        /// Links per node (`2..=100`).
        m: u32,
        /// Candidate list size while building (`4..=1000`, at least `2 * m`).
        ef_construction: u32,
    },
}

impl Default for VectorIndex {
    fn default() -> Self {
        Self::IvfFlat { lists: 100 }
    }
}

/// The name of the vector index (kept across rebuilds).
pub const VECTOR_INDEX_NAME: &str = "kol_media_emb_idx";

/// The largest `k` a query may ask for (kol-core's [`SearchRequest::MAX_K`]).
pub const MAX_K: usize = SearchRequest::MAX_K;

impl Database {
    /// The `k` pictures nearest to `query` by cosine distance (`<=>`), nearest first, ties by
    /// media id, each as a [`KolMatch`] (the picture, its creator, its distance: the one search
    /// result type of every backend). Pictures without an embedding are skipped. [`SearchMode::Exact`] scans every
    /// picture; [`SearchMode::Approximate`] goes through the vector index with its `probes`
    /// (ivfflat) or `ef_search` (hnsw), set for this query's transaction only.
    ///
    /// # Errors
    /// [`DbError::InvalidInput`] with kol-core's error for `k` outside `1..=10_000` or index
    /// settings outside kol-core's ranges ([`SearchMode::validate`]), as the in-memory backend
    /// reports them; connection errors.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn nearest_media(
        &self,
        query: &Embedding,
        k: usize,
        mode: SearchMode,
    ) -> Result<Vec<KolMatch>> {
        SearchRequest::validate_k(k).map_err(search_argument)?;
        mode.validate().map_err(search_argument)?;
        let limit = i64::try_from(k).map_err(|_| DbError::argument("k", "too large"))?;
        let vector = pgvector::Vector::from(query.as_slice().to_vec());
        let rows: Vec<(i64, i64, f64)> = crate::replicas::on_replica!(
            self,
            "nearest_media",
            async |conn: &mut AsyncPgConnection| {
                conn.transaction::<_, DbError, _>(async |conn| {
                    set_search_settings(conn, mode).await?;
                    let rows = kol_media::table
                        .filter(kol_media::emb.is_not_null())
                        .select((
                            kol_media::id,
                            kol_media::kol_id,
                            kol_media::emb
                                .cosine_distance(vector.clone())
                                .assume_not_null(),
                        ))
                        .order((
                            kol_media::emb.cosine_distance(vector.clone()).asc(),
                            kol_media::id.asc(),
                        ))
                        .limit(limit)
                        .load(conn)
                        .await?;
                    Ok(rows)
                })
                .await
            }
        )?;
        Ok(rows
            .into_iter()
            .map(|(id, kol_id, distance)| KolMatch {
                kol_id: KolId(kol_id),
                media_id: MediaId(id),
                distance,
            })
            .collect())
    }

    /// Rebuilds the vector index as `index`, while searches go on.
    ///
    /// Run it after a bulk load: an ivfflat index built on an empty or small table has poor
    /// recall. The new index is built beside the current one (`CREATE INDEX CONCURRENTLY` under
    /// a temporary name: reads and writes of pictures go on meanwhile), then takes its place in
    /// one short transaction (see [`Database::import_catalogue`] for how that swap waits for
    /// running searches). A search sees the old index or the new one, never none. Index jobs
    /// (this and imports that rebuild the index) run one at a time: a second one waits. The
    /// build runs on its own connection without a statement timeout. For hnsw on pgvector older
    /// than 0.8.2, parallel index builds are turned off for the build
    /// (`max_parallel_maintenance_workers = 0`): pgvector 0.6.0 to 0.8.1 have a buffer overflow
    /// in parallel HNSW builds (CVE-2026-3172).
    ///
    /// # Errors
    /// [`DbError::InvalidArgument`] for parameters out of pgvector's ranges; database errors
    /// (a failed build leaves the current index as it was).
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn rebuild_vector_index(&self, index: &VectorIndex) -> Result<()> {
        let using = match *index {
            VectorIndex::IvfFlat { lists } => {
                if !(1..=32_768).contains(&lists) {
                    return Err(DbError::argument(
                        "lists",
                        format!("must be 1..=32768, got {lists}"),
                    ));
                }
                format!("USING ivfflat (emb vector_cosine_ops) WITH (lists = {lists})")
            }
            VectorIndex::Hnsw { m, ef_construction } => {
                if !(2..=100).contains(&m)
                    || !(4..=1000).contains(&ef_construction)
                    || ef_construction < 2 * m
                {
                    return Err(DbError::argument(
                        "hnsw",
                        format!(
                            "need 2 <= m <= 100 and max(4, 2m) <= ef_construction <= 1000, got m = {m}, ef_construction = {ef_construction}"
                        ),
                    ));
                }
                format!(
                    "USING hnsw (emb vector_cosine_ops) WITH (m = {m}, ef_construction = {ef_construction})"
                )
            }
        };
        let hnsw = matches!(index, VectorIndex::Hnsw { .. });
        let mut conn = self.maintenance_conn().await?;
        lock_index_maintenance(&mut conn).await?;
        let result = async {
            if hnsw && !pgvector_at_least(&mut conn, (0, 8, 2)).await? {
                conn.batch_execute("SET max_parallel_maintenance_workers = 0")
                    .await?;
            }
            // One statement per call: CONCURRENTLY cannot run inside a transaction block.
            let built = conn
                .batch_execute(&format!(
                    "CREATE INDEX CONCURRENTLY {NEXT_VECTOR_INDEX_NAME} ON kol_media {using}"
                ))
                .await;
            if let Err(error) = built {
                // A failed concurrent build leaves an invalid index behind.
                let _ = drop_replacement(&mut conn).await;
                return Err(error.into());
            }
            conn.transaction::<_, DbError, _>(async |conn| swap_in_replacement(conn).await)
                .await
        }
        .await;
        unlock_index_maintenance(&mut conn).await;
        result
    }

    /// The installed pgvector version (`extversion`), e.g. `"0.8.0"`.
    ///
    /// # Errors
    /// [`DbError::NotFound`] when the extension is not installed in this database.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn pgvector_version(&self) -> Result<String> {
        let mut conn = self.conn().await?;
        extension_version(&mut conn).await
    }
}

/// The name a replacement vector index is built under before it takes the place of
/// [`VECTOR_INDEX_NAME`].
pub(crate) const NEXT_VECTOR_INDEX_NAME: &str = "kol_media_emb_idx_next";

/// Advisory lock key of the vector index jobs (imports that rebuild it, and
/// [`Database::rebuild_vector_index`]): one at a time, so two never race on the replacement.
const INDEX_MAINTENANCE_LOCK: i64 = 0x6b6f_6c5f_7665_6369; // "kol_veci"

/// How long one attempt to swap the replacement index in waits for the searches running on
/// `kol_media` (the swap needs the table to itself for a moment, and searches that arrive while
/// it waits queue behind it: this bounds how long they wait).
const SWAP_LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(300);
/// Pause between two swap attempts, so queued searches run.
const SWAP_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);
/// How long short swap attempts go on; after that one attempt waits as long as it takes.
const SWAP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// Takes the index-job lock for the session (waits for a running job; the connection must have
/// no lock timeout), then drops what a job that died midway left: an invalid replacement.
pub(crate) async fn lock_index_maintenance(conn: &mut AsyncPgConnection) -> Result<()> {
    conn.batch_execute(&format!(
        "SELECT pg_advisory_lock({INDEX_MAINTENANCE_LOCK})"
    ))
    .await?;
    drop_replacement(conn).await
}

/// Releases the index-job lock (closing the connection would release it too).
pub(crate) async fn unlock_index_maintenance(conn: &mut AsyncPgConnection) {
    let _ = conn
        .batch_execute(&format!(
            "SELECT pg_advisory_unlock({INDEX_MAINTENANCE_LOCK})"
        ))
        .await;
}

/// Drops the replacement index if there is one, without blocking searches (outside any
/// transaction).
async fn drop_replacement(conn: &mut AsyncPgConnection) -> Result<()> {
    conn.batch_execute(&format!(
        "DROP INDEX CONCURRENTLY IF EXISTS {NEXT_VECTOR_INDEX_NAME}"
    ))
    .await?;
    Ok(())
}

/// The definition of the current vector index (`pg_get_indexdef`), or `None` when there is none.
pub(crate) async fn vector_index_definition(
    conn: &mut AsyncPgConnection,
) -> Result<Option<String>> {
    #[derive(QueryableByName)]
    struct Def {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        indexdef: Option<String>,
    }
    let def: Def = diesel::sql_query("SELECT pg_get_indexdef(to_regclass($1)) AS indexdef")
        .bind::<Text, _>(VECTOR_INDEX_NAME)
        .get_result(conn)
        .await?;
    Ok(def.indexdef)
}

/// Builds, inside the caller's transaction, a replacement of the vector index with the same
/// `definition`, then swaps it in ([`swap_in_replacement`]).
///
/// The build takes a SHARE lock on `kol_media` until the transaction ends: searches go on (and
/// still use the current index), writes of pictures by others wait for the commit. The build
/// has no statement timeout (`SET LOCAL`), and the HNSW safeguard of
/// [`Database::rebuild_vector_index`] applies.
pub(crate) async fn rebuild_in_transaction(
    conn: &mut AsyncPgConnection,
    definition: &str,
) -> Result<()> {
    conn.batch_execute("SET LOCAL statement_timeout = 0")
        .await?;
    if definition.contains("USING hnsw") && !pgvector_at_least(conn, (0, 8, 2)).await? {
        conn.batch_execute("SET LOCAL max_parallel_maintenance_workers = 0")
            .await?;
    }
    conn.batch_execute(&replacement_definition(definition)?)
        .await?;
    swap_in_replacement(conn).await
}

/// `CREATE INDEX kol_media_emb_idx ON ...` as `CREATE INDEX kol_media_emb_idx_next ON ...`.
fn replacement_definition(definition: &str) -> Result<String> {
    definition
        .split_once(" ON ")
        .filter(|(head, _)| head.ends_with(VECTOR_INDEX_NAME))
        .map(|(head, tail)| {
            let head = &head[..head.len() - VECTOR_INDEX_NAME.len()];
            format!("{head}{NEXT_VECTOR_INDEX_NAME} ON {tail}")
        })
        .ok_or_else(|| {
            DbError::argument(
                "vector index",
                format!("cannot read the definition of {VECTOR_INDEX_NAME}: {definition}"),
            )
        })
}

/// Drops the current vector index and gives the replacement its name, inside the caller's
/// transaction (the change is visible at its commit, all at once).
///
/// Dropping an index needs `kol_media` to itself (ACCESS EXCLUSIVE) until the commit, so it
/// waits for running searches, and searches arriving meanwhile wait behind it. Each attempt
/// therefore waits at most [`SWAP_LOCK_WAIT`] (in a savepoint, so a timed-out attempt leaves the
/// transaction usable), pauses, and tries again for [`SWAP_PATIENCE`]; after that, one attempt
/// waits as long as it takes, so a long-running statement delays the swap but never undoes the
/// work before it.
pub(crate) async fn swap_in_replacement(conn: &mut AsyncPgConnection) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let patient = started.elapsed() >= SWAP_PATIENCE;
        let wait_ms = if patient {
            0
        } else {
            SWAP_LOCK_WAIT.as_millis()
        };
        let attempt = conn
            .transaction::<_, DbError, _>(async |conn| {
                conn.batch_execute(&format!("SET LOCAL lock_timeout = {wait_ms}"))
                    .await?;
                conn.batch_execute(&format!("DROP INDEX IF EXISTS {VECTOR_INDEX_NAME}"))
                    .await?;
                conn.batch_execute(&format!(
                    "ALTER INDEX {NEXT_VECTOR_INDEX_NAME} RENAME TO {VECTOR_INDEX_NAME}"
                ))
                .await?;
                Ok(())
            })
            .await;
        match attempt {
            Err(DbError::LockTimeout(_)) if !patient => {
                tracing::debug!(
                    waited_ms = started.elapsed().as_millis() as u64,
                    "vector index swap waited too long for searches to finish: retrying"
                );
                tokio::time::sleep(SWAP_PAUSE).await;
            }
            other => return other,
        }
    }
}

/// A search request kol-core refuses: [`DbError::InvalidInput`] holding kol-core's error, the
/// same error the in-memory backend holds ([`kol_core::SearchError::invalid_request`]).
pub(crate) fn search_argument(error: CoreError) -> DbError {
    DbError::InvalidInput(error)
}

/// Sets the per-transaction search settings (`SET LOCAL` semantics): index scans off for an
/// exact answer; probes, `ef_search` and pgvector 0.8's iterative index scans (relaxed order: the
/// caller re-sorts) for an approximate one.
pub(crate) async fn set_search_settings(
    conn: &mut AsyncPgConnection,
    mode: SearchMode,
) -> Result<()> {
    #[derive(QueryableByName)]
    struct Set {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        value: String,
    }
    let settings: Vec<(&str, String)> = match mode {
        SearchMode::Exact => vec![("enable_indexscan", "off".to_owned())],
        SearchMode::Approximate { probes, ef_search } => {
            mode.validate().map_err(search_argument)?;
            vec![
                ("ivfflat.probes", probes.to_string()),
                ("hnsw.ef_search", ef_search.to_string()),
                ("ivfflat.iterative_scan", "relaxed_order".to_owned()),
                ("hnsw.iterative_scan", "relaxed_order".to_owned()),
            ]
        }
    };
    for (name, value) in settings {
        let _: Vec<Set> = diesel::sql_query("SELECT set_config($1, $2, true) AS value")
            .bind::<Text, _>(name)
            .bind::<Text, _>(value)
            .load(conn)
            .await?;
    }
    Ok(())
}

async fn extension_version(conn: &mut AsyncPgConnection) -> Result<String> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Text)]
        extversion: String,
    }
    let rows: Vec<Version> =
        diesel::sql_query("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            .load(conn)
            .await?;
    rows.into_iter()
        .next()
        .map(|v| v.extversion)
        .ok_or_else(|| DbError::not_found("extension", "vector"))
}

async fn pgvector_at_least(conn: &mut AsyncPgConnection, wanted: (u32, u32, u32)) -> Result<bool> {
    let version = extension_version(conn).await?;
    Ok(parse_version(&version).is_some_and(|v| v >= wanted))
}

fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replacement_index_has_the_same_definition_under_another_name() {
        assert_eq!(
            replacement_definition(
                "CREATE INDEX kol_media_emb_idx ON public.kol_media USING ivfflat (emb vector_cosine_ops) WITH (lists='100')"
            )
            .unwrap(),
            "CREATE INDEX kol_media_emb_idx_next ON public.kol_media USING ivfflat (emb vector_cosine_ops) WITH (lists='100')"
        );
        assert_eq!(
            replacement_definition(
                "CREATE UNIQUE INDEX kol_media_emb_idx ON ONLY kol_media USING hnsw (emb)"
            )
            .unwrap(),
            "CREATE UNIQUE INDEX kol_media_emb_idx_next ON ONLY kol_media USING hnsw (emb)"
        );
        assert!(
            replacement_definition("CREATE INDEX other ON kol_media USING hnsw (emb)").is_err()
        );
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(parse_version("0.8.0"), Some((0, 8, 0)));
        assert_eq!(parse_version("0.10"), Some((0, 10, 0)));
        assert!(parse_version("0.8.1").unwrap() < (0, 8, 2));
        assert!(parse_version("0.10.0").unwrap() > (0, 8, 2));
        assert_eq!(parse_version("x"), None);
    }

    #[test]
    fn k_is_checked() {
        let check_k = |k| SearchRequest::validate_k(k).map_err(search_argument);
        for bad in [0, MAX_K + 1] {
            assert!(
                matches!(
                    check_k(bad),
                    Err(DbError::InvalidInput(kol_core::CoreError::OutOfRange {
                        field: "k",
                        ..
                    }))
                ),
                "{bad}"
            );
        }
        assert!(check_k(10).is_ok());
    }
}
