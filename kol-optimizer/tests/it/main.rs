//! Integration tests of kol-optimizer, one binary (each module a former test file).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed test.

mod api;
mod common;
mod constraints;
mod families;
mod properties;
