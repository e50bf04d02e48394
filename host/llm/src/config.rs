//! `models.yaml`: providers, the fallback chain, retry limits and the `lovable_patterns`
//! flags. Unknown keys and bad values are rejected with the file, line and a hint.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

/// The whole configuration. `Config::default()` is the embedded offline default: no
/// providers, so every call hands over to the guest's rule-based path.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Providers by name.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Provider names in the order they are tried. May be omitted with a single provider.
    #[serde(default)]
    pub fallback_chain: Vec<String>,
    /// Retry limits.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Feature flags.
    #[serde(default)]
    pub lovable_patterns: PatternsConfig,
}

/// Which API a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama, vLLM, llama.cpp
    /// server, LM Studio, LiteLLM, OpenRouter).
    Openai,
    /// Anthropic's Messages API.
    Anthropic,
    /// No network: hands over to the guest's rule-based path.
    Offline,
}

impl ProviderKind {
    /// `openai`, `anthropic` or `offline`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
            Self::Offline => "offline",
        }
    }
}

/// How an `openai` provider is asked for JSON when a request carries a schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonMode {
    /// `response_format: {type: json_schema, ...}` (OpenAI, vLLM, recent Ollama and
    /// llama.cpp server).
    #[default]
    Schema,
    /// `response_format: {type: json_object}` plus the schema in a system message.
    Object,
    /// Only the system message (servers without `response_format`).
    Prompt,
}

/// One provider. Keys that do not apply to its `kind` are rejected.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// `openai`, `anthropic` or `offline`.
    pub kind: ProviderKind,
    /// The API root: `http://127.0.0.1:11434/v1` for Ollama (`/chat/completions` is
    /// appended); for `anthropic`, `https://api.anthropic.com` (`/v1/messages` is
    /// appended). Defaults to the vendor's public endpoint.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The model name the endpoint expects. Required for `openai` and `anthropic`.
    #[serde(default)]
    pub model: Option<String>,
    /// The name of the environment variable that holds the API key (never the key).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// The limit for one attempt, from sending the request to the last byte.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The limit for establishing the connection (TCP and TLS).
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// The limit from sending the request to the response headers. Default: `timeout_ms`.
    #[serde(default)]
    pub first_byte_timeout_ms: Option<u64>,
    /// The longest silence between two chunks of a response. Default: 30 s.
    #[serde(default = "default_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
    /// The model's context window in tokens; after a context-too-long failure, links whose
    /// window is known and not larger are skipped.
    #[serde(default)]
    pub context_window: Option<u32>,
    /// The default `max_tokens` (Anthropic requires one: 4096 unless set).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Extra request headers (e.g. OpenRouter's `HTTP-Referer`). Credentials do not
    /// belong here: use `api_key_env`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How to ask an `openai` provider for JSON.
    #[serde(default)]
    pub json_mode: JsonMode,
    /// The `anthropic-version` header (default `2023-06-01`).
    #[serde(default)]
    pub anthropic_version: Option<String>,
}

fn default_timeout_ms() -> u64 {
    60_000
}
fn default_connect_timeout_ms() -> u64 {
    5_000
}
fn default_idle_timeout_ms() -> u64 {
    30_000
}

impl ProviderConfig {
    /// The offline provider.
    pub fn offline() -> Self {
        Self {
            kind: ProviderKind::Offline,
            base_url: None,
            model: None,
            api_key_env: None,
            timeout_ms: default_timeout_ms(),
            connect_timeout_ms: default_connect_timeout_ms(),
            first_byte_timeout_ms: None,
            idle_timeout_ms: default_idle_timeout_ms(),
            context_window: None,
            max_tokens: None,
            headers: BTreeMap::new(),
            json_mode: JsonMode::default(),
            anthropic_version: None,
        }
    }

    /// A provider of `kind` at `base_url` serving `model`, with default limits.
    pub fn new(kind: ProviderKind, base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self { kind, base_url: Some(base_url.into()), model: Some(model.into()), ..Self::offline() }
    }

    /// `base_url`, or the vendor's public endpoint.
    pub fn base_url_or_default(&self) -> &str {
        match (&self.base_url, self.kind) {
            (Some(url), _) => url.trim_end_matches('/'),
            (None, ProviderKind::Anthropic) => "https://api.anthropic.com",
            (None, _) => "https://api.openai.com/v1",
        }
    }
}

/// Retry limits, per call.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Attempts per provider per call, the first one included.
    pub max_attempts: u32,
    /// The first backoff ceiling; doubles with every retry.
    pub base_delay_ms: u64,
    /// The cap on any delay, hints included: a server asking for more is not waited for.
    pub max_delay_ms: u64,
    /// The budget of a whole call: every attempt, every wait, every provider.
    pub deadline_ms: u64,
    /// The delay between attempts when dynamic retry delays are off.
    pub fixed_delay_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay_ms: 250,
            max_delay_ms: 20_000,
            deadline_ms: 60_000,
            fixed_delay_ms: 500,
        }
    }
}

impl RetryConfig {
    pub(crate) fn base_delay(&self) -> Duration {
        Duration::from_millis(self.base_delay_ms)
    }
    pub(crate) fn max_delay(&self) -> Duration {
        Duration::from_millis(self.max_delay_ms)
    }
    pub(crate) fn fixed_delay(&self) -> Duration {
        Duration::from_millis(self.fixed_delay_ms)
    }
}

/// A percentage, 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Percent(u8);

impl Percent {
    /// All sessions.
    pub const ALL: Self = Self(100);

    /// The value, 0..=100.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Percent {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, Self::Error> {
        u8::try_from(v)
            .ok()
            .filter(|p| *p <= 100)
            .map(Self)
            .ok_or_else(|| format!("rollout_percent must be a whole number from 0 to 100, got {v}"))
    }
}

impl Default for Percent {
    fn default() -> Self {
        Self::ALL
    }
}

/// One flag in `lovable_patterns`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FlagConfig {
    /// Off for everyone when false.
    pub enabled: bool,
    /// The share of sessions (by a stable hash of the session id) the flag is on for.
    pub rollout_percent: Percent,
}

impl Default for FlagConfig {
    fn default() -> Self {
        Self { enabled: true, rollout_percent: Percent::ALL }
    }
}

/// `p2_fallback_chain`: the flag plus the circuit breaker's settings.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FallbackFlagConfig {
    /// Off for everyone when false (then only the first provider of the chain is used).
    pub enabled: bool,
    /// The share of sessions the flag is on for.
    pub rollout_percent: Percent,
    /// How long a provider whose breaker opened is skipped before one probe call.
    pub cooldown_ms: u64,
    /// Consecutive failures (across calls) that open a provider's breaker.
    pub failure_threshold: u32,
}

impl Default for FallbackFlagConfig {
    fn default() -> Self {
        Self { enabled: true, rollout_percent: Percent::ALL, cooldown_ms: 30_000, failure_threshold: 3 }
    }
}

impl FallbackFlagConfig {
    pub(crate) fn as_flag(&self) -> FlagConfig {
        FlagConfig { enabled: self.enabled, rollout_percent: self.rollout_percent }
    }
}

/// The `lovable_patterns` section. Every flag defaults to on for all sessions.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PatternsConfig {
    /// Dynamic retry delays (`LOVABLE_DYNAMIC_RETRY_DELAYS`).
    pub p1_dynamic_retry_delays: FlagConfig,
    /// Conversation state (`LOVABLE_CONVERSATION_STATE`); read by the builder, not here.
    pub p2_conversation_state: FlagConfig,
    /// The fallback chain (`LOVABLE_FALLBACK_CHAIN`).
    pub p2_fallback_chain: FallbackFlagConfig,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML or breaks a rule.
    #[error("{file}:{line}:{column}: {message}\n  hint: {hint}")]
    Invalid {
        /// The file (or `<string>`).
        file: String,
        /// 1-based line of the offending key or value.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
        /// What to do.
        hint: String,
    },
    /// A provider cannot be set up (e.g. a header value that is not valid in HTTP).
    #[error("provider `{name}`: {message}")]
    Provider {
        /// The provider's name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A flag's environment variable holds something other than true/false.
    #[error(
        "environment variable {name}={value:?} is not a boolean\n  hint: set it to true or false, or unset it to use models.yaml"
    )]
    BadEnv {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
}

impl Config {
    /// The embedded default: no providers, offline.
    pub fn default_offline() -> Self {
        Self::default()
    }

    /// Reads and validates a `models.yaml`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates YAML text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, ConfigError> {
        let config: Config = serde_norway::from_str(text).map_err(|e| yaml_error(&e, text, file))?;
        // An empty document is `null`: the offline default.
        config.validate(text, file)?;
        Ok(config)
    }

    /// The provider names tried in order: `fallback_chain`, or the single provider, or
    /// nothing (offline).
    pub fn chain(&self) -> Vec<String> {
        if !self.fallback_chain.is_empty() {
            return self.fallback_chain.clone();
        }
        self.providers.keys().cloned().collect()
    }

    /// Environment variables named by `api_key_env` that `env` does not have, as
    /// `(provider, variable)`: those providers fail with a permanent error until set.
    pub fn missing_keys(&self, env: &dyn Fn(&str) -> Option<String>) -> Vec<(String, String)> {
        self.providers
            .iter()
            .filter_map(|(name, p)| {
                let var = p.api_key_env.as_ref()?;
                env(var).is_none_or(|v| v.is_empty()).then(|| (name.clone(), var.clone()))
            })
            .collect()
    }

    fn validate(&self, text: &str, file: &str) -> Result<(), ConfigError> {
        let fail = |path: &[&str], message: String, hint: &str| {
            let (line, column) = locate(text, path);
            Err(ConfigError::Invalid { file: file.to_owned(), line, column, message, hint: hint.to_owned() })
        };
        if self.fallback_chain.is_empty() && self.providers.len() > 1 {
            return fail(
                &["providers"],
                format!("{} providers but no fallback_chain", self.providers.len()),
                "add `fallback_chain: [first, second, ...]` naming them in the order to try",
            );
        }
        if !self.fallback_chain.is_empty() && self.providers.is_empty() {
            return fail(
                &["fallback_chain"],
                "fallback_chain without providers".into(),
                "define them under `providers:`",
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for name in &self.fallback_chain {
            if !self.providers.contains_key(name) {
                let known: Vec<_> = self.providers.keys().map(String::as_str).collect();
                return fail(
                    &["fallback_chain", name],
                    format!(
                        "fallback_chain names `{name}`, which is not under providers (known: {})",
                        known.join(", ")
                    ),
                    "fix the spelling or add the provider",
                );
            }
            if !seen.insert(name) {
                return fail(
                    &["fallback_chain", name],
                    format!("fallback_chain lists `{name}` twice"),
                    "list each provider once; retries on one provider are set under `retry:`",
                );
            }
        }
        for (name, p) in &self.providers {
            let at = |key: &'static str| -> [&str; 3] { ["providers", name.as_str(), key] };
            if p.kind == ProviderKind::Offline {
                let extra = [
                    ("base_url", p.base_url.is_some()),
                    ("model", p.model.is_some()),
                    ("api_key_env", p.api_key_env.is_some()),
                    ("headers", !p.headers.is_empty()),
                    ("context_window", p.context_window.is_some()),
                ];
                if let Some((key, _)) = extra.iter().find(|(_, set)| *set) {
                    return fail(
                        &at(key),
                        format!("provider `{name}` is offline and takes no `{key}`"),
                        "remove the key, or change `kind` to openai or anthropic",
                    );
                }
                continue;
            }
            if p.model.as_deref().is_none_or(|m| m.trim().is_empty()) {
                return fail(
                    &["providers", name],
                    format!("provider `{name}` ({}) has no `model`", p.kind.as_str()),
                    "add `model: <name the endpoint serves>`, e.g. llama3.1 for Ollama",
                );
            }
            if let Some(url) = &p.base_url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return fail(
                    &at("base_url"),
                    format!("provider `{name}`: base_url {url:?} is not an http(s) URL"),
                    "write the full API root, e.g. http://127.0.0.1:11434/v1",
                );
            }
            if let Some(var) = &p.api_key_env
                && !is_env_name(var)
            {
                // Never echo the value: it may be a pasted key.
                return fail(
                    &at("api_key_env"),
                    format!("provider `{name}`: api_key_env must name an environment variable"),
                    "write the variable's name (e.g. OPENAI_API_KEY) and export the key in it; keys never go in models.yaml",
                );
            }
            for header in p.headers.keys() {
                let lower = header.to_ascii_lowercase();
                if matches!(lower.as_str(), "authorization" | "x-api-key" | "api-key") {
                    return fail(
                        &at("headers"),
                        format!("provider `{name}`: header `{header}` carries a credential"),
                        "remove it and name the key's environment variable in api_key_env",
                    );
                }
                if header.is_empty()
                    || !header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    return fail(
                        &at("headers"),
                        format!("provider `{name}`: invalid header name {header:?}"),
                        "use letters, digits and dashes",
                    );
                }
            }
            for (key, value) in [
                ("timeout_ms", p.timeout_ms),
                ("connect_timeout_ms", p.connect_timeout_ms),
                ("idle_timeout_ms", p.idle_timeout_ms),
            ] {
                if value == 0 {
                    return fail(
                        &at(key),
                        format!("provider `{name}`: {key} must be above 0"),
                        "give milliseconds, e.g. 30000",
                    );
                }
            }
            if p.first_byte_timeout_ms == Some(0) {
                return fail(
                    &at("first_byte_timeout_ms"),
                    format!("provider `{name}`: first_byte_timeout_ms must be above 0"),
                    "give milliseconds, or remove it",
                );
            }
        }
        let r = &self.retry;
        if r.max_attempts == 0 {
            return fail(
                &["retry", "max_attempts"],
                "retry.max_attempts must be at least 1".into(),
                "1 means no retries",
            );
        }
        if r.deadline_ms == 0 {
            return fail(
                &["retry", "deadline_ms"],
                "retry.deadline_ms must be above 0".into(),
                "the budget of one call, e.g. 60000",
            );
        }
        if r.max_delay_ms < r.base_delay_ms {
            return fail(
                &["retry", "max_delay_ms"],
                format!(
                    "retry.max_delay_ms ({}) is below base_delay_ms ({})",
                    r.max_delay_ms, r.base_delay_ms
                ),
                "the cap must be at least the first delay",
            );
        }
        if self.lovable_patterns.p2_fallback_chain.failure_threshold == 0 {
            return fail(
                &["lovable_patterns", "p2_fallback_chain", "failure_threshold"],
                "failure_threshold must be at least 1".into(),
                "the number of consecutive failures that opens a provider's breaker",
            );
        }
        Ok(())
    }
}

fn is_env_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A YAML or shape error, with its location and a hint.
fn yaml_error(e: &serde_norway::Error, text: &str, file: &str) -> ConfigError {
    let (mut line, mut column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    let mut message = e.to_string();
    // The location is reported separately.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    // A value rejected after parsing (rollout_percent) is reported at the start of its
    // map: point at the key itself.
    if message.contains("rollout_percent")
        && let Some((path, _)) = message.split_once(": ")
    {
        let mut keys: Vec<&str> = path.split('.').collect();
        keys.push("rollout_percent");
        let (l, c) = locate(text, &keys);
        if l >= line {
            (line, column) = (l, c);
        }
    }
    let hint = if message.contains("unknown field") {
        "remove the key or fix its spelling (the keys allowed here are listed above; reference: docs/llm.md)"
    } else if message.contains("unknown variant") {
        "use one of the values listed above"
    } else if message.contains("missing field") {
        "add the missing key"
    } else if message.contains("rollout_percent") {
        "a whole number from 0 to 100"
    } else if message.contains("invalid type") {
        "check the value's type: numbers unquoted, true/false for flags, lists in [ ]"
    } else {
        "check the YAML syntax around this line (indentation, colons, quotes)"
    };
    ConfigError::Invalid { file: file.to_owned(), line, column, message, hint: hint.to_owned() }
}

/// The line and column of a nested key (or list item) in the YAML text, found by looking
/// for each path element in turn after the previous one. Good enough for pointing a person
/// at the place; falls back to the last element found, then to line 1.
fn locate(text: &str, path: &[&str]) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut found = (1, 1);
    for element in path {
        let hit = lines.iter().enumerate().skip(from).find_map(|(i, line)| {
            let code = line.split(" #").next().unwrap_or(line);
            find_token(code, element).map(|col| (i, col))
        });
        match hit {
            Some((i, col)) => {
                found = (i + 1, col + 1);
                from = i;
            }
            None => break,
        }
    }
    found
}

/// Where `token` stands as a whole word (a key or a list item) in `line`.
fn find_token(line: &str, token: &str) -> Option<usize> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut start = 0;
    while let Some(pos) = line[start..].find(token) {
        let at = start + pos;
        let before = line[..at].chars().next_back();
        let after = line[at + token.len()..].chars().next();
        if !before.is_some_and(is_word) && !after.is_some_and(is_word) {
            return Some(at);
        }
        start = at + token.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
providers:
  primary:   { kind: openai, base_url: "http://127.0.0.1:11434/v1", model: "llama3.1", api_key_env: OPENAI_API_KEY, timeout_ms: 30000 }
  secondary: { kind: anthropic, model: "claude-sonnet-4-5", api_key_env: ANTHROPIC_API_KEY }
  tertiary:  { kind: offline }
fallback_chain: [primary, secondary, tertiary]
retry: { max_attempts: 4, base_delay_ms: 250, max_delay_ms: 20000, deadline_ms: 60000 }
lovable_patterns:
  p1_dynamic_retry_delays: { enabled: true, rollout_percent: 100 }
  p2_conversation_state:   { enabled: true, rollout_percent: 100 }
  p2_fallback_chain:       { enabled: true, rollout_percent: 100, cooldown_ms: 30000 }
"#;

    fn err(text: &str) -> (usize, String) {
        match Config::parse(text, "models.yaml") {
            Err(ConfigError::Invalid { line, message, hint, file, .. }) => {
                assert_eq!(file, "models.yaml");
                assert!(!hint.is_empty());
                (line, message)
            }
            other => panic!("expected an invalid config, got {other:?}"),
        }
    }

    #[test]
    fn the_spec_example_parses() {
        let c = Config::parse(FULL, "models.yaml").expect("valid");
        assert_eq!(c.chain(), ["primary", "secondary", "tertiary"]);
        assert_eq!(c.providers["primary"].timeout_ms, 30000);
        assert_eq!(c.providers["secondary"].base_url_or_default(), "https://api.anthropic.com");
        assert_eq!(c.providers["primary"].base_url_or_default(), "http://127.0.0.1:11434/v1");
        assert_eq!(c.lovable_patterns.p2_fallback_chain.cooldown_ms, 30000);
        assert_eq!(c.retry, RetryConfig { fixed_delay_ms: 500, ..RetryConfig::default() });
        let env = |name: &str| (name == "OPENAI_API_KEY").then(|| "k".to_owned());
        assert_eq!(c.missing_keys(&env), [("secondary".to_owned(), "ANTHROPIC_API_KEY".to_owned())]);
    }

    #[test]
    fn empty_and_minimal_files() {
        assert_eq!(Config::parse("", "m.yaml").expect("empty is offline"), Config::default_offline());
        assert_eq!(Config::parse("# nothing\n", "m.yaml").expect("comment only"), Config::default());
        let one = Config::parse("providers:\n  local: { kind: openai, model: m }\n", "m.yaml")
            .expect("one provider");
        assert_eq!(one.chain(), ["local"]);
        assert_eq!(one.providers["local"].base_url_or_default(), "https://api.openai.com/v1");
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_line() {
        let (line, message) =
            err("providers:\n  p:\n    kind: openai\n    model: m\n    bse_url: http://x\n");
        assert_eq!(line, 5);
        assert!(message.contains("unknown field `bse_url`"), "{message}");
        let (line, message) = err("retry:\n  max_attempts: 3\n  jitter: full\n");
        assert_eq!(line, 3);
        assert!(message.contains("jitter"), "{message}");
        let (line, _) =
            err("lovable_patterns:\n  p1_dynamic_retry_delays:\n    enabled: true\n    rollout: 10\n");
        assert_eq!(line, 4);
        let (line, _) = err("provider: {}\n");
        assert_eq!(line, 1);
    }

    #[test]
    fn bad_values_are_rejected_with_their_line() {
        let (line, message) = err("lovable_patterns:\n  p2_fallback_chain:\n    rollout_percent: 150\n");
        assert_eq!(line, 3);
        assert!(message.contains("0 to 100") && message.contains("150"), "{message}");
        let (line, message) = err("providers:\n  p: { kind: opena, model: m }\n");
        assert_eq!(line, 2);
        assert!(message.contains("unknown variant `opena`"), "{message}");
        let (line, _) = err("retry:\n  max_attempts: many\n");
        assert_eq!(line, 2);
        let (line, _) = err("providers:\n  p: { kind: openai, model: [\n");
        assert!(line >= 2);
    }

    #[test]
    fn rules_beyond_the_shape() {
        let two = "providers:\n  a: { kind: openai, model: m }\n  b: { kind: offline }\n";
        assert!(err(two).1.contains("no fallback_chain"));
        let (line, message) = err("providers:\n  a: { kind: openai, model: m }\nfallback_chain: [a, b]\n");
        assert_eq!(line, 3);
        assert!(message.contains("`b`"), "{message}");
        assert!(
            err("providers:\n  a: { kind: openai, model: m }\nfallback_chain: [a, a]\n").1.contains("twice")
        );
        assert!(err("fallback_chain: [a]\n").1.contains("without providers"));
        let (line, message) = err("providers:\n  a:\n    kind: openai\n");
        assert_eq!(line, 2);
        assert!(message.contains("no `model`"));
        let (line, _) = err("providers:\n  a:\n    kind: offline\n    model: m\n");
        assert_eq!(line, 4);
        assert!(
            err("providers:\n  a: { kind: openai, model: m, base_url: \"ftp://x\" }\n").1.contains("http(s)")
        );
        let pasted = "providers:\n  a: { kind: openai, model: m, api_key_env: \"sk-abc123-def\" }\n";
        let (_, message) = err(pasted);
        assert!(!message.contains("sk-abc123"), "the value must not be echoed: {message}");
        assert!(
            err("providers:\n  a: { kind: openai, model: m, headers: { Authorization: x } }\n")
                .1
                .contains("credential")
        );
        assert!(
            err("providers:\n  a: { kind: openai, model: m, headers: { \"a b\": x } }\n")
                .1
                .contains("invalid header")
        );
        assert!(err("providers:\n  a: { kind: openai, model: m, timeout_ms: 0 }\n").1.contains("timeout_ms"));
        assert!(
            err("providers:\n  a: { kind: openai, model: m, first_byte_timeout_ms: 0 }\n")
                .1
                .contains("first_byte")
        );
        let (line, _) = err("retry:\n  max_attempts: 0\n");
        assert_eq!(line, 2);
        assert!(err("retry: { deadline_ms: 0 }\n").1.contains("deadline"));
        assert!(err("retry: { base_delay_ms: 10, max_delay_ms: 5 }\n").1.contains("max_delay_ms"));
        assert!(
            err("lovable_patterns: { p2_fallback_chain: { failure_threshold: 0 } }\n")
                .1
                .contains("failure_threshold")
        );
    }

    #[test]
    fn errors_read_well() {
        let e = Config::parse("retry:\n  nope: 1\n", "conf/models.yaml").expect_err("invalid");
        let text = e.to_string();
        assert!(text.starts_with("conf/models.yaml:2:"), "{text}");
        assert!(text.contains("hint:"), "{text}");
        let missing = Config::load(Path::new("/nonexistent/models.yaml")).expect_err("missing file");
        assert!(missing.to_string().contains("/nonexistent/models.yaml"));
    }

    #[test]
    fn locating_keys() {
        let text = "a:\n  b: 1\n  c:\n    b: 2 # b\n";
        assert_eq!(locate(text, &["a", "c", "b"]), (4, 5));
        assert_eq!(locate(text, &["a", "zz"]), (1, 1));
        assert_eq!(find_token("fallback_chain: [ab, a]", "a"), Some(21));
        assert_eq!(find_token("xa", "a"), None);
        assert_eq!(
            Percent::try_from(-1).map(Percent::get),
            Err("rollout_percent must be a whole number from 0 to 100, got -1".into())
        );
        assert_eq!(Percent::try_from(42).map(Percent::get), Ok(42));
        assert!(is_env_name("_A1") && !is_env_name("1A") && !is_env_name(""));
    }
}
