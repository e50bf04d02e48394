//! The layer: retries with dynamic delays, the fallback chain with circuit breakers,
//! output checks, streaming semantics, logs and metrics.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use metrics::{counter, histogram};
use tracing::{info, warn};

use crate::breaker::{Admission, Breaker, Breakers, SharedState};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError, FallbackFlagConfig, ProviderConfig, ProviderKind, RetryConfig};
use crate::error::{AttemptError, Cause, ErrorClass, LlmFailure};
use crate::flags::Flags;
use crate::provider::{self, Key, Provider, ProviderOutput, ProviderRequest};
use crate::request::{
    Attempt, ChatMessage, Completion, CompletionRequest, Next, OfflineReply, Reply, Role, StreamEvent,
    TokenSink,
};
use crate::retry::full_jitter;
use crate::schema::{self, Schema};
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
}

/// The LLM layer: build it once from a [`Config`], share it (it is `Send + Sync`), call
/// [`LlmLayer::complete`].
pub struct LlmLayer {
    links: Vec<Link>,
    retry: RetryConfig,
    flags: Flags,
    breaker: FallbackFlagConfig,
    breakers: Breakers,
    clock: Arc<dyn Clock>,
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
    Retry {
        delay: Duration,
        source: &'static str,
    },
    Repair,
    Fallback(String),
    /// The request itself is at fault: no provider would take it.
    Stop(String),
}

/// How one provider's turn in a round ended.
enum LinkOutcome {
    Answered(Reply),
    /// Failed for now (unavailable, rate limited): worth another round.
    Transient,
    /// Cooling down: skipped this round.
    Skipped,
    /// Failed for this call (permanent error, window too small, key refused).
    Failed,
    /// The request is at fault: nothing else is tried, but `offline`.
    Stop,
    /// The call's deadline ran out.
    OutOfTime,
}

/// What one call has learnt so far, across providers and rounds.
struct Call<'a> {
    request: &'a CompletionRequest,
    /// The request's `json_schema`, compiled once for every reply of the call.
    schema: Option<Schema>,
    dynamic: bool,
    /// The fallback chain is on and has more than one provider: breakers and fallback apply.
    chained: bool,
    deadline_ms: u64,
    rng: fastrand::Rng,
    attempts: Vec<Attempt>,
    last: Option<(ErrorClass, String)>,
    window_floor: Option<u32>,
    dead_endpoints: Vec<&'a str>,
    previous: Option<&'a str>,
    cooling: Option<Duration>,
}

/// Where one provider's attempts stand when one fails.
#[derive(Debug, Clone, Copy)]
struct AttemptState {
    /// This attempt's number, from 1.
    n: u32,
    max_attempts: u32,
    /// A repair attempt was made already.
    repaired: bool,
    /// This failure opened the provider's breaker.
    opened: bool,
    /// Some of this attempt's tokens reached the caller.
    emitted: bool,
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
                name,
            });
        }
        Ok(Self {
            breakers: Breakers::new(links.len()),
            links,
            retry: config.retry,
            flags,
            breaker: config.lovable_patterns.p2_fallback_chain,
            clock: Arc::new(SystemClock::default()),
            secrets,
        })
    }

    /// The same layer reading time from `clock` and waiting on it (tests use a clock that
    /// moves only when the layer waits).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same layer keeping its circuit breakers in `store`, which other processes share:
    /// a provider one process found down is skipped by the others too. Each provider's
    /// breaker lives under `breakers/<hash of kind, URL, key variable and model>.json`.
    pub fn with_shared_state(mut self, store: Arc<dyn SharedState>) -> Self {
        let keys = self
            .links
            .iter()
            .map(|l| {
                let id = xxhash_rust::xxh3::xxh3_64(format!("{}\n{}", l.endpoint, l.model).as_bytes());
                format!("breakers/{id:016x}.json")
            })
            .collect();
        self.breakers.share(store, keys);
        self
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
    ///
    /// With the fallback chain on, a round in which every provider failed for now
    /// (unavailable, rate limited, cooling down) is followed by another round after a
    /// backoff, one attempt per provider, until the deadline. A request that is at fault
    /// itself (400, 413, 422) is not sent anywhere else.
    pub async fn complete(
        &self,
        request: &CompletionRequest,
        sink: &mut dyn TokenSink,
    ) -> Result<Reply, LlmFailure> {
        let started = self.clock.now_ms();
        let result = self.run(request, sink, started).await;
        let (outcome, class) = match &result {
            Ok(Reply::Completion(_)) => ("ok", "none"),
            Ok(Reply::Offline(_)) => ("offline", "none"),
            Err(f) => ("failed", f.class.as_str()),
        };
        counter!(m::CALLS, "outcome" => outcome, "class" => class).increment(1);
        let took = Duration::from_millis(self.clock.now_ms().saturating_sub(started));
        histogram!(m::CALL_DURATION, "outcome" => outcome).record(took.as_secs_f64());
        result
    }

    async fn run(
        &self,
        request: &CompletionRequest,
        sink: &mut dyn TokenSink,
        started_ms: u64,
    ) -> Result<Reply, LlmFailure> {
        let session = request.session_id.as_deref();
        let chained = self.flags.fallback_chain(session);
        let links = if chained { &self.links[..] } else { &self.links[..1] };
        let schema = match request.json_schema.as_ref().map(Schema::compile).transpose() {
            Ok(schema) => schema,
            // The request is at fault: no provider could answer it, so none is asked.
            Err(message) => {
                return Err(LlmFailure { class: ErrorClass::Permanent, message, attempts: Vec::new() });
            }
        };
        let mut call = Call {
            request,
            schema,
            dynamic: self.flags.dynamic_retry(session),
            chained: chained && links.len() > 1,
            deadline_ms: started_ms.saturating_add(self.retry.deadline_ms),
            rng: fastrand::Rng::new(),
            attempts: Vec::new(),
            last: None,
            window_floor: None,
            dead_endpoints: Vec::new(),
            previous: None,
            cooling: None,
        };
        // Providers that failed for the rest of this call.
        let mut out = vec![false; links.len()];
        let mut out_of_time = false;
        let mut round = 0u32;
        'rounds: loop {
            round += 1;
            call.previous = None;
            let mut again = false;
            for (depth, link) in links.iter().enumerate() {
                if out[depth] {
                    continue;
                }
                match self.try_link(&mut call, sink, depth, link, round).await {
                    LinkOutcome::Answered(reply) => return Ok(reply),
                    LinkOutcome::Transient => again = true,
                    LinkOutcome::Skipped => {}
                    LinkOutcome::Failed => out[depth] = true,
                    LinkOutcome::Stop => {
                        // Only the rule-based path may still answer.
                        for (o, l) in out.iter_mut().zip(links) {
                            *o |= l.kind != ProviderKind::Offline;
                        }
                        again = false;
                    }
                    LinkOutcome::OutOfTime => {
                        out_of_time = true;
                        break 'rounds;
                    }
                }
            }
            // Rounds belong to the fallback chain (off: the primary's attempts alone).
            if !again || !chained {
                break;
            }
            // Every provider left failed for now: wait, then go round again.
            let exponent = self.retry.max_attempts.saturating_sub(1).saturating_add(round - 1);
            let delay = full_jitter(self.retry.base_delay(), self.retry.max_delay(), exponent, &mut call.rng);
            let remaining = call.deadline_ms.saturating_sub(self.clock.now_ms());
            if millis(delay) >= remaining {
                out_of_time = true;
                break;
            }
            if let Some(a) = call.attempts.last_mut() {
                a.next = Next::Round;
                a.delay_ms = millis(delay);
            }
            counter!(m::ROUNDS).increment(1);
            info!(
                round = round + 1,
                delay_ms = millis(delay),
                "llm: every provider failed for now; going round the chain again"
            );
            self.clock.sleep(delay).await;
        }
        Err(self.failure(call, out_of_time))
    }

    /// One provider's turn in round `round`: its attempts (retries, a repair), or one
    /// attempt after the first round.
    async fn try_link<'a>(
        &'a self,
        call: &mut Call<'a>,
        sink: &mut dyn TokenSink,
        depth: usize,
        link: &'a Link,
        round: u32,
    ) -> LinkOutcome {
        let depth_u32 = u32::try_from(depth).unwrap_or(u32::MAX);
        if link.kind != ProviderKind::Offline {
            if let (Some(floor), Some(window)) = (call.window_floor, link.context_window)
                && window <= floor
            {
                info!(provider = %link.name, window, floor, "llm: skipping a provider whose context window is not larger");
                return LinkOutcome::Failed;
            }
            if call.dead_endpoints.contains(&link.endpoint.as_str()) {
                info!(provider = %link.name, "llm: skipping a provider behind the endpoint and key that were just refused");
                return LinkOutcome::Failed;
            }
        }
        let cooldown_ms = self.breaker.cooldown_ms;
        let breaker_on = call.chained && link.kind != ProviderKind::Offline;
        let admission = if !breaker_on {
            Admission::Closed
        } else if round > 1 {
            // Everything failed for now: this call has nothing better to do than ask again,
            // once, whatever the breaker says (its verdict is for other calls).
            Admission::Probe
        } else {
            let now = self.clock.now_ms();
            self.breakers.update(depth, |b| b.admit(now, cooldown_ms)).await
        };
        if let Admission::Skip(wait) = admission {
            counter!(m::COOLDOWN_SKIPS, "provider" => link.name.clone()).increment(1);
            info!(provider = %link.name, probe_in_ms = millis(wait), "llm: provider cooling down, skipped");
            call.cooling = Some(call.cooling.map_or(wait, |c| c.min(wait)));
            return LinkOutcome::Skipped;
        }
        if let Some(from) = call.previous {
            counter!(m::FALLBACKS, "from" => from.to_owned(), "to" => link.name.clone()).increment(1);
            info!(from, to = %link.name, depth, "llm: falling back");
        }
        call.previous = Some(&link.name);
        let request = call.request;
        let max_attempts = if admission == Admission::Probe { 1 } else { self.retry.max_attempts };
        let mut messages: Cow<'_, [ChatMessage]> = Cow::Borrowed(&request.messages);
        let mut repaired = false;
        let mut n = 0u32;
        loop {
            n += 1;
            let now = self.clock.now_ms();
            // Offline costs nothing: it still closes a chain whose time ran out.
            if now >= call.deadline_ms && link.kind != ProviderKind::Offline {
                return LinkOutcome::OutOfTime;
            }
            let remaining = Duration::from_millis(call.deadline_ms.saturating_sub(now));
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
                    let which =
                        if attempt_timeout < link.timeout { "the call's deadline_ms" } else { "timeout_ms" };
                    Err(AttemptError::new(
                        ErrorClass::Transient,
                        Cause::Timeout,
                        format!("no complete answer within {} ms ({which})", attempt_timeout.as_millis()),
                    ))
                }
            };
            let emitted = tracking.emitted;
            let took = Duration::from_millis(self.clock.now_ms().saturating_sub(now));
            let result = result.and_then(|out| match out {
                ProviderOutput::Offline => Ok(None),
                ProviderOutput::Text(text) => check_output(text, call.schema.as_ref()).map(Some),
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
                    call.attempts.push(record);
                    return LinkOutcome::Answered(Reply::Offline(OfflineReply {
                        provider: link.name.clone(),
                        attempts: std::mem::take(&mut call.attempts),
                        fallback_depth: depth_u32,
                    }));
                }
                Ok(Some((text, json))) => {
                    if breaker_on {
                        self.breakers.update(depth, Breaker::on_success).await;
                    }
                    attempt_metrics(&link.name, "ok", took);
                    info!(provider = %link.name, model = %link.model, depth, attempt = n, ms = record.duration_ms, "llm: attempt answered");
                    call.attempts.push(record);
                    return LinkOutcome::Answered(Reply::Completion(Completion {
                        text,
                        json,
                        provider: link.name.clone(),
                        model: link.model.clone(),
                        attempts: std::mem::take(&mut call.attempts),
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
            let opened = breaker_on && e.counts_against_provider() && {
                let (now, threshold) = (self.clock.now_ms(), self.breaker.failure_threshold);
                let opened = self.breakers.update(depth, |b| b.on_failure(now, threshold, cooldown_ms)).await;
                if opened {
                    counter!(m::COOLDOWNS, "provider" => link.name.clone()).increment(1);
                    warn!(provider = %link.name, cooldown_ms, "llm: provider keeps failing, cooling down");
                }
                opened
            };
            let remaining = Duration::from_millis(call.deadline_ms.saturating_sub(self.clock.now_ms()));
            let attempt = AttemptState { n, max_attempts, repaired, opened, emitted };
            let decision = self.decide(&e, attempt, remaining, call.dynamic, call.chained, &mut call.rng);
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
                Decision::Stop(_) => Next::GiveUp,
            };
            let why = match &decision {
                Decision::Fallback(why) | Decision::Stop(why) => why.as_str(),
                Decision::Retry { source, .. } => source,
                Decision::Repair => "repair",
            };
            warn!(
                provider = %link.name, model = %link.model, depth, attempt = n, class = e.class.as_str(),
                status = e.status, delay_ms = record.delay_ms, hint_ms = record.hint_ms, next = ?record.next,
                why, error = %message, "llm: attempt failed"
            );
            call.attempts.push(record);
            call.last = Some((e.class, message));
            match decision {
                Decision::Retry { delay, source } => {
                    counter!(m::RETRIES, "provider" => link.name.clone(), "class" => e.class.as_str())
                        .increment(1);
                    histogram!(m::RETRY_DELAY, "provider" => link.name.clone(), "source" => source)
                        .record(delay.as_secs_f64());
                    self.clock.sleep(delay).await;
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
                        call.window_floor = call.window_floor.max(link.context_window).or(Some(0));
                    }
                    if e.is_auth() {
                        call.dead_endpoints.push(&link.endpoint);
                    }
                    return if e.retryable() { LinkOutcome::Transient } else { LinkOutcome::Failed };
                }
                Decision::Stop(_) => return LinkOutcome::Stop,
            }
        }
    }

    /// The failure that ends a call.
    fn failure(&self, mut call: Call<'_>, out_of_time: bool) -> LlmFailure {
        if let Some(a) = call.attempts.last_mut()
            && matches!(a.next, Next::Fallback | Next::Round)
        {
            a.next = Next::GiveUp;
            a.delay_ms = 0;
        }
        let tried = call.attempts.len();
        let (class, message) = match (call.last, out_of_time) {
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
                    call.cooling.map_or(0, millis)
                ),
            ),
        };
        warn!(class = class.as_str(), attempts = tried, error = %message, "llm: call failed");
        LlmFailure { class, message, attempts: call.attempts }
    }

    fn decide(
        &self,
        e: &AttemptError,
        attempt: AttemptState,
        remaining: Duration,
        dynamic: bool,
        has_next: bool,
        rng: &mut fastrand::Rng,
    ) -> Decision {
        let AttemptState { n, max_attempts, repaired, opened, emitted } = attempt;
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
        if e.is_request_fault() && e.should_retry != Some(true) {
            return Decision::Stop(
                "the request itself was refused (400, 413 or 422): no other provider is asked".into(),
            );
        }
        if !e.retryable() {
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
        if has_next && (e.cause == Cause::Truncated || (e.cause == Cause::Transport && emitted)) {
            return Decision::Fallback(
                "a stream that broke midway moves to the next provider at once".into(),
            );
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
    schema: Option<&Schema>,
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
    schema
        .validate(&value)
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
            let attempt = AttemptState { n, max_attempts: 3, repaired, opened, emitted: false };
            l.decide(e, attempt, remaining, dynamic, has_next, &mut rng)
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
        // The request's own fault: nobody else is asked (unless the server says to retry).
        for status in [400, 413, 422] {
            let mut invalid = err(ErrorClass::Permanent, Cause::Status);
            invalid.status = Some(status);
            assert!(matches!(d(&invalid, 1, long, true, true, false, false), Decision::Stop(_)), "{status}");
            invalid.should_retry = Some(true);
            assert!(
                matches!(d(&invalid, 1, long, true, true, false, false), Decision::Retry { .. }),
                "{status}"
            );
        }
        let mut unauthorized = err(ErrorClass::Permanent, Cause::Status);
        unauthorized.status = Some(401);
        assert!(matches!(d(&unauthorized, 1, long, true, true, false, false), Decision::Fallback(_)));
        // A stream cut short moves on at once when there is somewhere to go.
        let cut = err(ErrorClass::Transient, Cause::Truncated);
        assert!(
            matches!(d(&cut, 1, long, true, true, false, false), Decision::Fallback(w) if w.contains("broke"))
        );
        assert!(matches!(d(&cut, 1, long, true, false, false, false), Decision::Retry { .. }));
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
        let schema =
            Schema::compile(&serde_json::json!({"type": "object", "required": ["a"]})).expect("schema");
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
