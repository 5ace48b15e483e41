//! The embedding matrix (rows of `f32`, each with its media id and KOL id) and validated queries.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use kol_core::{Embedding, KolId, KolMedia, MediaId};
use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::distance::squared_norm;
use crate::error::{Result, Subject, VectorError};

/// Checks one vector and returns its squared norm (in the kernels' `f32` order).
pub(crate) fn check_vector(values: &[f32], dim: usize, subject: Subject) -> Result<f32> {
    if values.len() != dim {
        return Err(VectorError::DimensionMismatch {
            subject,
            expected: dim,
            actual: values.len(),
        });
    }
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(VectorError::NotFinite {
            subject,
            index,
            value,
        });
    }
    let norm = squared_norm(values);
    if norm.is_infinite() {
        return Err(VectorError::NormOverflow { subject });
    }
    if norm < f32::MIN_POSITIVE {
        return Err(VectorError::ZeroNorm { subject });
    }
    Ok(norm)
}

/// An `n x dim` matrix of `f32` embeddings, one row per picture, with the picture's
/// [`MediaId`] and its creator's [`KolId`].
///
/// Invariants: every row has exactly `dim` finite values and a squared norm that is a normal,
/// finite `f32` (so all three metrics are defined and finite for it); media ids are unique.
/// Rows are stored contiguously, in one allocation, as given (not rescaled: pgvector keeps the
/// values verbatim, and `<->` and `<#>` depend on the scale). What cosine search needs from a
/// row besides its values, its squared norm, is computed once when the row is added, never per
/// query.
#[derive(Clone)]
pub struct EmbeddingMatrix {
    dim: usize,
    values: Vec<f32>,
    sq_norms: Vec<f32>,
    media: Vec<MediaId>,
    kols: Vec<KolId>,
    rows_by_media: HashMap<MediaId, usize>,
}

impl std::fmt::Debug for EmbeddingMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddingMatrix")
            .field("rows", &self.len())
            .field("dim", &self.dim)
            .finish_non_exhaustive()
    }
}

impl EmbeddingMatrix {
    /// An empty matrix of `dim`-wide rows.
    ///
    /// # Errors
    /// [`VectorError::ZeroDimension`] when `dim` is 0.
    pub fn new(dim: usize) -> Result<Self> {
        Self::with_capacity(dim, 0)
    }

    /// An empty matrix of `dim`-wide rows with room for `rows` rows.
    ///
    /// # Errors
    /// [`VectorError::ZeroDimension`] when `dim` is 0.
    pub fn with_capacity(dim: usize, rows: usize) -> Result<Self> {
        if dim == 0 {
            return Err(VectorError::ZeroDimension);
        }
        Ok(Self {
            dim,
            values: Vec::with_capacity(rows.saturating_mul(dim)),
            sq_norms: Vec::with_capacity(rows),
            media: Vec::with_capacity(rows),
            kols: Vec::with_capacity(rows),
            rows_by_media: HashMap::with_capacity(rows),
        })
    }

    /// An empty matrix for CLIP embeddings ([`Embedding::DIM`] = 512 wide).
    pub fn for_embeddings() -> Self {
        Self {
            dim: Embedding::DIM,
            values: Vec::new(),
            sq_norms: Vec::new(),
            media: Vec::new(),
            kols: Vec::new(),
            rows_by_media: HashMap::new(),
        }
    }

    /// A matrix of CLIP embeddings from `(media, kol, embedding)` triples.
    ///
    /// # Errors
    /// As [`EmbeddingMatrix::push`].
    pub fn from_embeddings<'a, I>(rows: I) -> Result<Self>
    where
        I: IntoIterator<Item = (MediaId, KolId, &'a Embedding)>,
    {
        let mut matrix = Self::for_embeddings();
        for (media, kol, embedding) in rows {
            matrix.push_embedding(media, kol, embedding)?;
        }
        Ok(matrix)
    }

    /// A matrix from an `n x dim` array and one media id and one KOL id per row.
    ///
    /// The array is moved in without a copy when it is in standard (row-major) layout.
    ///
    /// # Errors
    /// [`VectorError::ZeroDimension`] for a zero-width array, [`VectorError::IdCount`] when the
    /// id lists do not have `n` entries, [`VectorError::NotFinite`], [`VectorError::ZeroNorm`]
    /// or [`VectorError::NormOverflow`] for a bad row, [`VectorError::DuplicateMedia`] for a
    /// repeated media id.
    pub fn from_array(data: Array2<f32>, media: Vec<MediaId>, kols: Vec<KolId>) -> Result<Self> {
        let (rows, dim) = data.dim();
        if dim == 0 {
            return Err(VectorError::ZeroDimension);
        }
        if media.len() != rows || kols.len() != rows {
            return Err(VectorError::IdCount {
                rows,
                media: media.len(),
                kols: kols.len(),
            });
        }
        let data = if data.is_standard_layout() {
            data
        } else {
            data.as_standard_layout().into_owned()
        };
        let (values, offset) = data.into_raw_vec_and_offset();
        let values = match offset {
            Some(0) | None => values,
            // A standard-layout array that does not start at its allocation: copy the rows out.
            Some(start) => values[start..start + rows * dim].to_vec(),
        };
        let mut sq_norms = Vec::with_capacity(rows);
        for (i, row) in values.chunks_exact(dim).enumerate() {
            sq_norms.push(check_vector(row, dim, Subject::Row(i))?);
        }
        let mut rows_by_media = HashMap::with_capacity(rows);
        for (i, &m) in media.iter().enumerate() {
            if let Some(first) = rows_by_media.insert(m, i) {
                return Err(VectorError::DuplicateMedia {
                    media: m,
                    first,
                    second: i,
                });
            }
        }
        Ok(Self {
            dim,
            values,
            sq_norms,
            media,
            kols,
            rows_by_media,
        })
    }

    /// A matrix from an `n x dim` array whose rows are identified by their position: row `i` gets
    /// media id `i` and KOL id `i` (what the `search` command-line example uses).
    ///
    /// # Errors
    /// As [`EmbeddingMatrix::from_array`].
    pub fn from_rows(data: Array2<f32>) -> Result<Self> {
        let ids: Vec<i64> = (0..data.nrows()).map(|i| i as i64).collect();
        let media = ids.iter().copied().map(MediaId).collect();
        let kols = ids.into_iter().map(KolId).collect();
        Self::from_array(data, media, kols)
    }

    /// Appends one row.
    ///
    /// # Errors
    /// [`VectorError::DimensionMismatch`] for a row of the wrong width,
    /// [`VectorError::NotFinite`], [`VectorError::ZeroNorm`] or [`VectorError::NormOverflow`]
    /// for a bad row, [`VectorError::DuplicateMedia`] when `media` is already present. The
    /// matrix is unchanged on error.
    pub fn push(&mut self, media: MediaId, kol: KolId, values: &[f32]) -> Result<()> {
        let row = self.len();
        let norm = check_vector(values, self.dim, Subject::Row(row))?;
        match self.rows_by_media.entry(media) {
            Entry::Occupied(e) => {
                return Err(VectorError::DuplicateMedia {
                    media,
                    first: *e.get(),
                    second: row,
                });
            }
            Entry::Vacant(e) => {
                e.insert(row);
            }
        }
        self.values.extend_from_slice(values);
        self.sq_norms.push(norm);
        self.media.push(media);
        self.kols.push(kol);
        Ok(())
    }

    /// Appends one CLIP embedding.
    ///
    /// # Errors
    /// As [`EmbeddingMatrix::push`] (a matrix that is not 512 wide rejects every embedding).
    pub fn push_embedding(
        &mut self,
        media: MediaId,
        kol: KolId,
        embedding: &Embedding,
    ) -> Result<()> {
        self.push(media, kol, embedding.as_slice())
    }

    /// Appends every picture of `media` that has an embedding; returns how many were added.
    ///
    /// # Errors
    /// As [`EmbeddingMatrix::push`]; the pictures before the failing one stay added.
    pub fn extend_from_media<'a, I>(&mut self, media: I) -> Result<usize>
    where
        I: IntoIterator<Item = &'a KolMedia>,
    {
        let mut added = 0;
        for m in media {
            if let Some(embedding) = &m.media.embedding {
                self.push_embedding(m.id, m.kol_id, embedding)?;
                added += 1;
            }
        }
        Ok(added)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.media.len()
    }

    /// `true` when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.media.is_empty()
    }

    /// Width of every row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// All rows, as an `n x dim` view.
    #[allow(clippy::expect_used)] // An invariant of this type, not something a caller controls.
    pub fn rows(&self) -> ArrayView2<'_, f32> {
        ArrayView2::from_shape((self.len(), self.dim), &self.values)
            .expect("the buffer holds len() * dim() values")
    }

    /// Row `row`, or `None` past the end.
    pub fn row(&self, row: usize) -> Option<ArrayView1<'_, f32>> {
        self.row_slice(row).map(ArrayView1::from)
    }

    /// Row `row` as a slice, or `None` past the end.
    pub fn row_slice(&self, row: usize) -> Option<&[f32]> {
        let start = row.checked_mul(self.dim)?;
        self.values.get(start..start + self.dim)
    }

    /// The media id of row `row`, or `None` past the end.
    pub fn media_id(&self, row: usize) -> Option<MediaId> {
        self.media.get(row).copied()
    }

    /// The KOL id of row `row`, or `None` past the end.
    pub fn kol_id(&self, row: usize) -> Option<KolId> {
        self.kols.get(row).copied()
    }

    /// The row holding `media`, if any.
    pub fn row_of(&self, media: MediaId) -> Option<usize> {
        self.rows_by_media.get(&media).copied()
    }

    /// The media ids, one per row.
    pub fn media_ids(&self) -> &[MediaId] {
        &self.media
    }

    /// The KOL ids, one per row.
    pub fn kol_ids(&self) -> &[KolId] {
        &self.kols
    }

    /// The squared norm of every row, as the kernels compute it (`f32`, fixed order).
    pub fn squared_norms(&self) -> &[f32] {
        &self.sq_norms
    }

    /// The raw row-major buffer (`len() * dim()` values).
    pub(crate) fn values(&self) -> &[f32] {
        &self.values
    }

    /// Row `row` without the `Option` (callers index rows they got from this matrix).
    #[inline]
    pub(crate) fn row_unchecked(&self, row: usize) -> &[f32] {
        &self.values[row * self.dim..(row + 1) * self.dim]
    }

    /// Reorders the rows in place so that new row `i` is old row `order[i]`.
    ///
    /// `order` must be a permutation of `0..len()`; it is consumed as scratch space. Uses one
    /// row of extra memory (cycle-following), so a 2 GB matrix does not need another 2 GB.
    pub(crate) fn permute_rows(&mut self, mut order: Vec<usize>) {
        let n = self.len();
        debug_assert_eq!(order.len(), n);
        let dim = self.dim;
        let mut buffer = vec![0.0f32; dim];
        const DONE: usize = usize::MAX;
        for start in 0..n {
            if order[start] == DONE || order[start] == start {
                order[start] = DONE;
                continue;
            }
            // Walk the cycle: position `i` receives old row `order[i]`.
            buffer.copy_from_slice(&self.values[start * dim..(start + 1) * dim]);
            let (norm0, media0, kol0) = (self.sq_norms[start], self.media[start], self.kols[start]);
            let mut i = start;
            loop {
                let src = order[i];
                order[i] = DONE;
                if src == start {
                    self.values[i * dim..(i + 1) * dim].copy_from_slice(&buffer);
                    self.sq_norms[i] = norm0;
                    self.media[i] = media0;
                    self.kols[i] = kol0;
                    break;
                }
                self.values.copy_within(src * dim..(src + 1) * dim, i * dim);
                self.sq_norms[i] = self.sq_norms[src];
                self.media[i] = self.media[src];
                self.kols[i] = self.kols[src];
                i = src;
            }
        }
        for (row, media) in self.media.iter().enumerate() {
            self.rows_by_media.insert(*media, row);
        }
    }
}

/// A validated query vector: finite values and a normal, finite squared norm.
///
/// Its squared norm is computed once, here, not per row scanned.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    values: Box<[f32]>,
    sq_norm: f32,
}

impl Query {
    /// Validates and copies `values`.
    ///
    /// # Errors
    /// [`VectorError::ZeroDimension`] for an empty slice, [`VectorError::NotFinite`],
    /// [`VectorError::ZeroNorm`] or [`VectorError::NormOverflow`] for a bad vector.
    pub fn new(values: &[f32]) -> Result<Self> {
        Self::at(values, 0)
    }

    /// One query per row of `queries`; errors name the first invalid row (`query i`).
    ///
    /// # Errors
    /// As [`Query::new`].
    pub fn from_rows(queries: ArrayView2<'_, f32>) -> Result<Vec<Self>> {
        queries
            .rows()
            .into_iter()
            .enumerate()
            .map(|(i, row)| match row.as_slice() {
                Some(values) => Self::at(values, i),
                None => Self::at(&row.to_vec(), i),
            })
            .collect()
    }

    /// Like [`Query::new`], naming the query `index` of a batch in errors.
    pub(crate) fn at(values: &[f32], index: usize) -> Result<Self> {
        if values.is_empty() {
            return Err(VectorError::ZeroDimension);
        }
        let sq_norm = check_vector(values, values.len(), Subject::Query(index))?;
        Ok(Self {
            values: values.into(),
            sq_norm,
        })
    }

    /// The values.
    pub fn as_slice(&self) -> &[f32] {
        &self.values
    }

    /// Width.
    pub fn dim(&self) -> usize {
        self.values.len()
    }

    /// Squared norm, as the kernels compute it.
    pub fn squared_norm(&self) -> f32 {
        self.sq_norm
    }

    /// Checks that this query can search `matrix`.
    pub(crate) fn check_dim(&self, dim: usize, index: usize) -> Result<()> {
        if self.dim() == dim {
            Ok(())
        } else {
            Err(VectorError::DimensionMismatch {
                subject: Subject::Query(index),
                expected: dim,
                actual: self.dim(),
            })
        }
    }
}

impl TryFrom<&Embedding> for Query {
    type Error = VectorError;

    fn try_from(embedding: &Embedding) -> Result<Self> {
        Self::new(embedding.as_slice())
    }
}

impl TryFrom<&[f32]> for Query {
    type Error = VectorError;

    fn try_from(values: &[f32]) -> Result<Self> {
        Self::new(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn push_validates_and_keeps_the_matrix_unchanged_on_error() {
        let mut m = EmbeddingMatrix::new(3).unwrap();
        m.push(MediaId(1), KolId(10), &[1.0, 0.0, 0.0]).unwrap();
        assert_eq!(
            m.push(MediaId(2), KolId(10), &[1.0, 0.0]),
            Err(VectorError::DimensionMismatch {
                subject: Subject::Row(1),
                expected: 3,
                actual: 2
            })
        );
        assert!(matches!(
            m.push(MediaId(2), KolId(10), &[1.0, f32::NAN, 0.0]),
            Err(VectorError::NotFinite { index: 1, .. })
        ));
        assert_eq!(
            m.push(MediaId(2), KolId(10), &[0.0, 0.0, 0.0]),
            Err(VectorError::ZeroNorm {
                subject: Subject::Row(1)
            })
        );
        assert_eq!(
            m.push(MediaId(2), KolId(10), &[3e38, 3e38, 0.0]),
            Err(VectorError::NormOverflow {
                subject: Subject::Row(1)
            })
        );
        assert_eq!(
            m.push(MediaId(1), KolId(11), &[0.0, 1.0, 0.0]),
            Err(VectorError::DuplicateMedia {
                media: MediaId(1),
                first: 0,
                second: 1
            })
        );
        assert_eq!(m.len(), 1);
        assert_eq!(m.squared_norms(), &[1.0]);
        assert_eq!(m.row_of(MediaId(1)), Some(0));
        assert_eq!(
            EmbeddingMatrix::new(0).unwrap_err(),
            VectorError::ZeroDimension
        );
    }

    #[test]
    fn from_array_accepts_any_layout_and_checks_ids() {
        let data = array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let fortran = data.t().as_standard_layout().into_owned().reversed_axes();
        assert!(!fortran.is_standard_layout());
        let m = EmbeddingMatrix::from_rows(fortran).unwrap();
        assert_eq!(m.row_slice(1), Some(&[3.0f32, 4.0][..]));
        assert_eq!(m.rows(), data);
        let err = EmbeddingMatrix::from_array(data.clone(), vec![MediaId(1)], vec![KolId(1); 3]);
        assert_eq!(
            err.unwrap_err(),
            VectorError::IdCount {
                rows: 3,
                media: 1,
                kols: 3
            }
        );
        let dup = EmbeddingMatrix::from_array(
            data,
            vec![MediaId(1), MediaId(2), MediaId(1)],
            vec![KolId(1); 3],
        );
        assert!(matches!(
            dup,
            Err(VectorError::DuplicateMedia {
                first: 0,
                second: 2,
                ..
            })
        ));
    }

    #[test]
    fn embeddings_and_media_rows() {
        let mut v = vec![0.0f32; 512];
        v[3] = 2.0;
        let e = Embedding::new(v).unwrap();
        let m = EmbeddingMatrix::from_embeddings([(MediaId(5), KolId(2), &e)]).unwrap();
        assert_eq!(m.dim(), 512);
        assert_eq!(m.kol_id(0), Some(KolId(2)));
        assert_eq!(m.media_id(0), Some(MediaId(5)));
        assert_eq!(m.squared_norms(), &[4.0]);
        assert_eq!(m.row(1), None);
        let q = Query::try_from(&e).unwrap();
        assert_eq!(q.squared_norm(), 4.0);
    }

    #[test]
    fn permute_rows_moves_ids_norms_and_values_together() {
        let mut m = EmbeddingMatrix::new(2).unwrap();
        for i in 0..6 {
            m.push(MediaId(i), KolId(100 + i), &[i as f32 + 1.0, 1.0])
                .unwrap();
        }
        let order = vec![3, 0, 4, 1, 2, 5];
        m.permute_rows(order.clone());
        for (new, &old) in order.iter().enumerate() {
            let old = old as i64;
            assert_eq!(m.media_id(new), Some(MediaId(old)));
            assert_eq!(m.kol_id(new), Some(KolId(100 + old)));
            assert_eq!(m.row_slice(new), Some(&[old as f32 + 1.0, 1.0][..]));
            assert_eq!(m.row_of(MediaId(old)), Some(new));
            let n = (old as f32 + 1.0).powi(2) + 1.0;
            assert_eq!(m.squared_norms()[new], n);
        }
    }

    #[test]
    fn queries_are_validated() {
        assert_eq!(Query::new(&[]).unwrap_err(), VectorError::ZeroDimension);
        assert!(matches!(
            Query::new(&[1.0, f32::INFINITY]),
            Err(VectorError::NotFinite {
                subject: Subject::Query(0),
                index: 1,
                ..
            })
        ));
        assert_eq!(
            Query::new(&[0.0, 0.0]).unwrap_err(),
            VectorError::ZeroNorm {
                subject: Subject::Query(0)
            }
        );
    }
}
