//! API keys: read from the environment, never shown.

/// A secret value (an API key). `Debug` and `Display` print `[redacted]`; the value is
/// only reachable inside this crate, where it goes into a request header.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Replaces every occurrence of any of `secrets` in `text` with `[redacted]`. Providers
/// sometimes echo a (partial) key in an error body; this runs over every message before it
/// reaches a log, an attempt record or an error.
pub(crate) fn redact(text: &str, secrets: &[Secret]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        // Very short values would redact ordinary words; real keys are long.
        if s.0.len() >= 8 && out.contains(&s.0) {
            out = out.replace(&s.0, "[redacted]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shown() {
        let s = Secret::new("sk-verysecret-123");
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "sk-verysecret-123");
        let text = redact("bad key sk-verysecret-123 given; sk-verysecret-123", std::slice::from_ref(&s));
        assert_eq!(text, "bad key [redacted] given; [redacted]");
        assert_eq!(redact("short abc", &[Secret::new("abc")]), "short abc");
    }
}
