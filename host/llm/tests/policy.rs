//! The chain's policy under the faults of issue #19, on a [`ManualClock`]: every wait the
//! layer chooses moves virtual time, so the tests see the whole schedule (a 15 s deadline
//! included) without spending it, and assert on it instead of on wall time.
//!
//! - a burst of 503s on the primary while the rest of the chain refuses: the call goes
//!   round again with backoff until the primary answers, inside the deadline;
//! - an Anthropic overload window (529) on a one-provider chain: waited out likewise;
//! - a 400 that is the request's own fault: one call, no fallback;
//! - a stream that breaks midway: the next provider at once;
//! - five processes (five layers on one shared store) and a dead primary: the breaker
//!   opens once for all of them.

mod support;

use std::sync::Arc;
use std::time::Duration;

use kiln_llm::{CompletionRequest, ErrorClass, Next, NoSink, Reply};
use support::*;

fn prompt() -> CompletionRequest {
    CompletionRequest::prompt("hello")
}

/// Retry settings as a deployment would have them (the defaults' shape, a 15 s deadline).
const RETRY_15S: &str =
    "retry: { max_attempts: 3, base_delay_ms: 250, max_delay_ms: 4000, deadline_ms: 15000 }";

/// A server that answers `during` until `clock` passes `until`, then `after`.
async fn window(clock: &Arc<ManualClock>, until: Duration, during: Answer, after: Answer) -> FakeHttp {
    let clock = Arc::clone(clock);
    FakeHttp::respond(move |_| if clock.elapsed() < until { during.clone() } else { after.clone() })
}

#[tokio::test]
async fn a_burst_of_503s_while_the_fallbacks_refuse_is_waited_out_within_the_deadline() {
    let clock = ManualClock::new();
    let primary = window(&clock, Duration::from_millis(1500), status(503, &[]), ok("back")).await;
    let yaml = format!(
        "providers:\n  primary: {{ kind: openai, base_url: \"{}\", model: m1 }}\n  secondary: {{ kind: openai, base_url: \"{}\", model: m2 }}\n  tertiary: {{ kind: openai, base_url: \"{}\", model: m3 }}\nfallback_chain: [primary, secondary, tertiary]\n{RETRY_15S}\n",
        primary.v1(),
        refused_url(),
        refused_url()
    );
    let l = layer(&yaml, &[]).with_clock(clock.clone());
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!((c.provider.as_str(), c.text.as_str()), ("primary", "back"));
    let waited = clock.elapsed();
    assert!(waited >= Duration::from_millis(1500), "answered at {waited:?}, inside the burst");
    assert!(waited < Duration::from_secs(15), "took {waited:?}, past the deadline");
    // It went round: the refused links were tried more than once, each round after a wait.
    let rounds = c.attempts.iter().filter(|a| a.provider == "secondary").count();
    eprintln!("answered at {waited:?} of 15 s, after {} attempts in {rounds} rounds", c.attempts.len());
    assert!(rounds >= 2, "{:#?}", c.attempts);
    // Between rounds the primary was asked once per round, not hammered.
    assert!(primary.calls() <= 3 + rounds, "{} calls in {rounds} rounds", primary.calls());
}

#[tokio::test]
async fn an_anthropic_overload_window_is_waited_out() {
    let clock = ManualClock::new();
    let overloaded = anthropic_error(529, "overloaded_error", "Overloaded", &[]);
    let claude = window(&clock, Duration::from_secs(3), overloaded, anthropic_ok("fine now")).await;
    let yaml = format!(
        "providers:\n  claude: {{ kind: anthropic, base_url: \"{}\", model: claude-test, api_key_env: K, max_tokens: 64 }}\n{RETRY_15S}\n",
        claude.url()
    );
    let l = layer(&yaml, &[("K", "sk-ant-test-0123456789")]).with_clock(clock.clone());
    let c = completion(l.complete(&prompt(), &mut NoSink).await);
    assert_eq!(c.text, "fine now");
    eprintln!("answered at {:?} after {} attempts", clock.elapsed(), c.attempts.len());
    assert!(
        (Duration::from_secs(3)..Duration::from_secs(15)).contains(&clock.elapsed()),
        "{:?}",
        clock.elapsed()
    );
    assert!(
        c.attempts.iter().rev().skip(1).all(|a| a.class == Some(ErrorClass::Transient)),
        "{:#?}",
        c.attempts
    );
}

#[tokio::test]
async fn a_burst_longer_than_the_deadline_fails_when_the_deadline_does() {
    let clock = ManualClock::new();
    let primary = FakeHttp::always(status(503, &[]));
    let yaml = format!(
        "providers:\n  primary: {{ kind: openai, base_url: \"{}\", model: m1 }}\n  secondary: {{ kind: openai, base_url: \"{}\", model: m2 }}\nfallback_chain: [primary, secondary]\n{RETRY_15S}\n",
        primary.v1(),
        refused_url()
    );
    let l = layer(&yaml, &[]).with_clock(clock.clone());
    let failure = l.complete(&prompt(), &mut NoSink).await.expect_err("never answers");
    assert_eq!(failure.class, ErrorClass::Transient);
    assert!(failure.message.contains("deadline"), "{failure}");
    // It used the deadline (the last wait would have passed it), and no more.
    let waited = clock.elapsed();
    assert!((Duration::from_secs(5)..=Duration::from_secs(15)).contains(&waited), "gave up at {waited:?}");
}

#[tokio::test]
async fn a_request_invalid_everywhere_is_sent_once() {
    let invalid = error(400, "invalid_request_error", "messages: at least one message is required", &[]);
    let (a, b, c) =
        (FakeHttp::always(invalid.clone()), FakeHttp::always(invalid.clone()), FakeHttp::always(invalid));
    let yaml = format!(
        "providers:\n  a: {{ kind: openai, base_url: \"{}\", model: m }}\n  b: {{ kind: openai, base_url: \"{}\", model: m }}\n  c: {{ kind: openai, base_url: \"{}\", model: m }}\nfallback_chain: [a, b, c]\n{RETRY}\n",
        a.v1(),
        b.v1(),
        c.v1()
    );
    let failure = layer(&yaml, &[]).complete(&prompt(), &mut NoSink).await.expect_err("invalid");
    assert_eq!((a.calls(), b.calls(), c.calls()), (1, 0, 0));
    assert_eq!(failure.class, ErrorClass::Permanent);
    assert!(failure.message.contains("at least one message"), "{failure}");
    assert_eq!(failure.attempts.len(), 1);
    assert_eq!(failure.attempts[0].next, Next::GiveUp);
    // With the rule-based path at the end of the chain, it takes over (no network call).
    let yaml = format!(
        "providers:\n  a: {{ kind: openai, base_url: \"{}\", model: m }}\n  b: {{ kind: openai, base_url: \"{}\", model: m }}\n  rules: {{ kind: offline }}\nfallback_chain: [a, b, rules]\n{RETRY}\n",
        a.v1(),
        b.v1()
    );
    let reply = layer(&yaml, &[]).complete(&prompt(), &mut NoSink).await;
    assert!(matches!(reply, Ok(Reply::Offline(_))), "{reply:?}");
    assert_eq!((a.calls(), b.calls()), (2, 0));
}

#[tokio::test]
async fn a_stream_that_breaks_midway_falls_back_at_once() {
    let cut = Answer::Sse {
        chunks: openai_chunks(&["half", "way"])[..2].to_vec(),
        gap: Duration::ZERO,
        stall: None,
    };
    let a = FakeHttp::always(cut);
    let b = FakeHttp::always(ok_stream(&["whole", " answer"]));
    let l = layer(&two_openai(&a.v1(), &b.v1(), ""), &[]);
    let mut sink = Collect::default();
    let c = completion(l.complete(&CompletionRequest { stream: true, ..prompt() }, &mut sink).await);
    assert_eq!((a.calls(), b.calls(), c.provider.as_str()), (1, 1, "secondary"));
    assert_eq!(sink.events, ["half", "way", "⟲", "whole", " answer"]);
    assert_eq!(c.attempts[0].next, Next::Fallback);
}

#[tokio::test]
async fn five_processes_share_one_breaker_through_the_store() {
    let dead = FakeHttp::always(status(503, &[]));
    let healthy = FakeHttp::always(ok("from secondary"));
    let shared = Arc::new(MemoryShared::default());
    let yaml = two_openai(&dead.v1(), &healthy.v1(), "");
    for process in 0..5 {
        // A layer per process, as five `kiln llm complete` runs have; only the store is common.
        let l = layer(&yaml, &[]).with_shared_state(shared.clone());
        let c = completion(l.complete(&prompt(), &mut NoSink).await);
        assert_eq!(c.provider, "secondary", "process {process}");
    }
    // The first process opened the breaker after `failure_threshold` (3) failures; the other
    // four skipped the dead primary (before: 3 calls each, 15 in all).
    assert_eq!((dead.calls(), healthy.calls()), (3, 5));
    // Without the shared store each process learns it alone.
    let dead = FakeHttp::always(status(503, &[]));
    let yaml = two_openai(&dead.v1(), &healthy.v1(), "");
    for _ in 0..5 {
        completion(layer(&yaml, &[]).complete(&prompt(), &mut NoSink).await);
    }
    assert_eq!(dead.calls(), 15);
}

#[tokio::test]
async fn a_shared_breaker_probes_after_the_cooldown_and_closes_for_everyone() {
    let clock = ManualClock::new();
    let primary = window(&clock, Duration::from_secs(40), status(503, &[]), ok("primary again")).await;
    let healthy = FakeHttp::always(ok("from secondary"));
    let shared = Arc::new(MemoryShared::default());
    let yaml = two_openai(&primary.v1(), &healthy.v1(), "");
    let process = || layer(&yaml, &[]).with_shared_state(shared.clone()).with_clock(clock.clone());
    completion(process().complete(&prompt(), &mut NoSink).await);
    let opened = primary.calls();
    // Cooling down (30 s by default): another process skips it.
    clock.advance(Duration::from_secs(10));
    completion(process().complete(&prompt(), &mut NoSink).await);
    assert_eq!(primary.calls(), opened);
    // After the cooldown one process probes it; it is back, so everyone uses it again.
    clock.advance(Duration::from_secs(35));
    let probed = completion(process().complete(&prompt(), &mut NoSink).await);
    assert_eq!(probed.provider, "primary");
    let next = completion(process().complete(&prompt(), &mut NoSink).await);
    assert_eq!(next.provider, "primary");
    assert_eq!(primary.calls(), opened + 2);
}
