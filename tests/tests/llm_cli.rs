//! `kiln llm complete` and `kiln config check` end to end: the built binary against a real
//! OpenAI-compatible HTTP server on 127.0.0.1, a refused port, and the offline default.

use kiln_tests::fake_http::{Answer, FakeHttp};
use kiln_tests::serve::FakeLlm;
use kiln_tests::{Kiln, run_command};

/// A fake OpenAI-compatible model answering every request with `reply`.
fn serve(reply: &'static str) -> FakeLlm {
    FakeLlm::start(Box::new(move |_| reply.to_owned()))
}

fn models(k: &Kiln, yaml: &str) -> String {
    let path = k.root().join("models.yaml");
    std::fs::write(&path, yaml).expect("write models.yaml");
    path.display().to_string()
}

#[test]
fn a_completion_through_a_real_server_reports_provider_model_and_attempts() {
    let k = Kiln::new_in_memory();
    let fake = serve("hello from the server");
    let url = &fake.url;
    let file = models(
        &k,
        &format!(
            "providers:\n  local: {{ kind: openai, base_url: \"{url}\", model: \"m1\" }}\nfallback_chain: [local]\n"
        ),
    );
    let out = run_command(k.command(["llm", "complete", "--config", &file, "say hi"]), None);
    out.ok().stdout_has("hello from the server");
    let out = run_command(k.command(["--json", "llm", "complete", "--config", &file, "say hi"]), None);
    let v = out.ok().json();
    assert_eq!(v["text"], "hello from the server");
    assert_eq!(v["provider"], "local");
    assert_eq!(v["fallback_depth"], 0);
    assert_eq!(v["attempts"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(fake.calls(), 2, "one request per run");
}

#[test]
fn a_dead_primary_falls_back_and_a_dead_chain_exits_1_with_the_class() {
    let k = Kiln::new_in_memory();
    let fake = serve("from the secondary");
    let url = &fake.url;
    // Port 9 (discard) is closed on loopback: connections are refused.
    let dead =
        "  dead: { kind: openai, base_url: \"http://127.0.0.1:9/v1\", model: \"m0\", timeout_ms: 1000 }\n";
    let retry = "retry: { max_attempts: 2, base_delay_ms: 5, max_delay_ms: 10, deadline_ms: 3000 }\n";
    let chain = models(
        &k,
        &format!(
            "providers:\n{dead}  live: {{ kind: openai, base_url: \"{url}\", model: \"m1\" }}\nfallback_chain: [dead, live]\n{retry}"
        ),
    );
    let v = run_command(k.command(["--json", "llm", "complete", "--config", &chain, "hi"]), None).ok().json();
    assert_eq!((v["provider"].as_str(), v["fallback_depth"].as_u64()), (Some("live"), Some(1)), "{v}");
    assert_eq!(v["attempts"][0]["class"], "transient");

    let alone = models(&k, &format!("providers:\n{dead}fallback_chain: [dead]\n{retry}"));
    let out = run_command(k.command(["--json", "llm", "complete", "--config", &alone, "hi"]), None);
    out.expect_code(1);
    assert_eq!(out.json_error().0, "transient");
    let out = run_command(k.command(["llm", "complete", "--config", &alone, "hi"]), None);
    out.expect_code(1).stderr_has("connection refused");
}

#[test]
fn without_a_config_the_offline_default_answers() {
    let k = Kiln::new_in_memory();
    let v = run_command(k.command(["--json", "llm", "complete", "hi"]), None).ok().json();
    assert_eq!(v["provider"], "offline");
    assert_eq!(v["offline"], true);
}

#[test]
fn config_check_accepts_a_good_file_and_names_the_line_of_a_bad_one() {
    let k = Kiln::new_in_memory();
    let good = models(&k, "providers:\n  rules: { kind: offline }\nfallback_chain: [rules]\n");
    run_command(k.command(["config", "check", &good]), None).ok().stdout_has("valid");
    let bad = models(&k, "providers:\n  rules: { kind: offline }\nfallback_chain: [rules]\nbogus: 1\n");
    let out = run_command(k.command(["config", "check", &bad]), None);
    out.expect_code(1).stderr_has(&format!("{bad}:4:1")).stderr_has("unknown field `bogus`");
}

/// Issue #19: five `kiln llm complete` runs in a row each asked a dead primary three times
/// (15 calls); the breaker now lives in the store they share, so the first run opens it
/// and the other four skip the primary.
#[test]
fn five_runs_share_the_circuit_breaker_through_the_store() {
    let k = Kiln::new_in_memory();
    // A provider that is down.
    let dead = FakeHttp::always(Answer::status(503, &[]));
    let live = serve("from the secondary");
    let retry = "retry: { max_attempts: 4, base_delay_ms: 5, max_delay_ms: 10, deadline_ms: 20000 }\n";
    let file = models(
        &k,
        &format!(
            "providers:\n  dead: {{ kind: openai, base_url: \"{}\", model: m0 }}\n  live: {{ kind: openai, base_url: \"{}\", model: m1 }}\nfallback_chain: [dead, live]\n{retry}",
            dead.v1(),
            live.url
        ),
    );
    for run in 0..5 {
        let v =
            run_command(k.command(["--json", "llm", "complete", "--config", &file, "hi"]), None).ok().json();
        assert_eq!(v["provider"], "live", "run {run}: {v}");
    }
    // failure_threshold is 3: the first run's third failure opened the breaker for all.
    assert_eq!(dead.calls(), 3);
    assert_eq!(live.calls(), 5);
}
