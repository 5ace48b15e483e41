//! In-memory similarity search over creators' media embeddings, agreeing with pgvector.
//!
//! A service that holds its creators' CLIP embeddings in memory can rank them against a brief
//! without a database, and get what `ORDER BY emb <=> $1 LIMIT k` would return; an offline job
//! can tune an IVF index with the knobs pgvector's `ivfflat` has (`lists`, `probes`) before
//! creating it in PostgreSQL.
//!
//! ```
//! use std::collections::HashSet;
//! use kol_core::{Embedding, KolId, MediaId};
//! use kol_vector::{EmbeddingMatrix, ExceptKols, IvfIndex, IvfParams, Metric, Query};
//!
//! // 200 pictures of 50 creators (4 each).
//! let mut matrix = EmbeddingMatrix::for_embeddings();
//! for i in 0..200i64 {
//!     let values: Vec<f32> = (0..512).map(|j| ((i * 31 + j) as f32 * 0.01).sin()).collect();
//!     matrix.push_embedding(MediaId(i), KolId(i / 4), &Embedding::new(values)?)?;
//! }
//! let brief: Vec<f32> = (0..512).map(|j| (j as f32 * 0.01).sin()).collect();
//! let query = Query::new(&brief)?;
//!
//! // The 5 creators closest to the brief (each by its best picture), skipping one already
//! // contacted: exact, ordered by (distance, KOL id).
//! let contacted: HashSet<KolId> = [KolId(0)].into();
//! let exact = matrix.exact(Metric::Cosine).search_kols(&query, 5, &ExceptKols(&contacted))?;
//! assert_eq!(exact.len(), 5);
//! assert!(exact.iter().all(|hit| hit.kol_id != KolId(0)));
//!
//! // The same through an IVF-flat index; probing every list gives exactly the exact result.
//! let index = IvfIndex::build(matrix, IvfParams::new(8, Metric::Cosine))?;
//! let ivf = index.with_probes(8)?.search_kols(&query, 5, &ExceptKols(&contacted))?;
//! let key = |hits: &[kol_vector::Hit]| -> Vec<(KolId, MediaId, f64)> {
//!     hits.iter().map(|h| (h.kol_id, h.media_id, h.distance)).collect()
//! };
//! assert_eq!(key(&ivf), key(&exact));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Design
//!
//! - **pgvector's distances.** [`Metric`] is `<=>` (cosine distance), `<->` (L2) or `<#>`
//!   (negative inner product), computed as pgvector computes them: sums in `f32`, the final
//!   division and root in `f64`, the cosine similarity clamped to `[-1, 1]`. pgvector's own
//!   summation order depends on how it was compiled, so this crate fixes one (32 interleaved
//!   partial sums) and proves how far apart the two can be: at most about 1e-5 for 512
//!   dimensions, about 1e-6 in practice (see [`mod@distance`]).
//! - **Exact means sort every distance.** Every search ranks by exactly the value
//!   [`Metric::distance`] returns for the row and the query, ties broken by id (media id, or
//!   KOL id for creator-level search). The kernels run in the same order on every machine,
//!   so results are bit for bit reproducible.
//! - **Rows verbatim, norms once.** Rows are stored as given (pgvector stores them verbatim,
//!   and `<->` and `<#>` depend on scale), with their squared norm computed once when added:
//!   cosine search then costs one dot product per row, as if the rows had been normalized,
//!   while keeping pgvector's exact values.
//! - **Memory speed.** A single query is one pass over the contiguous rows; the kernels keep
//!   eight SIMD registers of partial sums busy on a plain `x86-64` build, so the pass runs at
//!   memory bandwidth. A batch goes through one matrix product per block of rows (ndarray's
//!   `dot`, optionally BLAS); a [`CompressedMatrix`] scans a 16-bit copy of the rows, half the
//!   bytes. Both only *rank* with the approximate values: a proven bound on their error picks
//!   the few rows that could still be in the top k, and those are re-ranked with the exact
//!   kernels, so the results are identical to the single-query scan.
//! - **Creators, not pictures.** [`ExactSearch::search_kols`] and friends return `k`
//!   distinct KOLs, a KOL's score being its best picture's distance.
//! - **Filters inside the search.** A [`KolIdFilter`] (a closure, an id set, [`ExceptKols`]) is
//!   applied while scanning, so a filtered top-k has `k` results whenever `k` rows pass; an
//!   IVF search goes on to further lists until it has them (pgvector 0.8's iterative scan).
//! - **IVF like pgvector's ivfflat.** [`IvfIndex`]: k-means (seeded k-means++ start,
//!   spherical for cosine and inner product) on `50 * lists` sampled rows, rows assigned to
//!   their nearest centroid, `probes` nearest lists scanned. [`recall_at_k`] and
//!   [`IvfIndex::recall_at_k`] measure it against exact search.
//! - **Small.** Depends on `kol-core`, `ndarray` and `thiserror`; the `blas` feature lets
//!   ndarray's matrix product use a system BLAS, the `synthetic` feature adds the seeded
//!   clustered test data (module `synthetic`) the benchmarks use. No threads, no `unsafe`.
//!
//! # Modules
//!
//! [`matrix`] holds the rows and validated queries; [`mod@distance`] the metrics and kernels;
//! [`exact`] exact single and batched search; [`compressed`] the 16-bit pre-scan; [`ivf`] the
//! index; [`filter`] the filters; [`error`] the error type.

#![warn(missing_docs)]
// On docs.rs (`--cfg docsrs`, nightly), feature-gated items say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod catalogue;
pub mod compressed;
pub mod distance;
pub mod error;
pub mod exact;
pub mod filter;
pub mod ivf;
mod kmeans;
pub mod matrix;
mod rng;
mod select;
#[cfg(feature = "synthetic")]
#[cfg_attr(docsrs, doc(cfg(feature = "synthetic")))]
pub mod synthetic;

pub use catalogue::{CatalogueKol, MemoryCatalogue};
pub use compressed::{CompressedMatrix, CompressedSearch};
pub use distance::{Metric, cosine_distance, distance, l2_distance, negative_inner_product};
pub use error::{Result, Subject, VectorError};
pub use exact::{ExactSearch, Hit};
pub use filter::{AnyKol, ExceptKols, KolIdFilter};
pub use ivf::{IvfIndex, IvfParams, IvfSearch, recall_at_k};
pub use matrix::{EmbeddingMatrix, Query};
