//! `kiln serve` as a child process on a free loopback port, and a small HTTP client for it
//! (blocking reqwest; SSE bodies parsed into events).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use serde_json::Value;

use crate::kiln_command;

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
        let mut cmd = kiln_command();
        cmd.arg("--dir").arg(dir).args(["serve", "--port", "0"]).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn kiln serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut first = String::new();
            let _ = BufReader::new(stdout).read_line(&mut first);
            let _ = tx.send(first);
        });
        let line = rx.recv_timeout(Duration::from_secs(120)).unwrap_or_default();
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
            let _ = std::io::Read::read_to_string(&mut s, &mut err);
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

    /// The same client speaking as `user` (`X-Kiln-User`).
    pub fn as_user(&self, user: &str) -> Self {
        Self { user: Some(user.to_owned()), ..self.clone() }
    }

    fn send(&self, mut req: reqwest::blocking::RequestBuilder) -> Reply {
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        if let Some(u) = &self.user {
            req = req.header("x-kiln-user", u);
        }
        let resp = req.send().expect("HTTP request to a loopback server");
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (status, content_type, location) =
            (resp.status().as_u16(), header("content-type").unwrap_or_default(), header("location"));
        let body = resp.text().unwrap_or_default();
        Reply { status, content_type, location, body }
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
        let mut child = std::process::Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node tests/oauth/server.mjs (is Node.js installed?)");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout).read_line(&mut line).expect("read the OAuth server's first line");
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
