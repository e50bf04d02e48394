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
use kiln_llm::{LlmFailure, StreamEvent};
use kiln_wire::llm::LlmError;
use kiln_wire::proxy::{CompletionRequest, Reply};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

use super::auth::Authed;
use super::{ApiError, AppState};

/// A failure of the layer as the proxy's error: the guest's `llm-error` kind
/// (`kiln_wire::proxy`), which the browser build maps back one to one.
fn failure(f: LlmFailure) -> ApiError {
    let e = crate::llm::llm_error(f);
    let status = match e {
        LlmError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        LlmError::ContextTooLong(_) => StatusCode::PAYLOAD_TOO_LARGE,
        LlmError::InvalidRequest(_) | LlmError::BadOutput(_) => StatusCode::BAD_GATEWAY,
        LlmError::Unavailable(_) | LlmError::NoProvider => StatusCode::SERVICE_UNAVAILABLE,
    };
    ApiError::new(status, e.kind(), e.message())
}

fn no_provider() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        LlmError::NoProvider.kind(),
        "no model answered (this server is offline or its chain reached `offline`); use the rule-based path",
    )
}

fn reply_body(reply: Result<kiln_llm::Reply, LlmFailure>) -> Result<Reply, ApiError> {
    match reply {
        Ok(kiln_llm::Reply::Completion(c)) => Ok(Reply {
            attempts: Some(u32::try_from(c.attempts.len()).unwrap_or(u32::MAX)),
            text: Some(c.text),
            json: c.json,
            provider: Some(c.provider),
            model: Some(c.model),
            fallback_depth: Some(c.fallback_depth),
            error: None,
        }),
        Ok(kiln_llm::Reply::Offline(_)) => Err(no_provider()),
        Err(f) => Err(failure(f)),
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
    // Already checked to be JSON; parsing it can fail only past serde_json's nesting limit.
    let json_schema = match request.json_schema {
        Some(raw) => Some(serde_json::from_str(raw.get()).map_err(|e| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-body", format!("json_schema: {e}"))
        })?),
        None => None,
    };
    let request = kiln_llm::CompletionRequest {
        messages: crate::llm::chat_messages(request.messages),
        json_schema,
        max_tokens: request.max_tokens,
        session_id: request.session_id,
        stream: request.stream,
    };
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
            Ok(body) => {
                SseEvent::default().event("done").data(serde_json::to_string(&body).unwrap_or_default())
            }
            Err(e) => SseEvent::default().event("error").data(e.body().to_string()),
        };
        let _ = tx.send(last);
    });
    let stream = tokio_stream::StreamExt::map(UnboundedReceiverStream::new(rx), Ok::<_, Infallible>);
    Ok(Sse::new(stream).into_response())
}
