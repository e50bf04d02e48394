//! `From` impls between the generated WIT types and the wire vocabulary (`kiln-wire`) the
//! rest of the host speaks: the whole of the binding layer, no logic.

use kiln_wire::builder::{
    Action, ActionKind, BuilderError, Caller, ChatChunk, ConnectRequest, DraftView, PendingOauthView, Phase,
    Provider, RequirementView, SessionSummary, SessionView, SpecJson, TransitionView, TurnInput, TurnOptions,
};
use kiln_wire::llm::{LlmError, LlmMessage, LlmReply, LlmRequest, LlmRole, Purpose};
use kiln_wire::queue::{Conversation, NewConversation, QueueError, Started};
use kiln_wire::store::{Entry, Precondition, SkippedEntry, StoreError};

use crate::bindings::exports::kiln::engine::builder as wb;
use crate::bindings::exports::kiln::engine::queue as wq;
use crate::bindings::kiln::engine::builder_types as bt;
use crate::bindings::kiln::engine::llm as wl;
use crate::bindings::kiln::engine::store as ws;

// --- store -----------------------------------------------------------------------------

impl From<ws::Precondition> for Precondition {
    fn from(p: ws::Precondition) -> Self {
        match p {
            ws::Precondition::Any => Precondition::Any,
            ws::Precondition::Absent => Precondition::Absent,
            ws::Precondition::Matches(v) => Precondition::Matches(v),
        }
    }
}

impl From<StoreError> for ws::StoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => ws::StoreError::Conflict,
            StoreError::InvalidKey(why) => ws::StoreError::InvalidKey(why),
            StoreError::Backend(why) => ws::StoreError::Backend(why),
        }
    }
}

impl From<ws::StoreError> for StoreError {
    fn from(e: ws::StoreError) -> Self {
        match e {
            ws::StoreError::Conflict => StoreError::Conflict,
            ws::StoreError::InvalidKey(why) => StoreError::InvalidKey(why),
            ws::StoreError::Backend(why) => StoreError::Backend(why),
        }
    }
}

impl From<Entry> for ws::Entry {
    fn from(e: Entry) -> Self {
        ws::Entry { value: e.value, version: e.version }
    }
}

impl From<ws::SkippedEntry> for SkippedEntry {
    fn from(e: ws::SkippedEntry) -> Self {
        SkippedEntry { key: e.key, id: e.id, detail: e.detail }
    }
}

// --- queue -----------------------------------------------------------------------------

impl From<wq::Conversation> for Conversation {
    fn from(c: wq::Conversation) -> Self {
        Conversation {
            conversation_id: c.conversation_id,
            prompt: c.prompt,
            created_at: c.created_at,
            workflow_id: c.workflow_id,
            metadata: c.metadata.into_iter().collect(),
        }
    }
}

impl From<NewConversation> for wq::NewConversation {
    fn from(c: NewConversation) -> Self {
        wq::NewConversation {
            prompt: c.prompt,
            workflow_id: c.workflow_id,
            metadata: c.metadata.into_iter().collect(),
        }
    }
}

impl From<wq::Started> for Started {
    fn from(s: wq::Started) -> Self {
        Started { conversation: s.conversation.into(), was_queued: s.was_queued }
    }
}

impl From<wq::QueueError> for QueueError {
    fn from(e: wq::QueueError) -> Self {
        match e {
            wq::QueueError::InvalidInput(why) => QueueError::InvalidInput(why),
            wq::QueueError::NotFound(id) => QueueError::NotFound(id),
            wq::QueueError::Corrupt(r) => QueueError::Corrupt { key: r.key, detail: r.detail },
            wq::QueueError::Contention(n) => QueueError::Contention(n),
            wq::QueueError::Store(e) => QueueError::Store(e.into()),
        }
    }
}

// --- llm -------------------------------------------------------------------------------

/// The request, and the session it is for (the host's rollout and logs key on it).
impl From<wl::Request> for (String, LlmRequest) {
    fn from(r: wl::Request) -> Self {
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
}

impl From<LlmReply> for wl::Completion {
    fn from(r: LlmReply) -> Self {
        wl::Completion { text: r.text, provider: r.provider, model: r.model }
    }
}

impl From<LlmError> for wl::LlmError {
    fn from(e: LlmError) -> Self {
        match e {
            LlmError::RateLimited(m) => wl::LlmError::RateLimited(m),
            LlmError::Unavailable(m) => wl::LlmError::Unavailable(m),
            LlmError::ContextTooLong(m) => wl::LlmError::ContextTooLong(m),
            LlmError::InvalidRequest(m) => wl::LlmError::InvalidRequest(m),
            LlmError::BadOutput(m) => wl::LlmError::BadOutput(m),
            LlmError::NoProvider => wl::LlmError::NoProvider,
        }
    }
}

// --- builder ---------------------------------------------------------------------------

impl From<bt::Phase> for Phase {
    fn from(p: bt::Phase) -> Self {
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
}

impl From<bt::ActionKind> for ActionKind {
    fn from(k: bt::ActionKind) -> Self {
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
}

impl From<bt::Requirement> for RequirementView {
    fn from(r: bt::Requirement) -> Self {
        RequirementView { field: r.field, value: r.value, turn: r.turn }
    }
}

/// The draft crosses as the guest's JSON document and stays one (the guest validated it).
impl From<bt::ChatChunk> for ChatChunk {
    fn from(c: bt::ChatChunk) -> Self {
        ChatChunk {
            session_id: c.session_id,
            phase: c.phase.into(),
            text: c.text,
            actions: c
                .actions
                .into_iter()
                .map(|a| Action { kind: a.kind.into(), label: a.label, value: a.value })
                .collect(),
            // The faces build the link (server, CLI): the guest says what to connect.
            oauth_url: None,
            connect: c.connect.map(|r| ConnectRequest {
                provider: r.provider,
                state: r.state,
                scopes: r.scopes,
            }),
            requirements: c.requirements.map(|rs| rs.into_iter().map(Into::into).collect()),
            draft: c.draft.map(|d| DraftView { id: d.id, revision: d.revision, spec: SpecJson(d.spec_json) }),
            done: c.done,
        }
    }
}

impl From<wb::SessionView> for SessionView {
    fn from(s: wb::SessionView) -> Self {
        SessionView {
            session_id: s.session_id,
            user_id: s.user_id,
            tenant_id: s.tenant_id,
            phase: s.phase.into(),
            requirements: s.requirements.into_iter().map(Into::into).collect(),
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
                .map(|t| TransitionView {
                    from: t.from.into(),
                    to: t.to.into(),
                    cause: t.cause,
                    turn: t.turn,
                })
                .collect(),
        }
    }
}

impl From<wb::SessionSummary> for SessionSummary {
    fn from(s: wb::SessionSummary) -> Self {
        SessionSummary {
            session_id: s.session_id,
            phase: s.phase.into(),
            goal: s.goal,
            last_active_at_ms: s.last_active_at_ms,
        }
    }
}

impl From<wb::BuilderError> for BuilderError {
    fn from(e: wb::BuilderError) -> Self {
        match e {
            wb::BuilderError::NotFound(id) => BuilderError::NotFound(id),
            wb::BuilderError::Expired(id) => BuilderError::Expired(id),
            wb::BuilderError::InvalidInput(m) => BuilderError::InvalidInput(m),
            wb::BuilderError::OauthRefused(m) => BuilderError::OauthRefused(m),
            wb::BuilderError::NoDraft(id) => BuilderError::NoDraft(id),
            wb::BuilderError::Corrupt(c) => BuilderError::Corrupt { key: c.key, detail: c.detail },
            wb::BuilderError::Contention(n) => BuilderError::Contention(n),
            wb::BuilderError::Internal(m) => BuilderError::Internal(m),
            wb::BuilderError::Store(e) => BuilderError::Store(e.into()),
        }
    }
}

impl From<&Caller> for wb::Caller {
    fn from(c: &Caller) -> Self {
        wb::Caller { tenant_id: c.tenant_id.clone(), user_id: c.user_id.clone() }
    }
}

impl From<TurnInput> for wb::TurnInput {
    fn from(i: TurnInput) -> Self {
        match i {
            TurnInput::Message(text) => wb::TurnInput::Message(text),
            TurnInput::Oauth { state, approved } => wb::TurnInput::Oauth(wb::OauthAnswer { state, approved }),
            TurnInput::Back => wb::TurnInput::Back,
            TurnInput::Reset => wb::TurnInput::Reset,
        }
    }
}

impl From<TurnOptions> for wb::TurnOptions {
    fn from(o: TurnOptions) -> Self {
        wb::TurnOptions {
            context: o.context_on,
            llm: o.llm,
            idle_timeout_ms: o.idle_timeout_ms,
            oauth_ttl_ms: o.oauth_ttl_ms,
        }
    }
}

impl From<wb::Provider> for Provider {
    fn from(p: wb::Provider) -> Self {
        Provider { id: p.id, name: p.name, needs_oauth: p.needs_oauth, scopes: p.scopes }
    }
}
