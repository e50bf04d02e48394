//! Time for the layer: deadlines, backoff waits and breaker cooldowns read a [`Clock`], so a
//! test can run a 15-second schedule without spending it, and breaker state can be shared
//! between processes (it is kept in Unix milliseconds).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where the layer reads the time and waits.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// Waits `d`.
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The system clock, monotonic within a process: the Unix time when it was made, plus the
/// monotonic time since (a wall-clock step does not shorten or stretch a deadline).
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
    origin_ms: u64,
}

impl Default for SystemClock {
    fn default() -> Self {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self { origin: Instant::now(), origin_ms: u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX) }
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.origin_ms.saturating_add(elapsed)
    }

    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(d))
    }
}
