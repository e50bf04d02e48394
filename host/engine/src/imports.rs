//! The host side of the guest's imports: thin conversions onto [`Services`].

use std::sync::Arc;

use kiln_wire::builder::ChatChunk;
use wasmtime::{ResourceLimiter, StoreLimits};

use crate::bindings::kiln::engine::{builder_types, clock, emit, llm, random, store};
use crate::services::Event;
use crate::services::Services;

/// The data of one wasmtime `Store`: one instance of the guest, reused call after call.
pub struct HostState {
    /// What the running call may reach; swapped in for each call.
    pub services: Services,
    /// The memory limit, remembering how large the memory has grown.
    pub limits: MemoryLimiter,
    /// The chunks the running call has emitted, in order (a turn's response: `turn` hands
    /// them over only through `emit.chunk`).
    pub chunks: Vec<Arc<ChatChunk>>,
}

/// Enforces the per-call limits and remembers the linear memory's size, so a grown
/// instance is dropped rather than kept warm.
pub struct MemoryLimiter {
    enforced: StoreLimits,
    /// The largest linear memory of the instance, in bytes.
    pub memory_bytes: usize,
}

impl MemoryLimiter {
    /// A memory limit of `max_memory_bytes`.
    pub fn new(max_memory_bytes: usize) -> Self {
        Self {
            enforced: wasmtime::StoreLimitsBuilder::new().memory_size(max_memory_bytes).build(),
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
        let entry = self.services.store.get(&key).await?;
        Ok(entry.map(Into::into))
    }

    async fn put(
        &mut self,
        key: String,
        value: Vec<u8>,
        expected: store::Precondition,
    ) -> Result<store::Version, store::StoreError> {
        Ok(self.services.store.put(&key, value, expected.into()).await?)
    }

    async fn delete(
        &mut self,
        key: String,
        expected: store::Precondition,
    ) -> Result<bool, store::StoreError> {
        Ok(self.services.store.delete(&key, expected.into()).await?)
    }

    async fn list(&mut self, prefix: String) -> Result<Vec<String>, store::StoreError> {
        Ok(self.services.store.list(&prefix).await?)
    }
}

impl clock::Host for HostState {
    async fn now(&mut self) -> clock::Datetime {
        let t = self.services.clock.now();
        clock::Datetime { seconds: t.seconds, nanoseconds: t.nanoseconds }
    }
}

impl random::Host for HostState {
    async fn fill(&mut self, len: u32) -> Vec<u8> {
        // A hostile or buggy guest asking for gigabytes gets a bounded answer, not an OOM.
        let mut buf = vec![0; len.min(MAX_RANDOM_BYTES) as usize];
        self.services.random.fill(&mut buf);
        buf
    }
}

impl builder_types::Host for HostState {}

impl llm::Host for HostState {
    async fn complete(&mut self, request: llm::Request) -> Result<llm::Completion, llm::LlmError> {
        let (session_id, request) = request.into();
        let reply = self.services.llm.complete(&session_id, request, self.services.emitter.as_ref()).await;
        reply.map(Into::into).map_err(Into::into)
    }
}

impl emit::Host for HostState {
    async fn progress(&mut self, session_id: String, text: String) {
        self.services.emitter.emit(Event::Progress { session_id, text });
    }

    async fn chunk(&mut self, chunk: builder_types::ChatChunk) {
        let chunk = Arc::new(ChatChunk::from(chunk));
        self.chunks.push(Arc::clone(&chunk));
        self.services.emitter.emit(Event::Chunk(chunk));
    }
}
