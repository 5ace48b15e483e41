//! Integration tests of kol-embed, one binary (each module a former test file).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed test.

mod common;
mod errors;
mod jpeg;
mod reference;
