//! Fuzz targets, one per parser the host has: server-sent events and retry-hint headers
//! (LLM responses), `models.yaml`, and the stored session record. Each takes arbitrary
//! bytes and panics when a property fails; `fuzz_targets/` runs them under libFuzzer
//! (cargo-fuzz, nightly), `tests/targets.rs` under proptest on stable for a bounded number
//! of cases in every `cargo test` (fuzz/README.md says why both).

use kiln_core::builder::record;

pub use kiln_llm::fuzzing::{models_yaml, retry_headers, sse};

/// The stored session record (and JSON sessions of format 1): any bytes decode to a
/// session or an error, never a panic; a session that decodes is written back as a record
/// that decodes to the same record, byte for byte.
pub fn session_record(data: &[u8]) {
    let Ok(session) = record::decode(data) else { return };
    let bytes = record::encode(&session);
    match record::decode(&bytes) {
        Ok(again) => assert_eq!(record::encode(&again), bytes, "the record does not round-trip"),
        Err(e) => panic!("a record this Kiln wrote does not decode: {e}"),
    }
}

/// Every target with its name (the names of `fuzz_targets/` and `corpus/`) and the tokens
/// its format is made of, which the stable run splices into the seeds.
pub const TARGETS: &[Target] = &[
    Target {
        name: "sse",
        run: sse,
        tokens: &[
            b"data:",
            b"data: ",
            b"event:",
            b":",
            b"\n",
            b"\r\n",
            b"\r",
            b"[DONE]",
            b"\xc3\xa9",
            b"\xc3",
        ],
    },
    Target {
        name: "retry_headers",
        run: retry_headers,
        tokens: &[
            b"retry-after: ",
            b"retry-after-ms: ",
            b"x-ratelimit-reset-requests: ",
            b"x-ratelimit-remaining-requests: 0\n",
            b"anthropic-ratelimit-tokens-reset: ",
            b"anthropic-ratelimit-tokens-remaining: 0\n",
            b"GMT",
            b"9999",
            b"1e308",
            b".",
            b"h",
            b"ms",
            b"\n",
        ],
    },
    Target {
        name: "models_yaml",
        run: models_yaml,
        tokens: &[
            b"providers:\n",
            b"fallback_chain: [",
            b"kind: openai",
            b"kind: anthropic",
            b"kind: offline",
            b"{",
            b"}",
            b"[",
            b"]",
            b": ",
            b"\n  ",
            b"- ",
            b"&a ",
            b"*a",
            b"!!",
            b"\"",
            b"'",
            b"~",
            b"-1",
            b"1e9",
            b"rollout_percent: ",
        ],
    },
    Target {
        name: "session_record",
        run: session_record,
        tokens: &[b"\xffKS\x03", b"\xffKS\x02", b"\x00", b"\x7f", b"\x80", b"{", b"\""],
    },
];

/// One fuzz target.
#[derive(Debug)]
pub struct Target {
    /// Its name in `fuzz_targets/` and `corpus/`.
    pub name: &'static str,
    /// Runs it on one input (panics on a failed property).
    pub run: fn(&[u8]),
    /// Pieces of its input format, for mutations.
    pub tokens: &'static [&'static [u8]],
}
