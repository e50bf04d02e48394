//! Every fault scenario of the issue against a real OpenAI-compatible server on
//! 127.0.0.1: how many calls each server received, which provider answered, and that the
//! waits between calls followed the server's hints (measured on the server side, in the time
//! of the manual clock the layer waits on: exact, and no test spends the waits).

mod support;

use std::sync::Arc;
use std::time::Duration;

use kiln_llm::{CompletionRequest, ErrorClass, Next, NoSink};
use support::*;

fn prompt() -> CompletionRequest {
    CompletionRequest::prompt("hello")
}

/// A fault server as primary, a healthy one as secondary, and a layer waiting on a manual
/// clock by which the primary times its requests: its gaps are the layer's waits, exactly.
async fn pair(
    script: Vec<Answer>,
    then: Answer,
) -> (FakeHttp, FakeHttp, kiln_llm::LlmLayer, Arc<ManualClock>) {
    let clock = ManualClock::new();
    let a = timed(&clock, FakeHttp::script(script, then));
    let b = FakeHttp::always(ok("from secondary"));
    let l = layer(&two_openai(&a.v1(), &b.v1(), ""), &[]).with_clock(clock.clone());
    (a, b, l, clock)
}

#[tokio::test]
async fn ok_is_one_call() {
    let (a, b, l, _clock) = pair(vec![], ok("hi")).await;
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!(
        (c.text.as_str(), c.provider.as_str(), c.model.as_str(), c.fallback_depth),
        ("hi", "primary", "m1", 0)
    );
    assert_eq!((a.calls(), b.calls()), (1, 0));
    assert_eq!(c.attempts.len(), 1);
    assert_eq!(c.attempts[0].class, None);
    assert_eq!(c.attempts[0].next, Next::Done);
    let seen = &a.seen()[0];
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/v1/chat/completions"));
    assert_eq!(seen.body["model"], "m1");
    assert_eq!(seen.body["messages"], serde_json::json!([{"role": "user", "content": "hello"}]));
    assert_eq!(seen.body["stream"], false);
    assert_eq!(seen.header("authorization"), None, "no key configured, none sent");
}

#[tokio::test]
async fn streaming_ok_forwards_tokens_in_order() {
    let (a, b, l, _clock) = pair(vec![], ok_stream(&["Hel", "lo", " there"])).await;
    let mut sink = Collect::default();
    let request = CompletionRequest { stream: true, ..prompt() };
    let c = completion(l.complete(&request, &mut sink).await);
    assert_eq!(c.text, "Hello there");
    assert_eq!(sink.events, ["Hel", "lo", " there"]);
    assert_eq!((a.calls(), b.calls()), (1, 0));
    assert_eq!(a.seen()[0].body["stream"], true);
    assert_eq!(a.seen()[0].header("accept"), Some("text/event-stream"));
}

#[tokio::test]
async fn rate_limited_with_retry_after_seconds_waits_exactly() {
    let (a, b, l, _clock) =
        pair(vec![error(429, "rate_limit_exceeded", "slow down", &[("retry-after", "1")])], ok("hi")).await;
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (2, 0, "primary"));
    assert_eq!(a.gaps(), [Duration::from_secs(1)], "waited exactly the hint");
    let first = &c.attempts[0];
    assert_eq!(
        (first.class, first.status, first.hint_ms, first.delay_ms),
        (Some(ErrorClass::RateLimited), Some(429), Some(1000), 1000)
    );
    assert_eq!(first.next, Next::Retry);
}

#[tokio::test]
async fn rate_limited_with_retry_after_ms_waits_exactly() {
    let (a, b, l, _clock) = pair(vec![status(429, &[("retry-after-ms", "300")])], ok("hi")).await;
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (2, 0, "primary"));
    assert_eq!(a.gaps(), [Duration::from_millis(300)], "waited exactly the hint");
    assert_eq!(c.attempts[0].delay_ms, 300);
}

#[tokio::test]
async fn rate_limited_with_only_x_ratelimit_reset_requests() {
    let (a, b, l, _clock) =
        pair(vec![status(429, &[("x-ratelimit-reset-requests", "400ms")])], ok("hi")).await;
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (2, 0, "primary"));
    assert_eq!(a.gaps(), [Duration::from_millis(400)], "waited exactly the hint");
}

#[tokio::test]
async fn a_503_burst_then_ok_is_retried_with_capped_backoff() {
    let burst = vec![status(503, &[]), status(503, &[]), status(503, &[])];
    let clock = ManualClock::new();
    let a = timed(&clock, FakeHttp::script(burst, ok("hi")));
    let b = FakeHttp::always(ok("from secondary"));
    // A breaker threshold above the burst, so the primary is not given up on.
    let extra = "lovable_patterns: { p2_fallback_chain: { failure_threshold: 10 } }";
    let l = layer(&two_openai(&a.v1(), &b.v1(), extra), &[]).with_clock(clock);
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (4, 0, "primary"));
    // Full jitter under 20 ms · 2^n: every wait is below its ceiling, and is the wait made.
    for (i, (gap, attempt)) in a.gaps().iter().zip(&c.attempts).enumerate() {
        let ceiling = Duration::from_millis(20 << i);
        assert!(Duration::from_millis(attempt.delay_ms) <= ceiling, "retry {i}: {attempt:?}");
        assert_eq!(*gap, Duration::from_millis(attempt.delay_ms), "retry {i}");
        assert_eq!(attempt.class, Some(ErrorClass::Transient));
    }
}

#[tokio::test]
async fn a_500_once_is_retried_once() {
    let (a, b, l, _clock) = pair(vec![status(500, &[])], ok("hi")).await;
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (2, 0, "primary"));
    assert_eq!(c.attempts[0].status, Some(500));
}

#[tokio::test]
async fn a_hanging_primary_times_out_and_the_secondary_answers_at_once() {
    let a = FakeHttp::always(Answer::Hang);
    let b = FakeHttp::always(ok("from secondary"));
    let yaml = two_openai(&a.v1(), &b.v1(), "").replace("timeout_ms: 2000, idle", "timeout_ms: 300, idle");
    let clock = ManualClock::new();
    let l = layer(&yaml, &[]).with_clock(clock.clone());
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str(), c.fallback_depth), (1, 1, "secondary", 1));
    assert_eq!(c.attempts[0].class, Some(ErrorClass::Transient));
    assert!(c.attempts[0].message.as_deref().is_some_and(|m| m.contains("300 ms")), "{:?}", c.attempts[0]);
    assert_eq!(clock.elapsed(), Duration::ZERO, "no wait before the secondary");
}

#[tokio::test]
async fn a_reset_connection_is_retried() {
    let (a, b, l, _clock) = pair(vec![Answer::Reset], ok("hi")).await;
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (2, 0, "primary"));
    let first = &c.attempts[0];
    assert_eq!((first.class, first.status), (Some(ErrorClass::Transient), None));
    assert!(first.message.as_deref().is_some_and(|m| m.contains("broke")), "{first:?}");
}

#[tokio::test]
async fn a_refused_connection_moves_to_the_secondary_at_once() {
    let b = FakeHttp::always(ok("from secondary"));
    let clock = ManualClock::new();
    let l = layer(&two_openai(&refused_url(), &b.v1(), ""), &[]).with_clock(clock.clone());
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((b.calls(), c.provider.as_str(), c.fallback_depth), (1, "secondary", 1));
    assert_eq!(c.attempts.len(), 2);
    assert!(c.attempts[0].message.as_deref().is_some_and(|m| m.contains("refused")));
    assert_eq!(c.attempts[0].delay_ms, 0);
    assert_eq!(clock.elapsed(), Duration::ZERO, "no wait before the secondary");
}

#[tokio::test]
async fn a_malformed_body_gets_one_more_try_then_the_secondary() {
    let garbage = Answer::Http { status: 200, headers: Vec::new(), body: "{\"choices\": [ oops".into() };
    let (a, b, l, _clock) = pair(vec![], garbage).await;
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (2, 1, "secondary"));
    assert_eq!(c.attempts[0].class, Some(ErrorClass::BadOutput));
    assert_eq!(c.attempts[0].next, Next::Repair);
    assert_eq!(c.attempts[1].next, Next::Fallback);
}

#[tokio::test]
async fn a_stream_that_stalls_midway_is_discarded_and_the_secondary_streams() {
    let a = FakeHttp::always(Answer::Sse {
        chunks: openai_chunks(&["par", "tial", "never"]),
        gap: Duration::ZERO,
        stall: Some(2),
    });
    let b = FakeHttp::always(ok_stream(&["full", " answer"]));
    let yaml = two_openai(&a.v1(), &b.v1(), "").replace("idle_timeout_ms: 2000", "idle_timeout_ms: 200");
    let l = layer(&yaml, &[]);
    let mut sink = Collect::default();
    let c = completion(l.complete(&CompletionRequest { stream: true, ..prompt() }, &mut sink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (1, 1, "secondary"));
    assert_eq!(sink.events, ["par", "tial", "⟲", "full", " answer"]);
    assert_eq!(c.text, "full answer");
    assert!(c.attempts[0].message.as_deref().is_some_and(|m| m.contains("stalled")), "{:?}", c.attempts[0]);
}

#[tokio::test]
async fn a_stream_cut_before_its_end_is_retried_when_no_other_provider_is_configured() {
    let cut =
        Answer::Sse { chunks: openai_chunks(&["a", "b"])[..2].to_vec(), gap: Duration::ZERO, stall: None };
    let a = FakeHttp::script(vec![cut], ok_stream(&["a", "b"]));
    let yaml =
        format!("providers:\n  only: {{ kind: openai, base_url: \"{}\", model: m }}\n{RETRY}\n", a.v1());
    let l = layer(&yaml, &[]);
    let mut sink = Collect::default();
    let c = completion(l.complete(&CompletionRequest { stream: true, ..prompt() }, &mut sink).await);
    // With a fallback configured it would move on at once (policy.rs).
    assert_eq!((a.calls(), c.provider.as_str()), (2, "only"));
    assert_eq!(sink.events, ["a", "b", "⟲", "a", "b"]);
    assert!(c.attempts[0].message.as_deref().is_some_and(|m| m.contains("end marker")));
}

#[tokio::test]
async fn permanent_statuses_are_not_retried() {
    // The provider's refusal (key, permission, model): the next provider is asked.
    for code in [401, 403, 404] {
        let (a, b, l, _clock) = pair(vec![], error(code, "invalid_request_error", "no", &[])).await;
        let c = completion(l.complete(&prompt(), &mut NoSink).await);
        assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (1, 1, "secondary"), "status {code}");
        assert_eq!((c.attempts[0].class, c.attempts[0].status), (Some(ErrorClass::Permanent), Some(code)));
    }
    // The request's own fault: nobody else is asked.
    for code in [400, 422] {
        let (a, b, l, _clock) = pair(vec![], error(code, "invalid_request_error", "no", &[])).await;
        let failure = l.complete(&prompt(), &mut NoSink).await.expect_err("invalid everywhere");
        assert_eq!((a.calls(), b.calls(), failure.class), (1, 0, ErrorClass::Permanent), "status {code}");
    }
}

#[tokio::test]
async fn permanent_without_a_fallback_fails_with_its_class() {
    let a = FakeHttp::always(error(401, "invalid_api_key", "Incorrect API key provided", &[]));
    let yaml =
        format!("providers:\n  only: {{ kind: openai, base_url: \"{}\", model: m }}\n{RETRY}\n", a.v1());
    let l = layer(&yaml, &[]);
    let failure = l.complete(&prompt(), &mut NoSink).await.expect_err("fails");
    assert_eq!(failure.class, ErrorClass::Permanent);
    assert_eq!(a.calls(), 1);
    assert!(failure.message.contains("401") && failure.message.contains("api_key_env"), "{failure}");
    assert_eq!(failure.attempts[0].next, Next::GiveUp);
}

#[tokio::test]
async fn context_length_exceeded_goes_to_a_larger_window() {
    let a = FakeHttp::always(error(
        400,
        "context_length_exceeded",
        "This model's maximum context length is 8192 tokens",
        &[],
    ));
    let same = FakeHttp::always(ok("same window"));
    let big = FakeHttp::always(ok("big window"));
    let yaml = format!(
        "providers:\n  small: {{ kind: openai, base_url: \"{}\", model: s, context_window: 8192 }}\n  same: {{ kind: openai, base_url: \"{}\", model: s2, context_window: 8192 }}\n  big: {{ kind: openai, base_url: \"{}\", model: b, context_window: 128000 }}\nfallback_chain: [small, same, big]\n{RETRY}\n",
        a.v1(),
        same.v1(),
        big.v1()
    );
    let l = layer(&yaml, &[]);
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), same.calls(), big.calls()), (1, 0, 1));
    assert_eq!((c.provider.as_str(), c.fallback_depth, c.text.as_str()), ("big", 2, "big window"));
    assert_eq!(c.attempts[0].class, Some(ErrorClass::ContextTooLong));
}

#[tokio::test]
async fn insufficient_quota_is_permanent_not_a_rate_limit() {
    let quota = error(429, "insufficient_quota", "You exceeded your current quota", &[("retry-after", "1")]);
    let (a, b, l, clock) = pair(vec![], quota).await;
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (1, 1, "secondary"));
    assert_eq!(c.attempts[0].class, Some(ErrorClass::Permanent));
    assert!(c.attempts[0].message.as_deref().is_some_and(|m| m.contains("quota")));
    assert_eq!(clock.elapsed(), Duration::ZERO, "did not wait for the hint");
}

#[tokio::test]
async fn x_should_retry_false_stops_retries() {
    let (a, b, l, _clock) = pair(vec![], status(503, &[("x-should-retry", "false")])).await;
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (1, 1, "secondary"));
}

#[tokio::test]
async fn x_should_retry_true_retries_a_conflict_status() {
    let (a, b, l, _clock) =
        pair(vec![status(400, &[("x-should-retry", "true"), ("retry-after-ms", "50")])], ok("hi")).await;
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (2, 0, "primary"));
}
