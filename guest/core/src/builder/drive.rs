//! The one turn driver: prepare, step through the turn's LLM calls, commit, and run the turn
//! again when another turn of the same session committed first. Sans-IO: the caller
//! answers each LLM call however it can (the component synchronously through its `llm`
//! import, the browser build after an awaited `fetch`), so every binding drives turns with
//! this same code (issue #17).

use super::chat::ChatChunk;
use super::engine::{Input, Step, TurnError};
use super::llm::{LlmError, LlmReply, LlmRequest};
use super::{Builder, BuilderError, Caller, MAX_ATTEMPTS, Prepared, TurnOptions};
use crate::ports::{Clock, Entropy, Store};

/// Where a driven turn is.
#[derive(Debug)]
enum State {
    /// Not prepared yet, or prepared again after losing a compare-and-swap.
    Fresh,
    /// Prepared; its step waits (an LLM call to answer, or the end to commit).
    Running(Box<Prepared>),
    /// Committed or refused: nothing more to do.
    Over,
}

/// What [`TurnDriver::step`] asks of its caller.
#[derive(Debug)]
pub enum Next<'a> {
    /// Answer this completion with [`TurnDriver::resume`], then step again. `progress` is
    /// worth showing while waiting.
    Llm {
        /// What to ask.
        request: &'a LlmRequest,
        /// A progress line for people.
        progress: &'static str,
    },
    /// The turn is stored; these are its chunks.
    Done(Vec<ChatChunk>),
}

/// One turn of one session, driven step by step.
#[derive(Debug)]
pub struct TurnDriver {
    caller: Caller,
    session_id: String,
    input: Input,
    options: TurnOptions,
    state: State,
    attempts: u32,
}

/// Reported instead of panicking if the step just stored were not there.
fn lost() -> BuilderError {
    BuilderError::Internal("the turn's pending LLM call went missing".into())
}

/// A placeholder step while the real one is taken out to be matched.
fn taken() -> Step {
    Step::Done(Err(TurnError::InvalidInput(String::new())))
}

impl TurnDriver {
    /// A turn of `session_id` answering `input`.
    pub fn new(caller: Caller, session_id: impl Into<String>, input: Input, options: TurnOptions) -> Self {
        Self { caller, session_id: session_id.into(), input, options, state: State::Fresh, attempts: 0 }
    }

    /// The session this turn is for.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Runs the turn up to its next LLM call ([`Next::Llm`]) or its end ([`Next::Done`]:
    /// committed). A turn that loses the compare-and-swap is prepared and run again on the
    /// new state, up to [`MAX_ATTEMPTS`] times.
    pub fn step<S: Store, C: Clock, E: Entropy>(
        &mut self,
        builder: &Builder<S, C, E>,
    ) -> Result<Next<'_>, BuilderError> {
        loop {
            let mut prepared = match std::mem::replace(&mut self.state, State::Over) {
                State::Over => return Err(BuilderError::InvalidInput("this turn is already over".into())),
                State::Running(prepared) => prepared,
                State::Fresh if self.attempts >= MAX_ATTEMPTS => {
                    return Err(BuilderError::Contention(MAX_ATTEMPTS));
                }
                State::Fresh => {
                    self.attempts += 1;
                    let input = self.input.clone();
                    Box::new(builder.prepare(&self.caller, &self.session_id, input, self.options)?)
                }
            };
            match std::mem::replace(&mut prepared.step, taken()) {
                Step::Llm(call) => {
                    prepared.step = Step::Llm(call);
                    self.state = State::Running(prepared);
                    // Just put there; re-borrowed so the request is lent, not copied.
                    let State::Running(prepared) = &self.state else { return Err(lost()) };
                    let Step::Llm(call) = &prepared.step else { return Err(lost()) };
                    return Ok(Next::Llm { request: &call.request, progress: call.progress });
                }
                Step::Done(result) => match builder.commit(&prepared, result?)? {
                    Some(done) => return Ok(Next::Done(done.chunks)),
                    // Another turn of this session committed first: run this one again.
                    None => self.state = State::Fresh,
                },
            }
        }
    }

    /// Answers the LLM call the last [`TurnDriver::step`] asked for.
    pub fn resume(&mut self, reply: Result<LlmReply, LlmError>) -> Result<(), BuilderError> {
        let not_waiting =
            || BuilderError::InvalidInput("this turn is not waiting for an LLM answer; step it".into());
        let State::Running(prepared) = &mut self.state else { return Err(not_waiting()) };
        match std::mem::replace(&mut prepared.step, taken()) {
            Step::Llm(call) => {
                prepared.step = call.resume(reply);
                Ok(())
            }
            done => {
                prepared.step = done;
                Err(not_waiting())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use crate::ports::UnixTime;

    struct Clock0;
    impl Clock for Clock0 {
        fn now(&self) -> UnixTime {
            UnixTime { seconds: 1_795_316_842, nanoseconds: 0 }
        }
    }

    struct Zeros;
    impl Entropy for Zeros {
        fn fill(&self, buf: &mut [u8]) {
            buf.fill(7);
        }
    }

    /// The driver asks for each LLM call, takes its answer (a failure here: the rules take
    /// over), commits once, and then refuses to be driven further; an answer nobody asked
    /// for is refused rather than applied.
    #[test]
    fn a_turn_asks_resumes_commits_and_ends() {
        let b = Builder::new(MemoryStore::new(), Clock0, Zeros);
        let who = Caller { tenant_id: "t".into(), user_id: "u".into() };
        let id = b.start_session(&who).expect("start").session_id;
        let text = "Every weekday at 9, summarise my unread Gmail and post it to Slack #team";
        let mut turn = TurnDriver::new(who.clone(), &id, Input::Message(text.into()), TurnOptions::default());
        assert!(matches!(turn.resume(Err(LlmError::NoProvider)), Err(BuilderError::InvalidInput(_))));
        let mut asked = 0;
        let chunks = loop {
            match turn.step(&b).expect("step") {
                Next::Llm { request, .. } => {
                    assert!(!request.messages.is_empty());
                    asked += 1;
                    turn.resume(Err(LlmError::Unavailable("down".into()))).expect("resume");
                }
                Next::Done(chunks) => break chunks,
            }
        };
        assert!(asked >= 1, "an online turn asks the LLM");
        assert!(chunks.last().is_some_and(|c| c.done));
        assert_eq!(b.get_session(&who, &id).expect("stored").context.turn, 1, "committed once");
        assert!(matches!(turn.step(&b), Err(BuilderError::InvalidInput(_))), "an ended turn stays ended");
        assert!(turn.resume(Err(LlmError::NoProvider)).is_err());
    }
}
