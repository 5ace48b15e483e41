//! Integration tests of kol-embed, one binary (each module a former test file).

mod common;
mod errors;
mod jpeg;
mod reference;
