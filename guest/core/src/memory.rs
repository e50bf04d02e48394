//! An in-memory [`Store`]: the reference implementation of the store contract, used by
//! native tests, benchmarks and the host's `memory` backend.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::ports::{Entry, Precondition, Store, StoreError, Version, validate_key};

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
