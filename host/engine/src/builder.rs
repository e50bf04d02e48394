//! The builder conversation, run inside the component. Like [`crate::queue`], only
//! conversions live here; the logic is the guest's.

use std::sync::Arc;

use kiln_wire::builder::{BuilderError, Caller, ConnectRequest, Provider, SessionSummary, TurnOptions};
pub use kiln_wire::builder::{ChatChunk, SessionView, TurnInput};
use kiln_wire::store::{Precondition, SkippedEntry};
use thiserror::Error;

use crate::bindings::exports::kiln::engine::builder as wb;
use crate::imports::{Emitter, Imports};
use crate::listing::CorruptEntry;
use crate::runtime::{EngineError, Runtime};

/// The link to a simulated consent for `connect` (`GET /oauth/start` on `kiln serve`, which
/// says how to answer it; the CLI answers with `/approve` and `/deny`). Every value is
/// URL-encoded.
pub fn simulated_connect_link(session_id: &str, connect: &ConnectRequest) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("session_id", session_id)
        .append_pair("provider", &connect.provider)
        .append_pair("state", &connect.state)
        .finish();
    format!("/oauth/start?{query}")
}

/// The engine broke its contract (nothing of the answer is passed on).
fn broken(what: String) -> BuilderFailure {
    BuilderFailure::Builder(BuilderError::Internal(format!("the engine {what}; the answer was dropped")))
}

/// Checks that an agent spec from the engine is one JSON document, as the WIT promises.
fn json_document(spec: &str) -> Result<(), BuilderFailure> {
    serde_json::from_str::<&serde_json::value::RawValue>(spec)
        .map(drop)
        .map_err(|e| broken(format!("answered an agent spec that is not JSON ({e})")))
}

/// Runs a client's turns through imports of its own and keeps what they saw (the journal).
#[async_trait::async_trait]
pub trait Recorder: Send + Sync {
    /// Runs one turn of `client` and records it.
    async fn record(
        &self,
        client: &BuilderClient,
        who: &Caller,
        session_id: &str,
        input: TurnInput,
        options: TurnOptions,
        emitter: Arc<dyn Emitter>,
    ) -> Result<Vec<ChatChunk>, BuilderFailure>;
}

/// Why a builder call failed.
#[derive(Debug, Error)]
pub enum BuilderFailure {
    /// The builder refused or could not do it.
    #[error(transparent)]
    Builder(#[from] BuilderError),
    /// The engine could not run it.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl BuilderFailure {
    /// A stable name for scripts and APIs: the builder's kinds, or `engine`.
    pub fn kind(&self) -> &'static str {
        match self {
            BuilderFailure::Builder(e) => e.kind(),
            BuilderFailure::Engine(_) => "engine",
        }
    }
}

/// The builder of one store (one tenant), driven through the component.
#[derive(Clone)]
pub struct BuilderClient {
    runtime: Arc<Runtime>,
    pub(crate) imports: Imports,
    /// What records each turn's imports, when recording is on.
    recorder: Option<Arc<dyn Recorder>>,
}

impl BuilderClient {
    /// A client for the builder sessions in `imports.store`.
    pub fn new(runtime: Arc<Runtime>, imports: Imports) -> Self {
        Self { runtime, imports, recorder: None }
    }

    /// The same client running every turn through `recorder` (a [`crate::journal::Journal`]).
    pub fn recording(self, recorder: Arc<dyn Recorder>) -> Self {
        Self { recorder: Some(recorder), ..self }
    }

    /// Where a store key lives, for error messages.
    pub fn locate(&self, key: &str) -> String {
        self.imports.store.locate(key)
    }

    /// Starts a session.
    pub async fn start_session(&self, who: &Caller) -> Result<SessionView, BuilderFailure> {
        let c = wb::Caller::from(who);
        let r = self
            .runtime
            .call("start-session", self.imports.clone(), async |e, s| {
                e.kiln_engine_builder().call_start_session(s, &c).await
            })
            .await?;
        Ok(r.map(Into::into).map_err(BuilderError::from)?)
    }

    /// Runs one turn; `emitter` sees progress and chunks as they happen. The chunks come
    /// back through `emit.chunk` only (WIT `turn`, 0.1.2): lifting them from the guest once.
    pub async fn turn(
        &self,
        who: &Caller,
        session_id: &str,
        turn_input: TurnInput,
        turn_options: TurnOptions,
        emitter: Arc<dyn Emitter>,
    ) -> Result<Vec<ChatChunk>, BuilderFailure> {
        match &self.recorder {
            Some(recorder) => recorder.record(self, who, session_id, turn_input, turn_options, emitter).await,
            None => {
                let imports = self.imports.with_emitter(emitter);
                self.turn_with(imports, who, session_id, turn_input, turn_options).await
            }
        }
    }

    /// [`BuilderClient::turn`] served by `imports` (the journal's recording or replaying ones).
    pub(crate) async fn turn_with(
        &self,
        imports: Imports,
        who: &Caller,
        session_id: &str,
        turn_input: TurnInput,
        turn_options: TurnOptions,
    ) -> Result<Vec<ChatChunk>, BuilderFailure> {
        let c = wb::Caller::from(who);
        let (i, o) = (turn_input.into(), turn_options.into());
        let (r, chunks) = self
            .runtime
            .call("turn", imports, async |e, s| {
                let r = e.kiln_engine_builder().call_turn(&mut *s, &c, session_id, &i, o).await?;
                Ok((r, std::mem::take(&mut s.data_mut().chunks)))
            })
            .await?;
        let emitted = r.map_err(BuilderError::from)?;
        if usize::try_from(emitted).ok() != Some(chunks.len()) {
            return Err(BuilderFailure::Builder(BuilderError::Internal(format!(
                "the engine reported {emitted} chunks but emitted {}",
                chunks.len()
            ))));
        }
        // What a broken engine could pass on to people: a chunk of another session, or a
        // draft no client can parse.
        for chunk in &chunks {
            if chunk.session_id != session_id {
                return Err(broken(format!("answered a chunk of session {:?}", chunk.session_id)));
            }
            if let Some(draft) = &chunk.draft {
                json_document(&draft.spec.0)?;
            }
        }
        // The emitter has usually dropped its share by now; a chunk still held is copied.
        Ok(chunks.into_iter().map(Arc::unwrap_or_clone).collect())
    }

    /// A session.
    pub async fn get_session(&self, who: &Caller, session_id: &str) -> Result<SessionView, BuilderFailure> {
        let c = wb::Caller::from(who);
        let r = self
            .runtime
            .call("get-session", self.imports.clone(), async |e, s| {
                e.kiln_engine_builder().call_get_session(s, &c, session_id).await
            })
            .await?;
        Ok(r.map(Into::into).map_err(BuilderError::from)?)
    }

    /// The caller's sessions, most recent first, and the sessions skipped because their
    /// records cannot be read (issue #19: one corrupt session used to fail the listing).
    pub async fn list_sessions(
        &self,
        who: &Caller,
    ) -> Result<(Vec<SessionSummary>, Vec<CorruptEntry>), BuilderFailure> {
        let c = wb::Caller::from(who);
        let r = self
            .runtime
            .call("list-sessions-skipping", self.imports.clone(), async |e, s| {
                e.kiln_engine_builder().call_list_sessions_skipping(s, &c).await
            })
            .await?;
        let listing = r.map_err(BuilderError::from)?;
        let corrupt = listing
            .skipped
            .into_iter()
            .map(|s| {
                let SkippedEntry { key, id, detail } = s.into();
                CorruptEntry {
                    error: format!(
                        "{key} is corrupt: {detail}. It is left as it is and skipped: remove it with \
                         `kiln sessions delete {id}` (DELETE /v1/sessions/{id})"
                    ),
                    id,
                    key,
                }
            })
            .collect();
        Ok((listing.sessions.into_iter().map(Into::into).collect(), corrupt))
    }

    /// Deletes a session and its draft.
    ///
    /// A session whose record cannot be read is deleted as well: nothing could ever use it,
    /// and without this a corrupt file could not be removed through Kiln (issue #19). Its
    /// draft, if any, is unknown and stays.
    pub async fn delete_session(&self, who: &Caller, session_id: &str) -> Result<(), BuilderFailure> {
        let c = wb::Caller::from(who);
        let r = self
            .runtime
            .call("delete-session", self.imports.clone(), async |e, s| {
                e.kiln_engine_builder().call_delete_session(s, &c, session_id).await
            })
            .await?;
        match r.map_err(BuilderError::from) {
            Err(BuilderError::Corrupt { key, .. }) if key == format!("sessions/{session_id}.json") => {
                let store = &self.imports.store;
                if let Some(entry) = store.get(&key).await.map_err(BuilderError::Store)? {
                    store
                        .delete(&key, Precondition::Matches(entry.version))
                        .await
                        .map_err(BuilderError::Store)?;
                }
                Ok(())
            }
            other => Ok(other?),
        }
    }

    /// Archives sessions idle longer than `idle_timeout_ms`; returns how many.
    pub async fn expire_idle(&self, idle_timeout_ms: u64) -> Result<u32, BuilderFailure> {
        let r = self
            .runtime
            .call("expire-idle", self.imports.clone(), async |e, s| {
                e.kiln_engine_builder().call_expire_idle(s, idle_timeout_ms).await
            })
            .await?;
        Ok(r.map_err(BuilderError::from)?)
    }

    /// The session's draft agent spec: the guest's JSON document, as it made it.
    pub async fn export_agent(&self, who: &Caller, session_id: &str) -> Result<String, BuilderFailure> {
        let c = wb::Caller::from(who);
        let r = self
            .runtime
            .call("export-agent", self.imports.clone(), async |e, s| {
                e.kiln_engine_builder().call_export_agent(s, &c, session_id).await
            })
            .await?;
        let spec = r.map_err(BuilderError::from)?;
        json_document(&spec)?;
        Ok(spec)
    }

    /// The JSON Schema of agent specs, as the guest states it.
    pub async fn agent_schema(&self) -> Result<String, BuilderFailure> {
        Ok(self
            .runtime
            .call("agent-schema", self.imports.clone(), async |e, s| {
                e.kiln_engine_builder().call_agent_schema(s).await
            })
            .await?)
    }

    /// Every integration the guest knows (its catalog), in catalog order.
    pub async fn providers(&self) -> Result<Vec<Provider>, BuilderFailure> {
        let all = self
            .runtime
            .call("providers", self.imports.clone(), async |e, s| {
                e.kiln_engine_builder().call_providers(s).await
            })
            .await?;
        Ok(all.into_iter().map(Into::into).collect())
    }

    /// The state machine as Mermaid, from the guest's transition table.
    pub async fn diagram(&self) -> Result<String, BuilderFailure> {
        Ok(self
            .runtime
            .call("diagram", self.imports.clone(), async |e, s| e.kiln_engine_builder().call_diagram(s).await)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU8, Ordering};

    use kiln_store::MemoryStore;
    use kiln_wire::builder::Phase;
    use kiln_wire::clock::{Clock, Entropy, UnixTime};

    use super::*;
    use crate::RuntimeOptions;
    use crate::imports::Silent;

    struct FixedClock;
    impl Clock for FixedClock {
        fn now(&self) -> UnixTime {
            UnixTime { seconds: 1_795_316_842, nanoseconds: 0 }
        }
    }

    /// The same bytes in every run, so two runs make the same ids and OAuth states.
    struct Counting(AtomicU8);
    impl Entropy for Counting {
        fn fill(&self, buf: &mut [u8]) {
            buf.iter_mut().for_each(|b| *b = self.0.fetch_add(1, Ordering::Relaxed));
        }
    }

    /// The simulated consent link encodes what it carries, so no value can add a parameter.
    #[test]
    fn simulated_connect_links_encode_their_values() {
        let connect = ConnectRequest { provider: "a&b".into(), state: "s=1#x".into(), scopes: vec![] };
        assert_eq!(
            simulated_connect_link("id 1", &connect),
            "/oauth/start?session_id=id+1&provider=a%26b&state=s%3D1%23x"
        );
    }

    /// A host built for 0.1.1 runs turns with `process-message` and its three siblings, which
    /// return the chunks; they must answer exactly as `turn` (0.1.2), which only emits them:
    /// the same chunks and the same stored bytes, through an OAuth wait, a denial, going
    /// back and starting over.
    #[tokio::test]
    async fn the_0_1_1_turn_functions_answer_like_turn() {
        let runtime = Arc::new(Runtime::new(&RuntimeOptions::default()).expect("runtime"));
        let who = Caller { tenant_id: "t".into(), user_id: "u".into() };
        let offline = TurnOptions { llm: false, ..TurnOptions::default() };

        let mut runs = Vec::new();
        for old_functions in [false, true] {
            let store = Arc::new(MemoryStore::new());
            let imports = Imports {
                clock: Arc::new(FixedClock),
                random: Arc::new(Counting(AtomicU8::new(7))),
                ..Imports::system(store.clone())
            };
            let client = BuilderClient::new(Arc::clone(&runtime), imports.clone());
            let id = client.start_session(&who).await.expect("start").session_id;
            let mut answers = Vec::new();
            let script = [
                TurnInput::Message(
                    "Every weekday at 9, summarise my unread Gmail and post it to Slack #team".into(),
                ),
                TurnInput::Oauth { state: String::new(), approved: false },
                TurnInput::Message("status".into()),
                TurnInput::Back,
                TurnInput::Reset,
            ];
            for step in script {
                // The OAuth answer carries the state the session waits with.
                let step = match step {
                    TurnInput::Oauth { approved, .. } => {
                        let view = client.get_session(&who, &id).await.expect("view");
                        let state = view.pending_oauth.expect("waits for an account").state;
                        TurnInput::Oauth { state, approved }
                    }
                    other => other,
                };
                let chunks = if old_functions {
                    let c = wb::Caller::from(&who);
                    let o = wb::TurnOptions::from(offline);
                    let r = runtime
                        .call("process-message", imports.clone(), async |e, s| {
                            let b = e.kiln_engine_builder();
                            match &step {
                                TurnInput::Message(text) => b.call_process_message(s, &c, &id, text, o).await,
                                TurnInput::Oauth { state, approved } => {
                                    b.call_complete_oauth(s, &c, &id, state, *approved, o).await
                                }
                                TurnInput::Back => b.call_go_back(s, &c, &id, o).await,
                                TurnInput::Reset => b.call_reset(s, &c, &id, o).await,
                            }
                        })
                        .await
                        .expect("engine");
                    r.map(|chunks| chunks.into_iter().map(ChatChunk::from).collect::<Vec<_>>())
                        .map_err(BuilderError::from)
                } else {
                    client.turn(&who, &id, step, offline, Arc::new(Silent)).await.map_err(|e| match e {
                        BuilderFailure::Builder(e) => e,
                        BuilderFailure::Engine(e) => panic!("engine: {e}"),
                    })
                };
                answers.push(chunks.expect("turn"));
            }
            runs.push((answers, store.snapshot()));
        }
        let phases: Vec<Vec<Phase>> = runs[0].0.iter().map(|t| t.iter().map(|c| c.phase).collect()).collect();
        assert!(
            phases.iter().flatten().any(|p| *p == Phase::OauthFlow),
            "the script waits for an account: {phases:?}"
        );
        assert!(runs[0].0.iter().all(|t| !t.is_empty()), "every turn answers");
        assert_eq!(runs[0], runs[1], "turn and the 0.1.1 functions: the same chunks and stored bytes");
    }
}
