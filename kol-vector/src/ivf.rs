//! An IVF-flat index mirroring pgvector's `ivfflat`: k-means lists, `probes` nearest lists
//! scanned exactly, and a recall helper to tune `lists` and `probes` offline.
//!
//! pgvector's knobs mean the same here:
//! - `lists` (`WITH (lists = 100)`): the number of k-means clusters the rows are split into.
//!   pgvector suggests `rows / 1000` up to a million rows and `sqrt(rows)` above.
//! - `probes` (`SET ivfflat.probes = 10`): how many lists, nearest centroid first, a query
//!   scans. `probes = lists` scans every row and returns exactly the exact result.
//!
//! Like pgvector, training runs k-means on a sample of `50 * lists` rows (k-means++ start,
//! spherical k-means for cosine and inner product), then assigns every row to its nearest
//! centroid. Unlike pgvector, everything is seeded: the same rows, parameters and seed give the
//! same index, on any machine.
//!
//! When a filter leaves fewer than `k` results in the probed lists, the search goes on to the next
//! nearest lists until it has `k` (like pgvector 0.8's `ivfflat.iterative_scan`), so a filtered
//! top-k returns `k` results whenever `k` rows pass.

use ndarray::ArrayView2;

use crate::distance::Metric;
use crate::error::{Result, VectorError};
use crate::exact::{Hit, Level, check_k, hits, scan_exact, validate_queries};
use crate::filter::{AnyKol, KolIdFilter};
use crate::kmeans::{
    Centroids, KmeansConfig, kmeans, nearest_centroids, sample_indices, spherical,
};
use crate::matrix::{EmbeddingMatrix, Query};
use crate::rng::SplitMix64;

/// How to build an [`IvfIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfParams {
    /// Number of lists (k-means clusters); between 1 and the number of rows.
    pub lists: usize,
    /// The distance the index ranks by (pgvector's operator class).
    pub metric: Metric,
    /// Seed of the sampling and of k-means++.
    pub seed: u64,
    /// Most Lloyd iterations of k-means (it stops earlier when no sample changes list).
    pub max_iterations: usize,
    /// Training sample size per list (pgvector: 50); the sample is all rows when smaller.
    pub samples_per_list: usize,
}

impl IvfParams {
    /// `lists` lists for `metric`, with seed 0, at most 10 k-means iterations and 50 training
    /// samples per list.
    pub const fn new(lists: usize, metric: Metric) -> Self {
        Self {
            lists,
            metric,
            seed: 0,
            max_iterations: 10,
            samples_per_list: 50,
        }
    }

    /// pgvector's suggested number of lists for `rows` rows: `rows / 1000` up to one million
    /// rows, `sqrt(rows)` above, and at least 1 (at most `rows`).
    pub fn suggested_lists(rows: usize) -> usize {
        let lists = if rows <= 1_000_000 {
            rows / 1000
        } else {
            (rows as f64).sqrt() as usize
        };
        lists.clamp(1, rows.max(1))
    }

    /// The same parameters with another seed.
    pub const fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// An IVF-flat index: the rows of an [`EmbeddingMatrix`] grouped by nearest centroid.
///
/// The index owns the matrix and reorders its rows so that each list is contiguous (no copy:
/// a 2 GB matrix stays 2 GB); media and KOL ids are unchanged. Exact search remains available through
/// `index.matrix().exact(metric)`.
#[derive(Debug, Clone)]
pub struct IvfIndex {
    matrix: EmbeddingMatrix,
    metric: Metric,
    centroids: Centroids,
    /// List `l` holds rows `offsets[l]..offsets[l + 1]`.
    offsets: Vec<usize>,
    iterations: usize,
}

impl IvfIndex {
    /// Trains the centroids and groups the rows of `matrix` by list.
    ///
    /// # Errors
    /// [`VectorError::InvalidLists`] unless `1 <= lists <= matrix.len()` (so an empty matrix is
    /// rejected), [`VectorError::InvalidParameter`] when `samples_per_list` is 0.
    pub fn build(mut matrix: EmbeddingMatrix, params: IvfParams) -> Result<Self> {
        let n = matrix.len();
        if params.lists == 0 || params.lists > n {
            return Err(VectorError::InvalidLists {
                lists: params.lists,
                rows: n,
            });
        }
        if params.samples_per_list == 0 {
            return Err(VectorError::InvalidParameter {
                name: "samples_per_list",
                reason: "must be at least 1",
            });
        }
        let dim = matrix.dim();
        let metric = params.metric;

        // Training sample, unit length for spherical k-means.
        let mut rng = SplitMix64::stream(params.seed, 0x7361_6d70_6c65); // "sample"
        let count = params.lists.saturating_mul(params.samples_per_list).min(n);
        let picked = sample_indices(n, count, &mut rng);
        let mut train = Vec::with_capacity(picked.len() * dim);
        for &row in &picked {
            let start = train.len();
            train.extend_from_slice(matrix.row_unchecked(row));
            if spherical(metric) {
                let norm = f64::from(matrix.squared_norms()[row]).sqrt();
                for x in &mut train[start..] {
                    *x = (f64::from(*x) / norm) as f32;
                }
            }
        }
        let trained = kmeans(
            &train,
            dim,
            KmeansConfig {
                clusters: params.lists,
                metric,
                max_iterations: params.max_iterations,
                seed: params.seed,
            },
        );
        drop(train);

        // Assign every row, then make each list contiguous (stable: row order within a list).
        let assigned = nearest_centroids(
            matrix.values(),
            matrix.squared_norms(),
            dim,
            &trained.centroids,
            metric,
        );
        let mut offsets = vec![0usize; params.lists + 1];
        for &(list, _) in &assigned {
            offsets[list as usize + 1] += 1;
        }
        for l in 0..params.lists {
            offsets[l + 1] += offsets[l];
        }
        let mut next = offsets.clone();
        let mut order = vec![0usize; n];
        for (row, &(list, _)) in assigned.iter().enumerate() {
            let slot = &mut next[list as usize];
            order[*slot] = row;
            *slot += 1;
        }
        drop(assigned);
        matrix.permute_rows(order);
        Ok(Self {
            matrix,
            metric,
            centroids: trained.centroids,
            offsets,
            iterations: trained.iterations,
        })
    }

    /// The rows, grouped by list.
    pub fn matrix(&self) -> &EmbeddingMatrix {
        &self.matrix
    }

    /// Gives the matrix back (rows in list order).
    pub fn into_matrix(self) -> EmbeddingMatrix {
        self.matrix
    }

    /// The metric the index ranks by.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// Number of lists.
    pub fn lists(&self) -> usize {
        self.centroids.len()
    }

    /// The centroids, one per row (unit length for cosine and inner product).
    pub fn centroids(&self) -> ArrayView2<'_, f32> {
        self.centroids.values.view()
    }

    /// Number of rows in each list.
    pub fn list_sizes(&self) -> Vec<usize> {
        self.offsets.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// Lloyd iterations k-means ran.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// A search that scans the `probes` lists nearest to each query.
    ///
    /// # Errors
    /// [`VectorError::InvalidProbes`] unless `1 <= probes <= lists`.
    pub fn with_probes(&self, probes: usize) -> Result<IvfSearch<'_>> {
        if probes == 0 || probes > self.lists() {
            return Err(VectorError::InvalidProbes {
                probes,
                lists: self.lists(),
            });
        }
        Ok(IvfSearch {
            index: self,
            probes,
        })
    }

    /// Mean recall@k of `with_probes(probes)` against exact search (batched), over the rows of
    /// `queries`: for each query, the share of the exact top-k media found by the index.
    ///
    /// # Errors
    /// As [`IvfIndex::with_probes`] and [`IvfSearch::search`]; [`VectorError::ZeroK`].
    pub fn recall_at_k(
        &self,
        queries: ArrayView2<'_, f32>,
        k: usize,
        probes: usize,
    ) -> Result<f64> {
        check_k(k)?;
        let search = self.with_probes(probes)?;
        let view = queries;
        let queries = validate_queries(queries, self.matrix.dim())?;
        if queries.is_empty() {
            return Ok(1.0);
        }
        let truth = self
            .matrix
            .exact(self.metric)
            .search_batch(view, k, &AnyKol)?;
        let mut total = 0.0;
        for (query, truth) in queries.iter().zip(&truth) {
            let found = search.search(query, k, &AnyKol)?;
            total += recall_at_k(&found, truth);
        }
        Ok(total / queries.len() as f64)
    }

    /// The lists in order of their centroid's distance to `query` (ties by list number).
    fn ranked_lists(&self, query: &Query) -> Vec<usize> {
        let mut keyed: Vec<(f64, usize)> = (0..self.lists())
            .map(|l| {
                let key = self.metric.with_norms(
                    self.centroids.row(l),
                    self.centroids.sq_norms[l],
                    query.as_slice(),
                    query.squared_norm(),
                );
                (key, l)
            })
            .collect();
        keyed.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        keyed.into_iter().map(|(_, l)| l).collect()
    }
}

/// The share of `truth`'s media that `found` contains (1 when `truth` is empty).
///
/// With `truth` from exact search and `found` from an index, this is recall@k.
pub fn recall_at_k(found: &[Hit], truth: &[Hit]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    let hit = truth
        .iter()
        .filter(|t| found.iter().any(|f| f.media_id == t.media_id))
        .count();
    hit as f64 / truth.len() as f64
}

/// IVF search with a fixed number of probes; see [`IvfIndex::with_probes`].
#[derive(Debug, Clone, Copy)]
pub struct IvfSearch<'a> {
    index: &'a IvfIndex,
    probes: usize,
}

impl IvfSearch<'_> {
    /// Number of lists scanned per query (more when a filter needs them).
    pub fn probes(&self) -> usize {
        self.probes
    }

    /// The `k` rows nearest to `query` among the probed lists, among those whose KOL passes
    /// `filter`; further lists are scanned, nearest first, while fewer than `k` rows passed.
    /// Distances are exact; only which rows are looked at is approximate.
    ///
    /// # Errors
    /// [`VectorError::ZeroK`], or [`VectorError::DimensionMismatch`] when the query does not have
    /// the index's width.
    pub fn search<F: KolIdFilter + ?Sized>(
        &self,
        query: &Query,
        k: usize,
        filter: &F,
    ) -> Result<Vec<Hit>> {
        self.run(query, k, Level::Media, filter)
    }

    /// The `k` nearest distinct KOLs (each by its best row among the scanned lists) that pass
    /// `filter`; like [`IvfSearch::search`], more lists are scanned while fewer than `k` KOLs
    /// were found.
    ///
    /// # Errors
    /// As [`IvfSearch::search`].
    pub fn search_kols<F: KolIdFilter + ?Sized>(
        &self,
        query: &Query,
        k: usize,
        filter: &F,
    ) -> Result<Vec<Hit>> {
        self.run(query, k, Level::Kol, filter)
    }

    /// [`IvfSearch::search`] for every row of `queries`.
    ///
    /// # Errors
    /// As [`IvfSearch::search`], naming the first invalid query.
    pub fn search_batch<F: KolIdFilter + ?Sized>(
        &self,
        queries: ArrayView2<'_, f32>,
        k: usize,
        filter: &F,
    ) -> Result<Vec<Vec<Hit>>> {
        check_k(k)?;
        validate_queries(queries, self.index.matrix.dim())?
            .iter()
            .map(|q| self.run(q, k, Level::Media, filter))
            .collect()
    }

    fn run<F: KolIdFilter + ?Sized>(
        &self,
        query: &Query,
        k: usize,
        level: Level,
        filter: &F,
    ) -> Result<Vec<Hit>> {
        check_k(k)?;
        let index = self.index;
        query.check_dim(index.matrix.dim(), 0)?;
        let mut top = level.top(k);
        for (scanned, list) in index.ranked_lists(query).into_iter().enumerate() {
            if scanned >= self.probes && top.len() >= k {
                break;
            }
            let rows = index.offsets[list]..index.offsets[list + 1];
            scan_exact(
                &index.matrix,
                rows,
                query,
                index.metric,
                level,
                filter,
                &mut top,
            );
        }
        Ok(hits(&index.matrix, top))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kol_core::{KolId, MediaId};

    fn grid_matrix() -> EmbeddingMatrix {
        // 60 points around 3 directions of R^4; 6 KOLs, KOL k's media all near axis k % 3.
        let mut m = EmbeddingMatrix::new(4).unwrap();
        let mut rng = SplitMix64::new(3);
        for i in 0..60i64 {
            let mut v = [0.0f32; 4];
            for x in &mut v {
                *x = 0.1 * rng.normal() as f32;
            }
            v[(i % 3) as usize] += 1.0;
            m.push(MediaId(i), KolId(i % 6), &v).unwrap();
        }
        m
    }

    #[test]
    fn parameters_are_validated() {
        let m = grid_matrix();
        assert_eq!(
            IvfIndex::build(m.clone(), IvfParams::new(0, Metric::Cosine)).unwrap_err(),
            VectorError::InvalidLists { lists: 0, rows: 60 }
        );
        assert_eq!(
            IvfIndex::build(m.clone(), IvfParams::new(61, Metric::Cosine)).unwrap_err(),
            VectorError::InvalidLists {
                lists: 61,
                rows: 60
            }
        );
        let index = IvfIndex::build(m, IvfParams::new(3, Metric::Cosine)).unwrap();
        assert_eq!(
            index.with_probes(4).unwrap_err(),
            VectorError::InvalidProbes {
                probes: 4,
                lists: 3
            }
        );
        assert!(index.with_probes(0).is_err());
        assert_eq!(index.list_sizes().iter().sum::<usize>(), 60);
        assert_eq!(IvfParams::suggested_lists(1_000_000), 1000);
        assert_eq!(IvfParams::suggested_lists(4_000_000), 2000);
        assert_eq!(IvfParams::suggested_lists(10), 1);
    }

    #[test]
    fn all_probes_equal_exact_and_the_build_is_deterministic() {
        for metric in Metric::ALL {
            let index =
                IvfIndex::build(grid_matrix(), IvfParams::new(5, metric).with_seed(9)).unwrap();
            let again =
                IvfIndex::build(grid_matrix(), IvfParams::new(5, metric).with_seed(9)).unwrap();
            assert_eq!(index.centroids(), again.centroids());
            assert_eq!(index.list_sizes(), again.list_sizes());
            let q = Query::new(&[0.9, 0.2, -0.1, 0.05]).unwrap();
            let all = index.with_probes(5).unwrap();
            let exact = index.matrix().exact(metric);
            assert_eq!(
                all.search(&q, 7, &AnyKol).unwrap(),
                exact.search(&q, 7, &AnyKol).unwrap()
            );
            assert_eq!(
                all.search_kols(&q, 4, &AnyKol).unwrap(),
                exact.search_kols(&q, 4, &AnyKol).unwrap()
            );
        }
    }

    #[test]
    fn a_filter_pulls_in_more_lists() {
        let index = IvfIndex::build(grid_matrix(), IvfParams::new(3, Metric::Cosine)).unwrap();
        // Only the KOLs whose media lie along the third axis, and a query along the first: the
        // nearest list holds none of them, so the search must go on to the others.
        let q = Query::new(&[1.0, 0.0, 0.0, 0.0]).unwrap();
        let third_axis = |k: KolId| k.get() % 3 == 2;
        let hits = index
            .with_probes(1)
            .unwrap()
            .search(&q, 10, &third_axis)
            .unwrap();
        assert_eq!(hits.len(), 10);
        assert!(hits.iter().all(|h| third_axis(h.kol_id)));
        let exact = index
            .matrix()
            .exact(Metric::Cosine)
            .search(&q, 10, &third_axis)
            .unwrap();
        assert_eq!(hits, exact);
        let kols = index
            .with_probes(1)
            .unwrap()
            .search_kols(&q, 2, &third_axis)
            .unwrap();
        let ids: Vec<i64> = kols.iter().map(|h| h.kol_id.get()).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&2) && ids.contains(&5));
    }

    #[test]
    fn recall_helper() {
        let index = IvfIndex::build(grid_matrix(), IvfParams::new(4, Metric::L2)).unwrap();
        let queries = ndarray::array![[1.0f32, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.1]];
        let r = index.recall_at_k(queries.view(), 5, 4).unwrap();
        assert_eq!(r, 1.0);
        let r1 = index.recall_at_k(queries.view(), 5, 1).unwrap();
        assert!((0.0..=1.0).contains(&r1));
    }
}
