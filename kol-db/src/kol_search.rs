//! Creator search by brief in PostgreSQL: kol-core's [`KolSearch`] answered with pgvector.
//!
//! A creator's score is its best picture's cosine distance to the brief; the filters of the
//! [`KolFilter`](kol_core::KolFilter) apply inside the query (one SQL builder shared with the
//! creator listing), and the result is the `k` best distinct creators, ties by creator id.
//!
//! - [`SearchMode::Exact`]: every picture of every creator that passes the filters is compared
//!   (index scans off), one best picture per creator (`DISTINCT ON`), then the `k` best. Exact,
//!   and the reference the approximate mode is measured against.
//! - [`SearchMode::Approximate`]: the nearest pictures come from the vector index with
//!   pgvector 0.8's *iterative index scans* (`relaxed_order`): when the filters discard rows, the
//!   index scan goes on past its first `probes` lists instead of returning too few rows. The
//!   query asks for `4k` pictures (creators have several), keeps each creator's best, and asks for
//!   more when that gives fewer than `k` creators. If the index still yields fewer than `k`
//!   creators (very selective filters, or the scan limits of pgvector such as
//!   `hnsw.max_scan_tuples`), the search falls back to the exact query: a filtered search returns
//!   `k` creators whenever `k` match.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use kol_core::{
    KolId, KolMatch, KolSearch, MatchedKol, MediaId, SearchMode, SearchRequest, order_matches,
};

use crate::database::Database;
use crate::error::{DbError, Result};
use crate::filter_sql::{Bind, SqlFilter};
use crate::search::{search_argument, set_search_settings};

#[derive(QueryableByName)]
struct MatchRow {
    #[diesel(sql_type = BigInt)]
    kol_id: i64,
    #[diesel(sql_type = BigInt)]
    media_id: i64,
    #[diesel(sql_type = Double)]
    distance: f64,
}

impl From<MatchRow> for KolMatch {
    fn from(r: MatchRow) -> Self {
        Self {
            kol_id: KolId(r.kol_id),
            media_id: MediaId(r.media_id),
            distance: r.distance,
        }
    }
}

/// Pictures asked of the index per creator wanted, at first.
const OVERSAMPLE: usize = 4;
/// Largest number of pictures the approximate query asks for before giving up on the index.
const MAX_CANDIDATES: usize = 40_000;

impl Database {
    /// Search to plan in one step: [`Database::search_kols`], then the matched creators'
    /// profiles and rate cards, in the search's order (what kol-optimizer's `plan_campaign`
    /// takes). A creator deleted between the search and the reads is left out.
    ///
    /// # Errors
    /// As [`Database::search_kols`]; [`DbError::InvalidStoredData`] for a stored row kol-core
    /// refuses.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn search_candidates(&self, request: &SearchRequest) -> Result<Vec<MatchedKol>> {
        let matches = self.search_kols(request).await?;
        let ids: Vec<KolId> = matches.iter().map(|m| m.kol_id).collect();
        let mut kols = self.kols_by_ids(&ids).await?;
        let mut cards = self.rate_cards_for(&ids).await?;
        Ok(matches
            .into_iter()
            .filter_map(|matched| {
                let kol = kols.remove(&matched.kol_id)?;
                Some(MatchedKol {
                    matched,
                    kol,
                    rate_cards: cards.remove(&matched.kol_id).unwrap_or_default(),
                })
            })
            .collect())
    }

    /// The `k` creators nearest to the brief that pass the filter (see the
    /// [module docs](crate::kol_search) for how each mode works).
    ///
    /// # Errors
    /// [`DbError::InvalidInput`] with kol-core's error naming `k`, `probes` or `ef_search` when
    /// [`SearchRequest::validate`] refuses the request; connection errors.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn search_kols(&self, request: &SearchRequest) -> Result<Vec<KolMatch>> {
        request.validate().map_err(search_argument)?;
        crate::replicas::on_replica!(self, "search_kols", async |conn: &mut AsyncPgConnection| {
            search_on(conn, request).await
        })
    }
}

/// [`Database::search_kols`] on one connection.
async fn search_on(conn: &mut AsyncPgConnection, request: &SearchRequest) -> Result<Vec<KolMatch>> {
    if let SearchMode::Approximate { .. } = request.mode {
        let mut candidates = request.k * OVERSAMPLE;
        loop {
            let (matches, rows) = approximate(conn, request, candidates).await?;
            if matches.len() >= request.k {
                return Ok(matches);
            }
            if rows < candidates || candidates >= MAX_CANDIDATES {
                // The index ran dry (or we asked enough): answer exactly.
                tracing::debug!(
                    k = request.k,
                    found = matches.len(),
                    pictures = rows,
                    "approximate search found too few creators: falling back to the exact search"
                );
                break;
            }
            tracing::debug!(
                k = request.k,
                found = matches.len(),
                next = (candidates * 4).min(MAX_CANDIDATES),
                "approximate search found too few creators: asking the index for more pictures"
            );
            candidates = (candidates * 4).min(MAX_CANDIDATES);
        }
    }
    exact(conn, request).await
}

impl KolSearch for Database {
    type Error = DbError;

    fn search_kols(
        &self,
        request: &SearchRequest,
    ) -> impl Future<Output = Result<Vec<KolMatch>, DbError>> + Send {
        Database::search_kols(self, request)
    }
}

fn vector(request: &SearchRequest) -> pgvector::Vector {
    pgvector::Vector::from(request.query.as_slice().to_vec())
}

async fn exact(conn: &mut AsyncPgConnection, request: &SearchRequest) -> Result<Vec<KolMatch>> {
    let mut f = SqlFilter::new(&request.filter, 2);
    let condition = f.condition();
    let k = f.bind(Bind::BigInt(request.k as i64));
    let sql = format!(
        "SELECT kol_id, media_id, distance FROM ( \
             SELECT DISTINCT ON (m.kol_id) m.kol_id, m.id AS media_id, m.emb <=> $1 AS distance \
             FROM kol_media m JOIN kols k ON k.id = m.kol_id \
             WHERE m.emb IS NOT NULL AND {condition} \
             ORDER BY m.kol_id, m.emb <=> $1, m.id \
         ) best ORDER BY distance, kol_id LIMIT {k}"
    );
    let query = vector(request);
    let rows: Vec<MatchRow> = conn
        .transaction::<_, DbError, _>(async |conn| {
            set_search_settings(conn, SearchMode::Exact).await?;
            let q = diesel::sql_query(sql)
                .into_boxed()
                .bind::<pgvector::sql_types::Vector, _>(query);
            Ok(f.bind_all(q).load(conn).await?)
        })
        .await?;
    Ok(rows.into_iter().map(KolMatch::from).collect())
}

/// One approximate query for `candidates` pictures; returns the best creators among them and the
/// number of pictures the index gave.
async fn approximate(
    conn: &mut AsyncPgConnection,
    request: &SearchRequest,
    candidates: usize,
) -> Result<(Vec<KolMatch>, usize)> {
    let mut f = SqlFilter::new(&request.filter, 2);
    let condition = f.condition();
    let n = f.bind(Bind::BigInt(candidates as i64));
    let sql = format!(
        "SELECT m.kol_id, m.id AS media_id, m.emb <=> $1 AS distance \
         FROM kol_media m JOIN kols k ON k.id = m.kol_id \
         WHERE m.emb IS NOT NULL AND {condition} \
         ORDER BY m.emb <=> $1 LIMIT {n}"
    );
    let query = vector(request);
    let mode = request.mode;
    let rows: Vec<MatchRow> = conn
        .transaction::<_, DbError, _>(async |conn| {
            set_search_settings(conn, mode).await?;
            let q = diesel::sql_query(sql)
                .into_boxed()
                .bind::<pgvector::sql_types::Vector, _>(query);
            Ok(f.bind_all(q).load(conn).await?)
        })
        .await?;
    let count = rows.len();
    Ok((
        best_per_kol(rows.into_iter().map(KolMatch::from).collect(), request.k),
        count,
    ))
}

/// Each creator's best picture, the `k` best creators, in order.
fn best_per_kol(mut matches: Vec<KolMatch>, k: usize) -> Vec<KolMatch> {
    matches.sort_by(|a, b| order_matches(a, b).then(a.media_id.cmp(&b.media_id)));
    let mut seen = std::collections::HashSet::new();
    matches.retain(|m| seen.insert(m.kol_id));
    matches.truncate(k);
    matches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kol: i64, media: i64, d: f64) -> KolMatch {
        KolMatch {
            kol_id: KolId(kol),
            media_id: MediaId(media),
            distance: d,
        }
    }

    #[test]
    fn best_per_kol_keeps_each_creators_best_picture() {
        let got = best_per_kol(
            vec![m(2, 20, 0.5), m(1, 10, 0.4), m(2, 21, 0.1), m(3, 30, 0.4)],
            2,
        );
        assert_eq!(got, vec![m(2, 21, 0.1), m(1, 10, 0.4)]);
    }
}
