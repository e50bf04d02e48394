//! The one scripted HTTP/1.1 server every test uses (the LLM layer's fault tests and
//! benchmarks, the host's LLM wiring tests, `kiln llm`, `kiln serve` and the browser tests):
//! a real server on 127.0.0.1 (ephemeral port), on its own threads so both synchronous and
//! tokio tests can use it, that answers each request with the next scripted [`Answer`] (or
//! a responder's) and records every request it receives.
//!
//! It speaks raw HTTP so it can misbehave the ways real servers do: hang, reset the
//! connection, stall a stream midway. Arrival times come from the server's own monotonic
//! clock, or from the test's clock ([`FakeHttp::timed_by`]) so that a test whose code waits
//! on a virtual clock sees the waits in that clock's time.
//!
//! A server lives for the rest of the test process (its threads block on `accept`); a
//! hanging or stalled connection ends when the client closes it.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A complete response (`content-type: application/json` unless `headers` says).
    Http {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The body.
        body: String,
    },
    /// `text/event-stream`: each item is written as one chunk, `gap` apart; with `stall`,
    /// the server stops sending before chunk `stall` (and keeps the connection open).
    Sse {
        /// The chunks, written as they are.
        chunks: Vec<String>,
        /// Pause between chunks.
        gap: Duration,
        /// Stop before this chunk.
        stall: Option<usize>,
    },
    /// Read the request, never answer.
    Hang,
    /// Read the request, then reset the connection (RST).
    Reset,
}

impl Answer {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: &Value) -> Self {
        Self::Http { status, headers: Vec::new(), body: body.to_string() }
    }

    /// `status` with `headers` and an empty JSON object as body.
    pub fn status(status: u16, headers: &[(&str, &str)]) -> Self {
        Self::Http { status, headers: pairs(headers), body: "{}".into() }
    }

    /// The same answer with `headers` added.
    pub fn with_headers(mut self, extra: &[(&str, &str)]) -> Self {
        if let Self::Http { headers, .. } = &mut self {
            headers.extend(pairs(extra));
        }
        self
    }
}

fn pairs(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Arrival time: since the server started, or the test clock's time.
    pub at: Duration,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target (path and query).
    pub path: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub text: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl Seen {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Picks the answer to a request (called outside the server's lock: a slow responder
/// delays only its own request).
type Responder = Arc<dyn Fn(&Seen) -> Answer + Send + Sync>;
/// Reads the test's clock.
type Now = Box<dyn Fn() -> Duration + Send + Sync>;

struct State {
    script: VecDeque<Answer>,
    then: Answer,
    /// When set, answers every request instead of the script.
    responder: Option<Responder>,
    now: Option<Now>,
    seen: Vec<Seen>,
}

/// The server.
#[derive(Clone)]
pub struct FakeHttp {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeHttp {
    /// Answers with `script` in order, then `then` forever.
    pub fn script(script: Vec<Answer>, then: Answer) -> Self {
        Self::spawn(State { script: script.into(), then, responder: None, now: None, seen: Vec::new() })
    }

    /// Always the same answer.
    pub fn always(answer: Answer) -> Self {
        Self::script(Vec::new(), answer)
    }

    /// Answers every request with `responder(request)`.
    pub fn respond(responder: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Self {
        let responder: Responder = Arc::new(responder);
        Self::spawn(State {
            script: VecDeque::new(),
            then: Answer::Hang,
            responder: Some(responder),
            now: None,
            seen: Vec::new(),
        })
    }

    /// Records arrival times from `now` (the test's clock) instead of the wall clock.
    pub fn timed_by(self, now: impl Fn() -> Duration + Send + Sync + 'static) -> Self {
        self.lock().now = Some(Box::new(now));
        self
    }

    fn spawn(state: State) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(state));
        let shared = Arc::clone(&state);
        let started = Instant::now();
        thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                thread::spawn(move || serve(stream, &shared, started));
            }
        });
        Self { addr, state }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking responder poisons the lock; the record is still good to read.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1`: an OpenAI-style `base_url`.
    pub fn v1(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// How many requests arrived so far.
    pub fn calls(&self) -> usize {
        self.lock().seen.len()
    }

    /// Every request so far, in order of arrival.
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// The time between consecutive requests' arrivals.
    pub fn gaps(&self) -> Vec<Duration> {
        let seen = self.seen();
        seen.windows(2).map(|w| w[1].at.saturating_sub(w[0].at)).collect()
    }
}

/// An address where nothing listens (connections are refused), as an OpenAI-style base URL.
pub fn refused_url() -> String {
    format!("http://127.0.0.1:{}/v1", refused_port())
}

/// A loopback port where connections are refused for the rest of the test process.
///
/// The port stays bound, never listened on: a port that was merely freed can be handed to
/// another test's server running in parallel, and then the "refused" address answers (seen
/// in CI as one test's primary provider reaching another test's fallback).
pub fn refused_port() -> u16 {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a TCP socket");
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into()).expect("bind 127.0.0.1");
    let port = socket.local_addr().ok().and_then(|a| a.as_socket()).expect("an IP address").port();
    std::mem::forget(socket);
    port
}

fn serve(mut stream: TcpStream, state: &Mutex<State>, started: Instant) {
    let mut buffer = Vec::new();
    while let Some((method, path, headers, body)) = read_request(&mut stream, &mut buffer) {
        let (seen, scripted) = {
            let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let at = s.now.as_ref().map_or_else(|| started.elapsed(), |now| now());
            let text = String::from_utf8_lossy(&body).into_owned();
            let body = serde_json::from_str(&text).unwrap_or(Value::Null);
            let seen = Seen { at, method, path, headers, text, body };
            s.seen.push(seen.clone());
            let scripted = match &s.responder {
                Some(responder) => Err(Arc::clone(responder)),
                None => Ok(s.script.pop_front().unwrap_or_else(|| s.then.clone())),
            };
            (seen, scripted)
        };
        let reply = scripted.unwrap_or_else(|responder| responder(&seen));
        match reply {
            Answer::Http { status, headers, body } => {
                let mut head =
                    format!("HTTP/1.1 {status} {}\r\ncontent-length: {}\r\n", reason(status), body.len());
                if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
                    head.push_str("content-type: application/json\r\n");
                }
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                head.push_str(&body);
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
            }
            Answer::Sse { chunks, gap, stall } => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                for (i, chunk) in chunks.iter().enumerate() {
                    if stall == Some(i) {
                        return until_closed(stream);
                    }
                    if i > 0 && !gap.is_zero() {
                        thread::sleep(gap);
                    }
                    if stream.write_all(chunk.as_bytes()).and_then(|()| stream.flush()).is_err() {
                        return;
                    }
                }
                let _ = stream.shutdown(Shutdown::Write);
                return;
            }
            Answer::Hang => return until_closed(stream),
            Answer::Reset => {
                // SO_LINGER 0: closing sends RST instead of FIN.
                let socket = socket2::SockRef::from(&stream);
                let _ = socket.set_linger(Some(Duration::ZERO));
                return;
            }
        }
    }
}

/// Keeps the connection open, sending nothing, until the client closes it.
fn until_closed(mut stream: TcpStream) {
    let mut sink = [0u8; 1024];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

type Request = (String, String, Vec<(String, String)>, Vec<u8>);

fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        fill(stream, buffer)?;
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize =
        headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let body_start = head_end + 4;
    while buffer.len() < body_start + length {
        fill(stream, buffer)?;
    }
    let body = buffer[body_start..body_start + length].to_vec();
    buffer.drain(..body_start + length);
    Some((method, path, headers, body))
}

/// Reads more bytes into `buffer`; `None` at the end of the connection.
fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk) {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}
