//! A circuit breaker per provider: after `threshold` consecutive failures the provider is
//! skipped for `cooldown`; then one call probes it (half-open). Success closes the breaker,
//! failure opens it for another cooldown.
//!
//! Times are milliseconds of the layer's [`Clock`](crate::Clock) (Unix time), so a breaker
//! can be kept in a store that several processes share ([`SharedState`]): five `kiln llm
//! complete` runs in a row then learn once that a provider is down, instead of each asking
//! it `threshold` times.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::warn;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
enum State {
    #[default]
    Closed,
    Open {
        until_ms: u64,
    },
    /// A probe call is out. If it never reports back (its caller was cancelled), another
    /// probe is allowed at `next_probe_ms`, one cooldown after this one.
    HalfOpen {
        next_probe_ms: u64,
    },
}

/// Whether a call may use the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Normal use.
    Closed,
    /// One attempt, to see whether the provider is back.
    Probe,
    /// Skip it; it may be probed after this long.
    Skip(Duration),
}

/// One provider's breaker; also its stored form (JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Breaker {
    failures: u32,
    #[serde(flatten)]
    state: State,
}

impl Breaker {
    pub(crate) fn admit(&mut self, now_ms: u64, cooldown_ms: u64) -> Admission {
        match self.state {
            State::Closed => Admission::Closed,
            State::Open { until_ms: until } | State::HalfOpen { next_probe_ms: until } if now_ms < until => {
                Admission::Skip(Duration::from_millis(until - now_ms))
            }
            State::Open { .. } | State::HalfOpen { .. } => {
                self.state = State::HalfOpen { next_probe_ms: now_ms.saturating_add(cooldown_ms) };
                Admission::Probe
            }
        }
    }

    pub(crate) fn on_success(&mut self) {
        *self = Self::default();
    }

    /// Records a failure; true when this opened the breaker.
    pub(crate) fn on_failure(&mut self, now_ms: u64, threshold: u32, cooldown_ms: u64) -> bool {
        self.failures = self.failures.saturating_add(1);
        let opens = match self.state {
            State::HalfOpen { .. } => true,
            State::Closed => self.failures >= threshold,
            State::Open { .. } => false,
        };
        if opens {
            self.state = State::Open { until_ms: now_ms.saturating_add(cooldown_ms) };
        }
        opens
    }

    #[cfg(test)]
    pub(crate) fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed)
    }
}

/// State that several processes share, for the breakers: a small versioned key-value store
/// with compare-and-swap (Kiln's own store implements it; see `docs/llm.md`).
#[async_trait::async_trait]
pub trait SharedState: Send + Sync {
    /// The value and version under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, String>;
    /// Writes `value` if the key's version is still `expected` (`None`: the key is absent);
    /// `Ok(false)` when another writer came first.
    async fn put(&self, key: &str, value: Vec<u8>, expected: Option<u64>) -> Result<bool, String>;
}

/// How many compare-and-swap rounds one breaker update tries before keeping the change to
/// this process alone.
const SHARED_ATTEMPTS: u32 = 8;

/// The breakers of a chain: in this process, and in a shared store when one is given.
pub(crate) struct Breakers {
    local: Vec<Mutex<Breaker>>,
    /// The store and each link's key in it.
    shared: Option<(Arc<dyn SharedState>, Vec<String>)>,
}

impl Breakers {
    pub(crate) fn new(links: usize) -> Self {
        Self { local: (0..links).map(|_| Mutex::new(Breaker::default())).collect(), shared: None }
    }

    /// Keeps the breakers in `store` under `keys` (one per link) from now on.
    pub(crate) fn share(&mut self, store: Arc<dyn SharedState>, keys: Vec<String>) {
        self.shared = Some((store, keys));
    }

    /// Applies `change` to link `i`'s breaker and returns its result. With a shared store the
    /// change is a compare-and-swap on the stored breaker (re-run on a conflict); if the
    /// store fails, the breaker of this process is used and the failure logged.
    pub(crate) async fn update<T>(&self, i: usize, change: impl Fn(&mut Breaker) -> T) -> T {
        let local = &self.local[i];
        if let Some((store, keys)) = &self.shared {
            match shared_update(store.as_ref(), &keys[i], &change).await {
                Ok((breaker, out)) => {
                    *lock(local) = breaker;
                    return out;
                }
                Err(e) => {
                    warn!(key = %keys[i], error = %e, "llm: the shared breaker state is unavailable; using this process's")
                }
            }
        }
        change(&mut lock(local))
    }
}

async fn shared_update<T>(
    store: &dyn SharedState,
    key: &str,
    change: &impl Fn(&mut Breaker) -> T,
) -> Result<(Breaker, T), String> {
    for _ in 0..SHARED_ATTEMPTS {
        let current = store.get(key).await?;
        // A value that does not parse (another version, a hand edit) counts as closed and
        // is replaced by the next change.
        let before: Breaker =
            current.as_ref().and_then(|(bytes, _)| serde_json::from_slice(bytes).ok()).unwrap_or_default();
        let mut after = before;
        let out = change(&mut after);
        // A missing record is a closed breaker: nothing to write until something happens.
        if after == before {
            return Ok((after, out));
        }
        let bytes = serde_json::to_vec(&after).map_err(|e| e.to_string())?;
        if store.put(key, bytes, current.map(|(_, version)| version)).await? {
            return Ok((after, out));
        }
    }
    Err(format!("{SHARED_ATTEMPTS} concurrent updates in a row"))
}

fn lock(m: &Mutex<Breaker>) -> std::sync::MutexGuard<'_, Breaker> {
    // A panic while holding this lock cannot leave a breaker inconsistent: its updates
    // are single assignments.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_probes_after_the_cooldown() {
        let cd = 10_000;
        let t0 = 1_000_000;
        let mut b = Breaker::default();
        assert_eq!(b.admit(t0, cd), Admission::Closed);
        assert!(!b.on_failure(t0, 3, cd));
        assert!(!b.on_failure(t0, 3, cd));
        assert!(b.on_failure(t0, 3, cd), "third failure opens");
        assert!(b.is_open());
        assert_eq!(b.admit(t0 + 4000, cd), Admission::Skip(Duration::from_secs(6)));
        let t1 = t0 + 10_000;
        assert_eq!(b.admit(t1, cd), Admission::Probe);
        // Only one probe at a time.
        assert!(matches!(b.admit(t1, cd), Admission::Skip(_)));
        // The probe fails: open again for a whole cooldown.
        assert!(b.on_failure(t1, 3, cd));
        assert!(matches!(b.admit(t1 + 9000, cd), Admission::Skip(_)));
        let t2 = t1 + 10_000;
        assert_eq!(b.admit(t2, cd), Admission::Probe);
        b.on_success();
        assert_eq!(b.admit(t2, cd), Admission::Closed);
        assert!(!b.is_open());
    }

    #[test]
    fn a_lost_probe_is_replaced_after_a_cooldown() {
        let cd = 1000;
        let t0 = 5_000;
        let mut b = Breaker::default();
        assert!(b.on_failure(t0, 1, cd));
        assert_eq!(b.admit(t0 + cd, cd), Admission::Probe);
        // Nobody reports back; a cooldown later another probe goes out.
        assert_eq!(b.admit(t0 + cd * 2, cd), Admission::Probe);
        // Failures while open do not extend the cooldown.
        let mut open = Breaker::default();
        assert!(open.on_failure(t0, 1, cd));
        assert!(!open.on_failure(t0 + cd / 2, 1, cd));
        assert_eq!(open.admit(t0 + cd, cd), Admission::Probe);
    }

    #[test]
    fn the_stored_form_is_small_json() {
        let mut b = Breaker::default();
        b.on_failure(42, 1, 8);
        assert_eq!(
            serde_json::to_string(&b).expect("json"),
            r#"{"failures":1,"state":"open","until_ms":50}"#
        );
        assert_eq!(
            serde_json::from_str::<Breaker>(r#"{"failures":1,"state":"open","until_ms":50}"#).ok(),
            Some(b)
        );
    }
}
