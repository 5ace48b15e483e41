//! Distances with pgvector's semantics (`<=>`, `<->`, `<#>`), and the `f32` kernels every search
//! in this crate shares.
//!
//! # What pgvector computes
//!
//! pgvector 0.8 (`src/vector.c`) accumulates every sum in `f32` and finishes in `f64`:
//!
//! | operator | pgvector | here |
//! | --- | --- | --- |
//! | `a <=> b` | `1 - clamp(s / sqrt(na * nb), -1, 1)`, with `s = Σ aᵢbᵢ`, `na = Σ aᵢ²`, `nb = Σ bᵢ²` summed in `f32`, then `s`, `na`, `nb` widened to `f64` | [`cosine_distance`] |
//! | `a <-> b` | `sqrt(Σ (aᵢ - bᵢ)²)`, the sum in `f32`, the root in `f64` | [`l2_distance`] |
//! | `a <#> b` | `-Σ aᵢbᵢ`, the sum in `f32` | [`negative_inner_product`] |
//!
//! # Rounding: what agrees and how closely
//!
//! pgvector is compiled with `-ftree-vectorize -fassociative-math`, so the *order* in which its
//! `f32` sums are added depends on the compiler and the CPU it was built for (4 SSE lanes, 8 AVX
//! lanes, sometimes fused multiply-adds). No client can reproduce that order bit for bit, so this
//! crate fixes its own: 32 interleaved `f32` partial sums (element `i` goes to lane `i mod 32`),
//! added pairwise at the end (lane `j` plus lane `j + 16`, then `j + 8`, ...). 32 lanes keep
//! eight SSE registers of independent sums busy, which is what lets a plain `x86-64` build scan
//! at memory speed. Rust never fuses a
//! multiply and an add on its own, so the order, and therefore every distance and every search
//! result, is bit for bit the same on every x86-64 or ARM machine, with or without
//! `-C target-cpu=native`.
//!
//! Standard floating-point error analysis bounds the difference. A sum of `n` products, added in
//! any order with unit roundoff `u = 2⁻²⁴`, is within `γₙ·Σ|aᵢbᵢ|` of the exact value, where
//! `γₙ = n·u / (1 - n·u)`. Here each lane adds `n / 32` products and the final tree five more
//! levels: `γ₂₁ ≈ 1.25e-6` for `n = 512`. pgvector's sum is within `γ₁₃₀ ≈ 7.7e-6` (SSE build) or
//! `γ₆₇ ≈ 4.0e-6` (AVX build) of exact, and `γ₅₁₂ ≈ 3.1e-5` in the worst case of a build that
//! did not vectorize. Since `|s| ≤ Σ|aᵢbᵢ| ≤ |a||b|`, the cosine similarity (and so `<=>`) of
//! either side is within about `2γ` of the exact value, and the two sides are within
//! `2(γ₂₁ + γ_pg)` of each other: **at most 1.05e-5 against an AVX build of pgvector, 1.8e-5
//! against an SSE build** for 512-dimensional vectors. These are worst cases, reached only when
//! every rounding error has the same sign; rounding errors of real data are random and cancel, and
//! the observed difference is about `√n·u ≈ 1e-6` or less. `<#>` agrees within
//! `(γ₂₁ + γ_pg)·Σ|aᵢbᵢ|`, and `<->` within about `γ·|a - b|` (relative).
//!
//! Every search of this crate ranks by exactly the values these functions return (the scans call
//! the same kernels), so a result list is exactly "sort all rows by this function, ties broken by
//! id".

use std::fmt;
use std::str::FromStr;

use crate::error::{Result, Subject, VectorError};

/// A distance between vectors, named after the pgvector operator it reproduces.
///
/// Smaller is closer for all three, as in `ORDER BY emb <=> $1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Metric {
    /// `<=>`: `1 - cos(a, b)`, in `[0, 2]`; the schema's `vector_cosine_ops` index.
    #[default]
    Cosine,
    /// `<->`: the Euclidean distance `|a - b|`; `vector_l2_ops`.
    L2,
    /// `<#>`: the negative inner product `-a·b`; `vector_ip_ops`.
    NegativeInnerProduct,
}

impl Metric {
    /// All three metrics.
    pub const ALL: [Self; 3] = [Self::Cosine, Self::L2, Self::NegativeInnerProduct];

    /// The pgvector operator: `"<=>"`, `"<->"` or `"<#>"`.
    pub const fn operator(self) -> &'static str {
        match self {
            Self::Cosine => "<=>",
            Self::L2 => "<->",
            Self::NegativeInnerProduct => "<#>",
        }
    }

    /// The short name used on command lines: `"cosine"`, `"l2"` or `"ip"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Cosine => "cosine",
            Self::L2 => "l2",
            Self::NegativeInnerProduct => "ip",
        }
    }

    /// The distance between `a` and `b`; see [`distance`].
    ///
    /// # Errors
    /// As [`distance`].
    pub fn distance(self, a: &[f32], b: &[f32]) -> Result<f64> {
        distance(self, a, b)
    }

    /// The distance between `a` and `b` given their precomputed squared norms (as
    /// [`squared_norm`] computes them): bitwise equal to [`Metric::distance`], without
    /// recomputing the norms.
    #[inline]
    pub(crate) fn with_norms(self, a: &[f32], na: f32, b: &[f32], nb: f32) -> f64 {
        match self {
            Self::Cosine => cosine_from_parts(dot(a, b), na, nb),
            Self::L2 => l2_from_squared(squared_l2(a, b)),
            Self::NegativeInnerProduct => negative_inner_from_dot(dot(a, b)),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Metric {
    type Err = VectorError;

    /// Reads `cosine`, `l2` or `ip` (also the operators `<=>`, `<->`, `<#>`), ignoring case.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cosine" | "<=>" => Ok(Self::Cosine),
            "l2" | "euclidean" | "<->" => Ok(Self::L2),
            "ip" | "inner_product" | "negative_inner_product" | "<#>" => {
                Ok(Self::NegativeInnerProduct)
            }
            _ => Err(VectorError::UnknownMetric {
                input: s.to_owned(),
            }),
        }
    }
}

/// Number of interleaved partial sums of the kernels (see the module docs).
pub const LANES: usize = 32;

/// Adds the partial sums pairwise: lane `j` plus lane `j + 16`, then `j + 8`, `j + 4`, `j + 2`,
/// `j + 1`.
#[inline(always)]
fn reduce(mut acc: [f32; LANES]) -> f32 {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        let (low, high) = acc.split_at_mut(width);
        for (l, h) in low.iter_mut().zip(high.iter()) {
            *l += *h;
        }
    }
    acc[0]
}

/// Runs `step` over `a` and `b` in blocks of [`LANES`] values, the last block padded with
/// zeros (which add exact zeros to the lanes past the end), then reduces.
///
/// Written with fixed-size arrays so that the compiler keeps the 32 partial sums in eight SIMD
/// registers: the kernel then runs at memory speed on a plain `x86-64` (SSE2) build.
#[inline(always)]
fn kernel(
    a: &[f32],
    b: &[f32],
    step: impl Fn(&mut [f32; LANES], &[f32; LANES], &[f32; LANES]),
) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        if let (Ok(x), Ok(y)) = (<&[f32; LANES]>::try_from(x), <&[f32; LANES]>::try_from(y)) {
            step(&mut acc, x, y);
        }
    }
    if !ra.is_empty() {
        let (mut x, mut y) = ([0.0f32; LANES], [0.0f32; LANES]);
        x[..ra.len()].copy_from_slice(ra);
        y[..rb.len()].copy_from_slice(rb);
        step(&mut acc, &x, &y);
    }
    reduce(acc)
}

/// `Σ aᵢbᵢ` in this crate's fixed `f32` order. The slices should have the same length (only the
/// common prefix is used otherwise).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[allow(clippy::needless_range_loop)] // Indexing fixed-size arrays is what vectorizes best.
    kernel(a, b, |acc, x, y| {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    })
}

/// `Σ aᵢ²` in this crate's fixed `f32` order (bitwise equal to `dot(a, a)`).
#[inline]
pub fn squared_norm(a: &[f32]) -> f32 {
    dot(a, a)
}

/// `Σ (aᵢ - bᵢ)²` in this crate's fixed `f32` order.
#[inline]
pub fn squared_l2(a: &[f32], b: &[f32]) -> f32 {
    #[allow(clippy::needless_range_loop)]
    kernel(a, b, |acc, x, y| {
        for i in 0..LANES {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    })
}

/// pgvector's `<=>` from the `f32` sums: `1 - clamp(dot / sqrt(na * nb), -1, 1)` in `f64`.
#[inline]
pub(crate) fn cosine_from_parts(dot: f32, na: f32, nb: f32) -> f64 {
    let similarity = f64::from(dot) / (f64::from(na) * f64::from(nb)).sqrt();
    // `clamp` keeps a NaN (zero norms) a NaN, as pgvector does.
    1.0 - similarity.clamp(-1.0, 1.0)
}

/// pgvector's `<->` from the `f32` sum of squares.
#[inline]
pub(crate) fn l2_from_squared(l2_sq: f32) -> f64 {
    f64::from(l2_sq).sqrt()
}

/// pgvector's `<#>` from the `f32` dot product.
#[inline]
pub(crate) fn negative_inner_from_dot(dot: f32) -> f64 {
    -f64::from(dot)
}

fn check_same_width(a: &[f32], b: &[f32]) -> Result<()> {
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(VectorError::DimensionMismatch {
            subject: Subject::Argument(1),
            expected: a.len(),
            actual: b.len(),
        })
    }
}

/// pgvector's cosine distance `a <=> b`: `1 - cos(a, b)`, in `[0, 2]`.
///
/// Sums in `f32` (this crate's fixed order), divides in `f64`, clamps the similarity to
/// `[-1, 1]` like pgvector. A zero vector gives NaN, as in pgvector. See the module docs for
/// the error bound against pgvector itself.
///
/// # Errors
/// [`VectorError::DimensionMismatch`] when the vectors differ in length.
pub fn cosine_distance(a: &[f32], b: &[f32]) -> Result<f64> {
    check_same_width(a, b)?;
    Ok(cosine_from_parts(
        dot(a, b),
        squared_norm(a),
        squared_norm(b),
    ))
}

/// pgvector's Euclidean distance `a <-> b`: `sqrt(Σ (aᵢ - bᵢ)²)`, the sum in `f32`.
///
/// # Errors
/// [`VectorError::DimensionMismatch`] when the vectors differ in length.
pub fn l2_distance(a: &[f32], b: &[f32]) -> Result<f64> {
    check_same_width(a, b)?;
    Ok(l2_from_squared(squared_l2(a, b)))
}

/// pgvector's negative inner product `a <#> b`: `-Σ aᵢbᵢ`, the sum in `f32`.
///
/// # Errors
/// [`VectorError::DimensionMismatch`] when the vectors differ in length.
pub fn negative_inner_product(a: &[f32], b: &[f32]) -> Result<f64> {
    check_same_width(a, b)?;
    Ok(negative_inner_from_dot(dot(a, b)))
}

/// The distance `metric` defines between `a` and `b` (pgvector's `a <op> b`).
///
/// # Errors
/// [`VectorError::DimensionMismatch`] when the vectors differ in length.
pub fn distance(metric: Metric, a: &[f32], b: &[f32]) -> Result<f64> {
    match metric {
        Metric::Cosine => cosine_distance(a, b),
        Metric::L2 => l2_distance(a, b),
        Metric::NegativeInnerProduct => negative_inner_product(a, b),
    }
}

/// Unit roundoff of `f32`.
const F32_UNIT_ROUNDOFF: f64 = 1.0 / 16_777_216.0; // 2^-24

/// Largest absolute error one rounding can make in the subnormal range of `f32` (half the
/// smallest subnormal, 2⁻¹⁵⁰).
const F32_UNDERFLOW: f64 = 7.006_492_321_624_085e-46; // 2^-150

/// `γₙ = n·u / (1 - n·u)`: a sum of `n` `f32` products added in any order is within
/// `γₙ·Σ|aᵢbᵢ|` of the exact value (plus underflow). `n` up to a few million keeps `n·u < 1`.
pub(crate) fn gamma(n: usize) -> f64 {
    let nu = n as f64 * F32_UNIT_ROUNDOFF;
    if nu >= 0.5 {
        // Beyond any dimension this crate is used with; stay safe rather than divide by ~0.
        f64::INFINITY
    } else {
        nu / (1.0 - nu)
    }
}

/// How far two `f32` evaluations of the same dot product (in different summation orders, e.g.
/// a matrix product and [`dot`]) can be apart: `|s₁ - s₂| ≤ rel·sqrt(na·nb) + abs`, where `na`,
/// `nb` are the [`squared_norm`]s of the two vectors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DotGap {
    /// Factor of `sqrt(na·nb)`.
    pub(crate) rel: f64,
    /// Absolute slack for underflow.
    pub(crate) abs: f64,
}

impl DotGap {
    /// The gap for `dim`-dimensional vectors whose computed squared norms are at least
    /// `f32::MIN_POSITIVE` (every matrix row and query of this crate).
    pub(crate) fn new(dim: usize) -> Self {
        // Each evaluation is within γ·Σ|aᵢbᵢ| + dim·2⁻¹⁵⁰ of exact; Σ|aᵢbᵢ| ≤ |a||b| by
        // Cauchy-Schwarz; the computed squared norms are within γ (relative) plus dim·2⁻¹⁵⁰ of
        // |a|², |b|², so |a||b| ≤ sqrt(na·nb)/(1 - γ) + (tiny, covered by the 1% margin since the
        // norms are normal floats, far above dim·2⁻¹⁵⁰). Two evaluations double it. The 1%
        // margin also covers the f64 rounding of the caller's bound arithmetic.
        let g = gamma(dim);
        Self {
            rel: 2.0 * g / (1.0 - g) * 1.01,
            abs: 2.0 * dim as f64 * F32_UNDERFLOW * 1.01,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_f64_cosine(a: &[f32], b: &[f32]) -> f64 {
        let (mut d, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
        for (&x, &y) in a.iter().zip(b) {
            let (x, y) = (f64::from(x), f64::from(y));
            d += x * y;
            na += x * x;
            nb += y * y;
        }
        1.0 - (d / (na * nb).sqrt()).clamp(-1.0, 1.0)
    }

    #[test]
    fn operators_and_names_round_trip() {
        for m in Metric::ALL {
            assert_eq!(m.as_str().parse::<Metric>().unwrap(), m);
            assert_eq!(m.operator().parse::<Metric>().unwrap(), m);
        }
        assert!(matches!(
            "manhattan".parse::<Metric>(),
            Err(VectorError::UnknownMetric { .. })
        ));
    }

    #[test]
    fn known_values() {
        let a = [1.0f32, 0.0, 0.0];
        let b = [0.0f32, 2.0, 0.0];
        let minus_a = [-3.0f32, 0.0, 0.0];
        assert_eq!(cosine_distance(&a, &a).unwrap(), 0.0);
        assert_eq!(cosine_distance(&a, &b).unwrap(), 1.0);
        assert_eq!(cosine_distance(&a, &minus_a).unwrap(), 2.0);
        assert_eq!(l2_distance(&a, &b).unwrap(), 5.0f64.sqrt());
        assert_eq!(negative_inner_product(&a, &minus_a).unwrap(), 3.0);
        // pgvector returns NaN for a zero vector; so do we.
        assert!(cosine_distance(&a, &[0.0; 3]).unwrap().is_nan());
    }

    #[test]
    fn widths_must_match() {
        assert_eq!(
            cosine_distance(&[1.0, 2.0], &[1.0]),
            Err(VectorError::DimensionMismatch {
                subject: Subject::Argument(1),
                expected: 2,
                actual: 1
            })
        );
    }

    #[test]
    fn kernels_match_plain_sums_on_exact_inputs() {
        // Small integers: every partial sum is exact in f32, so any order gives the same value.
        for n in [1usize, 5, 15, 16, 17, 31, 33, 512, 515] {
            let a: Vec<f32> = (0..n).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 3) % 13) as f32 - 6.0).collect();
            let d: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let l: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            assert_eq!(dot(&a, &b), d, "n = {n}");
            assert_eq!(squared_l2(&a, &b), l, "n = {n}");
            assert_eq!(squared_norm(&a), dot(&a, &a));
        }
    }

    /// The documented order, spelled out: lane `i mod 32`, then the pairwise tree.
    fn documented_dot(a: &[f32], b: &[f32]) -> f32 {
        let mut lanes = [0.0f32; LANES];
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            lanes[i % LANES] += x * y;
        }
        let mut width = LANES;
        while width > 1 {
            width /= 2;
            for j in 0..width {
                lanes[j] += lanes[j + width];
            }
        }
        lanes[0]
    }

    #[test]
    fn kernels_follow_the_documented_order_bit_for_bit() {
        for n in [1usize, 7, 31, 32, 33, 100, 512, 700] {
            let a: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.731).sin() * 3.1).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i as f32) * 1.37).cos() - 0.2).collect();
            assert_eq!(
                dot(&a, &b).to_bits(),
                documented_dot(&a, &b).to_bits(),
                "n = {n}"
            );
            let diff: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
            assert_eq!(
                squared_l2(&a, &b).to_bits(),
                documented_dot(&diff, &diff).to_bits()
            );
        }
    }

    #[test]
    fn cosine_is_close_to_an_f64_reference() {
        let a: Vec<f32> = (0..512).map(|i| ((i as f32) * 0.37).sin()).collect();
        let b: Vec<f32> = (0..512).map(|i| ((i as f32) * 0.11).cos() + 0.2).collect();
        let ours = cosine_distance(&a, &b).unwrap();
        assert!((ours - naive_f64_cosine(&a, &b)).abs() < 1e-6);
    }

    #[test]
    fn gamma_is_the_textbook_value() {
        let g = gamma(512);
        assert!((g - 3.0518e-5).abs() < 1e-8, "{g}");
        assert!(gamma(21) < 1.26e-6);
        assert_eq!(gamma(usize::MAX), f64::INFINITY);
    }
}
