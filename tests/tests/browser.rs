//! The builder UI (web/) end to end in real headless Debian Chromium, driven by
//! playwright-core scripts in `web/tests/`: the site is built with `web/build.sh` (once per
//! test process), served by a static file server of its own on a free 127.0.0.1 port, and
//! each scenario runs in a fresh browser profile. Screenshots land in `target/artifacts/`.
//!
//! Needs what `.ci/run` installs: the wasm32 target, Debian's `chromium`, and `npm ci` in
//! `web/`; the first build also installs the pinned wasm-bindgen CLI into `target/tools/`.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use kiln_tests::serve::{Client, FakeLlm, OauthServer, Serve};
use kiln_tests::{BUILDER_FULL_RUN, Kiln, run_command, spawn_announcing, wait_with_timeout};
use serde_json::{Value, json};

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
        for module in ["playwright-core", "axe-core"] {
            if !web.join("node_modules").join(module).join("package.json").is_file() {
                return Err(format!("web/node_modules/{module} is missing: run `npm ci` in web/ (as .ci/run does)"));
            }
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
        let mut cmd = Command::new("node");
        cmd.arg(repo().join("web/tests/serve.mjs")).arg(root).stdin(Stdio::null()).stderr(Stdio::inherit());
        let (child, line) = spawn_announcing(cmd, Duration::from_secs(60));
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

/// One browser at a time: the machine has two cores, and each scenario asserts on timing-free
/// behaviour only, so running them in turn costs little and avoids starving Chromium.
fn one_browser_at_a_time() -> MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `web/tests/<script>` against a fresh static server; panics with its output on failure.
fn scenario(script: &str, env: &[(&str, &OsStr)]) -> String {
    let site = built_site();
    let _turn = one_browser_at_a_time();
    let server = Server::start(site);
    run_script(script, &server.url, env)
}

/// Runs `node web/tests/<script>` on the site at `url`; panics with its output on failure.
fn run_script(script: &str, url: &str, env: &[(&str, &OsStr)]) -> String {
    let web = repo().join("web");
    let mut cmd = Command::new("node");
    cmd.arg(web.join("tests").join(script))
        .current_dir(&web)
        .env("KILN_WEB_URL", url)
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

/// Checks that `target/artifacts/<name>` is a real screenshot.
fn assert_screenshot(name: &str) {
    let shot = repo().join("target/artifacts").join(name);
    let bytes = std::fs::read(&shot).unwrap_or_else(|e| panic!("the screenshot {}: {e}", shot.display()));
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{} is not a real screenshot",
        shot.display()
    );
}

#[test]
fn offline_conversation_reload_sessions_export_and_phone_layout() {
    scenario("offline.mjs", &[]);
    assert_screenshot("browser-main.png");
}

/// Issue #20's page at 1280x800, 1024x768 and 390x844, each in light and dark with axe-core
/// finding no violations: the agent as a flow with its samples, details changed in place as
/// turns, quick replies (the device's time zone first), the progress indicator, the layout
/// (message box in view, compact phone header), focus after dialogs, sessions renamed.
#[test]
fn builder_ui_at_three_sizes_passes_axe_in_light_and_dark() {
    scenario("ui.mjs", &[]);
    for size in ["laptop-1280x800", "laptop-1024x768", "phone-390x844-chat", "phone-390x844-agent"] {
        for scheme in ["light", "dark"] {
            assert_screenshot(&format!("ui-{size}-{scheme}.png"));
        }
    }
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

/// The model behind the live server's LLM proxy: a valid extraction for the first request
/// (it picks the channel `#llm-picked`, which the rules would not), garbage for everything
/// else, so later turns show the guest falling back to its rules.
fn extraction_then_garbage() -> FakeLlm {
    FakeLlm::start(Box::new(|request: &Value| {
        let says = |role: &str, needle: &str| {
            request["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["role"] == role && m["content"].as_str().is_some_and(|c| c.contains(needle)))
        };
        if says("system", "You extract requirements") && says("user", BUILDER_FULL_RUN[0]) {
            json!({
                "integrations": ["gmail", "slack"], "trigger": "schedule",
                "days": ["mon", "tue", "wed", "thu", "fri"], "time": "09:00", "channel": "#llm-picked"
            })
            .to_string()
        } else {
            "Sure! Here is what I think: it depends.".to_owned()
        }
    }))
}

/// One whole conversation through the HTTP API (another client of the same server), each
/// connection approved at the real provider, so the server's metrics have a funnel.
fn conversation_through_the_api(s: &Serve) {
    let c = Client::default();
    let id =
        c.post(&s.at("/v1/sessions"), None).json()["session_id"].as_str().expect("a session id").to_owned();
    let say = |text: &str| {
        let r = c.post(&s.at(&format!("/v1/sessions/{id}/messages")), Some(&json!({ "text": text })));
        assert_eq!(r.status, 200, "{text:?}: {r:?}");
        r.chunks()
    };
    let mut chunks = say(BUILDER_FULL_RUN[0]);
    // "/approve" in the CLI's script: here the provider's real consent, followed by hand.
    for line in &BUILDER_FULL_RUN[1..] {
        if *line == "/approve" {
            let url =
                chunks.iter().rev().find_map(|c| c["oauth_url"].as_str()).expect("a connect link").to_owned();
            let callback = c.get(&url).location.expect("the provider redirects back");
            let done = c.get(&callback).json();
            assert_eq!(done["result"], "approved", "{done}");
            chunks = done["chunks"].as_array().cloned().unwrap_or_default();
        } else {
            chunks = say(line);
        }
    }
    assert_eq!(chunks.last().map(|c| c["phase"].clone()), Some(json!("COMPLETE")), "{chunks:?}");
}

/// `kiln serve` of the built site in `dir`, with `llm` as its only model (then the rules),
/// plus `args` and `env`.
fn serve_site(dir: &Path, llm: &FakeLlm, args: &[&str], env: &[(&str, &str)]) -> Serve {
    let models = dir.join("models.yaml");
    std::fs::write(&models, llm.models_yaml()).expect("writing models.yaml");
    let utf8 = |p: &Path| p.to_str().expect("a UTF-8 path").to_owned();
    let (site, models) = (utf8(built_site()), utf8(&models));
    let mut all = vec!["--web-dir", &site, "--models", &models];
    all.extend_from_slice(args);
    Serve::start(&dir.join("store"), &all, env)
}

/// Runs `web/tests/<script>` on the page `s` serves, prints its `figures:` lines, and stops
/// the server, which must exit cleanly.
fn run_live(script: &str, s: Serve, env: &[(&str, &OsStr)]) {
    let output = {
        let _turn = one_browser_at_a_time();
        run_script(script, &s.at("/"), env)
    };
    for line in output.lines().filter(|l| l.starts_with("figures:")) {
        eprintln!("{script}: {line}");
    }
    let (code, stderr) = s.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

/// The page served by the real `kiln serve` (no interception): online; a whole conversation
/// with a real OAuth redirect round trip per integration (OAuth2 server on loopback), Back
/// and an iteration; the LLM proxy's answer used and its garbage falling back to the rules;
/// then the dashboard drawing the server's /metrics.
#[test]
fn online_against_kiln_serve_with_real_oauth_the_llm_proxy_and_metrics() {
    let oauth = OauthServer::start();
    let llm = extraction_then_garbage();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = String::from("oauth:\n");
    for p in ["gmail", "slack"] {
        let issuer = &oauth.issuer;
        config.push_str(&format!(
            "  {p}:\n    authorize_url: \"{issuer}/authorize\"\n    token_url: \"{issuer}/token\"\n    client_id: kiln-{p}\n"
        ));
    }
    let config_file = dir.path().join("serve.yaml");
    std::fs::write(&config_file, config).expect("writing serve.yaml");
    let s = serve_site(dir.path(), &llm, &["--config", config_file.to_str().expect("UTF-8")], &[]);
    conversation_through_the_api(&s);
    let api_calls = llm.calls();
    assert!(api_calls > 0, "the server's own turns asked the model");
    run_live("live.mjs", s, &[("KILN_OAUTH_ISSUER", OsStr::new(&oauth.issuer))]);
    assert_screenshot("browser-online.png");
    assert!(llm.calls() > api_calls, "the page's turns reached the model through the proxy");
}

/// A content-addressed engine in the built site: `pkg/<engine>.<16 hex>.wasm` (`kiln_web_bg`,
/// the page's; `kiln_web_llm_bg`, the online one).
fn engine_file(site: &Path, engine: &str) -> String {
    let prefix = format!("{engine}.");
    let names: Vec<String> = std::fs::read_dir(site.join("pkg"))
        .expect("web/dist/pkg")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix) && n.ends_with(".wasm"))
        .collect();
    assert_eq!(names.len(), 1, "one {engine} in web/dist/pkg: {names:?}");
    let hash = names[0].trim_start_matches(&prefix).trim_end_matches(".wasm");
    assert!(hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{}", names[0]);
    names[0].clone()
}

/// `kiln serve` sends the built site compressed (Brotli or gzip, whichever the browser
/// accepts, from the copies build.sh wrote) with cache headers: the engine, named by its
/// content, cached for a year; everything else revalidated, 304 while unchanged. Its
/// `kiln-server.json` says what it offers, where a static host serves the site's own file.
#[test]
fn kiln_serve_sends_the_site_compressed_and_cacheable() {
    let site = built_site();
    let engine = engine_file(site, "kiln_web_bg");
    let index = std::fs::read_to_string(site.join("index.html")).expect("index.html");
    assert!(index.contains(&format!("pkg/{engine}")), "the page fetches the engine by its hashed name");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("serve.yaml");
    std::fs::write(
        &config,
        "oauth:\n  gmail:\n    authorize_url: \"http://127.0.0.1:9/authorize\"\n    token_url: \"http://127.0.0.1:9/token\"\n    client_id: kiln-gmail\n",
    )
    .expect("writing serve.yaml");
    let utf8 = |p: &Path| p.to_str().expect("a UTF-8 path").to_owned();
    let s =
        Serve::start(&dir.path().join("store"), &["--web-dir", &utf8(site), "--config", &utf8(&config)], &[]);
    let http = reqwest::blocking::Client::new();
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut req = http.get(s.at(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().expect("GET from the loopback server");
        let status = r.status().as_u16();
        let header = |name: &str| r.headers().get(name).map(|v| v.to_str().expect("ASCII header").to_owned());
        let got = [
            header("content-type"),
            header("content-encoding"),
            header("cache-control"),
            header("vary"),
            header("last-modified"),
        ];
        (status, got, r.bytes().expect("the body").to_vec())
    };
    let (wasm_path, wasm_file) = (format!("/pkg/{engine}"), format!("pkg/{engine}"));
    for (path, file, content_type, cache) in [
        ("/", "index.html", "text/html", "no-cache"),
        (wasm_path.as_str(), wasm_file.as_str(), "application/wasm", "public, max-age=31536000, immutable"),
    ] {
        let plain = std::fs::read(site.join(file)).expect("the file");
        for (accept, encoding, body) in [
            ("gzip, deflate, br", Some("br"), std::fs::read(site.join(format!("{file}.br"))).expect(".br")),
            ("gzip", Some("gzip"), std::fs::read(site.join(format!("{file}.gz"))).expect(".gz")),
            ("identity", None, plain.clone()),
        ] {
            let (status, [ct, ce, cc, vary, _], got) = get(path, &[("accept-encoding", accept)]);
            assert_eq!(status, 200, "{path} ({accept})");
            assert!(ct.as_deref().is_some_and(|t| t.starts_with(content_type)), "{path} ({accept}): {ct:?}");
            assert_eq!(ce.as_deref(), encoding, "{path} ({accept})");
            assert_eq!(cc.as_deref(), Some(cache), "{path} ({accept})");
            assert!(
                vary.as_deref().is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
                "{path}: {vary:?}"
            );
            assert!(got == body, "{path} ({accept}): the body is not {file} as encoded by build.sh");
            if encoding.is_some() {
                assert!(
                    got.len() * 2 < plain.len(),
                    "{path} ({accept}): {} of {} bytes",
                    got.len(),
                    plain.len()
                );
            }
        }
    }
    // Unchanged since the browser's copy: 304, still to be revalidated next time.
    let (_, [.., modified], _) = get("/", &[]);
    let modified = modified.expect("Last-Modified on the page");
    let (status, [_, _, cc, ..], body) = get("/", &[("if-modified-since", &modified)]);
    assert_eq!((status, cc.as_deref(), body.len()), (304, Some("no-cache"), 0));
    // A missing file is not cached.
    let (status, [_, _, cc, ..], _) = get("/pkg/kiln_web_bg.0000000000000000.wasm", &[]);
    assert_eq!((status, cc), (404, None));
    // What the server offers, where a static host serves the site's own file.
    let (status, [ct, _, cc, ..], body) = get("/kiln-server.json", &[]);
    assert_eq!((status, ct.as_deref(), cc.as_deref()), (200, Some("application/json"), Some("no-store")));
    let offered: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        [&offered["server"], &offered["models"], &offered["sign_in"], &offered["api_keys"]],
        [&json!("kiln serve"), &json!(false), &json!(["gmail"]), &json!(false)]
    );
    let static_file: Value =
        serde_json::from_slice(&std::fs::read(site.join("kiln-server.json")).expect("the site's own file"))
            .expect("JSON");
    assert_eq!(static_file["server"], Value::Null, "on a static host the page learns there is no server");
    let (code, stderr) = s.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

/// The most the builder page may download gzipped, in KB of 1024 bytes, on a static host or a
/// `kiln serve` without models (its own engine, which asks no model). Issue #20's target is
/// 220 KB; the page is not there yet (238.9 KB on 2026-12-08 at 4c5881e, docs/benchmarks.md),
/// so this is a ceiling a little above what it has reached (room for a few days of catalog and
/// extractor growth), which stops it growing unnoticed: lower it with every cut, and never
/// raise it without saying why in the commit.
const DOWNLOAD_CEILING_KB: u64 = 244;

/// The same for the first load of a page whose server has models: the above, then the glue
/// again (a second instance) and the online engine (482.7 KB on 2026-12-08). Later loads fetch
/// the online engine instead of the page's (docs/web.md, "Two engines").
const FIRST_ONLINE_DOWNLOAD_CEILING_KB: u64 = 492;

/// Everything the builder page downloads (its HTML with the stylesheet and modules inline,
/// the engine, its status file; with models, the online engine in a second glue), measured
/// as `kiln serve` sends it to a browser that takes gzip: the `.gz` copies build.sh wrote.
/// The page must fetch nothing else, or this would not count it.
#[test]
fn the_builder_page_downloads_no_more_than_its_ceiling() {
    let site = built_site();
    let index = std::fs::read_to_string(site.join("index.html")).expect("index.html");
    for extra in ["src=", "rel=\"stylesheet\"", "rel=\"modulepreload\"", "rel=\"preload\""] {
        assert!(!index.contains(extra), "the built page loads a file through {extra}; count it here");
    }
    let engine = format!("pkg/{}", engine_file(site, "kiln_web_bg"));
    let online = format!("pkg/{}", engine_file(site, "kiln_web_llm_bg"));
    let glue = "pkg/kiln_web.js";
    // Every file under pkg/ the page names (fetches, the glue's second instance).
    for named in index.split("pkg/").skip(1) {
        let end = named.find(['"', '\'', '`', '?', ')']).unwrap_or(named.len());
        let url = format!("pkg/{}", &named[..end]);
        assert!([&engine, &online, glue].contains(&&*url), "the built page loads {url}; count it here");
    }
    // Fetches of a literal URL (the glue's `fetch(url)` fallback is never used: build.sh).
    let fetched = index
        .split("fetch(")
        .skip(1)
        .filter(|call| call.starts_with(['"', '\'']))
        .filter_map(|call| call[1..].split(['"', '\'']).next());
    for url in fetched {
        assert!(
            url == "kiln-server.json" || url.starts_with("/v1/"),
            "the built page fetches {url}; count it here"
        );
    }
    let gz = |f: &str| {
        std::fs::metadata(site.join(format!("{f}.gz"))).unwrap_or_else(|e| panic!("{f}.gz: {e}")).len()
    };
    let kb = |bytes: u64| bytes as f64 / 1024.0;
    let page = ["index.html", engine.as_str(), "kiln-server.json"];
    let total: u64 = page.iter().map(|f| gz(f)).sum();
    assert!(
        total <= DOWNLOAD_CEILING_KB * 1024,
        "the builder page downloads {:.1} KB gzipped ({page:?}: {:?} bytes), over its {DOWNLOAD_CEILING_KB} KB ceiling",
        kb(total),
        page.map(gz)
    );
    let first_online = total + gz(glue) + gz(&online);
    assert!(
        first_online <= FIRST_ONLINE_DOWNLOAD_CEILING_KB * 1024,
        "with models, the first load downloads {:.1} KB gzipped (+ {glue}, {online}), over its \
         {FIRST_ONLINE_DOWNLOAD_CEILING_KB} KB ceiling",
        kb(first_online)
    );
}

/// A key for the tenant `acme`, and its hash as `kiln hash-key` prints it.
const LIVE_KEY: &str = "browser-live-key-0123";
const LIVE_KEY_HASH: &str = "sha256:554c990369929180cf1e74e0a1554719b465224bd75ee3dae336bda4fcb02ba8";

/// The real server with API keys and no OAuth providers: without the key the proxy refuses
/// and the page says so (the rules answer); with it the proxy answers; connecting an account
/// the server has no provider for falls back to the simulated consent.
#[test]
fn online_against_kiln_serve_with_api_keys_and_no_oauth_providers() {
    let llm = extraction_then_garbage();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let keys = format!("acme={LIVE_KEY_HASH}");
    let s = serve_site(dir.path(), &llm, &[], &[("KILN_API_KEYS", &keys)]);
    run_live("live-key.mjs", s, &[("KILN_API_KEY", OsStr::new(LIVE_KEY))]);
    assert!(llm.calls() > 0, "with the key, the page's turns reached the model through the proxy");
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
    scenario(
        "parity.mjs",
        &[("KILN_PARITY_SCRIPT", script.as_os_str()), ("KILN_PARITY_OUT", result.as_os_str())],
    );
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
