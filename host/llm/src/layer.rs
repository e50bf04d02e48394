//! The layer: retries with dynamic delays, the fallback chain with circuit breakers,
//! output checks, streaming semantics, logs and metrics.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use metrics::{counter, histogram};
use tracing::{info, warn};

use crate::breaker::{Admission, Breaker};
use crate::config::{Config, ConfigError, FallbackFlagConfig, ProviderConfig, ProviderKind, RetryConfig};
use crate::error::{AttemptError, Cause, ErrorClass, LlmFailure};
use crate::flags::Flags;
use crate::provider::{self, Key, Provider, ProviderOutput, ProviderRequest};
use crate::request::{
    Attempt, ChatMessage, Completion, CompletionRequest, Next, OfflineReply, Reply, Role, StreamEvent,
    TokenSink,
};
use crate::retry::full_jitter;
use crate::schema;
use crate::secret::{Secret, redact};
use crate::telemetry as m;

/// One provider in the chain.
struct Link {
    name: String,
    kind: ProviderKind,
    model: String,
    context_window: Option<u32>,
    /// Endpoint and credential: after a 401/403, links sharing it are skipped.
    endpoint: String,
    timeout: Duration,
    provider: Arc<dyn Provider>,
    breaker: Mutex<Breaker>,
}

/// The LLM layer: build it once from a [`Config`], share it (it is `Send + Sync`), call
/// [`LlmLayer::complete`].
pub struct LlmLayer {
    links: Vec<Link>,
    retry: RetryConfig,
    flags: Flags,
    breaker: FallbackFlagConfig,
    secrets: Vec<Secret>,
}

impl std::fmt::Debug for LlmLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let chain: Vec<String> =
            self.links.iter().map(|l| format!("{} ({} {})", l.name, l.kind.as_str(), l.model)).collect();
        f.debug_struct("LlmLayer")
            .field("chain", &chain)
            .field("retry", &self.retry)
            .field("flags", &self.flags)
            .field("secrets", &self.secrets)
            .finish()
    }
}

/// What to do after a failed attempt.
#[derive(Debug, PartialEq)]
enum Decision {
    Retry { delay: Duration, source: &'static str },
    Repair,
    Fallback(String),
}

impl LlmLayer {
    /// Builds the layer; API keys and flag overrides come from the process environment.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Self::with_env(config, &|name| std::env::var(name).ok())
    }

    /// Builds the layer with `env(name)` in place of the process environment (API keys
    /// and `LOVABLE_*` overrides).
    pub fn with_env(config: Config, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let flags = Flags::resolve(&config.lovable_patterns, env)?;
        let mut secrets = Vec::new();
        let mut links = Vec::new();
        let offline = ProviderConfig::offline();
        let chain = config.chain();
        let entries: Vec<(String, &ProviderConfig)> = if chain.is_empty() {
            vec![("offline".to_owned(), &offline)]
        } else {
            chain
                .iter()
                .map(|name| {
                    config.providers.get(name).map(|p| (name.clone(), p)).ok_or_else(|| {
                        ConfigError::Provider {
                            name: name.clone(),
                            message: "is in fallback_chain but not under providers".into(),
                        }
                    })
                })
                .collect::<Result<_, _>>()?
        };
        for (name, p) in entries {
            let key = match &p.api_key_env {
                None => Key::None,
                Some(var) => match env(var).filter(|v| !v.is_empty()) {
                    Some(value) => {
                        let secret = Secret::new(value);
                        secrets.push(secret.clone());
                        Key::Set(secret)
                    }
                    None => Key::Missing(var.clone()),
                },
            };
            links.push(Link {
                provider: provider::build(&name, p, key)?,
                kind: p.kind,
                model: p.model.clone().unwrap_or_default(),
                context_window: p.context_window,
                endpoint: format!("{} {} {:?}", p.kind.as_str(), p.base_url_or_default(), p.api_key_env),
                timeout: Duration::from_millis(p.timeout_ms),
                breaker: Mutex::new(Breaker::new()),
                name,
            });
        }
        Ok(Self {
            links,
            retry: config.retry,
            flags,
            breaker: config.lovable_patterns.p2_fallback_chain,
            secrets,
        })
    }

    /// The resolved flags.
    pub fn flags(&self) -> &Flags {
        &self.flags
    }

    /// The chain as `(name, kind, model)`, in order.
    pub fn chain(&self) -> Vec<(&str, ProviderKind, &str)> {
        self.links.iter().map(|l| (l.name.as_str(), l.kind, l.model.as_str())).collect()
    }

    /// One call through the chain.
    ///
    /// Streams tokens to `sink` when `request.stream`; if an attempt fails after some of
    /// its tokens were delivered, `sink` gets [`StreamEvent::Discard`] before the next
    /// attempt's tokens. Returns the completion, or [`Reply::Offline`] when the chain
    /// reached the `offline` provider (the guest's rule-based path takes over), or the
    /// failure of the last attempt when nothing is left to try.
    pub async fn complete(
        &self,
        request: &CompletionRequest,
        sink: &mut dyn TokenSink,
    ) -> Result<Reply, LlmFailure> {
        let started = Instant::now();
        let result = self.run(request, sink, started).await;
        let (outcome, class) = match &result {
            Ok(Reply::Completion(_)) => ("ok", "none"),
            Ok(Reply::Offline(_)) => ("offline", "none"),
            Err(f) => ("failed", f.class.as_str()),
        };
        counter!(m::CALLS, "outcome" => outcome, "class" => class).increment(1);
        histogram!(m::CALL_DURATION, "outcome" => outcome).record(started.elapsed().as_secs_f64());
        result
    }

    async fn run(
        &self,
        request: &CompletionRequest,
        sink: &mut dyn TokenSink,
        started: Instant,
    ) -> Result<Reply, LlmFailure> {
        let session = request.session_id.as_deref();
        let dynamic = self.flags.dynamic_retry(session);
        let chained = self.flags.fallback_chain(session);
        let links = if chained { &self.links[..] } else { &self.links[..1] };
        let deadline = started + self.retry.deadline();
        let cooldown = Duration::from_millis(self.breaker.cooldown_ms);
        let mut rng = fastrand::Rng::new();
        let mut attempts: Vec<Attempt> = Vec::new();
        let mut last: Option<(ErrorClass, String)> = None;
        let mut window_floor: Option<u32> = None;
        let mut dead_endpoints: Vec<&str> = Vec::new();
        let mut previous: Option<&str> = None;
        let mut cooling: Option<Duration> = None;
        let mut out_of_time = false;

        'links: for (depth, link) in links.iter().enumerate() {
            let depth_u32 = u32::try_from(depth).unwrap_or(u32::MAX);
            if link.kind != ProviderKind::Offline {
                if let (Some(floor), Some(window)) = (window_floor, link.context_window)
                    && window <= floor
                {
                    info!(provider = %link.name, window, floor, "llm: skipping a provider whose context window is not larger");
                    continue;
                }
                if dead_endpoints.contains(&link.endpoint.as_str()) {
                    info!(provider = %link.name, "llm: skipping a provider behind the endpoint and key that were just refused");
                    continue;
                }
            }
            let admission = if chained && links.len() > 1 && link.kind != ProviderKind::Offline {
                lock(&link.breaker).admit(Instant::now(), cooldown)
            } else {
                Admission::Closed
            };
            if let Admission::Skip(wait) = admission {
                counter!(m::COOLDOWN_SKIPS, "provider" => link.name.clone()).increment(1);
                info!(provider = %link.name, probe_in_ms = wait.as_millis() as u64, "llm: provider cooling down, skipped");
                cooling = Some(cooling.map_or(wait, |c| c.min(wait)));
                continue;
            }
            if let Some(from) = previous {
                counter!(m::FALLBACKS, "from" => from.to_owned(), "to" => link.name.clone()).increment(1);
                info!(from, to = %link.name, depth, "llm: falling back");
            }
            previous = Some(&link.name);
            let max_attempts = if admission == Admission::Probe { 1 } else { self.retry.max_attempts };
            let mut messages: Cow<'_, [ChatMessage]> = Cow::Borrowed(&request.messages);
            let mut repaired = false;
            let mut n = 0u32;
            loop {
                n += 1;
                let now = Instant::now();
                // Offline costs nothing: it still closes a chain whose time ran out.
                if now >= deadline && link.kind != ProviderKind::Offline {
                    out_of_time = true;
                    break 'links;
                }
                let remaining = deadline.saturating_duration_since(now);
                let attempt_timeout = link.timeout.min(remaining);
                let provider_request = ProviderRequest {
                    messages: &messages,
                    json_schema: request.json_schema.as_ref(),
                    max_tokens: request.max_tokens,
                    stream: request.stream,
                };
                let mut tracking = Tracking { inner: &mut *sink, emitted: false };
                let result = match tokio::time::timeout(
                    attempt_timeout,
                    link.provider.complete(&provider_request, &mut tracking),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => {
                        let which = if attempt_timeout < link.timeout {
                            "the call's deadline_ms"
                        } else {
                            "timeout_ms"
                        };
                        Err(AttemptError::new(
                            ErrorClass::Transient,
                            Cause::Timeout,
                            format!("no complete answer within {} ms ({which})", attempt_timeout.as_millis()),
                        ))
                    }
                };
                let emitted = tracking.emitted;
                let took = now.elapsed();
                let result = result.and_then(|out| match out {
                    ProviderOutput::Offline => Ok(None),
                    ProviderOutput::Text(text) => check_output(text, request.json_schema.as_ref()).map(Some),
                });
                let mut record = Attempt {
                    provider: link.name.clone(),
                    model: link.model.clone(),
                    depth: depth_u32,
                    class: None,
                    status: None,
                    delay_ms: 0,
                    hint_ms: None,
                    duration_ms: millis(took),
                    message: None,
                    next: Next::Done,
                };
                let e = match result {
                    Ok(None) => {
                        attempt_metrics(&link.name, "offline", took);
                        info!(provider = %link.name, depth, "llm: offline, handing over to the rule-based path");
                        attempts.push(record);
                        return Ok(Reply::Offline(OfflineReply {
                            provider: link.name.clone(),
                            attempts,
                            fallback_depth: depth_u32,
                        }));
                    }
                    Ok(Some((text, json))) => {
                        if chained {
                            lock(&link.breaker).on_success();
                        }
                        attempt_metrics(&link.name, "ok", took);
                        info!(provider = %link.name, model = %link.model, depth, attempt = n, ms = record.duration_ms, "llm: attempt answered");
                        attempts.push(record);
                        return Ok(Reply::Completion(Completion {
                            text,
                            json,
                            provider: link.name.clone(),
                            model: link.model.clone(),
                            attempts,
                            fallback_depth: depth_u32,
                        }));
                    }
                    Err(e) => e,
                };
                let message = redact(&e.message, &self.secrets);
                attempt_metrics(&link.name, e.class.as_str(), took);
                if emitted {
                    sink.on_event(StreamEvent::Discard { provider: &link.name, reason: &message });
                }
                let opened = chained
                    && links.len() > 1
                    && e.counts_against_provider()
                    && {
                        let opened = lock(&link.breaker).on_failure(
                            Instant::now(),
                            self.breaker.failure_threshold,
                            cooldown,
                        );
                        if opened {
                            counter!(m::COOLDOWNS, "provider" => link.name.clone()).increment(1);
                            warn!(provider = %link.name, cooldown_ms = self.breaker.cooldown_ms, "llm: provider keeps failing, cooling down");
                        }
                        opened
                    };
                let remaining = deadline.saturating_duration_since(Instant::now());
                let has_next = depth + 1 < links.len();
                let decision = self.decide(
                    &e,
                    n,
                    max_attempts,
                    remaining,
                    dynamic,
                    has_next,
                    repaired,
                    opened,
                    &mut rng,
                );
                record.class = Some(e.class);
                record.status = e.status;
                record.hint_ms = e.hint.map(millis);
                record.message = Some(message.clone());
                record.next = match &decision {
                    Decision::Retry { delay, .. } => {
                        record.delay_ms = millis(*delay);
                        Next::Retry
                    }
                    Decision::Repair => Next::Repair,
                    Decision::Fallback(_) => Next::Fallback,
                };
                let why = match &decision {
                    Decision::Fallback(why) => why.as_str(),
                    Decision::Retry { source, .. } => source,
                    Decision::Repair => "repair",
                };
                warn!(
                    provider = %link.name, model = %link.model, depth, attempt = n, class = e.class.as_str(),
                    status = e.status, delay_ms = record.delay_ms, hint_ms = record.hint_ms, next = ?record.next,
                    why, error = %message, "llm: attempt failed"
                );
                attempts.push(record);
                last = Some((e.class, message));
                match decision {
                    Decision::Retry { delay, source } => {
                        counter!(m::RETRIES, "provider" => link.name.clone(), "class" => e.class.as_str())
                            .increment(1);
                        histogram!(m::RETRY_DELAY, "provider" => link.name.clone(), "source" => source)
                            .record(delay.as_secs_f64());
                        tokio::time::sleep(delay).await;
                    }
                    Decision::Repair => {
                        repaired = true;
                        if let Some(output) = e.output {
                            let mut fixed = request.messages.clone();
                            fixed.push(ChatMessage::new(Role::Assistant, output));
                            fixed.push(ChatMessage::new(
                                Role::User,
                                format!(
                                    "Your reply could not be used: {}. Reply again with only the corrected JSON document.",
                                    e.message
                                ),
                            ));
                            messages = Cow::Owned(fixed);
                        }
                    }
                    Decision::Fallback(_) => {
                        if e.class == ErrorClass::ContextTooLong {
                            window_floor = window_floor.max(link.context_window).or(Some(0));
                        }
                        if e.is_auth() {
                            dead_endpoints.push(&link.endpoint);
                        }
                        continue 'links;
                    }
                }
            }
        }

        if let Some(a) = attempts.last_mut()
            && a.next == Next::Fallback
        {
            a.next = Next::GiveUp;
        }
        let tried = attempts.len();
        let (class, message) = match (last, out_of_time) {
            (Some((class, message)), true) => (
                class,
                format!(
                    "the call's deadline of {} ms ran out after {tried} attempts; the last error: {message}",
                    self.retry.deadline_ms
                ),
            ),
            (None, true) => (
                ErrorClass::Transient,
                format!("the call's deadline of {} ms ran out before any attempt", self.retry.deadline_ms),
            ),
            (Some((class, message)), false) => (class, message),
            (None, false) => (
                ErrorClass::Transient,
                format!(
                    "every provider is cooling down after repeated failures; the next probe is possible in {} ms",
                    cooling.map_or(0, millis)
                ),
            ),
        };
        warn!(class = class.as_str(), attempts = tried, error = %message, "llm: call failed");
        Err(LlmFailure { class, message, attempts })
    }

    #[allow(clippy::too_many_arguments)]
    fn decide(
        &self,
        e: &AttemptError,
        n: u32,
        max_attempts: u32,
        remaining: Duration,
        dynamic: bool,
        has_next: bool,
        repaired: bool,
        opened: bool,
        rng: &mut fastrand::Rng,
    ) -> Decision {
        match e.class {
            ErrorClass::BadOutput if !repaired => return Decision::Repair,
            ErrorClass::BadOutput => {
                return Decision::Fallback("the output is still unusable after a repair attempt".into());
            }
            ErrorClass::ContextTooLong => {
                return Decision::Fallback("the prompt does not fit this model's window".into());
            }
            _ => {}
        }
        let retryable = e.should_retry.unwrap_or_else(|| e.class.is_retryable());
        if !retryable {
            return Decision::Fallback(match e.should_retry {
                Some(false) => "the server said x-should-retry: false".into(),
                _ => "permanent errors are not retried".into(),
            });
        }
        if n >= max_attempts {
            return Decision::Fallback(format!(
                "{max_attempts} attempts made (retry.max_attempts, or one half-open probe)"
            ));
        }
        if opened {
            return Decision::Fallback("the provider's circuit breaker opened".into());
        }
        if has_next && matches!(e.cause, Cause::Refused | Cause::Timeout) {
            return Decision::Fallback(
                "refused connections and timeouts move to the next provider at once".into(),
            );
        }
        let (delay, source) = if !dynamic {
            (self.retry.fixed_delay(), "fixed")
        } else if let Some(hint) = e.hint {
            if hint > self.retry.max_delay() {
                return Decision::Fallback(format!(
                    "the server asks to wait {} ms, more than retry.max_delay_ms ({})",
                    millis(hint),
                    self.retry.max_delay_ms
                ));
            }
            (hint, "hint")
        } else {
            (full_jitter(self.retry.base_delay(), self.retry.max_delay(), n - 1, rng), "backoff")
        };
        if delay >= remaining {
            return Decision::Fallback(format!(
                "waiting {} ms would pass the call's deadline ({} ms left)",
                millis(delay),
                millis(remaining)
            ));
        }
        Decision::Retry { delay, source }
    }
}

/// Checks a reply against the request's schema; the parsed JSON when there is one.
fn check_output(
    text: String,
    schema: Option<&serde_json::Value>,
) -> Result<(String, Option<serde_json::Value>), AttemptError> {
    let Some(schema) = schema else {
        return Ok((text, None));
    };
    let bad = |why: String, text: &str| {
        let mut e = AttemptError::new(ErrorClass::BadOutput, Cause::Output, why);
        e.output = Some(text.to_owned());
        e
    };
    let value = schema::extract_json(&text).map_err(|why| bad(why, &text))?;
    schema::validate(&value, schema)
        .map_err(|why| bad(format!("the reply does not match the schema: {why}"), &text))?;
    Ok((text, Some(value)))
}

fn attempt_metrics(provider: &str, class: &'static str, took: Duration) {
    counter!(m::ATTEMPTS, "provider" => provider.to_owned(), "class" => class).increment(1);
    histogram!(m::ATTEMPT_DURATION, "provider" => provider.to_owned(), "class" => class)
        .record(took.as_secs_f64());
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn lock(m: &Mutex<Breaker>) -> std::sync::MutexGuard<'_, Breaker> {
    // A panic while holding this lock cannot leave a breaker inconsistent: its updates
    // are single assignments.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Remembers whether any token reached the caller during one attempt.
struct Tracking<'a> {
    inner: &'a mut dyn TokenSink,
    emitted: bool,
}

impl TokenSink for Tracking<'_> {
    fn on_event(&mut self, event: StreamEvent<'_>) {
        if matches!(event, StreamEvent::Token(_)) {
            self.emitted = true;
        }
        self.inner.on_event(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(retry: RetryConfig) -> LlmLayer {
        let config = Config { retry, ..Config::default() };
        LlmLayer::with_env(config, &|_| None).expect("layer")
    }

    fn err(class: ErrorClass, cause: Cause) -> AttemptError {
        AttemptError::new(class, cause, "x")
    }

    #[test]
    fn decisions() {
        let l = layer(RetryConfig {
            max_attempts: 3,
            base_delay_ms: 100,
            max_delay_ms: 1000,
            deadline_ms: 10_000,
            fixed_delay_ms: 50,
        });
        let mut rng = fastrand::Rng::with_seed(1);
        let long = Duration::from_secs(10);
        let mut d = |e: &AttemptError, n, remaining, dynamic, has_next, repaired, opened| {
            l.decide(e, n, 3, remaining, dynamic, has_next, repaired, opened, &mut rng)
        };
        let transient = err(ErrorClass::Transient, Cause::Status);
        assert!(
            matches!(d(&transient, 1, long, true, true, false, false), Decision::Retry { source: "backoff", delay } if delay <= Duration::from_millis(100))
        );
        assert_eq!(
            d(&transient, 1, long, false, true, false, false),
            Decision::Retry { delay: Duration::from_millis(50), source: "fixed" }
        );
        assert!(
            matches!(d(&transient, 3, long, true, true, false, false), Decision::Fallback(w) if w.contains("3 attempts"))
        );
        assert!(
            matches!(d(&transient, 1, long, true, true, false, true), Decision::Fallback(w) if w.contains("breaker"))
        );
        let mut hinted = err(ErrorClass::RateLimited, Cause::Status);
        hinted.hint = Some(Duration::from_millis(700));
        assert_eq!(
            d(&hinted, 1, long, true, true, false, false),
            Decision::Retry { delay: Duration::from_millis(700), source: "hint" }
        );
        // Flag off: the hint is ignored.
        assert_eq!(
            d(&hinted, 1, long, false, true, false, false),
            Decision::Retry { delay: Duration::from_millis(50), source: "fixed" }
        );
        // Fail fast when the hint passes the deadline.
        assert!(
            matches!(d(&hinted, 1, Duration::from_millis(600), true, true, false, false), Decision::Fallback(w) if w.contains("deadline"))
        );
        hinted.hint = Some(Duration::from_millis(1500));
        assert!(
            matches!(d(&hinted, 1, long, true, true, false, false), Decision::Fallback(w) if w.contains("max_delay_ms"))
        );
        // Refused and timeouts: next provider at once, or retry when none is left.
        let refused = err(ErrorClass::Transient, Cause::Refused);
        assert!(matches!(d(&refused, 1, long, true, true, false, false), Decision::Fallback(_)));
        assert!(matches!(d(&refused, 1, long, true, false, false, false), Decision::Retry { .. }));
        // x-should-retry overrides the class.
        let mut no = err(ErrorClass::Transient, Cause::Status);
        no.should_retry = Some(false);
        assert!(
            matches!(d(&no, 1, long, true, true, false, false), Decision::Fallback(w) if w.contains("x-should-retry"))
        );
        let mut yes = err(ErrorClass::Permanent, Cause::Status);
        yes.should_retry = Some(true);
        assert!(matches!(d(&yes, 1, long, true, true, false, false), Decision::Retry { .. }));
        let permanent = err(ErrorClass::Permanent, Cause::Status);
        assert!(
            matches!(d(&permanent, 1, long, true, true, false, false), Decision::Fallback(w) if w.contains("permanent"))
        );
        let bad = err(ErrorClass::BadOutput, Cause::Output);
        assert_eq!(d(&bad, 1, long, true, true, false, false), Decision::Repair);
        assert!(matches!(d(&bad, 2, long, true, true, true, false), Decision::Fallback(_)));
        assert!(matches!(
            d(&err(ErrorClass::ContextTooLong, Cause::Status), 1, long, true, true, false, false),
            Decision::Fallback(_)
        ));
    }

    #[test]
    fn output_checks() {
        let schema = serde_json::json!({"type": "object", "required": ["a"]});
        assert_eq!(check_output("hi".into(), None).expect("free text"), ("hi".to_owned(), None));
        let (_, json) = check_output("{\"a\": 1}".into(), Some(&schema)).expect("valid");
        assert_eq!(json, Some(serde_json::json!({"a": 1})));
        let e = check_output("{}".into(), Some(&schema)).expect_err("invalid");
        assert_eq!(e.class, ErrorClass::BadOutput);
        assert_eq!(e.output.as_deref(), Some("{}"));
        assert!(
            check_output("nope".into(), Some(&schema))
                .expect_err("not json")
                .message
                .contains("not valid JSON")
        );
    }

    #[test]
    fn debug_lists_the_chain_without_secrets() {
        let text = "providers:\n  a: { kind: openai, model: m, api_key_env: K }\n";
        let config = Config::parse(text, "m.yaml").expect("config");
        let l = LlmLayer::with_env(config, &|name| (name == "K").then(|| "sk-secret-value-1".into()))
            .expect("layer");
        let debug = format!("{l:?}");
        assert!(debug.contains("a (openai m)") && !debug.contains("sk-secret"), "{debug}");
        assert_eq!(l.chain(), [("a", ProviderKind::Openai, "m")]);
        assert!(l.flags().fallback_chain(None));
    }
}
