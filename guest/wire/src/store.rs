//! The store contract: what the `store` import promises, shared by the guest's core and
//! every host backend. [`MemoryStore`] is its reference implementation.

use std::collections::BTreeMap;
use std::sync::Mutex;

use thiserror::Error;

/// An opaque token for the bytes stored under one key; only equality matters.
pub type Version = u64;

/// The bytes stored under a key, with their version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The stored bytes.
    pub value: Vec<u8>,
    /// Their version.
    pub version: Version,
}

/// What a write expects to find (compare-and-swap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Write whatever is there.
    Any,
    /// The key must not exist yet.
    Absent,
    /// The key must still hold exactly this version.
    Matches(Version),
}

impl Precondition {
    /// Whether the precondition holds for a key currently at `current` (`None` = absent).
    pub fn holds(self, current: Option<Version>) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::Absent => current.is_none(),
            Precondition::Matches(v) => current == Some(v),
        }
    }

    /// The precondition that a read of `entry` makes true: "still what I read".
    pub fn unchanged_since(entry: Option<&Entry>) -> Self {
        entry.map_or(Precondition::Absent, |e| Precondition::Matches(e.version))
    }
}

/// A stored entry a listing skipped because its value cannot be read as what it should be
/// (a conversation file, a session record; issue #19). It is left as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEntry {
    /// Its store key.
    pub key: String,
    /// The conversation or session id it holds.
    pub id: String,
    /// What is wrong with it.
    pub detail: String,
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The precondition did not hold: someone else wrote first.
    #[error("the stored value changed since it was read (compare-and-swap conflict); re-read and retry")]
    Conflict,
    /// The key is not well-formed.
    #[error("invalid store key: {0}")]
    InvalidKey(String),
    /// The backend failed.
    #[error("storage backend failed: {0}")]
    Backend(String),
}

/// A key-value store with compare-and-swap.
pub trait Store {
    /// Reads a key: `None` when it does not exist.
    fn get(&self, key: &str) -> Result<Option<Entry>, StoreError>;
    /// Writes a key if `expected` holds; returns the new version.
    fn put(&self, key: &str, value: &[u8], expected: Precondition) -> Result<Version, StoreError>;
    /// Deletes a key if `expected` holds; returns whether it existed.
    fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError>;
    /// Every existing key starting with `prefix`, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
}

/// A shared reference to a store is a store: callers can keep the store and still hand it
/// to the queue or the builder.
impl<T: Store + ?Sized> Store for &T {
    fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        (**self).get(key)
    }
    fn put(&self, key: &str, value: &[u8], expected: Precondition) -> Result<Version, StoreError> {
        (**self).put(key, value, expected)
    }
    fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        (**self).delete(key, expected)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        (**self).list(prefix)
    }
}

/// Checks that `key` is a well-formed store key: `/`-separated segments of
/// `[A-Za-z0-9._-]`, each starting with a letter or digit, at most 1024 bytes in all.
/// Every backend applies the same rule so that a key valid on one is valid on all.
pub fn validate_key(key: &str) -> Result<(), StoreError> {
    const MAX_KEY: usize = 1024;
    const MAX_SEGMENT: usize = 200;
    let invalid = |why: &str| Err(StoreError::InvalidKey(format!("{key:?}: {why}")));
    if key.is_empty() {
        return invalid("the key is empty");
    }
    if key.len() > MAX_KEY {
        return invalid("longer than 1024 bytes");
    }
    for segment in key.split('/') {
        let Some(first) = segment.chars().next() else {
            return invalid("empty segment (leading, trailing or doubled '/')");
        };
        if !first.is_ascii_alphanumeric() {
            return invalid("each segment must start with a letter or digit");
        }
        if segment.len() > MAX_SEGMENT {
            return invalid("a segment is longer than 200 bytes");
        }
        // Every allowed character is ASCII, so bytes are checked (every store call does this)
        // and the offending character is decoded only for the message.
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
        if let Some(at) = segment.bytes().position(|b| !allowed(b)) {
            let bad = segment[at..].chars().next().unwrap_or('?');
            return invalid(&format!("character {bad:?} is not allowed (use A-Z a-z 0-9 . _ -)"));
        }
    }
    Ok(())
}

/// A thread-safe map from keys to versioned values. Versions come from one counter, so no
/// two writes ever produce the same version.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: BTreeMap<String, Entry>,
    last_version: Version,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every key with its bytes, for tests that compare whole stores.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        self.lock().entries.iter().map(|(k, e)| (k.clone(), e.value.clone())).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map half-updated (every mutation is
        // a single insert or remove), so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        validate_key(key)?;
        Ok(self.lock().entries.get(key).cloned())
    }

    fn put(&self, key: &str, value: &[u8], expected: Precondition) -> Result<Version, StoreError> {
        validate_key(key)?;
        let mut inner = self.lock();
        if !expected.holds(inner.entries.get(key).map(|e| e.version)) {
            return Err(StoreError::Conflict);
        }
        inner.last_version += 1;
        let version = inner.last_version;
        inner.entries.insert(key.to_owned(), Entry { value: value.to_vec(), version });
        Ok(version)
    }

    fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        validate_key(key)?;
        let mut inner = self.lock();
        let current = inner.entries.get(key).map(|e| e.version);
        if !expected.holds(current) {
            return Err(StoreError::Conflict);
        }
        Ok(inner.entries.remove(key).is_some())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .entries
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_could_escape_or_hide_are_rejected() {
        for bad in ["", "/a", "a/", "a//b", "../x", "a/../b", ".hidden", "a/.tmp", "a b", "a\\b", "é"] {
            assert!(validate_key(bad).is_err(), "{bad:?} should be rejected");
        }
        for good in ["a", "conversations/index.json", "x/y-z_1.json", "0"] {
            assert_eq!(validate_key(good), Ok(()), "{good:?} should be accepted");
        }
    }

    #[test]
    fn preconditions_compare_versions() {
        assert!(Precondition::Any.holds(None));
        assert!(Precondition::Absent.holds(None));
        assert!(!Precondition::Absent.holds(Some(1)));
        assert!(Precondition::Matches(3).holds(Some(3)));
        assert!(!Precondition::Matches(3).holds(Some(4)));
        assert!(!Precondition::Matches(3).holds(None));
    }
}
