//! `POST /v1/llm/complete`: one completion through the host's LLM layer (providers, retry,
//! fallback chain) for the browser build, which runs the engine itself but has no keys.
//! JSON by default; `"stream": true` answers SSE `token` / `discard` events, then `done`.

use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use kiln_llm::{CompletionRequest, ErrorClass, LlmFailure, Reply, StreamEvent};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

use super::auth::Authed;
use super::{ApiError, AppState};

/// The kinds match the guest's `llm-error` cases, so the browser maps them one to one.
fn failure(f: &LlmFailure) -> ApiError {
    let (status, kind) = match f.class {
        ErrorClass::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate-limited"),
        ErrorClass::Transient => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        ErrorClass::ContextTooLong => (StatusCode::PAYLOAD_TOO_LARGE, "context-too-long"),
        ErrorClass::Permanent => (StatusCode::BAD_GATEWAY, "invalid-request"),
        ErrorClass::BadOutput => (StatusCode::BAD_GATEWAY, "bad-output"),
    };
    ApiError::new(status, kind, f.message.clone())
}

fn no_provider() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no-provider",
        "no model answered (this server is offline or its chain reached `offline`); use the rule-based path",
    )
}

fn reply_body(reply: Result<Reply, LlmFailure>) -> Result<serde_json::Value, ApiError> {
    match reply {
        Ok(Reply::Completion(c)) => Ok(json!({
            "text": c.text, "json": c.json, "provider": c.provider, "model": c.model,
            "attempts": c.attempts.len(), "fallback_depth": c.fallback_depth,
        })),
        Ok(Reply::Offline(_)) => Err(no_provider()),
        Err(f) => Err(failure(&f)),
    }
}

/// `POST /v1/llm/complete`.
pub async fn complete(
    State(state): State<AppState>,
    _authed: Authed,
    body: Result<Json<CompletionRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body?;
    if request.messages.is_empty() {
        return Err(ApiError::invalid("messages must hold at least one message"));
    }
    let llm = std::sync::Arc::clone(&state.0.llm);
    if !request.stream {
        let reply = llm.layer().complete(&request, &mut kiln_llm::NoSink).await;
        return Ok(Json(reply_body(reply)?).into_response());
    }
    let (tx, rx) = mpsc::unbounded_channel::<SseEvent>();
    tokio::spawn(async move {
        let sink_tx = tx.clone();
        let mut sink = move |event: StreamEvent<'_>| {
            let e = match event {
                StreamEvent::Token(t) => {
                    SseEvent::default().event("token").data(json!({ "text": t }).to_string())
                }
                StreamEvent::Discard { provider, reason } => SseEvent::default()
                    .event("discard")
                    .data(json!({ "provider": provider, "reason": reason }).to_string()),
            };
            let _ = sink_tx.send(e);
        };
        let reply = llm.layer().complete(&request, &mut sink).await;
        let last = match reply_body(reply) {
            Ok(body) => SseEvent::default().event("done").data(body.to_string()),
            Err(e) => SseEvent::default().event("error").data(e.body().to_string()),
        };
        let _ = tx.send(last);
    });
    let stream = tokio_stream::StreamExt::map(UnboundedReceiverStream::new(rx), Ok::<_, Infallible>);
    Ok(Sse::new(stream).into_response())
}
