//! An in-memory creator catalogue that answers kol-core's [`KolSearch`], with the meaning kol-db
//! gives it in PostgreSQL: a creator's score is its best picture's cosine distance to the brief;
//! the [`KolFilter`](kol_core::KolFilter) (profile, cheapest rate-card item, outreach state) is
//! applied during the scan; the result is the `k` best distinct creators, ties by creator id.
//!
//! - [`SearchMode::Exact`] scans every picture ([`ExactSearch`](crate::ExactSearch)).
//! - [`SearchMode::Approximate`] uses the IVF index once [`MemoryCatalogue::build_ivf`] has built
//!   one (its `probes` are pgvector's `ivfflat.probes`; more than `lists` means all lists), and
//!   keeps probing lists while the filter leaves fewer than `k` creators, like pgvector 0.8's
//!   iterative index scans. Without an index it answers exactly.
//!
//! Ids: [`MemoryCatalogue::from_entries`] numbers creators and pictures 1, 2, 3... in order, as a
//! fresh PostgreSQL database does on import, so both backends name the same creators the same.

use std::collections::HashMap;
use std::future::Future;

use kol_core::{
    CatalogueEntry, ConversationStatus, Embedding, KolFacts, KolId, KolMatch, KolSearch, MediaId,
    NewKol, NewRateCard, SearchMode, SearchRequest,
};

use crate::distance::Metric;
use crate::error::{Result, VectorError};
use crate::exact::Hit;
use crate::ivf::{IvfIndex, IvfParams};
use crate::matrix::{EmbeddingMatrix, Query};

/// A creator as the in-memory catalogue knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueKol {
    /// The profile.
    pub profile: NewKol,
    /// Its rate card.
    pub rate_cards: Vec<NewRateCard>,
    /// What filters need beyond the profile (cheapest item, open conversation).
    pub facts: KolFacts,
}

#[derive(Debug)]
enum Vectors {
    Flat(EmbeddingMatrix),
    Ivf(IvfIndex),
}

/// Creators, their pictures' embeddings, and optionally an IVF index over them.
#[derive(Debug)]
pub struct MemoryCatalogue {
    kols: HashMap<KolId, CatalogueKol>,
    vectors: Vectors,
}

impl Default for MemoryCatalogue {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryCatalogue {
    /// An empty catalogue.
    pub fn new() -> Self {
        Self {
            kols: HashMap::new(),
            vectors: Vectors::Flat(EmbeddingMatrix::for_embeddings()),
        }
    }

    /// A catalogue of `entries`, numbering creators and pictures from 1 in order (as a fresh
    /// database import does). Pictures without an embedding get an id but are not searchable.
    ///
    /// # Errors
    /// [`VectorError::DuplicateKol`] when two entries have the same handle.
    pub fn from_entries(entries: impl IntoIterator<Item = CatalogueEntry>) -> Result<Self> {
        let mut catalogue = Self::new();
        let mut handles = std::collections::HashSet::new();
        let mut media_id = 0i64;
        for (i, entry) in entries.into_iter().enumerate() {
            let kol_id = KolId(i as i64 + 1);
            if !handles.insert(entry.kol.handle.clone()) {
                return Err(VectorError::DuplicateKol { kol: kol_id });
            }
            let mut media = Vec::with_capacity(entry.media.len());
            for m in entry.media {
                media_id += 1;
                if let Some(e) = m.embedding {
                    media.push((MediaId(media_id), e));
                }
            }
            catalogue.insert(kol_id, entry.kol, &media, entry.rate_cards)?;
        }
        Ok(catalogue)
    }

    /// Adds a creator with its pictures' embeddings and its rate card. Drops the IVF index, if
    /// any (rebuild it with [`MemoryCatalogue::build_ivf`]).
    ///
    /// # Errors
    /// [`VectorError::DuplicateKol`] for a creator id already present,
    /// [`VectorError::DuplicateMedia`] for a picture id already present (nothing is added then).
    pub fn insert(
        &mut self,
        id: KolId,
        profile: NewKol,
        media: &[(MediaId, Embedding)],
        rate_cards: Vec<NewRateCard>,
    ) -> Result<()> {
        if self.kols.contains_key(&id) {
            return Err(VectorError::DuplicateKol { kol: id });
        }
        let mut matrix = self.take_flat();
        let mut seen = std::collections::HashSet::new();
        if let Some((m, _)) = media
            .iter()
            .find(|(m, _)| matrix.row_of(*m).is_some() || !seen.insert(*m))
        {
            let first = matrix.row_of(*m).unwrap_or(matrix.len());
            let second = matrix.len();
            self.vectors = Vectors::Flat(matrix);
            return Err(VectorError::DuplicateMedia {
                media: *m,
                first,
                second,
            });
        }
        // Embeddings are 512 finite values with a valid norm, and the ids are new: pushing them
        // cannot fail, so the matrix never holds part of a creator.
        let pushed = media
            .iter()
            .try_for_each(|(m, e)| matrix.push_embedding(*m, id, e));
        self.vectors = Vectors::Flat(matrix);
        pushed?;
        let facts = KolFacts {
            cheapest_item: rate_cards.iter().map(|c| c.price).min(),
            open_conversation: None,
        };
        self.kols.insert(
            id,
            CatalogueKol {
                profile,
                rate_cards,
                facts,
            },
        );
        Ok(())
    }

    /// Records the status of a creator's open conversation (`None`: none open), for the
    /// outreach filter. Returns `false` when the creator is unknown.
    pub fn set_open_conversation(&mut self, id: KolId, status: Option<ConversationStatus>) -> bool {
        let status = status.filter(|s| s.is_open());
        self.kols
            .get_mut(&id)
            .map(|k| k.facts.open_conversation = status)
            .is_some()
    }

    /// Builds (or rebuilds) the IVF index over the pictures, with cosine distance.
    ///
    /// # Errors
    /// [`VectorError::InvalidLists`] when `lists` is 0 or more than the number of pictures.
    pub fn build_ivf(&mut self, lists: usize, seed: u64) -> Result<()> {
        let matrix = self.take_flat();
        if lists == 0 || lists > matrix.len() {
            let rows = matrix.len();
            self.vectors = Vectors::Flat(matrix);
            return Err(VectorError::InvalidLists { lists, rows });
        }
        // With `lists` checked and the other parameters at their defaults, building cannot fail
        // (it would otherwise consume the pictures).
        let params = IvfParams {
            seed,
            ..IvfParams::new(lists, Metric::Cosine)
        };
        self.vectors = Vectors::Ivf(IvfIndex::build(matrix, params)?);
        Ok(())
    }

    /// The number of IVF lists, when an index is built.
    pub fn ivf_lists(&self) -> Option<usize> {
        match &self.vectors {
            Vectors::Flat(_) => None,
            Vectors::Ivf(index) => Some(index.lists()),
        }
    }

    /// A creator.
    pub fn kol(&self, id: KolId) -> Option<&CatalogueKol> {
        self.kols.get(&id)
    }

    /// Number of creators.
    pub fn len(&self) -> usize {
        self.kols.len()
    }

    /// Whether there is no creator.
    pub fn is_empty(&self) -> bool {
        self.kols.is_empty()
    }

    /// Number of searchable pictures.
    pub fn media_count(&self) -> usize {
        self.matrix().len()
    }

    fn matrix(&self) -> &EmbeddingMatrix {
        match &self.vectors {
            Vectors::Flat(m) => m,
            Vectors::Ivf(index) => index.matrix(),
        }
    }

    /// The pictures as a flat matrix, taken out (dropping the IVF index, if any).
    fn take_flat(&mut self) -> EmbeddingMatrix {
        let empty = Vectors::Flat(EmbeddingMatrix::for_embeddings());
        match std::mem::replace(&mut self.vectors, empty) {
            Vectors::Flat(m) => m,
            Vectors::Ivf(index) => index.into_matrix(),
        }
    }

    /// The `k` best creators for the brief that pass the filter (see the module docs).
    ///
    /// # Errors
    /// [`VectorError::InvalidRequest`] for anything [`SearchRequest::validate`] refuses (`k`
    /// outside `1..=10,000`, `probes` or `ef_search` out of range): kol-core's error, the same
    /// value kol-db reports for the same request.
    pub fn search(&self, request: &SearchRequest) -> Result<Vec<KolMatch>> {
        request.validate().map_err(VectorError::InvalidRequest)?;
        if self.matrix().is_empty() {
            return Ok(Vec::new());
        }
        let query = Query::new(request.query.as_slice())?;
        let accepts = |id: KolId| {
            self.kols
                .get(&id)
                .is_some_and(|k| request.filter.matches(&k.profile, &k.facts))
        };
        let hits: Vec<Hit> = match (&self.vectors, request.mode) {
            (Vectors::Ivf(index), SearchMode::Approximate { probes, .. }) => {
                // Validated above: 1..=32768; more probes than lists scan every list, as in
                // pgvector.
                let probes = (probes as usize).min(index.lists());
                index
                    .with_probes(probes)?
                    .search_kols(&query, request.k, &accepts)?
            }
            _ => self
                .matrix()
                .exact(Metric::Cosine)
                .search_kols(&query, request.k, &accepts)?,
        };
        Ok(hits)
    }
}

impl KolSearch for MemoryCatalogue {
    type Error = VectorError;

    fn search_kols(
        &self,
        request: &SearchRequest,
    ) -> impl Future<Output = Result<Vec<KolMatch>>> + Send {
        std::future::ready(self.search(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kol_core::{
        AudienceShare, DeliverableItem, Handle, KolFilter, MediaKind, MediaLocation, NewKolMedia,
        OutreachFilter, PlainText, Platform, PriceThb,
    };

    /// A unit vector mostly along axis `axis`, nudged by `offset` on the next axis.
    fn embedding(axis: usize, offset: f32) -> Embedding {
        let mut v = vec![0.0; Embedding::DIM];
        v[axis] = 1.0;
        v[(axis + 1) % Embedding::DIM] = offset;
        Embedding::new(v).unwrap()
    }

    fn entry(i: usize, embeddings: Vec<Option<Embedding>>, price: i64) -> CatalogueEntry {
        let mut kol = NewKol::new(Handle::new(Platform::Tiktok, &format!("k{i}")).unwrap());
        kol.audience_th_pct = Some(AudienceShare::new((i * 10 % 101) as i64).unwrap());
        let media = embeddings
            .into_iter()
            .map(|embedding| NewKolMedia {
                kind: MediaKind::Thumb,
                location: MediaLocation::path(PlainText::new("/a.jpg").unwrap()),
                embedding,
            })
            .collect();
        let cards = vec![NewRateCard::new(
            DeliverableItem::BUNDLE,
            PriceThb::new(price).unwrap(),
            None,
        )];
        CatalogueEntry {
            kol,
            media,
            rate_cards: cards,
        }
    }

    fn catalogue() -> MemoryCatalogue {
        MemoryCatalogue::from_entries(vec![
            entry(
                0,
                vec![Some(embedding(0, 0.5)), Some(embedding(0, 0.1))],
                100,
            ),
            entry(1, vec![None, Some(embedding(0, 0.2))], 200),
            entry(2, vec![Some(embedding(3, 0.0))], 300),
            entry(3, vec![Some(embedding(0, 0.3))], 400),
        ])
        .unwrap()
    }

    fn ids(matches: &[KolMatch]) -> Vec<(i64, i64)> {
        matches
            .iter()
            .map(|m| (m.kol_id.get(), m.media_id.get()))
            .collect()
    }

    #[test]
    fn ids_follow_the_import_order_and_each_creator_counts_once() {
        let c = catalogue();
        assert_eq!(
            (c.len(), c.media_count()),
            (4, 5),
            "a picture without embedding is not searchable"
        );
        let got = c
            .search(&SearchRequest::new(embedding(0, 0.0), 10))
            .unwrap();
        // Creator 1's best picture is its second (media 2); creator 2's is media 4.
        assert_eq!(ids(&got), vec![(1, 2), (2, 4), (4, 6), (3, 5)]);
        assert!(got.windows(2).all(|w| w[0].distance <= w[1].distance));
    }

    #[test]
    fn filters_apply_during_the_search() {
        let mut c = catalogue();
        let q = embedding(0, 0.0);
        let cheap = KolFilter {
            max_item_price: Some(PriceThb::new(250).unwrap()),
            ..Default::default()
        };
        let got = c
            .search(&SearchRequest {
                filter: cheap,
                ..SearchRequest::new(q.clone(), 10)
            })
            .unwrap();
        assert_eq!(ids(&got), vec![(1, 2), (2, 4)]);
        assert!(c.set_open_conversation(KolId(1), Some(ConversationStatus::Negotiating)));
        assert!(!c.set_open_conversation(KolId(99), None));
        let fresh = KolFilter {
            outreach: OutreachFilter::NoOpenConversation,
            ..Default::default()
        };
        let got = c
            .search(&SearchRequest {
                filter: fresh,
                ..SearchRequest::new(q.clone(), 2)
            })
            .unwrap();
        assert_eq!(ids(&got), vec![(2, 4), (4, 6)]);
        let nobody = KolFilter {
            platforms: vec![Platform::X],
            ..Default::default()
        };
        assert!(
            c.search(&SearchRequest {
                filter: nobody,
                ..SearchRequest::new(q, 2)
            })
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn ivf_with_every_list_probed_is_exact_and_inserting_drops_the_index() {
        let mut c = catalogue();
        let q = embedding(0, 0.05);
        let exact = c.search(&SearchRequest::new(q.clone(), 3)).unwrap();
        c.build_ivf(3, 7).unwrap();
        assert_eq!(c.ivf_lists(), Some(3));
        let approx = SearchRequest {
            mode: SearchMode::approximate(99),
            ..SearchRequest::new(q.clone(), 3)
        };
        assert_eq!(
            c.search(&approx).unwrap(),
            exact,
            "probes above lists means every list"
        );
        assert!(matches!(
            c.search(&SearchRequest {
                mode: SearchMode::approximate(0),
                ..approx.clone()
            }),
            Err(VectorError::InvalidRequest(
                kol_core::CoreError::OutOfRange {
                    field: "probes",
                    ..
                }
            ))
        ));
        assert!(matches!(
            c.search(&SearchRequest {
                k: SearchRequest::MAX_K + 1,
                ..approx.clone()
            }),
            Err(VectorError::InvalidRequest(
                kol_core::CoreError::OutOfRange { field: "k", .. }
            ))
        ));
        assert!(matches!(
            c.build_ivf(0, 1),
            Err(VectorError::InvalidLists { .. })
        ));
        assert_eq!(c.media_count(), 5, "a refused build keeps the pictures");
        c.insert(
            KolId(10),
            entry(10, vec![], 1).kol,
            &[(MediaId(50), embedding(0, 0.0))],
            vec![],
        )
        .unwrap();
        assert_eq!(c.ivf_lists(), None);
        let on_axis = SearchRequest {
            query: embedding(0, 0.0),
            ..approx
        };
        assert_eq!(
            c.search(&on_axis).unwrap()[0].kol_id,
            KolId(10),
            "searched without the index"
        );
    }

    #[test]
    fn duplicates_are_refused_and_change_nothing() {
        let mut c = catalogue();
        assert!(matches!(
            MemoryCatalogue::from_entries(vec![entry(0, vec![], 1), entry(0, vec![], 2)]),
            Err(VectorError::DuplicateKol { kol: KolId(2) })
        ));
        let profile = entry(7, vec![], 1).kol;
        assert!(matches!(
            c.insert(KolId(1), profile.clone(), &[], vec![]),
            Err(VectorError::DuplicateKol { .. })
        ));
        assert!(matches!(
            c.insert(
                KolId(7),
                profile,
                &[(MediaId(1), embedding(0, 0.0))],
                vec![]
            ),
            Err(VectorError::DuplicateMedia { .. })
        ));
        assert_eq!((c.len(), c.media_count()), (4, 5));
        assert!(matches!(
            c.search(&SearchRequest::new(embedding(0, 0.0), 0)),
            Err(VectorError::InvalidRequest(
                kol_core::CoreError::OutOfRange { field: "k", .. }
            ))
        ));
    }
}
