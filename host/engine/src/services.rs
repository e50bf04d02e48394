//! The nondeterministic inputs the host supplies to the guest besides storage, behind
//! kiln-core's own `Clock` and `Entropy` ports. Tests swap in fixed ones to show the guest
//! is deterministic.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use kiln_wire::builder::ChatChunk;
use kiln_wire::clock::{Clock, Entropy, UnixTime};
use kiln_wire::llm::{LlmError, LlmReply, LlmRequest};

use kiln_store::KvStore;

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        // A clock set before 1970 reads as the epoch rather than failing the call.
        let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        UnixTime { seconds: d.as_secs(), nanoseconds: d.subsec_nanos() }
    }
}

/// The operating system's random generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Entropy for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // getrandom fails only when the OS has no entropy source at all, which no supported
        // platform lacks; abort loudly rather than hand the guest predictable bytes.
        if let Err(e) = getrandom::fill(buf) {
            panic!("the operating system's random generator failed: {e}");
        }
    }
}

/// Completions for the guest's `llm` import. Retry and fallback live behind this.
#[async_trait::async_trait]
pub trait LlmBackend: Send + Sync {
    /// One completion for `session_id`; streamed text goes to `tokens` as it arrives.
    async fn complete(
        &self,
        session_id: &str,
        request: LlmRequest,
        tokens: &dyn Emitter,
    ) -> Result<LlmReply, LlmError>;
}

/// No provider configured: the guest uses its rule-based path.
#[derive(Debug, Default, Clone, Copy)]
pub struct Offline;

#[async_trait::async_trait]
impl LlmBackend for Offline {
    async fn complete(&self, _: &str, _: LlmRequest, _: &dyn Emitter) -> Result<LlmReply, LlmError> {
        Err(LlmError::NoProvider)
    }
}

/// What a turn emits while it runs, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Work in progress (not part of the stored response).
    Progress {
        /// The session.
        session_id: String,
        /// What is happening.
        text: String,
    },
    /// A piece of a model's reply as it streams (the model's raw output, often JSON the
    /// engine will validate; not part of the stored response).
    Token {
        /// The session.
        session_id: String,
        /// The next piece.
        text: String,
    },
    /// The tokens streamed since the last discard belong to an attempt that failed; another
    /// attempt (same or next provider) follows.
    Discard {
        /// The session.
        session_id: String,
    },
    /// A committed response chunk (shared with the turn's own list of its chunks).
    Chunk(Arc<ChatChunk>),
}

/// Receives a turn's events as they happen (printed by `kiln chat`, streamed by the server).
pub trait Emitter: Send + Sync {
    /// One event.
    fn emit(&self, event: Event);
}

/// Drops events (callers that only use the returned chunks).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Emitter for Silent {
    fn emit(&self, _: Event) {}
}

impl<F: Fn(Event) + Send + Sync> Emitter for F {
    fn emit(&self, event: Event) {
        self(event)
    }
}

/// Everything one guest call can reach: its store (already scoped to one tenant), a clock,
/// randomness, an LLM and somewhere to emit to.
#[derive(Clone)]
pub struct Services {
    /// The store behind the `store` import.
    pub store: Arc<dyn KvStore>,
    /// The clock behind the `clock` import.
    pub clock: Arc<dyn Clock + Send + Sync>,
    /// The randomness behind the `random` import.
    pub random: Arc<dyn Entropy + Send + Sync>,
    /// The LLM behind the `llm` import.
    pub llm: Arc<dyn LlmBackend>,
    /// Where the `emit` import goes.
    pub emitter: Arc<dyn Emitter>,
}

impl Services {
    /// The store with the system clock, OS randomness, no LLM and no emitter.
    pub fn system(store: Arc<dyn KvStore>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            llm: Arc::new(Offline),
            emitter: Arc::new(Silent),
        }
    }

    /// The same services with another emitter (one per streamed request).
    pub fn with_emitter(&self, emitter: Arc<dyn Emitter>) -> Self {
        Self { emitter, ..self.clone() }
    }
}
