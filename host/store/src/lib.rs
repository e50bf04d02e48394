//! `kiln-store`: the storage backends behind the guest's `store` import, and nothing else
//! (no wasmtime, no engine). Every backend keeps the same contract (the one kiln-wire's
//! [`kiln_wire::store::Store`] documents): versioned values, compare-and-swap writes, the
//! same key rules, prefix listing. Stores hold bytes and never look inside them.
//!
//! - [`KvStore`]: the async trait the host's engine calls; [`MemoryStore`] (kiln-wire's
//!   reference implementation), [`FileStore`] (run on tokio's blocking pool through
//!   [`Blocking`]) and [`RedisStore`] implement it.
//! - [`TenantStore`]: the view of a store one guest call gets (one tenant's keys, never the
//!   host's own below [`HOST_PREFIX`]).
//! - [`StoreSpec`] / [`StoreChoice`]: choosing and opening a backend from `--store`.

mod file;
mod redis;
mod select;
mod tenant;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::sync::Arc;

use async_trait::async_trait;
pub use file::FileStore;
pub use kiln_wire::store::MemoryStore;
use kiln_wire::store::{Entry, Precondition, Store, StoreError, Version};
pub use redis::{HealthLog, OAUTH_RECORD_TTL, RedisConfig, RedisOpenError, RedisStore};
pub use select::{OpenError, OpenOptions, SpecError, StoreChoice, StoreSpec};
pub use tenant::{HOST_PREFIX, OAUTH_RECORDS, TenantStore};

/// A key-value store with compare-and-swap, shared by concurrent guest calls.
#[async_trait]
pub trait KvStore: Send + Sync {
    /// Reads a key: `None` when it does not exist.
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError>;
    /// Writes a key if `expected` holds; returns the new version.
    async fn put(&self, key: &str, value: Vec<u8>, expected: Precondition) -> Result<Version, StoreError>;
    /// Deletes a key if `expected` holds; returns whether it existed.
    async fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError>;
    /// Every existing key starting with `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    /// Where `key` lives, for messages that must point a person at the data (a file path).
    fn locate(&self, key: &str) -> String;
}

/// The memory backend answers at once: no blocking work to move off the async thread.
#[async_trait]
impl KvStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        Store::get(self, key)
    }
    async fn put(&self, key: &str, value: Vec<u8>, expected: Precondition) -> Result<Version, StoreError> {
        Store::put(self, key, &value, expected)
    }
    async fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        Store::delete(self, key, expected)
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Store::list(self, prefix)
    }
    fn locate(&self, key: &str) -> String {
        format!("memory:{key}")
    }
}

/// Runs a blocking [`Store`] (file I/O, fsync, lock waits) on tokio's blocking pool so a
/// slow disk never stalls other requests on the async threads.
pub struct Blocking<S>(Arc<S>);

impl<S> Blocking<S> {
    /// Wraps a blocking store.
    pub fn new(store: S) -> Self {
        Self(Arc::new(store))
    }

    async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&S) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError>
    where
        S: Send + Sync + 'static,
    {
        let store = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || op(&store))
            .await
            .map_err(|e| StoreError::Backend(format!("the storage task failed: {e}")))?
    }
}

#[async_trait]
impl KvStore for Blocking<FileStore> {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let key = key.to_owned();
        self.run(move |s| s.get(&key)).await
    }
    async fn put(&self, key: &str, value: Vec<u8>, expected: Precondition) -> Result<Version, StoreError> {
        let key = key.to_owned();
        self.run(move |s| s.put(&key, &value, expected)).await
    }
    async fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.run(move |s| s.delete(&key, expected)).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let prefix = prefix.to_owned();
        self.run(move |s| s.list(&prefix)).await
    }
    fn locate(&self, key: &str) -> String {
        self.0.path_of(key).display().to_string()
    }
}

#[cfg(test)]
mod contract;
