//! One turn of the builder conversation, sans-IO: [`begin`] takes a session and an input
//! and returns a [`Step`]: either an LLM completion it needs (resume it with the answer via
//! [`LlmCall::resume`]) or the finished turn. Time and randomness come in [`TurnEnv`];
//! nothing here touches storage, so the component (sync imports) and the browser (async
//! fetch) drive the same logic.

use super::agent::{AgentSpec, draft_offline, dry_run};
use super::chat::{Action, ActionKind, ChatChunk, ConnectRequest, DraftView};
use super::llm::{self, LlmError, LlmReply, LlmRequest};
use super::phase::{self, Cause, Move, Phase, TransitionRefused, back_target};
use super::requirements::{Gap, Sourced};
use super::session::{Awaiting, PendingOauth, Question, Role, Session};
use super::words;
use crate::extract::{self, Extraction, Intent, Provider, Reading};

/// Longest accepted message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

pub use kiln_wire::builder::TurnInput as Input;

/// The nondeterministic inputs of one turn, and its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnEnv {
    /// Now, in ms since the epoch.
    pub now_ms: u64,
    /// Random bytes for OAuth states and draft ids.
    pub random: [u8; 32],
    /// `LOVABLE_CONVERSATION_STATE` for this session: carry context between turns.
    pub context_on: bool,
    /// Whether a model may be asked at all; without one the rules answer directly.
    pub llm: bool,
    /// How long an OAuth state stays valid.
    pub oauth_ttl_ms: u64,
}

impl TurnEnv {
    /// Whether this turn asks a model: `llm`, in a build with the feature `llm`. Without it
    /// (the browser's offline engine) the requests, prompts and readers of model output are
    /// left out of the build, since nothing leads to them.
    fn asks_llm(&self) -> bool {
        cfg!(feature = "llm") && self.llm
    }
}

/// Why a turn was refused. Nothing about the session changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TurnError {
    /// The input itself is wrong.
    #[error("{0}")]
    InvalidInput(String),
    /// An OAuth callback that does not match the pending connection.
    #[error("{0}")]
    OauthRefused(String),
    /// A transition the table forbids (a bug in the engine, reported instead of panicking).
    #[error(transparent)]
    Transition(#[from] TransitionRefused),
}

/// A finished turn.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnOutput {
    /// The session after the turn.
    pub session: Session,
    /// The response.
    pub chunks: Vec<ChatChunk>,
    /// A new draft to store under `session.draft_agent_id`.
    pub draft: Option<DraftView>,
    /// A draft the conversation let go of (start over): delete it once the turn is stored.
    pub discarded_draft: Option<String>,
}

/// What the turn needs next.
#[derive(Debug)]
// Both variants carry a whole session; a step is moved a handful of times per turn, so
// boxing would only add allocations.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// A completion; answer with [`LlmCall::resume`].
    Llm(LlmCall),
    /// The turn is over.
    Done(Result<TurnOutput, TurnError>),
}

/// A pending completion and the suspended turn.
#[derive(Debug)]
pub struct LlmCall {
    /// What to ask.
    pub request: LlmRequest,
    /// A progress line worth showing while waiting.
    pub progress: &'static str,
    turn: Turn,
    pending: Pending,
}

#[derive(Debug)]
enum Pending {
    Extract { text: String, change: bool, repaired: bool },
    Draft { repaired: bool },
}

impl LlmCall {
    /// Resumes the turn with the completion (or its failure).
    pub fn resume(self, reply: Result<LlmReply, LlmError>) -> Step {
        let LlmCall { request, turn, pending, .. } = self;
        match pending {
            Pending::Extract { text, change, repaired } => {
                let allowed = turn.allowed_moves();
                let parsed = reply
                    .map_err(|_| None)
                    .and_then(|r| llm::parse_extraction(&r.text, &allowed).map_err(|e| Some((r.text, e))));
                match parsed {
                    Ok((ex, proposed)) => turn.run(|t| t.decide(&Reading::new(&text), ex, change, proposed)),
                    Err(Some((bad, problem))) if !repaired => Step::Llm(LlmCall {
                        request: llm::repair_request(request, &bad, &problem),
                        progress: "Reading that again…",
                        turn,
                        pending: Pending::Extract { text, change, repaired: true },
                    }),
                    // No provider, every provider failed, or a second bad answer: the rules.
                    Err(_) => {
                        let msg = Reading::new(&text);
                        turn.run(|t| t.decide(&msg, msg.extract(), change, None))
                    }
                }
            }
            Pending::Draft { repaired } => {
                let parsed = reply.map_err(|_| None).and_then(|r| {
                    llm::parse_draft(&r.text, &turn.s.context.requirements).map_err(|e| Some((r.text, e)))
                });
                match parsed {
                    Ok(spec) => turn.run(|t| t.finish_draft(spec)),
                    Err(Some((bad, problem))) if !repaired => Step::Llm(LlmCall {
                        request: llm::repair_request(request, &bad, &problem),
                        progress: "Fixing the draft…",
                        turn,
                        pending: Pending::Draft { repaired: true },
                    }),
                    Err(_) => {
                        let spec = draft_offline(&turn.s.context.requirements);
                        turn.run(|t| t.finish_draft(spec))
                    }
                }
            }
        }
    }
}

/// Starts a turn.
pub fn begin(mut session: Session, input: Input, env: TurnEnv) -> Step {
    if let Input::Message(text) = &input {
        if text.trim().is_empty() {
            return Step::Done(Err(TurnError::InvalidInput(
                "the message is empty: type what you want the agent to do".into(),
            )));
        }
        if text.len() > MAX_MESSAGE_BYTES {
            return Step::Done(Err(TurnError::InvalidInput(format!(
                "the message is {} bytes; messages are at most {MAX_MESSAGE_BYTES} bytes",
                text.len()
            ))));
        }
    }
    session.context.turn += 1;
    session.last_active_at_ms = env.now_ms;
    let turn = Turn {
        s: session,
        env,
        chunks: Vec::new(),
        draft: None,
        discarded_draft: None,
        random_used: 0,
        reply: Reply::default(),
        last_text: String::new(),
        heard: Heard::Nothing,
        progress: false,
    };
    turn.run(|t| match input {
        Input::Message(text) => t.message(text.trim()),
        Input::Oauth { state, approved } => t.complete_oauth(&state, approved),
        Input::Back => t.go_back(),
        Input::Reset => t.start_over(),
    })
}

/// What a turn function decided.
enum Flow {
    /// The turn is complete.
    Done,
    /// Ask the LLM, then continue.
    Ask(LlmRequest, &'static str, Pending),
}

type Flowed = Result<Flow, TurnError>;

/// The reply being assembled.
#[derive(Debug, Default)]
struct Reply {
    actions: Vec<Action>,
    connect: Option<ConnectRequest>,
    requirements_changed: bool,
}

#[derive(Debug)]
struct Turn {
    s: Session,
    env: TurnEnv,
    chunks: Vec<ChatChunk>,
    draft: Option<DraftView>,
    discarded_draft: Option<String>,
    random_used: usize,
    reply: Reply,
    /// The message of this turn, cut short, for "I read ... as ...".
    last_text: String,
    /// What the message was read as, when it set nothing.
    heard: Heard,
    /// Whether this turn got anywhere (a value set, a phase changed): a question asked
    /// again after progress is asked anew.
    progress: bool,
}

/// What a message that set nothing was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heard {
    /// Nothing usable.
    Nothing,
    /// Something other than building an agent.
    OffTopic,
}

impl Turn {
    fn run(mut self, f: impl FnOnce(&mut Turn) -> Flowed) -> Step {
        match f(&mut self) {
            Ok(Flow::Done) => Step::Done(Ok(self.finish())),
            Ok(Flow::Ask(request, progress, pending)) => {
                Step::Llm(LlmCall { request, progress, turn: self, pending })
            }
            Err(e) => Step::Done(Err(e)),
        }
    }

    fn say(&mut self, text: impl Into<String>) {
        // Each paragraph goes out as its own chunk, with the phase it was said in.
        self.chunks.push(ChatChunk {
            session_id: self.s.session_id.clone(),
            phase: self.s.phase,
            text: text.into(),
            actions: Vec::new(),
            oauth_url: None,
            connect: None,
            requirements: None,
            draft: None,
            done: false,
        });
    }

    fn offer(&mut self, action: Action) {
        self.reply.actions.push(action);
    }

    fn finish(mut self) -> TurnOutput {
        if self.chunks.is_empty() {
            self.say(String::new());
        }
        let reply = std::mem::take(&mut self.reply);
        let paragraphs: Vec<&str> = self.chunks.iter().map(|c| c.text.as_str()).collect();
        self.s.remember(Role::Assistant, &paragraphs.join("\n\n"));
        if let Some(last) = self.chunks.last_mut() {
            last.phase = self.s.phase;
            last.actions = reply.actions;
            last.connect = reply.connect;
            last.draft = self.draft.clone();
            if reply.requirements_changed || self.draft.is_some() {
                last.requirements = Some(self.s.context.requirements.snapshot());
            }
            last.done = true;
        }
        TurnOutput {
            session: self.s,
            chunks: self.chunks,
            draft: self.draft,
            discarded_draft: self.discarded_draft,
        }
    }

    fn random16(&mut self) -> [u8; 16] {
        // Two 16-byte draws per turn at most (one OAuth state, one draft id).
        let at = self.random_used.min(16);
        self.random_used += 16;
        let mut out = [0u8; 16];
        out.copy_from_slice(&self.env.random[at..at + 16]);
        if self.random_used > 32 {
            // A third draw would repeat bytes; mix in the turn number to keep it distinct.
            out[0] ^= self.s.context.turn as u8;
            out[1] ^= self.random_used as u8;
        }
        out
    }

    fn go(&mut self, to: Phase, cause: Cause) -> Result<(), TurnError> {
        self.s.transition(to, cause)?;
        self.progress = true;
        Ok(())
    }

    // --- messages -------------------------------------------------------------------

    fn message(&mut self, text: &str) -> Flowed {
        self.s.remember(Role::User, text);
        self.last_text = super::session::cut(text, 60);
        // Tokenised once for the whole turn.
        let msg = Reading::new(text);
        let intent = msg.intent().or_else(|| extract::closing_control(text));
        if self.s.context.awaiting == Some(Awaiting::ConfirmStartOver) {
            self.s.context.awaiting = None;
            match intent.or_else(|| extract::reply_intent(text)) {
                Some(Intent::Yes) => return self.start_over(),
                Some(Intent::No) => {
                    self.say("Good, nothing was lost. Let's carry on.");
                    self.prompt_for_phase();
                    return Ok(Flow::Done);
                }
                _ => {}
            }
        }
        match intent {
            // In DISCOVERY a yes or no answers nothing: it is read like any message (and
            // with context off, stands alone like any message).
            Some(i @ (Intent::Yes | Intent::No))
                if !matches!(self.s.phase, Phase::Idle | Phase::Discovery | Phase::OauthFlow) =>
            {
                return self.yes_no(i == Intent::Yes);
            }
            Some(Intent::Yes | Intent::No) | None => {}
            Some(i) => return self.control(i),
        }
        match self.s.phase {
            Phase::Idle => {
                self.go(Phase::Discovery, Cause::FirstMessage)?;
                self.understand(&msg)
            }
            Phase::OauthFlow => self.message_while_waiting(&msg, intent),
            Phase::Generation => self.generate(),
            _ => self.understand(&msg),
        }
    }

    /// The control intents every phase answers the same way.
    fn control(&mut self, intent: Intent) -> Flowed {
        match intent {
            Intent::Back => return self.go_back(),
            Intent::StartOver => {
                self.s.context.awaiting = Some(Awaiting::ConfirmStartOver);
                self.say("Start over? The requirements and draft of this conversation will be cleared (connected accounts stay connected).");
                self.offer(Action::new(ActionKind::Confirm, "Yes, start over", "yes"));
                self.offer(Action::new(ActionKind::Cancel, "No, keep going", "no"));
            }
            Intent::Status => self.status(),
            Intent::Help => self.help(),
            Intent::Quit => self.say(format!(
                "Your conversation is saved. Resume it any time with session id {}.",
                self.s.session_id
            )),
            Intent::Yes | Intent::No => return self.yes_no(intent == Intent::Yes),
        }
        Ok(Flow::Done)
    }

    /// A yes or a no, with nothing else said: the answer to what the phase is asking.
    fn yes_no(&mut self, yes: bool) -> Flowed {
        match self.s.phase {
            Phase::Idle | Phase::Discovery => self.prompt_for_phase(),
            Phase::OauthFlow => {
                return self.message_while_waiting(
                    &Reading::new(if yes { "yes" } else { "no" }),
                    Some(if yes { Intent::Yes } else { Intent::No }),
                );
            }
            Phase::Requirements => {
                let confirming = self.s.context.awaiting == Some(Awaiting::ConfirmRequirements);
                if yes && confirming {
                    self.s.context.awaiting = None;
                    self.go(Phase::Generation, Cause::RequirementsConfirmed)?;
                    return self.generate();
                }
                if !yes && confirming {
                    // The summary still stands: a yes next builds it as it is.
                    self.say("No problem. What would you like to change? For example \"make it 8 instead\" or \"post to #ops\".");
                    self.offer(Action::new(ActionKind::Confirm, "Build it as it is", "yes"));
                    self.offer(Action::new(ActionKind::GoBack, "Back", "back"));
                } else {
                    self.requirements_step();
                }
            }
            Phase::Generation => return self.generate(),
            Phase::Testing if yes => {
                self.go(Phase::Activation, Cause::DraftAccepted)?;
                self.activation_prompt();
            }
            Phase::Testing => {
                self.say("What should change? For example \"make it 8 instead\" or \"post to #ops\".");
                self.offer(Action::new(ActionKind::Accept, "Keep it as it is", "yes"));
                self.offer(Action::new(ActionKind::GoBack, "Back", "back"));
            }
            Phase::Activation if yes => {
                self.go(Phase::Complete, Cause::Activated)?;
                let name = self.current_draft_name();
                self.say(format!(
                    "Done: {name} is active. Describe a change any time to start another iteration."
                ));
                self.offer(Action::new(ActionKind::Export, "Export the agent spec", "export"));
            }
            Phase::Activation => {
                self.say(
                    "Not activated. Tell me what to change, or say \"back\" to look at the dry run again.",
                );
                self.offer(Action::new(ActionKind::Confirm, "Activate after all", "yes"));
                self.offer(Action::new(ActionKind::GoBack, "Back to the dry run", "back"));
            }
            Phase::Complete => self.prompt_for_phase(),
        }
        Ok(Flow::Done)
    }

    fn message_while_waiting(&mut self, msg: &Reading, intent: Option<Intent>) -> Flowed {
        let lower = crate::case::lower(msg.text());
        let without = lower.starts_with("drop")
            || lower.starts_with("skip")
            || lower.starts_with("without")
            || lower.starts_with("continue without")
            || intent == Some(Intent::No);
        if let Some(p) = self.s.context.oauth_failed {
            if lower.starts_with("retry") || lower.starts_with("try again") || intent == Some(Intent::Yes) {
                self.s.context.oauth_failed = None;
                self.start_oauth(p)?;
                return Ok(Flow::Done);
            }
            if without {
                return self.drop_integration(p);
            }
        }
        let waiting_for = self.s.pending_oauth.as_ref().map(|p| p.provider);
        if let Some(p) = waiting_for
            && without
        {
            if let Some(pending) = self.s.pending_oauth.take() {
                self.s.retire_state(pending.state);
            }
            return self.drop_integration(p);
        }
        if intent == Some(Intent::Yes) {
            self.say("Great: use the connect button (or open the link) to grant access.");
            self.reoffer_connect();
            return Ok(Flow::Done);
        }
        self.understand(msg)
    }

    /// The moves a reply may make here (see [`phase::moves`]).
    fn allowed_moves(&self) -> Vec<Move> {
        phase::moves(self.s.phase, self.s.context.awaiting == Some(Awaiting::ConfirmRequirements))
    }

    /// Asks the LLM what the message says and what it does; the rules answer when it cannot.
    fn understand(&mut self, msg: &Reading) -> Flowed {
        // After a draft, anything with content is a change to it.
        let after_draft = matches!(self.s.phase, Phase::Testing | Phase::Activation | Phase::Complete);
        let text = msg.text();
        if !self.env.asks_llm() {
            let (ex, said_change) = msg.extract_with_change();
            return self.decide(msg, ex, after_draft || said_change, None);
        }
        let change = after_draft || msg.is_change_request();
        let request = llm::extraction_request(&self.s, text, self.env.context_on, &self.allowed_moves());
        Ok(Flow::Ask(
            request,
            "Thinking…",
            Pending::Extract { text: text.to_owned(), change, repaired: false },
        ))
    }

    /// Decides what a message does, from its extraction and the move proposed for it (by
    /// the LLM, already checked against [`Turn::allowed_moves`]; `None`: the rules decide).
    /// The answer to the question asked last comes first: "Berlin" after "Which time zone?"
    /// is a time zone, not small talk.
    fn decide(&mut self, msg: &Reading, mut ex: Extraction, change: bool, proposed: Option<Move>) -> Flowed {
        let answered = self.read_as_answer(msg.text(), &mut ex);
        let proposed = match proposed {
            Some(m) => Some(m),
            // "yep, switch it on", "nah not yet", "no, go back": a leading yes/no whose rest
            // says nothing more.
            None if !answered && ex.is_empty() => extract::reply_intent(msg.text()).map(move_of),
            None => None,
        };
        let bare = !answered && ex.is_empty();
        match proposed {
            Some(Move::Back) => self.go_back(),
            Some(Move::StartOver) => self.control(Intent::StartOver),
            Some(Move::Status) => self.control(Intent::Status),
            Some(Move::Help) => self.control(Intent::Help),
            Some(Move::Quit) => self.control(Intent::Quit),
            Some(Move::Confirm) if bare => self.yes_no(true),
            Some(Move::Refuse) if bare => self.yes_no(false),
            Some(Move::OffTopic) if bare => self.apply(msg, ex, change, true),
            Some(Move::Change | Move::Remove) => self.apply(msg, ex, true, false),
            _ => self.apply(msg, ex, change, false),
        }
    }

    /// Reads `text` as the answer to the question asked last, filling the field it asked
    /// for when the extraction left it empty; whether it did.
    fn read_as_answer(&mut self, text: &str, ex: &mut Extraction) -> bool {
        let Some(asked) = self.s.context.asked.clone() else { return false };
        // Details are asked two at a time ("Which time zone?\nWhich channel?"): the reply may
        // answer either; the first that takes it wins ("Berlin" is a zone before a channel).
        let gaps = self.s.context.requirements.detail_gaps();
        let second = match gaps.as_slice() {
            [first, second, ..] if question_of(first) == asked => Some(question_of(second)),
            _ => None,
        };
        // The second is tried only for a reply the rules found nothing in ("UTC" is the zone,
        // not also a channel), or for a direct message ("just to me, no channel").
        let bare = ex.is_empty();
        self.answer_one(&asked, text, ex, true)
            || second.is_some_and(|q| {
                (bare || matches!(q, Question::Channel(_)) && is_direct(text))
                    && self.answer_one(&q, text, ex, false)
            })
    }

    /// [`Turn::read_as_answer`] for one question; `first`: "skip" answers it.
    fn answer_one(&mut self, asked: &Question, text: &str, ex: &mut Extraction, first: bool) -> bool {
        let skip = first && is_skip(text);
        match asked {
            Question::Timezone if ex.timezone.is_none() => {
                if skip {
                    ex.timezone = Some("UTC".into());
                    self.say("I'll use UTC; name a city any time to change it.");
                } else {
                    ex.timezone = extract::timezone_answer(text);
                }
                ex.timezone.is_some()
            }
            // "just to me, no channel" is a direct message, whatever channel-like word it has.
            Question::Channel(_) if is_direct(text) => {
                ex.channel = Some(DIRECT.into());
                true
            }
            Question::Channel(_) if ex.channel.is_none() => {
                if skip {
                    ex.channel = Some("#general".into());
                    self.say("I'll post to #general; name another channel any time to change it.");
                } else {
                    ex.channel = channel_answer(text);
                }
                ex.channel.is_some()
            }
            Question::Time if ex.time.is_none() => {
                ex.time = short(text).then(|| extract::extract(&format!("at {text}")).time).flatten();
                ex.time.is_some()
            }
            Question::Days if ex.days.is_none() => {
                ex.days = short(text).then(|| extract::extract(&format!("every {text}")).days).flatten();
                ex.days.is_some()
            }
            Question::Recipients if ex.recipients.is_empty() && skip => {
                ex.recipients = vec!["me".into()];
                true
            }
            Question::Trigger if ex.trigger.is_none() => {
                let manual =
                    ["manually", "by hand", "on demand", "when i say", "myself", "when i ask", "manual"];
                let lower = crate::case::lower(text);
                if short(text) && manual.iter().any(|m| lower.contains(m)) {
                    ex.trigger = Some(extract::Trigger::Manual);
                } else if ex.time.is_some() || ex.days.is_some() {
                    ex.trigger = extract::extract(&format!("every day {text}")).trigger;
                }
                ex.trigger.is_some()
            }
            _ => false,
        }
    }

    /// Applies what a message said and moves the conversation on. `off_topic`: the LLM
    /// said so (the rules judge for themselves).
    fn apply(&mut self, msg: &Reading, ex: Extraction, change: bool, off_topic: bool) -> Flowed {
        let text = msg.text();
        let turn = self.s.context.turn;
        // With context off each turn stands alone: what it says is all new.
        let shown_before =
            if self.env.context_on { self.s.context.requirements.clone() } else { Default::default() };
        let req = &mut self.s.context.requirements;
        // The old behaviour, with context off: each turn stands alone, nothing carried over.
        let before = (!self.env.context_on).then(|| std::mem::take(req));
        let mut said = false;
        if req.goal.is_none() && (!ex.integrations.is_empty() || ex.trigger.is_some()) {
            req.goal = Some(Sourced { value: super::session::cut(text, 200), turn });
            said = true;
        }
        said |= req.merge(&ex, turn, change);
        // What the message itself said, and whether the requirements as shown changed (with
        // context off, also because the old ones were dropped).
        let changed = match before {
            None => said,
            Some(before) => *req != before,
        };
        self.reply.requirements_changed |= changed;
        if !said {
            let asked = msg.tools_asked_about();
            if !asked.is_empty() {
                // "do you also work with Facebook groups?": answered, nothing added.
                let names: Vec<&str> = asked.iter().map(|p| p.display_name()).collect();
                self.say(format!(
                    "Yes, I can use {}. Tell me what the agent should do with it if you want it in this one.",
                    words::listed(&names)
                ));
            } else if off_topic || msg.looks_off_topic(&ex) {
                self.heard = Heard::OffTopic;
                self.say(
                    "I can only help with building automation agents: what they react to, which apps they use and \
                     what they do. Say \"help\" to see what I can do.",
                );
            } else if matches!(self.s.phase, Phase::Testing | Phase::Activation | Phase::Complete) {
                self.say("I couldn't tell what to change from that.");
            }
            if self.s.phase == Phase::OauthFlow {
                self.reoffer_connect();
            } else {
                self.prompt_for_phase();
            }
            return Ok(Flow::Done);
        }
        self.progress = true;
        let what = words::changes(&shown_before, &self.s.context.requirements);
        if !what.is_empty() {
            self.say(format!("Got it: {}.", what.join("; ")));
        }
        match self.s.phase {
            Phase::Discovery => self.discovery_step(),
            Phase::OauthFlow => {
                self.say("I'll keep that in mind.");
                self.reoffer_connect();
                Ok(Flow::Done)
            }
            phase => {
                if matches!(phase, Phase::Testing | Phase::Activation | Phase::Complete) {
                    self.go(Phase::Requirements, Cause::ChangeRequested)?;
                    self.s.context.iteration += 1;
                    self.s.context.awaiting = None;
                }
                if self.s.context.requirements.discovery_gap().is_none()
                    && let Some(p) = self.s.next_unconnected()
                {
                    self.start_oauth(p)?;
                    return Ok(Flow::Done);
                }
                self.requirements_step();
                Ok(Flow::Done)
            }
        }
    }

    fn discovery_step(&mut self) -> Flowed {
        if let Some(gap) = self.s.context.requirements.discovery_gap() {
            self.ask(question_of(&gap), gap.question());
            return Ok(Flow::Done);
        }
        if let Some(p) = self.s.next_unconnected() {
            self.start_oauth(p)?;
            return Ok(Flow::Done);
        }
        self.go(Phase::Requirements, Cause::GoalUnderstood)?;
        self.requirements_step();
        Ok(Flow::Done)
    }

    /// Asks for up to two missing details, or for confirmation of the summary. What
    /// discovery needs (apps, trigger) is asked first: without it there is nothing to confirm,
    /// and a confirmation asked for earlier no longer stands.
    fn requirements_step(&mut self) {
        if let Some(gap) = self.s.context.requirements.discovery_gap() {
            self.s.context.awaiting = None;
            self.ask(question_of(&gap), gap.question());
            return;
        }
        let gaps = self.s.context.requirements.detail_gaps();
        if let Some(first) = gaps.first() {
            self.s.context.awaiting = None;
            let questions: Vec<String> = gaps.iter().take(2).map(Gap::question).collect();
            self.ask(question_of(first), questions.join("\n"));
        } else {
            self.s.context.awaiting = Some(Awaiting::ConfirmRequirements);
            let req = &self.s.context.requirements;
            let summary = words::summary(req);
            let open = req.open_unknown_tools();
            let notes: String = open.iter().map(|g| format!("{}\n", g.question())).collect();
            self.ask(
                Question::Confirm,
                format!("Here is what I have:\n{summary}\n\n{notes}Shall I build it?"),
            );
            for (label, value) in open.iter().flat_map(Gap::choices) {
                self.offer(Action::new(ActionKind::Choose, label, value));
            }
        }
    }

    // --- questions ----------------------------------------------------------------------

    /// Asks `q` (worded `text`) with the actions that always come with it. The same
    /// question a third time in a row, with no progress in between, comes instead with what
    /// the last reply was read as, what is expected, and concrete choices.
    fn ask(&mut self, q: Question, text: String) {
        let ctx = &mut self.s.context;
        let again = ctx.asked.as_ref() == Some(&q) && !self.progress;
        let times = if again { ctx.asked_times.saturating_add(1) } else { 1 };
        ctx.asked = Some(q.clone());
        ctx.asked_times = times;
        if times >= 3 {
            let understood = match self.heard {
                Heard::OffTopic => "as something other than building your agent",
                Heard::Nothing => "without finding that in it",
            };
            self.say(format!(
                "I still need {}. I read \"{}\" {understood}. Pick one of these, or say it in your own words:",
                words::needed(&q),
                self.last_text
            ));
            for (label, value) in self.choices(&q) {
                self.offer(Action::new(ActionKind::Choose, label, value));
            }
        } else {
            self.say(text);
        }
        self.standing_actions(&q);
    }

    /// The buttons a question always comes with.
    fn standing_actions(&mut self, q: &Question) {
        match q {
            Question::Confirm => {
                self.offer(Action::new(ActionKind::Confirm, "Build it", "yes"));
                self.offer(Action::new(ActionKind::Change, "Change something", ""));
                self.offer(Action::new(ActionKind::GoBack, "Back", "back"));
            }
            Question::Accept => {
                self.offer(Action::new(ActionKind::Accept, "Looks good", "yes"));
                self.offer(Action::new(ActionKind::Change, "Change something", ""));
                self.offer(Action::new(ActionKind::GoBack, "Back", "back"));
            }
            Question::Activate => {
                self.offer(Action::new(ActionKind::Confirm, "Activate", "yes"));
                self.offer(Action::new(ActionKind::Cancel, "Not yet", "no"));
                self.offer(Action::new(ActionKind::GoBack, "Back", "back"));
            }
            Question::Changes => {
                self.offer(Action::new(ActionKind::Export, "Export the agent spec", "export"));
            }
            _ => {}
        }
    }

    /// Concrete answers to `q`, as (label, message to send): the gap's own choices where it
    /// has them, else what only the conversation knows (channels mentioned, the zones).
    fn choices(&self, q: &Question) -> Vec<(String, String)> {
        let pair = |label: &str, value: &str| (label.to_owned(), value.to_owned());
        if let Some(own) = gap_of(q).map(|g| g.choices()).filter(|c| !c.is_empty()) {
            return own;
        }
        match q {
            Question::Integrations => {
                ["Gmail", "Slack", "Google Calendar", "GitHub", "Notion", "Google Sheets"]
                    .iter()
                    .map(|n| pair(n, n))
                    .collect()
            }
            Question::MonthDay => vec![
                pair("The 1st", "on the 1st of every month"),
                pair("The 15th", "on the 15th of every month"),
            ],
            Question::OnceDay => vec![pair("Today", "today"), pair("Tomorrow", "tomorrow")],
            Question::Timezone => {
                let mut out: Vec<(String, String)> =
                    extract::zone_choices().iter().map(|(zone, label)| pair(label, zone)).collect();
                out.push(pair("Skip (use UTC)", "skip"));
                out
            }
            Question::Channel(_) => {
                let mut out: Vec<(String, String)> =
                    self.mentioned_channels().into_iter().map(|c| (c.clone(), c)).collect();
                out.push(pair("Skip (post to #general)", "skip"));
                out
            }
            Question::Recipients => vec![pair("Send it to me", "skip")],
            Question::Changes => vec![pair("Build another agent", "start over")],
            // Their standing actions are the choices; the rest have theirs from the gap.
            Question::Confirm
            | Question::Accept
            | Question::Activate
            | Question::Trigger
            | Question::Days
            | Question::Time
            | Question::UnknownTool(_) => Vec::new(),
        }
    }

    /// Channels named in the recent turns, newest first.
    fn mentioned_channels(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.s.context.recent.iter().rev().filter(|t| t.role == Role::User) {
            for word in
                t.text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '!' | '?' | '(' | ')'))
            {
                let w = crate::case::lower(word.trim_end_matches('.'));
                if w.len() > 1 && w.starts_with('#') && !out.contains(&w) {
                    out.push(w);
                }
            }
        }
        out.truncate(4);
        out
    }

    // --- drafting ---------------------------------------------------------------------

    fn generate(&mut self) -> Flowed {
        if !self.env.asks_llm() {
            let spec = draft_offline(&self.s.context.requirements);
            return self.finish_draft(spec);
        }
        let request = llm::draft_request(&self.s.context.requirements);
        Ok(Flow::Ask(request, "Drafting your agent…", Pending::Draft { repaired: false }))
    }

    fn finish_draft(&mut self, spec: AgentSpec) -> Flowed {
        let mut problems = spec.problems();
        problems.extend(spec.mismatches(&self.s.context.requirements));
        if !problems.is_empty() {
            // Never store an invalid draft: say why and go back to the requirements.
            self.go(Phase::Requirements, Cause::DraftFailed)?;
            self.say(format!("I could not draft a valid agent: {}.", problems.join("; ")));
            self.requirements_step();
            return Ok(Flow::Done);
        }
        let id = match &self.s.draft_agent_id {
            Some(id) => id.clone(),
            None => {
                let bytes = self.random16();
                uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string()
            }
        };
        self.s.draft_agent_id = Some(id.clone());
        self.s.context.draft_revision += 1;
        self.s.context.draft_name = Some(spec.name.clone());
        let run = words::dry_run(&spec, &dry_run(&spec, &self.s.context.connected));
        self.draft = Some(DraftView { id, revision: self.s.context.draft_revision, spec });
        self.go(Phase::Testing, Cause::DraftReady)?;
        let revision = self.s.context.draft_revision;
        let lead = if revision == 1 {
            "Here is the draft".to_owned()
        } else {
            format!("Here is revision {revision}")
        };
        self.say(format!("{lead}, tried on sample data:\n{run}"));
        self.ask(
            Question::Accept,
            "Does this look right? Say \"looks good\" to continue, or tell me what to change.".into(),
        );
        Ok(Flow::Done)
    }

    fn current_draft_name(&self) -> String {
        self.s
            .context
            .draft_name
            .as_ref()
            .map_or_else(|| "your agent".to_owned(), |name| format!("\"{name}\""))
    }

    fn activation_prompt(&mut self) {
        let req = &self.s.context.requirements;
        let when = match (req.trigger(), &req.timezone) {
            (Some(extract::Trigger::Schedule(s)), None) => format!("{} (UTC)", words::schedule(&s)),
            _ => words::when(req).unwrap_or_else(|| "when you start it".into()),
        };
        let accounts: Vec<String> = req
            .providers()
            .iter()
            .map(|p| {
                let status =
                    if !p.needs_oauth() || self.s.is_connected(*p) { "connected" } else { "NOT connected" };
                format!("- {} ({status}): {}", p.display_name(), p.default_scopes().join(", "))
            })
            .collect();
        let text = format!(
            "Ready to switch it on.\nRuns {when}\nAccounts and permissions:\n{}\n\nActivate it?",
            accounts.join("\n")
        );
        self.ask(Question::Activate, text);
    }

    // --- OAuth --------------------------------------------------------------------------

    fn start_oauth(&mut self, p: Provider) -> Result<(), TurnError> {
        if self.s.phase != Phase::OauthFlow {
            self.s.context.resume_phase = Some(self.s.phase);
            self.go(Phase::OauthFlow, Cause::NeedsOauth)?;
        }
        if let Some(old) = self.s.pending_oauth.take() {
            self.s.retire_state(old.state);
        }
        let state: String = self.random16().iter().map(|b| format!("{b:02x}")).collect();
        self.s.pending_oauth = Some(PendingOauth {
            provider: p,
            scopes: p.default_scopes().iter().map(|s| (*s).to_owned()).collect(),
            state,
            started_at_ms: self.env.now_ms,
            expires_at_ms: self.env.now_ms.saturating_add(self.env.oauth_ttl_ms),
        });
        self.say(format!(
            "To let the agent use {name}, connect your {name} account. I'll wait here; anything you tell me meanwhile is kept.",
            name = p.display_name()
        ));
        self.reoffer_connect();
        Ok(())
    }

    fn reoffer_connect(&mut self) {
        if let Some(p) = &self.s.pending_oauth {
            let provider = p.provider;
            // What to connect, not where: each face builds its own link (issue #17).
            self.reply.connect = Some(ConnectRequest {
                provider: provider.id().to_owned(),
                state: p.state.clone(),
                scopes: p.scopes.clone(),
            });
            self.offer(Action::new(
                ActionKind::Connect,
                super::joined(["Connect ", provider.display_name()]),
                provider.id(),
            ));
            self.offer(Action::new(
                ActionKind::DropIntegration,
                super::joined(["Continue without ", provider.display_name()]),
                super::joined(["drop ", provider.id()]),
            ));
        } else if let Some(p) = self.s.context.oauth_failed {
            self.offer(Action::new(ActionKind::Retry, super::joined(["Retry ", p.display_name()]), "retry"));
            self.offer(Action::new(
                ActionKind::DropIntegration,
                super::joined(["Continue without ", p.display_name()]),
                super::joined(["drop ", p.id()]),
            ));
        }
    }

    fn complete_oauth(&mut self, state: &str, approved: bool) -> Flowed {
        let Some(pending) = self.s.pending_oauth.clone().filter(|p| p.state == state) else {
            let why = if self.s.context.used_states.iter().any(|s| s == state) {
                "this authorization was already used (a repeated or late callback); nothing changed"
            } else {
                "this authorization does not match the connection the conversation is waiting for; nothing changed"
            };
            return Err(TurnError::OauthRefused(why.into()));
        };
        self.s.pending_oauth = None;
        self.s.retire_state(pending.state);
        let name = pending.provider.display_name();
        if self.env.now_ms > pending.expires_at_ms || !approved {
            let what = if approved { "expired before it finished" } else { "was declined" };
            self.s.context.oauth_failed = Some(pending.provider);
            self.say(format!(
                "The connection to {name} {what}. Retry, or continue without {name} (the agent will not use it)."
            ));
            self.reoffer_connect();
            return Ok(Flow::Done);
        }
        if !self.s.is_connected(pending.provider) {
            self.s.context.connected.push(pending.provider);
        }
        self.s.context.oauth_failed = None;
        self.say(format!("{name} is connected."));
        self.continue_after_oauth()
    }

    fn drop_integration(&mut self, p: Provider) -> Flowed {
        self.s.context.requirements.drop_integration(p);
        self.s.context.oauth_failed = None;
        self.reply.requirements_changed = true;
        self.say(format!("OK, going on without {}.", p.display_name()));
        self.continue_after_oauth()
    }

    /// The next connection, or back to where the flow was interrupted.
    fn continue_after_oauth(&mut self) -> Flowed {
        if let Some(next) = self.s.next_unconnected() {
            self.start_oauth(next)?;
            return Ok(Flow::Done);
        }
        let resume = self.s.context.resume_phase.take().unwrap_or(Phase::Discovery);
        self.go(resume, Cause::OauthDone)?;
        if resume == Phase::Discovery {
            return self.discovery_step();
        }
        self.requirements_step();
        Ok(Flow::Done)
    }

    // --- navigation ---------------------------------------------------------------------

    fn go_back(&mut self) -> Flowed {
        let Some(target) = back_target(self.s.phase) else {
            let why = match self.s.phase {
                Phase::Complete => {
                    "The agent is active; describe a change to start another iteration instead."
                }
                _ => "There is nothing to go back to yet.",
            };
            self.say(why);
            return Ok(Flow::Done);
        };
        if let Some(pending) = self.s.pending_oauth.take() {
            self.s.retire_state(pending.state);
        }
        self.s.context.oauth_failed = None;
        self.s.context.awaiting = None;
        if self.s.phase == Phase::OauthFlow {
            self.s.context.resume_phase = None;
        }
        self.go(target, Cause::Back)?;
        self.say(format!("Back to {}. Everything so far is kept.", crate::case::lower(self.s.phase.title())));
        self.prompt_for_phase();
        Ok(Flow::Done)
    }

    fn start_over(&mut self) -> Flowed {
        if self.s.phase != Phase::Idle {
            self.go(Phase::Idle, Cause::StartOver)?;
        }
        if let Some(pending) = self.s.pending_oauth.take() {
            self.s.retire_state(pending.state);
        }
        let ctx = &mut self.s.context;
        let connected = std::mem::take(&mut ctx.connected);
        let used = std::mem::take(&mut ctx.used_states);
        let turn = ctx.turn;
        *ctx = Default::default();
        ctx.connected = connected;
        ctx.used_states = used;
        ctx.turn = turn;
        self.discarded_draft = self.s.draft_agent_id.take();
        self.reply.requirements_changed = true;
        self.say("Started over. What should your agent do?");
        Ok(Flow::Done)
    }

    /// Re-asks what the current phase is waiting for.
    fn prompt_for_phase(&mut self) {
        match self.s.phase {
            Phase::Idle => self.say("What should your agent do? For example: \"Every weekday at 9, summarise my unread Gmail and post it to Slack #team\"."),
            Phase::Discovery => {
                let gap = self.s.context.requirements.discovery_gap().unwrap_or(Gap::Integrations);
                self.ask(question_of(&gap), gap.question());
            }
            Phase::OauthFlow => self.reoffer_connect(),
            Phase::Requirements | Phase::Generation => self.requirements_step(),
            Phase::Testing => {
                self.ask(Question::Accept, "Say \"looks good\" to continue, or tell me what to change.".into())
            }
            Phase::Activation => self.activation_prompt(),
            Phase::Complete => self.ask(
                Question::Changes,
                "Your agent is active. Describe a change to start another iteration.".into(),
            ),
        }
    }

    /// Where we are, then what the phase is waiting for (so the answer has a way on).
    fn status(&mut self) {
        let mut text = format!("We are at: {}.", self.s.phase.title());
        let summary = words::summary(&self.s.context.requirements);
        if !summary.is_empty() {
            text.push_str(&format!("\nSo far:\n{summary}"));
        }
        if let Some(p) = &self.s.pending_oauth {
            text.push_str(&format!("\nWaiting for you to connect {}.", p.provider.display_name()));
        }
        self.say(text);
        self.reply.requirements_changed = true;
        self.reprompt_after_aside();
    }

    fn help(&mut self) {
        self.say(
            "I build automation agents from a description. Tell me what should happen, when, and with which apps, \
             e.g. \"every weekday at 9, summarise my unread Gmail and post it to Slack #team\".\n\
             You can also say: \"back\" (previous step), \"start over\", \"status\" (where we are), \"help\".",
        );
        self.reprompt_after_aside();
    }

    /// After an aside (status, help), the phase's question again, with its buttons.
    fn reprompt_after_aside(&mut self) {
        if self.s.phase != Phase::Idle {
            self.prompt_for_phase();
        }
    }
}

/// The move a rule-read intent makes.
fn move_of(intent: Intent) -> Move {
    match intent {
        Intent::Back => Move::Back,
        Intent::StartOver => Move::StartOver,
        Intent::Status => Move::Status,
        Intent::Help => Move::Help,
        Intent::Yes => Move::Confirm,
        Intent::No => Move::Refuse,
        Intent::Quit => Move::Quit,
    }
}

/// The question that fills `gap`.
fn question_of(gap: &Gap) -> Question {
    match gap {
        Gap::Integrations => Question::Integrations,
        Gap::Trigger => Question::Trigger,
        Gap::Days => Question::Days,
        Gap::MonthDay => Question::MonthDay,
        Gap::Time => Question::Time,
        Gap::Timezone => Question::Timezone,
        Gap::Channel(p) => Question::Channel(*p),
        Gap::Recipients => Question::Recipients,
        Gap::UnknownTool(name) => Question::UnknownTool(name.clone()),
        Gap::OnceDay => Question::OnceDay,
    }
}

/// The gap a question fills, for those that fill one.
fn gap_of(q: &Question) -> Option<Gap> {
    Some(match q {
        Question::Integrations => Gap::Integrations,
        Question::Trigger => Gap::Trigger,
        Question::Days => Gap::Days,
        Question::MonthDay => Gap::MonthDay,
        Question::Time => Gap::Time,
        Question::Timezone => Gap::Timezone,
        Question::Channel(p) => Gap::Channel(*p),
        Question::Recipients => Gap::Recipients,
        Question::UnknownTool(name) => Gap::UnknownTool(name.clone()),
        Question::OnceDay => Gap::OnceDay,
        Question::Confirm | Question::Accept | Question::Activate | Question::Changes => return None,
    })
}

/// A short reply: read as the answer to the question asked (longer ones are read as they are).
fn short(text: &str) -> bool {
    text.split_whitespace().count() <= 6
}

/// "skip", "pass", "doesn't matter": take the default the choices offered.
fn is_skip(text: &str) -> bool {
    let t = crate::case::lower(text.trim().trim_end_matches(['.', '!']));
    matches!(
        t.as_str(),
        "skip"
            | "skip it"
            | "skip that"
            | "skip this"
            | "pass"
            | "default"
            | "use the default"
            | "whatever"
            | "no preference"
            | "doesn't matter"
            | "does not matter"
            | "any"
            | "anything"
    )
}

/// The channel of a direct message to the person ("just DM me").
pub(super) const DIRECT: &str = "@me";

/// "DM me", "send it to me directly", "message me": a direct message rather than a channel.
fn is_direct(text: &str) -> bool {
    short(text) && extract::is_direct_answer(text)
}

/// A channel named the way people answer "Which channel?": "deals", "#deals", "the sales
/// channel", "post it in marketing".
fn channel_answer(text: &str) -> Option<String> {
    const NOISE: &[&str] = &[
        "the", "channel", "in", "to", "on", "into", "post", "it", "please", "our", "my", "called", "named",
        "slack", "teams", "discord", "just", "use", "a", "one", "send", "pls", "thanks", "is", "it's", "its",
        "should", "be", "call", "let's", "lets", "go", "with", "for", "that", "that's",
    ];
    // A question back ("what?") or a non-answer is not a channel name.
    const NOT_NAMES: &[&str] = &[
        "what", "huh", "hmm", "hm", "idk", "dunno", "why", "how", "who", "where", "when", "which", "yes",
        "no", "ok", "okay", "maybe", "nothing", "none", "help", "eh", "um", "uh", "sure", "yep", "nope",
    ];
    if !short(text) || text.contains('?') {
        return None;
    }
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            crate::case::lower(
                w.trim_matches(|c: char| !(c.is_alphanumeric() || matches!(c, '#' | '-' | '_'))),
            )
        })
        .filter(|w| !w.is_empty() && !NOISE.contains(&w.as_str()))
        .collect();
    match words.as_slice() {
        [one] => {
            let name = one.trim_start_matches('#');
            let ok = !name.is_empty()
                && !NOT_NAMES.contains(&name)
                && name.len() <= 80
                && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
            ok.then(|| format!("#{name}"))
        }
        _ => None,
    }
}
