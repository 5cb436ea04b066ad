//! Benchmarks for testserver (filled in below).

fn main() {}
