//! Prometheus metrics: the server's own (turns, phases, OAuth) beside the LLM layer's
//! (`kiln_llm_*`, recorded by kiln-llm through the same `metrics` facade).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use kiln_wire::builder::Phase;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Turns by outcome (`ok` or the error kind).
pub const TURNS: &str = "kiln_turns_total";
/// Seconds per turn, engine and store included.
pub const TURN_DURATION: &str = "kiln_turn_duration_seconds";
/// Sessions started.
pub const SESSIONS_STARTED: &str = "kiln_sessions_started_total";
/// Sessions by phase, as this instance last saw them.
pub const SESSIONS: &str = "kiln_sessions";
/// Phase changes by from/to.
pub const TRANSITIONS: &str = "kiln_phase_transitions_total";
/// OAuth callbacks by provider and outcome.
pub const OAUTH: &str = "kiln_oauth_outcomes_total";
/// HTTP requests by route and status.
pub const REQUESTS: &str = "kiln_http_requests_total";
/// Threads of the async runtime that serve requests and run turns (`kiln serve`: one per core).
pub const WORKER_THREADS: &str = "kiln_server_worker_threads";

/// Installs the process-wide recorder once and returns its handle.
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
                ])
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Fails only when another recorder is installed (embedding applications): then
            // this handle renders nothing, and that application's recorder sees everything.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Sessions above this many are forgotten (oldest knowledge is cheap to lose: the next turn
/// of a forgotten session counts its transition from `unknown`).
const TRACKED_SESSIONS: usize = 100_000;

/// The phase this instance last saw per session, to count transitions and sessions by phase.
#[derive(Default)]
pub struct PhaseTracker {
    last: Mutex<HashMap<String, Phase>>,
}

impl PhaseTracker {
    /// A session now is in `to` (`None`: it is gone).
    pub fn observe(&self, session_id: &str, to: Option<Phase>) {
        let from = {
            let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.len() >= TRACKED_SESSIONS && !last.contains_key(session_id) {
                last.clear();
            }
            match to {
                Some(p) => last.insert(session_id.to_owned(), p),
                None => last.remove(session_id),
            }
        };
        if from == to {
            return;
        }
        if let Some(p) = from {
            gauge!(SESSIONS, "phase" => p.name()).decrement(1.0);
        }
        if let Some(p) = to {
            gauge!(SESSIONS, "phase" => p.name()).increment(1.0);
            let from = from.map_or("unknown", Phase::name);
            counter!(TRANSITIONS, "from" => from, "to" => p.name()).increment(1);
        }
    }
}

/// Records one turn.
pub fn turn(outcome: &'static str, seconds: f64) {
    counter!(TURNS, "outcome" => outcome).increment(1);
    histogram!(TURN_DURATION).record(seconds);
}

/// Records one OAuth callback.
pub fn oauth(provider: &str, outcome: &'static str) {
    counter!(OAUTH, "provider" => provider.to_owned(), "outcome" => outcome).increment(1);
}

/// The metrics in Prometheus text format.
pub fn render(handle: &PrometheusHandle) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render())
        .into_response()
}

/// Counts every request by route and status (after routing, so unknown paths share one
/// label instead of one per path a scanner tries).
pub async fn count_requests(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    counter!(REQUESTS, "method" => method, "route" => route, "status" => status).increment(1);
    response
}
