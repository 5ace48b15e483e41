//! Integration tests of kol-optimizer, one binary (each module a former test file).

mod api;
mod common;
mod families;
mod properties;
