//! Integration tests of examples, one binary (each module a former test file).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed test.

mod backends;
mod npy;
mod optimize;
