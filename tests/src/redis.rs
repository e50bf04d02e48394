//! A throwaway `redis-server` for tests: a free loopback port, no persistence (unless
//! [`RedisServer::start_persistent`]), a temporary directory, killed on drop. Never a fixed
//! port or the system service.
//!
//! The binary is `$REDIS_SERVER` if set, else `redis-server` on the `PATH`
//! (`apt-get install -y redis-server`; `.ci/run` installs it).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long a starting server may take to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running `redis-server` owned by one test.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    /// Keep an append-only file, so a killed server restarts with its data.
    persistent: bool,
}

impl RedisServer {
    /// Starts a server on a free loopback port and waits until it answers.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// Like [`RedisServer::start`], but with an append-only file in its directory
    /// (`--appendonly yes`): Redis writes each command to the file before it answers, so a
    /// server killed with SIGKILL and [`restart`](RedisServer::restart)ed on the same port comes
    /// back with every write it acknowledged (the machine did not crash, the page cache holds it).
    pub fn start_persistent() -> Self {
        Self::start_with(true)
    }

    fn start_with(persistent: bool) -> Self {
        // Another process may take the port between our probe and redis binding it: retry.
        for _ in 0..5 {
            let dir =
                tempfile::Builder::new().prefix("kiln-redis-").tempdir().expect("a temporary directory");
            let mut server = Self { child: None, port: free_port(), dir, persistent };
            if server.spawn_and_wait() {
                return server;
            }
        }
        panic!("redis-server did not start on any of 5 free loopback ports");
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (SIGKILL: no goodbye to clients) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server with SIGSTOP: it keeps its port and connections but answers nothing
    /// (a hung Redis) until [`resume`](RedisServer::resume).
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a [`pause`](RedisServer::pause)d server run again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("redis-server is running");
        let status = Command::new("kill").arg(signal).arg(child.id().to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill {signal} redis-server failed");
    }

    /// Starts a server again on the same port: empty, unless it was started with
    /// [`start_persistent`](RedisServer::start_persistent).
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + START_TIMEOUT;
        while !self.spawn_and_wait() {
            assert!(Instant::now() < deadline, "redis-server did not restart on port {}", self.port);
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends one inline command and returns the raw reply line (e.g. `:1234` or `+OK`).
    pub fn command(&self, line: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to redis-server");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        s.write_all(format!("{line}\r\n").as_bytes()).expect("send");
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while !reply.ends_with(b"\r\n") {
            if s.read(&mut byte).expect("reply") == 0 {
                break;
            }
            reply.push(byte[0]);
        }
        String::from_utf8_lossy(&reply).trim_end().to_owned()
    }

    /// Spawns the server on `self.port`; true once it answers `PING`, false if it exited.
    fn spawn_and_wait(&mut self) -> bool {
        let bin = std::env::var_os("REDIS_SERVER")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "redis-server".into());
        let port = self.port.to_string();
        let appendonly = if self.persistent { "yes" } else { "no" };
        let child = Command::new(&bin)
            .args(["--bind", "127.0.0.1", "--port", &port, "--save", "", "--appendonly", appendonly])
            .args(["--appendfsync", "no"])
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}): install it with `apt-get install -y redis-server` \
                     (or set REDIS_SERVER to its path)",
                    bin.to_string_lossy()
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && child.try_wait().expect("waiting for redis-server").is_some()
            {
                self.child = None;
                return false;
            }
            if self.pong() {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        false
    }

    fn pong(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}
