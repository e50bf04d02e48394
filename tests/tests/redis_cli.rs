//! The `kiln` binary on a Redis store (`--store redis://...`): the queue, a builder
//! conversation, concurrent processes, deployments, and a Redis that is not there. Each test
//! starts its own `redis-server` on a free loopback port.

use std::sync::Arc;

use kiln_tests::fake_http::refused_port;
use kiln_tests::redis::RedisServer;
use kiln_tests::{BUILDER_FULL_RUN, Kiln, race};
use serde_json::Value;

/// The ids `kiln --json conversations list` shows, in queue order.
#[track_caller]
fn queued(k: &Kiln) -> Vec<String> {
    let out = k.run(["--json", "conversations", "list"]);
    out.ok();
    let list = out.json();
    list.as_array()
        .unwrap_or_else(|| panic!("not a list\n{out}"))
        .iter()
        .map(|c| c["conversation_id"].as_str().expect("conversation_id").to_owned())
        .collect()
}

#[test]
fn the_queue_works_on_redis_and_writes_nothing_to_disk() {
    let server = RedisServer::start();
    let k = Kiln::with_store(server.url());
    let first = k.add("first");
    let second = k.add_with("second", &["--workflow-id", "wf-1"]);
    assert_eq!(queued(&k), vec![first.clone(), second.clone()]);

    let out = k.run(["--json", "conversations", "next"]);
    out.ok();
    assert_eq!(out.json()["conversation_id"], Value::from(first.as_str()));
    assert_eq!(out.json()["prompt"], "first");
    assert_eq!(queued(&k), vec![second.clone()]);

    // Another process (a fresh connection) sees the same queue.
    let other = Kiln::with_store(server.url());
    let out = other.run(["--json", "conversations", "next"]);
    out.ok();
    assert_eq!(out.json()["conversation_id"], Value::from(second.as_str()));
    let out = other.run(["--json", "conversations", "next"]);
    assert_eq!(out.failed().json_error().0, "empty");

    assert!(!k.store().exists(), "--store redis:// must not touch --dir {}", k.store().display());
    assert_eq!(server.command("EXISTS kiln:{default}:k:conversations/index.json"), ":1");
}

#[test]
fn eight_processes_keep_the_queue_fifo_and_lose_nothing() {
    const ADDERS: usize = 8;
    const ADDS_EACH: usize = 40;
    const TAKERS: usize = 2;
    let server = RedisServer::start();
    let k = Arc::new(Kiln::with_store(server.url()));
    // Warm the component cache before the race.
    k.run(["conversations", "list"]).ok();

    let race = race::run(&k, ADDERS, ADDS_EACH, TAKERS);
    let prompt_of = race.check(&queued(&k));
    assert_eq!(prompt_of.len(), ADDERS * ADDS_EACH);
    // Every conversation is stored with its own prompt (a sample: one process per check).
    for (id, prompt) in prompt_of.iter().step_by(16) {
        let out = k.run(["--json", "conversations", "start", id]);
        out.ok();
        assert_eq!(out.json()["conversation"]["prompt"], Value::from(*prompt), "{id}");
        assert_eq!(out.json()["was_queued"], Value::Bool(false), "{id} was handed out already");
    }
    eprintln!("redis contention: {}", race.summary());
}

#[test]
fn a_builder_conversation_runs_on_redis() {
    let server = RedisServer::start();
    let k = Kiln::with_store(server.url());
    let script: String = BUILDER_FULL_RUN.iter().map(|l| format!("{l}\n")).collect();
    let out = k.run_stdin(["chat", "--json"], script.as_bytes());
    out.ok();
    let last: Value = serde_json::from_str(out.stdout.lines().last().expect("a chunk")).expect("JSON");
    assert_eq!(last["phase"], "COMPLETE", "{out}");
    let session = last["session_id"].as_str().expect("session_id").to_owned();

    // Another process reads the session back from Redis.
    let out = k.run(["--json", "sessions", "show", &session]);
    out.ok();
    assert_eq!(out.json()["phase"], "COMPLETE", "{out}");
    let out = k.run(["--json", "agent", "export", &session]);
    out.ok();
    assert_eq!(server.command(&format!("EXISTS kiln:{{default}}:k:sessions/{session}.json")), ":1");
    // A live session carries the TTL (idle timeout + grace); the queue index does not.
    let ttl = server.command(&format!("TTL kiln:{{default}}:k:sessions/{session}.json"));
    let ttl: i64 = ttl.trim_start_matches(':').parse().expect("TTL");
    assert!(ttl > 30 * 60, "session TTL {ttl} s is not idle timeout + grace");
}

#[test]
fn deployments_on_one_redis_have_separate_queues() {
    let server = RedisServer::start();
    let a = Kiln::with_store(format!("{}?deployment=team-a", server.url()));
    let b = Kiln::with_store(format!("{}?deployment=team-b", server.url()));
    let id = a.add("only for team a");
    assert_eq!(queued(&a), vec![id]);
    assert_eq!(queued(&b), Vec::<String>::new());
}

#[test]
fn an_unreachable_redis_exits_1_with_a_clear_message() {
    let url = format!("redis://127.0.0.1:{}/0", refused_port());
    let k = Kiln::with_store(&url);
    let out = k.run(["conversations", "add", "hello"]);
    out.failed().stderr_has(&format!("cannot reach Redis at {url}")).stderr_has("Start redis-server");
    let out = k.run(["--json", "conversations", "list"]);
    let (kind, message) = out.failed().json_error();
    assert_eq!(kind, "store");
    assert!(message.contains(&url), "{message}");
    assert!(!k.store().exists(), "nothing falls back to the file store");
}

#[test]
fn a_malformed_store_spec_is_a_usage_error() {
    let k = Kiln::with_store("redis://127.0.0.1:6379/not-a-db");
    k.run(["conversations", "list"]).usage_error().stderr_has("invalid store");
    let k = Kiln::with_store("ftp://example");
    k.run(["conversations", "list"]).usage_error().stderr_has("unknown scheme");
}
