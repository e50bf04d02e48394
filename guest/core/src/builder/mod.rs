//! The builder conversation (SPEC §2): sessions in the store, turns run by the sans-IO
//! [`engine`], drafts stored beside them.
//!
//! Keys (below the host's per-tenant scope): `sessions/<id>.json` (a binary [`record`]
//! since format 2; the name is kept so sessions stored as JSON before stay where they are),
//! `agents/<draft id>.json`, and `archive/sessions/<id>.json` for expired sessions (JSON, for
//! people to read: archiving is off the turn's path).
//!
//! A turn is prepared (load, check the caller and expiry, begin), driven (answer its LLM
//! calls), and committed (store the draft, then compare-and-swap the session). A conflict
//! means another turn of the same session committed first: the turn is run again on the
//! new state, so both apply, in order. [`drive::TurnDriver`] does all three, written once
//! for every binding; [`Builder::process`] runs it with a synchronous LLM.

pub mod agent;
pub mod chat;
pub mod drive;
pub mod engine;
pub mod llm;
pub mod phase;
pub mod record;
pub mod requirements;
pub mod session;
pub mod view;
pub mod words;

use serde::Serialize;
use serde::de::DeserializeOwned;

use self::agent::AgentSpec;
use self::chat::ChatChunk;
use self::engine::{Input, Step, TurnEnv, TurnError, TurnOutput};
use self::llm::{LlmError, LlmReply, LlmRequest};
pub use self::phase::Phase;
use self::session::Session;
use crate::ids::{check_conversation_id, new_uuid_v4};
use crate::ports::{Clock, Entropy, Precondition, SkippedEntry, Store, StoreError};
pub use kiln_wire::builder::{BuilderError, Caller, SessionSummary, TurnOptions};

/// How many times a turn is re-run after losing a compare-and-swap.
pub const MAX_ATTEMPTS: u32 = 50;

impl From<TurnError> for BuilderError {
    fn from(e: TurnError) -> Self {
        match e {
            TurnError::InvalidInput(m) => BuilderError::InvalidInput(m),
            TurnError::OauthRefused(m) => BuilderError::OauthRefused(m),
            TurnError::Transition(t) => BuilderError::Internal(t.to_string()),
        }
    }
}

/// A turn ready to be driven.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The first step.
    pub step: Step,
    read: Precondition,
}

/// The builder over a store, a clock and randomness.
#[derive(Debug)]
pub struct Builder<S, C, E> {
    store: S,
    clock: C,
    entropy: E,
}

/// `parts` one after another. Keys and labels on every turn's path are joined with this rather
/// than `format!` (in wasm the formatting machinery costs several times a plain copy) or
/// `[..].concat()` (std's generic join costs ~150 instructions per part in wasm, about twice
/// reserving once and appending).
pub(crate) fn joined<const N: usize>(parts: [&str; N]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

fn session_key(id: &str) -> String {
    joined(["sessions/", id, ".json"])
}

fn agent_key(id: &str) -> String {
    joined(["agents/", id, ".json"])
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // A session is a few KB: one allocation rather than doubling up from 128 bytes.
    let mut out = Vec::with_capacity(4096);
    match serde_json::to_writer(&mut out, value) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

/// Parses stored JSON. All of the guest's JSON is read with `from_slice` (text as its bytes):
/// each reader (`from_str`'s and `from_slice`'s) is a separate copy of the parser and of every
/// type's deserializer, and the second copy was ~70 KB of the browser's wasm.
/// A document that is not UTF-8 gets the parser's own error.
pub(crate) fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice(bytes)
}

impl<S: Store, C: Clock, E: Entropy> Builder<S, C, E> {
    /// A builder over these ports.
    pub fn new(store: S, clock: C, entropy: E) -> Self {
        Self { store, clock, entropy }
    }

    fn now_ms(&self) -> u64 {
        let t = self.clock.now();
        t.seconds.saturating_mul(1000).saturating_add(u64::from(t.nanoseconds / 1_000_000))
    }

    /// Starts a session in IDLE.
    pub fn start_session(&self, caller: &Caller) -> Result<Session, BuilderError> {
        for (what, v) in [("tenant id", &caller.tenant_id), ("user id", &caller.user_id)] {
            if v.trim().is_empty() || v.len() > 256 {
                return Err(BuilderError::InvalidInput(format!("the {what} must be 1 to 256 characters")));
            }
        }
        let id = new_uuid_v4(&self.entropy);
        let session = Session::new(id, caller.user_id.clone(), caller.tenant_id.clone(), self.now_ms());
        self.store.put(&session_key(&session.session_id), &record::encode(&session), Precondition::Absent)?;
        Ok(session)
    }

    fn load(&self, caller: &Caller, id: &str) -> Result<(Session, Precondition), BuilderError> {
        check_conversation_id(id).map_err(BuilderError::InvalidInput)?;
        let key = session_key(id);
        let entry = self.store.get(&key)?.ok_or_else(|| BuilderError::NotFound(id.to_owned()))?;
        let session = record::decode(&entry.value)
            .map_err(|e| BuilderError::Corrupt { key: key.clone(), detail: e.to_string() })?;
        // Another tenant's or user's session looks exactly like a missing one.
        if session.tenant_id != caller.tenant_id
            || session.user_id != caller.user_id
            || session.session_id != id
        {
            return Err(BuilderError::NotFound(id.to_owned()));
        }
        Ok((session, Precondition::Matches(entry.version)))
    }

    /// A session, as stored.
    pub fn get_session(&self, caller: &Caller, id: &str) -> Result<Session, BuilderError> {
        Ok(self.load(caller, id)?.0)
    }

    /// The caller's sessions, most recently active first.
    pub fn list_sessions(&self, caller: &Caller) -> Result<Vec<SessionSummary>, BuilderError> {
        self.summaries(caller, |_, e| Err(e))
    }

    /// Like [`Builder::list_sessions`], but a session record that cannot be read is skipped
    /// and named (in key order, whoever's it is: an unreadable record does not say) rather
    /// than failing the listing (issue #19).
    pub fn list_sessions_skipping(
        &self,
        caller: &Caller,
    ) -> Result<(Vec<SessionSummary>, Vec<SkippedEntry>), BuilderError> {
        let mut skipped = Vec::new();
        let listed = self.summaries(caller, |id, e| match e {
            BuilderError::Corrupt { key, detail } => {
                skipped.push(SkippedEntry { key, id: id.to_owned(), detail });
                Ok(())
            }
            e => Err(e),
        })?;
        Ok((listed, skipped))
    }

    /// The caller's sessions, most recently active first; `failed` decides about a session
    /// that could not be loaded for another reason than not being the caller's.
    fn summaries(
        &self,
        caller: &Caller,
        mut failed: impl FnMut(&str, BuilderError) -> Result<(), BuilderError>,
    ) -> Result<Vec<SessionSummary>, BuilderError> {
        let mut out = Vec::new();
        for key in self.store.list("sessions/")? {
            let Some(id) = key.strip_prefix("sessions/").and_then(|k| k.strip_suffix(".json")) else {
                continue;
            };
            match self.load(caller, id) {
                Ok((s, _)) => out.push(SessionSummary {
                    session_id: s.session_id,
                    phase: s.phase,
                    goal: s.context.requirements.goal.map(|g| g.value),
                    last_active_at_ms: s.last_active_at_ms,
                }),
                Err(BuilderError::NotFound(_)) | Err(BuilderError::InvalidInput(_)) => {}
                Err(e) => failed(id, e)?,
            }
        }
        crate::order::sort_by_key(&mut out, |s| u64::MAX - s.last_active_at_ms);
        Ok(out)
    }

    /// Deletes a session and its draft.
    pub fn delete_session(&self, caller: &Caller, id: &str) -> Result<(), BuilderError> {
        let (session, read) = self.load(caller, id)?;
        self.store.delete(&session_key(id), read)?;
        if let Some(draft) = session.draft_agent_id {
            self.store.delete(&agent_key(&draft), Precondition::Any)?;
        }
        Ok(())
    }

    /// The draft agent of a session.
    pub fn export_agent(&self, caller: &Caller, id: &str) -> Result<AgentSpec, BuilderError> {
        let (session, _) = self.load(caller, id)?;
        let draft = session.draft_agent_id.ok_or_else(|| BuilderError::NoDraft(id.to_owned()))?;
        let key = agent_key(&draft);
        let entry = self.store.get(&key)?.ok_or_else(|| BuilderError::NoDraft(id.to_owned()))?;
        from_json(&entry.value)
            .map_err(|e| BuilderError::Corrupt { key, detail: format!("not an agent spec ({e})") })
    }

    /// Moves a session to the archive (copy, then delete with compare-and-swap).
    fn archive(&self, session: &Session, read: Precondition) -> Result<(), BuilderError> {
        let id = &session.session_id;
        self.store.put(&format!("archive/sessions/{id}.json"), &to_json(session), Precondition::Any)?;
        match self.store.delete(&session_key(id), read) {
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Archives every session of every user idle for longer than `idle_timeout_ms`;
    /// returns how many. (Tenant scoping is the host's: this sees one tenant's store.)
    pub fn expire_idle(&self, idle_timeout_ms: u64) -> Result<u32, BuilderError> {
        let now = self.now_ms();
        let mut n = 0;
        for key in self.store.list("sessions/")? {
            let Some(entry) = self.store.get(&key)? else { continue };
            let Ok(session) = record::decode(&entry.value) else { continue };
            if now.saturating_sub(session.last_active_at_ms) > idle_timeout_ms {
                self.archive(&session, Precondition::Matches(entry.version))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Loads the session and begins a turn on it.
    pub(crate) fn prepare(
        &self,
        caller: &Caller,
        id: &str,
        input: Input,
        options: TurnOptions,
    ) -> Result<Prepared, BuilderError> {
        let (session, read) = self.load(caller, id)?;
        let now_ms = self.now_ms();
        if now_ms.saturating_sub(session.last_active_at_ms) > options.idle_timeout_ms {
            self.archive(&session, read)?;
            return Err(BuilderError::Expired(id.to_owned()));
        }
        let mut random = [0u8; 32];
        self.entropy.fill(&mut random);
        let env = TurnEnv {
            now_ms,
            random,
            context_on: options.context_on,
            llm: options.llm,
            oauth_ttl_ms: options.oauth_ttl_ms,
        };
        Ok(Prepared { step: engine::begin(session, input, env), read })
    }

    /// Stores a finished turn. `Ok(None)`: another turn committed first; prepare again.
    pub(crate) fn commit(
        &self,
        prepared_read: &Prepared,
        mut output: TurnOutput,
    ) -> Result<Option<TurnOutput>, BuilderError> {
        if let (Some(draft), Some(id)) = (&output.draft, &output.session.draft_agent_id) {
            self.store.put(&agent_key(id), &to_json(&draft.spec), Precondition::Any)?;
        }
        output.session.version += 1;
        match self.store.put(
            &session_key(&output.session.session_id),
            &record::encode(&output.session),
            prepared_read.read,
        ) {
            Ok(_) => {
                if let Some(old) = &output.discarded_draft {
                    // Only once the session no longer points at it. A failed delete leaves an
                    // unreferenced file, which is harmless; the turn itself succeeded.
                    let _ = self.store.delete(&agent_key(old), Precondition::Any);
                }
                Ok(Some(output))
            }
            Err(StoreError::Conflict) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A whole turn with a synchronous LLM: the [`drive::TurnDriver`] with each LLM call
    /// answered at once. `progress` sees progress lines while the LLM works; the committed
    /// chunks are returned.
    pub fn process(
        &self,
        caller: &Caller,
        id: &str,
        input: Input,
        options: TurnOptions,
        llm: &mut dyn FnMut(&LlmRequest) -> Result<LlmReply, LlmError>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Vec<ChatChunk>, BuilderError> {
        let mut turn = drive::TurnDriver::new(caller.clone(), id, input, options);
        loop {
            match turn.step(self)? {
                drive::Next::Llm { request, progress: line } => {
                    progress(line);
                    let reply = llm(request);
                    turn.resume(reply)?;
                }
                drive::Next::Done(chunks) => return Ok(chunks),
            }
        }
    }
}

#[cfg(test)]
mod tests;
