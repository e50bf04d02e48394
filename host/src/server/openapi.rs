//! The route table and the OpenAPI document describing it. The router is built from
//! [`routes`]; a test checks that the document lists exactly these routes.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, delete, get, post};

use super::{AppState, conversations, llm_proxy, oauth, sessions, telemetry};

/// The OpenAPI 3.1 document, served at `/openapi.json`.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// One route.
pub struct Route {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path with `{param}` placeholders, as in the OpenAPI document.
    pub path: &'static str,
    /// Its handler.
    pub handler: MethodRouter<AppState>,
}

fn route(method: &'static str, path: &'static str, handler: MethodRouter<AppState>) -> Route {
    Route { method, path, handler }
}

/// Every route the server answers.
pub fn routes() -> Vec<Route> {
    vec![
        route("GET", "/healthz", get(healthz)),
        route("GET", "/metrics", get(metrics)),
        route("GET", "/openapi.json", get(document)),
        route("POST", "/v1/sessions", post(sessions::create)),
        route("GET", "/v1/sessions", get(sessions::list)),
        route("GET", "/v1/sessions/{id}", get(sessions::show)),
        route("DELETE", "/v1/sessions/{id}", delete(sessions::delete)),
        route("POST", "/v1/sessions/{id}/messages", post(sessions::message)),
        route("POST", "/v1/sessions/{id}/back", post(sessions::back)),
        route("POST", "/v1/sessions/{id}/reset", post(sessions::reset)),
        route("POST", "/v1/sessions/{id}/oauth", post(sessions::simulated_oauth)),
        route("GET", "/v1/sessions/{id}/agent", get(sessions::agent)),
        route("POST", "/v1/conversations", post(conversations::add)),
        route("GET", "/v1/conversations", get(conversations::list)),
        route("POST", "/v1/conversations/next", post(conversations::next)),
        route("POST", "/v1/conversations/step", post(conversations::step)),
        route("POST", "/v1/conversations/{id}/start", post(conversations::start)),
        route("POST", "/v1/llm/complete", post(llm_proxy::complete)),
        route("POST", "/v1/oauth/start", post(oauth::start)),
        route("GET", "/oauth/start", get(oauth::simulated_start)),
        route("GET", "/oauth/callback", get(oauth::callback)),
    ]
}

/// Up only when the store answers: a load balancer then stops sending turns to an instance
/// whose store (e.g. Redis) is unreachable.
async fn healthz(State(state): State<AppState>) -> axum::response::Response {
    let store = state.0.base.store.get(HEALTH_KEY).await;
    let body = serde_json::json!({
        "status": if store.is_ok() { "ok" } else { "unavailable" },
        "store": match &store { Ok(_) => "ok".to_owned(), Err(e) => e.to_string() },
        "version": env!("CARGO_PKG_VERSION"),
        "tenants": if state.0.auth.is_local() { "local" } else { "api-keys" },
        "llm": if state.0.offline { "offline" } else { "models" },
    });
    let status = if store.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(body)).into_response()
}

/// A key that is read (never written) to check the store answers.
const HEALTH_KEY: &str = "kiln-host/health";

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    telemetry::render(&state.0.metrics)
}

/// The document as this server answers: without API keys nothing asks for one, so the
/// `security` requirements are left out; without a model the LLM proxy, which could only
/// answer `503 no-provider`, is left out.
async fn document(State(state): State<AppState>) -> impl IntoResponse {
    let text = served(state.0.auth.is_local(), state.0.offline);
    ([(header::CONTENT_TYPE, "application/json")], text)
}

/// [`DOCUMENT`] for a server with or without keys and a model, each made once.
fn served(keyless: bool, offline: bool) -> &'static str {
    static VARIANTS: [std::sync::OnceLock<String>; 4] = [const { std::sync::OnceLock::new() }; 4];
    VARIANTS[usize::from(keyless) * 2 + usize::from(offline)].get_or_init(|| {
        let mut doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap_or_default();
        if offline && let Some(paths) = doc["paths"].as_object_mut() {
            paths.remove("/v1/llm/complete");
        }
        if keyless {
            if let Some(doc) = doc.as_object_mut() {
                doc.remove("security");
            }
            for item in doc["paths"].as_object_mut().into_iter().flat_map(|p| p.values_mut()) {
                for op in item.as_object_mut().into_iter().flat_map(|i| i.values_mut()) {
                    if let Some(op) = op.as_object_mut() {
                        op.remove("security");
                    }
                }
            }
        }
        doc.to_string()
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_document_lists_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("openapi.json is JSON");
        assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    documented.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        let served: BTreeSet<(String, String)> =
            routes().iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
        assert_eq!(documented, served, "openapi.json and the route table differ");
        // Every operation says what it answers, and every referenced schema exists.
        let text = DOCUMENT;
        for name in text.split("#/components/schemas/").skip(1).map(|s| s.split('"').next().unwrap_or("")) {
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "schema {name} is referenced but missing"
            );
        }
    }
}
