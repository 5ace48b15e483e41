//! Shared code of the example programs: the catalogue generator and the command-line logic the
//! examples run, kept here so tests can call it.

pub mod campaign;
pub mod catalogue;
pub mod chart;
pub mod lifecycle;
pub mod npy;
pub mod optimize;
#[cfg(doctest)]
mod readme;
pub mod search;
pub mod service;
