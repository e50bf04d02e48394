//! Record and replay (issue #18, item 5): a turn's imports written to a journal in the
//! store, and the session re-run from it through the component, reporting the first
//! difference. A person's bug report then carries everything the engine saw, byte for byte.
//!
//! Recording wraps each import of one turn (store, clock, random, llm, emit) in a `Tap`
//! that passes the call on and notes it, in call order: what the guest asked and what it was
//! answered. The turn's inputs (caller, session, input, options), its calls and its outcome
//! are one journal entry, written after the turn to
//! `kiln-host/journal/[tenants/<tenant>/]<session-id>/<nnnnnn>.json`: in the host's part of
//! the store (the engine can neither read nor rewrite its own evidence), in whichever backend
//! holds the session. Each entry stands alone, so the journal keeps the last [`MAX_TURNS`]
//! turns and any of them replays.
//!
//! Replaying runs each entry's turn with a `Tap` that answers every import from the
//! entry (what the store held, the time, the random bytes, the model's answer) and compares
//! what the guest asks (keys, bytes written, preconditions, prompts, chunks) with what it
//! asked when recorded. Writes go nowhere: the live store is only read, for the journal.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kiln_store::KvStore;
use kiln_wire::builder::{Caller, ChatChunk, TurnInput, TurnOptions};
use kiln_wire::clock::{Clock, Entropy, UnixTime};
use kiln_wire::llm::{LlmError, LlmReply, LlmRequest};
use kiln_wire::store::{Entry, Precondition, StoreError, Version};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::builder::{BuilderClient, BuilderFailure, Recorder};
use crate::imports::{Emitter, Event, Imports, LlmBackend};
use crate::runtime::{COMPONENT_SHA256, Runtime};

/// The format name every entry carries.
pub const FORMAT: &str = "kiln.journal/v1";
/// The largest entry written: a bigger turn is noted as not recorded (with its size).
pub const MAX_TURN_BYTES: usize = 1 << 20;
/// Turns kept per session: older entries are deleted as new ones are written.
pub const MAX_TURNS: usize = 256;
/// Where journals live (below the host's prefix, which no engine call can reach).
const ROOT: &str = "kiln-host/journal/";

/// Where one store keeps the journals of one tenant's sessions.
#[derive(Clone)]
pub struct Journal {
    /// The whole store (not a tenant's view: journals live in the host's part).
    store: Arc<dyn KvStore>,
    /// `""` for the local tenant, else `tenants/<tenant>/`.
    scope: String,
}

/// Why a journal could not be read or replayed.
#[derive(Debug, Error)]
pub enum JournalError {
    /// The id cannot name a session.
    #[error(
        "{0:?} is not a session id (one key segment of A-Z a-z 0-9 . _ -); list yours with `kiln sessions list`"
    )]
    InvalidSession(String),
    /// Nothing was recorded for the session.
    #[error(
        "session {session_id} has no journal (looked in {location}): its turns were not recorded. \
         Record a session with `kiln chat --record` or `kiln serve --record` (KILN_RECORD=1), then replay it"
    )]
    Missing {
        /// The session.
        session_id: String,
        /// Where the journal would be.
        location: String,
    },
    /// An entry is not a journal entry this Kiln reads.
    #[error(
        "{location} is not a readable Kiln journal entry ({detail}); it cannot be replayed. \
         Record the session again with --record, or remove the entry"
    )]
    Unreadable {
        /// Where the entry is.
        location: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A turn could not be written as a journal entry.
    #[error("the turn could not be journaled: {0}")]
    Encode(String),
    /// The store failed.
    #[error("reading the journal: {0}")]
    Store(#[from] StoreError),
}

/// The first difference a replay found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The journal's turn number (its entry's number).
    pub turn: u32,
    /// The import call, counted from 1 within the turn (0: the turn's outcome).
    pub call: usize,
    /// Which call or field differed, and where.
    pub what: String,
    /// What the recorded turn did.
    pub expected: String,
    /// What the replay did.
    pub got: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.call == 0 { "its outcome".to_owned() } else { format!("import call {}", self.call) };
        write!(
            f,
            "turn {} differs at {at}: {}: expected {}, got {}",
            self.turn, self.what, self.expected, self.got
        )
    }
}

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// The session.
    pub session_id: String,
    /// Turns replayed (up to and including the one that differed).
    pub turns: u32,
    /// Turns the journal holds but could not record (too large), by number.
    pub not_recorded: Vec<u32>,
    /// Whether every turn was recorded with this binary's component.
    pub same_component: bool,
    /// The first difference, if any.
    pub difference: Option<Difference>,
}

impl Journal {
    /// The journals of `tenant`'s sessions (`None`: the local tenant) in `store`.
    pub fn new(store: Arc<dyn KvStore>, tenant: Option<&str>) -> Self {
        let scope = tenant.map(|t| format!("tenants/{t}/")).unwrap_or_default();
        Self { store, scope }
    }

    fn prefix(&self, session_id: &str) -> Result<String, JournalError> {
        let one_segment = !session_id.contains('/');
        if !one_segment || kiln_wire::store::validate_key(session_id).is_err() {
            return Err(JournalError::InvalidSession(session_id.to_owned()));
        }
        Ok(format!("{ROOT}{}{session_id}/", self.scope))
    }

    /// The entries' keys, oldest first (zero-padded numbers sort as they count).
    async fn entries(&self, session_id: &str) -> Result<Vec<String>, JournalError> {
        Ok(self.store.list(&self.prefix(session_id)?).await?)
    }

    /// Deletes a session's journal; returns how many entries it held (none for an id that
    /// cannot name a session).
    pub async fn delete(&self, session_id: &str) -> Result<usize, StoreError> {
        let Ok(prefix) = self.prefix(session_id) else { return Ok(0) };
        let keys = self.store.list(&prefix).await?;
        for key in &keys {
            self.store.delete(key, Precondition::Any).await?;
        }
        Ok(keys.len())
    }
}

#[async_trait]
impl Recorder for Journal {
    /// Runs one turn through `client`, recording its imports, and appends the entry. A
    /// journal that cannot be written does not fail the turn (it is committed by then).
    async fn record(
        &self,
        client: &BuilderClient,
        who: &Caller,
        session_id: &str,
        input: TurnInput,
        options: TurnOptions,
        emitter: Arc<dyn Emitter>,
    ) -> Result<Vec<ChatChunk>, BuilderFailure> {
        let tap = Arc::new(Tap::Recording {
            imports: client.imports.with_emitter(emitter),
            calls: Mutex::default(),
        });
        let mut entry = TurnRecord {
            format: FORMAT.to_owned(),
            component: COMPONENT_SHA256.to_owned(),
            turn: 0,
            caller: Who { tenant: who.tenant_id.clone(), user: who.user_id.clone() },
            session_id: session_id.to_owned(),
            input: Input::from(&input),
            options: Options::from(options),
            calls: Vec::new(),
            outcome: Outcome::NotRecorded { bytes: 0 },
        };
        let result = client.turn_with(tap.imports(), who, session_id, input, options).await;
        entry.outcome = Outcome::of(&result);
        entry.calls = tap.take_recorded();
        if let Err(e) = self.append(session_id, entry).await {
            tracing::warn!(session_id, "the turn ran but its journal entry was not written: {e}");
            metrics::counter!(JOURNAL_FAILURES).increment(1);
        }
        result
    }
}

impl Journal {
    /// Writes `entry` as the session's next turn, then drops the oldest beyond [`MAX_TURNS`].
    async fn append(&self, session_id: &str, mut entry: TurnRecord) -> Result<(), JournalError> {
        let keys = self.entries(session_id).await?;
        let last = keys.last().and_then(|k| turn_number(k)).unwrap_or(0);
        let encode =
            |entry: &TurnRecord| serde_json::to_vec(entry).map_err(|e| JournalError::Encode(e.to_string()));
        let size = encode(&entry)?.len();
        if size > MAX_TURN_BYTES {
            entry.outcome = Outcome::NotRecorded { bytes: size };
            entry.calls.clear();
        }
        // Two turns of one session racing for a number: the loser takes the next.
        let mut turn = last + 1;
        loop {
            entry.turn = turn;
            let key = format!("{}{turn:06}.json", self.prefix(session_id)?);
            match self.store.put(&key, encode(&entry)?, Precondition::Absent).await {
                Ok(_) => break,
                Err(StoreError::Conflict) if turn < last + 8 => turn += 1,
                Err(e) => return Err(e.into()),
            }
        }
        let all = self.entries(session_id).await?;
        for old in all.iter().take(all.len().saturating_sub(MAX_TURNS)) {
            self.store.delete(old, Precondition::Any).await?;
        }
        Ok(())
    }

    /// Replays the session's journal through `runtime`'s component, turn by turn, up to the
    /// first difference.
    pub async fn replay(
        &self,
        runtime: Arc<Runtime>,
        session_id: &str,
    ) -> Result<ReplayReport, JournalError> {
        let keys = self.entries(session_id).await?;
        if keys.is_empty() {
            return Err(JournalError::Missing {
                session_id: session_id.to_owned(),
                location: self.store.locate(&self.prefix(session_id)?),
            });
        }
        let mut report = ReplayReport {
            session_id: session_id.to_owned(),
            turns: 0,
            not_recorded: Vec::new(),
            same_component: true,
            difference: None,
        };
        for key in keys {
            let entry = self.load(&key).await?;
            report.same_component &= entry.component == COMPONENT_SHA256;
            if let Outcome::NotRecorded { .. } = entry.outcome {
                report.not_recorded.push(entry.turn);
                continue;
            }
            report.turns += 1;
            if let Some(difference) = replay_turn(Arc::clone(&runtime), entry).await {
                report.difference = Some(difference);
                break;
            }
        }
        Ok(report)
    }

    async fn load(&self, key: &str) -> Result<TurnRecord, JournalError> {
        let unreadable =
            |detail: String| JournalError::Unreadable { location: self.store.locate(key), detail };
        let entry = self
            .store
            .get(key)
            .await?
            .ok_or_else(|| unreadable("it was deleted during the replay".into()))?;
        let record: TurnRecord =
            serde_json::from_slice(&entry.value).map_err(|e| unreadable(e.to_string()))?;
        if record.format != FORMAT {
            return Err(unreadable(format!("format {:?}, this Kiln reads {FORMAT:?}", record.format)));
        }
        if turn_number(key) != Some(record.turn) {
            return Err(unreadable(format!("it says turn {} but is stored as another", record.turn)));
        }
        Ok(record)
    }
}

/// Metric: journal entries that could not be written (the turn itself succeeded).
pub const JOURNAL_FAILURES: &str = "kiln_journal_write_failures_total";

fn turn_number(key: &str) -> Option<u32> {
    key.rsplit('/').next()?.strip_suffix(".json")?.parse().ok()
}

/// Runs one recorded turn with every import answered from its entry; the first difference.
async fn replay_turn(runtime: Arc<Runtime>, entry: TurnRecord) -> Option<Difference> {
    let turn = entry.turn;
    let tap = Arc::new(Tap::Replaying(Mutex::new(Player {
        turn,
        recorded: entry.calls.into(),
        made: 0,
        difference: None,
    })));
    let client = BuilderClient::new(runtime, tap.imports());
    let caller = Caller { tenant_id: entry.caller.tenant, user_id: entry.caller.user };
    let result = client
        .turn_with(tap.imports(), &caller, &entry.session_id, entry.input.into(), entry.options.into())
        .await;
    let mut player = tap.player();
    if let Some(difference) = player.difference.take() {
        return Some(difference);
    }
    if let Some(next) = player.recorded.front() {
        return Some(Difference {
            turn,
            call: player.made + 1,
            what: "the replayed turn ended before this call".into(),
            expected: next.describe(),
            got: "no call".into(),
        });
    }
    let got = Outcome::of(&result);
    (got != entry.outcome).then(|| Difference {
        turn,
        call: 0,
        what: "the turn's outcome".into(),
        expected: json(&entry.outcome),
        got: json(&got),
    })
}

/// One journal entry: a turn's inputs, its import calls in order, and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnRecord {
    /// [`FORMAT`].
    pub format: String,
    /// SHA-256 of the component that ran the turn.
    pub component: String,
    /// The entry's number in the session's journal (from 1).
    pub turn: u32,
    caller: Who,
    session_id: String,
    input: Input,
    options: Options,
    /// The import calls, in the order the guest made them.
    pub calls: Vec<Call>,
    outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Who {
    tenant: String,
    user: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
enum Input {
    Message { text: String },
    Oauth { state: String, approved: bool },
    Back,
    Reset,
}

impl From<&TurnInput> for Input {
    fn from(input: &TurnInput) -> Self {
        match input.clone() {
            TurnInput::Message(text) => Input::Message { text },
            TurnInput::Oauth { state, approved } => Input::Oauth { state, approved },
            TurnInput::Back => Input::Back,
            TurnInput::Reset => Input::Reset,
        }
    }
}

impl From<Input> for TurnInput {
    fn from(input: Input) -> Self {
        match input {
            Input::Message { text } => TurnInput::Message(text),
            Input::Oauth { state, approved } => TurnInput::Oauth { state, approved },
            Input::Back => TurnInput::Back,
            Input::Reset => TurnInput::Reset,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Options {
    context_on: bool,
    llm: bool,
    idle_timeout_ms: u64,
    oauth_ttl_ms: u64,
}

impl From<TurnOptions> for Options {
    fn from(o: TurnOptions) -> Self {
        Self {
            context_on: o.context_on,
            llm: o.llm,
            idle_timeout_ms: o.idle_timeout_ms,
            oauth_ttl_ms: o.oauth_ttl_ms,
        }
    }
}

impl From<Options> for TurnOptions {
    fn from(o: Options) -> Self {
        Self {
            context_on: o.context_on,
            llm: o.llm,
            idle_timeout_ms: o.idle_timeout_ms,
            oauth_ttl_ms: o.oauth_ttl_ms,
        }
    }
}

/// How a turn ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
enum Outcome {
    /// It answered with this many chunks.
    Answered { chunks: usize },
    /// The builder refused (`kind` as the API names it).
    Refused { error: String, message: String },
    /// The engine stopped (a trap or a limit).
    Stopped { message: String },
    /// Its entry would have been larger than [`MAX_TURN_BYTES`]: only this note is kept.
    NotRecorded { bytes: usize },
}

impl Outcome {
    fn of(result: &Result<Vec<ChatChunk>, BuilderFailure>) -> Self {
        match result {
            Ok(chunks) => Outcome::Answered { chunks: chunks.len() },
            Err(BuilderFailure::Builder(e)) => {
                Outcome::Refused { error: e.kind().to_owned(), message: e.to_string() }
            }
            Err(BuilderFailure::Engine(e)) => Outcome::Stopped { message: e.to_string() },
        }
    }
}

/// One import call: what the guest asked, and (`answer`) what the host answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call")]
pub enum Call {
    /// `clock.now`.
    #[serde(rename = "clock.now")]
    ClockNow {
        /// The time answered.
        answer: Time,
    },
    /// `random.fill`.
    #[serde(rename = "random.fill")]
    RandomFill {
        /// How many bytes were asked for.
        len: usize,
        /// The bytes answered.
        #[serde(with = "b64")]
        answer: Vec<u8>,
    },
    /// `llm.complete`.
    #[serde(rename = "llm.complete")]
    LlmComplete {
        /// The session the request is for.
        session_id: String,
        /// The request.
        request: LlmRequest,
        /// The completion, or why none came.
        answer: Result<LlmReply, LlmError>,
    },
    /// `store.get`.
    #[serde(rename = "store.get")]
    StoreGet {
        /// The key.
        key: String,
        /// What the store held.
        answer: Result<Option<Stored>, Failed>,
    },
    /// `store.put`.
    #[serde(rename = "store.put")]
    StorePut {
        /// The key.
        key: String,
        /// The bytes written.
        #[serde(with = "b64")]
        value: Vec<u8>,
        /// The precondition.
        expected: Expected,
        /// The new version, or why the write failed.
        answer: Result<Version, Failed>,
    },
    /// `store.delete`.
    #[serde(rename = "store.delete")]
    StoreDelete {
        /// The key.
        key: String,
        /// The precondition.
        expected: Expected,
        /// Whether it existed, or why the delete failed.
        answer: Result<bool, Failed>,
    },
    /// `store.list`.
    #[serde(rename = "store.list")]
    StoreList {
        /// The prefix.
        prefix: String,
        /// The keys.
        answer: Result<Vec<String>, Failed>,
    },
    /// `emit.progress`.
    #[serde(rename = "emit.progress")]
    Progress {
        /// The session.
        session_id: String,
        /// The line.
        text: String,
    },
    /// `emit.chunk`.
    #[serde(rename = "emit.chunk")]
    Chunk {
        /// The chunk, as the API serves it (a draft that is not JSON, which the client
        /// refuses, as a string saying so).
        chunk: Value,
    },
}

impl Call {
    /// What the guest asked: the call without the host's answer.
    fn asked(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(fields) = &mut value {
            fields.remove("answer");
        }
        value
    }

    /// The call's name and its key or first argument, for a report.
    fn describe(&self) -> String {
        let asked = self.asked();
        let name = asked["call"].as_str().unwrap_or("?").to_owned();
        match ["key", "prefix", "len"].iter().find_map(|f| asked.get(*f)) {
            Some(arg) => format!("{name} {}", arg.to_string().trim_matches('"')),
            None => name,
        }
    }
}

/// A time answered by the clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Time {
    seconds: u64,
    nanoseconds: u32,
}

/// A stored entry as the store answered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    #[serde(with = "b64")]
    value: Vec<u8>,
    version: Version,
}

/// A write's precondition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expected {
    /// Any.
    Any,
    /// The key must not exist.
    Absent,
    /// The key must hold this version.
    Matches(Version),
}

/// A store failure as answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Failed {
    /// Compare-and-swap conflict.
    Conflict,
    /// A malformed key.
    InvalidKey(String),
    /// The backend failed.
    Backend(String),
}

impl From<Precondition> for Expected {
    fn from(p: Precondition) -> Self {
        match p {
            Precondition::Any => Expected::Any,
            Precondition::Absent => Expected::Absent,
            Precondition::Matches(v) => Expected::Matches(v),
        }
    }
}

impl From<&StoreError> for Failed {
    fn from(e: &StoreError) -> Self {
        match e {
            StoreError::Conflict => Failed::Conflict,
            StoreError::InvalidKey(k) => Failed::InvalidKey(k.clone()),
            StoreError::Backend(b) => Failed::Backend(b.clone()),
        }
    }
}

impl From<Failed> for StoreError {
    fn from(e: Failed) -> Self {
        match e {
            Failed::Conflict => StoreError::Conflict,
            Failed::InvalidKey(k) => StoreError::InvalidKey(k),
            Failed::Backend(b) => StoreError::Backend(b),
        }
    }
}

mod b64 {
    use base64::Engine as _;

    use super::BASE64;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        BASE64.decode(text).map_err(serde::de::Error::custom)
    }
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A replay in progress: the recorded calls still to come, and the first difference.
struct Player {
    turn: u32,
    recorded: VecDeque<Call>,
    /// Calls the replayed guest has made so far.
    made: usize,
    difference: Option<Difference>,
}

impl Player {
    /// The recorded call answering `asked`, if the guest asked exactly what it asked when
    /// recorded; else notes the first difference. After a difference every call fails, so
    /// the turn ends soon.
    fn answer(&mut self, asked: &Call) -> Option<Call> {
        self.made += 1;
        if self.difference.is_some() {
            return None;
        }
        let Some(recorded) = self.recorded.pop_front() else {
            self.differ("a call the recorded turn did not make", "no further call".into(), asked.describe());
            return None;
        };
        let (want, got) = (recorded.asked(), asked.asked());
        if want == got {
            return Some(recorded);
        }
        if want["call"] != got["call"] {
            self.differ("which import is called", recorded.describe(), asked.describe());
        } else {
            let (path, expected, got) = first_difference("", &want, &got);
            self.differ(&format!("{}: {}", recorded.describe(), path.trim_start_matches('.')), expected, got);
        }
        None
    }

    fn differ(&mut self, what: &str, expected: String, got: String) {
        self.difference =
            Some(Difference { turn: self.turn, call: self.made, what: what.to_owned(), expected, got });
    }
}

/// Where two JSON values first differ: the path, and each side there. Strings (base64 bytes
/// included, decoded) say at which byte.
fn first_difference(path: &str, a: &Value, b: &Value) -> (String, String, String) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let vb = y.get(k).unwrap_or(&Value::Null);
                if va != vb {
                    return first_difference(&format!("{path}.{k}"), va, vb);
                }
            }
            let extra = y.keys().find(|k| !x.contains_key(*k)).cloned().unwrap_or_default();
            (format!("{path}.{extra}"), "nothing".into(), y[&extra].to_string())
        }
        (Value::Array(x), Value::Array(y)) => match x.iter().zip(y).position(|(p, q)| p != q) {
            Some(i) => first_difference(&format!("{path}[{i}]"), &x[i], &y[i]),
            None => (format!("{path} length"), x.len().to_string(), y.len().to_string()),
        },
        (Value::String(x), Value::String(y)) => {
            let bytes = |s: &str| if path.ends_with(".value") { BASE64.decode(s).ok() } else { None };
            let (p, q) = match (bytes(x), bytes(y)) {
                (Some(p), Some(q)) => (p, q),
                _ => (x.as_bytes().to_vec(), y.as_bytes().to_vec()),
            };
            let at = p.iter().zip(&q).position(|(c, d)| c != d).unwrap_or(p.len().min(q.len()));
            let around = |s: &[u8]| {
                let from = at.saturating_sub(16);
                format!("{:?}", String::from_utf8_lossy(&s[from..s.len().min(at + 16)]))
            };
            (format!("{path} at byte {at} (of {} vs {})", p.len(), q.len()), around(&p), around(&q))
        }
        _ => (path.to_owned(), a.to_string(), b.to_string()),
    }
}

/// Every import of one turn, recording or replaying.
enum Tap {
    /// Passes each call to `imports` and notes it.
    Recording { imports: Imports, calls: Mutex<Vec<Call>> },
    /// Answers each call from the journal.
    Replaying(Mutex<Player>),
}

impl Tap {
    /// The tap as every import of a call.
    fn imports(self: &Arc<Self>) -> Imports {
        Imports {
            store: Arc::clone(self) as Arc<dyn KvStore>,
            clock: Arc::clone(self) as _,
            random: Arc::clone(self) as _,
            llm: Arc::clone(self) as _,
            emitter: Arc::clone(self) as _,
        }
    }

    fn note(&self, call: Call) {
        if let Tap::Recording { calls, .. } = self {
            calls.lock().unwrap_or_else(PoisonError::into_inner).push(call);
        }
    }

    fn take_recorded(&self) -> Vec<Call> {
        match self {
            Tap::Recording { calls, .. } => {
                std::mem::take(&mut calls.lock().unwrap_or_else(PoisonError::into_inner))
            }
            Tap::Replaying(_) => Vec::new(),
        }
    }

    fn player(&self) -> std::sync::MutexGuard<'_, Player> {
        match self {
            Tap::Replaying(p) => p.lock().unwrap_or_else(PoisonError::into_inner),
            // Only replays ask for the player.
            Tap::Recording { .. } => unreachable!("a recording tap has no player"),
        }
    }

    /// Replaying: the recorded call for `asked`.
    fn replayed(&self, asked: &Call) -> Option<Call> {
        self.player().answer(asked)
    }
}

/// What every store call answers once a replay has diverged.
fn diverged() -> StoreError {
    StoreError::Backend("the replay differs from the journal here; stopping this turn".into())
}

#[async_trait]
impl KvStore for Tap {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let stored = |r: &Result<Option<Entry>, StoreError>| -> Result<Option<Stored>, Failed> {
            match r {
                Ok(e) => Ok(e.as_ref().map(|e| Stored { value: e.value.clone(), version: e.version })),
                Err(e) => Err(e.into()),
            }
        };
        match self {
            Tap::Recording { imports, .. } => {
                let r = imports.store.get(key).await;
                self.note(Call::StoreGet { key: key.to_owned(), answer: stored(&r) });
                r
            }
            Tap::Replaying(_) => {
                match self.replayed(&Call::StoreGet { key: key.to_owned(), answer: Ok(None) }) {
                    Some(Call::StoreGet { answer, .. }) => answer
                        .map(|e| e.map(|e| Entry { value: e.value, version: e.version }))
                        .map_err(Into::into),
                    _ => Err(diverged()),
                }
            }
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>, expected: Precondition) -> Result<Version, StoreError> {
        match self {
            Tap::Recording { imports, .. } => {
                let r = imports.store.put(key, value.clone(), expected).await;
                let answer = r.as_ref().map(|v| *v).map_err(Into::into);
                self.note(Call::StorePut { key: key.to_owned(), value, expected: expected.into(), answer });
                r
            }
            Tap::Replaying(_) => match self.replayed(&Call::StorePut {
                key: key.to_owned(),
                value,
                expected: expected.into(),
                answer: Ok(0),
            }) {
                Some(Call::StorePut { answer, .. }) => answer.map_err(Into::into),
                _ => Err(diverged()),
            },
        }
    }

    async fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        match self {
            Tap::Recording { imports, .. } => {
                let r = imports.store.delete(key, expected).await;
                let answer = r.as_ref().map(|b| *b).map_err(Into::into);
                self.note(Call::StoreDelete { key: key.to_owned(), expected: expected.into(), answer });
                r
            }
            Tap::Replaying(_) => {
                let asked =
                    Call::StoreDelete { key: key.to_owned(), expected: expected.into(), answer: Ok(false) };
                match self.replayed(&asked) {
                    Some(Call::StoreDelete { answer, .. }) => answer.map_err(Into::into),
                    _ => Err(diverged()),
                }
            }
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        match self {
            Tap::Recording { imports, .. } => {
                let r = imports.store.list(prefix).await;
                let answer = r.clone().map_err(|e| (&e).into());
                self.note(Call::StoreList { prefix: prefix.to_owned(), answer });
                r
            }
            Tap::Replaying(_) => {
                match self.replayed(&Call::StoreList { prefix: prefix.to_owned(), answer: Ok(vec![]) }) {
                    Some(Call::StoreList { answer, .. }) => answer.map_err(Into::into),
                    _ => Err(diverged()),
                }
            }
        }
    }

    fn locate(&self, key: &str) -> String {
        match self {
            Tap::Recording { imports, .. } => imports.store.locate(key),
            Tap::Replaying(_) => format!("journal:{key}"),
        }
    }
}

impl Clock for Tap {
    fn now(&self) -> UnixTime {
        match self {
            Tap::Recording { imports, .. } => {
                let t = imports.clock.now();
                self.note(Call::ClockNow { answer: Time { seconds: t.seconds, nanoseconds: t.nanoseconds } });
                t
            }
            Tap::Replaying(_) => {
                match self.replayed(&Call::ClockNow { answer: Time { seconds: 0, nanoseconds: 0 } }) {
                    Some(Call::ClockNow { answer }) => {
                        UnixTime { seconds: answer.seconds, nanoseconds: answer.nanoseconds }
                    }
                    _ => UnixTime { seconds: 0, nanoseconds: 0 },
                }
            }
        }
    }
}

impl Entropy for Tap {
    fn fill(&self, buf: &mut [u8]) {
        match self {
            Tap::Recording { imports, .. } => {
                imports.random.fill(buf);
                self.note(Call::RandomFill { len: buf.len(), answer: buf.to_vec() });
            }
            Tap::Replaying(_) => {
                if let Some(Call::RandomFill { answer, .. }) =
                    self.replayed(&Call::RandomFill { len: buf.len(), answer: Vec::new() })
                {
                    // An edited journal may hold fewer bytes than were asked for.
                    let n = buf.len().min(answer.len());
                    buf[..n].copy_from_slice(&answer[..n]);
                }
            }
        }
    }
}

#[async_trait]
impl LlmBackend for Tap {
    async fn complete(
        &self,
        session_id: &str,
        request: LlmRequest,
        tokens: &dyn Emitter,
    ) -> Result<LlmReply, LlmError> {
        match self {
            Tap::Recording { imports, .. } => {
                let r = imports.llm.complete(session_id, request.clone(), tokens).await;
                self.note(Call::LlmComplete {
                    session_id: session_id.to_owned(),
                    request,
                    answer: r.clone(),
                });
                r
            }
            Tap::Replaying(_) => match self.replayed(&Call::LlmComplete {
                session_id: session_id.to_owned(),
                request,
                answer: Err(LlmError::NoProvider),
            }) {
                Some(Call::LlmComplete { answer, .. }) => answer,
                _ => Err(LlmError::Unavailable("the replay differs from the journal here".into())),
            },
        }
    }
}

impl Emitter for Tap {
    fn emit(&self, event: Event) {
        let call = match &event {
            Event::Progress { session_id, text } => {
                Some(Call::Progress { session_id: session_id.clone(), text: text.clone() })
            }
            Event::Chunk(chunk) => Some(Call::Chunk {
                chunk: serde_json::to_value(&**chunk)
                    .unwrap_or_else(|e| Value::String(format!("not encodable: {e}"))),
            }),
            // The model's streamed tokens are the LLM backend's, not the guest's calls.
            Event::Token { .. } | Event::Discard { .. } => None,
        };
        match self {
            Tap::Recording { imports, .. } => {
                if let Some(call) = call {
                    self.note(call);
                }
                imports.emitter.emit(event);
            }
            Tap::Replaying(_) => {
                if let Some(call) = call {
                    self.replayed(&call);
                }
            }
        }
    }
}
