//! The fallback chain, the circuit breaker, the flags (on vs off, rollout), deadlines,
//! JSON output with repair, offline, metrics.

mod support;

use std::time::{Duration, Instant};

use kiln_llm::{CompletionRequest, ErrorClass, Flags, LlmLayer, NoSink, Reply};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use support::*;

fn prompt() -> CompletionRequest {
    CompletionRequest::prompt("hello")
}

#[tokio::test]
async fn dynamic_retry_flag_off_uses_the_fixed_delay_and_ignores_hints() {
    let clock = ManualClock::new();
    let a = timed(&clock, FakeHttp::script(vec![status(429, &[("retry-after", "1")])], ok("hi")));
    let b = FakeHttp::always(ok("b"));
    let l = layer(&two_openai(&a.v1(), &b.v1(), ""), &[("LOVABLE_DYNAMIC_RETRY_DELAYS", "false")])
        .with_clock(clock);
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (2, 0, "primary"));
    assert_eq!(a.gaps(), [Duration::from_millis(30)], "the fixed delay, not the hint of 1 s");
    assert_eq!(c.attempts[0].delay_ms, 30);
}

#[tokio::test]
async fn dynamic_retry_flag_off_keeps_the_attempt_limit() {
    let clock = ManualClock::new();
    let a = timed(&clock, FakeHttp::always(status(503, &[])));
    let yaml =
        format!("providers:\n  only: {{ kind: openai, base_url: \"{}\", model: m }}\n{RETRY}\n", a.v1());
    // Without the fallback chain there are no further rounds: the attempt limit ends the call.
    let l = layer(&yaml, &[("LOVABLE_DYNAMIC_RETRY_DELAYS", "false"), ("LOVABLE_FALLBACK_CHAIN", "false")])
        .with_clock(clock);
    let failure = l.complete(&prompt(), &mut NoSink).await.expect_err("fails");
    assert_eq!((a.calls(), failure.class), (4, ErrorClass::Transient));
    assert_eq!(a.gaps(), [Duration::from_millis(30); 3]);
}

#[tokio::test]
async fn fallback_flag_off_means_the_primary_only() {
    let b = FakeHttp::always(ok("b"));
    let yaml = two_openai(&refused_url(), &b.v1(), "");
    let off = layer(&yaml, &[("LOVABLE_FALLBACK_CHAIN", "false")]);
    let failure = off.complete(&prompt(), &mut NoSink).await.expect_err("primary only");
    assert_eq!(failure.class, ErrorClass::Transient);
    assert_eq!(b.calls(), 0);
    // Without a next provider, a refused connection is retried up to the limit.
    assert_eq!(failure.attempts.len(), 4);
    assert!(failure.message.contains("refused"), "{failure}");
    // The same file with the flag on falls back.
    let on = layer(&yaml, &[]);
    assert_eq!(completion(on.complete(&prompt(), &mut NoSink).await).provider, "secondary");
    assert_eq!(b.calls(), 1);
}

#[tokio::test]
async fn fallback_flag_follows_the_rollout_slice_of_the_session() {
    let b = FakeHttp::always(ok("b"));
    let extra = "lovable_patterns: { p2_fallback_chain: { rollout_percent: 50 } }";
    let l = layer(&two_openai(&refused_url(), &b.v1(), extra), &[]);
    let (mut on_id, mut off_id) = (None, None);
    for i in 0..200 {
        let id = format!("s{i}");
        if l.flags().fallback_chain(Some(&id)) {
            on_id.get_or_insert(id);
        } else {
            off_id.get_or_insert(id);
        }
    }
    let request = |id: String| CompletionRequest { session_id: Some(id), ..prompt() };
    let served =
        completion(l.complete(&request(on_id.expect("some session in the slice")), &mut NoSink).await);
    assert_eq!(served.provider, "secondary");
    let failed = l.complete(&request(off_id.expect("some session outside")), &mut NoSink).await;
    assert!(failed.is_err());
    assert_eq!(b.calls(), 1);
}

#[test]
fn rollout_slices_from_models_yaml_are_stable_and_close_to_the_percent() {
    for percent in [10u32, 50, 90] {
        let yaml = format!(
            "lovable_patterns:\n  p1_dynamic_retry_delays: {{ rollout_percent: {percent} }}\n  p2_fallback_chain: {{ rollout_percent: {percent} }}\n  p2_conversation_state: {{ rollout_percent: {percent} }}\n"
        );
        let config = kiln_llm::Config::parse(&yaml, "models.yaml").expect("config");
        let flags = Flags::resolve(&config.lovable_patterns, &|_| None).expect("flags");
        let again = Flags::resolve(&config.lovable_patterns, &|_| None).expect("flags");
        let ids: Vec<String> = (0..10_000).map(|i| format!("{i:08x}-session")).collect();
        for (name, on) in [
            ("dynamic", ids.iter().filter(|id| flags.dynamic_retry(Some(id))).count()),
            ("fallback", ids.iter().filter(|id| flags.fallback_chain(Some(id))).count()),
            ("state", ids.iter().filter(|id| flags.conversation_state(Some(id))).count()),
        ] {
            let share = on as f64 / 100.0;
            assert!((share - f64::from(percent)).abs() <= 2.0, "{name} at {percent}%: {share}%");
        }
        assert!(ids.iter().all(|id| flags.fallback_chain(Some(id)) == again.fallback_chain(Some(id))));
    }
}

#[tokio::test]
async fn a_dead_provider_cools_down_is_skipped_then_probed() {
    let a = FakeHttp::script(vec![status(503, &[]), status(503, &[])], ok("primary is back"));
    let b = FakeHttp::always(ok("b"));
    let extra = "lovable_patterns: { p2_fallback_chain: { cooldown_ms: 400, failure_threshold: 2 } }";
    let yaml = two_openai(&a.v1(), &b.v1(), extra).replace("max_attempts: 4", "max_attempts: 1");
    let clock = ManualClock::new();
    let l = layer(&yaml, &[]).with_clock(clock.clone());
    // Two calls, two failures: the breaker opens.
    for _ in 0..2 {
        assert_eq!(completion(l.complete(&prompt(), &mut NoSink).await).provider, "secondary");
    }
    assert_eq!((a.calls(), b.calls()), (2, 2));
    // Cooling down: the primary is not asked at all.
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((c.provider.as_str(), c.fallback_depth, c.attempts.len()), ("secondary", 1, 1));
    assert_eq!((a.calls(), b.calls()), (2, 3));
    // After the cooldown one call probes the primary, which has recovered.
    clock.advance(Duration::from_millis(399));
    assert_eq!(completion(l.complete(&prompt(), &mut NoSink).await).provider, "secondary", "1 ms to go");
    assert_eq!((a.calls(), b.calls()), (2, 4));
    clock.advance(Duration::from_millis(1));
    let probed = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((probed.provider.as_str(), probed.text.as_str()), ("primary", "primary is back"));
    assert_eq!((a.calls(), b.calls()), (3, 4));
    // Closed again: normal use.
    assert_eq!(completion(l.complete(&prompt(), &mut NoSink).await).provider, "primary");
    assert_eq!(a.calls(), 4);
}

#[tokio::test]
async fn a_failed_probe_reopens_the_breaker_and_a_retrying_call_stops_when_it_opens() {
    let a = FakeHttp::always(status(503, &[]));
    let b = FakeHttp::always(ok("b"));
    let extra = "lovable_patterns: { p2_fallback_chain: { cooldown_ms: 300, failure_threshold: 2 } }";
    let clock = ManualClock::new();
    let l = layer(&two_openai(&a.v1(), &b.v1(), extra), &[]).with_clock(clock.clone());
    // max_attempts is 4, but the breaker opens after 2 failures: the call moves on.
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (2, 1, "secondary"));
    clock.advance(Duration::from_millis(300));
    // The probe is a single attempt; it fails and the breaker opens again.
    completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!(a.calls(), 3);
    completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!(a.calls(), 3, "skipped during the new cooldown");
}

#[tokio::test]
async fn when_every_provider_cools_down_the_call_fails_fast() {
    let a = FakeHttp::always(status(503, &[]));
    let b = FakeHttp::always(status(503, &[]));
    let extra = "lovable_patterns: { p2_fallback_chain: { cooldown_ms: 60000, failure_threshold: 1 } }";
    let clock = ManualClock::new();
    let l = layer(&two_openai(&a.v1(), &b.v1(), extra), &[]).with_clock(clock.clone());
    // The first call goes round the chain until its deadline (10 s of the clock's time).
    let first = l.complete(&prompt(), &mut NoSink).await.expect_err("both fail");
    assert_eq!(first.class, ErrorClass::Transient);
    assert!(first.message.contains("deadline"), "{first}");
    let asked = (a.calls(), b.calls());
    assert!(asked.0 > 1 && asked.1 > 1, "{asked:?}");
    // The next call finds both cooling down and fails at once, asking nobody.
    let second = l.complete(&prompt(), &mut NoSink).await.expect_err("both cooling");
    assert!(second.attempts.is_empty());
    assert!(second.message.contains("cooling down"), "{second}");
    assert_eq!((a.calls(), b.calls()), asked);
}

#[tokio::test]
async fn a_hint_beyond_the_deadline_fails_fast_to_the_fallback() {
    let a = FakeHttp::always(status(429, &[("retry-after", "5")]));
    let b = FakeHttp::always(ok("b"));
    let yaml = two_openai(&a.v1(), &b.v1(), "")
        .replace("max_delay_ms: 3000, deadline_ms: 10000", "max_delay_ms: 30000, deadline_ms: 2000");
    let clock = ManualClock::new();
    let l = layer(&yaml, &[]).with_clock(clock.clone());
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (1, 1, "secondary"));
    assert_eq!(clock.elapsed(), Duration::ZERO, "did not wait");
    assert!(c.attempts[0].message.is_some());
    assert_eq!(c.attempts[0].hint_ms, Some(5000));
}

#[tokio::test]
async fn a_hint_beyond_the_cap_is_not_waited_for() {
    let a = FakeHttp::always(status(429, &[("retry-after", "4")]));
    let b = FakeHttp::always(ok("b"));
    let l = layer(&two_openai(&a.v1(), &b.v1(), ""), &[]);
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (1, 1, "secondary"));
}

#[tokio::test]
async fn the_deadline_covers_every_attempt() {
    let a = FakeHttp::always(Answer::Hang);
    let yaml = format!(
        "providers:\n  only: {{ kind: openai, base_url: \"{}\", model: m, timeout_ms: 5000 }}\nretry: {{ max_attempts: 10, base_delay_ms: 10, max_delay_ms: 50, deadline_ms: 400 }}\n",
        a.v1()
    );
    let l = layer(&yaml, &[]);
    let started = Instant::now();
    let failure = l.complete(&prompt(), &mut NoSink).await.expect_err("deadline");
    // The attempt's own wait is cut at the deadline (a real timer: the server hangs).
    assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
    assert_eq!(failure.class, ErrorClass::Transient);
    assert!(failure.message.contains("deadline"), "{failure}");
    assert_eq!(a.calls(), 1);
}

#[tokio::test]
async fn json_output_gets_one_repair_attempt() {
    let schema =
        serde_json::json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]});
    let a = FakeHttp::script(vec![ok("{\"n\": \"three\"}")], ok("```json\n{\"n\": 3}\n```"));
    let b = FakeHttp::always(ok("{\"n\": 1}"));
    let l = layer(&two_openai(&a.v1(), &b.v1(), ""), &[]);
    let request = CompletionRequest { json_schema: Some(schema.clone()), ..prompt() };
    let c = completion(l.complete(&request, &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (2, 0, "primary"));
    assert_eq!(c.json, Some(serde_json::json!({"n": 3})));
    let seen = a.seen();
    assert_eq!(seen[0].body["response_format"]["json_schema"]["schema"], schema);
    // The repair shows the model its reply and what is wrong with it.
    let repair = seen[1].body["messages"].as_array().expect("messages");
    assert_eq!(repair.len(), 3);
    assert_eq!(repair[1], serde_json::json!({"role": "assistant", "content": "{\"n\": \"three\"}"}));
    assert!(
        repair[2]["content"].as_str().is_some_and(|t| t.contains(r#"/n: "three" is not of type "integer""#)),
        "{repair:?}"
    );
}

#[tokio::test]
async fn json_output_still_bad_after_repair_falls_back() {
    let schema = serde_json::json!({"type": "object", "required": ["n"]});
    let a = FakeHttp::always(ok("not json at all"));
    let b = FakeHttp::always(ok("{\"n\": 1}"));
    let l = layer(&two_openai(&a.v1(), &b.v1(), ""), &[]);
    let c = completion(
        l.complete(&CompletionRequest { json_schema: Some(schema), ..prompt() }, &mut NoSink).await,
    );
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (2, 1, "secondary"));
    assert_eq!(c.attempts[1].class, Some(ErrorClass::BadOutput));
}

#[tokio::test]
async fn a_stream_failing_before_its_first_token_falls_back_transparently() {
    let a = FakeHttp::always(status(503, &[("x-should-retry", "false")]));
    let b = FakeHttp::always(ok_stream(&["x", "y"]));
    let l = layer(&two_openai(&a.v1(), &b.v1(), ""), &[]);
    let mut sink = Collect::default();
    let c = completion(l.complete(&CompletionRequest { stream: true, ..prompt() }, &mut sink).await);
    assert_eq!(sink.events, ["x", "y"], "no discard: nothing had reached the client");
    assert_eq!(c.provider, "secondary");
}

#[tokio::test]
async fn a_server_that_ignores_stream_true_still_streams_its_text() {
    let a = FakeHttp::always(ok("whole"));
    let l =
        layer(&format!("providers:\n  only: {{ kind: openai, base_url: \"{}\", model: m }}\n", a.v1()), &[]);
    let mut sink = Collect::default();
    let c = completion(l.complete(&CompletionRequest { stream: true, ..prompt() }, &mut sink).await);
    assert_eq!((c.text.as_str(), sink.events.as_slice()), ("whole", ["whole".to_owned()].as_slice()));
}

#[tokio::test]
async fn errors_inside_a_stream_are_classified() {
    let overloaded = Answer::Sse {
        chunks: vec![format!(
            "data: {}\n\n",
            serde_json::json!({"error": {"message": "busy", "type": "overloaded_error"}})
        )],
        gap: Duration::ZERO,
        stall: None,
    };
    let malformed = Answer::Sse { chunks: vec!["data: {nope\n\n".into()], gap: Duration::ZERO, stall: None };
    let a = FakeHttp::script(vec![overloaded, malformed], ok_stream(&["ok"]));
    let l = layer(
        &format!("providers:\n  only: {{ kind: openai, base_url: \"{}\", model: m }}\n{RETRY}\n", a.v1()),
        &[],
    );
    let c = completion(l.complete(&CompletionRequest { stream: true, ..prompt() }, &mut NoSink).await);
    assert_eq!(a.calls(), 3);
    assert_eq!(c.attempts[0].class, Some(ErrorClass::Transient));
    assert_eq!(c.attempts[1].class, Some(ErrorClass::BadOutput));
}

#[tokio::test]
async fn no_config_is_offline_without_network() {
    let l = LlmLayer::with_env(kiln_llm::Config::default_offline(), &|_| None).expect("layer");
    match l.complete(&prompt(), &mut NoSink).await.expect("offline is not a failure") {
        Reply::Offline(o) => {
            assert_eq!((o.provider.as_str(), o.fallback_depth, o.attempts.len()), ("offline", 0, 1));
        }
        other => panic!("expected offline, got {other:?}"),
    }
}

#[tokio::test]
async fn offline_closes_the_chain() {
    let yaml = format!(
        "providers:\n  primary: {{ kind: openai, base_url: \"{}\", model: m }}\n  rules: {{ kind: offline }}\nfallback_chain: [primary, rules]\n{RETRY}\n",
        refused_url()
    );
    let reply = layer(&yaml, &[]).complete(&prompt(), &mut NoSink).await.expect("degrades");
    assert!(reply.completion().is_none());
    assert_eq!((reply.fallback_depth(), reply.attempts().len()), (1, 2));
    assert!(matches!(reply, Reply::Offline(ref o) if o.provider == "rules"));
}

#[tokio::test]
async fn offline_closes_the_chain_even_after_the_deadline() {
    let a = FakeHttp::always(Answer::Hang);
    let yaml = format!(
        "providers:\n  primary: {{ kind: openai, base_url: \"{}\", model: m, timeout_ms: 5000 }}\n  rules: {{ kind: offline }}\nfallback_chain: [primary, rules]\nretry: {{ deadline_ms: 300 }}\n",
        a.v1()
    );
    let reply = layer(&yaml, &[]).complete(&prompt(), &mut NoSink).await.expect("degrades");
    assert!(matches!(reply, Reply::Offline(_)), "{reply:?}");
    assert_eq!(a.calls(), 1);
}

#[tokio::test]
async fn a_missing_api_key_fails_without_a_request() {
    let a = FakeHttp::always(ok("hi"));
    let b = FakeHttp::always(ok("b"));
    let yaml = two_openai(&a.v1(), &b.v1(), "")
        .replace("model: m1,", "model: m1, api_key_env: KILN_TEST_UNSET_KEY,");
    let c = completion(layer(&yaml, &[]).complete(&prompt(), &mut NoSink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (0, 1, "secondary"));
    assert!(c.attempts[0].message.as_deref().is_some_and(|m| m.contains("KILN_TEST_UNSET_KEY")));
    // With the key set, it is sent as a bearer token.
    let with_key = layer(&yaml, &[("KILN_TEST_UNSET_KEY", "sk-test-123456")]);
    completion(with_key.complete(&prompt(), &mut NoSink).await);
    assert_eq!(a.seen()[0].header("authorization"), Some("Bearer sk-test-123456"));
}

#[tokio::test]
async fn extra_headers_and_max_tokens_are_sent() {
    let a = FakeHttp::always(ok("hi"));
    let yaml = format!(
        "providers:\n  only: {{ kind: openai, base_url: \"{}\", model: m, max_tokens: 64, headers: {{ HTTP-Referer: \"https://kiln.example\" }} }}\n",
        a.v1()
    );
    completion(layer(&yaml, &[]).complete(&prompt(), &mut NoSink).await);
    let seen = &a.seen()[0];
    assert_eq!(seen.header("http-referer"), Some("https://kiln.example"));
    assert_eq!(seen.body["max_tokens"], 64);
    let request = CompletionRequest { max_tokens: Some(5), ..prompt() };
    completion(layer(&yaml, &[]).complete(&request, &mut NoSink).await);
    assert_eq!(a.seen()[1].body["max_tokens"], 5);
}

#[test]
fn metrics_count_attempts_retries_fallbacks_and_cooldowns() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            let a = FakeHttp::always(status(503, &[("retry-after-ms", "10")]));
            let b = FakeHttp::always(ok("b"));
            let extra =
                "lovable_patterns: { p2_fallback_chain: { cooldown_ms: 60000, failure_threshold: 2 } }";
            let l = layer(&two_openai(&a.v1(), &b.v1(), extra), &[]);
            completion(l.complete(&prompt(), &mut NoSink).await);
            completion(l.complete(&prompt(), &mut NoSink).await);
        });
    });
    let mut counters = std::collections::BTreeMap::new();
    let mut histograms = std::collections::BTreeMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let (_, key) = key.into_parts();
        let labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        match value {
            DebugValue::Counter(n) => {
                counters.insert(name, n);
            }
            DebugValue::Histogram(v) => {
                histograms.insert(name, v.len());
            }
            DebugValue::Gauge(_) => {}
        }
    }
    let get = |name: &str| counters.get(name).copied().unwrap_or(0);
    assert_eq!(get("kiln_llm_attempts_total{provider=primary,class=transient}"), 2, "{counters:#?}");
    assert_eq!(get("kiln_llm_attempts_total{provider=secondary,class=ok}"), 2);
    assert_eq!(get("kiln_llm_retries_total{provider=primary,class=transient}"), 1);
    assert_eq!(get("kiln_llm_fallbacks_total{from=primary,to=secondary}"), 1);
    assert_eq!(get("kiln_llm_cooldowns_total{provider=primary}"), 1);
    assert_eq!(get("kiln_llm_cooldown_skips_total{provider=primary}"), 1);
    assert_eq!(get("kiln_llm_calls_total{outcome=ok,class=none}"), 2);
    assert_eq!(histograms.get("kiln_llm_retry_delay_seconds{provider=primary,source=hint}"), Some(&1));
    assert_eq!(histograms.get("kiln_llm_attempt_duration_seconds{provider=secondary,class=ok}"), Some(&2));
    assert_eq!(histograms.get("kiln_llm_call_duration_seconds{outcome=ok}"), Some(&2));
}
