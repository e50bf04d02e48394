//! The server's turn handling, a service both `sessions` (a person's message) and `oauth`
//! (a provider's callback) use: a turn runs in its own task, so a client that goes away
//! mid-stream does not cancel a turn whose store writes may already be committed, and
//! graceful shutdown waits for it. Connect links are the callers' business (`oauth`).

use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use kiln_engine::builder::{BuilderClient, BuilderFailure, TurnInput};
use kiln_engine::imports::{Emitter, Silent};
use kiln_engine::journal::Journal;
use kiln_wire::builder::{ChatChunk, TurnOptions};

use super::auth::Authed;
use super::{ApiError, AppState, telemetry};

impl AppState {
    /// The builder client for the caller's tenant.
    pub fn builder(&self, authed: &Authed) -> BuilderClient {
        let client = BuilderClient::new(Arc::clone(&self.0.runtime), authed.imports.clone());
        if self.0.record { client.recording(Arc::new(self.journal(authed))) } else { client }
    }

    /// Where the caller's tenant's session journals are.
    pub fn journal(&self, authed: &Authed) -> Journal {
        Journal::new(Arc::clone(&self.0.base.store), authed.tenant.as_deref())
    }

    /// This server's turn settings for a session (the context flag rolls out per session).
    pub fn turn_options(&self, session_id: &str) -> TurnOptions {
        TurnOptions {
            context_on: self.0.llm.layer().flags().conversation_state(Some(session_id)),
            llm: !self.0.offline,
            idle_timeout_ms: self.0.idle_timeout_ms,
            oauth_ttl_ms: self.0.oauth_ttl_ms,
        }
    }
}

/// Starts a turn in its own task; `emitter` sees its events as they happen.
pub fn spawn(
    state: &AppState,
    authed: &Authed,
    session_id: &str,
    input: TurnInput,
    emitter: Arc<dyn Emitter>,
) -> tokio::task::JoinHandle<Result<Vec<ChatChunk>, BuilderFailure>> {
    let builder = state.builder(authed);
    let options = state.turn_options(session_id);
    let caller = authed.caller.clone();
    let (state, sid) = (state.clone(), session_id.to_owned());
    tokio::spawn(async move {
        let started = Instant::now();
        let result = builder.turn(&caller, &sid, input, options, emitter).await;
        match &result {
            Ok(chunks) => {
                telemetry::turn("ok", started.elapsed().as_secs_f64());
                // Every phase the turn's chunks passed through, in order, so a phase a turn
                // crosses shows in the funnel too, not only the one it ends in.
                for chunk in chunks {
                    state.0.phases.observe(&sid, Some(chunk.phase));
                }
            }
            Err(e) => telemetry::turn(e.kind(), started.elapsed().as_secs_f64()),
        }
        result
    })
}

/// Runs one turn to the end, with no events; its chunks as the guest made them.
pub async fn run(
    state: &AppState,
    authed: &Authed,
    session_id: &str,
    input: TurnInput,
) -> Result<Vec<ChatChunk>, ApiError> {
    let task = spawn(state, authed, session_id, input, Arc::new(Silent));
    Ok(task.await.map_err(|_| lost())??)
}

/// The turn task ended without a result (it panicked or was cancelled).
pub fn lost() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the turn ended without a result; check the session with GET /v1/sessions/{id} and retry",
    )
}
