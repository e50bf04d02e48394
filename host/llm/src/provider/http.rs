//! What both HTTP providers share: the client without retries, timeouts for connect,
//! first byte and idle stream, error responses turned into classified attempt errors.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::ProviderOutput;
use crate::config::ProviderConfig;
use crate::error::{AttemptError, Cause, ErrorBody, ErrorClass, classify_response, status_advice};
use crate::request::{StreamEvent, TokenSink};
use crate::retry::hint_from_headers;

/// The most of an error body that is read (and a little of it quoted).
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// The most of a successful non-streamed body that is read.
const BODY_LIMIT: usize = 32 * 1024 * 1024;

#[derive(Debug)]
pub(crate) struct Http {
    pub client: reqwest::Client,
    pub url: String,
    pub headers: HeaderMap,
    first_byte: Duration,
    idle: Duration,
}

impl Http {
    /// A client for one provider at `url`. The client never retries and never follows
    /// redirects: only the layer retries, so attempts never multiply across layers.
    pub(crate) fn new(config: &ProviderConfig, url: String) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("kiln/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid header name {name:?}"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("header {name}: the value is not valid in HTTP"))?;
            headers.insert(name, value);
        }
        Ok(Self {
            client,
            url,
            headers,
            first_byte: Duration::from_millis(config.first_byte_timeout_ms.unwrap_or(config.timeout_ms)),
            idle: Duration::from_millis(config.idle_timeout_ms),
        })
    }

    /// Sends the request and waits for the response headers (first-byte timeout).
    /// A POST of `body` as JSON to the endpoint, with the configured extra headers.
    pub(crate) fn post_json(&self, body: &serde_json::Value) -> reqwest::RequestBuilder {
        // A `Value` always serializes.
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.client
            .post(&self.url)
            .headers(self.headers.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes)
    }

    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, AttemptError> {
        match tokio::time::timeout(self.first_byte, request.send()).await {
            Err(_) => Err(AttemptError::new(
                ErrorClass::Transient,
                Cause::Timeout,
                format!(
                    "{} sent no response within {} ms (first_byte_timeout_ms)",
                    self.url,
                    self.first_byte.as_millis()
                ),
            )),
            Ok(Err(e)) => Err(transport_error(&e, &self.url)),
            Ok(Ok(response)) => Ok(response),
        }
    }

    /// The next chunk of a body; `None` at its end. Silence longer than the idle timeout
    /// is a transient failure; more than `limit` bytes in all (`read` counts them) is bad
    /// output, so no response, streamed or not, grows without bound.
    async fn chunk_within(
        &self,
        response: &mut reqwest::Response,
        read: &mut usize,
        limit: usize,
    ) -> Result<Option<Bytes>, AttemptError> {
        let chunk = match tokio::time::timeout(self.idle, response.chunk()).await {
            Err(_) => {
                return Err(AttemptError::new(
                    ErrorClass::Transient,
                    Cause::Timeout,
                    format!(
                        "the response from {} stalled: no data for {} ms (idle_timeout_ms)",
                        self.url,
                        self.idle.as_millis()
                    ),
                ));
            }
            Ok(Err(e)) => return Err(transport_error(&e, &self.url)),
            Ok(Ok(chunk)) => chunk,
        };
        *read = read.saturating_add(chunk.as_ref().map_or(0, Bytes::len));
        if *read > limit {
            return Err(AttemptError::new(
                ErrorClass::BadOutput,
                Cause::Body,
                format!("the response from {} is larger than {limit} bytes", self.url),
            ));
        }
        Ok(chunk)
    }

    /// The next chunk of a streamed body, [`BODY_LIMIT`] bytes at most in all (`read`
    /// counts them): the same cap as a whole body.
    pub(crate) async fn stream_chunk(
        &self,
        response: &mut reqwest::Response,
        read: &mut usize,
    ) -> Result<Option<Bytes>, AttemptError> {
        self.chunk_within(response, read, BODY_LIMIT).await
    }

    /// The whole body, up to `limit` bytes.
    async fn body_limited(
        &self,
        response: &mut reqwest::Response,
        limit: usize,
    ) -> Result<Vec<u8>, AttemptError> {
        let mut body = Vec::new();
        let mut read = 0;
        while let Some(chunk) = self.chunk_within(response, &mut read, limit).await? {
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// A successful response's body, parsed as JSON.
    pub(crate) async fn json(
        &self,
        response: &mut reqwest::Response,
    ) -> Result<serde_json::Value, AttemptError> {
        let body = self.body_limited(response, BODY_LIMIT).await?;
        serde_json::from_slice(&body).map_err(|e| {
            AttemptError::new(
                ErrorClass::BadOutput,
                Cause::Body,
                format!(
                    "the response from {} is not valid JSON ({e}): {}",
                    self.url,
                    snippet(&String::from_utf8_lossy(&body))
                ),
            )
        })
    }

    /// Turns an error response into a classified attempt error, with the server's retry
    /// hint and `x-should-retry`.
    pub(crate) async fn error(&self, mut response: reqwest::Response) -> AttemptError {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let hint =
            hint_from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()), SystemTime::now());
        let should_retry =
            headers.get("x-should-retry").and_then(|v| v.to_str().ok()).and_then(|v| match v.trim() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            });
        // A body that cannot be read still leaves the status to classify by.
        let body = self.body_limited(&mut response, ERROR_BODY_LIMIT).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let parsed = ErrorBody::parse(&text);
        let class = classify_response(status, &parsed);
        let detail = parsed.message.clone().unwrap_or_else(|| snippet(&text));
        let mut message = format!("HTTP {status} from {}", self.url);
        if !detail.is_empty() {
            message.push_str(": ");
            message.push_str(&detail);
        }
        message.push_str(" (");
        message.push_str(status_advice(status, class));
        message.push(')');
        AttemptError {
            class,
            cause: Cause::Status,
            message,
            status: Some(status),
            hint,
            should_retry,
            output: None,
        }
    }
}

/// At most 200 characters of a body, on one line.
pub(crate) fn snippet(text: &str) -> String {
    let one_line: String =
        text.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect();
    if text.trim().chars().count() > 200 { format!("{one_line}…") } else { one_line }
}

/// Classifies a failure below HTTP.
pub(crate) fn transport_error(e: &reqwest::Error, url: &str) -> AttemptError {
    let mut io_kind = None;
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if io_kind.is_none()
            && let Some(io) = s.downcast_ref::<std::io::Error>()
        {
            io_kind = Some(io.kind());
        }
        let text = s.to_string();
        if !chain.contains(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        source = s.source();
    }
    use std::io::ErrorKind as K;
    let (cause, message) = if io_kind == Some(K::ConnectionRefused) {
        (
            Cause::Refused,
            format!(
                "connection refused by {url}: nothing listens there (is the server running? check base_url)"
            ),
        )
    } else if e.is_timeout() {
        (Cause::Timeout, format!("connecting to {url} timed out (connect_timeout_ms): {chain}"))
    } else if e.is_connect() {
        (Cause::Connect, format!("cannot connect to {url}: {chain}"))
    } else {
        (Cause::Transport, format!("the connection to {url} broke: {chain}"))
    };
    AttemptError::new(ErrorClass::Transient, cause, message)
}

/// What differs between the HTTP providers once a response has arrived.
#[async_trait::async_trait]
pub(crate) trait Wire: Sync {
    /// The provider's HTTP client and endpoint.
    fn http(&self) -> &Http;
    /// The text of a whole (non-streamed) response body.
    fn text_of(&self, v: &serde_json::Value) -> Result<String, AttemptError>;
    /// Reads an SSE response, passing tokens to `sink`; returns the whole text.
    async fn stream(
        &self,
        response: reqwest::Response,
        sink: &mut dyn TokenSink,
    ) -> Result<String, AttemptError>;
}

/// Sends `builder` and reads the answer: an error status becomes a classified error, an
/// event stream goes through `stream`, anything else is a JSON body (also when streaming
/// was asked for and the server ignored it: its text then reaches the sink as one token).
pub(crate) async fn exchange<W: Wire + ?Sized>(
    wire: &W,
    builder: reqwest::RequestBuilder,
    stream: bool,
    sink: &mut dyn TokenSink,
) -> Result<ProviderOutput, AttemptError> {
    let http = wire.http();
    let mut response = http.send(builder).await?;
    if !response.status().is_success() {
        return Err(http.error(response).await);
    }
    let is_sse = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if stream && is_sse {
        return wire.stream(response, sink).await.map(ProviderOutput::Text);
    }
    let v = http.json(&mut response).await?;
    let text = wire.text_of(&v)?;
    if stream && !text.is_empty() {
        sink.on_event(StreamEvent::Token(&text));
    }
    Ok(ProviderOutput::Text(text))
}

/// An error envelope (`{"error": {...}}`, Anthropic's with `"type": "error"`) inside a 200
/// response or a stream event, classified like an error response.
pub(crate) fn in_band_error(envelope: &serde_json::Value, url: &str) -> AttemptError {
    let body = ErrorBody::parse(&envelope.to_string());
    let class = crate::error::classify_stream_error(&body);
    let detail = body.message.unwrap_or_else(|| envelope.to_string());
    AttemptError::new(class, Cause::Provider, format!("{url} reported an error: {detail}"))
}

/// A stream that ended before `marker`: transient, so the attempt is retried or falls back.
pub(crate) fn truncated(url: &str, marker: &str, chars: usize, mid_event: bool) -> AttemptError {
    let rest = if mid_event { " and in the middle of an event" } else { "" };
    AttemptError::new(
        ErrorClass::Transient,
        Cause::Truncated,
        format!("the stream from {url} ended before {marker}, after {chars} characters{rest}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_short_and_on_one_line() {
        assert_eq!(snippet("  a\nb  "), "a b");
        let long = "x".repeat(500);
        assert_eq!(snippet(&long).chars().count(), 201);
    }

    #[test]
    fn bad_headers_are_reported() {
        let mut config = ProviderConfig::new(crate::ProviderKind::Openai, "http://127.0.0.1:1", "m");
        config.headers.insert("X-Ok".into(), "bad\nvalue".into());
        let e = Http::new(&config, "http://127.0.0.1:1".into()).expect_err("bad value");
        assert!(e.contains("not valid in HTTP"), "{e}");
        config.headers.clear();
        config.headers.insert("bad header".into(), "v".into());
        assert!(Http::new(&config, "u".into()).expect_err("bad name").contains("invalid header name"));
    }

    #[tokio::test]
    async fn a_body_over_its_cap_is_refused_however_it_arrives() {
        let config = ProviderConfig::new(crate::ProviderKind::Openai, "http://127.0.0.1:1", "m");
        let http = Http::new(&config, "http://127.0.0.1:1".into()).expect("client");
        let response = || reqwest::Response::from(http::Response::new(vec![b'x'; 10]));
        let (mut read, mut ok) = (0, response());
        assert_eq!(
            http.chunk_within(&mut ok, &mut read, 10).await.expect("at the cap").map(|b| b.len()),
            Some(10)
        );
        assert_eq!(read, 10);
        let e = http.chunk_within(&mut response(), &mut 1, 10).await.expect_err("one byte over");
        assert_eq!(e.class, ErrorClass::BadOutput);
        assert!(e.message.contains("larger than 10 bytes"), "{}", e.message);
    }
}
