//! `kiln conversations add` as a whole process: spawn, load the engine, two durable file
//! writes, exit. Warm = compiled component already in the cache; cold = empty cache.
//!
//! Run: `cargo bench -p kiln --bench cli`. Figures are recorded in docs/benchmarks.md.

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use std::process::Command;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn add(store: &std::path::Path, cache: &std::path::Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["conversations", "add", "Every weekday at 9, summarise my unread Gmail"])
        .env("KILN_DIR", store)
        .env("KILN_CACHE_DIR", cache)
        .output()
        .expect("spawn kiln");
    assert!(out.status.success(), "kiln failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn benches(c: &mut Criterion) {
    let store = tempfile::tempdir().expect("tempdir");
    let warm = tempfile::tempdir().expect("tempdir");
    add(store.path(), warm.path()); // fills the cache
    c.bench_function("cli/add/warm-cache", |b| b.iter(|| add(store.path(), warm.path())));

    let mut cold = c.benchmark_group("cli/add");
    cold.sample_size(10);
    cold.bench_function("cold-cache", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("tempdir"),
            |empty| add(store.path(), empty.path()),
            BatchSize::PerIteration,
        )
    });
    cold.finish();
}

criterion_group! {
    name = cli;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(cli);
