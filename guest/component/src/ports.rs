//! The core's ports implemented with the WIT imports.

use kiln_core::{Clock, Entropy, Entry, Precondition, Store, StoreError, UnixTime, Version};

use crate::bindings::kiln::engine::{clock, random, store};
use crate::convert;

/// The host's `store` import.
pub struct HostStore;
/// The host's `clock` import.
pub struct HostClock;
/// The host's `random` import.
pub struct HostRandom;

impl Store for HostStore {
    fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        store::get(key)
            .map(|e| e.map(|e| Entry { value: e.value, version: e.version }))
            .map_err(convert::store_error_from_wit)
    }

    fn put(&self, key: &str, value: &[u8], expected: Precondition) -> Result<Version, StoreError> {
        store::put(key, value, convert::precondition(expected)).map_err(convert::store_error_from_wit)
    }

    fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        store::delete(key, convert::precondition(expected)).map_err(convert::store_error_from_wit)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        store::list(prefix).map_err(convert::store_error_from_wit)
    }
}

impl Clock for HostClock {
    fn now(&self) -> UnixTime {
        let now = clock::now();
        UnixTime { seconds: now.seconds, nanoseconds: now.nanoseconds }
    }
}

impl Entropy for HostRandom {
    fn fill(&self, buf: &mut [u8]) {
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let bytes = random::fill(len);
        // A host that returns fewer bytes than asked leaves the rest zero rather than trapping.
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
    }
}
