//! The built web UI (`web/dist`) served at `/`: files from the directory, sent compressed
//! and with cache headers, plus `kiln-server.json`, which tells the page what this server
//! offers.
//!
//! - **Compression**: `web/build.sh` writes a Brotli (`.br`, quality 11) and a gzip (`.gz`,
//!   level 9) copy beside every text file and the engine; the file is sent as the smallest
//!   the browser accepts (`Accept-Encoding`), with `Vary: Accept-Encoding`. Compressed once
//!   at build time, at the highest levels, instead of per request: no CPU per request, and
//!   the engine is 30% smaller in Brotli than gzip could make it on the fly.
//! - **Caching**: a file whose name carries a content hash (`kiln_web_bg.<16 hex>.wasm`,
//!   named by build.sh) never changes, so it is cached for a year (`immutable`); everything
//!   else (the HTML, which names the engine) is `no-cache`: the browser asks again each time
//!   and gets `304 Not Modified` while the file is unchanged (`Last-Modified`).
//! - **`kiln-server.json`**: on plain static hosting the file of that name in the site says
//!   there is no server; here the server answers instead with what it offers (models or
//!   none, the integrations that sign in for real, whether API keys are needed), so the page
//!   states it honestly and never probes a URL that would answer 404 on a static host.

use std::path::PathBuf;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use tower_http::services::ServeDir;

use super::AppState;

/// The path of the status file, relative to the site's root.
pub const STATUS_PATH: &str = "/kiln-server.json";

/// Cache-Control of a file named with a content hash.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Cache-Control of every other file: revalidate each time (a 304 while unchanged).
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// What this server offers the page, as `kiln-server.json`.
#[derive(Debug, Clone, Serialize)]
pub struct SiteStatus {
    /// Always `"kiln serve"` (the static file says `null`).
    pub server: &'static str,
    /// The binary's version.
    pub version: &'static str,
    /// Whether the LLM proxy has models behind it (without, it answers 503 `no-provider`).
    pub models: bool,
    /// Integrations whose sign-in goes to a real OAuth provider; the rest are simulated.
    pub sign_in: Vec<String>,
    /// Whether the API needs `Authorization: Bearer <key>`.
    pub api_keys: bool,
}

/// The site in `dir` with `status` as its `kiln-server.json`.
pub fn router(dir: PathBuf, status: &SiteStatus) -> Router<AppState> {
    // Plain structs always serialize.
    let body = serde_json::to_string(status).unwrap_or_default();
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    Router::new()
        .route(
            STATUS_PATH,
            get(move || async move {
                ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body)
                    .into_response()
            }),
        )
        .fallback_service(files)
        .layer(axum::middleware::from_fn(cache_headers))
}

/// Sets Cache-Control on the files served (successes and 304s), by file name, and
/// `Vary: Accept-Encoding` (the same URL is sent as Brotli, gzip or plain), so no cache hands
/// one browser the encoding another asked for.
async fn cache_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let immutable = is_content_addressed(request.uri().path());
    let mut response = next.run(request).await;
    let status = response.status();
    let headers = response.headers_mut();
    if (status.is_success() || status == StatusCode::NOT_MODIFIED)
        && !headers.contains_key(header::CACHE_CONTROL)
    {
        headers.insert(header::CACHE_CONTROL, if immutable { IMMUTABLE } else { REVALIDATE });
        if !headers.contains_key(header::VARY) {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    response
}

/// Whether the last segment of `path` names its content: `<name>.<16 hex digits>.<ext>`.
fn is_content_addressed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let mut parts = file.rsplit('.');
    let (Some(_ext), Some(hash), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !name.is_empty() && hash.len() == 16 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::is_content_addressed;

    #[test]
    fn only_names_with_a_content_hash_are_immutable() {
        assert!(is_content_addressed("/pkg/kiln_web_bg.0123456789abcdef.wasm"));
        assert!(is_content_addressed("a.0123456789abcdef.js"));
        for path in [
            "/",
            "/index.html",
            "/pkg/kiln_web_bg.wasm",
            "/pkg/kiln_web.js",
            "/x.0123456789abcde.wasm",
            "/x.0123456789abcdef0.wasm",
            "/x.0123456789ABCDEF.wasm",
            "/.0123456789abcdef.wasm",
            "/0123456789abcdef.wasm",
            "/pkg.0123456789abcdef/index.html",
        ] {
            assert!(!is_content_addressed(path), "{path}");
        }
    }
}
