//! Listings that one corrupt entry does not block (issue #19).
//!
//! The engine stops a listing at the first entry it cannot read. The host runs the listing
//! again through a read-only view (`ListingView`) that hides each entry reported corrupt,
//! until it succeeds; the hidden entries are named to the caller. The view never writes, so
//! the listing cannot change stored data, whatever the view shows the engine.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use kiln_store::KvStore;
use kiln_wire::queue::{INDEX_KEY, conversation_key};
use kiln_wire::store::{Entry, Precondition, StoreError, Version};
use serde::Serialize;
use serde_json::Value;

/// An entry a listing skipped because its stored data cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorruptEntry {
    /// The session or conversation id.
    pub id: String,
    /// Its store key (for messages that point at the file: [`KvStore::locate`]); not
    /// sent to API clients, which have no use for the server's paths.
    #[serde(skip)]
    pub key: String,
    /// What is wrong with which key, and what to do.
    pub error: String,
}

/// A corrupt entry as the engine reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    /// Its store key.
    pub key: String,
    /// Its id.
    pub id: String,
    /// What is wrong with it.
    pub detail: String,
}

/// A read-only view of a store for one listing: hidden keys are left out of `list`, and
/// hidden conversations out of the queue index's `queue` and `leased`. The index keeps its
/// real version; since the view refuses every write, the filtered index is never stored.
struct ListingView {
    inner: Arc<dyn KvStore>,
    hidden: BTreeSet<String>,
}

impl ListingView {
    fn hides_conversation(&self, id: &Value) -> bool {
        id.as_str().is_some_and(|id| self.hidden.contains(&conversation_key(id)))
    }

    /// The index without the hidden conversations; an index that is not a JSON object is
    /// passed on as it is, for the engine to report.
    fn filter_index(&self, value: Vec<u8>) -> Vec<u8> {
        let Ok(Value::Object(mut index)) = serde_json::from_slice::<Value>(&value) else {
            return value;
        };
        if let Some(Value::Array(queue)) = index.get_mut("queue") {
            queue.retain(|id| !self.hides_conversation(id));
        }
        if let Some(Value::Object(leased)) = index.get_mut("leased") {
            leased.retain(|id, _| !self.hidden.contains(&conversation_key(id)));
        }
        serde_json::to_vec(&index).unwrap_or(value)
    }
}

#[async_trait]
impl KvStore for ListingView {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let entry = self.inner.get(key).await?;
        Ok(match entry {
            Some(Entry { value, version }) if key == INDEX_KEY => {
                Some(Entry { value: self.filter_index(value), version })
            }
            other => other,
        })
    }
    async fn put(&self, key: &str, _: Vec<u8>, _: Precondition) -> Result<Version, StoreError> {
        Err(read_only(key))
    }
    async fn delete(&self, key: &str, _: Precondition) -> Result<bool, StoreError> {
        Err(read_only(key))
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = self.inner.list(prefix).await?;
        keys.retain(|k| !self.hidden.contains(k));
        Ok(keys)
    }
    fn locate(&self, key: &str) -> String {
        self.inner.locate(key)
    }
}

fn read_only(key: &str) -> StoreError {
    StoreError::Backend(format!("a listing tried to write {key:?}; listings only read (a bug in Kiln)"))
}

/// One listing through the engine that skips corrupt entries: run it over [`Self::view`];
/// when it fails on an entry [`Self::skip`] accepts, run it again (every retry hides one
/// more entry, so the loop ends).
pub struct Skipping {
    store: Arc<dyn KvStore>,
    hidden: BTreeSet<String>,
    skipped: Vec<Reported>,
}

impl Skipping {
    /// A listing over `store` that has skipped nothing yet.
    pub fn new(store: Arc<dyn KvStore>) -> Self {
        Self { store, hidden: BTreeSet::new(), skipped: Vec::new() }
    }

    /// The store to list from: read-only, without the entries skipped so far.
    pub fn view(&self) -> Arc<dyn KvStore> {
        Arc::new(ListingView { inner: Arc::clone(&self.store), hidden: self.hidden.clone() })
    }

    /// Skips the corrupt entry the listing reported; false (list no further: return the
    /// error) when it reported none or one already skipped.
    pub fn skip(&mut self, reported: Option<Reported>) -> bool {
        match reported {
            Some(r) if self.hidden.insert(r.key.clone()) => {
                self.skipped.push(r);
                true
            }
            _ => false,
        }
    }

    /// The entries skipped, in the order met.
    pub fn skipped(self) -> Vec<Reported> {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use kiln_store::MemoryStore;

    use super::*;

    #[tokio::test]
    async fn the_view_hides_entries_and_never_writes() {
        let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        let index = br#"{"queue": ["a", "b"], "leased": {"c": 1, "b": 2}, "other": 1}"#.to_vec();
        let version = store.put(INDEX_KEY, index.clone(), Precondition::Absent).await.expect("put");
        for key in ["sessions/x.json", "sessions/y.json"] {
            store.put(key, b"{}".to_vec(), Precondition::Absent).await.expect("put");
        }
        let hidden = ["sessions/x.json", &conversation_key("b")].map(str::to_owned).into_iter().collect();
        let view = ListingView { inner: Arc::clone(&store), hidden };

        assert_eq!(view.list("sessions/").await, Ok(vec!["sessions/y.json".to_owned()]));
        let seen = view.get(INDEX_KEY).await.expect("get").expect("index");
        assert_eq!(seen.version, version);
        let seen: Value = serde_json::from_slice(&seen.value).expect("json");
        assert_eq!(seen, serde_json::json!({"queue": ["a"], "leased": {"c": 1}, "other": 1}));
        assert!(matches!(view.put(INDEX_KEY, vec![], Precondition::Any).await, Err(StoreError::Backend(_))));
        assert!(matches!(
            view.delete("sessions/x.json", Precondition::Any).await,
            Err(StoreError::Backend(_))
        ));
        assert_eq!(store.get(INDEX_KEY).await.expect("get").expect("index").value, index);
        assert_eq!(store.list("sessions/").await.expect("list").len(), 2);
    }
}
