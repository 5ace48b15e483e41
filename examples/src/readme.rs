//! The README of every library crate (what crates.io shows), compiled and run as documentation
//! tests of this package, so their examples cannot drift from the code.
//!
//! They live here rather than in each crate because this package depends on every crate (and on
//! tokio for kol-db's async example). `cargo test --doc -p kol-examples` runs them.

/// The workspace's README (its usage example: brief, search, plan, first outreach message).
#[doc = include_str!("../../README.md")]
struct WorkspaceReadme;

/// kol-core's README.
#[doc = include_str!("../../kol-core/README.md")]
struct KolCoreReadme;

/// kol-db's README.
#[doc = include_str!("../../kol-db/README.md")]
struct KolDbReadme;

/// kol-optimizer's README.
#[doc = include_str!("../../kol-optimizer/README.md")]
struct KolOptimizerReadme;

/// kol-vector's README.
#[doc = include_str!("../../kol-vector/README.md")]
struct KolVectorReadme;

/// kol-embed's README.
#[doc = include_str!("../../kol-embed/README.md")]
struct KolEmbedReadme;
