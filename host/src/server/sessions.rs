//! Builder sessions over HTTP. A turn answers `text/event-stream` (one `chunk` event per
//! ChatResponse chunk as the engine commits it, `progress` events while an LLM works, then
//! `done`), or one JSON document when the client sends `Accept: application/json`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Json, extract::rejection::JsonRejection};
use kiln_engine::builder::ChatChunk;
use kiln_engine::builder::{BuilderFailure, TurnInput};
use kiln_engine::imports::{Emitter, Event};
use kiln_wire::builder::SpecJson;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::UnboundedReceiverStream;

use super::auth::Authed;
use super::{ApiError, AppState, oauth, telemetry, turns};

/// `POST /v1/sessions`: starts a session.
pub async fn create(State(state): State<AppState>, authed: Authed) -> Result<Response, ApiError> {
    let view = state.builder(&authed).start_session(&authed.caller).await?;
    metrics::counter!(telemetry::SESSIONS_STARTED).increment(1);
    state.0.phases.observe(&view.session_id, Some(view.phase));
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `GET /v1/sessions`: the caller's sessions, most recent first.
pub async fn list(State(state): State<AppState>, authed: Authed) -> Result<Response, ApiError> {
    let (sessions, corrupt) = state.builder(&authed).list_sessions(&authed.caller).await?;
    let mut body = json!({ "sessions": sessions });
    if !corrupt.is_empty() {
        body["corrupt"] = json!(corrupt);
    }
    Ok(Json(body).into_response())
}

/// `GET /v1/sessions/{id}`.
pub async fn show(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.builder(&authed).get_session(&authed.caller, &id).await?).into_response())
}

/// `DELETE /v1/sessions/{id}`: the session and its draft.
pub async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.builder(&authed).delete_session(&authed.caller, &id).await?;
    // The journal (if the session was recorded) holds the person's words too.
    state.journal(&authed).delete(&id).await?;
    state.0.phases.observe(&id, None);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/sessions/{id}/agent`: the draft agent spec (kiln.agent/v1).
pub async fn agent(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // The guest's document as it made it (served as JSON, not as a JSON string).
    let spec = state.builder(&authed).export_agent(&authed.caller, &id).await?;
    Ok(Json(SpecJson(spec)).into_response())
}

/// A message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// What the person said.
    text: String,
}

/// `POST /v1/sessions/{id}/messages`.
pub async fn message(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<MessageBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    run_turn(state, authed, id, TurnInput::Message(body.text), &headers).await
}

/// `POST /v1/sessions/{id}/back`.
pub async fn back(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    run_turn(state, authed, id, TurnInput::Back, &headers).await
}

/// `POST /v1/sessions/{id}/reset`.
pub async fn reset(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    run_turn(state, authed, id, TurnInput::Reset, &headers).await
}

/// A simulated consent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OauthBody {
    /// The pending state the engine issued.
    state: String,
    /// Whether the person approved.
    approved: bool,
}

/// `POST /v1/sessions/{id}/oauth`: answers the consent for an integration that has no
/// OAuth provider configured on this server (configured ones complete through
/// `/oauth/callback` only, so a client cannot claim a consent the provider never gave).
pub async fn simulated_oauth(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<OauthBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let session = state.builder(&authed).get_session(&authed.caller, &id).await?;
    if let Some(p) = &session.pending_oauth
        && state.0.oauth.configured(&p.provider)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "oauth-configured",
            format!(
                "{} is connected through its real consent screen on this server: open the session's oauth_url",
                p.provider
            ),
        ));
    }
    run_turn(state, authed, id, TurnInput::Oauth { state: body.state, approved: body.approved }, &headers)
        .await
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/event-stream"))
}

/// What the turn task sends the response.
enum Item {
    Event(Event),
    Done(Result<Vec<ChatChunk>, BuilderFailure>),
}

/// Runs one turn and answers it as SSE or JSON.
pub async fn run_turn(
    state: AppState,
    authed: Authed,
    session_id: String,
    input: TurnInput,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    if wants_json(headers) {
        let owner = oauth::Owner { tenant: authed.tenant.clone(), user: authed.caller.user_id.clone() };
        let mut chunks = turns::run(&state, &authed, &session_id, input).await?;
        oauth::rewrite_chunks(&state, &owner, &mut chunks).await?;
        return Ok(Json(json!({ "chunks": chunks })).into_response());
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Item>();
    let emitter: Arc<dyn Emitter> = {
        let tx = tx.clone();
        Arc::new(move |e: Event| {
            let _ = tx.send(Item::Event(e));
        })
    };
    let task = turns::spawn(&state, &authed, &session_id, input, emitter);
    tokio::spawn(async move {
        let result = task.await.unwrap_or_else(|e| {
            Err(BuilderFailure::Builder(kiln_wire::builder::BuilderError::Internal(format!(
                "the turn task failed: {e}"
            ))))
        });
        let _ = tx.send(Item::Done(result));
    });
    let owner = oauth::Owner { tenant: authed.tenant, user: authed.caller.user_id };

    // The status line goes out with the first event: a turn that fails before producing
    // anything (unknown session, expired, bad input) gets a plain JSON error and status.
    let first = match rx.recv().await {
        Some(Item::Done(Err(e))) => return Err(e.into()),
        Some(item) => item,
        None => return Err(turns::lost()),
    };
    let stream = tokio_stream::once(first).chain(UnboundedReceiverStream::new(rx)).then(move |item| {
        let (state, owner) = (state.clone(), owner.clone());
        async move { Ok::<_, Infallible>(sse_event(&state, &owner, item).await) }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

fn json_event(name: &str, data: &impl serde::Serialize) -> SseEvent {
    let data = serde_json::to_string(data).unwrap_or_else(|e| json!({"error": e.to_string()}).to_string());
    SseEvent::default().event(name).data(data)
}

async fn sse_event(state: &AppState, owner: &oauth::Owner, item: Item) -> SseEvent {
    match item {
        Item::Event(Event::Progress { session_id, text }) => {
            json_event("progress", &json!({ "session_id": session_id, "text": text }))
        }
        Item::Event(Event::Token { session_id, text }) => {
            json_event("token", &json!({ "session_id": session_id, "text": text }))
        }
        Item::Event(Event::Discard { session_id }) => {
            json_event("discard", &json!({ "session_id": session_id }))
        }
        Item::Event(Event::Chunk(mut chunk)) => {
            // The chunk is shared with the turn's result: copied only when a link changes.
            let rewritten = match chunk.connect {
                Some(_) => oauth::rewrite_chunk(state, owner, Arc::make_mut(&mut chunk)).await,
                None => Ok(()),
            };
            match rewritten {
                Ok(()) => json_event("chunk", &*chunk),
                Err(e) => json_event("error", &e.body()),
            }
        }
        Item::Done(Ok(chunks)) => {
            let last = chunks.last();
            json_event(
                "done",
                &json!({
                    "session_id": last.map(|c| c.session_id.as_str()),
                    "phase": last.map(|c| c.phase),
                    "chunks": chunks.len(),
                }),
            )
        }
        Item::Done(Err(e)) => json_event("error", &ApiError::from(e).body()),
    }
}
