//! The `builder` export: kiln-core's builder driven with the `llm` and `emit` imports.

use kiln_core::builder::drive::{Next, TurnDriver};
use kiln_core::builder::engine::Input;
use kiln_core::builder::{Builder, Caller, TurnOptions};

use crate::bindings::exports::kiln::engine::builder::{
    BuilderError, Caller as WitCaller, ChatChunk, Guest, GuestTurnContinuation, LlmWait, Provider,
    SessionListing, SessionSummary, SessionView, TurnContinuation, TurnInput as WitInput,
    TurnOptions as WitOptions, TurnStep,
};
use crate::bindings::kiln::engine::{emit, llm};
use crate::{convert, ports};

fn builder() -> Builder<ports::HostStore, ports::HostClock, ports::HostRandom> {
    Builder::new(ports::HostStore, ports::HostClock, ports::HostRandom)
}

fn caller(c: WitCaller) -> Caller {
    Caller { tenant_id: c.tenant_id, user_id: c.user_id }
}

fn options(o: WitOptions) -> TurnOptions {
    TurnOptions {
        context_on: o.context,
        llm: o.llm,
        idle_timeout_ms: o.idle_timeout_ms,
        oauth_ttl_ms: o.oauth_ttl_ms,
    }
}

/// Runs one turn: LLM calls through the import, progress and committed chunks out through
/// `emit` as they happen, the chunks also returned (to the 0.1.1 functions; `turn` drops
/// them).
fn run(c: WitCaller, session_id: &str, input: Input, o: WitOptions) -> Result<Vec<ChatChunk>, BuilderError> {
    let mut complete = |request: &kiln_core::builder::llm::LlmRequest| {
        llm::complete(&convert::llm_request(request, session_id))
            .map(convert::llm_reply)
            .map_err(convert::llm_error)
    };
    let mut progress = |text: &str| emit::progress(session_id, text);
    let chunks = builder()
        .process(&caller(c), session_id, input, options(o), &mut complete, &mut progress)
        .map_err(convert::builder_error)?;
    let chunks: Vec<ChatChunk> = chunks.into_iter().map(convert::chat_chunk).collect();
    for chunk in &chunks {
        emit::chunk(chunk);
    }
    Ok(chunks)
}

/// A turn of the step protocol, suspended between `turn-begin`/`turn-resume` calls: the
/// core's own driver, so a stepped turn is the same turn as a blocking one.
pub struct Suspended(TurnDriver);

impl GuestTurnContinuation for Suspended {}

/// Steps `turn` to its next LLM call (handing it to the host with the suspended turn) or
/// its end.
fn step(mut turn: TurnDriver) -> Result<TurnStep, BuilderError> {
    let session_id = turn.session_id().to_owned();
    let (request, progress) = match turn.step(&builder()).map_err(convert::builder_error)? {
        Next::Done(chunks) => {
            return Ok(TurnStep::Done(chunks.into_iter().map(convert::chat_chunk).collect()));
        }
        Next::Llm { request, progress } => (convert::llm_request(request, &session_id), progress.to_owned()),
    };
    let continuation = TurnContinuation::new(Suspended(turn));
    Ok(TurnStep::NeedsLlm(LlmWait { request, progress, continuation }))
}

impl Guest for crate::Engine {
    type TurnContinuation = Suspended;

    fn turn_begin(
        c: WitCaller,
        session_id: String,
        input: WitInput,
        o: WitOptions,
    ) -> Result<TurnStep, BuilderError> {
        step(TurnDriver::new(caller(c), session_id, convert::turn_input(input), options(o)))
    }

    fn turn_resume(
        continuation: TurnContinuation,
        answer: Result<llm::Completion, llm::LlmError>,
    ) -> Result<TurnStep, BuilderError> {
        let Suspended(mut turn) = continuation.into_inner();
        turn.resume(answer.map(convert::llm_reply).map_err(convert::llm_error))
            .map_err(convert::builder_error)?;
        step(turn)
    }

    fn start_session(c: WitCaller) -> Result<SessionView, BuilderError> {
        builder().start_session(&caller(c)).map(|s| convert::session_view(&s)).map_err(convert::builder_error)
    }

    fn turn(c: WitCaller, session_id: String, input: WitInput, o: WitOptions) -> Result<u32, BuilderError> {
        let chunks = run(c, &session_id, convert::turn_input(input), o)?;
        Ok(u32::try_from(chunks.len()).unwrap_or(u32::MAX))
    }

    fn process_message(
        c: WitCaller,
        session_id: String,
        text: String,
        o: WitOptions,
    ) -> Result<Vec<ChatChunk>, BuilderError> {
        run(c, &session_id, Input::Message(text), o)
    }

    fn complete_oauth(
        c: WitCaller,
        session_id: String,
        state: String,
        approved: bool,
        o: WitOptions,
    ) -> Result<Vec<ChatChunk>, BuilderError> {
        run(c, &session_id, Input::Oauth { state, approved }, o)
    }

    fn go_back(c: WitCaller, session_id: String, o: WitOptions) -> Result<Vec<ChatChunk>, BuilderError> {
        run(c, &session_id, Input::Back, o)
    }

    fn reset(c: WitCaller, session_id: String, o: WitOptions) -> Result<Vec<ChatChunk>, BuilderError> {
        run(c, &session_id, Input::Reset, o)
    }

    fn get_session(c: WitCaller, session_id: String) -> Result<SessionView, BuilderError> {
        builder()
            .get_session(&caller(c), &session_id)
            .map(|s| convert::session_view(&s))
            .map_err(convert::builder_error)
    }

    fn list_sessions(c: WitCaller) -> Result<Vec<SessionSummary>, BuilderError> {
        let all = builder().list_sessions(&caller(c)).map_err(convert::builder_error)?;
        Ok(all.into_iter().map(convert::session_summary).collect())
    }

    fn list_sessions_skipping(c: WitCaller) -> Result<SessionListing, BuilderError> {
        let (listed, skipped) =
            builder().list_sessions_skipping(&caller(c)).map_err(convert::builder_error)?;
        Ok(SessionListing {
            sessions: listed.into_iter().map(convert::session_summary).collect(),
            skipped: skipped.into_iter().map(convert::skipped_entry).collect(),
        })
    }

    fn delete_session(c: WitCaller, session_id: String) -> Result<(), BuilderError> {
        builder().delete_session(&caller(c), &session_id).map_err(convert::builder_error)
    }

    fn expire_idle(idle_timeout_ms: u64) -> Result<u32, BuilderError> {
        builder().expire_idle(idle_timeout_ms).map_err(convert::builder_error)
    }

    fn export_agent(c: WitCaller, session_id: String) -> Result<String, BuilderError> {
        let spec = builder().export_agent(&caller(c), &session_id).map_err(convert::builder_error)?;
        Ok(convert::spec_json(&spec))
    }

    fn agent_schema() -> String {
        kiln_core::builder::agent::AGENT_JSON_SCHEMA.to_owned()
    }

    fn diagram() -> String {
        kiln_core::builder::phase::mermaid()
    }

    fn providers() -> Vec<Provider> {
        kiln_core::extract::Provider::all()
            .iter()
            .map(|p| Provider {
                id: p.id().to_owned(),
                name: p.display_name().to_owned(),
                needs_oauth: p.needs_oauth(),
                scopes: p.default_scopes().iter().map(|s| (*s).to_owned()).collect(),
            })
            .collect()
    }
}
