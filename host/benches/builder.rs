//! One builder turn through the component: offline provider, memory store. Also prints the
//! stored size of a session after 10 and 100 turns.
//!
//! Run: `cargo bench -p kiln --bench builder`. Figures are recorded in docs/benchmarks.md.

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use kiln::builder::{BuilderClient, TurnInput};
use kiln::services::Silent;
use kiln::store::MemoryStore;
use kiln::{Runtime, RuntimeOptions, Services};
use kiln_core::Store;
use kiln_core::builder::{Caller, TurnOptions};

fn benches(c: &mut Criterion) {
    let cache = tempfile::tempdir().expect("tempdir");
    let options = RuntimeOptions { cache_dir: Some(cache.path().to_path_buf()), ..Default::default() };
    let runtime = Arc::new(Runtime::new(&options).expect("runtime"));
    let store = Arc::new(MemoryStore::new());
    let client = BuilderClient::new(runtime, Services::system(store.clone()));
    let who = Caller { tenant_id: "bench".into(), user_id: "bench".into() };
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
    let turn = |id: &str, text: &str| {
        tokio
            .block_on(client.turn(
                &who,
                id,
                TurnInput::Message(text.into()),
                TurnOptions::default(),
                Arc::new(Silent),
            ))
            .expect("turn")
    };
    let stored = |id: &str| {
        Store::get(store.as_ref(), &format!("sessions/{id}.json")).expect("get").expect("stored").value.len()
    };

    // Stored size after 10 and 100 turns of a realistic mix.
    let id = tokio.block_on(client.start_session(&who)).expect("session").session_id;
    let lines = [
        "Every weekday at 9, summarise my unread Gmail and post it to Slack #team",
        "status",
        "post it to #ops",
        "help",
        "what's the weather?",
    ];
    for line in lines.iter().cycle().take(10) {
        turn(&id, line);
    }
    let ten = stored(&id);
    for line in lines.iter().cycle().take(90) {
        turn(&id, line);
    }
    eprintln!("stored session: {ten} bytes after 10 turns, {} bytes after 100 turns", stored(&id));

    // A steady-state turn: a message that changes one requirement, in OAUTH_FLOW.
    let mut flip = false;
    c.bench_function("builder/turn/offline/memory", |b| {
        b.iter(|| {
            flip = !flip;
            turn(&id, if flip { "post it to #team" } else { "post it to #ops" })
        })
    });
    c.bench_function("builder/status/offline/memory", |b| b.iter(|| turn(&id, "status")));
}

criterion_group! {
    name = builder;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(builder);
