//! What a turn answers: a stream of [`ChatChunk`]s (SPEC §2.4).

use serde::{Deserialize, Serialize};

use super::agent::AgentSpec;
use super::phase::Phase;
use super::requirements::RequirementView;

/// What a button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Connect an account (value: provider id); the chunk carries `oauth_url`.
    Connect,
    /// Retry a connection that was denied or expired (value: provider id).
    Retry,
    /// Go on without an integration (value: provider id).
    DropIntegration,
    /// Yes to the pending question (build it / activate it / start over).
    Confirm,
    /// No to the pending question.
    Cancel,
    /// Accept the dry run.
    Accept,
    /// Ask for a change.
    Change,
    /// Go back one phase.
    GoBack,
    /// Start over.
    StartOver,
    /// Export the agent spec.
    Export,
    /// One of several concrete answers to the question asked (value: the message to send),
    /// offered when a question would otherwise be asked a third time.
    Choose,
}

/// A button offered with a response. `value` is what to send: the text of a message, or
/// for `connect` the provider id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// What it does.
    pub kind: ActionKind,
    /// Button text.
    pub label: String,
    /// What to send.
    pub value: String,
}

impl Action {
    /// An action.
    pub fn new(kind: ActionKind, label: impl Into<String>, value: impl Into<String>) -> Self {
        Self { kind, label: label.into(), value: value.into() }
    }
}

/// The draft agent, when it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftView {
    /// Draft id.
    pub id: String,
    /// Revision (1 for the first draft).
    pub revision: u32,
    /// The spec.
    pub spec: AgentSpec,
}

/// One piece of a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// The session.
    pub session_id: String,
    /// The phase after this chunk.
    pub phase: Phase,
    /// Text to append.
    pub text: String,
    /// Buttons offered.
    #[serde(default)]
    pub actions: Vec<Action>,
    /// Where to connect an account.
    #[serde(default)]
    pub oauth_url: Option<String>,
    /// The requirements, when they changed.
    #[serde(default)]
    pub requirements: Option<Vec<RequirementView>>,
    /// The draft, when it changed.
    #[serde(default)]
    pub draft: Option<DraftView>,
    /// The last chunk of the response.
    pub done: bool,
}
