//! Placeholder; the initial-sync benchmark comes with the informer.
fn main() {}
