//! The nondeterministic inputs the host supplies to the guest besides storage, behind
//! kiln-core's own `Clock` and `Entropy` ports. Tests swap in fixed ones to show the guest
//! is deterministic.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use kiln_core::{Clock, Entropy, UnixTime};

use crate::store::KvStore;

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        // A clock set before 1970 reads as the epoch rather than failing the call.
        let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        UnixTime { seconds: d.as_secs(), nanoseconds: d.subsec_nanos() }
    }
}

/// The operating system's random generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Entropy for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // getrandom fails only when the OS has no entropy source at all, which no supported
        // platform lacks; abort loudly rather than hand the guest predictable bytes.
        if let Err(e) = getrandom::fill(buf) {
            panic!("the operating system's random generator failed: {e}");
        }
    }
}

/// Everything one guest call can reach: its store (already scoped to one tenant), a clock
/// and randomness.
#[derive(Clone)]
pub struct Services {
    /// The store behind the `store` import.
    pub store: Arc<dyn KvStore>,
    /// The clock behind the `clock` import.
    pub clock: Arc<dyn Clock + Send + Sync>,
    /// The randomness behind the `random` import.
    pub random: Arc<dyn Entropy + Send + Sync>,
}

impl Services {
    /// The store with the system clock and OS randomness.
    pub fn system(store: Arc<dyn KvStore>) -> Self {
        Self { store, clock: Arc::new(SystemClock), random: Arc::new(OsRandom) }
    }
}
