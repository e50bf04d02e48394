//! Error classes (SPEC §4), the failure a caller sees, and the classification of provider
//! responses.

use std::time::Duration;

use serde::Serialize;

use crate::Attempt;

/// What kind of failure an attempt had; decides whether the layer retries, falls back or
/// gives up (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorClass {
    /// 429 (but not an exhausted quota): wait what the server says, else back off.
    RateLimited,
    /// 408, 409, 5xx, 529 overloaded, timeouts, refused or reset connections, truncated
    /// streams: retried with exponential backoff and full jitter.
    Transient,
    /// The prompt does not fit the model's window: no retry, the next model with a larger
    /// window is tried.
    ContextTooLong,
    /// 400, 401, 403, 404, 422, an exhausted quota, a missing API key: never retried on
    /// the same provider.
    Permanent,
    /// An unparseable body or output that does not match the requested JSON schema: one
    /// repair attempt, then the next provider.
    BadOutput,
}

impl ErrorClass {
    /// The stable kebab-case name (`rate-limited`, `transient`, ...), used in JSON, logs,
    /// metric labels and the CLI's error kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate-limited",
            Self::Transient => "transient",
            Self::ContextTooLong => "context-too-long",
            Self::Permanent => "permanent",
            Self::BadOutput => "bad-output",
        }
    }

    /// Whether the same provider may be asked again after waiting.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::Transient)
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every provider of the chain failed (or the call's deadline ran out).
#[derive(Debug, Clone, thiserror::Error, Serialize)]
#[error("{class}: {message}")]
pub struct LlmFailure {
    /// The class of the last failure: the one that ended the call.
    pub class: ErrorClass,
    /// What happened, and what to do about it. Never contains an API key.
    pub message: String,
    /// Every attempt made, in order.
    pub attempts: Vec<Attempt>,
}

/// Why an attempt failed, beyond its class: decides e.g. "move to the next provider at
/// once" for refused connections and timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The server answered with an error status.
    Status,
    /// Nobody listens at the address.
    Refused,
    /// The connection failed otherwise (DNS, TLS, unreachable).
    Connect,
    /// Connect, first-byte, idle-stream or attempt timeout.
    Timeout,
    /// The connection broke mid-request or mid-response.
    Transport,
    /// The stream ended before its end marker.
    Truncated,
    /// The body could not be parsed.
    Body,
    /// The model's output did not match the requested JSON schema.
    Output,
    /// The provider is not usable as configured (missing API key).
    Config,
    /// The provider reported an error inside a successful response or stream.
    Provider,
}

/// One failed attempt, as a provider reports it to the layer.
#[derive(Debug, Clone)]
pub(crate) struct AttemptError {
    pub class: ErrorClass,
    pub cause: Cause,
    pub message: String,
    pub status: Option<u16>,
    /// The server's hint of how long to wait before asking again.
    pub hint: Option<Duration>,
    /// `x-should-retry`, when the server sent it.
    pub should_retry: Option<bool>,
    /// The model's unusable output (bad-output only), for the repair prompt.
    pub output: Option<String>,
}

impl AttemptError {
    pub(crate) fn new(class: ErrorClass, cause: Cause, message: impl Into<String>) -> Self {
        Self {
            class,
            cause,
            message: message.into(),
            status: None,
            hint: None,
            should_retry: None,
            output: None,
        }
    }

    /// A failure that the server's credentials or permissions cause: retrying another
    /// model behind the same endpoint and key cannot help.
    pub(crate) fn is_auth(&self) -> bool {
        self.class == ErrorClass::Permanent && matches!(self.status, Some(401 | 403))
    }

    /// A refusal of the request itself (400, 413, 422 that is not about the context
    /// window): any other provider would refuse it as well.
    pub(crate) fn is_request_fault(&self) -> bool {
        self.class == ErrorClass::Permanent && matches!(self.status, Some(400 | 413 | 422))
    }

    /// Whether asking the same provider again later may succeed (the server's
    /// `x-should-retry` wins over the class).
    pub(crate) fn retryable(&self) -> bool {
        self.should_retry.unwrap_or_else(|| self.class.is_retryable())
    }

    /// Whether this failure says something about the provider's health (and so counts
    /// toward its circuit breaker), rather than about this request.
    pub(crate) fn counts_against_provider(&self) -> bool {
        match self.class {
            ErrorClass::RateLimited | ErrorClass::Transient => true,
            ErrorClass::Permanent => !self.is_request_fault() && self.cause != Cause::Config,
            ErrorClass::ContextTooLong | ErrorClass::BadOutput => false,
        }
    }
}

/// The error codes, types and message a provider put in an error body.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    /// `error.code`, `error.type` (OpenAI), `error.type` (Anthropic), lower-cased.
    pub codes: Vec<String>,
    pub message: Option<String>,
}

impl ErrorBody {
    /// Reads OpenAI (`{"error": {"message", "type", "code"}}`), vLLM
    /// (`{"object": "error", "message", "type"}`) and Anthropic
    /// (`{"type": "error", "error": {"type", "message"}}`) error bodies.
    pub(crate) fn parse(body: &str) -> Self {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
            return Self::default();
        };
        let inner = match value.get("error") {
            Some(e @ serde_json::Value::Object(_)) => e,
            Some(serde_json::Value::String(s)) => {
                return Self { codes: Vec::new(), message: Some(s.clone()) };
            }
            _ => &value,
        };
        let mut codes = Vec::new();
        for key in ["code", "type"] {
            if let Some(serde_json::Value::String(s)) = inner.get(key) {
                codes.push(s.to_ascii_lowercase());
            }
        }
        let message = inner.get("message").and_then(|m| m.as_str()).map(str::to_owned);
        Self { codes, message }
    }

    fn has(&self, code: &str) -> bool {
        self.codes.iter().any(|c| c == code)
    }
}

/// Phrases that providers without a dedicated code use for an overlong prompt (vLLM,
/// llama.cpp, Ollama, Anthropic's `prompt is too long`).
const CONTEXT_PHRASES: &[&str] = &[
    "maximum context length",
    "context length",
    "context window",
    "prompt is too long",
    "too many tokens",
    "exceeds the context",
];

/// Classifies an error response from its status and body (SPEC §4's table).
pub(crate) fn classify_response(status: u16, body: &ErrorBody) -> ErrorClass {
    if body.has("insufficient_quota") || body.has("billing_hard_limit_reached") {
        // A 429 that will not go away by waiting.
        return ErrorClass::Permanent;
    }
    let message = body.message.as_deref().unwrap_or("").to_ascii_lowercase();
    let context = body.has("context_length_exceeded")
        || body.has("string_above_max_length")
        || CONTEXT_PHRASES.iter().any(|p| message.contains(p));
    if context && matches!(status, 400 | 413 | 422) {
        return ErrorClass::ContextTooLong;
    }
    if body.has("overloaded_error") {
        return ErrorClass::Transient;
    }
    if body.has("rate_limit_error") || body.has("rate_limit_exceeded") {
        return ErrorClass::RateLimited;
    }
    match status {
        408 | 409 => ErrorClass::Transient,
        429 => ErrorClass::RateLimited,
        500..=599 => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    }
}

/// Classifies an error event inside a stream (no status code).
pub(crate) fn classify_stream_error(body: &ErrorBody) -> ErrorClass {
    if body.has("insufficient_quota") {
        return ErrorClass::Permanent;
    }
    if body.has("context_length_exceeded") {
        return ErrorClass::ContextTooLong;
    }
    if body.has("rate_limit_error") || body.has("rate_limit_exceeded") {
        return ErrorClass::RateLimited;
    }
    if body.has("invalid_request_error") || body.has("authentication_error") || body.has("permission_error") {
        return ErrorClass::Permanent;
    }
    // overloaded_error, api_error, server_error and anything unknown mid-stream: the
    // request itself was accepted, so asking again can help.
    ErrorClass::Transient
}

/// What to tell a person about a status, after the provider's own message.
pub(crate) fn status_advice(status: u16, class: ErrorClass) -> &'static str {
    match (status, class) {
        (_, ErrorClass::ContextTooLong) => {
            "shorten the conversation or add a model with a larger context_window"
        }
        (401, _) => "check the API key in the environment variable named by api_key_env",
        (403, _) => "the key lacks permission for this model or endpoint",
        (404, _) => "check base_url and model",
        (429, ErrorClass::Permanent) => "the account's quota is exhausted: check its plan and billing",
        (429, _) => "rate limited: waiting as the server asks",
        (400 | 422, _) => "the provider rejected the request: check model and the options it supports",
        (300..=399, _) => "the endpoint redirects: point base_url at the final address",
        (_, ErrorClass::Transient) => "the provider is failing or overloaded",
        _ => "see the provider's message",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(s: &str) -> ErrorBody {
        ErrorBody::parse(s)
    }

    #[test]
    fn statuses_follow_the_spec_table() {
        let empty = ErrorBody::default();
        for (status, class) in [
            (408, ErrorClass::Transient),
            (409, ErrorClass::Transient),
            (429, ErrorClass::RateLimited),
            (500, ErrorClass::Transient),
            (502, ErrorClass::Transient),
            (503, ErrorClass::Transient),
            (529, ErrorClass::Transient),
            (400, ErrorClass::Permanent),
            (401, ErrorClass::Permanent),
            (403, ErrorClass::Permanent),
            (404, ErrorClass::Permanent),
            (422, ErrorClass::Permanent),
            (302, ErrorClass::Permanent),
        ] {
            assert_eq!(classify_response(status, &empty), class, "status {status}");
        }
    }

    #[test]
    fn provider_codes_override_statuses() {
        let quota = body(
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        );
        assert_eq!(classify_response(429, &quota), ErrorClass::Permanent);
        let ctx = body(
            r#"{"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
        );
        assert_eq!(classify_response(400, &ctx), ErrorClass::ContextTooLong);
        let vllm = body(
            r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens","type":"BadRequestError","code":400}"#,
        );
        assert_eq!(classify_response(400, &vllm), ErrorClass::ContextTooLong);
        let anthropic_ctx = body(
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
        );
        assert_eq!(classify_response(400, &anthropic_ctx), ErrorClass::ContextTooLong);
        let overloaded =
            body(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#);
        assert_eq!(classify_response(529, &overloaded), ErrorClass::Transient);
        assert_eq!(classify_response(400, &overloaded), ErrorClass::Transient);
        let rate = body(r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#);
        assert_eq!(classify_response(400, &rate), ErrorClass::RateLimited);
        // A context phrase on a 500 is the server's problem, not the prompt's.
        assert_eq!(classify_response(500, &vllm), ErrorClass::Transient);
    }

    #[test]
    fn error_bodies_of_every_shape_parse() {
        assert_eq!(body("not json"), ErrorBody::default());
        assert_eq!(body(r#"{"error":"plain"}"#).message.as_deref(), Some("plain"));
        let anthropic =
            body(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#);
        assert_eq!(anthropic.codes, vec!["overloaded_error"]);
        assert_eq!(anthropic.message.as_deref(), Some("Overloaded"));
        let flat = body(r#"{"message":"m","type":"T"}"#);
        assert_eq!(flat.codes, vec!["t"]);
    }

    #[test]
    fn stream_errors() {
        let b = |s| body(s);
        assert_eq!(
            classify_stream_error(&b(r#"{"error":{"type":"overloaded_error"}}"#)),
            ErrorClass::Transient
        );
        assert_eq!(
            classify_stream_error(&b(r#"{"error":{"code":"insufficient_quota"}}"#)),
            ErrorClass::Permanent
        );
        assert_eq!(
            classify_stream_error(&b(r#"{"error":{"code":"context_length_exceeded"}}"#)),
            ErrorClass::ContextTooLong
        );
        assert_eq!(
            classify_stream_error(&b(r#"{"error":{"type":"rate_limit_error"}}"#)),
            ErrorClass::RateLimited
        );
        assert_eq!(
            classify_stream_error(&b(r#"{"error":{"type":"invalid_request_error"}}"#)),
            ErrorClass::Permanent
        );
    }

    #[test]
    fn classes_have_stable_names_and_retryability() {
        let all = [
            ErrorClass::RateLimited,
            ErrorClass::Transient,
            ErrorClass::ContextTooLong,
            ErrorClass::Permanent,
            ErrorClass::BadOutput,
        ];
        let names: Vec<_> = all.iter().map(|c| c.to_string()).collect();
        assert_eq!(names, ["rate-limited", "transient", "context-too-long", "permanent", "bad-output"]);
        for c in all {
            assert_eq!(serde_json::to_value(c).expect("serializes"), serde_json::json!(c.as_str()));
        }
        assert!(ErrorClass::RateLimited.is_retryable() && ErrorClass::Transient.is_retryable());
        assert!(!ErrorClass::Permanent.is_retryable() && !ErrorClass::BadOutput.is_retryable());
    }

    #[test]
    fn what_counts_against_a_provider() {
        let mut e = AttemptError::new(ErrorClass::Permanent, Cause::Status, "x");
        e.status = Some(401);
        assert!(e.is_auth() && e.counts_against_provider());
        e.status = Some(400);
        assert!(!e.is_auth() && !e.counts_against_provider());
        let cfg = AttemptError::new(ErrorClass::Permanent, Cause::Config, "no key");
        assert!(!cfg.counts_against_provider());
        assert!(AttemptError::new(ErrorClass::Transient, Cause::Refused, "x").counts_against_provider());
        assert!(!AttemptError::new(ErrorClass::ContextTooLong, Cause::Status, "x").counts_against_provider());
        for (status, class) in [
            (401, ErrorClass::Permanent),
            (403, ErrorClass::Permanent),
            (404, ErrorClass::Permanent),
            (429, ErrorClass::Permanent),
            (429, ErrorClass::RateLimited),
            (400, ErrorClass::Permanent),
            (301, ErrorClass::Permanent),
            (503, ErrorClass::Transient),
            (418, ErrorClass::Permanent),
            (400, ErrorClass::ContextTooLong),
        ] {
            assert!(!status_advice(status, class).is_empty());
        }
    }
}
