//! Exact (brute-force) top-k over an [`EmbeddingMatrix`]: one query by a single pass over the
//! rows, a batch by one matrix product per block of rows followed by an exact re-rank.

use std::ops::Range;

use kol_core::{KolId, KolMatch, MediaId};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, Axis, Slice};

use crate::distance::{
    DotGap, Metric, cosine_from_parts, dot, gamma, l2_from_squared, negative_inner_from_dot,
    squared_l2,
};
use crate::error::{Result, Subject, VectorError};
use crate::filter::KolIdFilter;
use crate::matrix::{EmbeddingMatrix, Query};
use crate::select::{Candidates, Slot, TopGroups};

/// One search result: kol-core's [`KolMatch`], the result type of every search backend (a
/// picture, its creator and its distance to the query).
///
/// In a KOL-level search, the picture is the KOL's best match (smallest distance, then smallest
/// media id) and `distance` is the KOL's score. `distance` is exactly what [`Metric::distance`]
/// computes for that picture's row and the query.
pub type Hit = KolMatch;

/// What a result counts: pictures, or creators (each once, by its best picture).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Media,
    Kol,
}

impl Level {
    #[inline]
    pub(crate) fn group(self, media: MediaId, kol: KolId) -> i64 {
        match self {
            Self::Media => media.get(),
            Self::Kol => kol.get(),
        }
    }

    pub(crate) fn top(self, k: usize) -> TopGroups {
        TopGroups::new(k, self == Self::Kol)
    }
}

pub(crate) fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        Err(VectorError::ZeroK)
    } else {
        Ok(())
    }
}

/// Turns the selected slots into hits.
pub(crate) fn hits(matrix: &EmbeddingMatrix, top: TopGroups) -> Vec<Hit> {
    let kols = matrix.kol_ids();
    top.into_sorted()
        .into_iter()
        .map(|slot| KolMatch {
            kol_id: kols[slot.row],
            media_id: MediaId(slot.media),
            distance: slot.key,
        })
        .collect()
}

/// The exact distance of `row` to `query` (the value every search reports).
#[inline]
pub(crate) fn exact_distance(
    metric: Metric,
    matrix: &EmbeddingMatrix,
    row: usize,
    query: &Query,
) -> f64 {
    metric.with_norms(
        matrix.row_unchecked(row),
        matrix.squared_norms()[row],
        query.as_slice(),
        query.squared_norm(),
    )
}

/// Scans `rows` with the exact kernels, offering every row that passes `filter` and could enter
/// `top`. The one inner loop of exact search and of IVF list scans.
pub(crate) fn scan_exact<F: KolIdFilter + ?Sized>(
    matrix: &EmbeddingMatrix,
    rows: Range<usize>,
    query: &Query,
    metric: Metric,
    level: Level,
    filter: &F,
    top: &mut TopGroups,
) {
    let dim = matrix.dim();
    let q = query.as_slice();
    let qn = query.squared_norm();
    let values = &matrix.values()[rows.start * dim..rows.end * dim];
    let norms = &matrix.squared_norms()[rows.clone()];
    let (media, kols) = (matrix.media_ids(), matrix.kol_ids());
    let consider = |row: usize, key: f64, top: &mut TopGroups| {
        let kol = kols[row];
        if filter.accepts(kol) {
            let media = media[row];
            top.offer(Slot {
                key,
                group: level.group(media, kol),
                media: media.get(),
                row,
            });
        }
    };
    let start = rows.start;
    match metric {
        Metric::Cosine => {
            for (i, (x, &xn)) in values.chunks_exact(dim).zip(norms).enumerate() {
                let key = cosine_from_parts(dot(x, q), xn, qn);
                if key <= top.threshold() {
                    consider(start + i, key, top);
                }
            }
        }
        Metric::L2 => {
            // Rank by the f32 sum of squares (the root is monotone and taken for the kept rows).
            for (i, x) in values.chunks_exact(dim).enumerate() {
                let key = l2_from_squared(squared_l2(x, q));
                if key <= top.threshold() {
                    consider(start + i, key, top);
                }
            }
        }
        Metric::NegativeInnerProduct => {
            for (i, x) in values.chunks_exact(dim).enumerate() {
                let key = negative_inner_from_dot(dot(x, q));
                if key <= top.threshold() {
                    consider(start + i, key, top);
                }
            }
        }
    }
}

/// Rows per matrix product in batched search: 1024 rows x up to [`QUERY_CHUNK`] queries of
/// `f32` scores is 512 KiB, which stays in cache while it is read.
const ROW_BLOCK: usize = 1024;

/// Queries per pass over the matrix in batched search.
const QUERY_CHUNK: usize = 128;

/// Bounds of one row's key from an approximate dot product, in the space the first phase of a
/// batched search ranks in (the key itself for cosine and inner product, the squared distance
/// for L2, whose root is monotone).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    metric: Metric,
    gap: DotGap,
    /// Relative bound of the L2 case: `|exact - approx| <= l2_rel * (|x| + |q|)^2`.
    l2_rel: f64,
}

/// Norm data of one vector used by [`Bounds`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct NormInfo {
    /// Squared norm as the kernels compute it.
    pub(crate) sq: f64,
    /// Its square root.
    pub(crate) norm: f64,
    /// `1 / norm`.
    pub(crate) inv: f64,
}

impl NormInfo {
    #[inline]
    pub(crate) fn new(sq_norm: f32) -> Self {
        let sq = f64::from(sq_norm);
        let norm = sq.sqrt();
        Self {
            sq,
            norm,
            inv: 1.0 / norm,
        }
    }
}

/// Past this, `f32` sums of products might overflow; bounds then give up (full range).
pub(crate) const OVERFLOW_GUARD: f64 = (f32::MAX as f64) / 4.0;

impl Bounds {
    pub(crate) fn new(metric: Metric, dim: usize) -> Self {
        let g = gamma(dim);
        let g3 = gamma(dim + 3);
        Self {
            metric,
            gap: DotGap::new(dim),
            l2_rel: (g + g3) / (1.0 - g) * 1.01,
        }
    }

    /// `(lower, upper)` bounds of the row's key given `approx_dot`, a dot product of the row
    /// and the query computed in any `f32` order.
    #[inline]
    pub(crate) fn of(&self, approx_dot: f32, x: &NormInfo, q: &NormInfo) -> (f64, f64) {
        self.of_approx(f64::from(approx_dot), 0.0, x, q)
    }

    /// `(lower, upper)` bounds of the row's key given `approx`, an estimate of the dot product
    /// within `extra` of the exact (real) dot product, plus `f64` rounding.
    #[inline]
    pub(crate) fn of_approx(
        &self,
        approx: f64,
        extra: f64,
        x: &NormInfo,
        q: &NormInfo,
    ) -> (f64, f64) {
        let s = approx;
        let scale = x.norm * q.norm;
        let finite = approx.is_finite();
        match self.metric {
            Metric::Cosine => {
                if !finite || scale >= OVERFLOW_GUARD {
                    return (0.0, 2.0);
                }
                let sim = s * x.inv * q.inv;
                let delta = self.gap.rel + (self.gap.abs + extra) * x.inv * q.inv;
                let lower = 1.0 - (sim + delta).clamp(-1.0, 1.0);
                let upper = 1.0 - (sim - delta).clamp(-1.0, 1.0);
                (lower, upper)
            }
            Metric::NegativeInnerProduct => {
                if !finite || scale >= OVERFLOW_GUARD {
                    return (f64::NEG_INFINITY, f64::INFINITY);
                }
                let delta = self.gap.rel * scale + self.gap.abs + extra;
                (-(s + delta), -(s - delta))
            }
            Metric::L2 => {
                let sum = x.norm + q.norm;
                let span = sum * sum;
                if !finite || span >= OVERFLOW_GUARD {
                    return (0.0, f64::INFINITY);
                }
                let d2 = x.sq + q.sq - 2.0 * s;
                let delta = self.l2_rel * span + 4.0 * self.gap.abs + 2.0 * extra;
                ((d2 - delta).max(0.0), d2 + delta)
            }
        }
    }

    /// The metric.
    pub(crate) fn metric(&self) -> Metric {
        self.metric
    }

    /// `2γ`-style relative bound between two `f32` evaluations of a dot product.
    pub(crate) fn rel(&self) -> f64 {
        self.gap.rel
    }

    /// Absolute underflow slack of a dot product.
    pub(crate) fn abs(&self) -> f64 {
        self.gap.abs
    }

    /// Relative bound of the L2 case (see [`Bounds::of_approx`]).
    pub(crate) fn l2_rel(&self) -> f64 {
        self.l2_rel
    }
}

/// A cheap necessary condition for one query's lower bound to be under its threshold, checked
/// for every row-query pair of a batch before the full [`Bounds::of`].
///
/// It compares the same quantities as [`Bounds::of`] with the terms rearranged, so it never
/// rejects a row `of` would keep except within `f64` rounding (about 1e-16 of the scale), far
/// inside the 1% margin the bounds carry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cut {
    a: f64,
    c: f64,
}

impl Bounds {
    /// The cut of a query with norms `q` and current threshold `threshold`; `max_inv_x` is the
    /// largest `1 / |x|` over the rows.
    pub(crate) fn cut(&self, q: &NormInfo, threshold: f64, max_inv_x: f64) -> Cut {
        let open = Cut {
            a: 0.0,
            c: f64::NEG_INFINITY,
        };
        match self.metric {
            // lower <= t  =>  s / (|x||q|) + delta >= 1 - t  =>  s / |x| >= (1 - t - delta) |q|.
            Metric::Cosine if threshold < 2.0 => {
                let delta = self.gap.rel + self.gap.abs * max_inv_x * q.inv;
                Cut {
                    a: 0.0,
                    c: (1.0 - threshold - delta) * q.norm,
                }
            }
            // lower <= t  =>  -(s + rel |x||q| + abs) <= t  =>  s + rel |q| |x| >= -t - abs.
            Metric::NegativeInnerProduct if threshold < f64::INFINITY => Cut {
                a: self.gap.rel * q.norm,
                c: -threshold - self.gap.abs,
            },
            // lower <= t  =>  |x|² + |q|² - 2s - r (|x| + |q|)² - 4 abs <= t
            //             =>  2s + 2r|q| |x| - (1 - r)|x|²  >=  (1 - r)|q|² - 4 abs - t.
            Metric::L2 if threshold < f64::INFINITY => Cut {
                a: 2.0 * self.l2_rel * q.norm,
                c: (1.0 - self.l2_rel) * q.sq - 4.0 * self.gap.abs - threshold,
            },
            _ => open,
        }
    }

    /// `false` only when the row cannot be a candidate of the query `cut` belongs to. Rows whose
    /// norms risk `f32` overflow must skip this test (see `risky`).
    #[inline]
    pub(crate) fn passes(&self, cut: &Cut, approx_dot: f32, x: &NormInfo) -> bool {
        let s = f64::from(approx_dot);
        let value = match self.metric {
            Metric::Cosine => s * x.inv,
            Metric::NegativeInnerProduct => s + cut.a * x.norm,
            Metric::L2 => 2.0 * s + cut.a * x.norm - (1.0 - self.l2_rel) * x.sq,
        };
        // A NaN (unknown) passes.
        value.partial_cmp(&cut.c) != Some(std::cmp::Ordering::Less)
    }

    /// Whether a row of norm `x` might overflow `f32` sums against a query of norm at most
    /// `max_q_norm`; such rows always go through [`Bounds::of`].
    #[inline]
    pub(crate) fn risky(x: &NormInfo, max_q_norm: f64) -> bool {
        let span = x.norm + max_q_norm;
        span * span >= OVERFLOW_GUARD
    }
}

/// Per-query state of the first phase of a bounded scan.
pub(crate) struct BoundedQuery {
    /// The best groups by upper bound (their k-th upper bound caps every true result).
    pub(crate) upper: TopGroups,
    /// Rows whose lower bound is under that cap.
    pub(crate) candidates: Candidates,
}

impl BoundedQuery {
    pub(crate) fn new(k: usize, level: Level) -> Self {
        Self {
            upper: level.top(k),
            candidates: Candidates::new(k),
        }
    }

    /// Records one row given its key bounds. The filter is asked lazily (`accepted`), at most
    /// once per row for all queries of a batch.
    #[inline]
    pub(crate) fn offer<F: KolIdFilter + ?Sized>(
        &mut self,
        (lower, upper): (f64, f64),
        row: usize,
        matrix: &EmbeddingMatrix,
        level: Level,
        filter: &F,
        accepted: &mut Option<bool>,
    ) {
        if lower > self.upper.threshold() {
            return;
        }
        let kol = matrix.kol_ids()[row];
        if !*accepted.get_or_insert_with(|| filter.accepts(kol)) {
            return;
        }
        let media = matrix.media_ids()[row];
        self.upper.offer(Slot {
            key: upper,
            group: level.group(media, kol),
            media: media.get(),
            row,
        });
        self.candidates.push(lower, row, self.upper.threshold());
    }

    /// Second phase: exact distances of the candidates, exact top-k.
    pub(crate) fn finish(
        self,
        matrix: &EmbeddingMatrix,
        metric: Metric,
        query: &Query,
        k: usize,
        level: Level,
    ) -> Vec<Hit> {
        let threshold = self.upper.threshold();
        let mut top = level.top(k);
        let (media, kols) = (matrix.media_ids(), matrix.kol_ids());
        for row in self.candidates.into_rows(threshold) {
            top.offer(Slot {
                key: exact_distance(metric, matrix, row, query),
                group: level.group(media[row], kols[row]),
                media: media[row].get(),
                row,
            });
        }
        hits(matrix, top)
    }
}

/// Exact search over an [`EmbeddingMatrix`] with one [`Metric`]; see [`EmbeddingMatrix::exact`].
///
/// Results are sorted by distance, ties broken by media id (KOL id for KOL-level search), and
/// are exactly what sorting every row's [`Metric::distance`] would give.
#[derive(Debug, Clone, Copy)]
pub struct ExactSearch<'a> {
    matrix: &'a EmbeddingMatrix,
    metric: Metric,
}

impl EmbeddingMatrix {
    /// Exact search over this matrix with `metric`.
    pub fn exact(&self, metric: Metric) -> ExactSearch<'_> {
        ExactSearch {
            matrix: self,
            metric,
        }
    }
}

impl<'a> ExactSearch<'a> {
    /// The matrix searched.
    pub fn matrix(&self) -> &'a EmbeddingMatrix {
        self.matrix
    }

    /// The metric.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// The `k` rows nearest to `query` among those whose KOL passes `filter` (fewer when fewer
    /// pass). One pass over the matrix; memory `O(k)`.
    ///
    /// # Errors
    /// [`VectorError::ZeroK`], or [`VectorError::DimensionMismatch`] when the query does not have
    /// the matrix's width.
    pub fn search<F: KolIdFilter + ?Sized>(
        &self,
        query: &Query,
        k: usize,
        filter: &F,
    ) -> Result<Vec<Hit>> {
        self.single(query, k, Level::Media, filter)
    }

    /// The `k` KOLs nearest to `query` (a KOL's distance is that of its best row), among those
    /// that pass `filter`. Each KOL appears once; ties are broken by KOL id.
    ///
    /// # Errors
    /// As [`ExactSearch::search`].
    pub fn search_kols<F: KolIdFilter + ?Sized>(
        &self,
        query: &Query,
        k: usize,
        filter: &F,
    ) -> Result<Vec<Hit>> {
        self.single(query, k, Level::Kol, filter)
    }

    /// [`ExactSearch::search`] for every row of `queries` (`m x dim`), through one matrix product
    /// per block of rows: the products rank the rows within a proven error bound, and the few
    /// rows the bound cannot separate are re-ranked with the exact kernels, so the results are
    /// identical to `m` single searches. Extra memory: a block of scores (at most 1024 x 128
    /// `f32`) and the candidate rows.
    ///
    /// # Errors
    /// [`VectorError::ZeroK`], [`VectorError::DimensionMismatch`] when `queries` does not have
    /// the matrix's width, or the error of the first invalid query (naming its position).
    pub fn search_batch<F: KolIdFilter + ?Sized>(
        &self,
        queries: ArrayView2<'_, f32>,
        k: usize,
        filter: &F,
    ) -> Result<Vec<Vec<Hit>>> {
        self.batch(queries, k, Level::Media, filter)
    }

    /// [`ExactSearch::search_kols`] for every row of `queries`, like
    /// [`ExactSearch::search_batch`].
    ///
    /// # Errors
    /// As [`ExactSearch::search_batch`].
    pub fn search_kols_batch<F: KolIdFilter + ?Sized>(
        &self,
        queries: ArrayView2<'_, f32>,
        k: usize,
        filter: &F,
    ) -> Result<Vec<Vec<Hit>>> {
        self.batch(queries, k, Level::Kol, filter)
    }

    /// The distance of every row to `query`, in row order (a reference for tests and tools;
    /// allocates one `f64` per row).
    ///
    /// # Errors
    /// [`VectorError::DimensionMismatch`] when the query does not have the matrix's width.
    pub fn distances(&self, query: &Query) -> Result<Vec<f64>> {
        query.check_dim(self.matrix.dim(), 0)?;
        Ok((0..self.matrix.len())
            .map(|row| exact_distance(self.metric, self.matrix, row, query))
            .collect())
    }

    fn single<F: KolIdFilter + ?Sized>(
        &self,
        query: &Query,
        k: usize,
        level: Level,
        filter: &F,
    ) -> Result<Vec<Hit>> {
        check_k(k)?;
        query.check_dim(self.matrix.dim(), 0)?;
        let mut top = level.top(k);
        scan_exact(
            self.matrix,
            0..self.matrix.len(),
            query,
            self.metric,
            level,
            filter,
            &mut top,
        );
        Ok(hits(self.matrix, top))
    }

    fn batch<F: KolIdFilter + ?Sized>(
        &self,
        queries: ArrayView2<'_, f32>,
        k: usize,
        level: Level,
        filter: &F,
    ) -> Result<Vec<Vec<Hit>>> {
        check_k(k)?;
        let matrix = self.matrix;
        let dim = matrix.dim();
        let queries = validate_queries(queries, dim)?;
        let bounds = Bounds::new(self.metric, dim);
        let min_sq_norm = matrix
            .squared_norms()
            .iter()
            .copied()
            .fold(f32::MAX, f32::min);
        let max_inv_x = 1.0 / f64::from(min_sq_norm).sqrt();
        let mut results = Vec::with_capacity(queries.len());
        for chunk in queries.chunks(QUERY_CHUNK) {
            let m = chunk.len();
            let mut packed = Array2::<f32>::zeros((m, dim));
            for (mut dst, q) in packed.rows_mut().into_iter().zip(chunk) {
                dst.assign(&ndarray::aview1(q.as_slice()));
            }
            let q_norms: Vec<NormInfo> = chunk
                .iter()
                .map(|q| NormInfo::new(q.squared_norm()))
                .collect();
            let mut states: Vec<BoundedQuery> =
                (0..m).map(|_| BoundedQuery::new(k, level)).collect();
            let max_q_norm = q_norms.iter().map(|q| q.norm).fold(0.0, f64::max);
            let mut cuts: Vec<Cut> = q_norms
                .iter()
                .map(|q| bounds.cut(q, f64::INFINITY, max_inv_x))
                .collect();
            let rows = matrix.rows();
            let mut scores = Array2::<f32>::zeros((ROW_BLOCK.min(matrix.len()), m));
            let mut start = 0;
            while start < matrix.len() {
                let end = (start + ROW_BLOCK).min(matrix.len());
                let mut block_scores = scores.view_mut();
                block_scores.slice_axis_inplace(Axis(0), Slice::from(0..end - start));
                general_mat_mul(
                    1.0,
                    &rows.slice_axis(Axis(0), Slice::from(start..end)),
                    &packed.t(),
                    0.0,
                    &mut block_scores,
                );
                for (i, row_scores) in block_scores.rows().into_iter().enumerate() {
                    let row = start + i;
                    let x = NormInfo::new(matrix.squared_norms()[row]);
                    let risky = Bounds::risky(&x, max_q_norm);
                    let mut accepted = None;
                    for (j, &approx) in row_scores.iter().enumerate() {
                        if risky || bounds.passes(&cuts[j], approx, &x) {
                            let state = &mut states[j];
                            let q = &q_norms[j];
                            state.offer(
                                bounds.of(approx, &x, q),
                                row,
                                matrix,
                                level,
                                filter,
                                &mut accepted,
                            );
                            cuts[j] = bounds.cut(q, state.upper.threshold(), max_inv_x);
                        }
                    }
                }
                start = end;
            }
            for (state, q) in states.into_iter().zip(chunk) {
                results.push(state.finish(matrix, self.metric, q, k, level));
            }
        }
        Ok(results)
    }
}

/// Validates every row of `queries` against the matrix width.
pub(crate) fn validate_queries(queries: ArrayView2<'_, f32>, dim: usize) -> Result<Vec<Query>> {
    if queries.ncols() != dim {
        return Err(VectorError::DimensionMismatch {
            subject: Subject::Query(0),
            expected: dim,
            actual: queries.ncols(),
        });
    }
    Query::from_rows(queries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::AnyKol;
    use ndarray::array;

    fn small() -> EmbeddingMatrix {
        // Two KOLs: 1 owns media 10, 11; 2 owns media 12. Media 13 (KOL 3) duplicates 10.
        let data = array![[1.0f32, 0.0], [0.6, 0.8], [0.0, 1.0], [1.0, 0.0]];
        EmbeddingMatrix::from_array(
            data,
            vec![MediaId(10), MediaId(11), MediaId(12), MediaId(13)],
            vec![KolId(1), KolId(1), KolId(2), KolId(3)],
        )
        .unwrap()
    }

    fn ids(hits: &[Hit]) -> Vec<i64> {
        hits.iter().map(|h| h.media_id.get()).collect()
    }

    #[test]
    fn media_search_breaks_ties_by_media_id() {
        let m = small();
        let q = Query::new(&[1.0, 0.1]).unwrap();
        let hits = m.exact(Metric::Cosine).search(&q, 3, &AnyKol).unwrap();
        assert_eq!(ids(&hits), vec![10, 13, 11]);
        assert_eq!(hits[0].distance, hits[1].distance);
        assert_eq!(hits[0].kol_id, KolId(1));
    }

    #[test]
    fn kol_search_counts_each_kol_once() {
        let m = small();
        let q = Query::new(&[0.7, 0.7]).unwrap();
        let hits = m.exact(Metric::Cosine).search_kols(&q, 3, &AnyKol).unwrap();
        let kols: Vec<i64> = hits.iter().map(|h| h.kol_id.get()).collect();
        // KOL 1's best media is 11 ([0.6, 0.8]); KOL 2 ([0, 1]) ties KOL 3 ([1, 0]) at 45°.
        assert_eq!(kols, vec![1, 2, 3]);
        assert_eq!(hits[0].media_id, MediaId(11));
    }

    #[test]
    fn filters_are_applied_during_the_scan() {
        let m = small();
        let q = Query::new(&[1.0, 0.0]).unwrap();
        let only_2 = |k: KolId| k == KolId(2);
        let hits = m.exact(Metric::L2).search(&q, 2, &only_2).unwrap();
        assert_eq!(ids(&hits), vec![12]);
        let not_1 = |k: KolId| k != KolId(1);
        let hits = m.exact(Metric::Cosine).search_kols(&q, 2, &not_1).unwrap();
        assert_eq!(ids(&hits), vec![13, 12]);
    }

    #[test]
    fn errors() {
        let m = small();
        let q = Query::new(&[1.0, 0.0]).unwrap();
        assert_eq!(
            m.exact(Metric::Cosine).search(&q, 0, &AnyKol),
            Err(VectorError::ZeroK)
        );
        let q3 = Query::new(&[1.0, 0.0, 0.0]).unwrap();
        assert!(matches!(
            m.exact(Metric::Cosine).search(&q3, 1, &AnyKol),
            Err(VectorError::DimensionMismatch {
                expected: 2,
                actual: 3,
                ..
            })
        ));
        let bad = array![[1.0f32, 0.0], [f32::NAN, 1.0]];
        assert!(matches!(
            m.exact(Metric::Cosine).search_batch(bad.view(), 1, &AnyKol),
            Err(VectorError::NotFinite {
                subject: Subject::Query(1),
                ..
            })
        ));
    }

    /// Thousands of rows within a few ulps of each other: the matrix product's rounding differs
    /// from the kernels' and reorders them, so only the proven bound keeps the batch exact.
    #[test]
    fn batch_equals_single_on_near_ties() {
        let dim = 512;
        let base: Vec<f32> = (0..dim).map(|i| ((i as f32) * 0.37).sin() + 0.01).collect();
        let mut m = EmbeddingMatrix::new(dim).unwrap();
        let mut state = 1u64;
        for i in 0..3000i64 {
            let row: Vec<f32> = base
                .iter()
                .map(|&v| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    let bump = ((state >> 33) % 5) as f32 - 2.0;
                    v * (1.0 + bump * f32::EPSILON)
                })
                .collect();
            m.push(MediaId(i), KolId(i / 3), &row).unwrap();
        }
        let queries = Array2::from_shape_fn((3, dim), |(j, i)| base[i] * (1.0 + j as f32 * 1e-3));
        for metric in Metric::ALL {
            let s = m.exact(metric);
            let batch = s.search_batch(queries.view(), 10, &AnyKol).unwrap();
            let kbatch = s.search_kols_batch(queries.view(), 10, &AnyKol).unwrap();
            for (j, q) in queries.rows().into_iter().enumerate() {
                let q = Query::new(q.as_slice().unwrap()).unwrap();
                assert_eq!(batch[j], s.search(&q, 10, &AnyKol).unwrap(), "{metric}");
                assert_eq!(
                    kbatch[j],
                    s.search_kols(&q, 10, &AnyKol).unwrap(),
                    "{metric}"
                );
            }
        }
    }

    #[test]
    fn batch_equals_single_for_every_metric() {
        let m = small();
        let queries = array![[1.0f32, 0.1], [0.7, 0.7], [-1.0, 0.2], [3.0, -4.0]];
        for metric in Metric::ALL {
            let s = m.exact(metric);
            let batch = s.search_batch(queries.view(), 3, &AnyKol).unwrap();
            let kbatch = s.search_kols_batch(queries.view(), 2, &AnyKol).unwrap();
            for (i, q) in queries.rows().into_iter().enumerate() {
                let q = Query::new(q.as_slice().unwrap()).unwrap();
                assert_eq!(batch[i], s.search(&q, 3, &AnyKol).unwrap(), "{metric} {i}");
                assert_eq!(
                    kbatch[i],
                    s.search_kols(&q, 2, &AnyKol).unwrap(),
                    "{metric} {i}"
                );
            }
        }
    }
}
