//! Conversions between kiln-core types and the generated WIT types.

use kiln_core::{Precondition, QueueError, StoreError};

use crate::bindings::exports::kiln::engine::builder as wb;
use crate::bindings::exports::kiln::engine::queue as wit;
use crate::bindings::kiln::engine::builder_types as bt;
use crate::bindings::kiln::engine::llm as wl;
use crate::bindings::kiln::engine::store as wit_store;
use kiln_core::builder::BuilderError;
use kiln_core::builder::agent::AgentSpec;
use kiln_core::builder::chat::{ActionKind, ChatChunk};
use kiln_core::builder::engine::Input;
use kiln_core::builder::llm::{LlmError, LlmReply, LlmRequest, LlmRole, Purpose};
use kiln_core::builder::phase::Phase;
use kiln_core::builder::session::Session;
use kiln_core::builder::view;
use kiln_core::builder::{SessionSummary, requirements::RequirementView};

pub fn precondition(p: Precondition) -> wit_store::Precondition {
    match p {
        Precondition::Any => wit_store::Precondition::Any,
        Precondition::Absent => wit_store::Precondition::Absent,
        Precondition::Matches(v) => wit_store::Precondition::Matches(v),
    }
}

pub fn store_error_from_wit(e: wit_store::StoreError) -> StoreError {
    match e {
        wit_store::StoreError::Conflict => StoreError::Conflict,
        wit_store::StoreError::InvalidKey(why) => StoreError::InvalidKey(why),
        wit_store::StoreError::Backend(why) => StoreError::Backend(why),
    }
}

pub fn store_error_to_wit(e: StoreError) -> wit_store::StoreError {
    match e {
        StoreError::Conflict => wit_store::StoreError::Conflict,
        StoreError::InvalidKey(why) => wit_store::StoreError::InvalidKey(why),
        StoreError::Backend(why) => wit_store::StoreError::Backend(why),
    }
}

pub fn skipped_entry(e: kiln_core::ports::SkippedEntry) -> wit_store::SkippedEntry {
    wit_store::SkippedEntry { key: e.key, id: e.id, detail: e.detail }
}

pub fn queue_error(e: QueueError) -> wit::QueueError {
    match e {
        QueueError::InvalidInput(why) => wit::QueueError::InvalidInput(why),
        QueueError::NotFound(id) => wit::QueueError::NotFound(id),
        QueueError::Corrupt { key, detail } => wit::QueueError::Corrupt(wit::CorruptRecord { key, detail }),
        QueueError::Contention(n) => wit::QueueError::Contention(n),
        QueueError::Store(e) => wit::QueueError::Store(store_error_to_wit(e)),
    }
}

pub fn conversation(c: kiln_core::Conversation) -> wit::Conversation {
    wit::Conversation {
        conversation_id: c.conversation_id,
        prompt: c.prompt,
        created_at: c.created_at,
        workflow_id: c.workflow_id,
        metadata: c.metadata.into_iter().collect(),
    }
}

pub fn new_conversation(r: wit::NewConversation) -> kiln_core::NewConversation {
    kiln_core::NewConversation {
        prompt: r.prompt,
        workflow_id: r.workflow_id,
        metadata: r.metadata.into_iter().collect(),
    }
}

pub fn started(s: kiln_core::Started) -> wit::Started {
    wit::Started { conversation: conversation(s.conversation), was_queued: s.was_queued }
}

// --- builder ---------------------------------------------------------------------------
pub fn phase(p: Phase) -> bt::Phase {
    match p {
        Phase::Idle => bt::Phase::Idle,
        Phase::Discovery => bt::Phase::Discovery,
        Phase::OauthFlow => bt::Phase::OauthFlow,
        Phase::Requirements => bt::Phase::Requirements,
        Phase::Generation => bt::Phase::Generation,
        Phase::Testing => bt::Phase::Testing,
        Phase::Activation => bt::Phase::Activation,
        Phase::Complete => bt::Phase::Complete,
    }
}

fn action_kind(k: ActionKind) -> bt::ActionKind {
    match k {
        ActionKind::Connect => bt::ActionKind::Connect,
        ActionKind::Retry => bt::ActionKind::Retry,
        ActionKind::DropIntegration => bt::ActionKind::DropIntegration,
        ActionKind::Confirm => bt::ActionKind::Confirm,
        ActionKind::Cancel => bt::ActionKind::Cancel,
        ActionKind::Accept => bt::ActionKind::Accept,
        ActionKind::Change => bt::ActionKind::Change,
        ActionKind::GoBack => bt::ActionKind::GoBack,
        ActionKind::StartOver => bt::ActionKind::StartOver,
        ActionKind::Export => bt::ActionKind::Export,
        ActionKind::Choose => bt::ActionKind::Choose,
    }
}

fn requirement(r: RequirementView) -> bt::Requirement {
    bt::Requirement { field: r.field, value: r.value, turn: r.turn }
}

/// The exported document, indented for people (`kiln agent export` prints it as is).
pub fn spec_json(spec: &AgentSpec) -> String {
    spec.to_json()
}

/// A chunk's draft: one line, so hosts can put it in JSON lines and events verbatim.
fn compact_spec_json(spec: &AgentSpec) -> String {
    // Plain structs with string keys always serialize.
    serde_json::to_string(spec).unwrap_or_default()
}

pub fn chat_chunk(c: ChatChunk) -> bt::ChatChunk {
    bt::ChatChunk {
        session_id: c.session_id,
        phase: phase(c.phase),
        text: c.text,
        actions: c
            .actions
            .into_iter()
            .map(|a| bt::Action { kind: action_kind(a.kind), label: a.label, value: a.value })
            .collect(),
        connect: c.connect.map(|r| bt::ConnectRequest {
            provider: r.provider,
            state: r.state,
            scopes: r.scopes,
        }),
        requirements: c.requirements.map(|rs| rs.into_iter().map(requirement).collect()),
        draft: c.draft.map(|d| bt::Draft {
            id: d.id,
            revision: d.revision,
            spec_json: compact_spec_json(&d.spec),
        }),
        done: c.done,
    }
}

pub fn turn_input(i: wb::TurnInput) -> Input {
    match i {
        wb::TurnInput::Message(text) => Input::Message(text),
        wb::TurnInput::Oauth(a) => Input::Oauth { state: a.state, approved: a.approved },
        wb::TurnInput::Back => Input::Back,
        wb::TurnInput::Reset => Input::Reset,
    }
}

pub fn session_view(s: &Session) -> wb::SessionView {
    let v = view::session_view(s);
    wb::SessionView {
        session_id: v.session_id,
        user_id: v.user_id,
        tenant_id: v.tenant_id,
        phase: phase(v.phase),
        requirements: v.requirements.into_iter().map(requirement).collect(),
        connected: v.connected,
        pending_oauth: v.pending_oauth.map(|p| wb::PendingOauth {
            provider: p.provider,
            scopes: p.scopes,
            state: p.state,
            started_at_ms: p.started_at_ms,
            expires_at_ms: p.expires_at_ms,
        }),
        draft_agent_id: v.draft_agent_id,
        iteration: v.iteration,
        turn: v.turn,
        created_at_ms: v.created_at_ms,
        last_active_at_ms: v.last_active_at_ms,
        version: v.version,
        history: v
            .history
            .into_iter()
            .map(|t| wb::Transition { from: phase(t.from), to: phase(t.to), cause: t.cause, turn: t.turn })
            .collect(),
    }
}

pub fn session_summary(s: SessionSummary) -> wb::SessionSummary {
    wb::SessionSummary {
        session_id: s.session_id,
        phase: phase(s.phase),
        goal: s.goal,
        last_active_at_ms: s.last_active_at_ms,
    }
}

pub fn builder_error(e: BuilderError) -> wb::BuilderError {
    match e {
        BuilderError::NotFound(id) => wb::BuilderError::NotFound(id),
        BuilderError::Expired(id) => wb::BuilderError::Expired(id),
        BuilderError::InvalidInput(m) => wb::BuilderError::InvalidInput(m),
        BuilderError::OauthRefused(m) => wb::BuilderError::OauthRefused(m),
        BuilderError::NoDraft(id) => wb::BuilderError::NoDraft(id),
        BuilderError::Corrupt { key, detail } => wb::BuilderError::Corrupt(wb::CorruptData { key, detail }),
        BuilderError::Contention(n) => wb::BuilderError::Contention(n),
        BuilderError::Internal(m) => wb::BuilderError::Internal(m),
        BuilderError::Store(e) => wb::BuilderError::Store(store_error_to_wit(e)),
    }
}

pub fn llm_request(r: &LlmRequest, session_id: &str) -> wl::Request {
    wl::Request {
        purpose: match r.purpose {
            Purpose::Extract => wl::Purpose::Extract,
            Purpose::Draft => wl::Purpose::Draft,
        },
        session_id: session_id.to_owned(),
        messages: r
            .messages
            .iter()
            .map(|m| wl::Message {
                role: match m.role {
                    LlmRole::System => wl::Role::System,
                    LlmRole::User => wl::Role::User,
                    LlmRole::Assistant => wl::Role::Assistant,
                },
                content: m.content.clone(),
            })
            .collect(),
        json_schema: r.json_schema.clone(),
    }
}

pub fn llm_reply(c: wl::Completion) -> LlmReply {
    LlmReply { text: c.text, provider: c.provider, model: c.model }
}

pub fn llm_error(e: wl::LlmError) -> LlmError {
    match e {
        wl::LlmError::RateLimited(m) => LlmError::RateLimited(m),
        wl::LlmError::Unavailable(m) => LlmError::Unavailable(m),
        wl::LlmError::ContextTooLong(m) => LlmError::ContextTooLong(m),
        wl::LlmError::InvalidRequest(m) => LlmError::InvalidRequest(m),
        wl::LlmError::BadOutput(m) => LlmError::BadOutput(m),
        wl::LlmError::NoProvider => LlmError::NoProvider,
    }
}
