//! Conversions between the generated WIT types and kiln-core's types: the whole of the
//! binding layer's logic.

use kiln_core::{Conversation, Precondition, QueueError, StoreError};

use crate::bindings::exports::kiln::engine::queue as wit;
use crate::bindings::kiln::engine::store;

pub fn precondition(p: store::Precondition) -> Precondition {
    match p {
        store::Precondition::Any => Precondition::Any,
        store::Precondition::Absent => Precondition::Absent,
        store::Precondition::Matches(v) => Precondition::Matches(v),
    }
}

pub fn store_error(e: StoreError) -> store::StoreError {
    match e {
        StoreError::Conflict => store::StoreError::Conflict,
        StoreError::InvalidKey(why) => store::StoreError::InvalidKey(why),
        StoreError::Backend(why) => store::StoreError::Backend(why),
    }
}

fn store_error_from_wit(e: store::StoreError) -> StoreError {
    match e {
        store::StoreError::Conflict => StoreError::Conflict,
        store::StoreError::InvalidKey(why) => StoreError::InvalidKey(why),
        store::StoreError::Backend(why) => StoreError::Backend(why),
    }
}

pub fn conversation(c: wit::Conversation) -> Conversation {
    Conversation {
        conversation_id: c.conversation_id,
        prompt: c.prompt,
        created_at: c.created_at,
        workflow_id: c.workflow_id,
        metadata: c.metadata.into_iter().collect(),
    }
}

pub fn queue_error(e: wit::QueueError) -> QueueError {
    match e {
        wit::QueueError::InvalidInput(why) => QueueError::InvalidInput(why),
        wit::QueueError::NotFound(id) => QueueError::NotFound(id),
        wit::QueueError::Corrupt(r) => QueueError::Corrupt { key: r.key, detail: r.detail },
        wit::QueueError::Contention(n) => QueueError::Contention(n),
        wit::QueueError::Store(e) => QueueError::Store(store_error_from_wit(e)),
    }
}
