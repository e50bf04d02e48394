//! The persisted state of one builder conversation, with bounded memory: recent turns in
//! full, older ones folded into a short summary, transition history capped.

use serde::{Deserialize, Serialize};

use super::phase::{Cause, Phase, TransitionRefused, check};
use super::requirements::Requirements;
use crate::extract::Provider;

/// Version of the stored session format.
pub const SESSION_SCHEMA: u32 = 1;
/// Turns kept word for word (user and assistant turns each count).
pub const RECENT_TURNS: usize = 8;
/// Longest stored text of one turn, in characters (the whole text is still understood).
pub const TURN_CHARS: usize = 280;
/// Summary lines kept for older turns.
pub const SUMMARY_LINES: usize = 12;
/// Longest summary line, in characters.
pub const SUMMARY_LINE_CHARS: usize = 100;
/// Transitions kept in the history.
pub const HISTORY: usize = 32;
/// Used OAuth states remembered to refuse replays.
pub const USED_STATES: usize = 16;

/// Who said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person.
    User,
    /// Kiln.
    Assistant,
}

/// One remembered turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnRecord {
    /// Turn number.
    pub turn: u32,
    /// Who said it.
    pub role: Role,
    /// What was said (cut to [`TURN_CHARS`]).
    pub text: String,
}

/// One phase change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionRecord {
    /// From.
    pub from: Phase,
    /// To.
    pub to: Phase,
    /// Why.
    pub cause: Cause,
    /// At which turn.
    pub turn: u32,
}

/// A connection the person is being asked to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingOauth {
    /// The integration.
    pub provider: Provider,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// Single-use state nonce (hex).
    pub state: String,
    /// When the wait began (ms since the epoch).
    pub started_at_ms: u64,
    /// When the state stops being accepted (ms since the epoch).
    pub expires_at_ms: u64,
}

/// A yes/no question Kiln is waiting on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Awaiting {
    /// "Shall I build it?" after the requirements summary.
    ConfirmRequirements,
    /// "Start over and lose this conversation?"
    ConfirmStartOver,
}

/// A question Kiln asks, remembered so that the reply is read as its answer first, and so
/// that no question is asked a third time in a row without concrete choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Question {
    /// Which apps.
    Integrations,
    /// When it runs.
    Trigger,
    /// Which days of the week.
    Days,
    /// Which day of the month.
    MonthDay,
    /// What time of day.
    Time,
    /// Which time zone.
    Timezone,
    /// Which channel of this chat tool.
    Channel(Provider),
    /// Who receives the e-mail.
    Recipients,
    /// "Shall I build it?"
    Confirm,
    /// "Does this look right?" (the dry run)
    Accept,
    /// "Activate it?"
    Activate,
    /// What to change in an active agent.
    Changes,
    /// What to do about a tool Kiln does not know (its name as said). No longer asked on its
    /// own (the summary offers the choices); kept so records that hold it still decode.
    UnknownTool(String),
    /// Which day a one-off run happens.
    OnceDay,
}

/// Everything the conversation has established.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The last turn number.
    pub turn: u32,
    /// Structured requirements.
    pub requirements: Requirements,
    /// Connected integrations.
    #[serde(default)]
    pub connected: Vec<Provider>,
    /// Recent turns, word for word.
    #[serde(default)]
    pub recent: Vec<TurnRecord>,
    /// Older turns, one short line each (the oldest fall off).
    #[serde(default)]
    pub summary: Vec<String>,
    /// How many turns were folded into the summary in all.
    #[serde(default)]
    pub summarised_turns: u32,
    /// Iterations after a first draft (change requests).
    #[serde(default)]
    pub iteration: u32,
    /// Where to return once the pending connections are done.
    #[serde(default)]
    pub resume_phase: Option<Phase>,
    /// The yes/no question pending, if any.
    #[serde(default)]
    pub awaiting: Option<Awaiting>,
    /// A connection that was denied or expired; retry or drop it.
    #[serde(default)]
    pub oauth_failed: Option<Provider>,
    /// OAuth states already used or superseded, to refuse replays.
    #[serde(default)]
    pub used_states: Vec<String>,
    /// Revision of the current draft (0 = none yet).
    #[serde(default)]
    pub draft_revision: u32,
    /// The current draft's name, for messages in later turns.
    #[serde(default)]
    pub draft_name: Option<String>,
    /// The question asked last: the next reply is read as its answer first.
    #[serde(default)]
    pub asked: Option<Question>,
    /// How many times in a row [`Context::asked`] was asked without progress; the third
    /// time comes with choices instead (never a dead end).
    #[serde(default)]
    pub asked_times: u8,
}

/// One builder conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Format version ([`SESSION_SCHEMA`]).
    pub schema: u32,
    /// UUID v4.
    pub session_id: String,
    /// The person.
    pub user_id: String,
    /// Their tenant.
    pub tenant_id: String,
    /// Where the conversation is.
    pub phase: Phase,
    /// What it has established.
    pub context: Context,
    /// A connection being waited on.
    pub pending_oauth: Option<PendingOauth>,
    /// The draft agent's id, once there is one.
    pub draft_agent_id: Option<String>,
    /// Created (ms since the epoch).
    pub created_at_ms: u64,
    /// Last input (ms since the epoch).
    pub last_active_at_ms: u64,
    /// Bumped on every saved change.
    pub version: u64,
    /// Recent phase changes (at most [`HISTORY`]).
    pub history: Vec<TransitionRecord>,
    /// Phase changes in all.
    pub transitions_total: u32,
}

impl Session {
    /// A new session in IDLE.
    pub fn new(session_id: String, user_id: String, tenant_id: String, now_ms: u64) -> Self {
        Self {
            schema: SESSION_SCHEMA,
            session_id,
            user_id,
            tenant_id,
            phase: Phase::Idle,
            context: Context::default(),
            pending_oauth: None,
            draft_agent_id: None,
            created_at_ms: now_ms,
            last_active_at_ms: now_ms,
            version: 0,
            history: Vec::new(),
            transitions_total: 0,
        }
    }

    /// Moves to `to`, if the transition table allows it, and records it.
    pub fn transition(&mut self, to: Phase, cause: Cause) -> Result<(), TransitionRefused> {
        check(self.phase, to, cause)?;
        self.history.push(TransitionRecord { from: self.phase, to, cause, turn: self.context.turn });
        if self.history.len() > HISTORY {
            self.history.remove(0);
        }
        self.transitions_total += 1;
        self.phase = to;
        Ok(())
    }

    /// Remembers a turn; the oldest recent turn folds into the summary.
    pub fn remember(&mut self, role: Role, text: &str) {
        let ctx = &mut self.context;
        ctx.recent.push(TurnRecord { turn: ctx.turn, role, text: cut(text, TURN_CHARS) });
        while ctx.recent.len() > RECENT_TURNS {
            let old = ctx.recent.remove(0);
            let who = match old.role {
                Role::User => "user",
                Role::Assistant => "kiln",
            };
            let first_line = old.text.lines().next().unwrap_or("");
            // Joined rather than formatted (this runs on every turn once the window is full).
            let line = super::joined(["T", &old.turn.to_string(), " ", who, ": ", first_line]);
            ctx.summary.push(cut(&line, SUMMARY_LINE_CHARS));
            ctx.summarised_turns += 1;
            if ctx.summary.len() > SUMMARY_LINES {
                ctx.summary.remove(0);
            }
        }
    }

    /// Whether `p` is connected.
    pub fn is_connected(&self, p: Provider) -> bool {
        self.context.connected.contains(&p)
    }

    /// The first integration that needs a connection and lacks one.
    pub fn next_unconnected(&self) -> Option<Provider> {
        self.context.requirements.providers().into_iter().find(|p| p.needs_oauth() && !self.is_connected(*p))
    }

    /// Marks an OAuth state as used, so a replay is refused.
    pub fn retire_state(&mut self, state: String) {
        self.context.used_states.push(state);
        if self.context.used_states.len() > USED_STATES {
            self.context.used_states.remove(0);
        }
    }
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub fn cut(text: &str, max: usize) -> String {
    // No more bytes than `max` means no more characters either: most texts stop here
    // without being counted.
    if text.len() <= max || text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}
