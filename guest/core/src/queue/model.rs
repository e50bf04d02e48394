//! The on-disk shapes of the queue, compatible with the artificer-conversations module:
//! `conversations/index.json` = `{"queue": [ids...]}` and `conversations/<id>.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

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

/// Pretty JSON with a trailing newline, the way the Python module writes its files.
pub(crate) fn to_pretty_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail: every key is a string.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
