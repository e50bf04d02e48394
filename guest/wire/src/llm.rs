//! The `llm` import's vocabulary: what the builder asks a language model, and the answers.

use serde::{Deserialize, Serialize};

/// Why the builder calls the LLM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Extract requirements from a message.
    Extract,
    /// Draft an agent spec.
    Draft,
}

/// Who a prompt message is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmRole {
    /// Instructions.
    System,
    /// The person (or the builder speaking for them).
    User,
    /// The model.
    Assistant,
}

/// One prompt message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmMessage {
    /// Who.
    pub role: LlmRole,
    /// What.
    pub content: String,
}

/// A completion request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmRequest {
    /// Why.
    pub purpose: Purpose,
    /// The prompt.
    pub messages: Vec<LlmMessage>,
    /// JSON Schema the answer must match.
    pub json_schema: Option<String>,
}

/// A completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmReply {
    /// The text.
    pub text: String,
    /// Which provider served it.
    pub provider: String,
    /// Which model.
    pub model: String,
}

/// Why a completion failed (after the host's retries and fallbacks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LlmError {
    /// Rate limited everywhere.
    RateLimited(String),
    /// Providers unreachable or failing.
    Unavailable(String),
    /// The prompt is too long for every model.
    ContextTooLong(String),
    /// The request was refused as invalid.
    InvalidRequest(String),
    /// The output could not be used.
    BadOutput(String),
    /// No provider is configured (offline).
    NoProvider,
}
