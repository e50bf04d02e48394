//! Benchmarks of the LLM layer against the fault server on loopback:
//! - `overhead`: one successful call through the layer vs the same bare reqwest request;
//! - `failover`: time to an answer when the primary refuses connections (breaker kept
//!   closed, so every call fails over), and when the open breaker skips the primary;
//! - `hint`: time to success after a `retry-after-ms: 50` (and the number of calls).

#![allow(missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use kiln_llm::{CompletionRequest, NoSink};
use support::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn overhead(c: &mut Criterion) {
    let rt = runtime();
    let server = FakeHttp::always(ok("hello"));
    let layer = layer(
        &format!("providers:\n  only: {{ kind: openai, base_url: \"{}\", model: m }}\n", server.v1()),
        &[],
    );
    let request = CompletionRequest::prompt("hello");
    let client = reqwest::Client::builder().retry(reqwest::retry::never()).build().expect("client");
    let url = format!("{}/chat/completions", server.v1());
    let body = serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "hello"}], "stream": false}).to_string();
    let mut group = c.benchmark_group("overhead");
    group.sample_size(50).measurement_time(Duration::from_secs(4));
    group.bench_function("bare_reqwest", |b| {
        b.iter(|| {
            rt.block_on(async {
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("send");
                let bytes = response.bytes().await.expect("body");
                let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
                assert_eq!(v["choices"][0]["message"]["content"], "hello");
            })
        })
    });
    group.bench_function("layer", |b| {
        b.iter(|| {
            rt.block_on(async {
                let reply = layer.complete(&request, &mut NoSink).await.expect("answer");
                assert_eq!(reply.completion().map(|c| c.text.as_str()), Some("hello"));
            })
        })
    });
    group.finish();
}

fn failover(c: &mut Criterion) {
    let rt = runtime();
    let secondary = FakeHttp::always(ok("from secondary"));
    let yaml = |threshold: u32| {
        format!(
            "providers:\n  primary: {{ kind: openai, base_url: \"{}\", model: a }}\n  secondary: {{ kind: openai, base_url: \"{}\", model: b }}\nfallback_chain: [primary, secondary]\nlovable_patterns: {{ p2_fallback_chain: {{ failure_threshold: {threshold}, cooldown_ms: 600000 }} }}\n",
            refused_url(),
            secondary.v1()
        )
    };
    let every_call = layer(&yaml(u32::MAX), &[]);
    let skipping = layer(&yaml(1), &[]);
    let request = CompletionRequest::prompt("hello");
    let mut group = c.benchmark_group("failover");
    group.sample_size(50).measurement_time(Duration::from_secs(4));
    group.bench_function("refused_primary", |b| {
        b.iter(|| {
            rt.block_on(async {
                let reply = every_call.complete(&request, &mut NoSink).await.expect("answer");
                assert_eq!(reply.fallback_depth(), 1);
            })
        })
    });
    group.bench_function("primary_cooling_down", |b| {
        b.iter(|| {
            rt.block_on(async {
                let reply = skipping.complete(&request, &mut NoSink).await.expect("answer");
                assert_eq!(reply.completion().map(|c| c.provider.as_str()), Some("secondary"));
            })
        })
    });
    group.finish();
}

fn hint(c: &mut Criterion) {
    let rt = runtime();
    let request = CompletionRequest::prompt("hello");
    let mut group = c.benchmark_group("hint");
    group.sample_size(10).measurement_time(Duration::from_secs(3));
    group.bench_function("retry_after_ms_50", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let server = FakeHttp::script(vec![status(429, &[("retry-after-ms", "50")])], ok("hello"));
                let l = layer(
                    &format!(
                        "providers:\n  only: {{ kind: openai, base_url: \"{}\", model: m }}\n",
                        server.v1()
                    ),
                    &[],
                );
                let started = Instant::now();
                rt.block_on(l.complete(&request, &mut NoSink)).expect("answer");
                total += started.elapsed();
                assert_eq!(server.calls(), 2, "one 429, one success: no wasted call");
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, overhead, failover, hint);
criterion_main!(benches);
