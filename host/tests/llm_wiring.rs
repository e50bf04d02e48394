//! The guest's `llm` import served by the real LLM layer, against a real OpenAI-compatible
//! HTTP server on 127.0.0.1: the builder uses a valid extraction, and falls back to its
//! rules when the server answers garbage or goes away.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kiln::builder::{BuilderClient, TurnInput};
use kiln::llm::LayerBackend;
use kiln::services::Silent;
use kiln::store::MemoryStore;
use kiln::{Runtime, RuntimeOptions, Services};
use kiln_core::builder::{Caller, TurnOptions};
use kiln_llm::{Config, LlmLayer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A one-route HTTP/1.1 server answering every request with `body` (status 200), recording
/// the request bodies it saw.
async fn serve(body: String) -> (String, Arc<Mutex<Vec<String>>>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let (log, count) = (Arc::clone(&seen), Arc::clone(&calls));
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let (body, log, count) = (body.clone(), Arc::clone(&log), Arc::clone(&count));
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                // Read the head, then as many body bytes as Content-Length says.
                loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let len = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().to_owned())
                            })
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= head_end + 4 + len {
                            log.lock().expect("log").push(text[head_end + 4..].to_owned());
                            break;
                        }
                    }
                }
                count.fetch_add(1, Ordering::SeqCst);
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(response.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}/v1"), seen, calls)
}

fn completion(content: &str) -> String {
    serde_json::json!({
        "id": "x", "object": "chat.completion", "model": "test-model",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]
    })
    .to_string()
}

fn client(base_url: &str) -> BuilderClient {
    let yaml = format!(
        "providers:\n  local: {{ kind: openai, base_url: \"{base_url}\", model: \"test-model\", timeout_ms: 5000 }}\n  rules: {{ kind: offline }}\nfallback_chain: [local, rules]\nretry: {{ max_attempts: 1, base_delay_ms: 1, max_delay_ms: 5, deadline_ms: 5000 }}\n"
    );
    let config = Config::parse(&yaml, "test.yaml").expect("config");
    let layer = LlmLayer::with_env(config, &|_| None).expect("layer");
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kiln-component-cache");
    let runtime =
        Runtime::new(&RuntimeOptions { cache_dir: Some(cache), ..Default::default() }).expect("runtime");
    let mut services = Services::system(Arc::new(MemoryStore::new()));
    services.llm = Arc::new(LayerBackend::new(layer));
    BuilderClient::new(Arc::new(runtime), services)
}

fn who() -> Caller {
    Caller { tenant_id: "t".into(), user_id: "u".into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_llm_extraction_drives_the_conversation() {
    let extraction = r##"{"integrations":["github","slack"],"trigger":"event","event_integration":"github","event":"issue.opened","channel":"#dev"}"##;
    let (url, seen, calls) = serve(completion(extraction)).await;
    let builder = client(&url);
    let id = builder.start_session(&who()).await.expect("session").session_id;
    // Nothing in these words names GitHub, Slack or #dev: only the LLM's answer does.
    let text = TurnInput::Message("tell the team whenever something new turns up in the repo".into());
    builder.turn(&who(), &id, text, TurnOptions::default(), Arc::new(Silent)).await.expect("turn");
    let session = builder.get_session(&who(), &id).await.expect("session");
    let field = |name: &str| session.requirements.iter().find(|r| r.field == name).map(|r| r.value.clone());
    assert_eq!(field("integrations").as_deref(), Some("GitHub, Slack"));
    assert_eq!(field("channel").as_deref(), Some("#dev"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let request: serde_json::Value =
        serde_json::from_str(&seen.lock().expect("seen")[0]).expect("request json");
    assert_eq!(request["model"], "test-model");
    let system = request["messages"][0]["content"].as_str().expect("system prompt");
    assert!(system.contains("Integration ids"), "{system}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_from_the_provider_falls_back_to_the_rules() {
    let (url, _seen, calls) = serve(completion("I am not JSON, and I say: skip to COMPLETE")).await;
    let builder = client(&url);
    let id = builder.start_session(&who()).await.expect("session").session_id;
    let text =
        TurnInput::Message("Every weekday at 9, summarise my unread Gmail and post it to Slack #team".into());
    let chunks =
        builder.turn(&who(), &id, text, TurnOptions::default(), Arc::new(Silent)).await.expect("turn");
    let session = builder.get_session(&who(), &id).await.expect("session");
    assert_eq!(
        session.phase,
        kiln_core::builder::Phase::OauthFlow,
        "the rules understood it; no phase skipped"
    );
    assert!(chunks.last().is_some_and(|c| c.done));
    assert!(calls.load(Ordering::SeqCst) >= 2, "asked, and asked to repair");
}
