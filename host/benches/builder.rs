//! One builder turn through the component: offline provider (no model configured, as in
//! the embedded default), memory store; on a warm instance (the default) and, for
//! comparison, instantiating the guest per call. Also prints the stored size of a session
//! after 10 and 100 turns.
//!
//! Run: `cargo bench -p kiln --bench builder`. Figures are recorded in docs/benchmarks.md.
//! With `KILN_PROFILE_TURNS=N` it runs N steady-state turns and nothing else, for
//! `valgrind --tool=callgrind`, whose instruction counts stay comparable on a busy machine.

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

/// The kiln binary's allocator (host/src/main.rs), so these figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use kiln_core::Store;
use kiln_core::builder::{Caller, TurnOptions};
use kiln_engine::builder::{BuilderClient, TurnInput};
use kiln_engine::imports::Silent;
use kiln_engine::{Imports, Runtime, RuntimeOptions};
use kiln_store::MemoryStore;

#[path = "../../guest/core/benches/common/scenario.rs"]
mod scenario;
use scenario::{MIX, message};

/// A session driven through the component.
struct Bench {
    tokio: tokio::runtime::Runtime,
    client: BuilderClient,
    store: Arc<MemoryStore>,
    who: Caller,
    id: String,
}

impl Bench {
    fn new(cache_dir: &Path, reuse_instances: bool, max_concurrent_calls: u32) -> Self {
        let options = RuntimeOptions {
            cache_dir: Some(cache_dir.to_path_buf()),
            reuse_instances,
            max_concurrent_calls,
            ..Default::default()
        };
        let runtime = Arc::new(Runtime::new(&options).expect("runtime"));
        eprintln!("guard pages: {}", runtime.guard_pages());
        let store = Arc::new(MemoryStore::new());
        let client = BuilderClient::new(runtime, Imports::system(store.clone()));
        let who = Caller { tenant_id: "bench".into(), user_id: "bench".into() };
        let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
        let id = tokio.block_on(client.start_session(&who)).expect("session").session_id;
        Self { tokio, client, store, who, id }
    }

    fn turn(&self, text: &str) {
        // No model configured: the guest answers with the rules and skips the `llm` import.
        let offline = TurnOptions { llm: false, ..TurnOptions::default() };
        let turn =
            self.client.turn(&self.who, &self.id, TurnInput::Message(text.into()), offline, Arc::new(Silent));
        self.tokio.block_on(turn).expect("turn");
    }

    fn stored(&self) -> usize {
        let key = format!("sessions/{}.json", self.id);
        Store::get(self.store.as_ref(), &key).expect("get").expect("stored").value.len()
    }

    /// 10 and then 90 more turns of a realistic mix; returns the stored sizes after each.
    fn warm_up(&self) -> (usize, usize) {
        let mut mix = MIX.iter().cycle();
        mix.by_ref().take(10).for_each(|line| self.turn(line));
        let ten = self.stored();
        mix.take(90).for_each(|line| self.turn(line));
        (ten, self.stored())
    }
}

fn main() {
    // A fresh compiled-component cache, shared by both runtimes, unless KILN_CACHE_DIR names
    // one (profiling runs reuse it so the instruction counts are not swamped by the JIT).
    let cache = tempfile::tempdir().expect("tempdir");
    let cache_dir =
        std::env::var_os("KILN_CACHE_DIR").map_or_else(|| cache.path().to_path_buf(), PathBuf::from);
    let profile = std::env::var("KILN_PROFILE_TURNS").ok().and_then(|n| n.parse::<u32>().ok());
    // Under valgrind the default pool's guard-page reservations (64 slots) do not fit and
    // the engine would fall back to explicit bounds checks; one slot keeps the real mode.
    let bench = Bench::new(&cache_dir, true, if profile.is_some() { 1 } else { 64 });
    let (ten, hundred) = bench.warm_up();
    if let Some(n) = profile {
        let mut flip = false;
        (0..n).for_each(|_| bench.turn(message(&mut flip)));
        return;
    }
    eprintln!("stored session: {ten} bytes after 10 turns, {hundred} bytes after 100 turns");
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    let mut flip = false;
    c.bench_function("builder/turn/offline/memory", |b| b.iter(|| bench.turn(message(&mut flip))));
    c.bench_function("builder/status/offline/memory", |b| b.iter(|| bench.turn("status")));
    // The same turn instantiating the guest for every call, as before warm instances.
    let fresh = Bench::new(&cache_dir, false, 64);
    fresh.warm_up();
    c.bench_function("builder/turn/offline/memory/fresh-instance", |b| {
        b.iter(|| fresh.turn(message(&mut flip)))
    });
    c.final_summary();
}
