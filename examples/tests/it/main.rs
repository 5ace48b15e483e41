//! Integration tests of examples, one binary with a module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed test.

mod backends;
mod documented;
mod lifecycle;
mod npy;
mod optimize;
mod service;
