//! Shared helpers for the cross-part tests: find the `kiln` binary, run it against a store
//! in a temporary directory, and read what it wrote.
//!
//! The binary is `$KILN_BIN` if set, else `target/<profile>/kiln` next to the test
//! executable; build it first with `cargo build -p kiln`. Every run gets
//! `KILN_CACHE_DIR=<target>/kiln-test-cache` (unless `KILN_CACHE_DIR` is already set) so the
//! compiled component is cached once for all test processes.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod fake_http;
pub mod race;
pub mod redis;
pub mod serve;

/// A builder request the offline rules understand completely.
pub const BUILDER_REQUEST: &str = "Every weekday at 9, summarise my unread Gmail and post it to Slack #team";

/// A whole builder conversation, from [`BUILDER_REQUEST`] to an active agent (7 turns).
pub const BUILDER_FULL_RUN: &[&str] =
    &[BUILDER_REQUEST, "/approve", "/approve", "London time", "yes", "looks good", "yes"];

/// How long one `kiln` run may take before the test calls it hung.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The `kiln` binary under test.
pub fn kiln_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("KILN_BIN").filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(bin.is_file(), "KILN_BIN={} does not exist", bin.display());
        return bin;
    }
    // The test executable is target/<profile>/deps/<test>-<hash>; kiln is target/<profile>/kiln.
    let exe = std::env::current_exe().expect("the path of the running test executable");
    let profile_dir =
        exe.parent().and_then(Path::parent).expect("the test executable lives in target/<profile>/deps");
    let bin = profile_dir.join(format!("kiln{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the kiln binary is missing at {}: build it with `cargo build -p kiln` (or set KILN_BIN)",
        bin.display()
    );
    bin
}

/// Where the compiled component is cached for every test process.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KILN_CACHE_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the path of the running test executable");
    // target/<profile>/deps/<exe> -> target
    let target = exe.ancestors().nth(3).expect("the test executable lives in target/<profile>/deps");
    target.join("kiln-test-cache")
}

/// A bare `kiln` command: no `--dir`, `KILN_DIR` removed, the shared component cache,
/// stdin closed, stdout and stderr captured.
pub fn kiln_command() -> Command {
    configured(Command::new(kiln_bin()))
}

/// [`kiln_command`] run under `prlimit --as=<bytes>`: a process that may not reserve more
/// address space than that (as under `ulimit -v`).
pub fn kiln_command_limited(address_space_bytes: u64) -> Command {
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={address_space_bytes}")).arg("--").arg(kiln_bin());
    configured(cmd)
}

fn configured(mut cmd: Command) -> Command {
    cmd.env("KILN_CACHE_DIR", cache_dir())
        .env_remove("KILN_DIR")
        .env_remove("KILN_STORE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// What one `kiln` run did.
#[derive(Debug)]
pub struct Outcome {
    /// The command line, for failure messages.
    pub args: Vec<OsString>,
    /// How it ended.
    pub status: ExitStatus,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8).
    pub stderr: String,
}

impl Outcome {
    /// The exit code (`None` when killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Asserts the exit code is `code`, and returns `self`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "exit status of kiln {:?}\n{self}", self.args);
        self
    }

    /// Asserts success (exit 0) and returns `self`.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }

    /// Asserts an operational failure: exit 1, nothing on stdout, and a message on stderr.
    #[track_caller]
    pub fn failed(&self) -> &Self {
        self.expect_code(1);
        assert!(self.stdout.is_empty(), "a failed command printed to stdout\n{self}");
        assert!(!self.stderr.trim().is_empty(), "a failed command said nothing on stderr\n{self}");
        self
    }

    /// Asserts a usage error: exit 2, nothing on stdout, a message on stderr.
    #[track_caller]
    pub fn usage_error(&self) -> &Self {
        self.expect_code(2);
        assert!(self.stdout.is_empty(), "a usage error printed to stdout\n{self}");
        assert!(self.stderr.contains("error"), "a usage error without an error message\n{self}");
        self
    }

    /// Asserts stderr contains `needle`.
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}\n{self}");
        self
    }

    /// Asserts stdout contains `needle`.
    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n{self}");
        self
    }

    /// Stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{self}"))
    }

    /// The `{"error": {"kind", "message"}}` a `--json` run printed on stderr: (kind, message).
    #[track_caller]
    pub fn json_error(&self) -> (String, String) {
        let v: Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not one JSON error object ({e})\n{self}"));
        let kind = v["error"]["kind"].as_str().unwrap_or_else(|| panic!("no error.kind\n{self}"));
        let message = v["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message\n{self}"));
        assert!(!message.is_empty(), "empty error message\n{self}");
        (kind.to_owned(), message.to_owned())
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}", self.status, self.stdout, self.stderr)
    }
}

/// Runs `cmd` to completion (with `stdin` fed to it, if any) and checks it did not panic.
/// Panics if it runs longer than [`RUN_TIMEOUT`].
pub fn run_command(mut cmd: Command, stdin: Option<&[u8]>) -> Outcome {
    let args: Vec<OsString> = cmd.get_args().map(OsStr::to_owned).collect();
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("could not start kiln {args:?}: {e}"));
    let writer = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("piped stdin");
        let bytes = bytes.to_vec();
        // kiln may exit without reading everything (an error): a broken pipe is fine.
        thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_with_timeout(&mut child, RUN_TIMEOUT)
        .unwrap_or_else(|| panic!("kiln {args:?} ran longer than {RUN_TIMEOUT:?}: killed"));
    if let Some(w) = writer {
        w.join().expect("the stdin writer thread");
    }
    let outcome = Outcome {
        args,
        status,
        stdout: String::from_utf8_lossy(&stdout.join().expect("stdout reader")).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.join().expect("stderr reader")).into_owned(),
    };
    assert_no_panic(&outcome);
    outcome
}

/// Fails the test if kiln panicked (a panic is never an acceptable answer to any input).
#[track_caller]
pub fn assert_no_panic(outcome: &Outcome) {
    assert!(
        !outcome.stderr.contains("panicked") && !outcome.stdout.contains("panicked"),
        "kiln {:?} panicked\n{outcome}",
        outcome.args
    );
    if let Some(code) = outcome.code() {
        // Rust's panic exit code; a usage or operational error is 1 or 2.
        assert_ne!(code, 101, "kiln {:?} exited 101 (panic)\n{outcome}", outcome.args);
    }
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Starts `cmd` with its stdout piped and waits up to `timeout` for the first line it prints
/// (how the test servers announce their address): the child and that line, empty when none
/// came in time (the caller says what it expected).
pub fn spawn_announcing(mut cmd: Command, timeout: Duration) -> (Child, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {:?}: {e}", cmd.get_program()));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        let _ = tx.send(line);
    });
    (child, rx.recv_timeout(timeout).unwrap_or_default())
}

/// Waits for `child`, killing it after `timeout`: `None` if it had to be killed.
pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_micros(200);
    loop {
        if let Some(status) = child.try_wait().expect("waiting for kiln") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
}

/// A store in a fresh temporary directory, and `kiln` run against it with `--dir`.
#[derive(Debug)]
pub struct Kiln {
    tmp: tempfile::TempDir,
    store: PathBuf,
    /// `--store <spec>` for every run, when the store is not the directory.
    spec: Option<String>,
}

impl Default for Kiln {
    fn default() -> Self {
        Self::new()
    }
}

impl Kiln {
    /// A new, empty store (the directory does not exist yet; kiln creates it) in the
    /// system's temporary directory.
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new().prefix("kiln-test-").tempdir().expect("a temporary directory");
        let store = tmp.path().join("store");
        Self { tmp, store, spec: None }
    }

    /// Like [`Kiln::new`], but every run passes `--store <spec>` (e.g. a Redis URL).
    pub fn with_store(spec: impl Into<String>) -> Self {
        Self { spec: Some(spec.into()), ..Self::new() }
    }

    /// Like [`Kiln::new`], but in memory (`/dev/shm`) when the machine has it: the file
    /// store fsyncs every write under its lock, which on a real disk makes a test with
    /// thousands of writes take minutes. For tests about concurrency, not durability.
    pub fn new_in_memory() -> Self {
        let shm = Path::new("/dev/shm");
        let tmp = if shm.is_dir() {
            tempfile::Builder::new().prefix("kiln-test-").tempdir_in(shm).ok()
        } else {
            None
        };
        match tmp {
            Some(tmp) => {
                let store = tmp.path().join("store");
                Self { tmp, store, spec: None }
            }
            None => Self::new(),
        }
    }

    /// The temporary directory holding the store (the working directory of every run).
    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// The store directory passed as `--dir`.
    pub fn store(&self) -> &Path {
        &self.store
    }

    /// `store/conversations`.
    pub fn conversations_dir(&self) -> PathBuf {
        self.store.join("conversations")
    }

    /// `store/conversations/index.json`.
    pub fn index_path(&self) -> PathBuf {
        self.conversations_dir().join("index.json")
    }

    /// `store/conversations/<id>.json`.
    pub fn conversation_path(&self, id: &str) -> PathBuf {
        self.conversations_dir().join(format!("{id}.json"))
    }

    /// `kiln --dir <store> [--store <spec>] <args...>`, run in the temporary directory; not
    /// started yet.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = kiln_command();
        cmd.current_dir(self.root()).arg("--dir").arg(&self.store);
        if let Some(spec) = &self.spec {
            cmd.arg("--store").arg(spec);
        }
        cmd.args(args);
        cmd
    }

    /// Runs `kiln --dir <store> <args...>`.
    pub fn run<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run_command(self.command(args), None)
    }

    /// Runs `kiln --dir <store> <args...>` with `stdin` on standard input.
    pub fn run_stdin<I, S>(&self, args: I, stdin: &[u8]) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run_command(self.command(args), Some(stdin))
    }

    /// `kiln conversations add <prompt> <extra...>`, which must succeed; returns the id.
    #[track_caller]
    pub fn add_with(&self, prompt: &str, extra: &[&str]) -> String {
        let mut args = vec!["conversations", "add", prompt];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        out.ok();
        let id = out.stdout.trim().to_owned();
        assert_uuid_v4(&id);
        assert_eq!(out.stdout, format!("{id}\n"), "add prints the id alone\n{out}");
        id
    }

    /// `kiln conversations add <prompt>`, which must succeed; returns the id.
    #[track_caller]
    pub fn add(&self, prompt: &str) -> String {
        self.add_with(prompt, &[])
    }

    /// The ids in `index.json`, checking its shape.
    #[track_caller]
    pub fn queue(&self) -> Vec<String> {
        read_queue(&self.index_path())
    }

    /// Every file under the store except kiln's own `.kiln/` bookkeeping, with its bytes.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        snapshot(&self.store)
    }
}

/// Reads and checks an index file: a JSON object whose `queue` is an array of strings.
#[track_caller]
pub fn read_queue(path: &Path) -> Vec<String> {
    let v = read_json(path);
    let queue = v.get("queue").and_then(Value::as_array).unwrap_or_else(|| {
        panic!("{} is not {{\"queue\": [...]}}: {v}", path.display());
    });
    queue
        .iter()
        .map(|id| id.as_str().unwrap_or_else(|| panic!("{}: non-string id {id}", path.display())).to_owned())
        .collect()
}

/// Reads and parses a JSON file.
#[track_caller]
pub fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!("{} is not valid JSON ({e}): {:?}", path.display(), String::from_utf8_lossy(&bytes))
    })
}

/// Every file under `dir`, recursively, except the `.kiln/` bookkeeping directory at its top.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, top: bool, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries {
            let entry = entry.expect("a directory entry");
            let path = entry.path();
            if top && entry.file_name() == ".kiln" {
                continue;
            }
            let file_type = entry.file_type().expect("a file type");
            if file_type.is_dir() {
                walk(&path, false, out);
            } else {
                let bytes =
                    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
                out.insert(path, bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, true, &mut out);
    out
}

/// Asserts `id` is a lowercase hyphenated UUID version 4 (RFC 4122 variant).
#[track_caller]
pub fn assert_uuid_v4(id: &str) {
    let groups: Vec<&str> = id.split('-').collect();
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    assert_eq!(lens, [8, 4, 4, 4, 12], "{id:?} is not a hyphenated UUID");
    assert!(
        id.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "{id:?} is not lowercase hex"
    );
    assert!(groups[2].starts_with('4'), "{id:?} is not version 4");
    assert!(
        matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
        "{id:?} is not the RFC 4122 variant"
    );
}

/// Parses an RFC 3339 UTC timestamp `YYYY-MM-DDTHH:MM:SS[.fraction]Z` into Unix seconds;
/// `None` if it is not exactly that shape.
pub fn parse_rfc3339_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let rest = &s[19..];
    let rest = rest.strip_suffix('Z')?;
    if !rest.is_empty() {
        let fraction = rest.strip_prefix('.')?;
        if fraction.is_empty() || fraction.len() > 9 || !fraction.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("a clock after 1970");
    i64::try_from(d.as_secs()).expect("a plausible date")
}

/// A small deterministic PRNG (SplitMix64), so randomised tests replay from their seed.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parser_accepts_utc_and_rejects_the_rest() {
        assert_eq!(parse_rfc3339_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339_utc("2026-11-22T03:22:13.846225Z"), Some(1_795_317_733));
        assert_eq!(parse_rfc3339_utc("2000-03-01T00:00:00.5Z"), Some(951_868_800));
        for bad in [
            "2026-11-22T03:22:13+00:00",
            "2026-11-22 03:22:13Z",
            "2026-11-22T03:22:13.Z",
            "2026-13-22T03:22:13Z",
            "2026-11-22T03:22:13",
            "x",
        ] {
            assert_eq!(parse_rfc3339_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn uuid_check() {
        assert_uuid_v4("2f1c0e9a-0b7d-4c3e-9a51-0c7c2a3c9d10");
        assert!(std::panic::catch_unwind(|| assert_uuid_v4("2f1c0e9a-0b7d-1c3e-9a51-0c7c2a3c9d10")).is_err());
        assert!(std::panic::catch_unwind(|| assert_uuid_v4("2F1C0E9A-0B7D-4C3E-9A51-0C7C2A3C9D10")).is_err());
    }

    #[test]
    fn splitmix_is_deterministic() {
        let (mut a, mut b) = (SplitMix64::new(7), SplitMix64::new(7));
        let xs: Vec<u64> = (0..8).map(|_| a.below(16)).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.below(16)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().any(|&x| x != xs[0]));
    }
}
