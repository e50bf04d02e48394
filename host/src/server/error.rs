//! Every failure the API reports has one shape, `{"error": {"kind", "message"}}`, with a
//! status code that matches the kind.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kiln_wire::builder::BuilderError;
use kiln_wire::queue::QueueError;
use kiln_wire::store::StoreError;
use serde_json::json;

use kiln_engine::builder::BuilderFailure;
use kiln_engine::queue::QueueFailure;
use kiln_engine::runtime::EngineError;

/// An API error: status, stable kind, and a message saying what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable name for clients (`not-found`, `unauthorized`, ...).
    pub kind: &'static str,
    /// For people.
    pub message: String,
}

impl ApiError {
    /// An error.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self { status, kind, message: message.into() }
    }

    /// 400 with kind `invalid-input`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-input", message)
    }

    /// 404 with kind `not-found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", message)
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"kind": self.kind, "message": self.message}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

fn store_status(e: &StoreError) -> StatusCode {
    match e {
        StoreError::Conflict => StatusCode::CONFLICT,
        StoreError::InvalidKey(_) => StatusCode::BAD_REQUEST,
        // The backend is down or failing: the client may retry later.
        StoreError::Backend(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl From<BuilderFailure> for ApiError {
    fn from(f: BuilderFailure) -> Self {
        let status = match &f {
            BuilderFailure::Builder(e) => match e {
                BuilderError::NotFound(_) => StatusCode::NOT_FOUND,
                BuilderError::Expired(_) => StatusCode::GONE,
                BuilderError::InvalidInput(_) => StatusCode::BAD_REQUEST,
                // A well-formed state that is not the connection in progress.
                BuilderError::OauthRefused(_) => StatusCode::CONFLICT,
                BuilderError::NoDraft(_) => StatusCode::CONFLICT,
                BuilderError::Contention(_) => StatusCode::SERVICE_UNAVAILABLE,
                BuilderError::Corrupt { .. } | BuilderError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                BuilderError::Store(s) => store_status(s),
            },
            BuilderFailure::Engine(EngineError::Trap { .. })
            | BuilderFailure::Engine(EngineError::Load(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, f.kind(), f.to_string())
    }
}

impl From<QueueFailure> for ApiError {
    fn from(f: QueueFailure) -> Self {
        let status = match &f {
            QueueFailure::Queue(e) => match e {
                QueueError::InvalidInput(_) => StatusCode::BAD_REQUEST,
                QueueError::NotFound(_) => StatusCode::NOT_FOUND,
                QueueError::Corrupt { .. } => StatusCode::INTERNAL_SERVER_ERROR,
                QueueError::Contention(_) => StatusCode::SERVICE_UNAVAILABLE,
                QueueError::Store(s) => store_status(s),
            },
            QueueFailure::Engine(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, f.kind(), f.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::new(store_status(&e), "store", e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send the body as JSON with `Content-Type: application/json`",
            ),
            JsonRejection::JsonSyntaxError(e) => Self::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                format!("the body is not valid JSON: {e}"),
            ),
            JsonRejection::JsonDataError(e) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                format!("the JSON does not have the expected fields: {}", describe(&e)),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "the request body is larger than this server accepts (limits.max_body_bytes)",
            ),
            other => Self::new(other.status(), "bad-request", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::invalid(format!("the query string is wrong: {}", r.body_text()))
    }
}

/// Gives the error shape to the errors axum answers by itself in plain text (a path
/// segment that is not valid percent-encoded UTF-8, a method a route does not have), so
/// every error a client sees is `{"error": {"kind", "message"}}`. Headers (`Allow`) stay.
pub async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.starts_with("text/event-stream"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let (kind, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "this route does not answer that method; the Allow header and /openapi.json list the ones it does"
                .to_owned(),
        ),
        s if s.is_server_error() => ("internal", text),
        _ => ("bad-request", if text.is_empty() { status.to_string() } else { text }),
    };
    let shaped = ApiError::new(status, kind, message).into_response();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts
        .headers
        .insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    Response::from_parts(parts, shaped.into_body())
}

/// The innermost message of an error chain (serde's, without axum's prefix).
fn describe(e: &dyn std::error::Error) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}
