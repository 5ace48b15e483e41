//! Integration tests of kol-db, one binary (each module a former test file).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed test.

mod agreement;
mod campaigns;
mod common;
mod csv;
mod faults;
mod import;
mod kols;
mod migrations;
mod nearest;
mod outreach;
mod replicas;
mod rules;
mod scaling;
mod scratch_cluster;
mod search;
mod stored;
mod timeouts;
mod tls;
mod tracing_events;
mod transactions;
