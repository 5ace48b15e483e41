//! Seeded k-means for the IVF index: k-means++ start, Lloyd iterations (spherical for cosine and
//! inner product, as pgvector does), and nearest-centroid assignment that is exact and
//! deterministic yet runs on a matrix product.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, Axis, Slice};

use crate::distance::{Metric, squared_l2, squared_norm};
use crate::exact::{Bounds, NormInfo};
use crate::rng::SplitMix64;

/// Rows per matrix product when assigning rows to centroids.
const ASSIGN_BLOCK: usize = 512;

/// A view of `values` as `rows x dim` (`values.len()` must be a multiple of `dim`).
#[allow(clippy::expect_used)] // Every caller passes whole rows: an invariant, not caller input.
pub(crate) fn view2(values: &[f32], dim: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((values.len() / dim, dim), values).expect("whole rows")
}

/// Centroids with their squared norms (as the kernels compute them).
#[derive(Debug, Clone)]
pub(crate) struct Centroids {
    pub(crate) values: Array2<f32>,
    pub(crate) sq_norms: Vec<f32>,
}

impl Centroids {
    pub(crate) fn new(values: Array2<f32>) -> Self {
        let sq_norms = values
            .rows()
            .into_iter()
            .map(|r| r.as_slice().map_or(0.0, squared_norm))
            .collect();
        Self { values, sq_norms }
    }

    pub(crate) fn len(&self) -> usize {
        self.values.nrows()
    }

    #[inline]
    pub(crate) fn row(&self, i: usize) -> &[f32] {
        let dim = self.values.ncols();
        self.values
            .as_slice()
            .map_or(&[][..], |all| &all[i * dim..(i + 1) * dim])
    }
}

/// For every row of `rows` (row-major, `dim` wide, with squared norms `sq_norms`), the index of
/// the centroid at the smallest `metric` distance, ties to the smaller index, and that distance.
///
/// The distances are those of [`Metric::distance`], so the answer does not depend on the
/// machine; a matrix product computes all row-centroid scores and only the centroids its
/// proven error bound cannot rule out are measured with the exact kernels.
pub(crate) fn nearest_centroids(
    rows: &[f32],
    sq_norms: &[f32],
    dim: usize,
    centroids: &Centroids,
    metric: Metric,
) -> Vec<(u32, f64)> {
    let view = view2(rows, dim);
    let n = view.nrows();
    let lists = centroids.len();
    let bounds = Bounds::new(metric, dim);
    let c_info: Vec<NormInfo> = centroids
        .sq_norms
        .iter()
        .map(|&c| NormInfo::new(c))
        .collect();
    let mut out = Vec::with_capacity(n);
    let mut scores = Array2::<f32>::zeros((ASSIGN_BLOCK.min(n.max(1)), lists));
    let mut uppers = vec![0.0f64; lists];
    let mut lowers = vec![0.0f64; lists];
    let mut start = 0;
    while start < n {
        let end = (start + ASSIGN_BLOCK).min(n);
        let mut block = scores.view_mut();
        block.slice_axis_inplace(Axis(0), Slice::from(0..end - start));
        general_mat_mul(
            1.0,
            &view.slice_axis(Axis(0), Slice::from(start..end)),
            &centroids.values.t(),
            0.0,
            &mut block,
        );
        for (i, row_scores) in block.rows().into_iter().enumerate() {
            let r = start + i;
            let x = &rows[r * dim..(r + 1) * dim];
            let xn = sq_norms[r];
            let x_info = NormInfo::new(xn);
            let mut best_upper = f64::INFINITY;
            for (j, (&s, c)) in row_scores.iter().zip(&c_info).enumerate() {
                let (lo, up) = bounds.of(s, &x_info, c);
                lowers[j] = lo;
                uppers[j] = up;
                best_upper = best_upper.min(up);
            }
            let mut best = (u32::MAX, f64::INFINITY);
            for (j, &lower) in lowers.iter().enumerate() {
                if lower <= best_upper {
                    let key = metric.with_norms(x, xn, centroids.row(j), centroids.sq_norms[j]);
                    if key.total_cmp(&best.1).is_lt() || best.0 == u32::MAX {
                        best = (j as u32, key);
                    }
                }
            }
            out.push(best);
        }
        start = end;
    }
    out
}

/// Parameters of one k-means run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KmeansConfig {
    pub(crate) clusters: usize,
    pub(crate) metric: Metric,
    pub(crate) max_iterations: usize,
    pub(crate) seed: u64,
}

/// The outcome of a k-means run.
#[derive(Debug, Clone)]
pub(crate) struct Kmeans {
    pub(crate) centroids: Centroids,
    pub(crate) iterations: usize,
}

/// Whether centroids live on the unit sphere (cosine and inner product, as in pgvector).
pub(crate) fn spherical(metric: Metric) -> bool {
    metric != Metric::L2
}

/// Scales `v` to unit length in place; returns `false` (leaving it unchanged) for a zero vector.
fn normalize(v: &mut [f32]) -> bool {
    let norm = v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        for x in v.iter_mut() {
            *x = (f64::from(*x) / norm) as f32;
        }
        true
    } else {
        false
    }
}

/// Runs k-means on `train` (`n x dim`, row-major; already unit length when `metric` is
/// spherical). `clusters` must be between 1 and `n`.
pub(crate) fn kmeans(train: &[f32], dim: usize, config: KmeansConfig) -> Kmeans {
    let n = train.len() / dim;
    let k = config.clusters;
    let row = |i: usize| &train[i * dim..(i + 1) * dim];
    let mut rng = SplitMix64::stream(config.seed, 0x6b6d_6561_6e73); // "kmeans"

    // k-means++ (Arthur and Vassilvitskii, 2007): each new centre is a sample drawn with
    // probability proportional to its squared distance to the nearest centre so far.
    let mut centres = Array2::<f32>::zeros((k, dim));
    let first = rng.below(n);
    centres.row_mut(0).assign(&ndarray::aview1(row(first)));
    let mut nearest: Vec<f64> = (0..n)
        .map(|i| f64::from(squared_l2(row(i), row(first))))
        .collect();
    for c in 1..k {
        let total: f64 = nearest.iter().sum();
        let pick = if total > 0.0 && total.is_finite() {
            let mut target = rng.next_f64() * total;
            let mut pick = n - 1;
            for (i, &d) in nearest.iter().enumerate() {
                if target < d {
                    pick = i;
                    break;
                }
                target -= d;
            }
            pick
        } else {
            // Every sample coincides with a centre already: any choice is as good.
            rng.below(n)
        };
        let centre = row(pick);
        centres.row_mut(c).assign(&ndarray::aview1(centre));
        for (i, d) in nearest.iter_mut().enumerate() {
            *d = d.min(f64::from(squared_l2(row(i), centre)));
        }
    }

    // Lloyd iterations.
    let train_norms: Vec<f32> = (0..n).map(|i| squared_norm(row(i))).collect();
    let mut centroids = Centroids::new(centres);
    let mut assignment: Vec<u32> = vec![u32::MAX; n];
    let mut iterations = 0;
    while iterations < config.max_iterations {
        iterations += 1;
        let nearest = nearest_centroids(train, &train_norms, dim, &centroids, config.metric);
        let mut changed = 0usize;
        for (a, &(c, _)) in assignment.iter_mut().zip(&nearest) {
            if *a != c {
                *a = c;
                changed += 1;
            }
        }
        if changed == 0 {
            break;
        }
        let mut sums = vec![0.0f64; k * dim];
        let mut counts = vec![0usize; k];
        for (i, &c) in assignment.iter().enumerate() {
            let c = c as usize;
            counts[c] += 1;
            for (s, &x) in sums[c * dim..(c + 1) * dim].iter_mut().zip(row(i)) {
                *s += f64::from(x);
            }
        }
        // Empty clusters take the samples that fit their centroid worst (largest distance,
        // then smallest index), one each: deterministic, and it splits the loosest clusters.
        let mut worst: Vec<usize> = Vec::new();
        if counts.contains(&0) {
            worst = (0..n).collect();
            worst.sort_by(|&a, &b| nearest[b].1.total_cmp(&nearest[a].1).then(a.cmp(&b)));
        }
        let mut worst = worst.into_iter();
        let mut next = centroids.values.clone();
        for (c, mut centre) in next.rows_mut().into_iter().enumerate() {
            let Some(centre) = centre.as_slice_mut() else {
                continue;
            };
            if counts[c] == 0 {
                if let Some(i) = worst.next() {
                    centre.copy_from_slice(row(i));
                }
                continue;
            }
            let mut mean: Vec<f32> = sums[c * dim..(c + 1) * dim]
                .iter()
                .map(|&s| (s / counts[c] as f64) as f32)
                .collect();
            // A spherical mean of zero length (opposite samples cancelling) keeps the old centre.
            if !spherical(config.metric) || normalize(&mut mean) {
                centre.copy_from_slice(&mean);
            }
        }
        centroids = Centroids::new(next);
    }
    Kmeans {
        centroids,
        iterations,
    }
}

/// `count` distinct sample indices out of `0..n`, in increasing order (Knuth's selection
/// sampling: one pass, no extra memory).
pub(crate) fn sample_indices(n: usize, count: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let count = count.min(n);
    let mut chosen = Vec::with_capacity(count);
    for i in 0..n {
        let needed = count - chosen.len();
        if needed == 0 {
            break;
        }
        // Take i with probability needed / remaining.
        if rng.below(n - i) < needed {
            chosen.push(i);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_uniform_and_complete() {
        let mut rng = SplitMix64::new(1);
        assert_eq!(sample_indices(5, 5, &mut rng), vec![0, 1, 2, 3, 4]);
        assert_eq!(sample_indices(5, 9, &mut rng).len(), 5);
        let mut hits = [0usize; 10];
        for _ in 0..20_000 {
            let s = sample_indices(10, 3, &mut rng);
            assert_eq!(s.len(), 3);
            assert!(s.windows(2).all(|w| w[0] < w[1]));
            for i in s {
                hits[i] += 1;
            }
        }
        for h in hits {
            assert!((h as f64 / 20_000.0 - 0.3).abs() < 0.02, "{hits:?}");
        }
    }

    #[test]
    fn nearest_centroids_is_exact_with_ties_to_the_smaller_index() {
        let c = Centroids::new(ndarray::array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 0.0]]);
        let rows = [0.9f32, 0.1, 0.1, 0.9, 1.0, 1.0];
        let norms: Vec<f32> = rows.chunks(2).map(squared_norm).collect();
        for metric in Metric::ALL {
            let got = nearest_centroids(&rows, &norms, 2, &c, metric);
            let ids: Vec<u32> = got.iter().map(|g| g.0).collect();
            assert_eq!(ids, vec![0, 1, 0], "{metric}");
            for (r, (j, d)) in rows.chunks(2).zip(got) {
                let want = metric.distance(r, c.row(j as usize)).unwrap();
                assert_eq!(d, want);
            }
        }
    }

    #[test]
    fn kmeans_finds_well_separated_clusters_deterministically() {
        // Three tight groups around the axes of R^3.
        let mut train = Vec::new();
        let mut rng = SplitMix64::new(5);
        for i in 0..300 {
            let mut v = [
                0.05 * rng.normal() as f32,
                0.05 * rng.normal() as f32,
                0.05 * rng.normal() as f32,
            ];
            v[i % 3] += 1.0;
            train.extend_from_slice(&v);
        }
        for metric in Metric::ALL {
            let mut data = train.clone();
            if spherical(metric) {
                for v in data.chunks_mut(3) {
                    normalize(v);
                }
            }
            let config = KmeansConfig {
                clusters: 3,
                metric,
                max_iterations: 20,
                seed: 11,
            };
            let a = kmeans(&data, 3, config);
            let b = kmeans(&data, 3, config);
            assert_eq!(a.centroids.values, b.centroids.values);
            let mut axes: Vec<usize> = (0..3)
                .map(|c| {
                    let r = a.centroids.row(c);
                    (0..3).max_by(|&x, &y| r[x].total_cmp(&r[y])).unwrap()
                })
                .collect();
            axes.sort();
            assert_eq!(axes, vec![0, 1, 2], "{metric}");
        }
    }
}
