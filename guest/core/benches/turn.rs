//! One builder turn in the native core (no wasm): the same scenario as the host's
//! `builder` bench, so the two figures compare. Also the parts of a turn on their own: the
//! session's stored-record round trip (and, for comparison, the JSON one it replaced) and the
//! rule-based extractor.
//!
//! Run: `cargo bench -p kiln-core --bench turn`. With `KILN_PROFILE_TURNS=N` it runs N
//! turns and nothing else, for `valgrind --tool=callgrind` (figures in docs/benchmarks.md).

// criterion_group! and criterion_main! generate undocumented items.
#![allow(missing_docs)]

use std::cell::Cell;
use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use kiln_core::builder::engine::Input;
use kiln_core::builder::llm::LlmError;
use kiln_core::builder::record;
use kiln_core::builder::session::Session;
use kiln_core::builder::{Builder, Caller, TurnOptions};
use kiln_core::memory::MemoryStore;
use kiln_core::{Clock, Entropy, UnixTime};

#[path = "common/scenario.rs"]
mod scenario;
use scenario::{MIX, message};

struct FixedClock;
impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        UnixTime { seconds: 1_795_316_842, nanoseconds: 0 }
    }
}

#[derive(Default)]
struct Counter(Cell<u8>);
impl Entropy for Counter {
    fn fill(&self, buf: &mut [u8]) {
        for b in buf {
            self.0.set(self.0.get().wrapping_add(1));
            *b = self.0.get();
        }
    }
}

type Native = Builder<MemoryStore, FixedClock, Counter>;

/// The embedded default: offline (no model configured), context on.
fn offline() -> TurnOptions {
    TurnOptions { llm: false, ..TurnOptions::default() }
}

fn who() -> Caller {
    Caller { tenant_id: "bench".into(), user_id: "bench".into() }
}

fn turn(b: &Native, id: &str, text: &str) {
    let no_llm = &mut |_: &_| Err(LlmError::NoProvider);
    b.process(&who(), id, Input::Message(text.into()), offline(), no_llm, &mut |_| {}).expect("turn");
}

/// A session after 100 turns of the host bench's mix: in OAUTH_FLOW, ~3 KB stored.
fn steady_session() -> (Native, String) {
    let b = Builder::new(MemoryStore::new(), FixedClock, Counter::default());
    let id = b.start_session(&who()).expect("session").session_id;
    for line in MIX.iter().cycle().take(100) {
        turn(&b, &id, line);
    }
    (b, id)
}

fn benches(c: &mut Criterion) {
    let (b, id) = steady_session();
    let mut flip = false;
    c.bench_function("native/builder/turn/offline/memory", |bench| {
        bench.iter(|| turn(&b, &id, message(&mut flip)))
    });

    let session = b.get_session(&who(), &id).expect("session");
    let json = serde_json::to_vec(&session).expect("json");
    c.bench_function("native/builder/session-json-round-trip", |bench| {
        bench.iter(|| {
            let s: Session = serde_json::from_slice(black_box(&json)).expect("parse");
            serde_json::to_vec(&s).expect("json")
        })
    });
    let stored = record::encode(&session);
    c.bench_function("native/builder/session-record-round-trip", |bench| {
        bench.iter(|| record::encode(&record::decode(black_box(&stored)).expect("decode")))
    });
    c.bench_function("native/builder/extract", |bench| {
        bench.iter(|| kiln_core::extract::extract(black_box("post it to #team")))
    });
}

fn main() {
    if let Some(n) = std::env::var("KILN_PROFILE_TURNS").ok().and_then(|n| n.parse::<u32>().ok()) {
        let (b, id) = steady_session();
        let mut flip = false;
        for _ in 0..n {
            turn(&b, &id, message(&mut flip));
        }
        return;
    }
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    benches(&mut c);
    c.final_summary();
}
