//! Integration tests of examples, one binary (each module a former test file).

mod backends;
mod documented;
mod optimize;
