//! The OpenAPI document is the contract: schemathesis (pinned in
//! `tests/schemathesis/requirements.txt`, installed by `.ci/run` into
//! `target/schemathesis`) generates requests from `/openapi.json` against `kiln serve` on
//! loopback, without keys and with a tenant key, and every one of its checks must pass:
//! every status and body the server answers is one the document lists, and every request
//! the document allows is accepted.

use std::path::PathBuf;
use std::process::Command;

use kiln_tests::kiln_command;
use kiln_tests::serve::Serve;

/// Test cases per operation: enough to reach every status of every route, bounded so the
/// run takes a few minutes on a CI machine.
const MAX_EXAMPLES: &str = "30";

/// The `st` executable: `KILN_SCHEMATHESIS`, else the virtualenv `.ci/run` makes.
fn schemathesis() -> PathBuf {
    if let Some(st) = std::env::var_os("KILN_SCHEMATHESIS").filter(|v| !v.is_empty()) {
        return PathBuf::from(st);
    }
    let st = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/schemathesis/bin/st");
    assert!(
        st.is_file(),
        "schemathesis is not installed at {}: run `python3 -m venv target/schemathesis && \
         target/schemathesis/bin/pip install -r tests/schemathesis/requirements.txt` from the \
         repository root (as .ci/run does), or set KILN_SCHEMATHESIS to an `st` executable",
        st.display()
    );
    st
}

/// Runs every check against `s`, sending `headers` with every request.
fn check(s: &Serve, headers: &[&str]) {
    let report = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(schemathesis());
    cmd.arg("run")
        .arg(s.at("/openapi.json"))
        .args(["--url", &s.url])
        .args(["--checks", "all", "--max-examples", MAX_EXAMPLES, "--seed", "19", "--workers", "1"])
        .args(["--generation-database", "none", "--no-color", "--request-timeout", "60"])
        .arg("--report-dir")
        .arg(report.path())
        .current_dir(report.path());
    for h in headers {
        cmd.args(["--header", h]);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("could not run {:?}: {e}", cmd.get_program()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found the API and its document disagreeing:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "{}",
        stdout.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_api_matches_its_document_without_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Serve::start(dir.path(), &[], &[]);
    check(&s, &[]);
}

#[test]
fn the_api_matches_its_document_with_a_tenant_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = "schemathesis-key-0123456789";
    let mut hash = kiln_command();
    hash.arg("hash-key").stdin(std::process::Stdio::piped());
    let mut child = hash.spawn().expect("kiln hash-key");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), key.as_bytes()).expect("write key");
    let out = child.wait_with_output().expect("wait");
    let hashed = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let s = Serve::start(dir.path(), &[], &[("KILN_API_KEYS", &format!("acme={hashed}"))]);
    check(&s, &[&format!("Authorization: Bearer {key}")]);
}
