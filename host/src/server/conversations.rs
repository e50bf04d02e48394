//! The FIFO queue of conversations over HTTP, mirroring `kiln conversations`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kiln_engine::queue::QueueClient;
use kiln_wire::queue::NewConversation;
use serde::Deserialize;
use serde_json::json;

use super::auth::Authed;
use super::{ApiError, AppState};

impl AppState {
    fn queue(&self, authed: &Authed) -> QueueClient {
        QueueClient::new(Arc::clone(&self.0.runtime), authed.queue.clone())
    }
}

/// A conversation to queue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    /// The opening text.
    prompt: String,
    /// The workflow waiting on it.
    #[serde(default)]
    workflow_id: Option<String>,
    /// Free-form key/value pairs.
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

impl From<AddBody> for NewConversation {
    fn from(b: AddBody) -> Self {
        NewConversation { prompt: b.prompt, workflow_id: b.workflow_id, metadata: b.metadata }
    }
}

/// `POST /v1/conversations`: appends a conversation.
pub async fn add(
    State(state): State<AppState>,
    authed: Authed,
    body: Result<Json<AddBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let conversation = state.queue(&authed).add(body.into()).await?;
    Ok((StatusCode::CREATED, Json(conversation)).into_response())
}

/// `GET /v1/conversations`: the queue, oldest first.
pub async fn list(State(state): State<AppState>, authed: Authed) -> Result<Response, ApiError> {
    let (queued, corrupt) = state.queue(&authed).list().await?;
    let mut body = json!({ "conversations": queued });
    if !corrupt.is_empty() {
        body["corrupt"] = json!(corrupt);
    }
    Ok(Json(body).into_response())
}

/// `POST /v1/conversations/next`: takes the oldest off the queue; 204 when it is empty.
/// Conversations set aside as corrupt on the way are logged (and listed by `list`).
pub async fn next(State(state): State<AppState>, authed: Authed) -> Result<Response, ApiError> {
    let (next, aside) = state.queue(&authed).next().await?;
    for entry in aside {
        eprintln!("kiln serve: conversation {} set aside: {}", entry.id, entry.error);
    }
    Ok(match next {
        Some(c) => Json(c).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `POST /v1/conversations/{id}/start`: starts one by id (idempotent).
pub async fn start(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let started = state.queue(&authed).start(&id).await?;
    Ok(Json(json!({ "conversation": started.conversation, "was_queued": started.was_queued }))
        .into_response())
}

/// A workflow step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// The opening text.
    prompt: String,
    /// The workflow that pauses.
    workflow_id: String,
    /// Free-form key/value pairs.
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

/// `POST /v1/conversations/step`: queues a conversation for a workflow, which pauses on it.
pub async fn step(
    State(state): State<AppState>,
    authed: Authed,
    body: Result<Json<StepBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let request =
        NewConversation { prompt: b.prompt, workflow_id: Some(b.workflow_id), metadata: b.metadata };
    let id = state.queue(&authed).conversation_step(request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "paused": true, "conversation_id": id }))).into_response())
}
