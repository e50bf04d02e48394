//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): each feeds arbitrary
//! bytes to one of the layer's parsers and panics if a property fails, so a fuzzer (libFuzzer
//! through cargo-fuzz, or the bounded stable run `cargo test -p kiln-fuzz` does) reports it.

use std::time::{Duration, UNIX_EPOCH};

use crate::config::Config;
use crate::retry::{MAX_HINT, hint_from_headers};
use crate::sse::Parser;

/// The SSE parser: the first byte picks where the rest is cut in two; fed whole, fed in two
/// pieces and fed byte by byte, the stream gives the same events and the same pending state
/// (a chunk boundary never changes what a stream means).
pub fn sse(data: &[u8]) {
    let Some((&cut, stream)) = data.split_first() else { return };
    let cut = usize::from(cut) * stream.len() / 255;
    let mut whole = Parser::default();
    let want = whole.feed(stream);
    let mut halves = Parser::default();
    let mut got = halves.feed(&stream[..cut]);
    got.extend(halves.feed(&stream[cut..]));
    assert_eq!(got, want, "cut at {cut}");
    assert_eq!(halves.has_pending(), whole.has_pending());
    let mut bytes = Parser::default();
    let got: Vec<_> = stream.iter().flat_map(|b| bytes.feed(std::slice::from_ref(b))).collect();
    assert_eq!(got, want, "byte by byte");
    assert_eq!(bytes.has_pending(), whole.has_pending());
}

/// The retry-hint headers: `data` is header lines (`name: value`); whatever they say, the
/// hint is at most the cap (`MAX_HINT`, 7 days) and parsing never panics (no float
/// overflow, no date arithmetic past the epoch's range).
pub fn retry_headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let headers: Vec<(String, &str)> = text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim()))
        .collect();
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    for now in [UNIX_EPOCH, UNIX_EPOCH + Duration::from_secs(1_800_000_000)] {
        if let Some(hint) = hint_from_headers(header, now) {
            assert!(hint <= MAX_HINT, "hint {hint:?} beyond the cap");
        }
    }
}

/// `models.yaml`: any text parses to a config or an error that says something, never a
/// panic; a config that parses lists only providers it defines in its chain.
pub fn models_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Config::parse(text, "fuzz.yaml") {
        Ok(config) => {
            for name in config.chain() {
                assert!(config.providers.contains_key(&name), "chain names unknown provider {name}");
            }
        }
        Err(e) => assert!(!e.to_string().trim().is_empty(), "an empty error"),
    }
}
