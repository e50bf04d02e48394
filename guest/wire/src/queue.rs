//! The conversation queue's vocabulary: what the `queue` export takes and returns, and its
//! storage layout (compatible with the artificer-conversations module), which hosts that
//! list around corrupt entries read too (issue #19).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::store::StoreError;

/// A conversation as stored in `conversations/<id>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// A UUID v4 (or any plain id written by another tool).
    pub conversation_id: String,
    /// The opening text.
    pub prompt: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The workflow waiting on this conversation, if any.
    #[serde(default)]
    pub workflow_id: Option<String>,
    /// Free-form key/value pairs.
    #[serde(default, deserialize_with = "metadata_as_text")]
    pub metadata: BTreeMap<String, String>,
}

/// Kiln's metadata values are text. Files written by other tools may hold numbers, booleans
/// or nested values; they are read as their JSON text (`3`, `true`, `{"a":1}`) rather than
/// refused, and since conversation files are never rewritten nothing on disk changes.
fn metadata_as_text<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = Option::<Map<String, Value>>::deserialize(d)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect())
}

/// What to add to the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewConversation {
    /// The opening text; must not be blank.
    pub prompt: String,
    /// The workflow waiting on it, if any.
    pub workflow_id: Option<String>,
    /// Free-form key/value pairs.
    pub metadata: BTreeMap<String, String>,
}

/// The result of the queue's `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The conversation.
    pub conversation: Conversation,
    /// Whether `start` took it off the queue.
    pub was_queued: bool,
}

/// Why a queue operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueueError {
    /// The request itself is wrong.
    #[error("{0}")]
    InvalidInput(String),
    /// No conversation has this id.
    #[error("no conversation with id {0:?}; `kiln conversations list` shows the queued ones")]
    NotFound(String),
    /// Stored data cannot be read; nothing was written.
    #[error("{key} is corrupt: {detail}. Kiln left it untouched: fix it or move it aside, then retry")]
    Corrupt {
        /// The store key.
        key: String,
        /// What is wrong with it.
        detail: String,
    },
    /// Other writers kept winning the compare-and-swap.
    #[error(
        "gave up after {0} attempts because other writers kept changing the queue at the same moment; retry"
    )]
    Contention(u32),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl QueueError {
    /// A stable name for scripts and APIs (`not-found`, `corrupt`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            QueueError::InvalidInput(_) => "invalid-input",
            QueueError::NotFound(_) => "not-found",
            QueueError::Corrupt { .. } => "corrupt",
            QueueError::Contention(_) => "contention",
            QueueError::Store(_) => "store",
        }
    }
}

/// Store key of the queue index.
pub const INDEX_KEY: &str = "conversations/index.json";
/// How many compare-and-swap rounds one operation tries before reporting contention.
pub const MAX_ATTEMPTS: u32 = 1000;
/// How long a conversation `next` handed out stays leased: unless `start` confirms it
/// within this time, it goes back to the front of the queue (docs/stores.md, "What `next`
/// guarantees").
pub const LEASE_MS: u64 = 10 * 60 * 1000;
/// The index field holding the conversations `next-skipping` set aside as unreadable: id ->
/// what is wrong. Kept out of `queue` so tools that read only `queue` never meet them; the
/// queue keeps fields it does not know whenever it rewrites the index.
pub const CORRUPT_FIELD: &str = "corrupt";
/// Store key of one conversation.
pub fn conversation_key(id: &str) -> String {
    format!("conversations/{id}.json")
}

/// The queue index, `conversations/index.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Queued conversation ids, oldest first.
    pub queue: Vec<String>,
    /// Conversations `next` handed out and nobody started yet: id -> when the lease ends
    /// (Unix milliseconds). An ended lease puts the id back at the front of the queue.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub leased: BTreeMap<String, u64>,
    /// Fields other tools put in the index: kept as they are whenever Kiln rewrites it.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
