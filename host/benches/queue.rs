//! Queue operations in-process: through the component (memory and file stores) and, for
//! comparison, the native core. Also the fixed cost of a CLI start: loading the runtime
//! from a warm compiled-component cache.
//!
//! Run: `cargo bench -p kiln --bench queue`. Figures are recorded in docs/benchmarks.md.

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

/// The kiln binary's allocator (host/src/main.rs), so these figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use kiln_core::NewConversation;
use kiln_engine::{Imports, QueueClient, Runtime, RuntimeOptions};
use kiln_store::{Blocking, FileStore, KvStore, MemoryStore};

fn request() -> NewConversation {
    NewConversation {
        prompt: "Every weekday at 9, summarise my unread Gmail and post it to Slack #team".into(),
        ..Default::default()
    }
}

/// Times `timed` only, running `untimed` after each to keep the queue at a steady size.
fn steady<F, G>(rt: &tokio::runtime::Runtime, iters: u64, mut timed: F, mut untimed: G) -> Duration
where
    F: AsyncFnMut(),
    G: AsyncFnMut(),
{
    rt.block_on(async {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let t = Instant::now();
            timed().await;
            total += t.elapsed();
            untimed().await;
        }
        total
    })
}

fn through_component(c: &mut Criterion, name: &str, store: Arc<dyn KvStore>, runtime: Arc<Runtime>) {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
    let q = QueueClient::new(runtime, Imports::system(store));
    // A few queued conversations, as in normal use.
    tokio.block_on(async {
        for _ in 0..10 {
            q.add(request()).await.expect("add");
        }
    });
    let mut group = c.benchmark_group(format!("component/{name}"));
    group.bench_function("add", |b| {
        b.iter_custom(|iters| {
            steady(
                &tokio,
                iters,
                async || drop(q.add(request()).await.expect("add")),
                async || drop(q.next().await.expect("next")),
            )
        })
    });
    group.bench_function("next", |b| {
        b.iter_custom(|iters| {
            steady(
                &tokio,
                iters,
                async || drop(q.next().await.expect("next")),
                async || drop(q.add(request()).await.expect("add")),
            )
        })
    });
    group.bench_function("list(10)", |b| b.iter(|| tokio.block_on(q.list()).expect("list")));
    group.finish();
}

fn benches(c: &mut Criterion) {
    let cache = tempfile::tempdir().expect("tempdir");
    let options = RuntimeOptions { cache_dir: Some(cache.path().to_path_buf()), ..Default::default() };
    let runtime = Arc::new(Runtime::new(&options).expect("runtime"));

    through_component(c, "memory", Arc::new(MemoryStore::new()), Arc::clone(&runtime));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = Blocking::new(FileStore::open(dir.path()).expect("file store"));
    through_component(c, "file", Arc::new(file), Arc::clone(&runtime));

    let native_store = MemoryStore::new();
    let native = kiln_core::Queue::new(
        &native_store,
        kiln_engine::imports::SystemClock,
        kiln_engine::imports::OsRandom,
    );
    c.bench_function("native/memory/add+next", |b| {
        b.iter(|| {
            native.add(request()).expect("add");
            native.next().expect("next")
        })
    });

    c.bench_function("runtime/load-from-warm-cache", |b| b.iter(|| Runtime::new(&options).expect("runtime")));
}

criterion_group! {
    name = queue;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(queue);
