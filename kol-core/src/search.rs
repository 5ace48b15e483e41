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
use crate::error::{CoreError, Result};
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
    /// Largest `probes` (pgvector's limit for `ivfflat.probes`, and its largest list count).
    pub const MAX_PROBES: u32 = 32_768;
    /// Largest `ef_search` (pgvector's limit for `hnsw.ef_search`).
    pub const MAX_EF_SEARCH: u32 = 1_000;

    /// Index-backed search with `probes` lists and pgvector's default `ef_search` (40).
    pub const fn approximate(probes: u32) -> Self {
        Self::Approximate {
            probes,
            ef_search: 40,
        }
    }

    /// Checks the index settings: `probes` in `1..=`[`Self::MAX_PROBES`], `ef_search` in
    /// `1..=`[`Self::MAX_EF_SEARCH`]. Every backend runs this check, so a mode that one
    /// backend accepts, all do.
    ///
    /// # Errors
    /// [`CoreError::OutOfRange`] naming `probes` or `ef_search`.
    pub fn validate(self) -> Result<()> {
        if let Self::Approximate { probes, ef_search } = self {
            in_range("probes", probes.into(), 1, Self::MAX_PROBES.into())?;
            in_range("ef_search", ef_search.into(), 1, Self::MAX_EF_SEARCH.into())?;
        }
        Ok(())
    }
}

fn in_range(field: &'static str, value: i128, min: i128, max: i128) -> Result<()> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(CoreError::OutOfRange {
            field,
            value,
            min,
            max,
        })
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
    /// Largest `k` a search may ask for.
    pub const MAX_K: usize = 10_000;

    /// The `k` nearest creators to `query`, exact, unfiltered.
    pub fn new(query: Embedding, k: usize) -> Self {
        Self {
            query,
            k,
            filter: KolFilter::default(),
            mode: SearchMode::Exact,
        }
    }

    /// Checks what the types cannot: `k` in `1..=`[`Self::MAX_K`] and the mode's index settings
    /// ([`SearchMode::validate`]). Every [`KolSearch`] backend runs it first.
    ///
    /// # Errors
    /// [`CoreError::OutOfRange`] naming `k`, `probes` or `ef_search`.
    pub fn validate(&self) -> Result<()> {
        Self::validate_k(self.k)?;
        self.mode.validate()
    }

    /// Checks a result count on its own: `k` in `1..=`[`Self::MAX_K`] (for backends whose
    /// lower-level searches take `k` and a [`SearchMode`] separately).
    ///
    /// # Errors
    /// [`CoreError::OutOfRange`] naming `k`.
    pub fn validate_k(k: usize) -> Result<()> {
        let k = i128::try_from(k).unwrap_or(i128::MAX);
        in_range("k", k, 1, Self::MAX_K as i128)
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

/// A creator found for a brief with what planning needs: its profile and its rate card. What
/// kol-db's `search_candidates` returns and kol-optimizer's `plan_campaign` takes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedKol {
    /// The match (creator, best picture, distance).
    pub matched: KolMatch,
    /// The creator's stored profile.
    pub kol: crate::kol::Kol,
    /// Its rate card, by item.
    pub rate_cards: Vec<crate::rate_card::RateCard>,
}

/// Orders matches by score, then creator id (the order every backend returns).
pub fn order_matches(a: &KolMatch, b: &KolMatch) -> std::cmp::Ordering {
    a.distance
        .total_cmp(&b.distance)
        .then(a.kol_id.cmp(&b.kol_id))
}

/// The error of a [`KolSearch`] backend, which says in one shape, whatever the backend, that the
/// request itself was refused.
pub trait SearchError: std::error::Error + Send + Sync + 'static {
    /// The reason a request was refused before any search ran ([`SearchRequest::validate`]'s
    /// error: the same value from every backend for the same request); `None` for any other
    /// failure (a lost connection...).
    fn invalid_request(&self) -> Option<&CoreError>;
}

/// A backend that answers creator searches.
///
/// Results: at most `k` distinct creators that pass the filter, ordered by
/// [`order_matches`]; fewer when fewer pass; empty (not an error) when none does. A request
/// [`SearchRequest::validate`] refuses fails with an error whose
/// [`SearchError::invalid_request`] is that refusal.
pub trait KolSearch {
    /// The backend's error.
    type Error: SearchError;

    /// Runs the search.
    fn search_kols(
        &self,
        request: &SearchRequest,
    ) -> impl Future<Output = Result<Vec<KolMatch>, Self::Error>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(k: usize, mode: SearchMode) -> SearchRequest {
        let mut values = vec![0.0; Embedding::DIM];
        values[0] = 1.0;
        let mut r = SearchRequest::new(Embedding::new(values).unwrap(), k);
        r.mode = mode;
        r
    }

    #[test]
    fn requests_are_checked_field_by_field() {
        let field = |r: SearchRequest| match r.validate() {
            Err(CoreError::OutOfRange { field, .. }) => Some(field),
            Ok(()) => None,
            Err(other) => panic!("{other}"),
        };
        assert_eq!(field(request(1, SearchMode::Exact)), None);
        assert_eq!(
            field(request(SearchRequest::MAX_K, SearchMode::approximate(1))),
            None
        );
        assert_eq!(field(request(0, SearchMode::Exact)), Some("k"));
        assert_eq!(
            field(request(SearchRequest::MAX_K + 1, SearchMode::Exact)),
            Some("k")
        );
        assert_eq!(field(request(usize::MAX, SearchMode::Exact)), Some("k"));
        assert_eq!(
            field(request(5, SearchMode::approximate(0))),
            Some("probes")
        );
        assert_eq!(
            field(request(5, SearchMode::approximate(SearchMode::MAX_PROBES))),
            None
        );
        assert_eq!(
            field(request(
                5,
                SearchMode::approximate(SearchMode::MAX_PROBES + 1)
            )),
            Some("probes")
        );
        let ef = |ef_search| SearchMode::Approximate {
            probes: 1,
            ef_search,
        };
        assert_eq!(field(request(5, ef(0))), Some("ef_search"));
        assert_eq!(field(request(5, ef(SearchMode::MAX_EF_SEARCH))), None);
        assert_eq!(
            field(request(5, ef(SearchMode::MAX_EF_SEARCH + 1))),
            Some("ef_search")
        );
    }
}
