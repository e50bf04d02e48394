//! A guest that implements Kiln's `engine` world and misbehaves on request, for the host's
//! containment tests (host/engine/tests/hostile.rs). Its sessions are one small record,
//! `sessions/<id>.json`; a turn's message says what to do:
//!
//! | message | what the turn does |
//! | --- | --- |
//! | `hello` | answers one well-formed chunk, writes nothing |
//! | `loop` | reads the session, then loops forever |
//! | `alloc` | reads the session, then allocates without end |
//! | `recurse` | reads the session, then recurses until the stack overflows |
//! | `trap` | reads the session, then traps before writing |
//! | `random` | asks the host for 4 GiB of random bytes, answers how many it got |
//! | `bad-json` | answers a chunk whose draft is not JSON |
//! | `bad-count` | emits one chunk and says it emitted 4 294 967 295 |
//! | `other-session` | answers a chunk for a session that is not the turn's |
//!
//! Every other export answers an error. `export-agent` answers a draft that is not JSON.

#[allow(unsafe_code, missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "engine",
    });

    use crate::Hostile;
    export!(Hostile with_types_in crate::bindings);
}

use bindings::exports::kiln::engine::builder::{
    self as b, BuilderError, Caller, ChatChunk, Guest, GuestTurnContinuation, Phase, SessionSummary,
    SessionView, TurnContinuation, TurnInput, TurnOptions, TurnStep,
};
use bindings::exports::kiln::engine::queue::{
    self as q, Conversation, NewConversation, QueueError, StepOutcome,
};
use bindings::kiln::engine::builder_types::Draft;
use bindings::kiln::engine::{emit, llm, random, store};

struct Hostile;

fn key(session_id: &str) -> String {
    format!("sessions/{session_id}.json")
}

fn refused() -> BuilderError {
    BuilderError::Internal("the hostile test guest does not implement this".into())
}

fn read(session_id: &str) -> Result<Vec<u8>, BuilderError> {
    match store::get(&key(session_id)) {
        Ok(Some(entry)) => Ok(entry.value),
        Ok(None) => Err(BuilderError::NotFound(session_id.into())),
        Err(e) => Err(BuilderError::Store(e)),
    }
}

fn view(c: &Caller, session_id: &str) -> SessionView {
    SessionView {
        session_id: session_id.into(),
        user_id: c.user_id.clone(),
        tenant_id: c.tenant_id.clone(),
        phase: Phase::Idle,
        requirements: Vec::new(),
        connected: Vec::new(),
        pending_oauth: None,
        draft_agent_id: None,
        iteration: 0,
        turn: 0,
        created_at_ms: 0,
        last_active_at_ms: 0,
        version: 0,
        history: Vec::new(),
    }
}

fn chunk(session_id: &str, text: &str) -> ChatChunk {
    ChatChunk {
        session_id: session_id.into(),
        phase: Phase::Idle,
        text: text.into(),
        actions: Vec::new(),
        connect: None,
        requirements: None,
        draft: None,
        done: true,
    }
}

/// Recursion the optimiser cannot turn into a loop: each frame keeps a buffer alive, and
/// the end it never reaches is hidden from it.
fn recurse(depth: u64) -> u64 {
    if core::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    let frame = core::hint::black_box([depth; 64]);
    recurse(depth + 1) + frame[depth as usize % 64]
}

fn misbehave(session_id: &str, what: &str) -> Result<u32, BuilderError> {
    match what {
        "hello" => {
            emit::chunk(&chunk(session_id, "hello"));
            Ok(1)
        }
        "loop" => {
            let mut n = 0u64;
            loop {
                n = core::hint::black_box(n.wrapping_add(1));
            }
        }
        "alloc" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(core::hint::black_box(vec![1; 1 << 20]));
            }
        }
        "recurse" => Ok(recurse(0) as u32),
        "trap" => core::arch::wasm32::unreachable(),
        "random" => {
            let got = random::fill(u32::MAX).len();
            emit::chunk(&chunk(session_id, &got.to_string()));
            Ok(1)
        }
        "bad-json" => {
            let draft = Draft { id: "d".into(), revision: 1, spec_json: "{\"kind\": not json".into() };
            emit::chunk(&ChatChunk { draft: Some(draft), ..chunk(session_id, "a draft") });
            Ok(1)
        }
        "bad-count" => {
            emit::chunk(&chunk(session_id, "one"));
            Ok(u32::MAX)
        }
        "other-session" => {
            emit::chunk(&chunk("someone-else", "not yours"));
            Ok(1)
        }
        other => Err(BuilderError::InvalidInput(format!("the hostile guest knows no {other:?}"))),
    }
}

/// A continuation the guest never makes.
struct Never;

impl GuestTurnContinuation for Never {}

impl Guest for Hostile {
    type TurnContinuation = Never;

    fn start_session(c: Caller) -> Result<SessionView, BuilderError> {
        let id: String = random::fill(8).iter().map(|b| format!("{b:02x}")).collect();
        let record = format!("{{\"hostile\":\"{id}\"}}");
        store::put(&key(&id), record.as_bytes(), store::Precondition::Absent).map_err(BuilderError::Store)?;
        Ok(view(&c, &id))
    }

    fn turn(_: Caller, session_id: String, input: TurnInput, _: TurnOptions) -> Result<u32, BuilderError> {
        let TurnInput::Message(what) = input else { return Err(refused()) };
        if what != "hello" && what != "random" {
            read(&session_id)?;
        }
        misbehave(&session_id, &what)
    }

    fn turn_begin(_: Caller, _: String, _: TurnInput, _: TurnOptions) -> Result<TurnStep, BuilderError> {
        Err(refused())
    }

    fn turn_resume(
        _: TurnContinuation,
        _: Result<llm::Completion, llm::LlmError>,
    ) -> Result<TurnStep, BuilderError> {
        Err(refused())
    }

    fn process_message(
        _: Caller,
        _: String,
        _: String,
        _: TurnOptions,
    ) -> Result<Vec<ChatChunk>, BuilderError> {
        Err(refused())
    }

    fn complete_oauth(
        _: Caller,
        _: String,
        _: String,
        _: bool,
        _: TurnOptions,
    ) -> Result<Vec<ChatChunk>, BuilderError> {
        Err(refused())
    }

    fn go_back(_: Caller, _: String, _: TurnOptions) -> Result<Vec<ChatChunk>, BuilderError> {
        Err(refused())
    }

    fn reset(_: Caller, _: String, _: TurnOptions) -> Result<Vec<ChatChunk>, BuilderError> {
        Err(refused())
    }

    fn get_session(c: Caller, session_id: String) -> Result<SessionView, BuilderError> {
        read(&session_id)?;
        Ok(view(&c, &session_id))
    }

    fn list_sessions(_: Caller) -> Result<Vec<SessionSummary>, BuilderError> {
        Err(refused())
    }

    fn list_sessions_skipping(_: Caller) -> Result<b::SessionListing, BuilderError> {
        Err(refused())
    }

    fn delete_session(_: Caller, _: String) -> Result<(), BuilderError> {
        Err(refused())
    }

    fn expire_idle(_: u64) -> Result<u32, BuilderError> {
        Err(refused())
    }

    fn export_agent(_: Caller, session_id: String) -> Result<String, BuilderError> {
        read(&session_id)?;
        Ok("{\"kind\": not json".into())
    }

    fn agent_schema() -> String {
        String::new()
    }

    fn diagram() -> String {
        String::new()
    }

    fn providers() -> Vec<b::Provider> {
        Vec::new()
    }
}

fn no_queue() -> QueueError {
    QueueError::InvalidInput("the hostile test guest has no queue".into())
}

impl q::Guest for Hostile {
    fn add(_: NewConversation) -> Result<Conversation, QueueError> {
        Err(no_queue())
    }

    fn list() -> Result<Vec<Conversation>, QueueError> {
        Err(no_queue())
    }

    fn next() -> Result<Option<Conversation>, QueueError> {
        Err(no_queue())
    }

    fn start(_: String) -> Result<q::Started, QueueError> {
        Err(no_queue())
    }

    fn list_skipping() -> Result<q::QueueListing, QueueError> {
        Err(no_queue())
    }

    fn next_skipping() -> Result<q::NextSkippingOutcome, QueueError> {
        Err(no_queue())
    }

    fn start_forgetting(_: String) -> Result<q::Started, QueueError> {
        Err(no_queue())
    }

    fn conversation_step(_: String, _: String, _: Vec<(String, String)>) -> Result<StepOutcome, QueueError> {
        Err(no_queue())
    }
}
