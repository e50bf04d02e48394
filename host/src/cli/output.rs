//! How results and failures are shown: text for people, JSON for scripts.

use kiln_engine::QueueFailure;
use kiln_engine::builder::BuilderFailure;
use kiln_engine::listing::CorruptEntry;
use kiln_wire::builder::BuilderError;
use kiln_wire::queue::QueueError;
use serde::Serialize;

/// A failed command: what kind of failure (stable, for scripts) and the message.
#[derive(Debug)]
pub struct Failure {
    /// A stable identifier: `empty`, `not-found`, `invalid-input`, `corrupt`, ...
    pub kind: &'static str,
    /// What happened and what to do.
    pub message: String,
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self { kind: "error", message: format!("{e:#}") }
    }
}

impl Failure {
    /// A queue failure, with store keys turned into places a person can find.
    pub fn queue(e: QueueFailure, locate: impl Fn(&str) -> String) -> Self {
        let kind = e.kind();
        let message = match e {
            QueueFailure::Queue(QueueError::Corrupt { key, detail }) => {
                QueueError::Corrupt { key: locate(&key), detail }.to_string()
            }
            other => other.to_string(),
        };
        Self { kind, message }
    }

    /// A builder failure, with store keys turned into places a person can find.
    pub fn builder(e: BuilderFailure, locate: impl Fn(&str) -> String) -> Self {
        let kind = e.kind();
        let message = match e {
            BuilderFailure::Builder(BuilderError::Corrupt { key, detail }) => {
                BuilderError::Corrupt { key: locate(&key), detail }.to_string()
            }
            other => other.to_string(),
        };
        Self { kind, message }
    }
}

/// Writes one line to stdout. A reader that went away (`kiln ... | head`) is not worth a
/// panic: the rest of the output is dropped.
pub fn line(text: impl std::fmt::Display) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// One warning line on stderr per entry a command skipped because it cannot be read; the
/// command still succeeds with the rest.
pub fn warn_skipped(corrupt: &[CorruptEntry], locate: impl Fn(&str) -> String) {
    for entry in corrupt {
        eprintln!("warning: skipped {} ({}): {}", entry.id, locate(&entry.key), entry.error);
    }
}

/// Output settings.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// JSON instead of text.
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON, or `text()` for people.
    pub fn print<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) {
        if self.json {
            line(serde_json::to_string_pretty(value).unwrap_or_default());
        } else {
            let text = text();
            if !text.is_empty() {
                line(text);
            }
        }
    }

    /// A remark for people (nothing with `--json`).
    pub fn note(&self, text: &str) {
        if !self.json {
            line(text);
        }
    }

    /// Reports a failure that does not end the command: on stderr for people, as a JSON
    /// line on stdout with `--json` so scripts see it in order with the other lines.
    pub fn report(&self, failure: &Failure) {
        if self.json {
            let body = serde_json::json!({ "error": { "kind": failure.kind, "message": failure.message } });
            line(body);
        } else {
            eprintln!("error: {}", failure.message);
        }
    }

    /// Reports a failure on stderr.
    pub fn failure(&self, failure: &Failure) {
        if self.json {
            let body = serde_json::json!({ "error": { "kind": failure.kind, "message": failure.message } });
            eprintln!("{body}");
        } else {
            eprintln!("error: {}", failure.message);
        }
    }
}
