//! Bad input never panics kiln nor corrupts the store: corrupt files are reported with their
//! path and left byte for byte as they were, bad prompts and arguments get clear errors and
//! write nothing.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;

use kiln_tests::{Kiln, Outcome, read_json};
use serde_json::json;

/// Runs `args` twice (text, then `--json`), checking both fail with exit 1 and name `path`
/// and `problem`; the JSON error must be of `kind`.
#[track_caller]
fn fails_naming(k: &Kiln, args: &[&str], path: &std::path::Path, problem: &str, kind: &str) {
    let path = path.display().to_string();
    let out = k.run(args);
    out.failed().stderr_has("error: ").stderr_has(&path).stderr_has(problem);
    let mut json_args = vec!["--json"];
    json_args.extend_from_slice(args);
    let out = k.run(&json_args);
    out.failed();
    let (got_kind, message) = out.json_error();
    assert_eq!(got_kind, kind, "{out}");
    assert!(message.contains(&path) && message.contains(problem), "{message}");
}

/// A store with two queued conversations; returns their ids.
fn store_with_two(k: &Kiln) -> (String, String) {
    (k.add("first"), k.add("second"))
}

#[test]
fn corrupt_index_is_named_and_never_overwritten() {
    let shape = "not a {\"queue\": [ids...]} JSON object";
    let cases: [(&[u8], &str); 9] = [
        (b"{not json", shape),
        (b"", shape),
        (b"[1, 2]", shape),
        (br#"{"queue": "abc"}"#, shape),
        (br#"{"queue": [1, 2]}"#, shape),
        (br#"{"items": []}"#, shape),
        (br#"{"queue": ["{ID}", "{ID}"]}"#, "queued twice"),
        (br#"{"queue": ["../../etc/passwd"]}"#, "contains '.'"),
        (b"{\"queue\": [\"\xff\xfe\"]}", shape),
    ];
    for (bad, problem) in cases {
        let k = Kiln::new();
        let (first, _) = store_with_two(&k);
        let bad = match std::str::from_utf8(bad) {
            Ok(text) => text.replace("{ID}", &first).into_bytes(),
            Err(_) => bad.to_vec(),
        };
        std::fs::write(k.index_path(), &bad).expect("write the corrupt index");
        let before = k.snapshot();
        let index = k.index_path();

        fails_naming(&k, &["conversations", "add", "new"], &index, problem, "corrupt");
        fails_naming(&k, &["conversations", "list"], &index, problem, "corrupt");
        fails_naming(&k, &["conversations", "next"], &index, problem, "corrupt");
        fails_naming(&k, &["conversations", "start", &first], &index, problem, "corrupt");
        fails_naming(&k, &["conversations", "step", "s", "--workflow-id", "w"], &index, problem, "corrupt");
        for args in [&["conversations", "add", "new"][..], &["conversations", "next"]] {
            k.run(args).failed().stderr_has("corrupt").stderr_has("untouched");
        }

        assert_eq!(
            std::fs::read(k.index_path()).expect("index"),
            bad,
            "index rewritten: {:?}",
            String::from_utf8_lossy(&bad)
        );
        assert_eq!(k.snapshot(), before, "{:?}: a command wrote to the store", String::from_utf8_lossy(&bad));
    }
}

#[test]
fn index_naming_a_missing_file_is_reported_not_dropped() {
    let k = Kiln::new();
    let (first, second) = store_with_two(&k);
    std::fs::remove_file(k.conversation_path(&first)).expect("remove a queued file");
    let before = k.snapshot();
    let index = k.index_path();
    fails_naming(&k, &["conversations", "next"], &index, "does not exist", "corrupt");
    fails_naming(&k, &["conversations", "list"], &index, "does not exist", "corrupt");
    assert_eq!(k.snapshot(), before, "next must not drop the dangling id silently");
    assert_eq!(k.queue(), vec![first.clone(), second.clone()]);
    // The other conversation can still be started by id.
    k.run(["conversations", "start", &second]).ok();
    assert_eq!(k.queue(), vec![first]);
}

#[test]
fn corrupt_conversation_file_is_named_and_never_overwritten() {
    let other = "9d1e5c3a-1111-4222-8333-444455556666";
    let not_a_conversation = "not a conversation JSON object";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"garbage".to_vec(), not_a_conversation),
        (Vec::new(), not_a_conversation),
        (br#"{"conversation_id": 3}"#.to_vec(), not_a_conversation),
        (br#"["a", "b"]"#.to_vec(), not_a_conversation),
        (
            b"{\"conversation_id\": \"x\", \"prompt\": \"\xff\xfe\", \"created_at\": \"t\"}".to_vec(),
            not_a_conversation,
        ),
        (
            format!(
                r#"{{"conversation_id": "{other}", "prompt": "p", "created_at": "2025-01-01T00:00:00Z"}}"#
            )
            .into_bytes(),
            other,
        ),
    ];
    for (bad, problem) in cases {
        let k = Kiln::new();
        let (first, second) = store_with_two(&k);
        let file = k.conversation_path(&first);
        std::fs::write(&file, &bad).expect("write the corrupt conversation");
        let (path, fix) = (file.display().to_string(), format!("kiln conversations start {first}"));
        let names_it = |out: &Outcome| {
            out.ok().stderr_has(&format!("warning: skipped {first}")).stderr_has(&path).stderr_has(problem);
            out.stderr_has(&fix);
        };

        // Issue #19: `list` lists the healthy one, names the corrupt one, and succeeds.
        let out = k.run(["conversations", "list"]);
        names_it(&out);
        out.stdout_has(&second);
        assert!(!out.stdout.contains(&first), "{out}");
        let out = k.run(["--json", "conversations", "list"]);
        names_it(&out);
        assert_eq!(out.json(), json!([read_json(&k.conversation_path(&second))]));

        // `start` of the corrupt one names it and changes nothing.
        let index_before = std::fs::read(k.index_path()).expect("index");
        fails_naming(&k, &["conversations", "start", &first], &file, problem, "corrupt");
        assert_eq!(std::fs::read(k.index_path()).expect("index"), index_before, "start changed the index");

        // `next` sets the corrupt head aside (out of `queue`, into `corrupt`) and hands out
        // the next one; the set-aside one is still named by `list`.
        let out = k.run(["--json", "conversations", "next"]);
        names_it(&out);
        assert_eq!(out.json()["conversation_id"], second.as_str());
        let index = read_json(&k.index_path());
        assert_eq!(index["queue"], json!([]), "{index}");
        assert!(index["corrupt"][&first].as_str().is_some_and(|d| d.contains(problem)), "{index}");
        names_it(&k.run(["conversations", "list"]));
        k.run(["conversations", "next"]).failed().stderr_has("the queue is empty");

        // `add` never reads queued conversation files: it works, and touches only the index.
        let added = k.add("after the corrupt one");
        assert_eq!(k.queue(), vec![added]);
        assert_eq!(std::fs::read(&file).expect("corrupt file"), bad, "the corrupt file was rewritten");
    }
}

/// Issue #19: `next` set a corrupt conversation aside; once its file is repaired, `start`
/// delivers it and `list` stops naming it. A file moved away instead: `start` answers
/// not-found and forgets it.
#[test]
fn a_set_aside_conversation_is_started_once_repaired_or_forgotten_once_gone() {
    let k = Kiln::new();
    let (first, second) = store_with_two(&k);
    let (file, gone) = (k.conversation_path(&first), k.conversation_path(&second));
    let good_first = std::fs::read(&file).expect("read");
    std::fs::write(&file, b"garbage").expect("corrupt");
    std::fs::write(&gone, b"garbage").expect("corrupt");
    k.run(["conversations", "next"])
        .failed()
        .stderr_has("the queue is empty")
        .stderr_has(&first)
        .stderr_has(&second);
    assert_eq!(k.queue(), Vec::<String>::new());

    std::fs::write(&file, &good_first).expect("repair");
    let out = k.run(["--json", "conversations", "start", &first]);
    assert_eq!(out.ok().json()["was_queued"], json!(true), "{out}");
    std::fs::remove_file(&gone).expect("move aside");
    k.run(["conversations", "start", &second]).failed().stderr_has("no conversation");
    let out = k.run(["conversations", "list"]);
    out.ok().stderr_has("the queue is empty");
    assert!(!out.stderr.contains("warning"), "{out}");
    assert_eq!(read_json(&k.index_path())["corrupt"], json!({}));
}

#[test]
fn empty_and_blank_prompts_are_refused_and_write_nothing() {
    let k = Kiln::new();
    for prompt in ["", "   ", " \n\t \r\n"] {
        let out = k.run(["conversations", "add", prompt]);
        out.failed().stderr_has("prompt is empty");
        let out = k.run(["--json", "conversations", "add", prompt]);
        out.failed();
        assert_eq!(out.json_error().0, "invalid-input");
        k.run_stdin(["conversations", "add", "-"], prompt.as_bytes()).failed().stderr_has("prompt is empty");
        k.run(["conversations", "step", prompt, "--workflow-id", "w"]).failed().stderr_has("prompt is empty");
    }
    assert!(k.snapshot().is_empty(), "a refused prompt wrote {:?}", k.snapshot().keys());
    // Also into an existing store: nothing changes.
    let id = k.add("real");
    let before = k.snapshot();
    k.run(["conversations", "add", "  "]).failed();
    assert_eq!(k.snapshot(), before);
    assert_eq!(k.queue(), vec![id]);
}

/// A 1 MiB prompt of varied text: multi-byte characters, quotes, backslashes, newlines.
fn big_prompt(bytes: usize) -> String {
    let pieces =
        ["plain words ", "\"quoted\" ", "back\\slash ", "tab\t", "ünïcødé ", "🚀 ", "\n", "{json: [1]} "];
    let mut s = String::from("Big prompt header\n");
    let mut i = 0usize;
    while s.len() < bytes {
        s.push_str(pieces[i % pieces.len()]);
        s.push_str(&i.to_string());
        i += 1;
    }
    s
}

#[test]
fn one_megabyte_prompt_round_trips_through_stdin() {
    let k = Kiln::new();
    let prompt = big_prompt(1024 * 1024);
    let out = k.run_stdin(["conversations", "add", "-"], prompt.as_bytes());
    out.ok();
    let id = out.stdout.trim().to_owned();
    let stored = read_json(&k.conversation_path(&id));
    assert!(stored["prompt"] == json!(prompt), "the stored prompt differs from the 1 MiB input");

    let out = k.run(["conversations", "list"]);
    out.ok();
    assert_eq!(out.stdout, format!("{id}  Big prompt header…\n"));

    let out = k.run(["--json", "conversations", "next"]);
    out.ok();
    let c = out.json();
    assert!(c["prompt"] == json!(prompt), "next --json returned a different prompt");
    assert_eq!(c["conversation_id"], json!(id));
}

#[test]
fn oversized_prompt_is_refused_and_writes_nothing() {
    let k = Kiln::new();
    let prompt = "x".repeat(4 * 1024 * 1024 + 1);
    let out = k.run_stdin(["--json", "conversations", "add", "-"], prompt.as_bytes());
    out.failed();
    let (kind, message) = out.json_error();
    assert_eq!(kind, "invalid-input");
    assert!(message.contains("limit"), "{message}");
    assert!(k.snapshot().is_empty());
}

#[test]
fn oversized_fields_are_refused() {
    let k = Kiln::new();
    let long = "w".repeat(5000);
    k.run(["conversations", "add", "p", "--workflow-id", &long]).failed().stderr_has("workflow id");
    k.run(["conversations", "add", "p", "--meta", &format!("k={long}")]).failed().stderr_has("metadata");
    k.run(["conversations", "add", "p", "--workflow-id", " "]).failed().stderr_has("workflow id is blank");
    assert!(k.snapshot().is_empty());
}

#[test]
fn non_utf8_arguments_are_usage_errors() {
    let k = Kiln::new();
    let bad = OsStr::from_bytes(b"caf\xe9 \xff");
    let id = k.add("existing");
    let before = k.snapshot();
    let cases: Vec<Vec<&OsStr>> = vec![
        vec!["conversations".as_ref(), "add".as_ref(), bad],
        vec!["conversations".as_ref(), "add".as_ref(), "p".as_ref(), "--workflow-id".as_ref(), bad],
        vec!["conversations".as_ref(), "add".as_ref(), "p".as_ref(), "--meta".as_ref(), bad],
        vec!["conversations".as_ref(), "start".as_ref(), bad],
        vec![
            "--json".as_ref(),
            "conversations".as_ref(),
            "step".as_ref(),
            bad,
            "--workflow-id".as_ref(),
            "w".as_ref(),
        ],
    ];
    for args in cases {
        let out: Outcome = k.run(&args);
        out.usage_error().stderr_has("invalid UTF-8");
    }
    assert_eq!(k.snapshot(), before);
    assert_eq!(k.queue(), vec![id]);
}

#[test]
fn non_utf8_stdin_prompt_is_refused() {
    let k = Kiln::new();
    k.run_stdin(["conversations", "add", "-"], b"ok so far \xff\xfe then bad")
        .failed()
        .stderr_has("not UTF-8");
    let out = k.run_stdin(["--json", "conversations", "add", "-"], b"\xc3");
    out.failed();
    assert_eq!(out.json_error().0, "invalid-input");
    assert!(k.snapshot().is_empty());
}

#[test]
fn bad_flags_and_meta_are_usage_errors() {
    let k = Kiln::new();
    k.run(["conversations", "add", "p", "--unknown"]).usage_error().stderr_has("--unknown");
    k.run(["conversations", "add", "p", "--meta", "novalue"]).usage_error().stderr_has("KEY=VALUE");
    k.run(["conversations", "add", "p", "--meta", "=v"]).usage_error().stderr_has("KEY=VALUE");
    k.run(["conversations", "add", "p", "--meta"]).usage_error();
    k.run(["conversations", "add", "p", "--workflow-id"]).usage_error();
    k.run(["conversations", "next", "--unknown"]).usage_error();
    assert!(k.snapshot().is_empty());
}

#[test]
fn start_refuses_ids_that_are_not_ids() {
    let k = Kiln::new();
    k.add("p");
    let before = k.snapshot();
    for bad in ["../index", "..", "a/b", "", " ", "x.json", &"a".repeat(200)] {
        let out = k.run(["--json", "conversations", "start", bad]);
        out.failed();
        let (kind, message) = out.json_error();
        assert_eq!(kind, "invalid-input", "{bad:?}: {message}");
        assert!(message.contains("id"), "{message}");
    }
    assert_eq!(k.snapshot(), before);
}

#[test]
fn a_store_path_that_is_a_file_is_an_error() {
    let k = Kiln::new();
    let file = k.root().join("not-a-dir");
    std::fs::write(&file, "hello").expect("write");
    let mut cmd = kiln_tests::kiln_command();
    cmd.current_dir(k.root()).arg("--dir").arg(&file).args(["conversations", "list"]);
    let out = kiln_tests::run_command(cmd, None);
    out.failed().stderr_has(&file.display().to_string());
    assert_eq!(std::fs::read(&file).expect("read"), b"hello");
}

/// Issue #19: `sessions delete` refused to delete a corrupt session ("corrupt: fix it or
/// move it aside"), so Kiln could not remove it at all. It deletes it now; `show` still
/// names the file while it exists.
#[test]
fn a_corrupt_session_can_be_deleted() {
    let k = Kiln::new();
    let id = "4f1c2a9e-7d3b-4c5a-9e8f-0123456789ab";
    let path = k.store().join("sessions").join(format!("{id}.json"));
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    std::fs::write(&path, b"{half a record").expect("write a corrupt session");
    k.run(["sessions", "show", id]).failed().stderr_has(&path.display().to_string());
    k.run(["sessions", "delete", id]).ok();
    assert!(!path.exists(), "the corrupt session is gone");
    k.run(["sessions", "show", id]).failed().stderr_has("no session");
}
