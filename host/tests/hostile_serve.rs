//! `kiln serve`'s API over the hostile test guest (kiln-test-guests): a turn that loops
//! forever or traps answers a clear error, the server stays up for the next request, and
//! the session stored before is byte for byte what it was.

use std::sync::Arc;
use std::time::Duration;

use kiln::llm::LayerBackend;
use kiln::server::{AppState, ServeOptions, ServerConfig, Timeouts, router};
use kiln_engine::{Imports, Limits, Runtime, RuntimeOptions};
use kiln_llm::{Config, LlmLayer};
use kiln_store::MemoryStore;
use serde_json::{Value, json};

async fn serve(store: Arc<MemoryStore>) -> String {
    let options = RuntimeOptions {
        component: Some(Arc::from(kiln_test_guests::HOSTILE)),
        // Fuel stops the loop after ~50 M instructions; the deadline is never reached first.
        limits: Limits { memory_bytes: 16 << 20, fuel: 50_000_000, deadline: Duration::from_secs(600) },
        max_concurrent_calls: 2,
        ..Default::default()
    };
    let runtime = Arc::new(Runtime::new(&options).expect("the hostile guest loads"));
    let llm = Arc::new(LayerBackend::new(LlmLayer::new(Config::default_offline()).expect("offline layer")));
    let mut imports = Imports::system(store);
    imports.llm = Arc::clone(&llm) as Arc<dyn kiln_engine::imports::LlmBackend>;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let serve_options = ServeOptions {
        bind: addr,
        config: ServerConfig::default(),
        web_dir: None,
        record: false,
        idle_timeout_ms: 30 * 60_000,
        oauth_ttl_ms: 10 * 60_000,
        sweep_every: Duration::from_secs(3600),
        timeouts: Timeouts::default(),
    };
    let state = AppState::new(runtime, imports, llm, true, &serve_options);
    let app = router(state, 1 << 20, None);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_turn_answers_an_error_and_the_server_serves_the_next_request() {
    let store = Arc::new(MemoryStore::new());
    let base = serve(Arc::clone(&store)).await;
    let http = reqwest::Client::new();
    let created: Value =
        http.post(format!("{base}/v1/sessions")).send().await.expect("post").json().await.expect("json");
    let id = created["session_id"].as_str().expect("a session id").to_owned();
    let before = store.snapshot();
    // The hostile turns as a browser asks (SSE: the error comes before any event, so it is
    // the response itself); the turns after them as JSON.
    let say = |text: &str, accept: &str| {
        http.post(format!("{base}/v1/sessions/{id}/messages"))
            .header("accept", accept)
            .json(&json!({ "text": text }))
            .send()
    };
    for (text, says) in [("loop", "used up its fuel"), ("alloc", "growing memory"), ("trap", "unreachable")] {
        let answer = say(text, "text/event-stream").await.expect("the server answers");
        assert_eq!(answer.status(), 500, "{text}");
        let body: Value = answer.json().await.expect("a JSON error");
        assert_eq!(body["error"]["kind"], "engine", "{text}: {body}");
        let message = body["error"]["message"].as_str().expect("a message");
        assert!(message.contains(says) && message.contains("Stored data is intact"), "{text}: {message}");
        assert_eq!(store.snapshot(), before, "{text}: the stored session is unchanged");
        let next = say("hello", "application/json").await.expect("the server is still up");
        assert_eq!(next.status(), 200, "{text}: the next turn is served");
        let body: Value = next.json().await.expect("json");
        assert_eq!(body["chunks"][0]["text"], "hello");
    }
    let garbage = say("bad-json", "application/json").await.expect("answers");
    assert_eq!(garbage.status(), 500);
    let body: Value = garbage.json().await.expect("a JSON error, not a broken stream");
    assert_eq!(body["error"]["kind"], "internal", "{body}");
    let show = http.get(format!("{base}/v1/sessions/{id}")).send().await.expect("get");
    assert_eq!(show.status(), 200);
}
