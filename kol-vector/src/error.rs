//! The one error type of `kol-vector`: bad vectors, bad ids and bad search parameters.

use kol_core::MediaId;

/// Which vector an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A row of an embedding matrix (0-based, in the order the rows were given).
    Row(usize),
    /// A query (0-based position in its batch; 0 for a single query).
    Query(usize),
    /// A vector given to a distance function (0 for the first argument, 1 for the second).
    Argument(usize),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Row(i) => write!(f, "row {i}"),
            Self::Query(i) => write!(f, "query {i}"),
            Self::Argument(i) => write!(f, "argument {i}"),
        }
    }
}

/// Everything that can go wrong in `kol-vector`.
///
/// Every variant names the offending input, so `Display` is a message a user can act on, and a
/// caller can `match` to decide what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VectorError {
    /// A vector does not have the width the matrix (or the other vector) has.
    #[error("{subject} has {actual} values, expected {expected}")]
    DimensionMismatch {
        /// The vector at fault.
        subject: Subject,
        /// The width required.
        expected: usize,
        /// The width given.
        actual: usize,
    },
    /// A matrix or a vector of width zero was requested.
    #[error("vectors must have at least one dimension")]
    ZeroDimension,
    /// A vector holds a NaN or an infinity.
    #[error("{subject}: value {index} is not finite ({value})")]
    NotFinite {
        /// The vector at fault.
        subject: Subject,
        /// Position of the first bad value.
        index: usize,
        /// The value itself.
        value: f32,
    },
    /// A vector is all zeros, or so small that its squared norm underflows `f32`: cosine distance
    /// is undefined for it (pgvector returns NaN).
    #[error("{subject} has a zero norm (its squared norm must be a normal f32)")]
    ZeroNorm {
        /// The vector at fault.
        subject: Subject,
    },
    /// A vector's squared norm overflows `f32`, so its distances would be infinite or NaN.
    #[error("{subject} has a norm too large for f32 arithmetic (its squared norm overflows)")]
    NormOverflow {
        /// The vector at fault.
        subject: Subject,
    },
    /// The id lists given with a matrix do not have one entry per row.
    #[error("{rows} rows but {media} media ids and {kols} KOL ids")]
    IdCount {
        /// Number of rows.
        rows: usize,
        /// Number of media ids given.
        media: usize,
        /// Number of KOL ids given.
        kols: usize,
    },
    /// Two rows carry the same media id.
    #[error("media id {media} appears twice (rows {first} and {second})")]
    DuplicateMedia {
        /// The repeated id.
        media: MediaId,
        /// The row that had it first.
        first: usize,
        /// The row that repeats it.
        second: usize,
    },
    /// A search asked for zero results.
    #[error("k must be at least 1")]
    ZeroK,
    /// An IVF index was asked for zero lists, or more lists than the matrix has rows.
    #[error("lists must be between 1 and the number of rows ({rows}), got {lists}")]
    InvalidLists {
        /// The number of lists asked for.
        lists: usize,
        /// The number of rows of the matrix.
        rows: usize,
    },
    /// An IVF search was asked to probe zero lists, or more lists than the index has.
    #[error("probes must be between 1 and lists ({lists}), got {probes}")]
    InvalidProbes {
        /// The number of probes asked for.
        probes: usize,
        /// The number of lists of the index.
        lists: usize,
    },
    /// A build or generator parameter (other than `lists`, `probes` and `k`) is out of range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// The parameter, e.g. `"max_iterations"`.
        name: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A search request that kol-core's [`kol_core::SearchRequest::validate`] refuses.
    #[error("invalid search request: {0}")]
    InvalidRequest(#[source] kol_core::CoreError),
    /// A creator is added twice to an in-memory catalogue (the same id, or the same handle).
    #[error("KOL {kol} is already in the catalogue")]
    DuplicateKol {
        /// The creator (for a repeated handle: the id the second entry would have had).
        kol: kol_core::KolId,
    },
    /// A metric name is not one of `cosine`, `l2`, `ip`.
    #[error("unknown metric {input:?} (expected one of: cosine, l2, ip)")]
    UnknownMetric {
        /// What the caller gave.
        input: String,
    },
}

/// `Result` with [`VectorError`] as the error.
pub type Result<T, E = VectorError> = std::result::Result<T, E>;

impl kol_core::SearchError for VectorError {
    fn invalid_request(&self) -> Option<&kol_core::CoreError> {
        match self {
            Self::InvalidRequest(error) => Some(error),
            _ => None,
        }
    }
}
