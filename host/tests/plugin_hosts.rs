//! The Node and Python packages (`host/node`, `host/python`) run their own test suites
//! (`node --test`, pytest) on the very component this crate embeds, so CI's `cargo test`
//! runs them. Needs what `tests/run --setup-only` installs: `npm ci` in host/node (the pinned
//! jco) and the virtualenv `target/pyhost` (wasmtime, redis, pytest, setuptools); the Python
//! tests also get a redis-server of their own and this build's `kiln` binary, to show a
//! Python service and `kiln` sharing sessions on Redis.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use kiln_tests::redis::RedisServer;
use serde_json::Value;

mod common;

use common::recording::{Drive, first_difference, run as run_transcript};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ lives in the repository").to_owned()
}

/// `kiln_engine::runtime::COMPONENT` as a file, written once per test process.
fn component_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-hosts").join("kiln.wasm");
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the directory");
        std::fs::write(&path, kiln_engine::runtime::COMPONENT).expect("write kiln.wasm");
        path
    })
}

/// Runs `cmd`, echoes its output (the test runners' reports), and fails with it unless it
/// succeeded.
#[track_caller]
fn run(mut cmd: Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("could not start {what} ({:?}): {e}", cmd.get_program()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(out.status.success(), "{what} failed ({}):\n{stdout}\n{stderr}", out.status);
}

/// host/node with the component transpiled into its dist/, once per test process.
fn node_package() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = repo().join("host/node");
            let jco = dir.join("node_modules/.bin/jco");
            assert!(
                jco.is_file(),
                "{} is missing: run `tests/run --setup-only` (npm ci in host/node)",
                jco.display()
            );
            let mut build = Command::new("node");
            build.arg("scripts/build.mjs").current_dir(&dir).env("KILN_WASM", component_file());
            run(build, "host/node's build (jco transpile)");
            dir
        })
        .clone()
}

fn python() -> PathBuf {
    let python = repo().join("target/pyhost/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run `tests/run --setup-only` (a virtualenv with host/python/requirements-dev.txt)",
        python.display()
    );
    python
}

#[test]
fn the_node_package_passes_its_tests() {
    let mut test = Command::new("node");
    test.args(["--test", "test/"]).current_dir(node_package());
    run(test, "host/node's tests (node --test)");
}

#[test]
fn the_python_package_installs_offline_and_passes_its_tests() {
    let dir = repo().join("host/python");
    let python = python();
    // The wheel, built offline with kiln.wasm inside: what `pip install ./host/python` does,
    // minus the network (the dependencies are already in the virtualenv).
    let mut install = Command::new(&python);
    install
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-build-isolation"])
        .args(["--no-index", "--no-deps", "--force-reinstall"])
        .arg(&dir)
        .env("KILN_WASM", component_file());
    run(install, "pip install ./host/python");
    let redis = RedisServer::start();
    let mut test = Command::new(&python);
    test.args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"])
        .current_dir(&dir)
        .env("KILN_TEST_STRICT", "1")
        .env("KILN_BIN", env!("CARGO_BIN_EXE_kiln"))
        .env("KILN_TEST_REDIS_URL", redis.url())
        .env("KILN_CACHE_DIR", kiln_tests::cache_dir());
    run(test, "host/python's tests (pytest)");
}

/// Runs `cmd` and reads the trace it prints (JSON).
fn trace_of(mut cmd: Command, what: &str) -> Vec<Value> {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("could not start {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what} printed no JSON trace: {e}"))
}

/// Item 4 of issue #18 for three hosts: the parity transcript through wasmtime (the step
/// protocol and the blocking turn), Node (jco) and Python (wasmtime-py), each with the same clock, random bytes
/// and scripted LLM answers; every import call, LLM request, progress line, chunk, queue
/// answer and stored byte agrees. (The browser build runs kiln-core through wasm-bindgen,
/// not this component, and is not part of this comparison.)
#[test]
fn wasmtime_node_and_python_agree_on_every_call_chunk_and_byte() {
    let transcript = repo().join("host/tests/parity/transcript.json");
    let wasmtime = run_transcript(Drive::Stepped);
    let blocking = run_transcript(Drive::Blocking);
    let mut node = Command::new("node");
    node.arg("scripts/parity.mjs").arg(&transcript).current_dir(node_package());
    let node = trace_of(node, "host/node/scripts/parity.mjs");
    let mut python = Command::new(python());
    python
        .arg(repo().join("host/python/scripts/parity.py"))
        .arg(&transcript)
        .env("PYTHONPATH", repo().join("host/python/src"))
        .env("KILN_WASM", component_file());
    let python = trace_of(python, "host/python/scripts/parity.py");
    let count = |name: &str| wasmtime.iter().filter(|e| e[0] == name).count();
    assert!(count("llm") >= 3 && count("conversation") == 2, "a real transcript");
    let phases: std::collections::BTreeSet<&str> =
        wasmtime.iter().filter(|e| e[0] == "chunk").filter_map(|e| e[1]["phase"].as_str()).collect();
    for phase in ["discovery", "oauth-flow", "requirements", "testing", "activation", "complete", "idle"] {
        assert!(phases.contains(phase), "the transcript never reaches {phase}: {phases:?}");
    }
    for (host, trace) in [("wasmtime's blocking turn", &blocking), ("node", &node), ("python", &python)] {
        if let Some(diff) = first_difference(&wasmtime, trace) {
            panic!("wasmtime and {host} differ at {diff}");
        }
    }

    // The comparison sees one flipped bit in one stored byte.
    let mut flipped = wasmtime.clone();
    let stored = flipped.last_mut().and_then(|e| e[1].as_object_mut()).expect("the stored bytes come last");
    let (key, entry) = stored.iter_mut().next().expect("something is stored");
    let key = key.clone();
    let mut bytes = B64.decode(entry[1].as_str().expect("base64")).expect("base64");
    bytes[0] ^= 1;
    entry[1] = Value::String(B64.encode(&bytes));
    let diff = first_difference(&wasmtime, &flipped).expect("a flipped bit is a difference");
    assert!(diff.contains(&key), "{diff}");
}
