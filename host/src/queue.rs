//! The conversation queue, run inside the component. The guest owns the logic; this module
//! only converts between kiln-core's types and the generated WIT types.

use std::sync::Arc;

use kiln_core::{Conversation, NewConversation, QueueError, Started};
use thiserror::Error;

use crate::bindings::exports::kiln::engine::queue as wit;
use crate::convert::{conversation, queue_error};
use crate::runtime::{EngineError, Runtime};
use crate::services::Services;

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
    services: Services,
}

impl QueueClient {
    /// A client for the queue in `services.store`.
    pub fn new(runtime: Arc<Runtime>, services: Services) -> Self {
        Self { runtime, services }
    }

    /// Where a store key lives (a file path for the file store), for error messages.
    pub fn locate(&self, key: &str) -> String {
        self.services.store.locate(key)
    }

    /// Creates a conversation and appends it to the queue.
    pub async fn add(&self, request: NewConversation) -> Result<Conversation, QueueFailure> {
        let request = wit::NewConversation {
            prompt: request.prompt,
            workflow_id: request.workflow_id,
            metadata: request.metadata.into_iter().collect(),
        };
        let result = self
            .runtime
            .call("add", self.services.clone(), async |engine, store| {
                engine.kiln_engine_queue().call_add(store, &request).await
            })
            .await?;
        Ok(result.map(conversation).map_err(queue_error)?)
    }

    /// Every queued conversation, oldest first.
    pub async fn list(&self) -> Result<Vec<Conversation>, QueueFailure> {
        let result = self
            .runtime
            .call("list", self.services.clone(), async |engine, store| {
                engine.kiln_engine_queue().call_list(store).await
            })
            .await?;
        Ok(result.map_err(queue_error)?.into_iter().map(conversation).collect())
    }

    /// Takes the oldest conversation off the queue; `None` when it is empty.
    pub async fn next(&self) -> Result<Option<Conversation>, QueueFailure> {
        let result = self
            .runtime
            .call("next", self.services.clone(), async |engine, store| {
                engine.kiln_engine_queue().call_next(store).await
            })
            .await?;
        Ok(result.map_err(queue_error)?.map(conversation))
    }

    /// Starts a conversation by id, taking it off the queue if it is there.
    pub async fn start(&self, conversation_id: &str) -> Result<Started, QueueFailure> {
        let result = self
            .runtime
            .call("start", self.services.clone(), async |engine, store| {
                engine.kiln_engine_queue().call_start(store, conversation_id).await
            })
            .await?;
        let started = result.map_err(queue_error)?;
        Ok(Started { conversation: conversation(started.conversation), was_queued: started.was_queued })
    }

    /// The workflow step: queues a conversation for `workflow_id`; the workflow pauses on
    /// the returned conversation id.
    pub async fn conversation_step(&self, request: NewConversation) -> Result<String, QueueFailure> {
        let workflow_id = request.workflow_id.unwrap_or_default();
        let metadata: Vec<(String, String)> = request.metadata.into_iter().collect();
        let result = self
            .runtime
            .call("conversation-step", self.services.clone(), async |engine, store| {
                engine
                    .kiln_engine_queue()
                    .call_conversation_step(store, &request.prompt, &workflow_id, &metadata)
                    .await
            })
            .await?;
        match result.map_err(queue_error)? {
            wit::StepOutcome::Paused(id) => Ok(id),
        }
    }
}
