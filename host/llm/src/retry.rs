//! Retry delays: the server's hints (`retry-after-ms`, `Retry-After`, `x-ratelimit-reset-*`,
//! `anthropic-ratelimit-*-reset`) and exponential backoff with full jitter.

use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The longest hint taken seriously as a number; anything longer is certainly past every
/// cap and deadline, and this keeps the arithmetic far from overflow.
pub(crate) const MAX_HINT: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long the server asks us to wait, read from response headers. `header(name)`
/// returns a header's value (names are lower-case). `now` is the wall clock, for
/// HTTP-date and RFC 3339 values.
///
/// Precedence: `retry-after-ms`, then `Retry-After` (seconds or HTTP-date), then OpenAI's
/// `x-ratelimit-reset-requests`/`-tokens` (Go durations such as `1s`, `6m0s`, `200ms`),
/// then Anthropic's `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset`
/// (RFC 3339 timestamps). For the reset families, when the matching `-remaining` header
/// says which limit is exhausted (`0`), that limit's reset is used; otherwise the longest
/// reset, so that the next call cannot be wasted.
pub fn hint_from_headers<'a>(header: impl Fn(&str) -> Option<&'a str>, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = header("retry-after-ms").and_then(parse_seconds_number) {
        return Some(Duration::from_secs_f64((ms / 1000.0).min(MAX_HINT.as_secs_f64())));
    }
    if let Some(value) = header("retry-after") {
        if let Some(secs) = parse_seconds_number(value) {
            return Some(Duration::from_secs_f64(secs.min(MAX_HINT.as_secs_f64())));
        }
        if let Ok(at) = httpdate::parse_http_date(value.trim()) {
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO).min(MAX_HINT));
        }
    }
    let openai = ["requests", "tokens"].map(|k| {
        let reset = header(&format!("x-ratelimit-reset-{k}")).and_then(parse_go_duration);
        let remaining = header(&format!("x-ratelimit-remaining-{k}"));
        (reset, remaining)
    });
    if let Some(d) = pick_reset(&openai) {
        return Some(d.min(MAX_HINT));
    }
    let anthropic = ["requests", "tokens", "input-tokens", "output-tokens"].map(|k| {
        let reset = header(&format!("anthropic-ratelimit-{k}-reset")).and_then(|v| until_rfc3339(v, now));
        let remaining = header(&format!("anthropic-ratelimit-{k}-remaining"));
        (reset, remaining)
    });
    pick_reset(&anthropic).map(|d| d.min(MAX_HINT))
}

/// The reset of an exhausted limit if the `-remaining` headers say which one, else the
/// longest reset given.
fn pick_reset(resets: &[(Option<Duration>, Option<&str>)]) -> Option<Duration> {
    let exhausted = resets
        .iter()
        .filter(|(_, remaining)| remaining.is_some_and(|r| r.trim() == "0"))
        .filter_map(|(reset, _)| *reset)
        .max();
    exhausted.or_else(|| resets.iter().filter_map(|(reset, _)| *reset).max())
}

/// A non-negative decimal number (`1`, `1.5`).
fn parse_seconds_number(value: &str) -> Option<f64> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    v.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A Go duration as OpenAI sends it: `1s`, `6m0s`, `200ms`, `1h2m3.5s`, `0.5s`, `20us`.
pub fn parse_go_duration(value: &str) -> Option<Duration> {
    let mut rest = value.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0.0f64;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    (total.is_finite() && total <= MAX_HINT.as_secs_f64()).then(|| Duration::from_secs_f64(total))
}

/// The time from `now` until an RFC 3339 timestamp (zero if it is past).
fn until_rfc3339(value: &str, now: SystemTime) -> Option<Duration> {
    let at: SystemTime = OffsetDateTime::parse(value.trim(), &Rfc3339).ok()?.into();
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff with full jitter: a uniformly random delay in
/// `[0, min(cap, base · 2^retry)]`, where `retry` is 0 for the first retry.
pub fn full_jitter(base: Duration, cap: Duration, retry: u32, rng: &mut fastrand::Rng) -> Duration {
    let ceiling = base.saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX)).min(cap);
    let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rng.u64(0..=ceiling_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn hint(headers: &[(&str, &str)], now: SystemTime) -> Option<Duration> {
        let map: HashMap<String, String> =
            headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        hint_from_headers(|name| map.get(name).map(String::as_str), now)
    }

    #[test]
    fn retry_after_in_seconds_and_milliseconds() {
        let now = SystemTime::now();
        assert_eq!(hint(&[("retry-after", "1")], now), Some(Duration::from_secs(1)));
        assert_eq!(hint(&[("retry-after", " 2.5 ")], now), Some(Duration::from_millis(2500)));
        assert_eq!(hint(&[("retry-after-ms", "150")], now), Some(Duration::from_millis(150)));
        // retry-after-ms is the more precise of the two.
        assert_eq!(
            hint(&[("retry-after", "1"), ("retry-after-ms", "1500")], now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(hint(&[("retry-after", "-3")], now), None);
        assert_eq!(hint(&[("retry-after", "soon")], now), None);
        assert_eq!(hint(&[("retry-after", "99999999999")], now), Some(MAX_HINT));
        assert_eq!(hint(&[], now), None);
    }

    #[test]
    fn retry_after_as_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").expect("date");
        assert_eq!(
            hint(&[("retry-after", "Sun, 06 Nov 1994 08:49:40 GMT")], now),
            Some(Duration::from_secs(3))
        );
        // A date in the past: ask again now.
        assert_eq!(hint(&[("retry-after", "Sun, 06 Nov 1994 08:49:00 GMT")], now), Some(Duration::ZERO));
    }

    #[test]
    fn openai_reset_headers() {
        let now = SystemTime::now();
        assert_eq!(hint(&[("x-ratelimit-reset-requests", "1s")], now), Some(Duration::from_secs(1)));
        assert_eq!(hint(&[("x-ratelimit-reset-tokens", "6m0s")], now), Some(Duration::from_secs(360)));
        // Which limit is exhausted decides.
        let both = [
            ("x-ratelimit-reset-requests", "200ms"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-tokens", "6m0s"),
            ("x-ratelimit-remaining-tokens", "5000"),
        ];
        assert_eq!(hint(&both, now), Some(Duration::from_millis(200)));
        // Unknown: the longest, so the next call is not wasted.
        let unknown = [("x-ratelimit-reset-requests", "200ms"), ("x-ratelimit-reset-tokens", "2s")];
        assert_eq!(hint(&unknown, now), Some(Duration::from_secs(2)));
        assert_eq!(hint(&[("x-ratelimit-reset-requests", "bogus")], now), None);
    }

    #[test]
    fn anthropic_reset_headers() {
        let now: SystemTime = OffsetDateTime::parse("2025-01-01T00:00:00Z", &Rfc3339).expect("date").into();
        let h = [
            ("anthropic-ratelimit-requests-reset", "2025-01-01T00:00:02Z"),
            ("anthropic-ratelimit-requests-remaining", "0"),
            ("anthropic-ratelimit-tokens-reset", "2025-01-01T00:01:00Z"),
            ("anthropic-ratelimit-tokens-remaining", "100"),
        ];
        assert_eq!(hint(&h, now), Some(Duration::from_secs(2)));
        let past = [("anthropic-ratelimit-output-tokens-reset", "2024-12-31T23:59:00Z")];
        assert_eq!(hint(&past, now), Some(Duration::ZERO));
        // Retry-After, which Anthropic also sends on 429, wins.
        let with_retry_after =
            [("retry-after", "7"), ("anthropic-ratelimit-requests-reset", "2025-01-01T00:00:02Z")];
        assert_eq!(hint(&with_retry_after, now), Some(Duration::from_secs(7)));
    }

    #[test]
    fn go_durations() {
        let ms = |s| parse_go_duration(s).map(|d| d.as_millis());
        assert_eq!(ms("1s"), Some(1000));
        assert_eq!(ms("6m0s"), Some(360_000));
        assert_eq!(ms("200ms"), Some(200));
        assert_eq!(ms("1h2m3.5s"), Some(3_723_500));
        assert_eq!(ms("0.5s"), Some(500));
        assert_eq!(ms("0"), Some(0));
        assert_eq!(parse_go_duration("1500us"), Some(Duration::from_micros(1500)));
        assert_eq!(parse_go_duration("7ns"), Some(Duration::from_nanos(7)));
        for bad in ["", "s", "1", "1x", "1.2.3s", "9999999h"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn full_jitter_stays_under_the_exponential_ceiling_and_the_cap() {
        let mut rng = fastrand::Rng::with_seed(7);
        let base = Duration::from_millis(100);
        let cap = Duration::from_millis(1000);
        for retry in 0..40 {
            let ceiling = Duration::from_millis(100u64.saturating_mul(1u64 << retry.min(20))).min(cap);
            let mut max_seen = Duration::ZERO;
            for _ in 0..200 {
                let d = full_jitter(base, cap, retry, &mut rng);
                assert!(d <= ceiling, "retry {retry}: {d:?} > {ceiling:?}");
                max_seen = max_seen.max(d);
            }
            // Jitter spreads over the whole range, not just its bottom.
            assert!(max_seen >= ceiling / 2, "retry {retry}: max {max_seen:?} of {ceiling:?}");
        }
    }
}
