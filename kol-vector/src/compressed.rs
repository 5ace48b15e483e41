//! Exact search that reads half the bytes: a 16-bit fixed-point copy of the rows is scanned
//! first, with a proven bound on each row's error, and only the rows the bound cannot rule out
//! are measured with the `f32` kernels. Results are identical to [`ExactSearch`].
//!
//! Each row `x` is stored as integer codes `c` (`|cᵢ| <= M`) and a scale `s` with
//! `x = s·c + e`; the residual norm `|e|` is computed when the row is added and rounded up.
//! A query `q = s_q·d + e_q` is coded the same way, so `s_q·s·(d·c)` (an exact integer dot
//! product) estimates `q·x` within `|s_q·d|·|e| + |e_q|·|x|` (Cauchy-Schwarz on the two error
//! terms). Together with the `f32` rounding bound of [`mod@crate::distance`], that brackets every
//! row's exact distance; the scan keeps the rows whose lower bound is under the k-th best upper
//! bound, and re-ranks them exactly. `M = floor(sqrt((2³¹ - 1) / dim))` (2047 for 512
//! dimensions) keeps every integer sum inside `i32`.
//!
//! [`ExactSearch`]: crate::ExactSearch

use crate::distance::Metric;
use crate::error::Result;
use crate::exact::{BoundedQuery, Bounds, Hit, Level, NormInfo, OVERFLOW_GUARD, check_k};
use crate::filter::KolIdFilter;
use crate::matrix::{EmbeddingMatrix, Query};

/// Per-row data of the compressed scan.
#[derive(Debug, Clone, Copy)]
struct RowCode {
    /// `s`: the row is `s·c + e`.
    scale: f32,
    /// `|e|`, rounded up.
    residual: f32,
    /// `|x|` (from the kernels' squared norm).
    norm: f32,
    /// `1 / |x|`.
    inv_norm: f32,
}

/// An [`EmbeddingMatrix`] plus a 16-bit fixed-point copy of its rows (half the bytes of the
/// `f32` rows), for exact search that reads less memory; see the [module docs](self).
///
/// Built once from a matrix (which it owns); [`CompressedMatrix::exact`] searches it.
#[derive(Clone)]
pub struct CompressedMatrix {
    matrix: EmbeddingMatrix,
    max_code: i32,
    codes: Vec<i16>,
    rows: Vec<RowCode>,
    max_norm: f64,
    max_inv_norm: f64,
}

impl std::fmt::Debug for CompressedMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompressedMatrix")
            .field("rows", &self.matrix.len())
            .field("dim", &self.matrix.dim())
            .field("max_code", &self.max_code)
            .finish_non_exhaustive()
    }
}

/// The largest code magnitude for which `dim` products of codes sum inside `i32`.
fn max_code(dim: usize) -> i32 {
    let m = (f64::from(i32::MAX) / dim.max(1) as f64).sqrt().floor();
    (m as i32).clamp(1, i32::from(i16::MAX))
}

/// `value` rounded up to an `f32` (for a non-negative finite value).
fn round_up_f32(value: f64) -> f32 {
    let f = value as f32;
    if f64::from(f) < value && f.is_finite() {
        f32::from_bits(f.to_bits() + 1)
    } else {
        f
    }
}

/// Codes `values` with `scale` (0: all codes 0) into `codes`; returns `|values - scale·codes|`
/// computed in `f64` (with a margin for its own rounding).
fn encode(values: &[f32], scale: f64, max_code: i32, codes: &mut [i16]) -> f64 {
    let mut residual = 0.0f64;
    let limit = f64::from(max_code);
    for (c, &v) in codes.iter_mut().zip(values) {
        let v = f64::from(v);
        let code = if scale > 0.0 {
            (v / scale).round().clamp(-limit, limit)
        } else {
            0.0
        };
        *c = code as i16;
        let e = v - scale * code;
        residual += e * e;
    }
    residual.sqrt() * (1.0 + 1e-12)
}

/// `Σ aᵢbᵢ` in exact integer arithmetic (the codes keep it inside `i32`). Written over
/// fixed-size blocks so that it compiles to `pmaddwd` on plain `x86-64`.
#[inline]
#[allow(clippy::needless_range_loop)] // Indexing fixed-size arrays is what vectorizes best.
fn dot_i16(a: &[i16], b: &[i16]) -> i32 {
    const BLOCK: usize = 16;
    let mut acc = [0i32; BLOCK];
    let ca = a.chunks_exact(BLOCK);
    let cb = b.chunks_exact(BLOCK);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..BLOCK {
            acc[i] += i32::from(x[i]) * i32::from(y[i]);
        }
    }
    let mut total: i32 = acc.iter().sum();
    for (&p, &q) in ra.iter().zip(rb) {
        total += i32::from(p) * i32::from(q);
    }
    total
}

impl CompressedMatrix {
    /// Codes every row of `matrix` (one pass; `n · dim` extra `i16` and 16 bytes per row).
    pub fn new(matrix: EmbeddingMatrix) -> Self {
        let dim = matrix.dim();
        let max_code = max_code(dim);
        let mut codes = vec![0i16; matrix.len() * dim];
        let mut rows = Vec::with_capacity(matrix.len());
        let (mut max_norm, mut max_inv_norm) = (0.0f64, 0.0f64);
        for (r, chunk) in codes.chunks_exact_mut(dim).enumerate() {
            let x = matrix.row_unchecked(r);
            let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let mut scale = (f64::from(peak) / f64::from(max_code)) as f32;
            if !scale.is_normal() {
                scale = 0.0;
            }
            let residual = encode(x, f64::from(scale), max_code, chunk);
            let norm = f64::from(matrix.squared_norms()[r]).sqrt();
            max_norm = max_norm.max(norm);
            max_inv_norm = max_inv_norm.max(1.0 / norm);
            rows.push(RowCode {
                scale,
                residual: round_up_f32(residual),
                norm: norm as f32,
                inv_norm: (1.0 / norm) as f32,
            });
        }
        Self {
            matrix,
            max_code,
            codes,
            rows,
            max_norm,
            max_inv_norm,
        }
    }

    /// The `f32` matrix.
    pub fn matrix(&self) -> &EmbeddingMatrix {
        &self.matrix
    }

    /// Gives the `f32` matrix back.
    pub fn into_matrix(self) -> EmbeddingMatrix {
        self.matrix
    }

    /// Bytes of the compressed copy that a scan reads per row (codes and row data).
    pub fn bytes_per_row(&self) -> usize {
        self.matrix.dim() * std::mem::size_of::<i16>() + std::mem::size_of::<RowCode>()
    }

    /// Exact search over this matrix with `metric`, scanning the compressed rows.
    pub fn exact(&self, metric: Metric) -> CompressedSearch<'_> {
        CompressedSearch {
            compressed: self,
            metric,
        }
    }
}

/// Exact search through a [`CompressedMatrix`]; results are identical to
/// [`ExactSearch`](crate::ExactSearch) on the same matrix.
#[derive(Debug, Clone, Copy)]
pub struct CompressedSearch<'a> {
    compressed: &'a CompressedMatrix,
    metric: Metric,
}

/// Cheap necessary condition for one row to be a candidate, in terms of the integer dot
/// product and the row's stored data (the terms of [`Bounds::of_approx`] rearranged).
#[derive(Debug, Clone, Copy)]
struct IntCut {
    /// Coefficient of the row norm.
    norm_coef: f64,
    /// Coefficient of the row's squared norm (L2 only).
    sq_coef: f64,
    /// The row passes when its value is at least this.
    floor: f64,
}

/// The query's codes and error terms.
struct CodedQuery {
    codes: Vec<i16>,
    /// `s_q`.
    scale: f64,
    /// `|e_q|`.
    residual: f64,
    /// `|s_q·d|`.
    coded_norm: f64,
    info: NormInfo,
}

impl CompressedSearch<'_> {
    /// The `k` rows nearest to `query` among those whose KOL passes `filter`; identical to
    /// [`ExactSearch::search`](crate::ExactSearch::search).
    ///
    /// # Errors
    /// [`crate::VectorError::ZeroK`], or [`crate::VectorError::DimensionMismatch`] when the
    /// query does not have the matrix's width.
    pub fn search<F: KolIdFilter + ?Sized>(
        &self,
        query: &Query,
        k: usize,
        filter: &F,
    ) -> Result<Vec<Hit>> {
        self.run(query, k, Level::Media, filter)
    }

    /// The `k` nearest distinct KOLs that pass `filter`; identical to
    /// [`ExactSearch::search_kols`](crate::ExactSearch::search_kols).
    ///
    /// # Errors
    /// As [`CompressedSearch::search`].
    pub fn search_kols<F: KolIdFilter + ?Sized>(
        &self,
        query: &Query,
        k: usize,
        filter: &F,
    ) -> Result<Vec<Hit>> {
        self.run(query, k, Level::Kol, filter)
    }

    fn code_query(&self, query: &Query) -> CodedQuery {
        let c = self.compressed;
        let peak = query.as_slice().iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let scale = f64::from(peak) / f64::from(c.max_code);
        let mut codes = vec![0i16; query.dim()];
        let residual = encode(query.as_slice(), scale, c.max_code, &mut codes);
        let coded_norm = scale
            * codes
                .iter()
                .map(|&d| f64::from(d) * f64::from(d))
                .sum::<f64>()
                .sqrt();
        CodedQuery {
            codes,
            scale,
            residual,
            coded_norm,
            info: NormInfo::new(query.squared_norm()),
        }
    }

    /// The cut for threshold `t` (in the bounds' key space).
    fn cut(&self, bounds: &Bounds, q: &CodedQuery, t: f64) -> IntCut {
        let c = self.compressed;
        let (rel, abs) = (bounds.rel(), bounds.abs());
        let open = IntCut {
            norm_coef: 0.0,
            sq_coef: 0.0,
            floor: f64::NEG_INFINITY,
        };
        // The residual term of the query, with |x| <= norm·(1 + rel).
        let rq = q.residual * (1.0 + rel);
        match bounds.metric() {
            Metric::Cosine if t < 2.0 => IntCut {
                norm_coef: 0.0,
                sq_coef: 0.0,
                floor: (1.0 - t - rel) * q.info.norm
                    - rq
                    - abs * c.max_inv_norm
                    - 1e-6 * q.info.norm,
            },
            Metric::NegativeInnerProduct if t < f64::INFINITY => IntCut {
                norm_coef: rq + rel * q.info.norm,
                sq_coef: 0.0,
                floor: -t - abs - 1e-6 * q.info.norm * c.max_norm,
            },
            Metric::L2 if t < f64::INFINITY => {
                let r = bounds.l2_rel();
                let span = q.info.norm + c.max_norm;
                IntCut {
                    norm_coef: 2.0 * rq + 2.0 * r * q.info.norm,
                    sq_coef: 1.0 - r,
                    floor: (1.0 - r) * q.info.sq - 4.0 * abs - t - 1e-6 * span * span,
                }
            }
            _ => open,
        }
    }

    #[inline]
    fn passes(&self, cut: &IntCut, q: &CodedQuery, dot: f64, row: &RowCode, xn: f32) -> bool {
        let approx = q.scale * f64::from(row.scale) * dot;
        let coded = q.coded_norm * f64::from(row.residual);
        let value = match self.metric {
            Metric::Cosine => (approx + coded) * f64::from(row.inv_norm),
            Metric::NegativeInnerProduct => approx + coded + cut.norm_coef * f64::from(row.norm),
            Metric::L2 => {
                2.0 * (approx + coded) + cut.norm_coef * f64::from(row.norm)
                    - cut.sq_coef * f64::from(xn)
            }
        };
        value.partial_cmp(&cut.floor) != Some(std::cmp::Ordering::Less)
    }

    fn run<F: KolIdFilter + ?Sized>(
        &self,
        query: &Query,
        k: usize,
        level: Level,
        filter: &F,
    ) -> Result<Vec<Hit>> {
        check_k(k)?;
        let c = self.compressed;
        let matrix = &c.matrix;
        let dim = matrix.dim();
        query.check_dim(dim, 0)?;
        let bounds = Bounds::new(self.metric, dim);
        let q = self.code_query(query);
        let span = q.info.norm + c.max_norm;
        let checked = span * span < OVERFLOW_GUARD;
        let mut state = BoundedQuery::new(k, level);
        let mut cut = self.cut(&bounds, &q, f64::INFINITY);
        let norms = matrix.squared_norms();
        for (r, (codes, row)) in c.codes.chunks_exact(dim).zip(&c.rows).enumerate() {
            let dot = f64::from(dot_i16(codes, &q.codes));
            if checked && !self.passes(&cut, &q, dot, row, norms[r]) {
                continue;
            }
            let x = NormInfo::new(norms[r]);
            let approx = q.scale * f64::from(row.scale) * dot;
            let extra =
                q.coded_norm * f64::from(row.residual) + q.residual * x.norm * (1.0 + bounds.rel());
            state.offer(
                bounds.of_approx(approx, extra, &x, &q.info),
                r,
                matrix,
                level,
                filter,
                &mut None,
            );
            cut = self.cut(&bounds, &q, state.upper.threshold());
        }
        Ok(state.finish(matrix, self.metric, query, k, level))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::AnyKol;
    use kol_core::{KolId, MediaId};

    #[test]
    fn codes_fit_i32_and_residuals_bound_the_error() {
        assert_eq!(max_code(512), 2047);
        assert_eq!(max_code(1), 32767);
        assert!(512 * 2047i64 * 2047 <= i64::from(i32::MAX));
        let x: Vec<f32> = (0..512).map(|i| ((i as f32) * 0.3).sin() * 0.2).collect();
        let mut m = EmbeddingMatrix::new(512).unwrap();
        m.push(MediaId(1), KolId(1), &x).unwrap();
        let c = CompressedMatrix::new(m);
        let row = c.rows[0];
        let err: f64 = x
            .iter()
            .zip(&c.codes)
            .map(|(&v, &code)| (f64::from(v) - f64::from(row.scale) * f64::from(code)).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(err <= f64::from(row.residual));
        assert!(err > 0.0 && f64::from(row.residual) < 1e-3);
        assert_eq!(c.bytes_per_row(), 1024 + 16);
    }

    #[test]
    fn equals_exact_search_on_near_ties() {
        let dim = 64;
        let base: Vec<f32> = (0..dim).map(|i| ((i as f32) * 0.37).sin() + 0.01).collect();
        let mut m = EmbeddingMatrix::new(dim).unwrap();
        let mut state = 7u64;
        for i in 0..2000i64 {
            let row: Vec<f32> = base
                .iter()
                .map(|&v| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    let bump = ((state >> 33) % 9) as f32 - 4.0;
                    v * (1.0 + bump * 1e-4)
                })
                .collect();
            m.push(MediaId(i), KolId(i / 4), &row).unwrap();
        }
        let c = CompressedMatrix::new(m);
        let q = Query::new(&base).unwrap();
        for metric in Metric::ALL {
            let exact = c.matrix().exact(metric);
            let fast = c.exact(metric);
            assert_eq!(
                fast.search(&q, 10, &AnyKol).unwrap(),
                exact.search(&q, 10, &AnyKol).unwrap()
            );
            assert_eq!(
                fast.search_kols(&q, 10, &AnyKol).unwrap(),
                exact.search_kols(&q, 10, &AnyKol).unwrap()
            );
        }
    }
}
