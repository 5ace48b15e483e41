//! Placeholder until the IVF index lands.
fn main() {}
