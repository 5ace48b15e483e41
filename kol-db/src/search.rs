//! Vector search primitives on pgvector: the k nearest pictures of a query embedding, and the
//! vector index (ivfflat by default, as in the original schema; hnsw on request).
//!
//! Per-query settings (`ivfflat.probes`, `hnsw.ef_search`, disabling index scans for an exact
//! answer) are set with `SET LOCAL` semantics (`set_config(..., true)`) inside the query's own
//! transaction, so they never leak to the next user of a pooled connection.

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use kol_core::{CoreError, Embedding, KolId, MediaId, SearchMode, SearchRequest};
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

/// One picture near a query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MediaHit {
    /// The creator it shows.
    pub kol_id: KolId,
    /// The picture.
    pub media_id: MediaId,
    /// Cosine distance to the query (pgvector's `<=>`), in `[0, 2]`.
    pub distance: f64,
}

/// The largest `k` a query may ask for (kol-core's [`SearchRequest::MAX_K`]).
pub const MAX_K: usize = SearchRequest::MAX_K;

impl Database {
    /// The `k` pictures nearest to `query` by cosine distance (`<=>`), nearest first, ties by
    /// media id. Pictures without an embedding are skipped. [`SearchMode::Exact`] scans every
    /// picture; [`SearchMode::Approximate`] goes through the vector index with its `probes`
    /// (ivfflat) or `ef_search` (hnsw), set for this query's transaction only.
    ///
    /// # Errors
    /// [`DbError::InvalidArgument`] for `k` outside `1..=10_000` or index settings outside
    /// kol-core's ranges ([`SearchMode::validate`]); connection errors.
    pub async fn nearest_media(
        &self,
        query: &Embedding,
        k: usize,
        mode: SearchMode,
    ) -> Result<Vec<MediaHit>> {
        SearchRequest::validate_k(k).map_err(search_argument)?;
        mode.validate().map_err(search_argument)?;
        let limit = i64::try_from(k).map_err(|_| DbError::argument("k", "too large"))?;
        let vector = pgvector::Vector::from(query.as_slice().to_vec());
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        let rows: Vec<(i64, i64, f64)> = conn
            .transaction::<_, DbError, _>(async |conn| {
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
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, kol_id, distance)| MediaHit {
                kol_id: KolId(kol_id),
                media_id: MediaId(id),
                distance,
            })
            .collect())
    }

    /// Rebuilds the vector index as `index` (dropping the current one), in one transaction.
    ///
    /// Run it after a bulk load: an ivfflat index built on an empty or small table has poor
    /// recall. Dropping the old index locks `kol_media` (ACCESS EXCLUSIVE) until the
    /// transaction ends, so reads and writes of pictures wait for the whole build: run it in a
    /// quiet moment. For hnsw on pgvector older than 0.8.2, parallel index builds are turned off for
    /// the build (`max_parallel_maintenance_workers = 0`): pgvector 0.6.0 to 0.8.1 have a buffer
    /// overflow in parallel HNSW builds (CVE-2026-3172).
    ///
    /// # Errors
    /// [`DbError::InvalidArgument`] for parameters out of pgvector's ranges; database errors.
    pub async fn rebuild_vector_index(&self, index: &VectorIndex) -> Result<()> {
        let create = match *index {
            VectorIndex::IvfFlat { lists } => {
                if !(1..=32_768).contains(&lists) {
                    return Err(DbError::argument(
                        "lists",
                        format!("must be 1..=32768, got {lists}"),
                    ));
                }
                format!(
                    "CREATE INDEX {VECTOR_INDEX_NAME} ON kol_media \
                     USING ivfflat (emb vector_cosine_ops) WITH (lists = {lists})"
                )
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
                    "CREATE INDEX {VECTOR_INDEX_NAME} ON kol_media \
                     USING hnsw (emb vector_cosine_ops) WITH (m = {m}, ef_construction = {ef_construction})"
                )
            }
        };
        let hnsw = matches!(index, VectorIndex::Hnsw { .. });
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        conn.transaction::<_, DbError, _>(async |conn| {
            if hnsw && !pgvector_at_least(conn, (0, 8, 2)).await? {
                conn.batch_execute("SET LOCAL max_parallel_maintenance_workers = 0")
                    .await?;
            }
            conn.batch_execute(&format!("DROP INDEX IF EXISTS {VECTOR_INDEX_NAME}"))
                .await?;
            conn.batch_execute(&create).await?;
            Ok(())
        })
        .await
    }

    /// The installed pgvector version (`extversion`), e.g. `"0.8.0"`.
    ///
    /// # Errors
    /// [`DbError::NotFound`] when the extension is not installed in this database.
    pub async fn pgvector_version(&self) -> Result<String> {
        let mut conn = self.conn().await?;
        extension_version(&mut conn).await
    }
}

/// Drops the vector index inside the caller's transaction and returns its definition (`None`
/// when there is none).
pub(crate) async fn take_vector_index(conn: &mut AsyncPgConnection) -> Result<Option<String>> {
    #[derive(QueryableByName)]
    struct Def {
        #[diesel(sql_type = Text)]
        indexdef: String,
    }
    let defs: Vec<Def> = diesel::sql_query("SELECT indexdef FROM pg_indexes WHERE indexname = $1")
        .bind::<Text, _>(VECTOR_INDEX_NAME)
        .load(conn)
        .await?;
    let Some(def) = defs.into_iter().next() else {
        return Ok(None);
    };
    conn.batch_execute(&format!("DROP INDEX {VECTOR_INDEX_NAME}"))
        .await?;
    Ok(Some(def.indexdef))
}

/// Builds the vector index again from the definition [`take_vector_index`] returned, with the
/// HNSW safeguard of [`Database::rebuild_vector_index`].
pub(crate) async fn restore_vector_index(
    conn: &mut AsyncPgConnection,
    definition: &str,
) -> Result<()> {
    if definition.contains("USING hnsw") && !pgvector_at_least(conn, (0, 8, 2)).await? {
        conn.batch_execute("SET LOCAL max_parallel_maintenance_workers = 0")
            .await?;
    }
    conn.batch_execute(definition).await?;
    Ok(())
}

/// kol-core's verdict on search settings as kol-db's error: an out-of-range field is an
/// [`DbError::InvalidArgument`] named after it.
pub(crate) fn search_argument(error: CoreError) -> DbError {
    match error {
        CoreError::OutOfRange { field, .. } => DbError::argument(field, error.to_string()),
        other => DbError::InvalidInput(other),
    }
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
                    Err(DbError::InvalidArgument { name: "k", .. })
                ),
                "{bad}"
            );
        }
        assert!(check_k(10).is_ok());
    }
}
