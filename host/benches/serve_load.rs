//! Load on `kiln serve`'s HTTP API over loopback: many concurrent sessions, each a whole
//! builder conversation (7 turns, two simulated OAuth consents), offline provider. Reports
//! turns/s, p50/p99 turn latency (SSE answered to its `done` event) and resident memory per
//! live session. The server and the load generator share this machine's cores.
//!
//! `cargo bench -p kiln --bench serve_load` (env: `KILN_BENCH_STORE=memory|file|<a --store spec, e.g. redis://...>`,
//! `KILN_BENCH_CLIENTS` concurrent conversations, default 64, `KILN_BENCH_SECONDS`, default 10,
//! `KILN_BENCH_INSTANCES` servers on the one store, default 1, each turn on the next one;
//! `KILN_BENCH_LOAD_THREADS` threads for the load generator, default 1; `KILN_BENCH_URL`
//! base URLs of running `kiln serve` processes to load instead of the in-process server,
//! comma-separated, with `KILN_BENCH_PID` the server's pid for its memory figure).

/// The kiln binary's allocator (host/src/main.rs), so these figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln::llm::LayerBackend;
use kiln::server::{AppState, ServeOptions, ServerConfig, router};
use kiln_engine::imports::Imports;
use kiln_engine::{Runtime, RuntimeOptions};
use kiln_llm::{Config, LlmLayer};
use kiln_store::{Blocking, FileStore, KvStore, MemoryStore, OpenOptions, StoreChoice, StoreSpec};

const GOAL: &str = "Every weekday at 9, summarise my unread Gmail and post it to Slack #team";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// This VM's CPU speed moves by up to ~1.8x over a day; a fixed workload timed before each
/// run (xxh3 over 64 MiB, best of five) says how fast the machine was for it.
fn cpu_reference_gb_per_s() -> f64 {
    let data = vec![0x5au8; 64 << 20];
    let best = (0..5)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(xxhash_rust::xxh3::xxh3_64(std::hint::black_box(&data)));
            started.elapsed()
        })
        .min()
        .unwrap_or(Duration::MAX);
    data.len() as f64 / best.as_secs_f64() / 1e9
}

/// Resident memory of the server: this process, or the `kiln serve` process `pid`.
fn rss_bytes(pid: Option<&str>) -> u64 {
    let statm = std::fs::read_to_string(format!("/proc/{}/statm", pid.unwrap_or("self"))).unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
    pages * 4096
}

struct Load {
    http: reqwest::Client,
    /// One URL per instance.
    bases: Vec<String>,
}

impl Load {
    /// One turn; returns the last chunk's state parameter if it carries a connect link.
    async fn turn(
        &self,
        url: String,
        body: serde_json::Value,
        latencies: &mut Vec<Duration>,
    ) -> Option<String> {
        let started = Instant::now();
        let resp = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .ok()?;
        let text = resp.text().await.ok()?;
        latencies.push(started.elapsed());
        assert!(text.contains("event: done"), "a turn did not complete: {text}");
        text.rsplit("state=")
            .next()
            .filter(|_| text.contains("oauth_url\":\"/oauth/start"))
            .map(|s| s[..32].to_owned())
    }

    async fn conversation(&self, latencies: &mut Vec<Duration>) {
        let on = |turn: usize| &self.bases[turn % self.bases.len()];
        let created = self.http.post(format!("{}/v1/sessions", on(0))).send().await.expect("create");
        let view: serde_json::Value =
            serde_json::from_slice(&created.bytes().await.expect("body")).expect("session json");
        let id = view["session_id"].as_str().expect("id").to_owned();
        let messages = |turn| format!("{}/v1/sessions/{id}/messages", on(turn));
        let oauth = |turn| format!("{}/v1/sessions/{id}/oauth", on(turn));
        let mut turn = 1;
        let mut state = self.turn(messages(turn), serde_json::json!({ "text": GOAL }), latencies).await;
        while let Some(s) = state {
            turn += 1;
            state =
                self.turn(oauth(turn), serde_json::json!({ "state": s, "approved": true }), latencies).await;
        }
        for text in ["London time", "yes", "looks good", "yes"] {
            turn += 1;
            self.turn(messages(turn), serde_json::json!({ "text": text }), latencies).await;
        }
    }
}

/// `instances` servers in this process, as `kiln serve` builds them (its router, an engine
/// and pool each, the offline provider) on one `kind` of store; returns their base URLs.
fn in_process_servers(
    server_rt: &tokio::runtime::Runtime,
    kind: &str,
    instances: usize,
    dir: &std::path::Path,
) -> Vec<String> {
    let store: Arc<dyn KvStore> = match kind {
        "file" => Arc::new(Blocking::new(FileStore::open(dir).expect("file store"))),
        "memory" => Arc::new(MemoryStore::new()),
        spec => {
            let spec: StoreSpec = spec.parse().expect("KILN_BENCH_STORE: memory, file or a --store spec");
            let choice = StoreChoice { spec, options: OpenOptions::new(Duration::from_secs(1800)) };
            server_rt.block_on(choice.open()).expect("open the store")
        }
    };
    // Each instance is what one `kiln serve` process holds: its own engine and pool, the
    // shared store. Conversations move to the next instance on every turn.
    let mut bases = Vec::new();
    for _ in 0..instances {
        let options = RuntimeOptions {
            cache_dir: RuntimeOptions::default_cache_dir(),
            max_concurrent_calls: 64,
            ..Default::default()
        };
        let runtime = Arc::new(Runtime::new(&options).expect("engine"));
        let llm =
            Arc::new(LayerBackend::new(LlmLayer::new(Config::default_offline()).expect("offline layer")));
        let mut imports = Imports::system(Arc::clone(&store));
        imports.llm = Arc::clone(&llm) as Arc<dyn kiln_engine::imports::LlmBackend>;
        let listener = server_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let serve_options = ServeOptions {
            bind: addr,
            config: ServerConfig::default(),
            web_dir: None,
            record: false,
            idle_timeout_ms: 30 * 60_000,
            oauth_ttl_ms: 10 * 60_000,
            sweep_every: Duration::from_secs(60),
            timeouts: kiln::server::Timeouts::default(),
        };
        let state = AppState::new(runtime, imports, llm, true, &serve_options);
        let app = router(state, 1 << 20, None);
        server_rt.spawn(async move { axum::serve(listener, app).await });
        bases.push(format!("http://{addr}"));
    }
    bases
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn main() {
    // `memory`, `file` (a temporary directory) or any `--store` spec such as a Redis URL.
    let kind = std::env::var("KILN_BENCH_STORE").unwrap_or_else(|_| "memory".into());
    let clients = env_or("KILN_BENCH_CLIENTS", 64) as usize;
    let seconds = env_or("KILN_BENCH_SECONDS", 10);
    let instances = env_or("KILN_BENCH_INSTANCES", 1).max(1) as usize;
    let dir = tempfile::tempdir().expect("tempdir");
    // Named threads, so a profile (perf --sort comm) splits server from load generator.
    let runtime = |name: &str, threads: usize| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(name)
            .enable_all()
            .build()
            .expect("rt")
    };
    let server_rt = runtime("server", 2);
    // Running `kiln serve` processes (`KILN_BENCH_URL=http://127.0.0.1:P[,...]`) or, by
    // default, the same server in this process.
    let external = std::env::var("KILN_BENCH_URL").ok();
    let bases = match &external {
        Some(urls) => urls.split(',').map(|u| u.trim().trim_end_matches('/').to_owned()).collect(),
        None => in_process_servers(&server_rt, &kind, instances, dir.path()),
    };
    // The external server's memory is read from /proc when `KILN_BENCH_PID` names it.
    let server_pid = std::env::var("KILN_BENCH_PID").ok().filter(|_| external.is_some());
    let pid = server_pid.as_deref();
    // One thread drives the load (about a fifth of the CPU) and leaves the server its two
    // workers; more only add context switches on 2 cores.
    let client_rt = runtime("load", env_or("KILN_BENCH_LOAD_THREADS", 1) as usize);
    let load = Arc::new(Load {
        http: reqwest::Client::builder().pool_max_idle_per_host(clients).build().expect("client"),
        bases,
    });
    // Warm up: connections, pool slots, the first turns.
    client_rt.block_on(async {
        let mut l = Vec::new();
        load.conversation(&mut l).await;
    });
    let rss_before = rss_bytes(pid);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let (latencies, conversations) = client_rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let load = Arc::clone(&load);
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    load.conversation(&mut latencies).await;
                    n += 1;
                }
                (latencies, n)
            }));
        }
        let mut all = Vec::new();
        let mut conversations = 0;
        for t in tasks {
            let (l, n) = t.await.expect("client task");
            all.extend(l);
            conversations += n;
        }
        (all, conversations)
    });
    let elapsed = started.elapsed();
    let rss_after = rss_bytes(pid);
    // Measured after the RSS: its 64 MiB buffer, freed, stays resident under mimalloc (glibc
    // unmaps it), so before the run it would have been counted as room the sessions then used.
    let reference = cpu_reference_gb_per_s();
    let mut sorted = latencies;
    sorted.sort();
    let turns = sorted.len();
    let sessions = conversations + 1;
    let grown = rss_after.saturating_sub(rss_before);
    let memory = if external.is_some() && pid.is_none() {
        "server RSS not read (set KILN_BENCH_PID)".to_owned()
    } else {
        format!(
            "RSS +{:.1} MiB = {:.1} KiB per session",
            grown as f64 / (1 << 20) as f64,
            grown as f64 / 1024.0 / sessions as f64
        )
    };
    let target = match &external {
        Some(urls) => format!("server={urls}"),
        None => format!("store={kind} instances={instances}"),
    };
    println!(
        "serve_load {target} clients={clients}: {turns} turns in {:.1} s = {:.0} turns/s; p50 {:.2} ms, p99 {:.2} ms; \
         {sessions} sessions kept, {memory}; cpu reference {reference:.1} GB/s",
        elapsed.as_secs_f64(),
        turns as f64 / elapsed.as_secs_f64(),
        percentile(&sorted, 0.50).as_secs_f64() * 1e3,
        percentile(&sorted, 0.99).as_secs_f64() * 1e3,
    );
}
