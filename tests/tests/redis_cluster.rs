//! Several `kiln serve` instances on one Redis (`--store redis://...`), with `kiln` CLI
//! processes on the same store: the queue stays loss-free and FIFO across all of them, no
//! session update is lost, a conversation continues on any instance turn by turn, OAuth
//! begun on one instance completes on another, and a Redis outage gives clear 503s and
//! then service again without restarting anything. Each test starts its own `redis-server`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use kiln_tests::race::{self, Endpoint};
use kiln_tests::redis::RedisServer;
use kiln_tests::serve::{Client, OauthServer, Reply, Serve, oauth_config};
use kiln_tests::{BUILDER_FULL_RUN, BUILDER_REQUEST, Kiln};
use serde_json::{Value, json};

/// `kiln serve --store <redis>` with its (unused) `--dir` in `dir`, plus `args`.
fn serve_on(redis: &RedisServer, dir: &Path, name: &str, args: &[&str]) -> Serve {
    let url = redis.url();
    let mut all = vec!["--store", url.as_str()];
    all.extend_from_slice(args);
    Serve::start(&dir.join(name), &all, &[])
}

/// Three instances on one Redis.
fn three(redis: &RedisServer, dir: &Path) -> Vec<Serve> {
    ["a", "b", "c"].iter().map(|n| serve_on(redis, dir, n, &[])).collect()
}

/// The queue through one instance's HTTP API.
struct Http {
    client: Client,
    base: String,
}

impl Endpoint for Http {
    fn add(&self, prompt: &str) -> Result<String, String> {
        let r =
            self.client.post(&format!("{}/v1/conversations", self.base), Some(&json!({ "prompt": prompt })));
        match r.status {
            201 => Ok(r.json()["conversation_id"].as_str().expect("conversation_id").to_owned()),
            _ => Err(format!("POST /v1/conversations on {}: {r:?}", self.base)),
        }
    }

    fn next(&self) -> Result<Option<(String, String)>, String> {
        let r = self.client.post(&format!("{}/v1/conversations/next", self.base), None);
        match r.status {
            200 => {
                let c = r.json();
                let id = c["conversation_id"].as_str().expect("conversation_id").to_owned();
                Ok(Some((id, c["prompt"].as_str().expect("prompt").to_owned())))
            }
            204 => Ok(None),
            _ => Err(format!("POST /v1/conversations/next on {}: {r:?}", self.base)),
        }
    }
}

fn new_session(c: &Client, s: &Serve) -> String {
    let r = c.post(&s.at("/v1/sessions"), None);
    assert_eq!(r.status, 201, "{r:?}");
    r.json()["session_id"].as_str().expect("session_id").to_owned()
}

fn session(c: &Client, s: &Serve, id: &str) -> Value {
    let r = c.get(&s.at(&format!("/v1/sessions/{id}")));
    assert_eq!(r.status, 200, "{r:?}");
    r.json()
}

/// One turn as JSON: its chunks.
fn say(c: &Client, s: &Serve, id: &str, text: &str) -> Vec<Value> {
    let r = c.post_json_reply(&s.at(&format!("/v1/sessions/{id}/messages")), Some(&json!({ "text": text })));
    assert_eq!(r.status, 200, "{text:?} on {}: {r:?}", s.url);
    r.json()["chunks"].as_array().cloned().expect("chunks")
}

/// A step of [`BUILDER_FULL_RUN`] over HTTP: `/approve` answers the pending (simulated)
/// consent with the state the session shows; anything else is a message.
fn step(c: &Client, s: &Serve, id: &str, text: &str) -> Vec<Value> {
    if text != "/approve" {
        return say(c, s, id, text);
    }
    let view = session(c, s, id);
    let state = view["pending_oauth"]["state"].as_str().unwrap_or_else(|| panic!("nothing pending: {view}"));
    let r = c.post_json_reply(
        &s.at(&format!("/v1/sessions/{id}/oauth")),
        Some(&json!({ "state": state, "approved": true })),
    );
    assert_eq!(r.status, 200, "/approve on {}: {r:?}", s.url);
    r.json()["chunks"].as_array().cloned().expect("chunks")
}

/// Ids, states and timestamps replaced by placeholders, so two runs compare equal.
fn normalise(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let timestamp = k.ends_with("_at") || k.ends_with("_at_ms");
                    (k.clone(), if timestamp && !v.is_null() { json!("<time>") } else { normalise(v) })
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        Value::String(s) => Value::String(scrub(s)),
        other => other.clone(),
    }
}

/// `s` with every UUID and every 32-hex-digit run replaced.
fn scrub(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    let uuid_at = |i: usize| {
        i + 36 <= b.len()
            && (0..36).all(|j| if [8, 13, 18, 23].contains(&j) { b[i + j] == b'-' } else { hex(b[i + j]) })
    };
    let state_at = |i: usize| i + 32 <= b.len() && (0..32).all(|j| hex(b[i + j]));
    let (mut out, mut i) = (String::new(), 0);
    while i < b.len() {
        if uuid_at(i) {
            out.push_str("<uuid>");
            i += 36;
        } else if state_at(i) {
            out.push_str("<state>");
            i += 32;
        } else {
            let ch = s[i..].chars().next().expect("a char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// What the alternating and the single-instance runs must agree on.
fn outcome(c: &Client, s: &Serve, id: &str, transcript: Vec<Vec<Value>>) -> Value {
    let view = session(c, s, id);
    let agent = c.get(&s.at(&format!("/v1/sessions/{id}/agent")));
    assert_eq!(agent.status, 200, "{agent:?}");
    let requirements: Vec<Value> = view["requirements"]
        .as_array()
        .expect("requirements")
        .iter()
        .map(|r| json!([r["field"], r["value"]]))
        .collect();
    normalise(&json!({
        "phase": view["phase"],
        "requirements": requirements,
        "connected": view["connected"],
        "turn": view["turn"],
        "agent": agent.json(),
        "transcript": transcript,
    }))
}

#[test]
fn three_instances_and_eight_processes_lose_no_queue_id_and_no_session_update() {
    const CLI_ADDERS: usize = 6;
    const CLI_TAKERS: usize = 2;
    const ADDS_EACH: usize = 30;
    const TURN_CLIENTS_PER_INSTANCE: usize = 2;
    const TURNS_EACH: usize = 8;

    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let servers = three(&redis, dir.path());
    let cli = Arc::new(Kiln::with_store(redis.url()));
    cli.run(["conversations", "list"]).ok();
    let client = Client::default();

    // The endpoints: 6 CLI adders + 2 CLI takers (8 processes at a time), and each
    // instance adding and taking over HTTP.
    let http: Vec<Arc<dyn Endpoint>> = servers
        .iter()
        .map(|s| Arc::new(Http { client: client.clone(), base: s.url.clone() }) as Arc<dyn Endpoint>)
        .collect();
    let cli_endpoint: Arc<dyn Endpoint> = Arc::clone(&cli) as Arc<dyn Endpoint>;
    let mut adders = vec![Arc::clone(&cli_endpoint); CLI_ADDERS];
    adders.extend(http.iter().cloned());
    let mut takers = vec![cli_endpoint; CLI_TAKERS];
    takers.extend(http.iter().cloned());

    // Meanwhile, clients on every instance send turns to one session.
    let sid = new_session(&client, &servers[0]);
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let contention_retries = Arc::new(AtomicUsize::new(0));
    let turn_threads: Vec<_> = (0..servers.len() * TURN_CLIENTS_PER_INSTANCE)
        .map(|n| {
            let (client, sid, retries) = (client.clone(), sid.clone(), Arc::clone(&contention_retries));
            let base = urls[n % urls.len()].clone();
            thread::spawn(move || {
                for t in 0..TURNS_EACH {
                    let url = format!("{base}/v1/sessions/{sid}/messages");
                    let body = json!({ "text": format!("client {n} turn {t}: hello") });
                    loop {
                        let r = client.post(&url, Some(&body));
                        // The engine retries CAS conflicts itself; only a session that kept
                        // changing for all its attempts answers 503 contention (not applied).
                        if r.status == 503 && r.kind() == "contention" {
                            retries.fetch_add(1, Ordering::SeqCst);
                            continue;
                        }
                        assert_eq!(r.status, 200, "client {n} turn {t} on {base}: {r:?}");
                        let events = r.events();
                        assert_eq!(
                            events.last().map(|(n, _)| n.as_str()),
                            Some("done"),
                            "client {n} turn {t} on {base}: {events:?}"
                        );
                        break;
                    }
                }
            })
        })
        .collect();

    let race = race::run_on(&adders, ADDS_EACH, &takers);
    for t in turn_threads {
        t.join().expect("a turn client failed");
    }

    // The queue, as every instance and the CLI see it: empty.
    for s in &servers {
        let r = client.get(&s.at("/v1/conversations"));
        assert_eq!(r.json()["conversations"], json!([]), "{r:?}");
    }
    let prompt_of = race.check(&[]);
    assert_eq!(prompt_of.len(), (CLI_ADDERS + servers.len()) * ADDS_EACH);
    let per_taker: Vec<usize> = race.taken.iter().map(|t| t.ids.len()).collect();

    // No lost session update: every turn sent is counted, on every instance.
    let sent = servers.len() * TURN_CLIENTS_PER_INSTANCE * TURNS_EACH;
    for s in &servers {
        let view = session(&client, s, &sid);
        assert_eq!(view["turn"], json!(sent), "on {}: {view}", s.url);
    }
    eprintln!(
        "3 instances + {} CLI processes: {} (taken per taker, CLI first: {per_taker:?}); {sent} turns on one session from {} clients ({} answered 503 contention and were resent)",
        CLI_ADDERS + CLI_TAKERS,
        race.summary(),
        servers.len() * TURN_CLIENTS_PER_INSTANCE,
        contention_retries.load(Ordering::SeqCst)
    );
}

#[test]
fn a_conversation_alternating_between_instances_ends_as_on_one_instance() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let servers = three(&redis, dir.path());
    let c = Client::default();

    // On one instance.
    let single = new_session(&c, &servers[0]);
    let transcript = BUILDER_FULL_RUN.iter().map(|text| step(&c, &servers[0], &single, text)).collect();
    let alone = outcome(&c, &servers[0], &single, transcript);
    assert_eq!(alone["phase"], "COMPLETE", "{alone}");

    // Created on A, then B, C, A, ... for every turn.
    let id = new_session(&c, &servers[0]);
    let transcript: Vec<Vec<Value>> = BUILDER_FULL_RUN
        .iter()
        .enumerate()
        .map(|(i, text)| step(&c, &servers[(i + 1) % servers.len()], &id, text))
        .collect();
    for s in &servers {
        let alternating = outcome(&c, s, &id, Vec::clone(&transcript));
        assert_eq!(alternating, alone, "alternating (read on {}) vs one instance", s.url);
    }
    assert_eq!(alone["turn"], json!(BUILDER_FULL_RUN.len()), "{alone}");
}

/// Follows an authorization URL at the real provider: its redirect back to us.
fn authorize(c: &Client, url: &str) -> String {
    let r = c.get(url);
    assert_eq!(r.status, 302, "the provider redirects back: {r:?}");
    r.location.expect("a Location")
}

fn oauth_url_in(chunks: &[Value]) -> String {
    chunks.iter().rev().find_map(|c| c["oauth_url"].as_str().map(str::to_owned)).expect("an oauth_url")
}

#[test]
fn oauth_begun_on_one_instance_completes_on_another() {
    let redis = RedisServer::start();
    let oauth = OauthServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    // Behind a load balancer every instance has the same public URL; the provider sends the
    // browser there, and whichever instance gets the callback finishes it.
    let public = "http://kiln.example.test";
    let config = oauth_config(dir.path(), &oauth.issuer, &format!("public_url: \"{public}\"\n"));
    let a = serve_on(&redis, dir.path(), "a", &["--config", &config]);
    let b = serve_on(&redis, dir.path(), "b", &["--config", &config]);
    let c = Client::default();

    let id = new_session(&c, &a);
    let url = oauth_url_in(&say(&c, &a, &id, BUILDER_REQUEST));
    assert!(url.starts_with(&format!("{}/authorize?", oauth.issuer)), "{url}");
    let callback = authorize(&c, &url);
    let query = callback
        .strip_prefix(&format!("{public}/oauth/callback?"))
        .unwrap_or_else(|| panic!("the provider redirects to the public URL: {callback}"))
        .to_owned();

    // Issued by A, completed on B.
    let done = c.get(&b.at(&format!("/oauth/callback?{query}")));
    assert_eq!(done.status, 200, "{done:?}");
    let body = done.json();
    assert_eq!(
        (body["result"].as_str(), body["provider"].as_str()),
        (Some("approved"), Some("gmail")),
        "{body}"
    );
    // The replay on A (or B again) finds nothing.
    for s in [&a, &b] {
        let again = c.get(&s.at(&format!("/oauth/callback?{query}")));
        assert_eq!(
            (again.status, again.kind().as_str()),
            (409, "oauth-refused"),
            "replay on {}: {again:?}",
            s.url
        );
    }
    let view = session(&c, &a, &id);
    assert_eq!(view["connected"], json!(["gmail"]), "A sees B's completion: {view}");
    assert_eq!(view["pending_oauth"]["provider"], "slack", "{view}");

    // The next link came from B; A completes it.
    let slack = oauth_url_in(body["chunks"].as_array().expect("chunks"));
    let callback = authorize(&c, &slack);
    let query =
        callback.strip_prefix(&format!("{public}/oauth/callback?")).expect("the public URL").to_owned();
    let done = c.get(&a.at(&format!("/oauth/callback?{query}")));
    assert_eq!(done.json()["result"], "approved", "{done:?}");
    let again = c.get(&b.at(&format!("/oauth/callback?{query}")));
    assert_eq!((again.status, again.kind().as_str()), (409, "oauth-refused"), "{again:?}");

    // The conversation resumes on either instance.
    let view = session(&c, &b, &id);
    assert_eq!(view["connected"], json!(["gmail", "slack"]), "{view}");
    assert_ne!(view["phase"], "OAUTH_FLOW", "{view}");
    assert!(view["pending_oauth"].is_null(), "{view}");
    for (s, text) in [(&b, "London time"), (&a, "yes"), (&b, "looks good"), (&a, "yes")] {
        say(&c, s, &id, text);
    }
    assert_eq!(session(&c, &b, &id)["phase"], "COMPLETE");
    // Both tokens are in Redis, in the host's own keys; no PKCE record is left behind.
    assert_eq!(redis.command("ZLEXCOUNT kiln:{default}:index [kiln-host/tokens/ (kiln-host/tokens0"), ":2");
    assert_eq!(redis.command("ZLEXCOUNT kiln:{default}:index [kiln-host/oauth/ (kiln-host/oauth0"), ":0");
}

/// What one request during the outage test got.
#[derive(Debug)]
struct Seen {
    what: &'static str,
    status: u16,
    reply: Reply,
    took: Duration,
    after_restart: bool,
}

#[test]
fn a_redis_outage_gives_503s_and_the_same_instance_recovers_with_the_data_intact() {
    // The client gives up after this; the server's Redis response timeout is 5 s.
    const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
    const DEADLINE: Duration = Duration::from_secs(60);
    let mut redis = RedisServer::start_persistent();
    let dir = tempfile::tempdir().expect("tempdir");
    let s = serve_on(&redis, dir.path(), "a", &[]);
    let c = Client::default().with_timeout(CLIENT_TIMEOUT);

    // Written before the outage.
    let id = new_session(&c, &s);
    say(&c, &s, &id, BUILDER_REQUEST);
    let busy = new_session(&c, &s);
    let before = session(&c, &s, &id);
    let queued: Vec<String> = (0..3)
        .map(|i| {
            let r = c.post(&s.at("/v1/conversations"), Some(&json!({ "prompt": format!("before {i}") })));
            assert_eq!(r.status, 201, "{r:?}");
            r.json()["conversation_id"].as_str().expect("id").to_owned()
        })
        .collect();

    // A client that keeps going: adds, reads the session, lists, starts sessions, turns.
    let stop = Arc::new(AtomicBool::new(false));
    let restarted = Arc::new(AtomicBool::new(false));
    let (oks, fails) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let worker = {
        let (c, base, sid, busy) = (c.clone(), s.url.clone(), id.clone(), busy.clone());
        let (stop, restarted, oks, fails) =
            (Arc::clone(&stop), Arc::clone(&restarted), Arc::clone(&oks), Arc::clone(&fails));
        thread::spawn(move || {
            let mut seen = Vec::new();
            let mut added = Vec::new();
            let mut n = 0usize;
            while !stop.load(Ordering::SeqCst) {
                let after_restart = restarted.load(Ordering::SeqCst);
                let started = Instant::now();
                let (what, reply) = match n % 5 {
                    0 => {
                        let prompt = format!("during {n}");
                        let r = c.try_post(
                            &format!("{base}/v1/conversations"),
                            Some(&json!({ "prompt": prompt })),
                        );
                        if let Ok(r) = &r
                            && r.status == 201
                        {
                            added.push(prompt);
                        }
                        ("add", r)
                    }
                    1 => ("show", c.try_get(&format!("{base}/v1/sessions/{sid}"))),
                    2 => ("list", c.try_get(&format!("{base}/v1/conversations"))),
                    3 => ("start session", c.try_post(&format!("{base}/v1/sessions"), None)),
                    _ => {
                        let url = format!("{base}/v1/sessions/{busy}/messages");
                        ("turn", c.try_post(&url, Some(&json!({ "text": "hello" }))))
                    }
                };
                let took = started.elapsed();
                let reply = reply.unwrap_or_else(|e| {
                    panic!("{what} got no answer within {CLIENT_TIMEOUT:?} ({took:?}): {e}")
                });
                if reply.status < 300 {
                    oks.fetch_add(1, Ordering::SeqCst);
                } else {
                    fails.fetch_add(1, Ordering::SeqCst);
                }
                seen.push(Seen { what, status: reply.status, reply, took, after_restart });
                n += 1;
                thread::sleep(Duration::from_millis(10));
            }
            (seen, added)
        })
    };
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + DEADLINE;
        while !done() {
            assert!(Instant::now() < deadline, "waited {DEADLINE:?} for {what}");
            assert!(!worker.is_finished(), "the client stopped early (it panicked)");
            thread::sleep(Duration::from_millis(20));
        }
    };

    wait_for("requests before the outage", &|| oks.load(Ordering::SeqCst) >= 8);
    redis.kill();
    let failed_before = fails.load(Ordering::SeqCst);
    wait_for("failures during the outage", &|| fails.load(Ordering::SeqCst) >= failed_before + 8);
    // A load balancer's health check sees the outage too.
    let health = c.get(&s.at("/healthz"));
    assert_eq!((health.status, health.json()["status"].as_str()), (503, Some("unavailable")), "{health:?}");
    redis.restart();
    restarted.store(true, Ordering::SeqCst);
    let ok_at_restart = oks.load(Ordering::SeqCst);
    wait_for("service after the restart", &|| oks.load(Ordering::SeqCst) >= ok_at_restart + 8);
    assert_eq!(c.get(&s.at("/healthz")).status, 200, "healthy again");
    stop.store(true, Ordering::SeqCst);
    let (seen, added) = worker.join().expect("the client thread");

    // Every answer was a success or a clear 503 naming Redis; never a 500, never a hang.
    let mut outage = 0;
    for r in &seen {
        assert!(r.took < CLIENT_TIMEOUT, "{r:?}");
        if r.status < 300 {
            // A turn that began streams to its end: no `error` event in a 200.
            if r.what == "turn" {
                let events = r.reply.events();
                assert_eq!(events.last().map(|(n, _)| n.as_str()), Some("done"), "{r:?}");
            }
            continue;
        }
        outage += 1;
        assert_eq!(r.status, 503, "{r:?}");
        let v: Value =
            serde_json::from_str(&r.reply.body).unwrap_or_else(|e| panic!("not JSON ({e}): {r:?}"));
        assert_eq!(v["error"]["kind"], "store", "{r:?}");
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&format!("Redis at {}", redis.url())), "{r:?}");
        assert!(message.contains("retry"), "says what to do: {r:?}");
    }
    assert!(outage >= 8, "{seen:?}");
    // Once a request after the restart succeeded, the rest did too.
    let after: Vec<&Seen> = seen.iter().filter(|r| r.after_restart).collect();
    let first_ok = after.iter().position(|r| r.status < 300).expect("service after the restart");
    assert!(after[first_ok..].iter().all(|r| r.status < 300), "{after:?}");

    // The same instance, never restarted: the data from before the outage is intact ...
    let view = session(&c, &s, &id);
    assert_eq!(view, before, "the session survived unchanged");
    let list = c.get(&s.at("/v1/conversations")).json();
    let listed: Vec<(String, String)> = list["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .map(|c| {
            (
                c["conversation_id"].as_str().unwrap_or("").to_owned(),
                c["prompt"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let ids: Vec<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(&ids[..3], &queued.iter().map(String::as_str).collect::<Vec<_>>()[..], "{listed:?}");
    let prompts: BTreeSet<&str> = listed.iter().map(|(_, p)| p.as_str()).collect();
    for p in &added {
        assert!(prompts.contains(p.as_str()), "{p:?} was acknowledged but is not queued: {listed:?}");
    }
    // (An add answered 503 may still have been written, if Redis ran it and died before
    // answering; nothing else is in the queue.)
    for (_, p) in &listed[3..] {
        assert!(p.starts_with("during "), "{listed:?}");
    }
    // ... and it serves correctly: the session continues, the queue hands out in order.
    let chunks = step(&c, &s, &id, "/approve");
    assert!(!chunks.is_empty());
    let view = session(&c, &s, &id);
    assert_eq!(view["connected"], json!(["gmail"]), "{view}");
    assert_eq!(view["turn"], json!(before["turn"].as_u64().expect("turn") + 1), "{view}");
    let next = c.post(&s.at("/v1/conversations/next"), None);
    assert_eq!(next.json()["conversation_id"], json!(queued[0]), "{next:?}");
    let by_kind: BTreeMap<&str, usize> = seen.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.what).or_default() += 1;
        m
    });
    eprintln!("outage: {} requests {by_kind:?}, {outage} answered 503", seen.len());

    // A Redis that hangs instead of dying: the request waits for the Redis response timeout
    // (5 s), not for ever, and gets the same 503; service resumes when Redis does.
    redis.pause();
    let started = Instant::now();
    let r =
        c.try_get(&s.at("/v1/conversations")).unwrap_or_else(|e| panic!("no answer from a hung Redis: {e}"));
    let took = started.elapsed();
    redis.resume();
    assert_eq!((r.status, r.kind().as_str()), (503, "store"), "{r:?}");
    assert!(took < CLIENT_TIMEOUT, "{took:?}");
    let deadline = Instant::now() + DEADLINE;
    loop {
        let r = c.get(&s.at("/v1/conversations"));
        if r.status == 200 {
            assert_eq!(r.json()["conversations"][0]["prompt"], "before 1", "{r:?}");
            break;
        }
        assert_eq!((r.status, r.kind().as_str()), (503, "store"), "{r:?}");
        assert!(Instant::now() < deadline, "no service {DEADLINE:?} after Redis resumed");
        thread::sleep(Duration::from_millis(50));
    }
    eprintln!("a hung Redis: 503 after {took:.1?}");
    let (code, stderr) = s.stop();
    assert_eq!(code, Some(0), "{stderr}");
}
