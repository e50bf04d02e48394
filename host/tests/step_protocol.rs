//! The step protocol (`builder.turn-begin`/`turn-resume`, WIT 0.3.1) driven through wasmtime
//! with a plain synchronous host: with the same clock, random bytes and LLM answers, a
//! stepped turn makes exactly the store, clock and random calls the blocking `turn` makes,
//! asks the same LLM requests, answers the same chunks and leaves the same stored bytes.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use wasmtime::component::{Component, HasSelf, Linker, ResourceAny};
use wasmtime::{Engine, Store};

/// Synchronous bindings of the world, as the simplest embedder would generate them.
mod wit {
    wasmtime::component::bindgen!({ path: "../wit", world: "engine" });
}

use wit::Engine as World;
use wit::exports::kiln::engine::builder::{Caller, TurnInput, TurnOptions, TurnStep};
use wit::kiln::engine::{builder_types, clock, emit, llm, random, store};

/// A recording host: an in-memory store with versions, a fixed clock, xorshift random bytes
/// and scripted LLM answers. `log` has every import call with its arguments and answer.
#[derive(Default)]
struct Host {
    data: BTreeMap<String, (Vec<u8>, u64)>,
    next_version: u64,
    seed: u64,
    answered: usize,
    log: Vec<String>,
    /// What the blocking `turn` emitted (chunks) or reported (progress).
    emitted: Vec<builder_types::ChatChunk>,
}

impl Host {
    fn new() -> Self {
        Self { seed: 0x5eed, ..Self::default() }
    }

    /// The scripted model: unparseable text first (the guest asks again with a repair
    /// prompt), then an outage (the rules answer), then unparseable again, and so on.
    fn answer(&mut self) -> Result<llm::Completion, llm::LlmError> {
        self.answered += 1;
        match self.answered % 3 {
            1 => Ok(llm::Completion {
                text: format!("not json, answer {}", self.answered),
                provider: "script".into(),
                model: "m".into(),
            }),
            2 => Err(llm::LlmError::Unavailable("scripted outage".into())),
            _ => Err(llm::LlmError::RateLimited("scripted 429".into())),
        }
    }

    fn matches(&self, key: &str, expected: &store::Precondition) -> bool {
        match (expected, self.data.get(key)) {
            (store::Precondition::Any, _) | (store::Precondition::Absent, None) => true,
            (store::Precondition::Matches(v), Some((_, have))) => v == have,
            _ => false,
        }
    }
}

impl store::Host for Host {
    fn get(&mut self, key: String) -> Result<Option<store::Entry>, store::StoreError> {
        let found = self
            .data
            .get(&key)
            .map(|(value, version)| store::Entry { value: value.clone(), version: *version });
        self.log.push(format!("get {key} -> {:?}", found.as_ref().map(|e| e.version)));
        Ok(found)
    }

    fn put(
        &mut self,
        key: String,
        value: Vec<u8>,
        expected: store::Precondition,
    ) -> Result<u64, store::StoreError> {
        self.log.push(format!("put {key} {expected:?} {value:?}"));
        if !self.matches(&key, &expected) {
            return Err(store::StoreError::Conflict);
        }
        self.next_version += 1;
        self.data.insert(key, (value, self.next_version));
        Ok(self.next_version)
    }

    fn delete(&mut self, key: String, expected: store::Precondition) -> Result<bool, store::StoreError> {
        self.log.push(format!("delete {key} {expected:?}"));
        if !self.matches(&key, &expected) {
            return Err(store::StoreError::Conflict);
        }
        Ok(self.data.remove(&key).is_some())
    }

    fn list(&mut self, prefix: String) -> Result<Vec<String>, store::StoreError> {
        let keys: Vec<String> = self.data.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
        self.log.push(format!("list {prefix} -> {keys:?}"));
        Ok(keys)
    }
}

impl clock::Host for Host {
    fn now(&mut self) -> clock::Datetime {
        self.log.push("now".into());
        clock::Datetime { seconds: 1_795_316_842, nanoseconds: 42_000 }
    }
}

impl random::Host for Host {
    fn fill(&mut self, len: u32) -> Vec<u8> {
        self.log.push(format!("fill {len}"));
        (0..len)
            .map(|_| {
                self.seed ^= self.seed << 13;
                self.seed ^= self.seed >> 7;
                self.seed ^= self.seed << 17;
                self.seed.to_le_bytes()[0]
            })
            .collect()
    }
}

impl builder_types::Host for Host {}

impl llm::Host for Host {
    fn complete(&mut self, request: llm::Request) -> Result<llm::Completion, llm::LlmError> {
        self.log.push(format!("llm {request:?}"));
        self.answer()
    }
}

impl emit::Host for Host {
    fn progress(&mut self, session_id: String, text: String) {
        self.log.push(format!("progress {session_id} {text}"));
    }

    fn chunk(&mut self, chunk: builder_types::ChatChunk) {
        self.emitted.push(chunk);
    }
}

/// A fresh instance of kiln.wasm (compiled once per test binary).
fn instantiate() -> (Store<Host>, World) {
    static COMPILED: OnceLock<(Engine, Component)> = OnceLock::new();
    let (engine, component) = COMPILED.get_or_init(|| {
        let engine = Engine::default();
        let component = Component::new(&engine, ::kiln::runtime::COMPONENT).expect("kiln.wasm compiles");
        (engine, component)
    });
    let mut linker = Linker::new(engine);
    World::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h).expect("imports");
    let mut store = Store::new(engine, Host::new());
    let world = World::instantiate(&mut store, component, &linker).expect("instantiate");
    (store, world)
}

fn caller() -> Caller {
    Caller { tenant_id: "acme".into(), user_id: "ana".into() }
}

fn options() -> TurnOptions {
    TurnOptions { context: true, llm: true, idle_timeout_ms: 86_400_000, oauth_ttl_ms: 600_000 }
}

/// The turns: a goal, an answer, back, an answer again, start over.
fn transcript() -> Vec<TurnInput> {
    vec![
        TurnInput::Message("Every weekday at 9, summarise my unread Gmail and post it to Slack #team".into()),
        TurnInput::Message("all of them".into()),
        TurnInput::Back,
        TurnInput::Message("only the ones from my boss".into()),
        TurnInput::Reset,
    ]
}

/// Everything one run shows: the import log, the chunks in order, the stored bytes.
type Run = (Vec<String>, Vec<builder_types::ChatChunk>, BTreeMap<String, (Vec<u8>, u64)>);

fn start(store: &mut Store<Host>, world: &World) -> String {
    let b = world.kiln_engine_builder();
    b.call_start_session(&mut *store, &caller()).expect("no trap").expect("session").session_id
}

fn blocking() -> Run {
    let (mut store, world) = instantiate();
    let id = start(&mut store, &world);
    for input in transcript() {
        let b = world.kiln_engine_builder();
        b.call_turn(&mut store, &caller(), &id, &input, options()).expect("no trap").expect("turn");
    }
    let host = store.into_data();
    (host.log, host.emitted, host.data)
}

fn stepped() -> Run {
    let (mut store, world) = instantiate();
    let id = start(&mut store, &world);
    let mut chunks = Vec::new();
    for input in transcript() {
        let b = world.kiln_engine_builder();
        let mut step = b.call_turn_begin(&mut store, &caller(), &id, &input, options()).expect("no trap");
        loop {
            match step.expect("step") {
                TurnStep::Done(done) => {
                    chunks.extend(done);
                    break;
                }
                TurnStep::NeedsLlm(wait) => {
                    // Logged exactly as the blocking host logs the same moments.
                    let host = store.data_mut();
                    host.log.push(format!("progress {id} {}", wait.progress));
                    host.log.push(format!("llm {:?}", wait.request));
                    let answer = host.answer();
                    step =
                        b.call_turn_resume(&mut store, wait.continuation, answer.as_ref()).expect("no trap");
                }
            }
        }
    }
    let host = store.into_data();
    (host.log, chunks, host.data)
}

#[test]
fn a_stepped_turn_is_byte_identical_to_the_blocking_turn() {
    let (log_a, chunks_a, data_a) = blocking();
    let (log_b, chunks_b, data_b) = stepped();
    assert!(log_a.iter().any(|l| l.starts_with("llm ")), "the transcript asks the LLM");
    assert!(log_a.iter().any(|l| l.contains("Reading that again")), "and repairs a bad answer");
    assert_eq!(log_a, log_b, "same import calls, same arguments, same order");
    // The generated types have no PartialEq; their Debug form shows every field.
    assert_eq!(format!("{chunks_a:#?}"), format!("{chunks_b:#?}"), "same chunks");
    assert_eq!(data_a, data_b, "same stored bytes and versions");
    assert!(!chunks_a.is_empty() && chunks_a.iter().filter(|c| c.done).count() == transcript().len());
}

/// A continuation dropped instead of resumed abandons its turn: nothing of it is stored,
/// and the session takes its next turn normally.
#[test]
fn a_dropped_continuation_stores_nothing() {
    let (mut store, world) = instantiate();
    let id = start(&mut store, &world);
    let b = world.kiln_engine_builder();
    let input = &transcript()[0];
    let before = store.data().data.clone();
    let step =
        b.call_turn_begin(&mut store, &caller(), &id, input, options()).expect("no trap").expect("step");
    let TurnStep::NeedsLlm(wait) = step else { panic!("an online turn asks the LLM first") };
    let continuation: ResourceAny = wait.continuation;
    continuation.resource_drop(&mut store).expect("drop");
    assert_eq!(store.data().data, before, "an abandoned turn writes nothing");
    let view = b.call_get_session(&mut store, &caller(), &id).expect("no trap").expect("view");
    assert_eq!(view.turn, 0);
    let offline = TurnOptions { llm: false, ..options() };
    let step = b.call_turn_begin(&mut store, &caller(), &id, input, offline).expect("no trap").expect("step");
    assert!(matches!(step, TurnStep::Done(_)), "offline, a turn needs no LLM");
    assert_eq!(b.call_get_session(&mut store, &caller(), &id).expect("no trap").expect("view").turn, 1);
}
