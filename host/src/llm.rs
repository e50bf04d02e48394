//! The guest's `llm` import served by the kiln-llm layer (providers, retry, fallback).
//! Only conversions live here, and the store as the layer's shared state.

use std::sync::Arc;

use async_trait::async_trait;
use kiln_llm::{ChatMessage, CompletionRequest, ErrorClass, LlmFailure, LlmLayer, Reply, Role, StreamEvent};
use kiln_store::{HOST_PREFIX, KvStore};
use kiln_wire::llm::{LlmError, LlmMessage, LlmReply, LlmRequest, LlmRole};
use kiln_wire::store::{Precondition, StoreError};

use kiln_engine::imports::{Emitter, Event, LlmBackend};

/// The LLM layer's shared state (its circuit breakers) in a store, below
/// `kiln-host/llm/`: every process on one store, CLI runs and server instances alike,
/// learns together that a provider is down.
pub struct StoreShared(Arc<dyn KvStore>);

impl StoreShared {
    /// The shared state in `store` (the root store, not a tenant's view).
    pub fn new(store: Arc<dyn KvStore>) -> Self {
        Self(store)
    }

    fn key(key: &str) -> String {
        format!("{HOST_PREFIX}llm/{key}")
    }
}

#[async_trait]
impl kiln_llm::SharedState for StoreShared {
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, String> {
        let entry = self.0.get(&Self::key(key)).await.map_err(|e| e.to_string())?;
        Ok(entry.map(|e| (e.value, e.version)))
    }

    async fn put(&self, key: &str, value: Vec<u8>, expected: Option<u64>) -> Result<bool, String> {
        let expected = expected.map_or(Precondition::Absent, Precondition::Matches);
        match self.0.put(&Self::key(key), value, expected).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The layer as the `llm` import's backend.
pub struct LayerBackend {
    layer: LlmLayer,
}

impl LayerBackend {
    /// Serves the import with `layer`.
    pub fn new(layer: LlmLayer) -> Self {
        Self { layer }
    }

    /// The layer (for its flags).
    pub fn layer(&self) -> &LlmLayer {
        &self.layer
    }
}

#[async_trait]
impl LlmBackend for LayerBackend {
    async fn complete(
        &self,
        session_id: &str,
        request: LlmRequest,
        tokens: &dyn Emitter,
    ) -> Result<LlmReply, LlmError> {
        // The guest's schemas are its own constants; one that does not parse is sent as
        // no schema (the guest validates the answer either way).
        let json_schema = request.json_schema.and_then(|s| serde_json::from_str(&s).ok());
        let call = CompletionRequest {
            messages: chat_messages(request.messages),
            json_schema,
            max_tokens: None,
            session_id: Some(session_id.to_owned()),
            stream: true,
        };
        let mut sink = |event: StreamEvent<'_>| {
            let session_id = session_id.to_owned();
            tokens.emit(match event {
                StreamEvent::Token(t) => Event::Token { session_id, text: t.to_owned() },
                StreamEvent::Discard { .. } => Event::Discard { session_id },
            });
        };
        match self.layer.complete(&call, &mut sink).await {
            Ok(Reply::Completion(c)) => Ok(LlmReply { text: c.text, provider: c.provider, model: c.model }),
            Ok(Reply::Offline(_)) => Err(LlmError::NoProvider),
            Err(failure) => Err(llm_error(failure)),
        }
    }
}

/// The guest's prompt messages as the layer's.
pub fn chat_messages(messages: Vec<LlmMessage>) -> Vec<ChatMessage> {
    let role = |role| match role {
        LlmRole::System => Role::System,
        LlmRole::User => Role::User,
        LlmRole::Assistant => Role::Assistant,
    };
    messages.into_iter().map(|m| ChatMessage::new(role(m.role), m.content)).collect()
}

/// The layer's failure as the guest's `llm-error` (the LLM proxy's error kinds too).
pub fn llm_error(failure: LlmFailure) -> LlmError {
    match failure.class {
        ErrorClass::RateLimited => LlmError::RateLimited(failure.message),
        ErrorClass::Transient => LlmError::Unavailable(failure.message),
        ErrorClass::ContextTooLong => LlmError::ContextTooLong(failure.message),
        ErrorClass::Permanent => LlmError::InvalidRequest(failure.message),
        ErrorClass::BadOutput => LlmError::BadOutput(failure.message),
    }
}
