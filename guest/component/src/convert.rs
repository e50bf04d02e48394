//! Conversions between kiln-core types and the generated WIT types.

use kiln_core::{Precondition, QueueError, StoreError};

use crate::bindings::exports::kiln::engine::queue as wit;
use crate::bindings::kiln::engine::store as wit_store;

pub fn precondition(p: Precondition) -> wit_store::Precondition {
    match p {
        Precondition::Any => wit_store::Precondition::Any,
        Precondition::Absent => wit_store::Precondition::Absent,
        Precondition::Matches(v) => wit_store::Precondition::Matches(v),
    }
}

pub fn store_error_from_wit(e: wit_store::StoreError) -> StoreError {
    match e {
        wit_store::StoreError::Conflict => StoreError::Conflict,
        wit_store::StoreError::InvalidKey(why) => StoreError::InvalidKey(why),
        wit_store::StoreError::Backend(why) => StoreError::Backend(why),
    }
}

fn store_error_to_wit(e: StoreError) -> wit_store::StoreError {
    match e {
        StoreError::Conflict => wit_store::StoreError::Conflict,
        StoreError::InvalidKey(why) => wit_store::StoreError::InvalidKey(why),
        StoreError::Backend(why) => wit_store::StoreError::Backend(why),
    }
}

pub fn queue_error(e: QueueError) -> wit::QueueError {
    match e {
        QueueError::InvalidInput(why) => wit::QueueError::InvalidInput(why),
        QueueError::NotFound(id) => wit::QueueError::NotFound(id),
        QueueError::Corrupt { key, detail } => wit::QueueError::Corrupt(wit::CorruptRecord { key, detail }),
        QueueError::Contention(n) => wit::QueueError::Contention(n),
        QueueError::Store(e) => wit::QueueError::Store(store_error_to_wit(e)),
    }
}

pub fn conversation(c: kiln_core::Conversation) -> wit::Conversation {
    wit::Conversation {
        conversation_id: c.conversation_id,
        prompt: c.prompt,
        created_at: c.created_at,
        workflow_id: c.workflow_id,
        metadata: c.metadata.into_iter().collect(),
    }
}

pub fn new_conversation(r: wit::NewConversation) -> kiln_core::NewConversation {
    kiln_core::NewConversation {
        prompt: r.prompt,
        workflow_id: r.workflow_id,
        metadata: r.metadata.into_iter().collect(),
    }
}

pub fn started(s: kiln_core::Started) -> wit::Started {
    wit::Started { conversation: conversation(s.conversation), was_queued: s.was_queued }
}
