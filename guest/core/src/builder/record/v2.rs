//! Format 2's shapes, frozen: how Kiln 0.1.2 laid out a session record. Postcard stores
//! fields by position, so a record of format 2 is read with these types and converted; only
//! the types whose layout changed in format 3 are here (the rest are read as they are today,
//! their layout is unchanged). Never edit these: they describe bytes already stored.

use serde::Deserialize;

use crate::builder::phase::Phase;
use crate::builder::requirements::{EventTrigger, Requirements as Current, Sourced};
use crate::builder::session::{
    Awaiting, Context as CurrentContext, PendingOauth, Session as CurrentSession, TransitionRecord,
    TurnRecord,
};
use crate::extract::{Days, Provider, TimeOfDay, TriggerKind};

#[derive(Deserialize)]
pub(super) struct Requirements {
    goal: Option<Sourced<String>>,
    integrations: Vec<Sourced<Provider>>,
    trigger_kind: Option<Sourced<TriggerKind>>,
    days: Option<Sourced<Days>>,
    time: Option<Sourced<TimeOfDay>>,
    interval_minutes: Option<Sourced<u32>>,
    month_day: Option<Sourced<u8>>,
    event: Option<Sourced<EventTrigger>>,
    timezone: Option<Sourced<String>>,
    channel: Option<Sourced<String>>,
    email_filter: Option<Sourced<String>>,
    recipients: Option<Sourced<Vec<String>>>,
    actions: Option<Sourced<Vec<String>>>,
}

#[derive(Deserialize)]
pub(super) struct Context {
    turn: u32,
    requirements: Requirements,
    connected: Vec<Provider>,
    recent: Vec<TurnRecord>,
    summary: Vec<String>,
    summarised_turns: u32,
    iteration: u32,
    resume_phase: Option<Phase>,
    awaiting: Option<Awaiting>,
    oauth_failed: Option<Provider>,
    used_states: Vec<String>,
    draft_revision: u32,
    draft_name: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Session {
    schema: u32,
    session_id: String,
    user_id: String,
    tenant_id: String,
    phase: Phase,
    context: Context,
    pending_oauth: Option<PendingOauth>,
    draft_agent_id: Option<String>,
    created_at_ms: u64,
    last_active_at_ms: u64,
    version: u64,
    history: Vec<TransitionRecord>,
    transitions_total: u32,
}

impl From<Requirements> for Current {
    fn from(r: Requirements) -> Current {
        Current {
            goal: r.goal,
            integrations: r.integrations,
            trigger_kind: r.trigger_kind,
            days: r.days,
            time: r.time,
            interval_minutes: r.interval_minutes,
            month_day: r.month_day,
            event: r.event,
            timezone: r.timezone,
            channel: r.channel,
            email_filter: r.email_filter,
            recipients: r.recipients,
            actions: r.actions,
            ..Current::default()
        }
    }
}

impl From<Session> for CurrentSession {
    // Context fields added after format 2 take their defaults.
    #[allow(clippy::needless_update)]
    fn from(s: Session) -> CurrentSession {
        let c = s.context;
        CurrentSession {
            schema: s.schema,
            session_id: s.session_id,
            user_id: s.user_id,
            tenant_id: s.tenant_id,
            phase: s.phase,
            context: CurrentContext {
                turn: c.turn,
                requirements: c.requirements.into(),
                connected: c.connected,
                recent: c.recent,
                summary: c.summary,
                summarised_turns: c.summarised_turns,
                iteration: c.iteration,
                resume_phase: c.resume_phase,
                awaiting: c.awaiting,
                oauth_failed: c.oauth_failed,
                used_states: c.used_states,
                draft_revision: c.draft_revision,
                draft_name: c.draft_name,
                ..CurrentContext::default()
            },
            pending_oauth: s.pending_oauth,
            draft_agent_id: s.draft_agent_id,
            created_at_ms: s.created_at_ms,
            last_active_at_ms: s.last_active_at_ms,
            version: s.version,
            history: s.history,
            transitions_total: s.transitions_total,
        }
    }
}
