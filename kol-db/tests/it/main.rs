//! Integration tests of kol-db, one binary (each module a former test file).

mod agreement;
mod common;
mod csv;
mod import;
mod kols;
mod migrations;
mod nearest;
mod outreach;
mod rules;
mod scratch_cluster;
mod search;
mod timeouts;
mod tls;
