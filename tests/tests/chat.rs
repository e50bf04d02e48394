//! `kiln chat`, `kiln sessions`, `kiln agent export` and `kiln diagram` end to end: the
//! built binary, one process per run, conversations fed on stdin as a script would.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;

use kiln_tests::{
    BUILDER_FULL_RUN, BUILDER_REQUEST, Kiln, Outcome, assert_uuid_v4, read_json, run_command,
    wait_with_timeout,
};
use serde_json::Value;

const REQUEST: &str = BUILDER_REQUEST;

/// The whole conversation, from the request to an active agent (7 turns).
const FULL_RUN: &[&str] = BUILDER_FULL_RUN;

/// The phase each of [`FULL_RUN`]'s responses ends in.
const FULL_RUN_PHASES: &[&str] =
    &["OAUTH_FLOW", "OAUTH_FLOW", "REQUIREMENTS", "REQUIREMENTS", "TESTING", "ACTIVATION", "COMPLETE"];

/// Every field a `--json` chunk carries.
const CHUNK_KEYS: &[&str] =
    &["session_id", "phase", "text", "actions", "oauth_url", "requirements", "draft", "done"];

const PHASES: &[&str] =
    &["IDLE", "DISCOVERY", "OAUTH_FLOW", "REQUIREMENTS", "GENERATION", "TESTING", "ACTIVATION", "COMPLETE"];

fn script(lines: &[&str]) -> Vec<u8> {
    lines.iter().map(|l| format!("{l}\n")).collect::<String>().into_bytes()
}

/// `kiln --dir <store> <args>` without settings leaking in from the environment.
fn command(k: &Kiln, args: &[&str]) -> Command {
    let mut cmd = k.command(args);
    cmd.env_remove("LOVABLE_CONVERSATION_STATE")
        .env_remove("KILN_USER")
        .env_remove("KILN_IDLE_TIMEOUT_MINUTES");
    cmd
}

fn chat(k: &Kiln, extra: &[&str], lines: &[&str]) -> Outcome {
    let mut args = vec!["chat", "--json"];
    args.extend_from_slice(extra);
    run_command(command(k, &args), Some(&script(lines)))
}

/// The JSON lines a `kiln chat --json` run printed, each checked to be a chunk or an error.
#[track_caller]
fn lines(out: &Outcome) -> Vec<Value> {
    out.stdout
        .lines()
        .map(|l| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}\n{out}"));
            let obj = v.as_object().unwrap_or_else(|| panic!("not an object: {l}"));
            if !obj.contains_key("error") {
                for key in CHUNK_KEYS {
                    assert!(obj.contains_key(*key), "a chunk without {key}: {l}");
                }
                assert!(PHASES.contains(&v["phase"].as_str().expect("phase")), "{l}");
            }
            v
        })
        .collect()
}

/// The chunks split into responses: each ends with its one `done` chunk.
#[track_caller]
fn responses(chunks: &[Value]) -> Vec<Vec<Value>> {
    let mut out = vec![Vec::new()];
    for c in chunks {
        assert!(c.get("error").is_none(), "an error line: {c}");
        out.last_mut().expect("a response").push(c.clone());
        if c["done"] == Value::Bool(true) {
            out.push(Vec::new());
        }
    }
    let rest = out.pop().expect("at least one");
    assert!(rest.is_empty(), "chunks after the last done chunk: {rest:?}");
    for r in &out {
        assert_eq!(r.iter().filter(|c| c["done"] == Value::Bool(true)).count(), 1, "{r:?}");
    }
    out
}

fn final_phases(responses: &[Vec<Value>]) -> Vec<String> {
    responses.iter().map(|r| r.last().expect("chunks")["phase"].as_str().expect("phase").to_owned()).collect()
}

fn all_text(response: &[Value]) -> String {
    response.iter().map(|c| c["text"].as_str().expect("text")).collect::<Vec<_>>().join("\n")
}

fn session_id(chunks: &[Value]) -> String {
    let id = chunks[0]["session_id"].as_str().expect("session_id").to_owned();
    assert_uuid_v4(&id);
    assert!(chunks.iter().all(|c| c["session_id"] == id.as_str()), "one session throughout");
    id
}

/// `kiln --json sessions show <id>`.
fn show(k: &Kiln, id: &str) -> Value {
    let out = run_command(command(k, &["--json", "sessions", "show", id]), None);
    out.ok();
    out.json()
}

fn requirement<'a>(session: &'a Value, field: &str) -> Option<&'a Value> {
    session["requirements"].as_array().expect("requirements").iter().find(|r| r["field"] == field)
}

/// A conversation run up to the given number of [`FULL_RUN`] turns; returns its id.
fn conversation(k: &Kiln, turns: usize) -> String {
    let out = chat(k, &[], &FULL_RUN[..turns]);
    out.ok();
    assert!(out.stderr.is_empty(), "{out}");
    let chunks = lines(&out);
    let r = responses(&chunks);
    assert_eq!(final_phases(&r), FULL_RUN_PHASES[..turns]);
    session_id(&chunks)
}

/// A build driven by natural replies through `kiln chat` (issue #16's acceptance): a city
/// for the time zone, a bare channel name, a correction, confirmations with extra words, and
/// an unhelpful reply answered with choices by the third time.
#[test]
fn natural_replies_reach_complete() {
    let k = Kiln::new_in_memory();
    let turns = [
        "hey can u make something that summarises my unread gmail and posts it to slack every weekday at 8",
        "/approve",
        "/approve",
        "hmm",
        "what?",
        "idk",
        "we're in Lisbon",
        "deals",
        "yes go ahead and build it",
        "actually 8:30",
        "sure, looks good to me",
        "ok ship it",
        "yep, switch it on",
    ];
    let out = chat(&k, &[], &turns);
    out.ok();
    let chunks = lines(&out);
    let r = responses(&chunks);
    assert_eq!(r.len(), turns.len(), "one response per turn\n{out}");
    assert_eq!(final_phases(&r).last().map(String::as_str), Some("COMPLETE"), "{out}");
    let kinds = |i: usize| -> Vec<String> {
        r[i].last().expect("chunk")["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .map(|a| a["kind"].as_str().expect("kind").to_owned())
            .collect()
    };
    assert!(all_text(&r[5]).contains("I still need the time zone"), "{}", all_text(&r[5]));
    assert!(kinds(5).iter().all(|k| k == "choose") && kinds(5).len() >= 4, "{:?}", kinds(5));
    let session = show(&k, &session_id(&chunks));
    for (field, value) in [("timezone", "Europe/Lisbon"), ("channel", "#deals"), ("time", "08:30")] {
        assert_eq!(requirement(&session, field).expect(field)["value"], value);
    }
}

#[test]
fn a_json_conversation_reaches_complete() {
    let k = Kiln::new_in_memory();
    let out = chat(&k, &[], FULL_RUN);
    out.ok();
    assert!(out.stderr.is_empty(), "nothing on stderr\n{out}");
    let chunks = lines(&out);
    let id = session_id(&chunks);
    let r = responses(&chunks);
    assert_eq!(r.len(), FULL_RUN.len(), "one response per turn\n{out}");
    assert_eq!(final_phases(&r), FULL_RUN_PHASES);

    for (i, response) in r.iter().enumerate() {
        let done = response.last().expect("chunks");
        let waiting = done["phase"] == "OAUTH_FLOW";
        // The connect URL comes with the final chunk while waiting, and only then.
        let url = done["oauth_url"].as_str();
        assert_eq!(url.is_some(), waiting, "turn {}: oauth_url {url:?}", i + 1);
        if let Some(url) = url {
            assert!(url.contains(&format!("session_id={id}")) && url.contains("state="), "{url}");
            let kinds: Vec<&str> = done["actions"]
                .as_array()
                .expect("actions")
                .iter()
                .map(|a| a["kind"].as_str().expect("kind"))
                .collect();
            assert!(kinds.contains(&"connect"), "turn {}: {kinds:?}", i + 1);
        }
        assert!(
            response[..response.len() - 1].iter().all(|c| c["oauth_url"].is_null() && c["done"] == false)
        );
    }
    let provider = |i: usize| r[i].last().expect("chunk")["oauth_url"].as_str().expect("url").to_owned();
    assert!(provider(0).contains("provider=gmail") && provider(1).contains("provider=slack"));
    assert_ne!(provider(0), provider(1));

    assert!(all_text(&r[2]).contains("Which time zone"));
    assert!(all_text(&r[3]).contains("Shall I build it?"));
    let draft = r[4].iter().find(|c| !c["draft"].is_null()).expect("the draft comes with the dry run");
    assert_eq!(draft["draft"]["spec"]["schema_version"], "kiln.agent/v1");
    assert_eq!(draft["draft"]["revision"], 1);
    assert!(all_text(&r[4]).contains("Dry run"));
    assert!(all_text(&r[5]).contains("Activate it?"));
    assert!(all_text(&r[6]).contains("is active"));

    let session = show(&k, &id);
    assert_eq!(session["phase"], "COMPLETE");
    assert_eq!(session["turn"], 7);
    assert_eq!(session["connected"], serde_json::json!(["gmail", "slack"]));
    assert!(k.store().join("sessions").join(format!("{id}.json")).is_file());
}

#[test]
fn a_second_process_resumes_where_the_first_left_off() {
    let k = Kiln::new_in_memory();
    let id = conversation(&k, 2);
    let before = show(&k, &id);
    assert_eq!(before["pending_oauth"]["provider"], "slack");

    let out = chat(&k, &["--session", &id], &FULL_RUN[2..]);
    out.ok();
    let chunks = lines(&out);
    assert_eq!(session_id(&chunks), id, "the same session");
    let r = responses(&chunks);
    assert_eq!(final_phases(&r), FULL_RUN_PHASES[2..]);
    let first = all_text(&r[0]);
    assert!(first.contains("Slack is connected"), "the pending connection completes: {first}");
    assert!(!first.contains("Gmail is connected") && !first.contains("Got it"), "nothing repeated: {first}");

    let after = show(&k, &id);
    assert_eq!(after["turn"], 7);
    assert_eq!(after["phase"], "COMPLETE");
    assert_eq!(requirement(&after, "time").expect("time")["turn"], 1, "turn 1's answer was kept");
    assert_eq!(requirement(&after, "timezone").expect("tz")["turn"], 4);
}

/// Two processes send a turn to one session at the same moment: both turns are applied,
/// one after the other, and neither process reports a conflict.
#[test]
fn two_processes_turning_one_session_at_once_both_apply() {
    for round in 0..5 {
        let k = Kiln::new_in_memory();
        let id = conversation(&k, 3);
        let before = show(&k, &id);
        assert_eq!(before["phase"], "REQUIREMENTS");
        let turn = before["turn"].as_u64().expect("turn");

        let messages = ["London time", "post it to #ops"];
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = messages
            .iter()
            .map(|m| {
                let mut cmd = command(&k, &["chat", "--json", "--session", &id]);
                cmd.stdin(Stdio::piped());
                let mut child = cmd.spawn().expect("spawn kiln");
                let mut stdin = child.stdin.take().expect("stdin");
                let stdout = child.stdout.take().expect("stdout");
                let stderr = child.stderr.take().expect("stderr");
                let barrier = Arc::clone(&barrier);
                let line = format!("{m}\n");
                thread::spawn(move || {
                    // Both inputs are written at once; the processes, spawned back to back, read
                    // them as soon as they are loaded (a few ms, the component being compiled
                    // ahead of time), so their turns overlap.
                    barrier.wait();
                    stdin.write_all(line.as_bytes()).expect("write the turn");
                    drop(stdin);
                    let status =
                        wait_with_timeout(&mut child, kiln_tests::RUN_TIMEOUT).expect("kiln finished");
                    let read = |mut r: Box<dyn std::io::Read>| {
                        let mut s = String::new();
                        r.read_to_string(&mut s).expect("read");
                        s
                    };
                    (status, read(Box::new(stdout)), read(Box::new(stderr)))
                })
            })
            .collect();
        for h in handles {
            let (status, stdout, stderr) = h.join().expect("a kiln process");
            assert!(status.success(), "round {round}: {status}\n{stdout}\n{stderr}");
            assert!(stderr.is_empty(), "round {round}: an error was printed: {stderr}");
            assert!(!stdout.contains("\"error\""), "round {round}: {stdout}");
            assert_eq!(stdout.lines().filter(|l| l.contains("\"done\":true")).count(), 1, "{stdout}");
        }
        let after = show(&k, &id);
        assert_eq!(after["turn"].as_u64(), Some(turn + 2), "round {round}: both turns counted: {after}");
        let tz = requirement(&after, "timezone").expect("the first turn's answer");
        let channel = requirement(&after, "channel").expect("the second turn's answer");
        assert_eq!(tz["value"], "Europe/London", "round {round}");
        assert_eq!(channel["value"], "#ops", "round {round}");
        let turns = [tz["turn"].as_u64().expect("turn"), channel["turn"].as_u64().expect("turn")];
        assert!(turns.contains(&(turn + 1)) && turns.contains(&(turn + 2)), "one after the other: {turns:?}");
        assert_eq!(requirement(&after, "integrations").expect("kept")["value"], "Gmail, Slack");
    }
}

#[test]
fn agent_export_writes_a_valid_spec() {
    let k = Kiln::new_in_memory();
    // No draft yet: a clear error.
    let early = conversation(&k, 1);
    let out = run_command(command(&k, &["--json", "agent", "export", &early]), None);
    out.expect_code(1);
    assert_eq!(out.json_error().0, "no-draft");

    let id = conversation(&k, FULL_RUN.len());
    let file = k.root().join("agent.json");
    let out =
        run_command(command(&k, &["agent", "export", &id, "-o", file.to_str().expect("UTF-8 path")]), None);
    out.ok();
    let spec = read_json(&file);
    assert_eq!(spec["schema_version"], "kiln.agent/v1");
    assert_eq!(spec["trigger"]["kind"], "schedule");
    assert_eq!(spec["trigger"]["cron"], "0 9 * * 1-5");
    assert_eq!(spec["trigger"]["timezone"], "Europe/London");
    let providers: Vec<&str> = spec["integrations"]
        .as_array()
        .expect("integrations")
        .iter()
        .map(|i| i["provider"].as_str().expect("id"))
        .collect();
    assert_eq!(providers, ["gmail", "slack"]);
    let steps = spec["steps"].as_array().expect("steps");
    assert!(!steps.is_empty() && steps.len() <= 20);
    assert!(steps.iter().any(|s| s["inputs"]["channel"] == "#team"), "{spec}");
    assert!(!spec["name"].as_str().expect("name").is_empty());

    // Without -o: the same spec on stdout.
    let out = run_command(command(&k, &["agent", "export", &id]), None);
    out.ok();
    assert_eq!(out.json(), spec);
    // An unknown session.
    let out = run_command(command(&k, &["agent", "export", "2f1c0e9a-0b7d-4c3e-9a51-0c7c2a3c9d10"]), None);
    out.expect_code(1).stderr_has("no session with id");
}

#[test]
fn sessions_list_shows_the_session() {
    let k = Kiln::new_in_memory();
    let a = conversation(&k, 1);
    let b = conversation(&k, FULL_RUN.len());
    let out = run_command(command(&k, &["sessions", "list", "--json"]), None);
    out.ok();
    let list = out.json();
    let list = list.as_array().expect("a JSON array");
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["session_id"], b.as_str(), "most recent first");
    assert_eq!(list[0]["phase"], "COMPLETE");
    assert_eq!(list[1]["session_id"], a.as_str());
    assert_eq!(list[1]["phase"], "OAUTH_FLOW");
    assert_eq!(list[1]["goal"], REQUEST);
    // Another user sees none of them.
    let out = run_command(command(&k, &["--user", "someone-else", "sessions", "list", "--json"]), None);
    out.ok();
    assert_eq!(out.json(), serde_json::json!([]));
    // Text mode: one line per session.
    let out = run_command(command(&k, &["sessions", "list"]), None);
    out.ok().stdout_has(&a).stdout_has(&b).stdout_has("COMPLETE");
}

#[test]
fn diagram_prints_the_state_machine_as_mermaid() {
    let k = Kiln::new_in_memory();
    let out = run_command(command(&k, &["diagram"]), None);
    out.ok();
    assert!(out.stdout.starts_with("stateDiagram-v2"), "{out}");
    for phase in PHASES {
        assert!(out.stdout.contains(phase), "the diagram lacks {phase}\n{out}");
    }
    for edge in [
        "[*] --> IDLE",
        "IDLE --> DISCOVERY",
        "DISCOVERY --> OAUTH_FLOW",
        "OAUTH_FLOW --> REQUIREMENTS",
        "REQUIREMENTS --> GENERATION",
        "GENERATION --> TESTING",
        "TESTING --> ACTIVATION",
        "ACTIVATION --> COMPLETE",
        "TESTING --> REQUIREMENTS",
    ] {
        assert!(out.stdout.contains(edge), "the diagram lacks {edge}\n{out}");
    }
}

#[test]
fn text_mode_shows_the_phase_and_the_actions() {
    let k = Kiln::new_in_memory();
    let out = run_command(command(&k, &["chat"]), Some(&script(&FULL_RUN[..5])));
    out.ok();
    for needle in [
        "New session ",
        "[OAUTH_FLOW: Connecting accounts]",
        "[REQUIREMENTS: Filling in the details]",
        "[TESTING: Testing the draft]",
        "kiln> To let the agent use Gmail",
        "connect: /oauth/start?",
        "/approve",
        "[Connect Gmail: \"gmail\"]",
        "[Continue without Gmail: \"drop gmail\"]",
        "[Build it: \"yes\"]",
        "[Looks good: \"yes\"]",
        "is saved; resume it with `kiln chat --session ",
    ] {
        assert!(out.stdout.contains(needle), "text mode lacks {needle:?}\n{out}");
    }
    assert!(!out.stdout.contains("\"session_id\""), "no JSON in text mode");
}

#[test]
fn an_unknown_session_exits_1_with_a_clear_message() {
    let k = Kiln::new_in_memory();
    let unknown = "2f1c0e9a-0b7d-4c3e-9a51-0c7c2a3c9d10";
    let out = run_command(command(&k, &["chat", "--session", unknown]), Some(b"hello\n"));
    out.expect_code(1).stderr_has("no session with id").stderr_has(unknown);
    assert!(!out.stdout.contains("kiln>"), "no conversation started\n{out}");
    let out = chat(&k, &["--session", unknown], &["hello"]);
    out.expect_code(1);
    assert_eq!(out.json_error().0, "not-found");
    assert!(out.stdout.is_empty(), "{out}");
    // Another user's session is just as unknown.
    let id = conversation(&k, 1);
    let out =
        run_command(command(&k, &["--user", "mallory", "--json", "chat", "--session", &id]), Some(b"hi\n"));
    out.expect_code(1);
    assert_eq!(out.json_error().0, "not-found");
    // A malformed id is refused before anything is read.
    let out = chat(&k, &["--session", "../../etc/passwd"], &["hello"]);
    out.expect_code(1);
    assert_eq!(out.json_error().0, "invalid-input");
}

#[test]
fn an_expired_session_gives_an_expired_error_and_is_archived() {
    let k = Kiln::new_in_memory();
    let id = conversation(&k, 3);
    // Still alive with the default 30 minutes.
    let out = run_command(command(&k, &["--json", "sessions", "show", &id]), None);
    out.ok();
    // Idle for longer than 0 ms: the last turn was two processes ago (no wait needed).
    let out = chat(&k, &["--idle-timeout-minutes", "0", "--session", &id], &["London time", "yes"]);
    out.expect_code(1);
    let (kind, message) = out.json_error();
    assert_eq!(kind, "expired", "{out}");
    assert!(!message.is_empty());
    let printed = lines(&out);
    assert_eq!(printed.len(), 1, "one error line, no chunk, nothing after it: {printed:?}");
    assert_eq!(printed[0]["error"]["kind"], "expired");
    let why = printed[0]["error"]["message"].as_str().expect("message");
    assert!(why.contains("expired") && why.contains("archived"), "{why}");
    // The data is archived, not lost; the session is gone from the live list.
    let archived = read_json(&k.store().join("archive").join("sessions").join(format!("{id}.json")));
    assert_eq!(archived["session_id"], id.as_str());
    assert!(!k.store().join("sessions").join(format!("{id}.json")).exists());
    let out = run_command(command(&k, &["--json", "sessions", "show", &id]), None);
    out.expect_code(1);
    assert_eq!(out.json_error().0, "not-found");
}

#[test]
fn a_corrupt_session_file_is_named_and_left_untouched() {
    let k = Kiln::new_in_memory();
    let id = conversation(&k, 1);
    let healthy = conversation(&k, 1);
    let file = k.store().join("sessions").join(format!("{id}.json"));
    let path = file.display().to_string();
    std::fs::write(&file, b"{ not json").expect("corrupt the session");
    for args in [vec!["sessions", "show", id.as_str()], vec!["agent", "export", id.as_str()]] {
        let out = run_command(command(&k, &args), None);
        out.expect_code(1).stderr_has("is corrupt").stderr_has(&path).stderr_has("move it aside");
    }
    // Issue #19: one corrupt session failed the whole listing. The others are listed, the
    // corrupt one named on stderr with the command that removes it; exit 0.
    for json in [false, true] {
        let args = if json { vec!["sessions", "list", "--json"] } else { vec!["sessions", "list"] };
        let out = run_command(command(&k, &args), None);
        out.ok()
            .stdout_has(&healthy)
            .stderr_has(&format!("warning: skipped {id}"))
            .stderr_has(&path)
            .stderr_has("is corrupt")
            .stderr_has(&format!("kiln sessions delete {id}"));
        assert!(!out.stdout.contains(&id), "{out}");
        if json {
            assert_eq!(out.json().as_array().map(Vec::len), Some(1), "{out}");
        }
    }
    let out = chat(&k, &["--session", &id], &["hello"]);
    out.expect_code(1);
    assert_eq!(out.json_error().0, "corrupt");
    assert_eq!(std::fs::read(&file).expect("read"), b"{ not json", "never overwritten");
}

/// `kiln chat --record` journals each turn beside the session; `kiln sessions replay`
/// re-runs them identically without writing, reports the first difference once the
/// journal's copy of the person's words is edited, and says what to do without a journal.
#[test]
fn a_recorded_chat_replays_identically_and_an_edited_journal_does_not() {
    let k = Kiln::new();
    let out = chat(&k, &["--record"], &[REQUEST, "/approve", "/back"]);
    out.ok();
    let id = lines(&out)[0]["session_id"].as_str().expect("a session id").to_owned();
    let entry = k.store().join(format!("kiln-host/journal/{id}/000001.json"));
    let session = k.store().join(format!("sessions/{id}.json"));
    let stored = std::fs::read(&session).expect("the session");

    let replay = run_command(command(&k, &["--json", "sessions", "replay", &id]), None);
    replay.ok();
    let report = replay.json();
    assert_eq!(report["difference"], Value::Null, "{replay}");
    assert_eq!(report["turns"], 3);
    assert_eq!(std::fs::read(&session).expect("the session"), stored, "a replay writes nothing");

    // One byte of the person's words as journaled: 9 becomes 8.
    let mut turn = read_json(&entry);
    let text = turn["input"]["text"].as_str().expect("turn 1 was a message").to_owned();
    assert_eq!(text, REQUEST);
    turn["input"]["text"] = Value::from(text.replacen('9', "8", 1));
    std::fs::write(&entry, serde_json::to_vec(&turn).expect("json")).expect("write");
    let replay = run_command(command(&k, &["--json", "sessions", "replay", &id]), None);
    let (kind, message) = replay.failed().json_error();
    assert_eq!(kind, "replay-differs");
    // The first write of the session record, where the words are stored, each side shown.
    assert!(message.contains("turn 1 differs at import call"), "{message}");
    assert!(message.contains(&format!("store.put sessions/{id}.json: value at byte")), "{message}");
    assert!(message.contains("weekday at 9") && message.contains("weekday at 8"), "{message}");

    let none = run_command(command(&k, &["sessions", "replay", "no-such-session"]), None);
    none.failed().stderr_has("were not recorded").stderr_has("kiln chat --record");
}
