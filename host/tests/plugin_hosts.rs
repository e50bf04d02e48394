//! The Node and Python packages (`host/node`, `host/python`) run their own test suites
//! (`node --test`, pytest) on the very component this crate embeds, so CI's `cargo test`
//! runs them. Needs what `tests/run --setup-only` installs: `npm ci` in host/node (the pinned
//! jco) and the virtualenv `target/pyhost` (wasmtime, redis, pytest, setuptools); the Python
//! tests also get a redis-server of their own and this build's `kiln` binary, to show a
//! Python service and `kiln` sharing sessions on Redis.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use kiln_tests::redis::RedisServer;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ lives in the repository").to_owned()
}

/// `kiln::runtime::COMPONENT` as a file, written once per test process.
fn component_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-hosts").join("kiln.wasm");
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the directory");
        std::fs::write(&path, kiln::runtime::COMPONENT).expect("write kiln.wasm");
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

#[test]
fn the_node_package_passes_its_tests() {
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
    let mut test = Command::new("node");
    test.args(["--test", "test/"]).current_dir(&dir);
    run(test, "host/node's tests (node --test)");
}

#[test]
fn the_python_package_installs_offline_and_passes_its_tests() {
    let dir = repo().join("host/python");
    let venv = repo().join("target/pyhost");
    let python = venv.join("bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run `tests/run --setup-only` (a virtualenv with host/python/requirements-dev.txt)",
        python.display()
    );
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
