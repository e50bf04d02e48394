//! `kiln serve` and `kiln hash-key`.

use std::io::Read as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use kiln::server::{self, AppState, ServeOptions, ServerConfig};
use kiln_engine::builder::BuilderClient;

use super::Host;
use super::output::{Failure, Output, line};

/// How to serve.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The port to listen on (0 picks a free one; the first stdout line names it).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The address to listen on. Anything but loopback needs tenants with API keys.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// The server configuration (tenants and key hashes, OAuth providers, public_url, limits).
    #[arg(long, env = "KILN_SERVE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// The built web UI to serve at `/` (default: `web/dist` when it exists).
    #[arg(long, env = "KILN_WEB_DIR", value_name = "DIR")]
    web_dir: Option<PathBuf>,
    /// How many turns the engine runs at once; more wait for a free slot.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_concurrent_turns: u32,
    /// Minutes an OAuth connection attempt stays valid (at most a day).
    #[arg(long, default_value_t = 10, value_name = "MINUTES", value_parser = clap::value_parser!(u64).range(0..=1440))]
    oauth_ttl_minutes: u64,
    /// Seconds between sweeps that archive sessions idle past --idle-timeout-minutes.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    sweep_seconds: u64,
    /// Seconds a client has to send a request's head, counted from when the connection is
    /// ready for one (so also the longest a kept-alive connection stays idle).
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_seconds: u64,
    /// Seconds a client has to send an API request's body.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_seconds: u64,
    /// Record each turn's imports to a journal beside its session, for `kiln sessions
    /// replay` (off by default: journals hold people's words; docs/stores.md).
    #[arg(long, env = "KILN_RECORD")]
    record: bool,
}

/// Runs the server until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn run(args: ServeArgs, host: Host, idle_timeout_ms: u64) -> Result<(), Failure> {
    let mut config = match &args.config {
        Some(path) => ServerConfig::load(path)
            .map_err(|e| Failure { kind: "invalid-config", message: e.to_string() })?,
        None => ServerConfig::default(),
    };
    if let Ok(keys) = std::env::var("KILN_API_KEYS") {
        config.add_env_keys(&keys).map_err(|e| Failure { kind: "invalid-config", message: e.to_string() })?;
    }
    // Before the first guest call, so /metrics counts the instance that call makes.
    server::install_metrics();
    let catalog = BuilderClient::new(Arc::clone(&host.runtime), host.imports.clone())
        .providers()
        .await
        .map_err(|e| Failure { kind: "engine", message: e.to_string() })?;
    config
        .check_oauth_providers(&catalog)
        .map_err(|e| Failure { kind: "invalid-config", message: e.to_string() })?;
    let web_dir =
        args.web_dir.or_else(|| Some(PathBuf::from("web/dist")).filter(|d| d.join("index.html").is_file()));
    let mut options = ServeOptions {
        bind: SocketAddr::new(args.bind, args.port),
        config,
        web_dir,
        record: args.record,
        idle_timeout_ms,
        oauth_ttl_ms: args.oauth_ttl_minutes.saturating_mul(60_000),
        sweep_every: std::time::Duration::from_secs(args.sweep_seconds),
        timeouts: server::Timeouts {
            header: std::time::Duration::from_secs(args.header_timeout_seconds),
            body: std::time::Duration::from_secs(args.body_timeout_seconds),
        },
    };
    let failed = |e: server::ServeError| Failure { kind: "serve", message: e.to_string() };
    let listener = server::bind(&mut options).await.map_err(failed)?;
    let state = AppState::new(host.runtime, host.imports, host.llm, host.offline, &options);
    server::serve(state, listener, options, shutdown_signal()).await.map_err(failed)
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    eprintln!("kiln serve: shutting down; finishing the requests in flight");
}

/// Reads a key from stdin (not argv, which other users can see) and prints its hash.
pub fn hash_key_from_stdin(out: &Output) -> Result<(), Failure> {
    let mut key = String::new();
    std::io::stdin().read_to_string(&mut key).context("reading the key from stdin")?;
    let key = key.trim_end_matches(['\n', '\r']);
    if key.trim().is_empty() {
        return Err(Failure {
            kind: "invalid-input",
            message: "no key on stdin: `printf %s \"$KEY\" | kiln hash-key`".into(),
        });
    }
    let hash = server::hash_key(key);
    if out.json {
        out.print(&serde_json::json!({ "hash": hash }), String::new);
    } else {
        line(&hash);
    }
    Ok(())
}
