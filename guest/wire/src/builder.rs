//! The builder's vocabulary: what the `builder` export takes and returns, and the chunks a
//! turn emits. The draft's spec is a type parameter: the core holds the typed agent spec,
//! a host holds the JSON document the guest made ([`SpecJson`], the default).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::store::StoreError;

/// Where a builder conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Phase {
    /// The session exists; nothing said yet.
    Idle,
    /// Understanding the goal: integrations, trigger, actions, outputs.
    Discovery,
    /// Waiting for the person to connect an account.
    OauthFlow,
    /// Asking for what is still missing.
    Requirements,
    /// Drafting the agent (within one turn).
    Generation,
    /// Showing a dry run of the draft.
    Testing,
    /// Asking to confirm switching the agent on.
    Activation,
    /// The agent is active.
    Complete,
}

impl Phase {
    /// Every phase, in the order of the happy path.
    pub const ALL: [Phase; 8] = [
        Phase::Idle,
        Phase::Discovery,
        Phase::OauthFlow,
        Phase::Requirements,
        Phase::Generation,
        Phase::Testing,
        Phase::Activation,
        Phase::Complete,
    ];

    /// The wire name, e.g. `OAUTH_FLOW`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Idle => "IDLE",
            Phase::Discovery => "DISCOVERY",
            Phase::OauthFlow => "OAUTH_FLOW",
            Phase::Requirements => "REQUIREMENTS",
            Phase::Generation => "GENERATION",
            Phase::Testing => "TESTING",
            Phase::Activation => "ACTIVATION",
            Phase::Complete => "COMPLETE",
        }
    }

    /// A person-facing title.
    pub fn title(self) -> &'static str {
        match self {
            Phase::Idle => "Getting started",
            Phase::Discovery => "Understanding your goal",
            Phase::OauthFlow => "Connecting accounts",
            Phase::Requirements => "Filling in the details",
            Phase::Generation => "Drafting the agent",
            Phase::Testing => "Testing the draft",
            Phase::Activation => "Activating",
            Phase::Complete => "Active",
        }
    }

    /// Parses a wire name.
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }
}

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
pub struct DraftView<S = SpecJson> {
    /// Draft id.
    pub id: String,
    /// Revision (1 for the first draft).
    pub revision: u32,
    /// The spec.
    pub spec: S,
}

/// One piece of a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk<S = SpecJson> {
    /// The session.
    pub session_id: String,
    /// The phase after this chunk.
    pub phase: Phase,
    /// Text to append.
    pub text: String,
    /// Buttons offered.
    #[serde(default)]
    pub actions: Vec<Action>,
    /// Where to connect an account: the link a face built from [`ChatChunk::connect`] (the
    /// server's consent URL or `/oauth/start`); the guest leaves it empty.
    #[serde(default)]
    pub oauth_url: Option<String>,
    /// The connection the session waits for, when this chunk offers it: each face builds
    /// its own link or dialog from it (WIT `connect-request`, since 0.3.0).
    #[serde(default)]
    pub connect: Option<ConnectRequest>,
    /// The requirements, when they changed.
    #[serde(default)]
    pub requirements: Option<Vec<RequirementView>>,
    /// The draft, when it changed.
    #[serde(default)]
    pub draft: Option<DraftView<S>>,
    /// The last chunk of the response.
    pub done: bool,
}

/// One requirement as shown to people: field, value, and the turn that set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementView {
    /// Field name, e.g. `time`.
    pub field: String,
    /// The value, for display.
    pub value: String,
    /// The turn that set it.
    pub turn: u32,
}

/// Who is asking: every session access is checked against both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Tenant.
    pub tenant_id: String,
    /// User within the tenant.
    pub user_id: String,
}

/// Per-turn settings the host decides (flags may differ per session by rollout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnOptions {
    /// `LOVABLE_CONVERSATION_STATE`: carry context between turns.
    pub context_on: bool,
    /// Whether a model is configured: false skips the `llm` import (offline).
    pub llm: bool,
    /// Inactivity after which a session expires.
    pub idle_timeout_ms: u64,
    /// How long an OAuth state is accepted.
    pub oauth_ttl_ms: u64,
}

impl Default for TurnOptions {
    fn default() -> Self {
        Self { context_on: true, llm: true, idle_timeout_ms: 30 * 60 * 1000, oauth_ttl_ms: 10 * 60 * 1000 }
    }
}

/// Why a builder call failed. Stored data is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BuilderError {
    /// No such session for this caller (also: another tenant's or user's session).
    #[error("no session with id {0:?}; start one, or list yours with `kiln sessions list`")]
    NotFound(String),
    /// The session was idle too long; its data is archived.
    #[error(
        "session {0:?} expired after inactivity; it was archived, not deleted. Start a new session to continue"
    )]
    Expired(String),
    /// The request is wrong.
    #[error("{0}")]
    InvalidInput(String),
    /// An OAuth callback that does not fit the session.
    #[error("OAuth callback refused: {0}")]
    OauthRefused(String),
    /// The session has no draft yet.
    #[error("session {0:?} has no draft agent yet; finish the requirements first")]
    NoDraft(String),
    /// Stored data is unreadable.
    #[error("{key} is corrupt: {detail}. Kiln left it untouched: fix it or move it aside, then retry")]
    Corrupt {
        /// The key.
        key: String,
        /// What is wrong.
        detail: String,
    },
    /// Other turns kept winning the compare-and-swap.
    #[error("gave up after {0} attempts because the session kept changing; retry")]
    Contention(u32),
    /// An internal rule was broken (reported instead of panicking).
    #[error("internal error: {0}")]
    Internal(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BuilderError {
    /// A stable name for scripts and APIs (`not-found`, `expired`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            BuilderError::NotFound(_) => "not-found",
            BuilderError::Expired(_) => "expired",
            BuilderError::InvalidInput(_) => "invalid-input",
            BuilderError::OauthRefused(_) => "oauth-refused",
            BuilderError::NoDraft(_) => "no-draft",
            BuilderError::Corrupt { .. } => "corrupt",
            BuilderError::Contention(_) => "contention",
            BuilderError::Internal(_) => "internal",
            BuilderError::Store(_) => "store",
        }
    }
}

/// A session in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    /// Id.
    pub session_id: String,
    /// Phase.
    pub phase: Phase,
    /// The goal, if stated.
    pub goal: Option<String>,
    /// Last activity, ms since the epoch.
    pub last_active_at_ms: u64,
}

/// What arrives in a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnInput {
    /// The person typed something.
    Message(String),
    /// The OAuth provider answered (via the host).
    Oauth {
        /// The state the callback carried.
        state: String,
        /// Whether access was granted.
        approved: bool,
    },
    /// The "back" button.
    Back,
    /// "Start over", already confirmed.
    Reset,
}

/// An agent spec as the JSON document the guest made (`kiln.agent/v1`): what a host holds,
/// shows and stores, never re-parsed into a native type (the guest validated it where it
/// made it). It serializes as the document itself, not as a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecJson(pub String);

impl Serialize for SpecJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Borrowed, not re-parsed into values: only checked to be one JSON document, so a
        // broken guest shows up as a serialization error naming it rather than bad output.
        let raw: &serde_json::value::RawValue = serde_json::from_str(&self.0)
            .map_err(|e| serde::ser::Error::custom(format!("the guest's agent spec is not JSON: {e}")))?;
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SpecJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        Ok(SpecJson(raw.get().to_owned()))
    }
}

/// A pending OAuth connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingOauthView {
    /// Provider id.
    pub provider: String,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// The single-use state.
    pub state: String,
    /// Started, ms since the epoch.
    pub started_at_ms: u64,
    /// Expires, ms since the epoch.
    pub expires_at_ms: u64,
}

/// One phase change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransitionView {
    /// From.
    pub from: Phase,
    /// To.
    pub to: Phase,
    /// Why.
    pub cause: String,
    /// At which turn.
    pub turn: u32,
}

/// A session as hosts and UIs see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    /// Id.
    pub session_id: String,
    /// User.
    pub user_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Phase.
    pub phase: Phase,
    /// Requirements with the turn that set each.
    pub requirements: Vec<RequirementView>,
    /// Connected provider ids.
    pub connected: Vec<String>,
    /// The connection being waited for.
    pub pending_oauth: Option<PendingOauthView>,
    /// The draft's id.
    pub draft_agent_id: Option<String>,
    /// Change iterations after the first draft.
    pub iteration: u32,
    /// Turns so far.
    pub turn: u32,
    /// Created, ms since the epoch.
    pub created_at_ms: u64,
    /// Last input, ms since the epoch.
    pub last_active_at_ms: u64,
    /// Bumped on every saved change.
    pub version: u64,
    /// Recent phase changes.
    pub history: Vec<TransitionView>,
}

/// One integration of the guest's catalog (WIT `builder.provider`, since 0.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provider {
    /// The id the builder uses (`gmail`, `slack`, ...).
    pub id: String,
    /// The name shown to people.
    pub name: String,
    /// Whether connecting it takes an OAuth consent.
    pub needs_oauth: bool,
    /// The OAuth scopes a connection asks for.
    pub scopes: Vec<String>,
}

/// What a chunk asks to connect: the guest says which provider, with which single-use
/// state and scopes; the face builds the link (WIT `builder-types.connect-request`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectRequest {
    /// The integration (`gmail`, ...).
    pub provider: String,
    /// The single-use OAuth state the callback must carry.
    pub state: String,
    /// The scopes to ask for.
    pub scopes: Vec<String>,
}
