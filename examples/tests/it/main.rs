//! Integration tests of examples, one binary with a module per area.

mod backends;
mod documented;
mod optimize;
