//! A fault-injecting HTTP/1.1 server for the tests and benchmarks: a real server on
//! 127.0.0.1 (ephemeral port) that answers each request with the next scripted reply and
//! records every request it receives (arrival time, path, headers, body).
//!
//! It speaks raw HTTP over tokio sockets so it can also misbehave the ways real servers
//! do: hang, reset the connection, stall a stream midway, send a malformed body.

#![allow(dead_code, missing_docs)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A complete response.
    Http { status: u16, headers: Vec<(String, String)>, body: String },
    /// `text/event-stream`: each item is written as one chunk, `gap` apart; with `stall`,
    /// after that many chunks the server stops sending (but keeps the connection open).
    Sse { chunks: Vec<String>, gap: Duration, stall: Option<usize> },
    /// Read the request, never answer.
    Hang,
    /// Read the request, then reset the connection (RST).
    Reset,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    pub path: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Picks the answer to a request from outside state (e.g. a [`ManualClock`]'s time).
pub type Responder = Arc<dyn Fn() -> Answer + Send + Sync>;

struct State {
    script: VecDeque<Answer>,
    fallback: Answer,
    /// When set, answers every request instead of the script.
    responder: Option<Responder>,
    seen: Vec<Seen>,
}

/// The server; it stops with the test's runtime.
#[derive(Clone)]
pub struct FaultServer {
    pub addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FaultServer {
    /// Answers with `script` in order, then `fallback` forever.
    pub async fn start(script: Vec<Answer>, fallback: Answer) -> Self {
        Self::spawn(State { script: script.into(), fallback, responder: None, seen: Vec::new() }).await
    }

    /// Answers every request with `responder()`.
    pub async fn dynamic(responder: impl Fn() -> Answer + Send + Sync + 'static) -> Self {
        let responder: Responder = Arc::new(responder);
        let fallback = Answer::Hang;
        Self::spawn(State { script: VecDeque::new(), fallback, responder: Some(responder), seen: Vec::new() })
            .await
    }

    async fn spawn(state: State) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Self { addr, state }
    }

    /// Always the same answer.
    pub async fn always(reply: Answer) -> Self {
        Self::start(Vec::new(), reply).await
    }

    /// `http://127.0.0.1:PORT/v1`: an OpenAI-style base_url.
    pub fn v1(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://127.0.0.1:PORT`: an Anthropic-style base_url.
    pub fn root(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn calls(&self) -> usize {
        self.state.lock().expect("state").seen.len()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("state").seen.clone()
    }

    /// The time between consecutive requests' arrivals.
    pub fn gaps(&self) -> Vec<Duration> {
        let seen = self.seen();
        seen.windows(2).map(|w| w[1].at - w[0].at).collect()
    }
}

/// An address where nothing listens (connections are refused).
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}/v1")
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut buffer = Vec::new();
    loop {
        let Some((method, path, headers, body)) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        let reply = {
            let mut s = state.lock().expect("state");
            let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            s.seen.push(Seen { at: Instant::now(), method, path, headers, body });
            match &s.responder {
                Some(responder) => responder(),
                None => {
                    let next = s.script.pop_front();
                    next.unwrap_or_else(|| s.fallback.clone())
                }
            }
        };
        match reply {
            Answer::Http { status, headers, body } => {
                let mut head =
                    format!("HTTP/1.1 {status} {}\r\ncontent-length: {}\r\n", reason(status), body.len());
                if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
                    head.push_str("content-type: application/json\r\n");
                }
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                head.push_str(&body);
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
            }
            Answer::Sse { chunks, gap, stall } => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for (i, chunk) in chunks.iter().enumerate() {
                    if stall == Some(i) {
                        tokio::time::sleep(Duration::from_secs(120)).await;
                        return;
                    }
                    if i > 0 && !gap.is_zero() {
                        tokio::time::sleep(gap).await;
                    }
                    if stream.write_all(chunk.as_bytes()).await.is_err() || stream.flush().await.is_err() {
                        return;
                    }
                }
                return;
            }
            Answer::Hang => {
                tokio::time::sleep(Duration::from_secs(120)).await;
                return;
            }
            Answer::Reset => {
                #[allow(deprecated)]
                let _ = stream.set_linger(Some(Duration::ZERO));
                drop(stream);
                return;
            }
        }
    }
}

type Request = (String, String, Vec<(String, String)>, Vec<u8>);

async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize =
        headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let body_start = head_end + 4;
    while buffer.len() < body_start + length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[body_start..body_start + length].to_vec();
    buffer.drain(..body_start + length);
    Some((method, path, headers, body))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}

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
    let body = serde_json::json!({"error": {"message": message, "type": code, "code": code}});
    Answer::Http {
        status,
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: body.to_string(),
    }
}

/// A status with an empty JSON body and headers.
pub fn status(status: u16, headers: &[(&str, &str)]) -> Answer {
    Answer::Http {
        status,
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: "{}".into(),
    }
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
    let body = serde_json::json!({"type": "error", "error": {"type": kind, "message": message}});
    Answer::Http {
        status,
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: body.to_string(),
    }
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

/// Asserts `gap` followed a hint of `hint`: not earlier, and not much later.
pub fn assert_follows_hint(gap: Duration, hint: Duration) {
    assert!(gap >= hint, "retried after {gap:?}, before the server's hint of {hint:?}");
    assert!(
        gap <= hint + Duration::from_millis(400),
        "retried after {gap:?}, much later than the hint of {hint:?}"
    );
}
