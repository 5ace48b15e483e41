//! PostgreSQL 15 + pgvector persistence of the KOL platform, on Diesel and diesel-async.
//!
//! Only this crate knows SQL and Diesel: it takes and returns kol-core types, and its row
//! structs stay private. The database enforces its own rules (CHECK constraints, a partial unique
//! index, triggers, foreign-key actions; see the migrations), so a second client cannot break
//! them, and every violation comes back as a typed [`DbError`].
//!
//! Start with [`Database::connect`] (a pool of async connections, TLS per the URL's `sslmode`),
//! then [`Database::run_migrations`].

#![warn(missing_docs)]
// On docs.rs (`--cfg docsrs`, nightly), feature-gated items say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod campaigns;
pub mod config;
pub mod conversations;
pub mod csv_import;
mod database;
pub mod deliverables;
pub mod error;
mod filter_sql;
pub mod import;
pub mod kol_search;
pub mod kols;
pub mod media;
mod models;
pub mod rate_cards;
pub mod replicas;
#[allow(missing_docs)]
mod schema;
pub mod search;
mod stored;
#[cfg(feature = "test-support")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-support")))]
pub mod testing;
mod tls;

pub use campaigns::{CampaignQuery, Membership};
pub use config::{DatabaseUrl, DbConfig, RootCerts, SslMode};
pub use conversations::{
    Agreed, Agreement, Opened, PipelineQuery, Recorded, Thread, TransitionOptions,
    TransitionOutcome,
};
pub use csv_import::{
    Change, CsvImportOptions, CsvImportReport, FieldChange, KolField, SkipReason, SkippedRow,
    UpdatedKol,
};
pub use database::{Database, MIGRATIONS};
pub use deliverables::SnapshotRecorded;
pub use error::{Cause, DbError, Result};
pub use import::{ImportOptions, ImportPhase, ImportProgress, ImportReport};
pub use kol_core::CatalogueEntry;
pub use kols::{KolPage, KolQuery, Page, UpsertOutcome, Upserted};
pub use replicas::{ReplicaState, ReplicaStatus, Routing, WalLsn};
pub use search::VectorIndex;
