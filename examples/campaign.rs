//! Placeholder for the main example; replaced below.
fn main() {}
