//! Conversions between the generated WIT types and kiln-core's types: the whole of the
//! binding layer's logic.

use kiln_core::{Conversation, Precondition, QueueError, StoreError};

use crate::bindings::exports::kiln::engine::queue as wit;
use crate::bindings::kiln::engine::store;

pub fn precondition(p: store::Precondition) -> Precondition {
    match p {
        store::Precondition::Any => Precondition::Any,
        store::Precondition::Absent => Precondition::Absent,
        store::Precondition::Matches(v) => Precondition::Matches(v),
    }
}

pub fn store_error(e: StoreError) -> store::StoreError {
    match e {
        StoreError::Conflict => store::StoreError::Conflict,
        StoreError::InvalidKey(why) => store::StoreError::InvalidKey(why),
        StoreError::Backend(why) => store::StoreError::Backend(why),
    }
}

fn store_error_from_wit(e: store::StoreError) -> StoreError {
    match e {
        store::StoreError::Conflict => StoreError::Conflict,
        store::StoreError::InvalidKey(why) => StoreError::InvalidKey(why),
        store::StoreError::Backend(why) => StoreError::Backend(why),
    }
}

pub fn conversation(c: wit::Conversation) -> Conversation {
    Conversation {
        conversation_id: c.conversation_id,
        prompt: c.prompt,
        created_at: c.created_at,
        workflow_id: c.workflow_id,
        metadata: c.metadata.into_iter().collect(),
    }
}

pub fn queue_error(e: wit::QueueError) -> QueueError {
    match e {
        wit::QueueError::InvalidInput(why) => QueueError::InvalidInput(why),
        wit::QueueError::NotFound(id) => QueueError::NotFound(id),
        wit::QueueError::Corrupt(r) => QueueError::Corrupt { key: r.key, detail: r.detail },
        wit::QueueError::Contention(n) => QueueError::Contention(n),
        wit::QueueError::Store(e) => QueueError::Store(store_error_from_wit(e)),
    }
}

// --- builder ---------------------------------------------------------------------------

use kiln_core::builder::chat::{Action, ActionKind, ChatChunk, DraftView};
use kiln_core::builder::llm::{LlmError, LlmMessage, LlmReply, LlmRequest, LlmRole, Purpose};
use kiln_core::builder::phase::Phase;
use kiln_core::builder::requirements::RequirementView;
use kiln_core::builder::{BuilderError, SessionSummary};

use crate::bindings::exports::kiln::engine::builder as wb;
use crate::bindings::kiln::engine::builder_types as bt;
use crate::bindings::kiln::engine::llm as wl;
use crate::builder::{PendingOauthView, SessionView, TransitionView};

pub fn llm_request(r: wl::Request) -> (String, LlmRequest) {
    let request = LlmRequest {
        purpose: match r.purpose {
            wl::Purpose::Extract => Purpose::Extract,
            wl::Purpose::Draft => Purpose::Draft,
        },
        messages: r
            .messages
            .into_iter()
            .map(|m| LlmMessage {
                role: match m.role {
                    wl::Role::System => LlmRole::System,
                    wl::Role::User => LlmRole::User,
                    wl::Role::Assistant => LlmRole::Assistant,
                },
                content: m.content,
            })
            .collect(),
        json_schema: r.json_schema,
    };
    (r.session_id, request)
}

pub fn llm_completion(r: LlmReply) -> wl::Completion {
    wl::Completion { text: r.text, provider: r.provider, model: r.model }
}

pub fn llm_error(e: LlmError) -> wl::LlmError {
    match e {
        LlmError::RateLimited(m) => wl::LlmError::RateLimited(m),
        LlmError::Unavailable(m) => wl::LlmError::Unavailable(m),
        LlmError::ContextTooLong(m) => wl::LlmError::ContextTooLong(m),
        LlmError::InvalidRequest(m) => wl::LlmError::InvalidRequest(m),
        LlmError::BadOutput(m) => wl::LlmError::BadOutput(m),
        LlmError::NoProvider => wl::LlmError::NoProvider,
    }
}

pub fn phase(p: bt::Phase) -> Phase {
    match p {
        bt::Phase::Idle => Phase::Idle,
        bt::Phase::Discovery => Phase::Discovery,
        bt::Phase::OauthFlow => Phase::OauthFlow,
        bt::Phase::Requirements => Phase::Requirements,
        bt::Phase::Generation => Phase::Generation,
        bt::Phase::Testing => Phase::Testing,
        bt::Phase::Activation => Phase::Activation,
        bt::Phase::Complete => Phase::Complete,
    }
}

fn action_kind(k: bt::ActionKind) -> ActionKind {
    match k {
        bt::ActionKind::Connect => ActionKind::Connect,
        bt::ActionKind::Retry => ActionKind::Retry,
        bt::ActionKind::DropIntegration => ActionKind::DropIntegration,
        bt::ActionKind::Confirm => ActionKind::Confirm,
        bt::ActionKind::Cancel => ActionKind::Cancel,
        bt::ActionKind::Accept => ActionKind::Accept,
        bt::ActionKind::Change => ActionKind::Change,
        bt::ActionKind::GoBack => ActionKind::GoBack,
        bt::ActionKind::StartOver => ActionKind::StartOver,
        bt::ActionKind::Export => ActionKind::Export,
        bt::ActionKind::Choose => ActionKind::Choose,
    }
}

fn requirement(r: bt::Requirement) -> RequirementView {
    RequirementView { field: r.field, value: r.value, turn: r.turn }
}

pub fn chat_chunk(c: bt::ChatChunk) -> ChatChunk {
    ChatChunk {
        session_id: c.session_id,
        phase: phase(c.phase),
        text: c.text,
        actions: c
            .actions
            .into_iter()
            .map(|a| Action { kind: action_kind(a.kind), label: a.label, value: a.value })
            .collect(),
        oauth_url: c.oauth_url,
        requirements: c.requirements.map(|rs| rs.into_iter().map(requirement).collect()),
        // The guest wrote this JSON from a validated spec; a draft that does not parse back
        // would be a guest bug, and is dropped from the chunk rather than shown broken.
        draft: c.draft.and_then(|d| {
            serde_json::from_str(&d.spec_json).ok().map(|spec| DraftView {
                id: d.id,
                revision: d.revision,
                spec,
            })
        }),
        done: c.done,
    }
}

pub fn session_view(s: wb::SessionView) -> SessionView {
    SessionView {
        session_id: s.session_id,
        user_id: s.user_id,
        tenant_id: s.tenant_id,
        phase: phase(s.phase),
        requirements: s.requirements.into_iter().map(requirement).collect(),
        connected: s.connected,
        pending_oauth: s.pending_oauth.map(|p| PendingOauthView {
            provider: p.provider,
            scopes: p.scopes,
            state: p.state,
            started_at_ms: p.started_at_ms,
            expires_at_ms: p.expires_at_ms,
        }),
        draft_agent_id: s.draft_agent_id,
        iteration: s.iteration,
        turn: s.turn,
        created_at_ms: s.created_at_ms,
        last_active_at_ms: s.last_active_at_ms,
        version: s.version,
        history: s
            .history
            .into_iter()
            .map(|t| TransitionView { from: phase(t.from), to: phase(t.to), cause: t.cause, turn: t.turn })
            .collect(),
    }
}

pub fn session_summary(s: wb::SessionSummary) -> SessionSummary {
    SessionSummary {
        session_id: s.session_id,
        phase: phase(s.phase),
        goal: s.goal,
        last_active_at_ms: s.last_active_at_ms,
    }
}

pub fn builder_error(e: wb::BuilderError) -> BuilderError {
    match e {
        wb::BuilderError::NotFound(id) => BuilderError::NotFound(id),
        wb::BuilderError::Expired(id) => BuilderError::Expired(id),
        wb::BuilderError::InvalidInput(m) => BuilderError::InvalidInput(m),
        wb::BuilderError::OauthRefused(m) => BuilderError::OauthRefused(m),
        wb::BuilderError::NoDraft(id) => BuilderError::NoDraft(id),
        wb::BuilderError::Corrupt(c) => BuilderError::Corrupt { key: c.key, detail: c.detail },
        wb::BuilderError::Contention(n) => BuilderError::Contention(n),
        wb::BuilderError::Internal(m) => BuilderError::Internal(m),
        wb::BuilderError::Store(e) => BuilderError::Store(store_error_from_wit(e)),
    }
}
