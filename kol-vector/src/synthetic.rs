//! Seeded test data shaped like CLIP embeddings: a Gaussian mixture on the unit sphere
//! (feature `synthetic`; used by this crate's tests and by the workspace benchmarks).
//!
//! Real image embeddings are clustered (one creator's pictures, one product category, one
//! style), and an index's recall and speed depend on that structure: uniform noise on a
//! 512-dimensional sphere has no near neighbours at all and makes every index look bad. This
//! generator draws `clusters` centres uniformly on the unit sphere, then each row as a centre
//! (chosen uniformly) plus isotropic Gaussian noise of total norm about `spread`, normalized to
//! unit length. With the default `spread = 0.6`, a row has cosine similarity about
//! `1 / sqrt(1 + 0.36) ≈ 0.86` with its centre and about `0.74` with another row of its cluster,
//! and about 0 with rows of other clusters.

use ndarray::Array2;

use crate::error::{Result, VectorError};
use crate::rng::SplitMix64;

/// A seeded Gaussian mixture on the unit sphere. Same parameters, same rows, on every machine.
#[derive(Debug, Clone)]
pub struct GaussianMixture {
    dim: usize,
    centres: Array2<f32>,
    spread: f64,
    seed: u64,
}

impl GaussianMixture {
    /// `clusters` centres in `dim` dimensions, noise of norm about `spread`, all from `seed`.
    ///
    /// # Errors
    /// [`VectorError::ZeroDimension`] when `dim` is 0; [`VectorError::InvalidParameter`]
    /// (named `clusters` or `spread`) when there are no clusters or `spread` is negative or not
    /// finite.
    pub fn new(dim: usize, clusters: usize, spread: f64, seed: u64) -> Result<Self> {
        if dim == 0 {
            return Err(VectorError::ZeroDimension);
        }
        if clusters == 0 {
            return Err(VectorError::InvalidParameter {
                name: "clusters",
                reason: "a mixture needs at least one cluster",
            });
        }
        if !(spread.is_finite() && spread >= 0.0) {
            return Err(VectorError::InvalidParameter {
                name: "spread",
                reason: "must be finite and at least 0",
            });
        }
        let mut rng = SplitMix64::stream(seed, u64::MAX);
        let mut centres = Array2::<f32>::zeros((clusters, dim));
        for mut row in centres.rows_mut() {
            let g: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
            let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
            for (dst, v) in row.iter_mut().zip(&g) {
                *dst = (v / norm) as f32;
            }
        }
        Ok(Self {
            dim,
            centres,
            spread,
            seed,
        })
    }

    /// The benchmark data set: 512 dimensions (CLIP ViT-B/32), 300 clusters, spread 0.6.
    pub fn clip_like(seed: u64) -> Self {
        // Fixed, valid parameters: the constructor cannot fail on them.
        match Self::new(512, 300, 0.6, seed) {
            Ok(mixture) => mixture,
            Err(_) => unreachable!("constant parameters are valid"),
        }
    }

    /// Width of the rows.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The centres, one unit vector per row.
    pub fn centres(&self) -> &Array2<f32> {
        &self.centres
    }

    /// `rows` unit vectors drawn from sub-stream `stream` (use different streams for data and
    /// queries: they then come from the same mixture but are independent).
    pub fn sample(&self, rows: usize, stream: u64) -> Array2<f32> {
        let mut rng = SplitMix64::stream(self.seed, stream);
        let clusters = self.centres.nrows();
        let noise = self.spread / (self.dim as f64).sqrt();
        let mut out = Array2::<f32>::zeros((rows, self.dim));
        let mut buffer = vec![0.0f64; self.dim];
        for mut row in out.rows_mut() {
            let centre = self.centres.row(rng.below(clusters));
            let mut norm = 0.0;
            for (b, &c) in buffer.iter_mut().zip(centre.iter()) {
                *b = f64::from(c) + noise * rng.normal();
                norm += *b * *b;
            }
            let norm = norm.sqrt();
            for (dst, &b) in row.iter_mut().zip(&buffer) {
                *dst = (b / norm) as f32;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::cosine_distance;

    #[test]
    fn reproducible_unit_rows_with_cluster_structure() {
        let mix = GaussianMixture::new(64, 4, 0.6, 9).unwrap();
        let a = mix.sample(200, 1);
        assert_eq!(a, mix.sample(200, 1));
        assert_ne!(a, mix.sample(200, 2));
        for row in a.rows() {
            let n: f32 = row.iter().map(|v| v * v).sum();
            assert!((n - 1.0).abs() < 1e-5);
        }
        // Every row is much closer to its nearest centre than to a random direction.
        for row in a.rows() {
            let row = row.as_slice().unwrap();
            let best = mix
                .centres()
                .rows()
                .into_iter()
                .map(|c| cosine_distance(row, c.as_slice().unwrap()).unwrap())
                .fold(f64::INFINITY, f64::min);
            assert!(best < 0.4, "{best}");
        }
    }

    #[test]
    fn validates() {
        assert!(GaussianMixture::new(0, 1, 0.1, 0).is_err());
        assert!(GaussianMixture::new(8, 0, 0.1, 0).is_err());
        assert!(GaussianMixture::new(8, 1, f64::NAN, 0).is_err());
        assert_eq!(GaussianMixture::clip_like(3).dim(), 512);
    }
}
