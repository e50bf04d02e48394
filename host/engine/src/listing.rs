//! What a listing says about the entries it skipped (issue #19): the engine's listings skip
//! an entry whose stored value cannot be read and name it (`queue.list-skipping`,
//! `next-skipping`, `builder.list-sessions-skipping`); the clients word each for people.

use serde::Serialize;

/// An entry a listing skipped because its stored data cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorruptEntry {
    /// The session or conversation id.
    pub id: String,
    /// Its store key (for messages that point at the file: `KvStore::locate`); not
    /// sent to API clients, which have no use for the server's paths.
    #[serde(skip)]
    pub key: String,
    /// What is wrong with which key, and what to do.
    pub error: String,
}
