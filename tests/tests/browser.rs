//! The builder UI (web/) end to end in real headless Debian Chromium, driven by
//! playwright-core scripts in `web/tests/`: the site is built with `web/build.sh` (once per
//! test process), served by a static file server of its own on a free 127.0.0.1 port, and
//! each scenario runs in a fresh browser profile. Screenshots land in `target/artifacts/`.
//!
//! Needs what `.ci/run` installs: the wasm32 target, Debian's `chromium`, and `npm ci` in
//! `web/`; the first build also installs the pinned wasm-bindgen CLI into `target/tools/`.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use kiln_tests::{Kiln, run_command, wait_with_timeout};
use serde_json::Value;

/// How long one browser scenario may run.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(300);
/// How long building the site may take (a first build installs the wasm-bindgen CLI).
const BUILD_TIMEOUT: Duration = Duration::from_secs(1500);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ lives in the repository").to_owned()
}

fn chromium() -> PathBuf {
    std::env::var_os("KILN_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Builds web/dist once per test process; every test gets the same answer.
fn built_site() -> &'static Path {
    static SITE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let site = SITE.get_or_init(|| {
        let web = repo().join("web");
        if Command::new("node").arg("--version").output().is_err() {
            return Err("node is missing: install Node.js 20 (the machine image has it)".into());
        }
        if !chromium().is_file() {
            return Err(format!(
                "Chromium is missing at {}: run .ci/run's installs (`apt-get install -y chromium`) or set KILN_CHROMIUM",
                chromium().display()
            ));
        }
        if !web.join("node_modules/playwright-core/package.json").is_file() {
            return Err("web/node_modules/playwright-core is missing: run `npm ci` in web/ (as .ci/run does)".into());
        }
        let mut build = Command::new("bash");
        build.arg(web.join("build.sh")).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // The outer cargo's settings must not reach the nested wasm build.
        for var in [
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTFLAGS",
            "RUSTC_WRAPPER",
            "RUSTC_WORKSPACE_WRAPPER",
            "CARGO_MAKEFLAGS",
        ] {
            build.env_remove(var);
        }
        let child = build.spawn().map_err(|e| format!("could not run web/build.sh: {e}"))?;
        let out = wait_output(child, BUILD_TIMEOUT, "web/build.sh")?;
        if !out.0 {
            return Err(format!(
                "web/build.sh failed (it needs the wasm32-unknown-unknown target and cargo install; see .ci/run)\n{}",
                out.1
            ));
        }
        Ok(web.join("dist"))
    });
    match site {
        Ok(path) => path,
        Err(why) => panic!("{why}"),
    }
}

/// Waits for `child`; (success, stdout + stderr).
fn wait_output(mut child: Child, timeout: Duration, what: &str) -> Result<(bool, String), String> {
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let status = wait_with_timeout(&mut child, timeout)
        .ok_or_else(|| format!("{what} ran longer than {timeout:?}"))?;
    let text = format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default()
    );
    Ok((status.success(), text))
}

/// A static file server for web/dist on a free loopback port, stopped on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(root: &Path) -> Server {
        let mut child = Command::new("node")
            .arg(repo().join("web/tests/serve.mjs"))
            .arg(root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the static server (node web/tests/serve.mjs)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("reading the static server's address");
        let url = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected: {line:?}"))
            .to_owned();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `web/tests/<script>` against a fresh server; panics with its output on failure.
fn scenario(script: &str, env: &[(&str, &Path)]) -> String {
    // One browser at a time: the machine has two cores, and each scenario asserts on timing-free
    // behaviour only, so running them in turn costs little and avoids starving Chromium.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let site = built_site();
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let server = Server::start(site);
    let web = repo().join("web");
    let mut cmd = Command::new("node");
    cmd.arg(web.join("tests").join(script))
        .current_dir(&web)
        .env("KILN_WEB_URL", &server.url)
        .env("KILN_CHROMIUM", chromium())
        .env("KILN_ARTIFACTS", repo().join("target/artifacts"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("starting node");
    let (ok, output) = wait_output(child, SCENARIO_TIMEOUT, script).unwrap_or_else(|e| panic!("{e}"));
    assert!(ok, "browser scenario {script} failed\n{output}");
    assert!(output.contains("ok "), "{script} reported no passed scenario\n{output}");
    output
}

#[test]
fn offline_conversation_reload_sessions_export_and_phone_layout() {
    scenario("offline.mjs", &[]);
    let shot = repo().join("target/artifacts/browser-main.png");
    let bytes = std::fs::read(&shot).unwrap_or_else(|e| panic!("the screenshot {}: {e}", shot.display()));
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{} is not a real screenshot",
        shot.display()
    );
}

#[test]
fn corrupt_or_full_storage_gets_a_clear_message_and_a_way_out() {
    scenario("corrupt.mjs", &[]);
}

/// The server is played by request interception (the contract in docs/web.md): the LLM
/// proxy, the API key, the OAuth redirect round trip, and the dashboard reading /metrics.
#[test]
fn online_mode_follows_the_server_contract_and_the_dashboard_draws_metrics() {
    scenario("online.mjs", &[]);
}

/// Lines of a `kiln chat` script: the README's conversation plus going back once and one
/// iteration.
const PARITY_SCRIPT: &[&str] = &[
    "Every weekday at 9, summarise my unread Gmail and post it to Slack #team",
    "/approve",
    "/deny",
    "retry",
    "/approve",
    "London time",
    "yes",
    "/back",
    "yes",
    "looks good",
    "yes",
    "make it 8 instead",
    "yes",
    "looks good",
    "yes",
];

/// Replaces every UUID (session, draft ids) with a placeholder.
fn normalise(text: &str) -> String {
    let is_uuid = |s: &[u8]| {
        s.len() == 36
            && s.iter().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            })
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if i + 36 <= bytes.len() && is_uuid(&bytes[i..i + 36]) {
            out.push_str("<uuid>");
            i += 36;
        } else {
            let ch = text[i..].chars().next().expect("a char at a char boundary");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// (phase, text) of every non-empty chunk, per response.
type Responses = Vec<Vec<(String, String)>>;

fn host_responses() -> Responses {
    let k = Kiln::new_in_memory();
    let script: String = PARITY_SCRIPT.iter().map(|l| format!("{l}\n")).collect();
    let mut cmd = k.command(["chat", "--json"]);
    cmd.env_remove("LOVABLE_CONVERSATION_STATE")
        .env_remove("KILN_USER")
        .env_remove("KILN_IDLE_TIMEOUT_MINUTES");
    let out = run_command(cmd, Some(script.as_bytes()));
    out.ok();
    let mut responses = vec![Vec::new()];
    for line in out.stdout.lines() {
        let chunk: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}\n{out}"));
        let text = chunk["text"].as_str().unwrap_or_else(|| panic!("a chunk without text: {line}"));
        if !text.is_empty() {
            let phase = chunk["phase"].as_str().expect("phase").to_owned();
            responses.last_mut().expect("a response").push((phase, normalise(text)));
        }
        if chunk["done"] == Value::Bool(true) {
            responses.push(Vec::new());
        }
    }
    assert_eq!(responses.pop(), Some(Vec::new()), "every response ends with a done chunk\n{out}");
    responses
}

fn browser_responses() -> Responses {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let script = dir.path().join("script.json");
    let result = dir.path().join("responses.json");
    std::fs::write(&script, serde_json::to_vec(PARITY_SCRIPT).expect("JSON")).expect("writing the script");
    scenario("parity.mjs", &[("KILN_PARITY_SCRIPT", &script), ("KILN_PARITY_OUT", &result)]);
    let v: Value =
        serde_json::from_slice(&std::fs::read(&result).expect("the browser's responses")).expect("JSON");
    v.as_array()
        .expect("an array of responses")
        .iter()
        .map(|r| {
            let phases = r["phases"].as_array().expect("phases");
            let texts = r["texts"].as_array().expect("texts");
            assert_eq!(phases.len(), texts.len());
            phases
                .iter()
                .zip(texts)
                .map(|(p, t)| (p.as_str().expect("phase").to_owned(), normalise(t.as_str().expect("text"))))
                .collect()
        })
        .collect()
}

#[test]
fn the_browser_build_answers_like_the_wasmtime_host() {
    let host = host_responses();
    let browser = browser_responses();
    assert_eq!(host.len(), PARITY_SCRIPT.len(), "one host response per line");
    let last_phase = |r: &Responses| -> Vec<String> {
        r.iter().map(|chunks| chunks.last().map(|c| c.0.clone()).unwrap_or_default()).collect()
    };
    assert_eq!(
        last_phase(&host),
        [
            "OAUTH_FLOW",
            "OAUTH_FLOW",
            "OAUTH_FLOW",
            "OAUTH_FLOW",
            "REQUIREMENTS",
            "REQUIREMENTS",
            "TESTING",
            "REQUIREMENTS",
            "TESTING",
            "ACTIVATION",
            "COMPLETE",
            "REQUIREMENTS",
            "TESTING",
            "ACTIVATION",
            "COMPLETE"
        ]
    );
    for (i, (h, b)) in host.iter().zip(&browser).enumerate() {
        assert_eq!(
            h,
            b,
            "response {} to {:?} differs between the host and the browser",
            i + 1,
            PARITY_SCRIPT[i]
        );
    }
    assert_eq!(host.len(), browser.len());
}
