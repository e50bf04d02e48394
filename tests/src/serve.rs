//! `kiln serve` as a child process on a free loopback port, and a small HTTP client for it
//! (blocking reqwest; SSE bodies parsed into events).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::fake_http::{Answer, FakeHttp};
use crate::{kiln_command, spawn_announcing};

/// A running `kiln serve`; SIGTERM and wait on drop.
pub struct Serve {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    stderr: Option<ChildStderr>,
}

impl Serve {
    /// Starts `kiln --dir <dir> serve --port 0 <args>` with extra environment, and waits for
    /// its "listening" line.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_command(kiln_command(), dir, args, env)
    }

    /// [`Serve::start`] with the given `kiln` command (e.g. one under resource limits).
    pub fn start_command(mut cmd: Command, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        cmd.arg("--dir").arg(dir).args(["serve", "--port", "0"]).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stderr(Stdio::piped());
        let (mut child, line) = spawn_announcing(cmd, Duration::from_secs(120));
        let listening: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        let Some(url) = listening["listening"].as_str().map(str::to_owned) else {
            let _ = child.kill();
            let out = child.wait_with_output().expect("wait");
            panic!(
                "kiln serve did not start (first stdout line {line:?}); stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let stderr = child.stderr.take();
        Self { child, url, stderr }
    }

    /// The URL of `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The process id (for signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits: the exit code and everything the server wrote to stderr.
    pub fn stop(mut self) -> (Option<i32>, String) {
        terminate(self.child.id());
        let status = self.child.wait().expect("wait for kiln serve");
        let mut err = String::new();
        if let Some(mut s) = self.stderr.take() {
            let _ = s.read_to_string(&mut err);
        }
        (status.code(), err)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// SIGTERM to `pid`.
pub fn terminate(pid: u32) {
    let status = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    assert!(status.is_ok_and(|s| s.success()), "kill -TERM {pid} failed");
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// `content-type`, if any.
    pub content_type: String,
    /// `location`, if any.
    pub location: Option<String>,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The error kind of an error body.
    pub fn kind(&self) -> String {
        self.json()["error"]["kind"].as_str().unwrap_or("").to_owned()
    }

    /// SSE events as (event name, data JSON).
    pub fn events(&self) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for block in self.body.split("\n\n") {
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            if !data.is_empty() {
                out.push((name, serde_json::from_str(&data).unwrap_or(Value::String(data))));
            }
        }
        out
    }

    /// The `chunk` events' data.
    pub fn chunks(&self) -> Vec<Value> {
        self.events().into_iter().filter(|(n, _)| n == "chunk").map(|(_, v)| v).collect()
    }
}

/// A blocking client that does not follow redirects, with an optional API key and user.
#[derive(Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    key: Option<String>,
    user: Option<String>,
}

impl Default for Client {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Client {
    /// A client sending `Authorization: Bearer <key>` when given.
    pub fn new(key: Option<&str>) -> Self {
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(120))
            .build()
            .expect("http client");
        Self { http, key: key.map(str::to_owned), user: None }
    }

    /// The same client with another whole-request timeout (default 120 s).
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .expect("http client");
        Self { http, ..self.clone() }
    }

    /// The same client speaking as `user` (`X-Kiln-User`).
    pub fn as_user(&self, user: &str) -> Self {
        Self { user: Some(user.to_owned()), ..self.clone() }
    }

    fn send(&self, req: reqwest::blocking::RequestBuilder) -> Reply {
        self.try_send(req).expect("HTTP request to a loopback server")
    }

    fn try_send(&self, mut req: reqwest::blocking::RequestBuilder) -> Result<Reply, reqwest::Error> {
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        if let Some(u) = &self.user {
            req = req.header("x-kiln-user", u);
        }
        let resp = req.send()?;
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (status, content_type, location) =
            (resp.status().as_u16(), header("content-type").unwrap_or_default(), header("location"));
        let body = resp.text()?;
        Ok(Reply { status, content_type, location, body })
    }

    /// GET, with a transport failure (refused, timed out) as an error instead of a panic.
    pub fn try_get(&self, url: &str) -> Result<Reply, reqwest::Error> {
        self.try_send(self.http.get(url))
    }

    /// POST with a JSON body, with a transport failure as an error instead of a panic.
    pub fn try_post(&self, url: &str, body: Option<&Value>) -> Result<Reply, reqwest::Error> {
        let req = self.http.post(url);
        self.try_send(match body {
            Some(b) => req.json(b),
            None => req,
        })
    }

    /// GET.
    pub fn get(&self, url: &str) -> Reply {
        self.send(self.http.get(url))
    }

    /// DELETE.
    pub fn delete(&self, url: &str) -> Reply {
        self.send(self.http.delete(url))
    }

    /// POST with a JSON body (`None`: no body).
    pub fn post(&self, url: &str, body: Option<&Value>) -> Reply {
        let req = self.http.post(url);
        self.send(match body {
            Some(b) => req.json(b),
            None => req,
        })
    }

    /// POST with a raw body and content type.
    pub fn post_raw(&self, url: &str, content_type: &str, body: Vec<u8>) -> Reply {
        self.send(self.http.post(url).header("content-type", content_type).body(body))
    }

    /// POST asking for JSON instead of SSE.
    pub fn post_json_reply(&self, url: &str, body: Option<&Value>) -> Reply {
        let req = self.http.post(url).header("accept", "application/json");
        self.send(match body {
            Some(b) => req.json(b),
            None => req,
        })
    }
}

/// The real OAuth2 server (npm `oauth2-mock-server`, installed by `.ci/run` with `npm ci` in
/// tests/oauth) on a free loopback port.
pub struct OauthServer {
    child: Child,
    /// Its issuer URL (`/authorize`, `/token` below it).
    pub issuer: String,
}

impl OauthServer {
    /// Starts it; fails with what to do when Node or the package is missing.
    pub fn start() -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oauth");
        assert!(
            dir.join("node_modules/oauth2-mock-server").is_dir(),
            "oauth2-mock-server is not installed: run `npm ci --prefix tests/oauth` (as .ci/run does)"
        );
        let mut cmd = std::process::Command::new("node");
        cmd.arg("server.mjs").current_dir(&dir).stdin(Stdio::null()).stderr(Stdio::inherit());
        let (child, line) = spawn_announcing(cmd, Duration::from_secs(60));
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        let issuer = v["issuer"].as_str().unwrap_or_else(|| panic!("no issuer in {line:?}")).to_owned();
        Self { child, issuer }
    }
}

impl Drop for OauthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A serve.yaml in `dir` connecting gmail and slack through the OAuth server at `issuer`
/// (client ids `kiln-gmail`, `kiln-slack`), plus `extra` YAML; its path.
pub fn oauth_config(dir: &Path, issuer: &str, extra: &str) -> String {
    let mut yaml = String::from("oauth:\n");
    for p in ["gmail", "slack"] {
        yaml.push_str(&format!(
            "  {p}:\n    authorize_url: \"{issuer}/authorize\"\n    token_url: \"{issuer}/token\"\n    client_id: kiln-{p}\n"
        ));
    }
    yaml.push_str(extra);
    let path = dir.join("serve.yaml");
    std::fs::write(&path, yaml).expect("write serve.yaml");
    path.display().to_string()
}

/// What a [`FakeLlm`] answers: the assistant's message for a request (the request's JSON).
pub type LlmReplies = Box<dyn Fn(&Value) -> String + Send + Sync>;

/// An OpenAI-compatible chat completions server on a free loopback port (the
/// [`FakeHttp`] kit): every request is answered with one completion whose message is
/// `replies(request)`; requests are counted.
pub struct FakeLlm {
    /// The `base_url` for a models.yaml (`http://127.0.0.1:<port>/v1`).
    pub url: String,
    server: FakeHttp,
}

impl FakeLlm {
    /// Starts serving (for the rest of the test process).
    pub fn start(replies: LlmReplies) -> Self {
        let server = FakeHttp::respond(move |request| {
            let message = json!({"role": "assistant", "content": replies(&request.body)});
            let body = json!({
                "id": "fake", "object": "chat.completion", "model": "fake-model",
                "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
            });
            Answer::json(200, &body)
        });
        Self { url: server.v1(), server }
    }

    /// How many requests it answered so far.
    pub fn calls(&self) -> usize {
        self.server.calls()
    }

    /// A models.yaml with this server as provider `fake` and the rules as the fallback.
    pub fn models_yaml(&self) -> String {
        format!(
            "providers:\n  fake: {{ kind: openai, base_url: \"{}\", model: fake-model, timeout_ms: 20000 }}\n  rules: {{ kind: offline }}\nfallback_chain: [fake, rules]\n",
            self.url
        )
    }
}
