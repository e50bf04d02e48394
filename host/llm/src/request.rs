//! What a caller sends and gets back.

use serde::{Deserialize, Serialize};

use crate::ErrorClass;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// `system`, `user` or `assistant`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl ChatMessage {
    /// A message.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self { role, content: content.into() }
    }
}

/// One call through the layer. (Not read from JSON here: the LLM proxy's body is
/// `kiln_wire::proxy::CompletionRequest`, which the server converts to this.)
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompletionRequest {
    /// The conversation so far; system messages anywhere.
    pub messages: Vec<ChatMessage>,
    /// When set, the reply must be a JSON document matching this schema: providers are
    /// asked for JSON, and a reply that does not match gets one repair attempt.
    pub json_schema: Option<serde_json::Value>,
    /// The most tokens to generate (else the provider's `max_tokens`).
    pub max_tokens: Option<u32>,
    /// Picks the session's rollout slice for every flag.
    pub session_id: Option<String>,
    /// Stream: tokens go to the sink as they arrive. Without it the sink hears nothing.
    pub stream: bool,
}

impl CompletionRequest {
    /// A single user message.
    pub fn prompt(text: impl Into<String>) -> Self {
        Self { messages: vec![ChatMessage::new(Role::User, text)], ..Self::default() }
    }
}

/// What the layer tells a streaming caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// The next piece of the reply.
    Token(&'a str),
    /// The attempt that produced the tokens so far failed: drop all text received since
    /// the start of the call (or the last `Discard`). Another attempt follows, on the same
    /// or the next provider; its tokens come next.
    Discard {
        /// The provider whose partial text to drop.
        provider: &'a str,
        /// Why, for logs.
        reason: &'a str,
    },
}

/// Receives streamed tokens. Any `FnMut(StreamEvent)` closure is one.
pub trait TokenSink: Send {
    /// Called for each event, in order.
    fn on_event(&mut self, event: StreamEvent<'_>);
}

impl<F: FnMut(StreamEvent<'_>) + Send> TokenSink for F {
    fn on_event(&mut self, event: StreamEvent<'_>) {
        self(event);
    }
}

/// A sink that ignores everything (for calls that do not stream).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSink;

impl TokenSink for NoSink {
    fn on_event(&mut self, _: StreamEvent<'_>) {}
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Next {
    /// It answered (or, for `offline`, handed over).
    Done,
    /// Asked the same provider again after `delay_ms`.
    Retry,
    /// Asked the same provider again with the bad output and a request to fix it.
    Repair,
    /// Moved on to the next provider of the chain.
    Fallback,
    /// Every provider had failed for now: the chain started again from its first provider
    /// after `delay_ms`.
    Round,
    /// Nothing was left to try.
    GiveUp,
}

/// One attempt, successful or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// The provider's name in `models.yaml`.
    pub provider: String,
    /// Its model (empty for `offline`).
    pub model: String,
    /// Its position in the fallback chain, 0 for the primary.
    pub depth: u32,
    /// The failure's class; `None` when it answered.
    pub class: Option<ErrorClass>,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// How long the layer waited after this attempt before the next one.
    pub delay_ms: u64,
    /// The wait the server asked for, if it did.
    pub hint_ms: Option<u64>,
    /// How long the attempt took.
    pub duration_ms: u64,
    /// What went wrong (never contains an API key).
    pub message: Option<String>,
    /// What the layer did next.
    pub next: Next,
}

/// A successful call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    /// The reply.
    pub text: String,
    /// The reply parsed as JSON, when the request had a schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
    /// The provider that answered (its name in `models.yaml`).
    pub provider: String,
    /// Its model.
    pub model: String,
    /// Every attempt, in order; the last one answered.
    pub attempts: Vec<Attempt>,
    /// The answering provider's position in the fallback chain (0 = primary).
    pub fallback_depth: u32,
}

/// The chain reached the `offline` provider (or no provider is configured): the guest's
/// rule-based path takes over.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfflineReply {
    /// The offline provider's name (`offline` for the embedded default).
    pub provider: String,
    /// The attempts made before reaching it.
    pub attempts: Vec<Attempt>,
    /// Its position in the fallback chain.
    pub fallback_depth: u32,
}

/// The outcome of a call that did not fail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Reply {
    /// A model answered.
    Completion(Completion),
    /// Hand over to the rule-based path.
    Offline(OfflineReply),
}

impl Reply {
    /// The completion, unless offline.
    pub fn completion(&self) -> Option<&Completion> {
        match self {
            Self::Completion(c) => Some(c),
            Self::Offline(_) => None,
        }
    }

    /// The attempts made.
    pub fn attempts(&self) -> &[Attempt] {
        match self {
            Self::Completion(c) => &c.attempts,
            Self::Offline(o) => &o.attempts,
        }
    }

    /// The position in the chain of the provider that closed the call.
    pub fn fallback_depth(&self) -> u32 {
        match self {
            Self::Completion(c) => c.fallback_depth,
            Self::Offline(o) => o.fallback_depth,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_and_sinks() {
        let attempt = Attempt {
            provider: "p".into(),
            model: "m".into(),
            depth: 1,
            class: None,
            status: None,
            delay_ms: 0,
            hint_ms: None,
            duration_ms: 3,
            message: None,
            next: Next::Done,
        };
        let completion = Reply::Completion(Completion {
            text: "t".into(),
            json: None,
            provider: "p".into(),
            model: "m".into(),
            attempts: vec![attempt.clone()],
            fallback_depth: 1,
        });
        assert_eq!(completion.completion().map(|c| c.text.as_str()), Some("t"));
        assert_eq!((completion.attempts().len(), completion.fallback_depth()), (1, 1));
        let offline =
            Reply::Offline(OfflineReply { provider: "o".into(), attempts: vec![attempt], fallback_depth: 2 });
        assert!(offline.completion().is_none());
        assert_eq!((offline.attempts().len(), offline.fallback_depth()), (1, 2));
        let json = serde_json::to_value(&offline).expect("json");
        assert_eq!(json["kind"], "offline");
        assert_eq!(json["attempts"][0]["next"], "done");
        let mut seen = Vec::new();
        let mut sink = |e: StreamEvent<'_>| seen.push(format!("{e:?}"));
        sink.on_event(StreamEvent::Token("a"));
        sink.on_event(StreamEvent::Discard { provider: "p", reason: "r" });
        NoSink.on_event(StreamEvent::Token("ignored"));
        assert_eq!(seen.len(), 2);
        assert_eq!(Role::Assistant.as_str(), "assistant");
        assert_eq!(CompletionRequest::prompt("x").messages, [ChatMessage::new(Role::User, "x")]);
    }
}
