//! The costs behind the compact layout: sharing a string (a hit and a miss in the table),
//! looking up a label in a `StrMap`, parsing a `Time` and a `Quantity`.
//!
//! Run: `cargo bench -p apimachinery --bench compact`.
#![allow(clippy::unwrap_used, missing_docs)]

use apimachinery::api::resource::Quantity;
use apimachinery::meta::Time;
use apimachinery::{Str, StrMap};
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let shared = Str::from("registry.example/main:1.2");
    c.bench_function("Str::from, a string already shared (hit)", |b| {
        b.iter(|| Str::from(black_box("registry.example/main:1.2")))
    });
    drop(shared);
    let mut i = 0u64;
    c.bench_function("Str::from, a new string (miss, then dropped)", |b| {
        b.iter(|| {
            i += 1;
            Str::from(format!("uid-{i:032}"))
        })
    });
    c.bench_function("Str::unshared, 36 bytes", |b| {
        b.iter(|| Str::unshared(black_box("6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b")))
    });
    let labels: StrMap = StrMap::from([
        ("app", "web"),
        ("pod-template-hash", "7d9f8c6b5"),
        ("team", "payments"),
        ("tier", "backend"),
        ("version", "v1"),
    ]);
    c.bench_function("StrMap::get among 5 labels", |b| {
        b.iter(|| labels.get(black_box("tier")))
    });
    c.bench_function("Time::parse", |b| {
        b.iter(|| Time::parse(black_box("2026-11-25T10:00:00Z")).unwrap())
    });
    c.bench_function("Quantity::parse + milli_value", |b| {
        b.iter(|| Quantity::parse(black_box("128Mi")).unwrap().milli_value())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
