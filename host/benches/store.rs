//! Store operation latency, backend against backend: `get`, and `put` with compare-and-swap
//! (`Matches` the version just read), on the memory store, the file store (fsync per write)
//! and Redis over loopback (a `redis-server` the bench starts on a free port, like the tests).
//!
//! Run: `cargo bench -p kiln --bench store`. Figures are recorded in docs/benchmarks.md.

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

/// The kiln binary's allocator (host/src/main.rs), so these figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use kiln_core::Precondition;
use kiln_store::{Blocking, FileStore, KvStore, MemoryStore, RedisConfig, RedisStore};
use kiln_tests::redis::RedisServer;

/// A stored session is about 3 KB (docs/benchmarks.md, "The builder").
const VALUE: [u8; 3072] = [b'x'; 3072];
const KEY: &str = "sessions/0b6f3c1e-2a8d-4f4e-9c1a-6d2b7e8f9a01.json";

fn backend(c: &mut Criterion, tokio: &tokio::runtime::Runtime, name: &str, store: Arc<dyn KvStore>) {
    let mut version =
        tokio.block_on(store.put(KEY, VALUE.to_vec(), Precondition::Any)).expect("seed the key");
    let mut group = c.benchmark_group(format!("store/{name}"));
    group.bench_function("get", |b| {
        b.iter(|| tokio.block_on(store.get(KEY)).expect("get").expect("present"));
    });
    group.bench_function("put_cas", |b| {
        b.iter(|| {
            version = tokio
                .block_on(store.put(KEY, VALUE.to_vec(), Precondition::Matches(version)))
                .expect("compare-and-swap");
        });
    });
    group.bench_function("get_then_put_cas", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let cur = store.get(KEY).await.expect("get");
                store
                    .put(KEY, VALUE.to_vec(), Precondition::unchanged_since(cur.as_ref()))
                    .await
                    .expect("cas")
            })
        });
    });
    group.finish();
}

fn stores(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
    backend(c, &tokio, "memory", Arc::new(MemoryStore::new()));

    let dir = tempfile::tempdir().expect("tempdir");
    let file = Blocking::new(FileStore::open(dir.path()).expect("file store"));
    backend(c, &tokio, "file", Arc::new(file));

    let server = RedisServer::start();
    let redis = tokio.block_on(RedisStore::connect(&RedisConfig::new(server.url()))).expect("redis");
    backend(c, &tokio, "redis", Arc::new(redis));
}

criterion_group!(benches, stores);
criterion_main!(benches);
