//! CLIP embeddings: exactly 512 finite `f32` values with a non-zero norm.
//!
//! The schema stores CLIP ViT-B/32 image embeddings in a `VECTOR(512)` column and compares them
//! with pgvector's cosine distance (`<=>`). [`Embedding`] is the only way into that column, so a
//! vector of the wrong width, a NaN or an all-zero vector (whose cosine distance is undefined)
//! cannot reach the database or an in-memory index.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// A 512-dimensional CLIP embedding.
///
/// Invariants: exactly [`Embedding::DIM`] values, all finite, and a non-zero Euclidean norm whose
/// square is a normal `f32` (between about `1.2e-38` and `3.4e38`, as pgvector needs).
/// The values are kept as given (not normalized): pgvector stores them verbatim and cosine distance
/// does not depend on the scale. Use [`Embedding::normalized`] for a unit-length copy.
///
/// Serializes as a plain JSON array of numbers; deserializing validates.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct Embedding {
    values: Box<[f32]>,
}

impl Embedding {
    /// The width of every embedding: CLIP ViT-B/32's projection dimension.
    pub const DIM: usize = 512;

    /// Validates and wraps `values`.
    ///
    /// # Errors
    /// [`CoreError::EmbeddingDimension`] unless there are exactly [`Self::DIM`] values,
    /// [`CoreError::EmbeddingNotFinite`] for a NaN or infinity, and
    /// [`CoreError::EmbeddingZeroNorm`] when the vector has no direction (its squared norm is
    /// below `f32::MIN_POSITIVE`), [`CoreError::EmbeddingNormOverflow`] when its squared norm
    /// does not fit an `f32`.
    pub fn new(values: Vec<f32>) -> Result<Self> {
        if values.len() != Self::DIM {
            return Err(CoreError::EmbeddingDimension {
                expected: Self::DIM,
                actual: values.len(),
            });
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(CoreError::EmbeddingNotFinite { index, value });
        }
        // pgvector accumulates the squared norm in `f32`: keep it a normal, finite `f32` so that
        // `<=>` is defined for every stored embedding (not NaN from an underflow or overflow).
        let norm_sq: f64 = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        if norm_sq < f64::from(f32::MIN_POSITIVE) {
            return Err(CoreError::EmbeddingZeroNorm);
        }
        if norm_sq > f64::from(f32::MAX) {
            return Err(CoreError::EmbeddingNormOverflow {
                norm: norm_sq.sqrt(),
            });
        }
        Ok(Self {
            values: values.into_boxed_slice(),
        })
    }

    /// Validates and copies `values`; see [`Embedding::new`].
    ///
    /// # Errors
    /// As [`Embedding::new`].
    pub fn from_slice(values: &[f32]) -> Result<Self> {
        Self::new(values.to_vec())
    }

    /// The values, in order.
    pub fn as_slice(&self) -> &[f32] {
        &self.values
    }

    /// The values, consuming the embedding.
    pub fn into_vec(self) -> Vec<f32> {
        self.values.into_vec()
    }

    /// Euclidean (L2) norm, accumulated in `f64`.
    pub fn norm(&self) -> f64 {
        self.values
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt()
    }

    /// A copy scaled to unit length (what CLIP's `encode_*` followed by L2 normalization gives).
    pub fn normalized(&self) -> Self {
        let norm = self.norm();
        let values: Box<[f32]> = self
            .values
            .iter()
            .map(|&v| (f64::from(v) / norm) as f32)
            .collect();
        // Dividing finite values by a positive finite norm keeps them finite, and the result has
        // norm 1 (up to rounding), so the invariants still hold.
        Self { values }
    }

    /// Cosine distance, with the meaning of pgvector's `<=>`: `1 - cos(self, other)`, in
    /// `[0, 2]`, with the similarity clamped to `[-1, 1]` as pgvector clamps it. Computed in
    /// `f64`, where pgvector accumulates in `f32`: the two differ by rounding only (kol-db's
    /// search tests compare them within `1e-5`), which can swap two creators whose distances
    /// are closer than that.
    pub fn cosine_distance(&self, other: &Self) -> f64 {
        let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
        for (&a, &b) in self.values.iter().zip(other.values.iter()) {
            let (a, b) = (f64::from(a), f64::from(b));
            dot += a * b;
            na += a * a;
            nb += b * b;
        }
        let similarity = (dot / (na * nb).sqrt()).clamp(-1.0, 1.0);
        1.0 - similarity
    }
}

impl std::fmt::Debug for Embedding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // 512 numbers drown every log line; show the start and the norm.
        write!(f, "Embedding([")?;
        for (i, v) in self.values.iter().take(4).enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{v}")?;
        }
        write!(
            f,
            ", ...; {} values, norm {:.4}])",
            self.values.len(),
            self.norm()
        )
    }
}

impl TryFrom<Vec<f32>> for Embedding {
    type Error = CoreError;

    fn try_from(values: Vec<f32>) -> Result<Self> {
        Self::new(values)
    }
}

impl TryFrom<&[f32]> for Embedding {
    type Error = CoreError;

    fn try_from(values: &[f32]) -> Result<Self> {
        Self::from_slice(values)
    }
}

impl From<Embedding> for Vec<f32> {
    fn from(embedding: Embedding) -> Self {
        embedding.into_vec()
    }
}

impl AsRef<[f32]> for Embedding {
    fn as_ref(&self) -> &[f32] {
        self.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis(i: usize) -> Vec<f32> {
        let mut v = vec![0.0; Embedding::DIM];
        v[i] = 1.0;
        v
    }

    #[test]
    fn accepts_a_valid_vector() {
        let e = Embedding::new(basis(3)).unwrap();
        assert_eq!(e.as_slice().len(), 512);
        assert_eq!(e.norm(), 1.0);
    }

    #[test]
    fn rejects_wrong_width_nan_and_zero() {
        assert_eq!(
            Embedding::new(vec![1.0; 511]),
            Err(CoreError::EmbeddingDimension {
                expected: 512,
                actual: 511
            })
        );
        let mut v = basis(0);
        v[7] = f32::NAN;
        assert!(matches!(
            Embedding::new(v),
            Err(CoreError::EmbeddingNotFinite { index: 7, .. })
        ));
        let mut v = basis(0);
        v[9] = f32::NEG_INFINITY;
        assert!(matches!(
            Embedding::new(v),
            Err(CoreError::EmbeddingNotFinite { index: 9, .. })
        ));
        assert_eq!(
            Embedding::new(vec![0.0; 512]),
            Err(CoreError::EmbeddingZeroNorm)
        );
        assert_eq!(
            Embedding::new(vec![1e-30; 512]),
            Err(CoreError::EmbeddingZeroNorm)
        );
        assert!(matches!(
            Embedding::new(vec![1e20; 512]),
            Err(CoreError::EmbeddingNormOverflow { .. })
        ));
    }

    #[test]
    fn cosine_distance_matches_pgvector_meaning() {
        let a = Embedding::new(basis(0)).unwrap();
        let b = Embedding::new(basis(1)).unwrap();
        let minus_a = Embedding::new(basis(0).iter().map(|v| -v).collect()).unwrap();
        assert_eq!(a.cosine_distance(&a), 0.0);
        assert_eq!(a.cosine_distance(&b), 1.0);
        assert_eq!(a.cosine_distance(&minus_a), 2.0);
    }

    #[test]
    fn normalized_has_unit_norm_and_same_direction() {
        let v: Vec<f32> = (0..512).map(|i| (i as f32 - 200.0) * 0.37).collect();
        let e = Embedding::new(v).unwrap();
        let n = e.normalized();
        assert!((n.norm() - 1.0).abs() < 1e-6);
        assert!(e.cosine_distance(&n) < 1e-6);
    }

    #[test]
    fn serde_validates() {
        let e = Embedding::new(basis(5)).unwrap();
        let json = serde_json::to_string(&e).unwrap();
        let back: Embedding = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        assert!(serde_json::from_str::<Embedding>("[1.0, 2.0]").is_err());
    }
}
