//! The Anthropic Messages API shape, against an Anthropic-shaped fake endpoint on the same
//! kind of server.

mod support;

use std::time::Duration;

use kiln_llm::{ChatMessage, CompletionRequest, ErrorClass, NoSink, Role};
use support::*;

fn yaml(url: &str) -> String {
    format!(
        "providers:\n  claude: {{ kind: anthropic, base_url: \"{url}\", model: claude-test, api_key_env: KILN_TEST_ANTHROPIC_KEY, max_tokens: 512 }}\n{RETRY}\n"
    )
}

fn conversation() -> CompletionRequest {
    CompletionRequest {
        messages: vec![
            ChatMessage::new(Role::System, "You build agents."),
            ChatMessage::new(Role::User, "Summarise my mail"),
            ChatMessage::new(Role::Assistant, "Which account?"),
            ChatMessage::new(Role::User, "Work"),
        ],
        ..CompletionRequest::default()
    }
}

const KEY: (&str, &str) = ("KILN_TEST_ANTHROPIC_KEY", "sk-ant-test-0123456789");

#[tokio::test]
async fn request_and_response_shape() {
    let server = FakeHttp::always(anthropic_ok("Done."));
    let l = layer(&yaml(&server.url()), &[KEY]);
    let c = completion(l.complete(&conversation(), &mut NoSink).await);
    assert_eq!((c.text.as_str(), c.provider.as_str(), c.model.as_str()), ("Done.", "claude", "claude-test"));
    let seen = &server.seen()[0];
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/v1/messages"));
    assert_eq!(seen.header("x-api-key"), Some("sk-ant-test-0123456789"));
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        seen.body,
        serde_json::json!({
            "model": "claude-test",
            "max_tokens": 512,
            "system": "You build agents.",
            "messages": [
                {"role": "user", "content": "Summarise my mail"},
                {"role": "assistant", "content": "Which account?"},
                {"role": "user", "content": "Work"}
            ]
        })
    );
}

#[tokio::test]
async fn streaming_events() {
    let server = FakeHttp::always(anthropic_stream(&["Hel", "lo"]));
    let l = layer(&yaml(&server.url()), &[KEY]);
    let mut sink = Collect::default();
    let c = completion(l.complete(&CompletionRequest { stream: true, ..conversation() }, &mut sink).await);
    assert_eq!(c.text, "Hello");
    assert_eq!(sink.events, ["Hel", "lo"]);
    assert_eq!(server.seen()[0].body["stream"], true);
}

#[tokio::test]
async fn overloaded_529_is_retried_and_ratelimit_reset_headers_are_hints() {
    let reset = time::OffsetDateTime::now_utc() + Duration::from_millis(1500);
    let reset = reset.format(&time::format_description::well_known::Rfc3339).expect("format");
    let server = FakeHttp::script(
        vec![
            anthropic_error(529, "overloaded_error", "Overloaded", &[]),
            anthropic_error(
                429,
                "rate_limit_error",
                "slow down",
                &[
                    ("anthropic-ratelimit-requests-remaining", "0"),
                    ("anthropic-ratelimit-requests-reset", &reset),
                ],
            ),
        ],
        anthropic_ok("ok"),
    );
    let clock = ManualClock::new();
    let server = timed(&clock, server);
    let l = layer(&yaml(&server.url()), &[KEY]).with_clock(clock);
    let c = completion(l.complete(&conversation(), &mut NoSink).await);
    assert_eq!(server.calls(), 3);
    assert_eq!(c.attempts[0].class, Some(ErrorClass::Transient));
    assert_eq!(c.attempts[0].status, Some(529));
    assert_eq!(c.attempts[1].class, Some(ErrorClass::RateLimited));
    // The reset is a timestamp with whole seconds at best: the wait is about 1.5 s.
    let hint = Duration::from_millis(c.attempts[1].hint_ms.expect("hint"));
    assert!(hint > Duration::from_millis(1000) && hint <= Duration::from_millis(1500), "{hint:?}");
    assert_eq!(server.gaps()[1], hint, "waited exactly the hint");
}

#[tokio::test]
async fn errors_in_the_stream_and_cut_streams() {
    let error_event = Answer::Sse {
        chunks: vec![
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n".into(),
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".into(),
        ],
        gap: Duration::ZERO,
        stall: None,
    };
    let mut cut = anthropic_stream(&["a", "b"]);
    if let Answer::Sse { chunks, .. } = &mut cut {
        chunks.pop();
    }
    let server = FakeHttp::script(vec![error_event, cut], anthropic_stream(&["fine"]));
    let l = layer(&yaml(&server.url()), &[KEY]);
    let mut sink = Collect::default();
    let c = completion(l.complete(&CompletionRequest { stream: true, ..conversation() }, &mut sink).await);
    assert_eq!(server.calls(), 3);
    assert_eq!(sink.events, ["a", "b", "⟲", "fine"]);
    assert!(c.attempts[0].message.as_deref().is_some_and(|m| m.contains("Overloaded")));
    assert!(c.attempts[1].message.as_deref().is_some_and(|m| m.contains("message_stop")));
}

#[tokio::test]
async fn prompt_too_long_and_auth_errors() {
    let server = FakeHttp::always(anthropic_error(
        400,
        "invalid_request_error",
        "prompt is too long: 250000 tokens > 200000 maximum",
        &[],
    ));
    let failure = layer(&yaml(&server.url()), &[KEY])
        .complete(&conversation(), &mut NoSink)
        .await
        .expect_err("too long");
    assert_eq!((failure.class, server.calls()), (ErrorClass::ContextTooLong, 1));
    let denied = FakeHttp::always(anthropic_error(401, "authentication_error", "invalid x-api-key", &[]));
    let failure =
        layer(&yaml(&denied.url()), &[KEY]).complete(&conversation(), &mut NoSink).await.expect_err("denied");
    assert_eq!((failure.class, denied.calls()), (ErrorClass::Permanent, 1));
}

#[tokio::test]
async fn json_schema_goes_into_the_system_prompt() {
    let server = FakeHttp::always(anthropic_ok("{\"ok\": true}"));
    let schema =
        serde_json::json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]});
    let request = CompletionRequest { json_schema: Some(schema), ..conversation() };
    let c = completion(layer(&yaml(&server.url()), &[KEY]).complete(&request, &mut NoSink).await);
    assert_eq!(c.json, Some(serde_json::json!({"ok": true})));
    let system = server.seen()[0].body["system"].as_str().expect("system").to_owned();
    assert!(system.starts_with("You build agents.") && system.contains("JSON Schema"), "{system}");
}
