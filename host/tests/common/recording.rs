//! A plain synchronous wasmtime host of the `kiln:engine` world that records every import
//! call, LLM request, progress line, chunk and queue answer as JSON events, and runs the
//! parity transcript (`host/tests/parity/transcript.json`) through it, with the blocking
//! `turn` or the step protocol. The Node and Python packages write the same events
//! (`host/node/scripts/parity.mjs`, `host/python/scripts/parity.py`), so traces compare
//! across hosts.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};

/// Synchronous bindings of the world, as the simplest embedder would generate them.
pub mod wit {
    wasmtime::component::bindgen!({ path: "../wit", world: "engine" });
}

use wit::Engine as World;
use wit::exports::kiln::engine::builder::{Caller, OauthAnswer, TurnInput, TurnOptions, TurnStep};
use wit::exports::kiln::engine::queue::{Conversation, NewConversation};
use wit::kiln::engine::{builder_types, clock, emit, llm, random, store};

/// The parity transcript, shared with the Node and Python drivers.
pub fn transcript() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/parity/transcript.json");
    let text = std::fs::read_to_string(path).expect("the parity transcript");
    let doc: Value = serde_json::from_str(&text).expect("the transcript is JSON");
    doc["steps"].as_array().expect("steps").clone()
}

/// A WIT name from a generated enum's Debug form: `Phase::OauthFlow` -> `oauth-flow`.
fn kebab(debug: impl std::fmt::Debug) -> String {
    let shown = format!("{debug:?}");
    let name = shown.rsplit("::").next().unwrap_or(&shown);
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn expected_json(p: &store::Precondition) -> Value {
    match p {
        store::Precondition::Any => json!("any"),
        store::Precondition::Absent => json!("absent"),
        store::Precondition::Matches(v) => json!(v),
    }
}

fn chunk_json(c: &builder_types::ChatChunk) -> Value {
    json!(["chunk", {
        "session_id": c.session_id,
        "phase": kebab(c.phase),
        "text": c.text,
        "actions": c.actions.iter().map(|a| json!({"kind": kebab(a.kind), "label": a.label, "value": a.value})).collect::<Vec<_>>(),
        "connect": c.connect.as_ref().map(|r| json!({"provider": r.provider, "state": r.state, "scopes": r.scopes})),
        "requirements": c.requirements.as_ref().map(|rs| rs.iter().map(|r| json!({"field": r.field, "value": r.value, "turn": r.turn})).collect::<Vec<_>>()),
        "draft": c.draft.as_ref().map(|d| json!({"id": d.id, "revision": d.revision, "spec_json": d.spec_json})),
        "done": c.done,
    }])
}

fn request_json(r: &llm::Request) -> Value {
    json!(["llm", {
        "purpose": kebab(r.purpose),
        "session_id": r.session_id,
        "messages": r.messages.iter().map(|m| json!({"role": kebab(m.role), "content": m.content})).collect::<Vec<_>>(),
        "json_schema": r.json_schema,
    }])
}

fn conversation_json(c: &Conversation) -> Value {
    json!(["conversation", {
        "conversation_id": c.conversation_id,
        "prompt": c.prompt,
        "created_at": c.created_at,
        "workflow_id": c.workflow_id,
        "metadata": c.metadata,
    }])
}

/// The recording host: an in-memory store with counter versions, a fixed clock, xorshift
/// random bytes and scripted LLM answers.
pub struct Host {
    data: BTreeMap<String, (Vec<u8>, u64)>,
    next_version: u64,
    seed: u64,
    answered: u32,
    /// Every event, in order.
    pub log: Vec<Value>,
}

impl Host {
    fn new() -> Self {
        Self { data: BTreeMap::new(), next_version: 0, seed: 0x5eed, answered: 0, log: Vec::new() }
    }

    /// The scripted model: unparseable text (the guest asks again with a repair prompt),
    /// then an outage, then a rate limit, and round again.
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

    /// The stored bytes and versions, as the trace's last event.
    pub fn stored(&self) -> Value {
        let all: serde_json::Map<String, Value> =
            self.data.iter().map(|(k, (v, n))| (k.clone(), json!([n, B64.encode(v)]))).collect();
        json!(["stored", all])
    }
}

impl store::Host for Host {
    fn get(&mut self, key: String) -> Result<Option<store::Entry>, store::StoreError> {
        let found = self
            .data
            .get(&key)
            .map(|(value, version)| store::Entry { value: value.clone(), version: *version });
        let shown = found.as_ref().map(|e| json!([e.version, B64.encode(&e.value)]));
        self.log.push(json!(["get", key, shown]));
        Ok(found)
    }

    fn put(
        &mut self,
        key: String,
        value: Vec<u8>,
        expected: store::Precondition,
    ) -> Result<u64, store::StoreError> {
        let mut event = vec![json!("put"), json!(key), json!(B64.encode(&value)), expected_json(&expected)];
        let result = if self.matches(&key, &expected) {
            self.next_version += 1;
            self.data.insert(key, (value, self.next_version));
            event.push(json!(self.next_version));
            Ok(self.next_version)
        } else {
            event.push(json!("conflict"));
            Err(store::StoreError::Conflict)
        };
        self.log.push(Value::Array(event));
        result
    }

    fn delete(&mut self, key: String, expected: store::Precondition) -> Result<bool, store::StoreError> {
        let (shown, result) = if self.matches(&key, &expected) {
            let existed = self.data.remove(&key).is_some();
            (json!(existed), Ok(existed))
        } else {
            (json!("conflict"), Err(store::StoreError::Conflict))
        };
        self.log.push(json!(["delete", key, expected_json(&expected), shown]));
        result
    }

    fn list(&mut self, prefix: String) -> Result<Vec<String>, store::StoreError> {
        let keys: Vec<String> = self.data.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
        self.log.push(json!(["list", prefix, keys]));
        Ok(keys)
    }
}

impl clock::Host for Host {
    fn now(&mut self) -> clock::Datetime {
        self.log.push(json!(["now"]));
        clock::Datetime { seconds: 1_795_316_842, nanoseconds: 42_000 }
    }
}

impl random::Host for Host {
    fn fill(&mut self, len: u32) -> Vec<u8> {
        self.log.push(json!(["fill", len]));
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
        self.log.push(request_json(&request));
        self.answer()
    }
}

impl emit::Host for Host {
    fn progress(&mut self, _session_id: String, text: String) {
        self.log.push(json!(["progress", text]));
    }

    fn chunk(&mut self, chunk: builder_types::ChatChunk) {
        self.log.push(chunk_json(&chunk));
    }
}

/// A fresh instance of kiln.wasm (compiled once per test binary).
pub fn instantiate() -> (Store<Host>, World) {
    static COMPILED: OnceLock<(Engine, Component)> = OnceLock::new();
    let (engine, component) = COMPILED.get_or_init(|| {
        let engine = Engine::default();
        let component = Component::new(&engine, kiln_engine::runtime::COMPONENT).expect("kiln.wasm compiles");
        (engine, component)
    });
    let mut linker = Linker::new(engine);
    World::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h).expect("imports");
    let mut store = Store::new(engine, Host::new());
    let world = World::instantiate(&mut store, component, &linker).expect("instantiate");
    (store, world)
}

/// How a turn is driven.
#[derive(Clone, Copy, Debug)]
pub enum Drive {
    /// `builder.turn`: the guest calls the `llm` and `emit` imports.
    Blocking,
    /// `builder.turn-begin` / `turn-resume`: the host answers each LLM call.
    Stepped,
}

/// The caller of every transcript call (the kiln CLI's).
pub fn caller() -> Caller {
    Caller { tenant_id: "local".into(), user_id: "local".into() }
}

/// The options of every transcript turn.
pub fn options() -> TurnOptions {
    TurnOptions { context: true, llm: true, idle_timeout_ms: 86_400_000, oauth_ttl_ms: 600_000 }
}

fn turn(store: &mut Store<Host>, world: &World, id: &str, input: &TurnInput, drive: Drive) {
    let (who, options) = (caller(), options());
    let b = world.kiln_engine_builder();
    if let Drive::Blocking = drive {
        b.call_turn(&mut *store, &who, id, input, options).expect("no trap").expect("turn");
        return;
    }
    let mut step = b.call_turn_begin(&mut *store, &who, id, input, options).expect("no trap");
    loop {
        match step.expect("step") {
            TurnStep::Done(chunks) => {
                store.data_mut().log.extend(chunks.iter().map(chunk_json));
                return;
            }
            TurnStep::NeedsLlm(wait) => {
                // Logged as the blocking host logs the same moments.
                let host = store.data_mut();
                host.log.push(json!(["progress", wait.progress]));
                host.log.push(request_json(&wait.request));
                let answer = host.answer();
                step = b.call_turn_resume(&mut *store, wait.continuation, answer.as_ref()).expect("no trap");
            }
        }
    }
}

/// Runs the transcript on a fresh instance; returns the trace (the events, then the
/// stored bytes).
pub fn run(drive: Drive) -> Vec<Value> {
    let (mut store, world) = instantiate();
    let who = caller();
    let b = world.kiln_engine_builder();
    let id = b.call_start_session(&mut store, &who).expect("no trap").expect("session").session_id;
    for step in transcript() {
        if let Some(text) = step["message"].as_str() {
            turn(&mut store, &world, &id, &TurnInput::Message(text.into()), drive);
        } else if step.get("oauth").is_some() {
            let view = b.call_get_session(&mut store, &who, &id).expect("no trap").expect("view");
            let state = view.pending_oauth.expect("the transcript waits for a connection here").state;
            let answer = OauthAnswer { state, approved: step["oauth"].as_bool().expect("approved") };
            turn(&mut store, &world, &id, &TurnInput::Oauth(answer), drive);
        } else if step.get("back").is_some() {
            turn(&mut store, &world, &id, &TurnInput::Back, drive);
        } else if step.get("reset").is_some() {
            turn(&mut store, &world, &id, &TurnInput::Reset, drive);
        } else if let Some(add) = step.get("queue_add") {
            let metadata = add["metadata"].as_object().expect("metadata");
            let request = NewConversation {
                prompt: add["prompt"].as_str().expect("prompt").into(),
                workflow_id: None,
                metadata: metadata
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().expect("text").into()))
                    .collect(),
            };
            let q = world.kiln_engine_queue();
            let c = q.call_add(&mut store, &request).expect("no trap").expect("add");
            store.data_mut().log.push(conversation_json(&c));
        } else if step.get("queue_next").is_some() {
            let q = world.kiln_engine_queue();
            let c = q.call_next(&mut store).expect("no trap").expect("next").expect("queued");
            store.data_mut().log.push(conversation_json(&c));
        } else {
            panic!("unknown transcript step {step}");
        }
    }
    let mut trace = std::mem::take(&mut store.data_mut().log);
    trace.push(store.data().stored());
    trace
}

/// The first difference between two traces, if any: where and what each side has.
pub fn first_difference(a: &[Value], b: &[Value]) -> Option<String> {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))?;
    // Long events (prompts, stored records) are cut: the start shows which one differs.
    let show = |t: &[Value]| {
        t.get(at).map_or_else(|| "(nothing)".to_owned(), |e| e.to_string().chars().take(600).collect())
    };
    Some(format!("event {at}:\n  left:  {}\n  right: {}", show(a), show(b)))
}
