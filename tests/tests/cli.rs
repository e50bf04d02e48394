//! `kiln conversations ...` end to end: one process per command, as a person or a script
//! would run it, checking output, exit codes and the files in the store.

use std::collections::BTreeSet;

use kiln_tests::{Kiln, assert_uuid_v4, kiln_command, parse_rfc3339_utc, read_json, run_command, unix_now};
use serde_json::{Value, json};

/// The keys of a JSON object.
fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(String::as_str).collect()
}

const CONVERSATION_KEYS: [&str; 5] = ["conversation_id", "created_at", "metadata", "prompt", "workflow_id"];

#[test]
fn add_writes_the_seed_file_format() {
    let k = Kiln::new();
    let before = unix_now();
    let id = k.add_with(
        "Summarise my unread Gmail",
        &["--workflow-id", "wf-42", "--meta", "team=ops", "--meta", "x=a=b"],
    );
    let after = unix_now();

    // index.json is exactly {"queue": [id]}.
    let index = read_json(&k.index_path());
    assert_eq!(index, json!({ "queue": [id] }));

    // <id>.json holds exactly the seed's fields.
    let c = read_json(&k.conversation_path(&id));
    assert_eq!(keys(&c), BTreeSet::from(CONVERSATION_KEYS), "{c}");
    assert_eq!(c["conversation_id"], json!(id));
    assert_eq!(c["prompt"], json!("Summarise my unread Gmail"));
    assert_eq!(c["workflow_id"], json!("wf-42"));
    assert_eq!(c["metadata"], json!({ "team": "ops", "x": "a=b" }));
    let created_at = c["created_at"].as_str().expect("created_at is a string");
    assert!(created_at.ends_with('Z'), "{created_at}");
    let t = parse_rfc3339_utc(created_at).unwrap_or_else(|| panic!("{created_at:?} is not RFC 3339 UTC"));
    assert!((before - 1..=after + 1).contains(&t), "created_at {created_at} is not now ({before}..{after})");

    // Nothing else in the conversations directory.
    let files: BTreeSet<String> = std::fs::read_dir(k.conversations_dir())
        .expect("conversations dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, BTreeSet::from(["index.json".to_owned(), format!("{id}.json")]));
}

#[test]
fn add_without_workflow_or_meta_writes_null_and_empty_object() {
    let k = Kiln::new();
    let id = k.add("plain");
    let c = read_json(&k.conversation_path(&id));
    assert_eq!(keys(&c), BTreeSet::from(CONVERSATION_KEYS), "{c}");
    assert_eq!(c["workflow_id"], Value::Null);
    assert_eq!(c["metadata"], json!({}));
}

#[test]
fn add_json_prints_the_stored_conversation() {
    let k = Kiln::new();
    let out = k.run(["--json", "conversations", "add", "hello", "--meta", "k=v"]);
    out.ok();
    let printed = out.json();
    let id = printed["conversation_id"].as_str().expect("conversation_id");
    assert_uuid_v4(id);
    assert_eq!(printed, read_json(&k.conversation_path(id)), "--json add prints what it stored");
    assert_eq!(printed["metadata"], json!({ "k": "v" }));
    assert_eq!(k.queue(), vec![id.to_owned()]);
}

#[test]
fn next_is_fifo_across_processes_and_exits_1_when_empty() {
    let k = Kiln::new();
    let ids: Vec<String> = (0..5).map(|i| k.add(&format!("prompt {i}"))).collect();
    assert_eq!(k.queue(), ids);
    for (i, id) in ids.iter().enumerate() {
        let out = k.run(["conversations", "next"]);
        out.ok();
        assert_eq!(out.stdout, format!("prompt {i}\n\nconversation_id: {id}\n"), "text next: prompt then id");
        assert_eq!(k.queue(), ids[i + 1..].to_vec(), "next removes exactly the first id");
    }
    let out = k.run(["conversations", "next"]);
    out.failed().stderr_has("error: ").stderr_has("the queue is empty");
    let out = k.run(["--json", "conversations", "next"]);
    out.failed();
    let (kind, message) = out.json_error();
    assert_eq!(kind, "empty");
    assert!(message.contains("empty"), "{message}");
    // The taken conversations' files are kept (start can still report them).
    for id in &ids {
        assert!(k.conversation_path(id).is_file(), "next deleted {id}'s file");
    }
}

#[test]
fn next_json_prints_the_whole_conversation() {
    let k = Kiln::new();
    let id = k.add_with("first", &["--workflow-id", "w", "--meta", "a=1"]);
    k.add("second");
    let out = k.run(["--json", "conversations", "next"]);
    out.ok();
    let c = out.json();
    assert_eq!(c, read_json(&k.conversation_path(&id)));
    assert_eq!(c["prompt"], json!("first"));
    assert_eq!(c["workflow_id"], json!("w"));
}

#[test]
fn list_shows_only_queued_in_order() {
    let k = Kiln::new();
    let a = k.add("alpha");
    let b = k.add("bravo\nsecond line");
    let c = k.add(&"c".repeat(100));
    let d = k.add("delta");

    let out = k.run(["conversations", "list"]);
    out.ok();
    let expected_b = format!("{b}  bravo…");
    let expected_c = format!("{c}  {}…", "c".repeat(72));
    assert_eq!(out.stdout, format!("{a}  alpha\n{expected_b}\n{expected_c}\n{d}  delta\n"));

    k.run(["conversations", "start", &b]).ok();
    k.run(["conversations", "next"]).ok(); // takes a
    let out = k.run(["conversations", "list"]);
    out.ok();
    assert_eq!(out.stdout, format!("{expected_c}\n{d}  delta\n"));

    let out = k.run(["--json", "conversations", "list"]);
    out.ok();
    let listed = out.json();
    let listed = listed.as_array().expect("list --json is an array");
    let listed_ids: Vec<&str> = listed.iter().map(|c| c["conversation_id"].as_str().expect("id")).collect();
    assert_eq!(listed_ids, [c.as_str(), d.as_str()]);
    assert_eq!(listed[0], read_json(&k.conversation_path(&c)), "list --json gives whole conversations");
}

#[test]
fn list_of_an_empty_store_says_so() {
    let k = Kiln::new();
    let out = k.run(["conversations", "list"]);
    out.ok();
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("empty"), "{out}");
    let out = k.run(["--json", "conversations", "list"]);
    out.ok();
    assert_eq!(out.json(), json!([]));
}

#[test]
fn start_takes_off_the_queue_and_is_idempotent() {
    let k = Kiln::new();
    let first = k.add("first");
    let id = k.add_with("the one\nwith two lines", &["--workflow-id", "wf-7", "--meta", "who=me"]);
    let last = k.add("last");

    let out = k.run(["conversations", "start", &id]);
    out.ok().stdout_has(&format!("conversation_id: {id}")).stdout_has("workflow_id: wf-7").stdout_has("who");
    out.stdout_has("the one\nwith two lines").stdout_has("taken off the queue");
    assert_eq!(k.queue(), vec![first.clone(), last.clone()], "start removes only that id");

    let out = k.run(["conversations", "start", &id]);
    out.ok().stdout_has(&format!("conversation_id: {id}")).stdout_has("was not queued");
    assert_eq!(k.queue(), vec![first.clone(), last.clone()]);

    let out = k.run(["--json", "conversations", "start", &id]);
    out.ok();
    let v = out.json();
    assert_eq!(v["was_queued"], json!(false));
    assert_eq!(v["conversation"], read_json(&k.conversation_path(&id)));

    let out = k.run(["--json", "conversations", "start", &last]);
    out.ok();
    assert_eq!(out.json()["was_queued"], json!(true));
    assert_eq!(k.queue(), vec![first.clone()]);

    // A conversation `next` took can still be started; it was not queued any more.
    k.run(["conversations", "next"]).ok();
    let out = k.run(["--json", "conversations", "start", &first]);
    out.ok();
    assert_eq!(out.json()["was_queued"], json!(false));
    assert_eq!(k.queue(), Vec::<String>::new());
}

#[test]
fn start_of_an_unknown_id_exits_1() {
    let k = Kiln::new();
    let queued = k.add("stays");
    let before = k.snapshot();
    let unknown = "2f1c0e9a-0b7d-4c3e-9a51-0c7c2a3c9d10";
    k.run(["conversations", "start", unknown]).failed().stderr_has(unknown).stderr_has("no conversation");
    let out = k.run(["--json", "conversations", "start", unknown]);
    out.failed();
    assert_eq!(out.json_error().0, "not-found");
    assert_eq!(k.snapshot(), before, "a failed start changes nothing");
    assert_eq!(k.queue(), vec![queued]);
}

#[test]
fn step_queues_for_a_workflow_and_start_reports_the_workflow() {
    let k = Kiln::new();
    let out =
        k.run(["conversations", "step", "approve the draft", "--workflow-id", "wf-9", "--meta", "step=3"]);
    out.ok();
    let id = out.stdout.trim().strip_prefix("paused ").unwrap_or_else(|| panic!("{out}")).to_owned();
    assert_uuid_v4(&id);
    assert_eq!(k.queue(), vec![id.clone()]);
    let c = read_json(&k.conversation_path(&id));
    assert_eq!(c["workflow_id"], json!("wf-9"));
    assert_eq!(c["metadata"], json!({ "step": "3" }));
    assert_eq!(c["prompt"], json!("approve the draft"));

    let out = k.run(["--json", "conversations", "step", "-", "--workflow-id", "wf-10"]);
    // stdin is closed: an empty prompt, refused before anything is written.
    out.failed();
    assert_eq!(out.json_error().0, "invalid-input");
    assert_eq!(k.queue(), vec![id.clone()]);

    let out = k.run_stdin(["--json", "conversations", "step", "-", "--workflow-id", "wf-10"], b"from stdin");
    out.ok();
    let v = out.json();
    assert_eq!(v["status"], json!("paused"));
    assert_eq!(v["workflow_id"], json!("wf-10"));
    let id2 = v["conversation_id"].as_str().expect("conversation_id").to_owned();
    assert_eq!(k.queue(), vec![id.clone(), id2.clone()]);

    let out = k.run(["--json", "conversations", "start", &id]);
    out.ok();
    let v = out.json();
    assert_eq!(v["conversation"]["workflow_id"], json!("wf-9"), "start reports the workflow to resume");
    assert_eq!(v["was_queued"], json!(true));
    let out = k.run(["conversations", "start", &id2]);
    out.ok().stdout_has("workflow_id: wf-10");
}

#[test]
fn step_needs_a_workflow_id() {
    let k = Kiln::new();
    k.run(["conversations", "step", "p"]).usage_error().stderr_has("--workflow-id");
    k.run(["conversations", "step", "p", "--workflow-id", "  "]).failed().stderr_has("workflow");
    assert!(k.snapshot().is_empty(), "nothing stored");
}

#[test]
fn prompt_dash_reads_stdin_exactly() {
    let k = Kiln::new();
    let prompt = "line one\n  indented \"quoted\" \\ back\ttab\nünïcødé 🚀\n";
    let out = k.run_stdin(["conversations", "add", "-"], prompt.as_bytes());
    out.ok();
    let id = out.stdout.trim();
    assert_eq!(read_json(&k.conversation_path(id))["prompt"], json!(prompt));
    let out = k.run(["--json", "conversations", "next"]);
    out.ok();
    assert_eq!(out.json()["prompt"], json!(prompt));
}

#[test]
fn exit_codes_for_usage_errors() {
    let k = Kiln::new();
    k.run(["conversations", "add", "x", "--bogus"]).usage_error().stderr_has("--bogus");
    k.run(["--bogus", "conversations", "list"]).usage_error().stderr_has("--bogus");
    k.run(["conversations", "frobnicate"]).usage_error().stderr_has("frobnicate");
    k.run(["conversations", "add"]).usage_error().stderr_has("PROMPT");
    k.run(["conversations", "start"]).usage_error();
    k.run(["conversations", "list", "extra"]).usage_error();
    k.run(Vec::<&str>::new()).usage_error();
    // --json does not turn usage errors into exit 1.
    k.run(["--json", "conversations", "add", "x", "--bogus"]).usage_error();
    assert!(k.snapshot().is_empty(), "no usage error writes anything");

    let out = k.run(["--help"]);
    out.ok().stdout_has("conversations");
    let out = k.run(["--version"]);
    out.ok();
    assert!(out.stdout.starts_with("kiln "), "{out}");
}

#[test]
fn global_flags_work_after_the_subcommand() {
    let k = Kiln::new();
    let id = k.add("p");
    let mut cmd = kiln_command();
    cmd.current_dir(k.root()).args(["conversations", "list", "--json", "--dir"]).arg(k.store());
    let out = run_command(cmd, None);
    out.ok();
    assert_eq!(out.json()[0]["conversation_id"], json!(id));
}

#[test]
fn dir_flag_and_kiln_dir_env_choose_the_store() {
    let k = Kiln::new();
    let root = k.root();

    // Default: .artificer in the working directory.
    let mut cmd = kiln_command();
    cmd.current_dir(root).args(["conversations", "add", "default"]);
    let out = run_command(cmd, None);
    out.ok();
    let id = out.stdout.trim();
    let default_index = root.join(".artificer/conversations/index.json");
    assert_eq!(read_json(&default_index), json!({ "queue": [id] }));
    assert!(root.join(format!(".artificer/conversations/{id}.json")).is_file());

    // KILN_DIR.
    let env_dir = root.join("from-env");
    let mut cmd = kiln_command();
    cmd.current_dir(root).env("KILN_DIR", &env_dir).args(["conversations", "add", "env"]);
    let out = run_command(cmd, None);
    out.ok();
    let env_id = out.stdout.trim().to_owned();
    assert_eq!(read_json(&env_dir.join("conversations/index.json")), json!({ "queue": [env_id] }));
    assert_eq!(read_json(&default_index), json!({ "queue": [id] }), "KILN_DIR leaves .artificer alone");

    // --dir wins over KILN_DIR; relative paths are relative to the working directory.
    let mut cmd = kiln_command();
    cmd.current_dir(root).env("KILN_DIR", &env_dir).args([
        "--dir",
        "rel/store",
        "conversations",
        "add",
        "flag",
    ]);
    let out = run_command(cmd, None);
    out.ok();
    let flag_id = out.stdout.trim().to_owned();
    assert_eq!(read_json(&root.join("rel/store/conversations/index.json")), json!({ "queue": [flag_id] }));
    assert_eq!(read_json(&env_dir.join("conversations/index.json")), json!({ "queue": [env_id] }));

    // And reading follows the same choice.
    let mut cmd = kiln_command();
    cmd.current_dir(root).env("KILN_DIR", &env_dir).args(["--json", "conversations", "next"]);
    let out = run_command(cmd, None);
    out.ok();
    assert_eq!(out.json()["prompt"], json!("env"));
}

#[test]
fn extra_index_fields_from_other_tools_are_kept() {
    let k = Kiln::new();
    std::fs::create_dir_all(k.conversations_dir()).expect("mkdir");
    std::fs::write(k.index_path(), r#"{"queue": [], "owner": "python", "n": [1, 2]}"#).expect("write index");
    let id = k.add("p");
    let index = read_json(&k.index_path());
    assert_eq!(index, json!({ "queue": [id], "owner": "python", "n": [1, 2] }));
    k.run(["conversations", "next"]).ok();
    let mut index = read_json(&k.index_path());
    // `next` leases the conversation until `start` confirms it (docs/stores.md).
    let leased = index.as_object_mut().and_then(|o| o.remove("leased")).unwrap_or_default();
    assert!(leased[&id].is_u64(), "{leased}");
    assert_eq!(index, json!({ "queue": [], "owner": "python", "n": [1, 2] }));
    k.run(["conversations", "start", &id]).ok();
    assert_eq!(read_json(&k.index_path()), json!({ "queue": [], "owner": "python", "n": [1, 2] }));
}

#[test]
fn files_written_by_another_tool_are_read() {
    // A store written by the Python module (compact JSON, +00:00 offsets, numeric metadata).
    let k = Kiln::new();
    let id = "5b0f8f0e-4a8e-4c55-9d2b-3c1e2f4a5b6c";
    std::fs::create_dir_all(k.conversations_dir()).expect("mkdir");
    std::fs::write(k.index_path(), format!(r#"{{"queue": ["{id}"]}}"#)).expect("write index");
    let file = format!(
        r#"{{"conversation_id": "{id}", "prompt": "from python", "created_at": "2025-01-02T03:04:05.123456+00:00", "workflow_id": null, "metadata": {{"n": 3}}}}"#
    );
    std::fs::write(k.conversation_path(id), &file).expect("write conversation");
    let out = k.run(["conversations", "list"]);
    out.ok();
    assert_eq!(out.stdout, format!("{id}  from python\n"));
    let out = k.run(["--json", "conversations", "next"]);
    out.ok();
    let c = out.json();
    assert_eq!(c["prompt"], json!("from python"));
    assert_eq!(c["created_at"], json!("2025-01-02T03:04:05.123456+00:00"));
    assert_eq!(std::fs::read_to_string(k.conversation_path(id)).expect("read"), file, "never rewritten");
}

#[test]
fn an_empty_store_path_is_a_usage_error() {
    let k = Kiln::new();
    let mut cmd = kiln_command();
    cmd.current_dir(k.root()).args(["--dir", "", "conversations", "add", "x"]);
    run_command(cmd, None).usage_error().stderr_has("--dir");
    let mut cmd = kiln_command();
    cmd.current_dir(k.root()).env("KILN_DIR", "").args(["conversations", "add", "x"]);
    run_command(cmd, None).usage_error().stderr_has("--dir");
    let left: Vec<_> = std::fs::read_dir(k.root()).expect("read the working directory").collect();
    assert!(left.is_empty(), "an empty store path wrote into the working directory: {left:?}");
}
