//! Creator search by brief: the request, the result, and the trait every backend implements.
//!
//! A brief is an embedding of what the campaign should look like. A creator's score is its best
//! picture's cosine distance to the brief (pgvector's `<=>`); a search returns the `k` distinct
//! creators with the smallest scores that pass the [`KolFilter`], ordered by score, ties by
//! creator id. kol-db answers it in PostgreSQL (pgvector) and kol-vector in memory, with the same
//! meaning: in [`SearchMode::Exact`] both return the same creators in the same order.

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::embedding::Embedding;
use crate::filter::KolFilter;
use crate::ids::{KolId, MediaId};

/// Exact or index-backed search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// Every picture compared: the exact answer.
    Exact,
    /// Through the vector index: faster, may miss a few of the true nearest.
    Approximate {
        /// Inverted lists searched (pgvector's `ivfflat.probes`, kol-vector's IVF probes).
        probes: u32,
        /// Candidate list size of an HNSW index (pgvector's `hnsw.ef_search`).
        ef_search: u32,
    },
}

impl SearchMode {
    /// Index-backed search with `probes` lists and pgvector's default `ef_search` (40).
    pub const fn approximate(probes: u32) -> Self {
        Self::Approximate {
            probes,
            ef_search: 40,
        }
    }
}

impl Default for SearchMode {
    /// Exact: correct first; choose an approximate mode for speed on large catalogues.
    fn default() -> Self {
        Self::Exact
    }
}

/// A creator search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The brief.
    pub query: Embedding,
    /// How many creators to return (at most).
    pub k: usize,
    /// Which creators may be returned.
    pub filter: KolFilter,
    /// Exact or index-backed.
    pub mode: SearchMode,
}

impl SearchRequest {
    /// The `k` nearest creators to `query`, exact, unfiltered.
    pub fn new(query: Embedding, k: usize) -> Self {
        Self {
            query,
            k,
            filter: KolFilter::default(),
            mode: SearchMode::Exact,
        }
    }
}

/// A creator that matches a brief.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KolMatch {
    /// The creator.
    pub kol_id: KolId,
    /// Its picture nearest to the brief.
    pub media_id: MediaId,
    /// That picture's cosine distance to the brief (`<=>`), in `[0, 2]`: the creator's score.
    pub distance: f64,
}

/// Orders matches by score, then creator id (the order every backend returns).
pub fn order_matches(a: &KolMatch, b: &KolMatch) -> std::cmp::Ordering {
    a.distance
        .total_cmp(&b.distance)
        .then(a.kol_id.cmp(&b.kol_id))
}

/// A backend that answers creator searches.
///
/// Results: at most `k` distinct creators that pass the filter, ordered by
/// [`order_matches`]; fewer when fewer pass; empty (not an error) when none does.
pub trait KolSearch {
    /// The backend's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Runs the search.
    fn search_kols(
        &self,
        request: &SearchRequest,
    ) -> impl Future<Output = Result<Vec<KolMatch>, Self::Error>> + Send;
}
