//! One turn of the builder conversation, sans-IO: [`begin`] takes a session and an input
//! and returns a [`Step`]: either an LLM completion it needs (resume it with the answer via
//! [`LlmCall::resume`]) or the finished turn. Time and randomness come in [`TurnEnv`];
//! nothing here touches storage, so the component (sync imports) and the browser (async
//! fetch) drive the same logic.

use super::agent::{AgentSpec, draft_offline, dry_run};
use super::chat::{Action, ActionKind, ChatChunk, DraftView};
use super::llm::{self, LlmError, LlmReply, LlmRequest};
use super::phase::{Cause, Phase, TransitionRefused, back_target};
use super::requirements::{Gap, Sourced};
use super::session::{Awaiting, PendingOauth, Role, Session};
use crate::extract::{self, Extraction, Intent, Provider, Reading};

/// Longest accepted message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// What arrives in a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
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
                let parsed = reply
                    .map_err(|_| None)
                    .and_then(|r| llm::parse_extraction(&r.text).map_err(|e| Some((r.text, e))));
                match parsed {
                    Ok(ex) => turn.run(|t| t.apply(&Reading::new(&text), ex, change)),
                    Err(Some((bad, problem))) if !repaired => Step::Llm(LlmCall {
                        request: llm::repair_request(request, &bad, &problem),
                        progress: "Reading that again…",
                        turn,
                        pending: Pending::Extract { text, change, repaired: true },
                    }),
                    // No provider, every provider failed, or a second bad answer: the rules.
                    Err(_) => {
                        let msg = Reading::new(&text);
                        turn.run(|t| t.apply(&msg, msg.extract(), change))
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
    oauth_url: Option<String>,
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
            last.oauth_url = reply.oauth_url;
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
        Ok(self.s.transition(to, cause)?)
    }

    // --- messages -------------------------------------------------------------------

    fn message(&mut self, text: &str) -> Flowed {
        self.s.remember(Role::User, text);
        // Tokenised once for the whole turn.
        let msg = Reading::new(text);
        let intent = msg.intent();
        if self.s.context.awaiting == Some(Awaiting::ConfirmStartOver) {
            self.s.context.awaiting = None;
            match intent {
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
            Some(Intent::Back) => return self.go_back(),
            Some(Intent::StartOver) => {
                self.s.context.awaiting = Some(Awaiting::ConfirmStartOver);
                self.say("Start over? The requirements and draft of this conversation will be cleared (connected accounts stay connected).");
                self.offer(Action::new(ActionKind::Confirm, "Yes, start over", "yes"));
                self.offer(Action::new(ActionKind::Cancel, "No, keep going", "no"));
                return Ok(Flow::Done);
            }
            Some(Intent::Status) => {
                self.status();
                return Ok(Flow::Done);
            }
            Some(Intent::Help) => {
                self.help();
                return Ok(Flow::Done);
            }
            Some(Intent::Quit) => {
                self.say(format!(
                    "Your conversation is saved. Resume it any time with session id {}.",
                    self.s.session_id
                ));
                return Ok(Flow::Done);
            }
            _ => {}
        }
        match self.s.phase {
            Phase::Idle => {
                self.go(Phase::Discovery, Cause::FirstMessage)?;
                self.understand(&msg, false)
            }
            Phase::Discovery => self.understand(&msg, false),
            Phase::OauthFlow => self.message_while_waiting(&msg, intent),
            Phase::Requirements => match (intent, self.s.context.awaiting) {
                (Some(Intent::Yes), Some(Awaiting::ConfirmRequirements)) => {
                    self.s.context.awaiting = None;
                    self.go(Phase::Generation, Cause::RequirementsConfirmed)?;
                    self.generate()
                }
                (Some(Intent::No), _) => {
                    self.s.context.awaiting = None;
                    self.say("No problem. What would you like to change?");
                    Ok(Flow::Done)
                }
                (Some(Intent::Yes), _) => {
                    self.requirements_step();
                    Ok(Flow::Done)
                }
                _ => self.understand(&msg, false),
            },
            Phase::Generation => self.generate(),
            Phase::Testing => match intent {
                Some(Intent::Yes) => {
                    self.go(Phase::Activation, Cause::DraftAccepted)?;
                    self.activation_prompt();
                    Ok(Flow::Done)
                }
                Some(Intent::No) => {
                    self.say("What should change? For example \"make it 8 instead\" or \"post to #ops\".");
                    Ok(Flow::Done)
                }
                _ => self.change_request(&msg),
            },
            Phase::Activation => match intent {
                Some(Intent::Yes) => {
                    self.go(Phase::Complete, Cause::Activated)?;
                    let name = self.current_draft_name();
                    self.say(format!(
                        "Done: {name} is active. Describe a change any time to start another iteration."
                    ));
                    self.offer(Action::new(ActionKind::Export, "Export the agent spec", "export"));
                    Ok(Flow::Done)
                }
                Some(Intent::No) => {
                    self.say("Not activated. Tell me what to change, or say \"back\" to look at the dry run again.");
                    self.offer(Action::new(ActionKind::GoBack, "Back to the dry run", "back"));
                    Ok(Flow::Done)
                }
                _ => self.change_request(&msg),
            },
            Phase::Complete => match intent {
                Some(Intent::Yes) | Some(Intent::No) => {
                    self.say("Your agent is active. Describe a change to start another iteration.");
                    Ok(Flow::Done)
                }
                _ => self.change_request(&msg),
            },
        }
    }

    fn change_request(&mut self, msg: &Reading) -> Flowed {
        self.go(Phase::Requirements, Cause::ChangeRequested)?;
        self.s.context.iteration += 1;
        self.s.context.awaiting = None;
        self.understand(msg, true)
    }

    fn message_while_waiting(&mut self, msg: &Reading, intent: Option<Intent>) -> Flowed {
        let lower = msg.text().to_lowercase();
        if let Some(p) = self.s.context.oauth_failed {
            if lower.starts_with("retry") || lower.starts_with("try again") || intent == Some(Intent::Yes) {
                self.s.context.oauth_failed = None;
                self.start_oauth(p)?;
                return Ok(Flow::Done);
            }
            if lower.starts_with("drop")
                || lower.starts_with("skip")
                || lower.starts_with("without")
                || intent == Some(Intent::No)
            {
                return self.drop_integration(p);
            }
        }
        let waiting_for = self.s.pending_oauth.as_ref().map(|p| p.provider);
        if let Some(p) = waiting_for
            && (lower.starts_with("drop")
                || lower.starts_with("skip")
                || lower.starts_with("without")
                || intent == Some(Intent::No))
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
        self.understand(msg, false)
    }

    /// Asks the LLM what the message says; the rules answer when it cannot.
    /// `change` marks a change request already known as such (a phase that only takes
    /// changes); otherwise the text itself tells.
    fn understand(&mut self, msg: &Reading, change: bool) -> Flowed {
        let text = msg.text();
        if !self.env.llm {
            let (ex, said_change) = msg.extract_with_change();
            return self.apply(msg, ex, change || said_change);
        }
        let change = change || msg.is_change_request();
        let request = llm::extraction_request(&self.s, text, self.env.context_on);
        Ok(Flow::Ask(
            request,
            "Thinking…",
            Pending::Extract { text: text.to_owned(), change, repaired: false },
        ))
    }

    /// Applies what a message said and moves the conversation on.
    fn apply(&mut self, msg: &Reading, ex: Extraction, change: bool) -> Flowed {
        let text = msg.text();
        let turn = self.s.context.turn;
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
        if !said && msg.looks_off_topic(&ex) {
            self.say(
                "I can only help with building automation agents: what they react to, which apps they use and \
                 what they do. Say \"help\" to see what I can do.",
            );
            self.prompt_for_phase();
            return Ok(Flow::Done);
        }
        if said {
            self.say(super::joined(["Noted.\n", &self.s.context.requirements.summary()]));
        }
        match self.s.phase {
            Phase::Discovery => self.discovery_step(),
            Phase::OauthFlow => {
                self.say("I'll keep that in mind.");
                self.reoffer_connect();
                Ok(Flow::Done)
            }
            _ => {
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
            self.say(gap.question());
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
            self.say(gap.question());
            return;
        }
        let gaps = self.s.context.requirements.detail_gaps();
        if gaps.is_empty() {
            self.s.context.awaiting = Some(Awaiting::ConfirmRequirements);
            let summary = self.s.context.requirements.summary();
            self.say(format!("Here is what I have:\n{summary}\n\nShall I build it?"));
            self.offer(Action::new(ActionKind::Confirm, "Build it", "yes"));
            self.offer(Action::new(ActionKind::Change, "Change something", ""));
            self.offer(Action::new(ActionKind::GoBack, "Back", "back"));
        } else {
            self.s.context.awaiting = None;
            let questions: Vec<String> = gaps.iter().take(2).map(Gap::question).collect();
            self.say(questions.join("\n"));
        }
    }

    // --- drafting ---------------------------------------------------------------------

    fn generate(&mut self) -> Flowed {
        if !self.env.llm {
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
        let run = dry_run(&spec, &self.s.context.connected);
        self.draft = Some(DraftView { id, revision: self.s.context.draft_revision, spec });
        self.go(Phase::Testing, Cause::DraftReady)?;
        let revision = self.s.context.draft_revision;
        let lead = if revision == 1 {
            "Here is the draft".to_owned()
        } else {
            format!("Here is revision {revision}")
        };
        self.say(format!("{lead}, tried on sample data:\n{}", run.render()));
        self.say("Does this look right? Say \"looks good\" to continue, or tell me what to change.");
        self.offer(Action::new(ActionKind::Accept, "Looks good", "yes"));
        self.offer(Action::new(ActionKind::Change, "Change something", ""));
        self.offer(Action::new(ActionKind::GoBack, "Back", "back"));
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
        let when = match req.trigger() {
            Some(extract::Trigger::Schedule(s)) => {
                let tz = req.timezone.as_ref().map_or("UTC", |t| t.value.as_str()).to_owned();
                format!("{} ({tz})", s.describe())
            }
            Some(extract::Trigger::Event { provider, event }) => {
                format!("when {} sends {event}", provider.display_name())
            }
            _ => "when you start it".into(),
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
        self.say(format!(
            "Ready to switch it on.\nRuns: {when}\nAccounts and permissions:\n{}\n\nActivate it?",
            accounts.join("\n")
        ));
        self.offer(Action::new(ActionKind::Confirm, "Activate", "yes"));
        self.offer(Action::new(ActionKind::Cancel, "Not yet", "no"));
        self.offer(Action::new(ActionKind::GoBack, "Back", "back"));
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
            // Rebuilt on every turn typed while waiting: joined, not formatted.
            self.reply.oauth_url = Some(super::joined([
                "/oauth/start?session_id=",
                &self.s.session_id,
                "&provider=",
                provider.id(),
                "&state=",
                &p.state,
            ]));
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
        self.say(format!("Back to {}. Everything so far is kept.", self.s.phase.title().to_lowercase()));
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
                let q = self.s.context.requirements.discovery_gap().map_or_else(
                    || "Tell me more about what the agent should do.".to_owned(),
                    |g| g.question(),
                );
                self.say(q);
            }
            Phase::OauthFlow => self.reoffer_connect(),
            Phase::Requirements | Phase::Generation => self.requirements_step(),
            Phase::Testing => {
                self.say("Say \"looks good\" to continue, or tell me what to change.");
                self.offer(Action::new(ActionKind::Accept, "Looks good", "yes"));
            }
            Phase::Activation => self.activation_prompt(),
            Phase::Complete => self.say("Your agent is active. Describe a change to start another iteration."),
        }
    }

    fn status(&mut self) {
        let mut text = format!("We are at: {} ({}).", self.s.phase.title(), self.s.phase.name());
        let summary = self.s.context.requirements.summary();
        if !summary.is_empty() {
            text.push_str(&format!("\nSo far:\n{summary}"));
        }
        if let Some(p) = &self.s.pending_oauth {
            text.push_str(&format!("\nWaiting for you to connect {}.", p.provider.display_name()));
        }
        self.say(text);
        self.reply.requirements_changed = true;
        if self.s.phase == Phase::OauthFlow {
            self.reoffer_connect();
        }
    }

    fn help(&mut self) {
        self.say(
            "I build automation agents from a description. Tell me what should happen, when, and with which apps, \
             e.g. \"every weekday at 9, summarise my unread Gmail and post it to Slack #team\".\n\
             You can also say: \"back\" (previous step), \"start over\", \"status\" (where we are), \"help\".",
        );
        if self.s.phase == Phase::OauthFlow {
            self.reoffer_connect();
        }
    }
}
