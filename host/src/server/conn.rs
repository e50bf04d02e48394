//! Connections: how they are accepted and how long a client may take.
//!
//! - `TCP_NODELAY` on every accepted socket. Without it the last small write of a
//!   response (an SSE `done` event, ~100 bytes) waits for the client's delayed ACK on a
//!   kept-alive connection: 40+ ms per turn for every browser, which reuses connections.
//! - Header timeout (hyper's `header_read_timeout`): a request's head must arrive whole
//!   within it, counted from when the connection is ready for a request, so it also closes
//!   a kept-alive connection that stays idle that long.
//! - Body timeout: an API request's body must arrive whole within it (`408`, connection
//!   closed); a declared `Content-Length` over `limits.max_body_bytes` is refused at once
//!   (`413`) rather than waited for.
//!
//! Graceful shutdown stops accepting, lets every connection finish the request it is
//! serving (a streaming turn included), then returns.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use super::ApiError;

/// How long a client may take (`kiln serve --header-timeout-seconds`,
/// `--body-timeout-seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To send a request's head, from when the connection is ready for one (so also the
    /// longest a kept-alive connection may stay idle).
    pub header: Duration,
    /// To send a request's body, from when the handler starts reading it.
    pub body: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { header: Duration::from_secs(30), body: Duration::from_secs(30) }
    }
}

/// What the body reader needs.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// `limits.max_body_bytes`.
    pub max_bytes: usize,
    /// [`Timeouts::body`].
    pub timeout: Duration,
}

/// Reads an API request's whole body before its handler runs, within the body timeout and
/// the size limit, so a client cannot hold a handler (and its connection) by sending
/// slowly or by announcing more than it sends.
pub async fn read_body(State(limits): State<BodyLimits>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_bytes as u64) {
        return closing(too_large());
    }
    match tokio::time::timeout(limits.timeout, axum::body::to_bytes(body, limits.max_bytes)).await {
        Err(_) => closing(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request-timeout",
            format!(
                "the request body did not arrive within {} s (--body-timeout-seconds); send it whole, then wait for the answer",
                limits.timeout.as_secs()
            ),
        )),
        Ok(Err(e)) if is_length_limit(&e) => closing(too_large()),
        Ok(Err(e)) => closing(ApiError::invalid(format!("the request body could not be read: {e}"))),
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        "the request body is larger than this server accepts (limits.max_body_bytes)",
    )
}

/// The error, with the connection closed after it: the rest of the body is not read.
fn closing(e: ApiError) -> Response {
    let mut response = e.into_response();
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// Accepts connections on `listener` and serves `app` on each until `shutdown` resolves,
/// then waits for the requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: the listener is fine, the
                    // process is full; give connections in flight a moment to finish.
                    eprintln!("kiln serve: accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Best effort: a socket that refuses the option still works, only slower.
        let _ = stream.set_nodelay(true);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(timeouts.header);
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or times out ends its connection; nothing to report.
            let _ = watched.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
