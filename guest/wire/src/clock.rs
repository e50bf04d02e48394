//! The `clock` and `random` imports' contracts, and the RFC 3339 form timestamps take on
//! the wire (a conversation's `created-at`).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Time since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnixTime {
    /// Whole seconds.
    pub seconds: u64,
    /// Nanoseconds within the second.
    pub nanoseconds: u32,
}

/// Wall-clock time.
pub trait Clock {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// Randomness.
pub trait Entropy {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// Formats `t` as RFC 3339 in UTC with microsecond precision, e.g.
/// `2026-11-22T03:07:22.123456Z` (the precision Python's `datetime` writes).
pub fn rfc3339(t: UnixTime) -> String {
    let nanos = i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanoseconds / 1_000 * 1_000);
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|dt| dt.format(&Rfc3339).ok())
        // Only a clock beyond year 9999 gets here; say so in the data rather than panic.
        .unwrap_or_else(|| format!("out-of-range-time:{}s", t.seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_micros() {
        let t = UnixTime { seconds: 1_795_316_842, nanoseconds: 123_456_789 };
        assert_eq!(rfc3339(t), "2026-11-22T03:07:22.123456Z");
        assert_eq!(rfc3339(UnixTime { seconds: 0, nanoseconds: 0 }), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn absurd_clock_does_not_panic() {
        assert!(rfc3339(UnixTime { seconds: u64::MAX, nanoseconds: 0 }).starts_with("out-of-range"));
    }
}
