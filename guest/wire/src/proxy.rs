//! The LLM proxy's protocol (`POST /v1/llm/complete`): how the browser build, which runs the
//! engine but holds no keys, has `kiln serve` ask a model. Written once: the server reads the
//! request and writes the reply with these types, the browser build writes the request and
//! reads the reply with them, and an error's `kind` maps to the guest's [`LlmError`] here.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::llm::{LlmError, LlmMessage, LlmReply};

/// The request body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// The conversation so far; system messages anywhere.
    pub messages: Vec<LlmMessage>,
    /// When set, the reply must be a JSON document matching this schema. Carried as its
    /// JSON text, checked to be JSON but not parsed, so the browser build passes the guest's
    /// schema on without building a value of it (the server parses it).
    #[serde(default)]
    pub json_schema: Option<Box<RawValue>>,
    /// The most tokens to generate (else the provider's `max_tokens`). JSON's `512.0` is
    /// the whole number 512, as JSON Schema's `integer` says.
    #[serde(default, deserialize_with = "whole_number")]
    pub max_tokens: Option<u32>,
    /// Picks the session's rollout slice for every flag.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Answer as server-sent events: `token` and `discard` while the model writes, then
    /// `done` with the [`Reply`] (or `error`).
    #[serde(default)]
    pub stream: bool,
}

/// A `u32` written as a JSON integer or as a number with no fractional part.
fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let Some(n) = Option::<f64>::deserialize(d)? else { return Ok(None) };
    if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) {
        Ok(Some(n as u32))
    } else {
        Err(serde::de::Error::custom(format!(
            "max_tokens must be a whole number from 0 to {}, not {n}",
            u32::MAX
        )))
    }
}

/// What the proxy answers: a completion (status 200), or the server's error body
/// `{"error": {"kind", "message"}}` whose kind is one of [`LlmError::kind`]'s. One struct of
/// optional fields rather than an untagged enum: serde buffers an untagged enum's input and
/// tries each variant with a copy of its fields' readers (4 KB of the browser's wasm).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// Why there is no completion (never sent with one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    /// The completion's text.
    #[serde(default)]
    pub text: Option<String>,
    /// The provider that answered.
    #[serde(default)]
    pub provider: Option<String>,
    /// Its model.
    #[serde(default)]
    pub model: Option<String>,
    // The three below are written for other clients (scripts, dashboards) and not read
    // back: the guest's answer has no place for them, and their readers would cost the
    // browser's wasm.
    /// The text parsed as JSON, when the request had a schema.
    #[serde(skip_deserializing)]
    pub json: Option<Value>,
    /// How many attempts the host's chain made.
    #[serde(skip_deserializing)]
    pub attempts: Option<u32>,
    /// The answering provider's place in the fallback chain (0: the first).
    #[serde(skip_deserializing)]
    pub fallback_depth: Option<u32>,
}

/// The `error` of an error reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// [`LlmError::kind`], or another kind of the server's (a malformed request, a
    /// missing key).
    pub kind: String,
    /// What happened, for people.
    #[serde(default)]
    pub message: String,
}

impl Reply {
    /// The reply as the guest's LLM answer (an error as [`LlmError::from_kind`] reads it).
    pub fn into_answer(self) -> Result<LlmReply, LlmError> {
        match self {
            Reply { error: Some(ErrorDetail { kind, message }), .. } => {
                Err(LlmError::from_kind(&kind, message))
            }
            Reply { text: Some(text), provider: Some(provider), model: Some(model), .. } => {
                Ok(LlmReply { text, provider, model })
            }
            _ => Err(not_completion(&"it has neither an error nor text, provider and model")),
        }
    }

    /// Reads a reply body as the guest's LLM answer ([`Reply::into_answer`]); a body that
    /// is not a reply is `bad-output`.
    pub fn answer_from_json(body: &[u8]) -> Result<LlmReply, LlmError> {
        serde_json::from_slice::<Reply>(body).map_err(|e| not_completion(&e))?.into_answer()
    }
}

/// `&dyn`, not generic: one copy in the browser's wasm.
fn not_completion(why: &dyn std::fmt::Display) -> LlmError {
    LlmError::BadOutput(format!("the LLM proxy's answer is not a completion: {why}"))
}

impl LlmError {
    /// Its name on the wire: the WIT `llm-error` case (`rate-limited`, `no-provider`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            LlmError::RateLimited(_) => "rate-limited",
            LlmError::Unavailable(_) => "unavailable",
            LlmError::ContextTooLong(_) => "context-too-long",
            LlmError::InvalidRequest(_) => "invalid-request",
            LlmError::BadOutput(_) => "bad-output",
            LlmError::NoProvider => "no-provider",
        }
    }

    /// What happened, for people (empty for `no-provider`, which says it all).
    pub fn message(&self) -> &str {
        match self {
            LlmError::RateLimited(m)
            | LlmError::Unavailable(m)
            | LlmError::ContextTooLong(m)
            | LlmError::InvalidRequest(m)
            | LlmError::BadOutput(m) => m,
            LlmError::NoProvider => "",
        }
    }

    /// The error a [`LlmError::kind`] names, with `message` (which `no-provider` has none
    /// of). Another kind (one a newer server added, or the server's own such as
    /// `unauthorized`) is `unavailable`, naming it.
    pub fn from_kind(kind: &str, message: String) -> LlmError {
        match kind {
            "rate-limited" => LlmError::RateLimited(message),
            "unavailable" => LlmError::Unavailable(message),
            "context-too-long" => LlmError::ContextTooLong(message),
            "invalid-request" => LlmError::InvalidRequest(message),
            "bad-output" => LlmError::BadOutput(message),
            "no-provider" => LlmError::NoProvider,
            _ => LlmError::Unavailable(format!("{kind}: {message}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::llm::LlmRole;

    #[test]
    fn every_error_kind_reads_back_as_itself() {
        let all = [
            LlmError::RateLimited("m".into()),
            LlmError::Unavailable("m".into()),
            LlmError::ContextTooLong("m".into()),
            LlmError::InvalidRequest("m".into()),
            LlmError::BadOutput("m".into()),
            LlmError::NoProvider,
        ];
        for e in all {
            assert_eq!(LlmError::from_kind(e.kind(), e.message().to_owned()), e);
        }
        assert_eq!(
            LlmError::from_kind("unauthorized", "m".into()),
            LlmError::Unavailable("unauthorized: m".into())
        );
    }

    #[test]
    fn a_reply_reads_as_the_guests_answer() {
        let completion = Reply {
            text: Some("t".into()),
            provider: Some("p".into()),
            model: Some("m".into()),
            attempts: Some(2),
            fallback_depth: Some(1),
            ..Reply::default()
        };
        let body = serde_json::to_vec(&completion).expect("json");
        let answer = LlmReply { text: "t".into(), provider: "p".into(), model: "m".into() };
        assert_eq!(Reply::answer_from_json(&body), Ok(answer));
        let error = |kind: &str| json!({"error": {"kind": kind, "message": "why"}}).to_string();
        assert_eq!(
            Reply::answer_from_json(error("rate-limited").as_bytes()),
            Err(LlmError::RateLimited("why".into()))
        );
        assert_eq!(Reply::answer_from_json(error("no-provider").as_bytes()), Err(LlmError::NoProvider));
        assert_eq!(
            Reply::answer_from_json(error("unauthorized").as_bytes()),
            Err(LlmError::Unavailable("unauthorized: why".into()))
        );
        for body in [&b"{}"[..], b"[1]", b"{\"text\": \"t\"}"] {
            assert!(matches!(Reply::answer_from_json(body), Err(LlmError::BadOutput(_))), "{body:?}");
        }
    }

    #[test]
    fn max_tokens_is_a_whole_number_in_range() {
        let read =
            |v: Value| serde_json::from_value::<CompletionRequest>(json!({"messages": [], "max_tokens": v}));
        assert_eq!(read(json!(512)).map(|r| r.max_tokens).ok(), Some(Some(512)));
        assert_eq!(read(json!(512.0)).map(|r| r.max_tokens).ok(), Some(Some(512)));
        assert_eq!(read(Value::Null).map(|r| r.max_tokens).ok(), Some(None));
        for bad in [json!(1.5), json!(-1), json!(4_294_967_296_u64)] {
            let e = read(bad.clone()).expect_err("refused");
            assert!(
                e.to_string().contains("max_tokens must be a whole number from 0 to 4294967295"),
                "{bad}: {e}"
            );
        }
        let request = serde_json::from_value::<CompletionRequest>(json!({
            "messages": [{"role": "user", "content": "hi"}], "session_id": "s", "stream": true
        }))
        .expect("request");
        assert_eq!(request.messages[0].role, LlmRole::User);
        assert_eq!((request.session_id.as_deref(), request.stream), (Some("s"), true));
    }
}
