//! The conversation queue, run inside the component. The guest owns the logic, skipping
//! unreadable conversations included; this module only converts between kiln-wire's types
//! and the generated WIT types, and words what a listing skipped for people.

use std::sync::Arc;

pub use kiln_wire::queue::CORRUPT_FIELD;
use kiln_wire::queue::{Conversation, NewConversation, QueueError, Started};
use kiln_wire::store::SkippedEntry;
use thiserror::Error;

use crate::bindings::exports::kiln::engine::queue as wit;
use crate::imports::Imports;
use crate::listing::CorruptEntry;
use crate::runtime::{EngineError, Runtime};

/// Why a queue call failed.
#[derive(Debug, Error)]
pub enum QueueFailure {
    /// The queue refused or could not do it.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The engine could not run it.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl QueueFailure {
    /// A stable name for scripts and APIs: the queue's kinds, or `engine`.
    pub fn kind(&self) -> &'static str {
        match self {
            QueueFailure::Queue(e) => e.kind(),
            QueueFailure::Engine(_) => "engine",
        }
    }
}

/// The queue of one store (one tenant), driven through the component.
#[derive(Clone)]
pub struct QueueClient {
    runtime: Arc<Runtime>,
    imports: Imports,
}

impl QueueClient {
    /// A client for the queue in `imports.store`.
    pub fn new(runtime: Arc<Runtime>, imports: Imports) -> Self {
        Self { runtime, imports }
    }

    /// Where a store key lives (a file path for the file store), for error messages.
    pub fn locate(&self, key: &str) -> String {
        self.imports.store.locate(key)
    }

    /// Creates a conversation and appends it to the queue.
    pub async fn add(&self, request: NewConversation) -> Result<Conversation, QueueFailure> {
        let request = wit::NewConversation::from(request);
        let result = self
            .runtime
            .call("add", self.imports.clone(), async |engine, store| {
                engine.kiln_engine_queue().call_add(store, &request).await
            })
            .await?;
        Ok(result.map(Into::into).map_err(QueueError::from)?)
    }

    /// Every queued conversation, oldest first, and the conversations skipped because
    /// their files cannot be read: those still queued and those `next` set aside
    /// (issue #19: one corrupt file used to fail the listing).
    pub async fn list(&self) -> Result<(Vec<Conversation>, Vec<CorruptEntry>), QueueFailure> {
        let result = self
            .runtime
            .call("list-skipping", self.imports.clone(), async |engine, store| {
                engine.kiln_engine_queue().call_list_skipping(store).await
            })
            .await?;
        let listing = result.map_err(QueueError::from)?;
        Ok((
            listing.conversations.into_iter().map(Into::into).collect(),
            listing.skipped.into_iter().map(|s| Self::corrupt_entry(s.into())).collect(),
        ))
    }

    /// Takes the oldest conversation off the queue; `None` when it is empty. A conversation
    /// whose file cannot be read is set aside on the way (moved from the queue to the
    /// index's `corrupt` field, its file untouched) and returned in the second part, so
    /// it never blocks the ones behind it.
    pub async fn next(&self) -> Result<(Option<Conversation>, Vec<CorruptEntry>), QueueFailure> {
        let result = self
            .runtime
            .call("next-skipping", self.imports.clone(), async |engine, store| {
                engine.kiln_engine_queue().call_next_skipping(store).await
            })
            .await?;
        let outcome = result.map_err(QueueError::from)?;
        Ok((
            outcome.conversation.map(Into::into),
            outcome.set_aside.into_iter().map(|s| Self::corrupt_entry(s.into())).collect(),
        ))
    }

    /// Starts a conversation by id, taking it off the queue if it is there. A conversation
    /// `next` set aside as corrupt is taken off the index's `corrupt` field once its file
    /// reads again (`was_queued`), or once its file is gone (not found).
    pub async fn start(&self, conversation_id: &str) -> Result<Started, QueueFailure> {
        let result = self
            .runtime
            .call("start-forgetting", self.imports.clone(), async |engine, store| {
                engine.kiln_engine_queue().call_start_forgetting(store, conversation_id).await
            })
            .await?;
        Ok(result.map(Into::into).map_err(QueueError::from)?)
    }

    /// What a person reads about a skipped conversation, and what to do.
    fn corrupt_entry(skipped: SkippedEntry) -> CorruptEntry {
        let SkippedEntry { key, id, detail } = skipped;
        CorruptEntry {
            error: format!(
                "{key} is corrupt: {detail}. It is left as it is and skipped: fix it (or move it aside), then run \
                 `kiln conversations start {id}` (POST /v1/conversations/{id}/start), which starts it once it \
                 reads, or forgets it once the file is gone"
            ),
            id,
            key,
        }
    }

    /// The workflow step: queues a conversation for `workflow_id`; the workflow pauses on
    /// the returned conversation id.
    pub async fn conversation_step(&self, request: NewConversation) -> Result<String, QueueFailure> {
        let workflow_id = request.workflow_id.unwrap_or_default();
        let metadata: Vec<(String, String)> = request.metadata.into_iter().collect();
        let result = self
            .runtime
            .call("conversation-step", self.imports.clone(), async |engine, store| {
                engine
                    .kiln_engine_queue()
                    .call_conversation_step(store, &request.prompt, &workflow_id, &metadata)
                    .await
            })
            .await?;
        match result.map_err(QueueError::from)? {
            wit::StepOutcome::Paused(id) => Ok(id),
        }
    }
}
