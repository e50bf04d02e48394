//! The view of a store one guest call gets: one tenant's keys, never the host's own.
//!
//! Configured tenants live below `tenants/<tenant>/`; the local tenant (a server without
//! keys, and the CLI) keeps the store root, so `kiln serve` and `kiln chat` on one store see
//! the same sessions and queue. Keys below [`HOST_PREFIX`] (OAuth records, tokens) are the
//! host's: a guest can neither read, write nor list them, whatever its tenant.

use std::sync::Arc;

use async_trait::async_trait;
use kiln_wire::store::{Entry, Precondition, StoreError, Version};

use super::KvStore;

/// Where the host keeps data no guest may see (OAuth records, tokens).
pub const HOST_PREFIX: &str = "kiln-host/";
/// The OAuth connection attempts in progress (below [`HOST_PREFIX`]).
pub const OAUTH_RECORDS: &str = "kiln-host/oauth/";

/// One tenant's part of a store.
pub struct TenantStore {
    inner: Arc<dyn KvStore>,
    /// `""` for the local tenant, else `tenants/<tenant>/`.
    prefix: String,
}

impl TenantStore {
    /// The whole store minus the host's keys (the local tenant).
    pub fn local(inner: Arc<dyn KvStore>) -> Self {
        Self { inner, prefix: String::new() }
    }

    /// The keys of `tenant`, which must be a valid key segment (checked when the server's
    /// configuration is loaded).
    pub fn tenant(inner: Arc<dyn KvStore>, tenant: &str) -> Self {
        Self { inner, prefix: format!("tenants/{tenant}/") }
    }

    /// The keys of one user of `tenant` (`tenants/<tenant>/users/<hash of the user>/`): the
    /// user's own queue when the tenant is configured with `queue: user`.
    pub fn user(inner: Arc<dyn KvStore>, tenant: &str, user: &str) -> Self {
        let user = xxhash_rust::xxh3::xxh3_64(user.as_bytes());
        Self { inner, prefix: format!("tenants/{tenant}/users/{user:016x}/") }
    }

    fn scoped(&self, key: &str) -> Result<String, StoreError> {
        if self.prefix.is_empty() && key.starts_with(HOST_PREFIX) {
            return Err(StoreError::InvalidKey(format!(
                "{key:?}: keys below {HOST_PREFIX} belong to the host, not to the engine"
            )));
        }
        Ok(format!("{}{key}", self.prefix))
    }
}

#[async_trait]
impl KvStore for TenantStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        self.inner.get(&self.scoped(key)?).await
    }
    async fn put(&self, key: &str, value: Vec<u8>, expected: Precondition) -> Result<Version, StoreError> {
        self.inner.put(&self.scoped(key)?, value, expected).await
    }
    async fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        self.inner.delete(&self.scoped(key)?, expected).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let keys = self.inner.list(&format!("{}{prefix}", self.prefix)).await?;
        let local = self.prefix.is_empty();
        Ok(keys
            .into_iter()
            .filter_map(|k| k.strip_prefix(self.prefix.as_str()).map(str::to_owned))
            // The local tenant's root also holds the host's keys and other tenants' data.
            .filter(|k| !local || !(k.starts_with(HOST_PREFIX) || k.starts_with("tenants/")))
            .collect())
    }
    fn locate(&self, key: &str) -> String {
        self.inner.locate(&format!("{}{key}", self.prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    #[tokio::test]
    async fn tenants_see_only_their_keys_and_never_the_hosts() {
        let root: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        let a = TenantStore::tenant(Arc::clone(&root), "acme");
        let b = TenantStore::tenant(Arc::clone(&root), "beta");
        let local = TenantStore::local(Arc::clone(&root));
        a.put("sessions/1.json", b"a".to_vec(), Precondition::Absent).await.expect("put a");
        local.put("sessions/2.json", b"l".to_vec(), Precondition::Absent).await.expect("put local");
        root.put("kiln-host/oauth/s.json", b"secret".to_vec(), Precondition::Absent).await.expect("host");

        assert_eq!(b.get("sessions/1.json").await, Ok(None), "another tenant's key is invisible");
        assert_eq!(b.list("").await, Ok(vec![]));
        assert_eq!(a.list("sessions/").await, Ok(vec!["sessions/1.json".to_owned()]));
        assert_eq!(local.list("").await, Ok(vec!["sessions/2.json".to_owned()]));
        assert!(matches!(local.get("kiln-host/oauth/s.json").await, Err(StoreError::InvalidKey(_))));
        assert!(matches!(
            local.put("kiln-host/x", b"x".to_vec(), Precondition::Any).await,
            Err(StoreError::InvalidKey(_))
        ));
        assert_eq!(
            root.get("tenants/acme/sessions/1.json").await.expect("get").map(|e| e.value),
            Some(b"a".to_vec())
        );
    }
}
