//! In-memory similarity search over creators' media embeddings, agreeing with pgvector.
//!
//! TODO crate docs.

#![warn(missing_docs)]

pub mod distance;
pub mod error;
pub mod exact;
pub mod filter;
pub mod matrix;
mod select;

pub use distance::{Metric, cosine_distance, distance, l2_distance, negative_inner_product};
pub use error::{Result, Subject, VectorError};
pub use exact::{ExactSearch, Hit};
pub use filter::{AnyKol, ExceptKols, KolFilter};
pub use matrix::{EmbeddingMatrix, Query};
