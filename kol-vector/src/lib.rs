//! In-memory similarity search over creators' media embeddings, agreeing with pgvector.
//!
//! TODO crate docs.

#![warn(missing_docs)]

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
pub mod synthetic;

pub use compressed::{CompressedMatrix, CompressedSearch};
pub use distance::{Metric, cosine_distance, distance, l2_distance, negative_inner_product};
pub use error::{Result, Subject, VectorError};
pub use exact::{ExactSearch, Hit};
pub use filter::{AnyKol, ExceptKols, KolFilter};
pub use ivf::{IvfIndex, IvfParams, IvfSearch, recall_at_k};
pub use matrix::{EmbeddingMatrix, Query};
