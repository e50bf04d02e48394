//! Record and replay (issue #18, item 5): a session recorded with a model answering from a
//! fake OpenAI-compatible server, through an OAuth wait and back, replays identically from
//! its journal in each store backend (memory, file, Redis) without writing to the store; one
//! byte changed in the model's recorded answer is reported as the first difference it
//! causes; a missing or unreadable journal is a clear error saying what to do.

use std::path::PathBuf;
use std::sync::Arc;

use kiln::llm::LayerBackend;
use kiln_engine::builder::{BuilderClient, TurnInput};
use kiln_engine::imports::Silent;
use kiln_engine::journal::{Journal, JournalError};
use kiln_engine::{Imports, Runtime, RuntimeOptions};
use kiln_llm::{Config, LlmLayer};
use kiln_store::{KvStore, OpenOptions, StoreChoice, StoreSpec};
use kiln_tests::fake_http::{Answer, FakeHttp};
use kiln_tests::redis::RedisServer;
use kiln_wire::builder::{Caller, TurnOptions};
use kiln_wire::store::Precondition;
use serde_json::Value;

/// The model's extraction: nothing in the person's words names GitHub, Slack or #dev.
const EXTRACTION: &str = r##"{"integrations":["github","slack"],"trigger":"event","event_integration":"github","event":"issue.opened","channel":"#dev"}"##;

fn model_server() -> FakeHttp {
    let body = serde_json::json!({
        "id": "x", "object": "chat.completion", "model": "test-model",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": EXTRACTION}}]
    })
    .to_string();
    FakeHttp::respond(move |_| Answer::Http { status: 200, headers: Vec::new(), body: body.clone() })
}

fn runtime() -> Arc<Runtime> {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("kiln-component-cache");
    Arc::new(Runtime::new(&RuntimeOptions { cache_dir: Some(cache), ..Default::default() }).expect("runtime"))
}

fn who() -> Caller {
    Caller { tenant_id: "local".into(), user_id: "u".into() }
}

async fn open(spec: &str) -> Arc<dyn KvStore> {
    let spec: StoreSpec = spec.parse().expect("store spec");
    let options = OpenOptions::new(std::time::Duration::from_secs(1800));
    StoreChoice { spec, options }.open().await.expect("store")
}

/// Records a session on `store`: a message the model answers, the OAuth wait approved, back.
async fn record(runtime: &Arc<Runtime>, store: Arc<dyn KvStore>, model: &FakeHttp) -> String {
    let yaml = format!(
        "providers:\n  local: {{ kind: openai, base_url: \"{}\", model: \"test-model\", timeout_ms: 5000 }}\n  rules: {{ kind: offline }}\nfallback_chain: [local, rules]\nretry: {{ max_attempts: 1, base_delay_ms: 1, max_delay_ms: 5, deadline_ms: 5000 }}\n",
        model.v1()
    );
    let layer =
        LlmLayer::with_env(Config::parse(&yaml, "test.yaml").expect("config"), &|_| None).expect("layer");
    let mut imports = Imports::system(Arc::clone(&store));
    imports.llm = Arc::new(LayerBackend::new(layer));
    let client =
        BuilderClient::new(Arc::clone(runtime), imports).recording(Arc::new(Journal::new(store, None)));
    let id = client.start_session(&who()).await.expect("session").session_id;
    let caller = who();
    let turn = |input| client.turn(&caller, &id, input, TurnOptions::default(), Arc::new(Silent));
    turn(TurnInput::Message("tell the team whenever something new turns up in the repo".into()))
        .await
        .expect("turn 1");
    let pending = client.get_session(&who(), &id).await.expect("view").pending_oauth;
    let state = pending.expect("the model's answer needs GitHub: the session waits for it").state;
    turn(TurnInput::Oauth { state, approved: true }).await.expect("turn 2");
    turn(TurnInput::Back).await.expect("turn 3");
    id
}

/// Every key and value of `store` (the host's journal keys included).
async fn dump(store: &Arc<dyn KvStore>) -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    for key in store.list("").await.expect("list") {
        let value = store.get(&key).await.expect("get").map(|e| e.value).unwrap_or_default();
        all.push((key, value));
    }
    all
}

async fn replays_identically_on(spec: &str) {
    let runtime = runtime();
    let model = model_server();
    let store = open(spec).await;
    let id = record(&runtime, Arc::clone(&store), &model).await;
    assert!(model.calls() >= 1, "the model answered");
    let journal = Journal::new(Arc::clone(&store), None);
    let before = dump(&store).await;
    assert!(
        before.iter().any(|(k, _)| k == &format!("kiln-host/journal/{id}/000003.json")),
        "{spec}: three turns journaled beside the session: {:?}",
        before.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    let report = journal.replay(Arc::clone(&runtime), &id).await.expect("replay");
    assert_eq!(report.difference, None, "{spec}: replays identically");
    assert_eq!(report.turns, 3);
    assert!(report.same_component);
    assert_eq!(dump(&store).await, before, "{spec}: a replay writes nothing");
    let calls = model.calls();
    journal.replay(runtime, &id).await.expect("replay again");
    assert_eq!(model.calls(), calls, "a replay asks the journal, not the model");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_session_replays_identically_in_every_backend() {
    replays_identically_on("memory").await;
    let dir = tempfile::tempdir().expect("tempdir");
    replays_identically_on(&format!("file:{}", dir.path().display())).await;
    let redis = RedisServer::start();
    replays_identically_on(&redis.url()).await;
}

/// The entry of turn 1, as JSON, and a way to write it back.
async fn entry(store: &Arc<dyn KvStore>, id: &str) -> (String, Value) {
    let key = format!("kiln-host/journal/{id}/000001.json");
    let bytes = store.get(&key).await.expect("get").expect("turn 1 is journaled").value;
    (key, serde_json::from_slice(&bytes).expect("an entry is JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_byte_changed_in_the_models_answer_is_the_first_difference_reported() {
    let runtime = runtime();
    let model = model_server();
    let store = open("memory").await;
    let id = record(&runtime, Arc::clone(&store), &model).await;
    let (key, mut turn) = entry(&store, &id).await;
    let calls = turn["calls"].as_array_mut().expect("calls");
    let llm = calls.iter().position(|c| c["call"] == "llm.complete").expect("turn 1 asked the model");
    let text = calls[llm]["answer"]["Ok"]["text"].as_str().expect("the model's text").to_owned();
    assert_eq!(text, EXTRACTION);
    calls[llm]["answer"]["Ok"]["text"] = Value::from(text.replacen("#dev", "#dew", 1));
    store.put(&key, serde_json::to_vec(&turn).expect("json"), Precondition::Any).await.expect("put");

    let report = Journal::new(Arc::clone(&store), None).replay(runtime, &id).await.expect("replay");
    let d = report.difference.expect("the changed answer changes what the engine does");
    assert_eq!(d.turn, 1, "{d}");
    assert!(d.call > llm + 1, "the first difference follows the model's call: {d}");
    assert!(d.what.contains("at byte"), "it says where: {d}");
    assert!(d.expected.contains("#dev") && d.got.contains("#dew"), "expected vs got: {d}");
    assert_eq!(report.turns, 1, "the replay stops at the first difference");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_unreadable_journal_says_what_to_do() {
    let runtime = runtime();
    let store = open("memory").await;
    let journal = Journal::new(Arc::clone(&store), None);
    match journal.replay(Arc::clone(&runtime), "no-such-session").await {
        Err(e @ JournalError::Missing { .. }) => {
            let message = e.to_string();
            assert!(message.contains("no-such-session") && message.contains("--record"), "{message}");
        }
        other => panic!("expected a missing journal, got {other:?}"),
    }
    assert!(matches!(
        journal.replay(Arc::clone(&runtime), "../x").await,
        Err(JournalError::InvalidSession(_))
    ));

    let model = model_server();
    let id = record(&runtime, Arc::clone(&store), &model).await;
    let (key, _) = entry(&store, &id).await;
    store
        .put(&key, b"{\"format\": \"kiln.journal/v1\", trunc".to_vec(), Precondition::Any)
        .await
        .expect("put");
    match journal.replay(runtime, &id).await {
        Err(e @ JournalError::Unreadable { .. }) => {
            let message = e.to_string();
            assert!(message.contains(&key) && message.contains("Record the session again"), "{message}");
        }
        other => panic!("expected an unreadable entry, got {other:?}"),
    }
}
