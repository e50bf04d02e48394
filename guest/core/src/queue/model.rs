//! The on-disk shapes of the queue, compatible with the artificer-conversations module:
//! `conversations/index.json` = `{"queue": [ids...]}` and `conversations/<id>.json`.

pub use kiln_wire::queue::{Conversation, Index};
use serde::Serialize;

/// Pretty JSON with a trailing newline, the way the Python module writes its files.
pub(crate) fn to_pretty_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail: every key is a string.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
