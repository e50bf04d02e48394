//! What the LLM layer's tests and benchmarks share: the scripted HTTP server of
//! `kiln_tests::fake_http` (re-exported), a manual clock, shared breaker state, canned
//! provider replies and layers built from YAML.

// Each test file uses a part of this module.
#![allow(dead_code, missing_docs, unused_imports)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use kiln_tests::fake_http::{Answer, FakeHttp, Seen, refused_url};

// ---- time ----

/// A clock for the layer that only moves when the layer sleeps: a test sees every wait the
/// policy chose, in full, without spending it. `elapsed` is the virtual time.
#[derive(Debug)]
pub struct ManualClock {
    start_ms: u64,
    offset_ms: std::sync::atomic::AtomicU64,
}

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self { start_ms: 1_800_000_000_000, offset_ms: std::sync::atomic::AtomicU64::new(0) })
    }

    pub fn elapsed(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Moves time on by `d` (as if a test waited).
    pub fn advance(&self, d: Duration) {
        self.offset_ms.fetch_add(d.as_millis() as u64, std::sync::atomic::Ordering::SeqCst);
    }
}

impl kiln_llm::Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.start_ms + self.offset_ms.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn sleep(&self, d: Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        self.advance(d);
        Box::pin(tokio::task::yield_now())
    }
}

/// A [`kiln_llm::SharedState`] in memory: what a store shared by several processes gives
/// the layers of those processes.
#[derive(Debug, Default)]
pub struct MemoryShared {
    entries: Mutex<std::collections::HashMap<String, (Vec<u8>, u64)>>,
    writes: std::sync::atomic::AtomicU64,
}

impl MemoryShared {
    pub fn writes(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl kiln_llm::SharedState for MemoryShared {
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, String> {
        Ok(self.entries.lock().expect("entries").get(key).cloned())
    }

    async fn put(&self, key: &str, value: Vec<u8>, expected: Option<u64>) -> Result<bool, String> {
        let mut entries = self.entries.lock().expect("entries");
        let current = entries.get(key).map(|(_, v)| *v);
        if current != expected {
            return Ok(false);
        }
        let version = self.writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        entries.insert(key.to_owned(), (value, version));
        Ok(true)
    }
}

// ---- canned replies ----

/// An OpenAI chat completion with `text`.
pub fn ok(text: &str) -> Answer {
    let body = serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]
    });
    Answer::Http { status: 200, headers: Vec::new(), body: body.to_string() }
}

/// An OpenAI stream of `tokens`.
pub fn ok_stream(tokens: &[&str]) -> Answer {
    Answer::Sse { chunks: openai_chunks(tokens), gap: Duration::from_millis(2), stall: None }
}

/// The SSE chunks of an OpenAI stream: one per token, a finish chunk, `[DONE]`.
pub fn openai_chunks(tokens: &[&str]) -> Vec<String> {
    let mut chunks: Vec<String> = tokens
        .iter()
        .map(|t| {
            format!(
                "data: {}\n\n",
                serde_json::json!({"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": null}]})
            )
        })
        .collect();
    chunks.push(format!(
        "data: {}\n\n",
        serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    ));
    chunks.push("data: [DONE]\n\n".to_owned());
    chunks
}

/// An error response with an OpenAI-style body.
pub fn error(status: u16, code: &str, message: &str, headers: &[(&str, &str)]) -> Answer {
    Answer::json(status, &serde_json::json!({"error": {"message": message, "type": code, "code": code}}))
        .with_headers(headers)
}

/// A status with an empty JSON body and headers.
pub fn status(status: u16, headers: &[(&str, &str)]) -> Answer {
    Answer::status(status, headers)
}

/// An Anthropic message with `text`.
pub fn anthropic_ok(text: &str) -> Answer {
    let body = serde_json::json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 2}
    });
    Answer::Http { status: 200, headers: Vec::new(), body: body.to_string() }
}

/// An Anthropic stream of `tokens`, as the Messages API sends it.
pub fn anthropic_stream(tokens: &[&str]) -> Answer {
    let event = |name: &str, data: serde_json::Value| format!("event: {name}\ndata: {data}\n\n");
    let mut chunks = vec![
        event(
            "message_start",
            serde_json::json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": []}}),
        ),
        event(
            "content_block_start",
            serde_json::json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        event("ping", serde_json::json!({"type": "ping"})),
    ];
    for t in tokens {
        chunks.push(event(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}),
        ));
    }
    chunks.push(event("content_block_stop", serde_json::json!({"type": "content_block_stop", "index": 0})));
    chunks.push(event(
        "message_delta",
        serde_json::json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
    ));
    chunks.push(event("message_stop", serde_json::json!({"type": "message_stop"})));
    Answer::Sse { chunks, gap: Duration::from_millis(1), stall: None }
}

/// An Anthropic error body.
pub fn anthropic_error(status: u16, kind: &str, message: &str, headers: &[(&str, &str)]) -> Answer {
    Answer::json(status, &serde_json::json!({"type": "error", "error": {"type": kind, "message": message}}))
        .with_headers(headers)
}

// ---- layers ----

/// Retry settings small enough for tests.
pub const RETRY: &str = "retry: { max_attempts: 4, base_delay_ms: 20, max_delay_ms: 3000, deadline_ms: 10000, fixed_delay_ms: 30 }";

/// `models.yaml` with an OpenAI-compatible primary and secondary, and `extra` lines.
pub fn two_openai(primary: &str, secondary: &str, extra: &str) -> String {
    format!(
        "providers:\n  primary: {{ kind: openai, base_url: \"{primary}\", model: m1, timeout_ms: 2000, idle_timeout_ms: 2000 }}\n  secondary: {{ kind: openai, base_url: \"{secondary}\", model: m2, timeout_ms: 2000 }}\nfallback_chain: [primary, secondary]\n{RETRY}\n{extra}\n"
    )
}

/// A layer from YAML, with `env` as the whole environment.
pub fn layer(yaml: &str, env: &[(&str, &str)]) -> kiln_llm::LlmLayer {
    let config = kiln_llm::Config::parse(yaml, "models.yaml").expect("test config is valid");
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    kiln_llm::LlmLayer::with_env(config, &move |name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .expect("layer")
}

/// Collects stream events as text: tokens verbatim, a discard as `⟲`.
#[derive(Debug, Default)]
pub struct Collect {
    pub events: Vec<String>,
}

impl kiln_llm::TokenSink for Collect {
    fn on_event(&mut self, event: kiln_llm::StreamEvent<'_>) {
        match event {
            kiln_llm::StreamEvent::Token(t) => self.events.push(t.to_owned()),
            kiln_llm::StreamEvent::Discard { .. } => self.events.push("⟲".to_owned()),
        }
    }
}

/// The completion of a reply, or a panic naming what came instead.
pub fn completion(reply: Result<kiln_llm::Reply, kiln_llm::LlmFailure>) -> kiln_llm::Completion {
    match reply {
        Ok(kiln_llm::Reply::Completion(c)) => c,
        other => panic!("expected a completion, got {other:?}"),
    }
}

/// `server`, recording arrival times in `clock`'s time: with a layer that waits on the same
/// clock, the gaps the server sees are exactly the waits the layer chose.
pub fn timed(clock: &Arc<ManualClock>, server: FakeHttp) -> FakeHttp {
    let clock = Arc::clone(clock);
    server.timed_by(move || clock.elapsed())
}
