//! The guest's imports, host side, in one place: [`Imports`] (what serves each import during
//! one call: store, clock, randomness, LLM, emitter), the traits and default implementations
//! behind them, and the wasmtime `Host` impls that turn each import call into a call on them
//! (thin conversions; the guest side is `guest/component/src/ports.rs` and `builder.rs`).
//! The clock and randomness are kiln-wire's `Clock` and `Entropy` ports; tests swap in fixed
//! ones to show the guest is deterministic.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use kiln_store::KvStore;
use kiln_wire::builder::ChatChunk;
use kiln_wire::clock::{Clock, Entropy, UnixTime};
use kiln_wire::llm::{LlmError, LlmReply, LlmRequest};
use wasmtime::{ResourceLimiter, StoreLimits};

use crate::bindings::kiln::engine::{builder_types, clock, emit, llm, random, store};

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

/// What serves the guest's imports during one call, one field per import: its store (already
/// scoped to one tenant), a clock, randomness, an LLM and somewhere to emit to. Every call
/// gets its own; a warm instance holds none of them between calls.
#[derive(Clone)]
pub struct Imports {
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

impl Imports {
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

    /// The same imports with another emitter (one per streamed request).
    pub fn with_emitter(&self, emitter: Arc<dyn Emitter>) -> Self {
        Self { emitter, ..self.clone() }
    }
}

/// The data of one wasmtime `Store`: one instance of the guest, reused call after call.
pub(crate) struct HostState {
    /// What the running call may reach; swapped in for each call.
    pub imports: Imports,
    /// The memory limit, remembering how large the memory has grown.
    pub limits: MemoryLimiter,
    /// The chunks the running call has emitted, in order (a turn's response: `turn` hands
    /// them over only through `emit.chunk`).
    pub chunks: Vec<Arc<ChatChunk>>,
}

/// Enforces the per-call limits and remembers the linear memory's size, so a grown
/// instance is dropped rather than kept warm.
pub(crate) struct MemoryLimiter {
    enforced: StoreLimits,
    /// The largest linear memory of the instance, in bytes.
    pub memory_bytes: usize,
}

impl MemoryLimiter {
    /// A memory limit of `max_memory_bytes`. Growing past it traps, naming the size asked
    /// for, rather than failing the guest's allocation (which aborts it with a bare
    /// `unreachable` that does not say why).
    pub fn new(max_memory_bytes: usize) -> Self {
        Self {
            enforced: wasmtime::StoreLimitsBuilder::new()
                .memory_size(max_memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
            memory_bytes: 0,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.enforced.memory_growing(current, desired, maximum)?;
        if allowed {
            self.memory_bytes = self.memory_bytes.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.enforced.table_growing(current, desired, maximum)
    }
}

/// The guest may ask for at most this many random bytes per call.
const MAX_RANDOM_BYTES: u32 = 1024 * 1024;

impl store::Host for HostState {
    async fn get(&mut self, key: String) -> Result<Option<store::Entry>, store::StoreError> {
        let entry = self.imports.store.get(&key).await?;
        Ok(entry.map(Into::into))
    }

    async fn put(
        &mut self,
        key: String,
        value: Vec<u8>,
        expected: store::Precondition,
    ) -> Result<store::Version, store::StoreError> {
        Ok(self.imports.store.put(&key, value, expected.into()).await?)
    }

    async fn delete(
        &mut self,
        key: String,
        expected: store::Precondition,
    ) -> Result<bool, store::StoreError> {
        Ok(self.imports.store.delete(&key, expected.into()).await?)
    }

    async fn list(&mut self, prefix: String) -> Result<Vec<String>, store::StoreError> {
        Ok(self.imports.store.list(&prefix).await?)
    }
}

impl clock::Host for HostState {
    async fn now(&mut self) -> clock::Datetime {
        let t = self.imports.clock.now();
        clock::Datetime { seconds: t.seconds, nanoseconds: t.nanoseconds }
    }
}

impl random::Host for HostState {
    async fn fill(&mut self, len: u32) -> Vec<u8> {
        // A hostile or buggy guest asking for gigabytes gets a bounded answer, not an OOM.
        let mut buf = vec![0; len.min(MAX_RANDOM_BYTES) as usize];
        self.imports.random.fill(&mut buf);
        buf
    }
}

impl builder_types::Host for HostState {}

impl llm::Host for HostState {
    async fn complete(&mut self, request: llm::Request) -> Result<llm::Completion, llm::LlmError> {
        let (session_id, request) = request.into();
        let reply = self.imports.llm.complete(&session_id, request, self.imports.emitter.as_ref()).await;
        reply.map(Into::into).map_err(Into::into)
    }
}

impl emit::Host for HostState {
    async fn progress(&mut self, session_id: String, text: String) {
        self.imports.emitter.emit(Event::Progress { session_id, text });
    }

    async fn chunk(&mut self, chunk: builder_types::ChatChunk) {
        let chunk = Arc::new(ChatChunk::from(chunk));
        self.chunks.push(Arc::clone(&chunk));
        self.imports.emitter.emit(Event::Chunk(chunk));
    }
}
