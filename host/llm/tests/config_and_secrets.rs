//! `models.yaml` files with mistakes, and API keys that must never show.

mod support;

use std::sync::{Arc, Mutex};

use kiln_llm::{CompletionRequest, Config, ConfigError, NoSink};
use support::*;

fn write(text: &str) -> (tempfile_path::TempFile, std::path::PathBuf) {
    tempfile_path::TempFile::new(text)
}

/// A file in the system temp dir, removed on drop.
mod tempfile_path {
    pub struct TempFile(pub std::path::PathBuf);
    impl TempFile {
        pub fn new(text: &str) -> (Self, std::path::PathBuf) {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "kiln-llm-test-{}-{}.yaml",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let mut f = std::fs::File::create(&path).expect("create");
            std::io::Write::write_all(&mut f, text.as_bytes()).expect("write");
            (Self(path.clone()), path)
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn invalid(text: &str) -> (String, usize, String) {
    let (_guard, path) = write(text);
    match Config::load(&path) {
        Err(e @ ConfigError::Invalid { .. }) => {
            let shown = e.to_string();
            let ConfigError::Invalid { file, line, .. } = e else { unreachable!() };
            assert_eq!(file, path.display().to_string());
            assert!(shown.starts_with(&format!("{}:{line}:", path.display())), "{shown}");
            assert!(shown.contains("\n  hint: "), "{shown}");
            (shown, line, file)
        }
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

#[test]
fn mistakes_are_reported_with_file_line_and_hint() {
    let (shown, line, _) = invalid(
        "providers:\n  local:\n    kind: openai\n    model: llama3.1\n    base_url: http://127.0.0.1:11434/v1\n    timeout: 30\n",
    );
    assert_eq!(line, 6);
    assert!(shown.contains("unknown field `timeout`") && shown.contains("timeout_ms"), "{shown}");
    let (shown, line, _) = invalid(
        "providers:\n  local: { kind: openai, model: m }\nlovable_patterns:\n  p2_fallback_chain:\n    enabled: true\n    rollout_percent: 101\n",
    );
    assert_eq!(line, 6);
    assert!(shown.contains("0 to 100"), "{shown}");
    let (shown, line, _) = invalid(
        "providers:\n  a: { kind: openai, model: m }\n  b: { kind: offline }\nfallback_chain: [a, c]\n",
    );
    assert_eq!(line, 4);
    assert!(shown.contains("`c`"), "{shown}");
    let (_, line, _) = invalid("retry:\n  max_attempts: 3\n   deadline_ms: 5\n");
    assert!(line >= 2, "syntax errors point near the problem: {line}");
}

#[test]
fn a_missing_file_names_the_path() {
    let e = Config::load(std::path::Path::new("/nonexistent/kiln/models.yaml")).expect_err("missing");
    assert!(matches!(e, ConfigError::Read { .. }));
    assert!(e.to_string().contains("/nonexistent/kiln/models.yaml"));
}

#[test]
fn a_bad_flag_variable_is_an_error() {
    let e = kiln_llm::LlmLayer::with_env(Config::default(), &|n| {
        (n == "LOVABLE_DYNAMIC_RETRY_DELAYS").then(|| "sometimes".into())
    })
    .expect_err("bad env");
    assert!(e.to_string().contains("LOVABLE_DYNAMIC_RETRY_DELAYS"), "{e}");
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const SECRET: &str = "sk-live-SECRET-0123456789abcdef";

#[test]
fn secrets_never_reach_debug_display_errors_or_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (failure, layer_debug) = runtime.block_on(async {
        // The server echoes the key in its 401, as some do.
        let echo = error(401, "invalid_api_key", &format!("Incorrect API key provided: {SECRET}"), &[]);
        let a = FakeHttp::always(echo);
        let yaml = format!("providers:\n  only: {{ kind: openai, base_url: \"{}\", model: m, api_key_env: KILN_TEST_SECRET }}\n", a.v1());
        let l = layer(&yaml, &[("KILN_TEST_SECRET", SECRET)]);
        let failure = l.complete(&CompletionRequest::prompt("hi"), &mut NoSink).await.expect_err("401");
        // It was sent, though.
        assert_eq!(a.seen()[0].header("authorization"), Some(format!("Bearer {SECRET}").as_str()));
        (failure, format!("{l:?}"))
    });
    let logged = String::from_utf8(logs.0.lock().expect("logs").clone()).expect("utf-8");
    assert!(logged.contains("llm: attempt failed"), "the attempt was logged: {logged}");
    let attempts_json = serde_json::to_string(&failure.attempts).expect("json");
    for (what, text) in [
        ("Display", failure.to_string()),
        ("Debug", format!("{failure:?}")),
        ("attempts", attempts_json),
        ("layer", layer_debug),
        ("logs", logged),
    ] {
        assert!(!text.contains(SECRET), "{what} shows the key: {text}");
    }
    assert!(failure.message.contains("[redacted]"), "{}", failure.message);
}
