//! `kiln serve`: the HTTP API over the engine (SPEC §6). Handlers are thin: they
//! authenticate the caller, scope the store to its tenant, call the component through
//! [`BuilderClient`](kiln_engine::builder::BuilderClient) /
//! [`QueueClient`](kiln_engine::queue::QueueClient), and turn results into JSON or Server-Sent
//! Events.
//!
//! - `conn`: accepting connections (TCP_NODELAY, header/body timeouts, graceful shutdown).
//! - `auth`: API keys (hashed at rest) to tenants; the local tenant without keys.
//! - `sessions`: builder sessions and turns (SSE).
//! - `conversations`: the FIFO queue.
//! - `oauth`: the authorization-code flow with PKCE, tokens kept host-side.
//! - `llm_proxy`: completions for the browser build through the host's LLM layer.
//! - `telemetry`: Prometheus metrics.
//! - `site`: the built web UI at `/` (precompressed, cache headers, `kiln-server.json`).
//! - `openapi`: the route table and the OpenAPI document kept equal to it.

mod auth;
pub mod config;
mod conn;
mod conversations;
mod error;
mod llm_proxy;
mod oauth;
pub mod openapi;
mod sessions;
mod site;
mod telemetry;
mod turns;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use kiln_engine::imports::Imports;
use kiln_engine::runtime::Runtime;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use thiserror::Error;
use tokio::net::TcpListener;

pub use self::config::{ServerConfig, hash_key};
pub use self::conn::Timeouts;
pub use self::error::ApiError;
pub use self::telemetry::install as install_metrics;
use crate::llm::LayerBackend;

/// Everything `kiln serve` needs.
pub struct ServeOptions {
    /// Where to listen.
    pub bind: SocketAddr,
    /// Tenants, OAuth providers, limits.
    pub config: ServerConfig,
    /// The built web UI (`web/dist`), served at `/` when present.
    pub web_dir: Option<PathBuf>,
    /// Record every turn's imports to its session's journal (kiln_engine::journal).
    pub record: bool,
    /// Inactivity after which a session expires.
    pub idle_timeout_ms: u64,
    /// How long an OAuth state is accepted.
    pub oauth_ttl_ms: u64,
    /// How often idle sessions are archived.
    pub sweep_every: std::time::Duration,
    /// How long a client may take to send a request.
    pub timeouts: Timeouts,
}

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    /// Refused to expose an unauthenticated server.
    #[error(
        "refusing to bind {0} without API keys: anyone who can reach it could read every session. \
         Configure tenants with keys (--config serve.yaml or KILN_API_KEYS), or bind 127.0.0.1"
    )]
    NoKeysOnPublicAddress(SocketAddr),
    /// The address is taken or not ours.
    #[error("cannot listen on {addr}: {source}. Pick another --port or --bind")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// What this server offers the web UI (its `kiln-server.json`).
    fn site_status(&self) -> site::SiteStatus {
        site::SiteStatus {
            server: "kiln serve",
            version: env!("CARGO_PKG_VERSION"),
            models: !self.0.offline,
            sign_in: self.0.sign_in.clone(),
            api_keys: !self.0.auth.is_local(),
        }
    }
}

struct Inner {
    runtime: Arc<Runtime>,
    /// The root store with the system clock, randomness and the LLM layer.
    base: Imports,
    llm: Arc<LayerBackend>,
    /// No model in the chain: turns skip the `llm` import.
    offline: bool,
    /// Record every turn's imports (`--record`).
    record: bool,
    auth: auth::Auth,
    oauth: oauth::OauthSettings,
    idle_timeout_ms: u64,
    oauth_ttl_ms: u64,
    body_timeout: std::time::Duration,
    metrics: PrometheusHandle,
    phases: telemetry::PhaseTracker,
    /// Integrations with a real OAuth provider configured, for the web UI's status.
    sign_in: Vec<String>,
}

impl AppState {
    /// The state for a server over `base` (root store, clock, randomness, LLM).
    pub fn new(
        runtime: Arc<Runtime>,
        base: Imports,
        llm: Arc<LayerBackend>,
        offline: bool,
        options: &ServeOptions,
    ) -> Self {
        let public_url = options
            .config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", options.bind))
            .trim_end_matches('/')
            .to_owned();
        let metrics = telemetry::install();
        metrics::gauge!(kiln_engine::runtime::GUARD_PAGES).set(if runtime.guard_pages() { 1.0 } else { 0.0 });
        Self(Arc::new(Inner {
            runtime,
            base,
            llm,
            offline,
            record: options.record,
            auth: auth::Auth::new(&options.config),
            oauth: oauth::OauthSettings::new(&options.config, public_url),
            idle_timeout_ms: options.idle_timeout_ms,
            oauth_ttl_ms: options.oauth_ttl_ms,
            body_timeout: options.timeouts.body,
            metrics,
            phases: telemetry::PhaseTracker::default(),
            sign_in: options.config.oauth.keys().cloned().collect(),
        }))
    }
}

/// The API's router (the web UI in `web_dir`, when given, at `/`).
pub fn router(state: AppState, max_body_bytes: usize, web_dir: Option<PathBuf>) -> Router {
    let mut router = Router::new();
    for route in openapi::routes() {
        router = router.route(route.path, route.handler);
    }
    // API routes read their whole body first, within the body timeout and the size limit.
    let limits = conn::BodyLimits { max_bytes: max_body_bytes, timeout: state.0.body_timeout };
    let router = router
        .route_layer(axum::middleware::from_fn_with_state(limits, conn::read_body))
        .route_layer(axum::middleware::from_fn(error::json_errors));
    let router = match web_dir {
        Some(dir) => router.merge(site::router(dir, &state.site_status())),
        None => router.route("/", get(index)).fallback(not_found),
    };
    router
        .layer(axum::middleware::from_fn(telemetry::count_requests))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

async fn index() -> axum::Json<serde_json::Value> {
    axum::Json(json!({
        "name": "kiln",
        "version": env!("CARGO_PKG_VERSION"),
        "api": "/openapi.json",
        "ui": "not built: run web/build.sh, then start kiln serve from the repository root (or pass --web-dir)",
    }))
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}; the API is described at /openapi.json", uri.path()))
}

/// Archives sessions idle past the timeout, for every tenant, and removes expired OAuth
/// attempts, every `every`. Several
/// instances on one store may sweep at once: archiving deletes with compare-and-swap, so a
/// session is archived once and a session that just had a turn is left alone.
async fn sweep_idle_sessions(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every.max(std::time::Duration::from_millis(100)));
    loop {
        tick.tick().await;
        for tenant in state.0.auth.tenants() {
            let authed = auth::Authed::for_caller(&state, tenant.clone(), auth::DEFAULT_USER.into());
            let builder =
                kiln_engine::builder::BuilderClient::new(Arc::clone(&state.0.runtime), authed.imports);
            if let Err(e) = builder.expire_idle(state.0.idle_timeout_ms).await {
                let who = tenant.as_deref().unwrap_or(auth::LOCAL_TENANT);
                eprintln!(
                    "kiln serve: archiving idle sessions of tenant {who} failed (retrying at the next sweep): {e}"
                );
            }
        }
        if let Err(e) = oauth::sweep_expired(&state).await {
            eprintln!(
                "kiln serve: removing expired OAuth attempts failed (retrying at the next sweep): {}",
                e.message
            );
        }
    }
}

/// Listens on `options.bind` (refusing a non-loopback address without API keys) and
/// records the bound address in `options` (a `--port 0` becomes the real port).
pub async fn bind(options: &mut ServeOptions) -> Result<TcpListener, ServeError> {
    if options.config.tenants.is_empty() && !options.bind.ip().is_loopback() {
        return Err(ServeError::NoKeysOnPublicAddress(options.bind));
    }
    let listener = TcpListener::bind(options.bind)
        .await
        .map_err(|source| ServeError::Bind { addr: options.bind, source })?;
    options.bind = listener.local_addr()?;
    Ok(listener)
}

/// Serves on `listener` until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr()?;
    let mode = if state.0.auth.is_local() {
        "one local tenant, no API keys (loopback only)".to_owned()
    } else {
        format!("{} tenant(s) with API keys", state.0.auth.tenant_count())
    };
    let llm = if state.0.offline { "offline (rule-based)" } else { "models.yaml chain" };
    // One machine-readable line first: scripts and tests wait for it to learn the port.
    println!("{}", json!({"listening": format!("http://{addr}")}));
    eprintln!("kiln serve: http://{addr} — {mode}; LLM: {llm}");
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    metrics::gauge!(telemetry::WORKER_THREADS).set(workers as f64);
    let sweeper = tokio::spawn(sweep_idle_sessions(state.clone(), options.sweep_every));
    let app = router(state, options.config.limits.max_body_bytes, options.web_dir);
    conn::serve(listener, app, options.timeouts, shutdown).await;
    sweeper.abort();
    eprintln!("kiln serve: stopped after finishing the requests in flight");
    Ok(())
}
