//! A circuit breaker per provider: after `threshold` consecutive failures the provider is
//! skipped for `cooldown`; then one call probes it (half-open). Success closes the breaker,
//! failure opens it for another cooldown.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    /// A probe call is out. If it never reports back (its caller was cancelled), another
    /// probe is allowed at `next_probe`, one cooldown after this one.
    HalfOpen {
        next_probe: Instant,
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

#[derive(Debug)]
pub(crate) struct Breaker {
    failures: u32,
    state: State,
}

impl Breaker {
    pub(crate) fn new() -> Self {
        Self { failures: 0, state: State::Closed }
    }

    pub(crate) fn admit(&mut self, now: Instant, cooldown: Duration) -> Admission {
        match self.state {
            State::Closed => Admission::Closed,
            State::Open { until } | State::HalfOpen { next_probe: until } if now < until => {
                Admission::Skip(until - now)
            }
            State::Open { .. } => {
                self.state = State::HalfOpen { next_probe: now + cooldown };
                Admission::Probe
            }
            State::HalfOpen { .. } => {
                self.state = State::HalfOpen { next_probe: now + cooldown };
                Admission::Probe
            }
        }
    }

    pub(crate) fn on_success(&mut self) {
        self.failures = 0;
        self.state = State::Closed;
    }

    /// Records a failure; true when this opened the breaker.
    pub(crate) fn on_failure(&mut self, now: Instant, threshold: u32, cooldown: Duration) -> bool {
        self.failures = self.failures.saturating_add(1);
        let opens = match self.state {
            State::HalfOpen { .. } => true,
            State::Closed => self.failures >= threshold,
            State::Open { .. } => false,
        };
        if opens {
            self.state = State::Open { until: now + cooldown };
        }
        opens
    }

    #[cfg(test)]
    pub(crate) fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_probes_after_the_cooldown() {
        let cd = Duration::from_secs(10);
        let t0 = Instant::now();
        let mut b = Breaker::new();
        assert_eq!(b.admit(t0, cd), Admission::Closed);
        assert!(!b.on_failure(t0, 3, cd));
        assert!(!b.on_failure(t0, 3, cd));
        assert!(b.on_failure(t0, 3, cd), "third failure opens");
        assert!(b.is_open());
        assert_eq!(b.admit(t0 + Duration::from_secs(4), cd), Admission::Skip(Duration::from_secs(6)));
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(b.admit(t1, cd), Admission::Probe);
        // Only one probe at a time.
        assert!(matches!(b.admit(t1, cd), Admission::Skip(_)));
        // The probe fails: open again for a whole cooldown.
        assert!(b.on_failure(t1, 3, cd));
        assert!(matches!(b.admit(t1 + Duration::from_secs(9), cd), Admission::Skip(_)));
        let t2 = t1 + Duration::from_secs(10);
        assert_eq!(b.admit(t2, cd), Admission::Probe);
        b.on_success();
        assert_eq!(b.admit(t2, cd), Admission::Closed);
        assert!(!b.is_open());
    }

    #[test]
    fn a_lost_probe_is_replaced_after_a_cooldown() {
        let cd = Duration::from_secs(1);
        let t0 = Instant::now();
        let mut b = Breaker::new();
        assert!(b.on_failure(t0, 1, cd));
        assert_eq!(b.admit(t0 + cd, cd), Admission::Probe);
        // Nobody reports back; a cooldown later another probe goes out.
        assert_eq!(b.admit(t0 + cd * 2, cd), Admission::Probe);
        // Failures while open do not extend the cooldown.
        let mut open = Breaker::new();
        assert!(open.on_failure(t0, 1, cd));
        assert!(!open.on_failure(t0 + cd / 2, 1, cd));
        assert_eq!(open.admit(t0 + cd, cd), Admission::Probe);
    }
}
