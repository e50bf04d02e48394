//! Connecting accounts with the OAuth 2.0 authorization-code flow and PKCE (S256).
//!
//! The engine decides *when* an account is needed and issues a single-use `state`; the
//! host does the rest. When a chunk carries the engine's connect link for a provider that is
//! configured here, the host stores a record under `kiln-host/oauth/<state>.json` (tenant,
//! user, session, PKCE verifier, expiry; shared by every instance on one store) and replaces
//! the link with the provider's authorization URL. `/oauth/callback` consumes the record
//! exactly once, exchanges the code at the token endpoint, keeps the token under
//! `kiln-host/tokens/` (never in the guest, never logged), and resumes the conversation
//! through the engine's `complete-oauth`, which checks the state again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kiln_engine::builder::{ChatChunk, TurnInput, simulated_connect_link};
use kiln_store::{HOST_PREFIX, OAUTH_RECORDS as RECORDS};
use kiln_wire::store::Precondition;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::auth::Authed;
use super::config::{OauthProviderConfig, ServerConfig};
use super::{ApiError, AppState, telemetry, turns};

/// The configured providers and where the provider sends people back to.
pub struct OauthSettings {
    providers: BTreeMap<String, OauthProviderConfig>,
    public_url: String,
    http: reqwest::Client,
    /// The most connection attempts in progress at once (`limits.max_pending_oauth`).
    max_pending: usize,
}

impl OauthSettings {
    /// From the configuration; `public_url` has no trailing slash.
    pub fn new(config: &ServerConfig, public_url: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            providers: config.oauth.clone(),
            public_url,
            http,
            max_pending: config.limits.max_pending_oauth,
        }
    }

    /// Whether `provider` connects through a real provider here (else: simulated consent).
    pub fn configured(&self, provider: &str) -> bool {
        self.providers.contains_key(provider)
    }

    fn redirect_uri(&self) -> String {
        format!("{}/oauth/callback", self.public_url)
    }

    /// Checks where a browser may be sent back to after consent, and returns it in the
    /// form the callback will redirect to: a path on this server (`/` then anything but a
    /// second `/` or a `\`, which browsers read as "another host"), or an absolute URL
    /// whose origin is `public_url`'s. No control characters (a header cannot carry them,
    /// and browsers silently drop a TAB or newline, turning `/<TAB>/host` into `//host`),
    /// at most [`MAX_RETURN_TO`] bytes. The result is the `url` crate's serialization, so
    /// what is stored and sent is exactly what a browser will follow.
    fn return_to(&self, raw: &str) -> Result<String, ApiError> {
        let refuse = |why: &str| {
            Err(ApiError::invalid(format!(
                "return_to {why}: give a path on this server (\"/...\") or a URL starting with {}",
                self.public_url
            )))
        };
        if raw.len() > MAX_RETURN_TO {
            return refuse(&format!("is longer than {MAX_RETURN_TO} bytes"));
        }
        if raw.chars().any(char::is_control) {
            return refuse("contains control characters");
        }
        let Ok(base) = url::Url::parse(&format!("{}/", self.public_url)) else {
            return refuse("cannot be checked: public_url is not a URL");
        };
        let mut rest = raw.chars().skip(1);
        let local_path = raw.starts_with('/') && !matches!(rest.next(), Some('/' | '\\'));
        let absolute = url::Url::parse(raw).ok().filter(|u| u.origin() == base.origin());
        let target = match (local_path, absolute) {
            (true, _) => base.join(raw).ok().filter(|u| u.origin() == base.origin()),
            (false, Some(u)) if u.as_str().starts_with(base.as_str()) || u.as_str() == self.public_url => {
                Some(u)
            }
            _ => None,
        };
        let Some(target) = target else {
            return refuse("leads to another site");
        };
        if local_path {
            // Keep it relative: path, query and fragment, as normalised by the parser.
            Ok(target[url::Position::BeforePath..].to_owned())
        } else {
            Ok(target.into())
        }
    }
}

impl OauthSettings {
    /// Where the callback sends the browser: the stored `return_to` (checked when it was
    /// stored, checked again here for records written before that) with `oauth_state` and
    /// `oauth_result` added to its query, before any fragment.
    fn back_to(&self, to: &str, pending: &str, result: &str) -> Result<String, ApiError> {
        let checked = self.return_to(to).map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "oauth-refused", format!("the stored {}", e.message))
        })?;
        let relative = checked.starts_with('/');
        let base = url::Url::parse(&format!("{}/", self.public_url))
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "invalid-config", e.to_string()))?;
        let mut url = base
            .join(&checked)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
        url.query_pairs_mut().append_pair("oauth_state", pending).append_pair("oauth_result", result);
        Ok(if relative { url[url::Position::BeforePath..].to_owned() } else { url.into() })
    }
}

/// The longest `return_to` accepted, in bytes.
pub const MAX_RETURN_TO: usize = 2048;

/// Whose connection a record is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// `None`: the local tenant.
    pub tenant: Option<String>,
    /// The user.
    pub user: String,
}

/// One authorization in progress.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    owner: Owner,
    /// The server-held session to resume; `None` when the session lives in a browser.
    session_id: Option<String>,
    provider: String,
    verifier: String,
    expires_at_ms: u64,
    /// Where to send the browser afterwards.
    return_to: Option<String>,
}

impl Record {
    /// Past its expiry (an attempt with a TTL of 0 is expired at once).
    fn expired(&self, now_ms: u64) -> bool {
        now_ms >= self.expires_at_ms
    }
}

/// Deletes the records of attempts that expired (and any that cannot be read: nothing
/// could ever consume them); returns how many. Run by the server's sweep and when the
/// limit of attempts in progress is reached. Deletes are compare-and-swap, so a record
/// consumed or rewritten meanwhile is left to its new owner.
pub async fn sweep_expired(state: &AppState) -> Result<usize, ApiError> {
    let store = &state.0.base.store;
    let now = now_ms(state);
    let mut removed = 0;
    for key in store.list(RECORDS).await? {
        let Some(entry) = store.get(&key).await? else { continue };
        let stale = serde_json::from_slice::<Record>(&entry.value).map_or(true, |r| r.expired(now));
        if stale && matches!(store.delete(&key, Precondition::Matches(entry.version)).await, Ok(true)) {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Refuses a new attempt while `limits.max_pending_oauth` are in progress, after sweeping
/// the expired ones. Concurrent starts may pass the limit by their number; the store stays
/// bounded all the same (each record is a few KB).
async fn make_room(state: &AppState) -> Result<(), ApiError> {
    let cap = state.0.oauth.max_pending;
    let store = &state.0.base.store;
    if store.list(RECORDS).await?.len() < cap {
        return Ok(());
    }
    sweep_expired(state).await?;
    if store.list(RECORDS).await?.len() < cap {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-pending",
        format!(
            "{cap} account connections are already in progress on this server (limits.max_pending_oauth); \
             retry when some have finished or expired"
        ),
    ))
}

fn record_key(state: &str) -> String {
    format!("{RECORDS}{state}.json")
}

/// The most scopes a start may ask for, and the longest scope, in bytes.
const MAX_SCOPES: usize = 64;
const MAX_SCOPE_BYTES: usize = 256;

/// The engine's states are 128 random bits in lowercase hex.
fn check_state(state: &str) -> Result<(), ApiError> {
    if state.len() == 32 && state.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(refused("the state is not one this server issued"))
    }
}

/// A malformed or incomplete request.
fn refused(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "oauth-refused", message)
}

/// A well-formed state that is not an attempt in progress for this caller (unknown, used,
/// expired, someone else's): 409, the same answer whichever it is.
fn not_in_progress(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "oauth-refused", message)
}

fn now_ms(state: &AppState) -> u64 {
    let t = state.0.base.clock.now();
    t.seconds.saturating_mul(1000).saturating_add(u64::from(t.nanoseconds / 1_000_000))
}

/// [`rewrite_chunk`] for every chunk of a turn.
pub async fn rewrite_chunks(
    state: &AppState,
    owner: &Owner,
    chunks: &mut [ChatChunk],
) -> Result<(), ApiError> {
    for chunk in chunks {
        rewrite_chunk(state, owner, chunk).await?;
    }
    Ok(())
}

/// This server's link for the connection `chunk` asks for: the provider's authorization URL
/// when the provider is configured here, else the simulated consent (`GET /oauth/start`).
pub async fn rewrite_chunk(state: &AppState, owner: &Owner, chunk: &mut ChatChunk) -> Result<(), ApiError> {
    let Some(connect) = &chunk.connect else { return Ok(()) };
    let url = if state.0.oauth.configured(&connect.provider) {
        let request = Request {
            session_id: Some(chunk.session_id.clone()),
            provider: &connect.provider,
            // The scopes the guest asked for (unless this server configures its own).
            scopes: Some(connect.scopes.clone()),
            return_to: None,
        };
        begin(state, owner, &connect.state, request).await?
    } else {
        simulated_connect_link(&chunk.session_id, connect)
    };
    chunk.oauth_url = Some(url);
    Ok(())
}

/// What an authorization is for.
struct Request<'a> {
    /// The server-held session to resume, if any.
    session_id: Option<String>,
    provider: &'a str,
    /// Scopes the caller asked for.
    scopes: Option<Vec<String>>,
    return_to: Option<String>,
}

/// The authorization URL for `pending`, creating its record on first use (later links for
/// the same state reuse the record, so every link shown stays valid).
async fn begin(
    state: &AppState,
    owner: &Owner,
    pending: &str,
    request: Request<'_>,
) -> Result<String, ApiError> {
    let Request { session_id, provider, scopes, return_to } = request;
    check_state(pending)?;
    let settings = &state.0.oauth;
    let config = settings.providers.get(provider).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "oauth-not-configured",
            format!("{provider} has no OAuth provider configured on this server; its consent is simulated"),
        )
    })?;
    let store = &state.0.base.store;
    let key = record_key(pending);
    let record = match store.get(&key).await? {
        Some(entry) => {
            let record: Record = serde_json::from_slice(&entry.value)
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "corrupt", e.to_string()))?;
            // Someone else's state looks exactly like an unknown one.
            if record.owner != *owner || record.provider != provider {
                return Err(not_in_progress("the state is not one this server issued"));
            }
            record
        }
        None => {
            make_room(state).await?;
            let mut random = [0u8; 32];
            state.0.base.random.fill(&mut random);
            let record = Record {
                owner: owner.clone(),
                session_id,
                provider: provider.to_owned(),
                verifier: URL_SAFE_NO_PAD.encode(random),
                expires_at_ms: now_ms(state).saturating_add(state.0.oauth_ttl_ms),
                return_to,
            };
            let bytes = serde_json::to_vec(&record).unwrap_or_default();
            store.put(&key, bytes, Precondition::Absent).await?;
            record
        }
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(record.verifier.as_bytes()));
    let scopes = match (&config.scopes, &scopes) {
        (Some(s), _) | (None, Some(s)) => s.join(" "),
        (None, None) => config.default_scopes.join(" "),
    };
    let mut url = reqwest::Url::parse(&config.authorize_url)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "invalid-config", e.to_string()))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &config.client_id)
        .append_pair("redirect_uri", &settings.redirect_uri())
        .append_pair("scope", &scopes)
        .append_pair("state", pending)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(url.into())
}

/// A browser-held session asks for an authorization URL.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// The integration (`gmail`, ...).
    provider: String,
    /// The pending state the browser's engine issued.
    state: String,
    /// The scopes the engine asked for (used unless this server configures its own).
    #[serde(default)]
    scopes: Option<Vec<String>>,
    /// Where to send the browser back to (this server's origin, or a path on it).
    return_to: String,
}

/// `POST /v1/oauth/start`: the authorization URL for a session that lives in a browser.
pub async fn start(
    State(state): State<AppState>,
    authed: Authed,
    body: Result<Json<StartBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let return_to = state.0.oauth.return_to(&body.return_to)?;
    if let Some(scopes) = &body.scopes
        && (scopes.len() > MAX_SCOPES || scopes.iter().any(|s| s.len() > MAX_SCOPE_BYTES))
    {
        return Err(ApiError::invalid(format!(
            "scopes: at most {MAX_SCOPES}, each at most {MAX_SCOPE_BYTES} bytes"
        )));
    }
    let owner = Owner { tenant: authed.tenant, user: authed.caller.user_id };
    let request = Request {
        session_id: None,
        provider: &body.provider,
        scopes: body.scopes,
        return_to: Some(return_to),
    };
    let url = begin(&state, &owner, &body.state, request).await?;
    Ok(Json(json!({ "authorization_url": url })).into_response())
}

/// `GET /oauth/start`: the engine's own connect link, reached only for providers with no
/// configuration here.
pub async fn simulated_start(Query(q): Query<BTreeMap<String, String>>) -> ApiError {
    let provider = q.get("provider").map_or("this integration", String::as_str);
    let session = q.get("session_id").map_or("{id}", String::as_str);
    ApiError::new(
        StatusCode::CONFLICT,
        "oauth-simulated",
        format!(
            "{provider} has no OAuth provider configured on this server, so its consent is simulated: \
             POST /v1/sessions/{session}/oauth with {{\"state\": ..., \"approved\": true|false}}"
        ),
    )
}

/// What the provider sends back.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

/// `GET /oauth/callback`: the provider's redirect.
pub async fn callback(
    State(state): State<AppState>,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let pending = q.state.ok_or_else(|| refused("the callback has no state"))?;
    let record = consume(&state, &pending).await.inspect_err(|_| telemetry::oauth("unknown", "refused"))?;
    let provider = record.provider.clone();
    let outcome = match (q.code, q.error) {
        (_, Some(error)) => Outcome::Denied(format!("the provider reported {error:?}")),
        (Some(code), None) => match exchange(&state, &record, &code).await {
            Ok(()) => Outcome::Approved,
            Err(e) => Outcome::ExchangeFailed(e),
        },
        (None, None) => {
            telemetry::oauth(&provider, "refused");
            return Err(refused("the callback has neither a code nor an error"));
        }
    };
    let (result, status, detail) = match outcome {
        Outcome::Approved => ("approved", StatusCode::OK, None),
        Outcome::Denied(d) => ("denied", StatusCode::OK, Some(d)),
        // The person said yes but the provider would not honour it: the conversation
        // offers a retry, and the status says whose fault it was.
        Outcome::ExchangeFailed(d) => ("failed", StatusCode::BAD_GATEWAY, Some(d)),
    };
    telemetry::oauth(&provider, result);

    let chunks = match &record.session_id {
        Some(sid) => {
            let authed = Authed::for_caller(&state, record.owner.tenant.clone(), record.owner.user.clone());
            let input = TurnInput::Oauth { state: pending.clone(), approved: result == "approved" };
            let mut chunks = turns::run(&state, &authed, sid, input).await?;
            rewrite_chunks(&state, &record.owner, &mut chunks).await?;
            Some(chunks)
        }
        None => None,
    };
    if let Some(to) = &record.return_to {
        let result = if result == "approved" { "approved" } else { "denied" };
        let location = state.0.oauth.back_to(to, &pending, result)?;
        return Ok(Redirect::to(&location).into_response());
    }
    let body = json!({
        "result": result,
        "provider": provider,
        "session_id": record.session_id,
        "detail": detail,
        "chunks": chunks,
    });
    Ok((status, Json(body)).into_response())
}

/// How a callback ended.
enum Outcome {
    Approved,
    /// The person (or the provider) said no.
    Denied(String),
    /// The code could not be traded for a token.
    ExchangeFailed(String),
}

/// Reads and deletes the record for `pending`: each state is accepted once.
async fn consume(state: &AppState, pending: &str) -> Result<Record, ApiError> {
    check_state(pending)?;
    let store: &Arc<dyn kiln_store::KvStore> = &state.0.base.store;
    let key = record_key(pending);
    let unknown =
        || not_in_progress("unknown or already used state: start the connection again from the conversation");
    let entry = store.get(&key).await?.ok_or_else(unknown)?;
    match store.delete(&key, Precondition::Matches(entry.version)).await {
        Ok(true) => {}
        Ok(false) | Err(kiln_wire::store::StoreError::Conflict) => return Err(unknown()),
        Err(e) => return Err(e.into()),
    }
    let record: Record = serde_json::from_slice(&entry.value)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "corrupt", format!("{key}: {e}")))?;
    if record.expired(now_ms(state)) {
        return Err(not_in_progress("this connection attempt expired: start it again from the conversation"));
    }
    Ok(record)
}

/// Trades the code for a token and keeps it host-side. The error text never contains the
/// code, the verifier, the secret or a token.
async fn exchange(state: &AppState, record: &Record, code: &str) -> Result<(), String> {
    let settings = &state.0.oauth;
    let config = settings
        .providers
        .get(&record.provider)
        .ok_or_else(|| format!("the token exchange failed: {} is no longer configured", record.provider))?;
    let redirect_uri = settings.redirect_uri();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", config.client_id.as_str()),
        ("code_verifier", record.verifier.as_str()),
    ];
    let secret = config.client_secret_env.as_ref().and_then(|v| std::env::var(v).ok());
    if let Some(s) = &secret {
        form.push(("client_secret", s.as_str()));
    }
    let response = settings
        .http
        .post(&config.token_url)
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("the token exchange with {} failed: {}", config.token_url, e.without_url()))?;
    let status = response.status();
    let body =
        response.bytes().await.map_err(|e| format!("the token exchange failed reading the reply: {e}"))?;
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let access = value.get("access_token").and_then(|t| t.as_str());
    let Some(access) = access.filter(|_| status.is_success()) else {
        let error = value.get("error").and_then(|e| e.as_str()).unwrap_or("no access_token in the reply");
        return Err(format!("the token exchange was refused by {} ({status}): {error}", config.token_url));
    };
    let token = json!({
        "provider": record.provider,
        "access_token": access,
        "refresh_token": value.get("refresh_token"),
        "token_type": value.get("token_type"),
        "scope": value.get("scope"),
        "expires_in": value.get("expires_in"),
        "obtained_at_ms": now_ms(state),
    });
    let key = token_key(&record.owner, &record.provider);
    let bytes = serde_json::to_vec(&token).unwrap_or_default();
    state
        .0
        .base
        .store
        .put(&key, bytes, Precondition::Any)
        .await
        .map_err(|e| format!("the token exchange succeeded but the token could not be stored: {e}"))?;
    Ok(())
}

/// Where a user's token for a provider lives (user ids are hashed: any text is allowed).
fn token_key(owner: &Owner, provider: &str) -> String {
    let tenant = owner.tenant.as_deref().unwrap_or(super::auth::LOCAL_TENANT);
    let user = xxhash_rust::xxh3::xxh3_64(owner.user.as_bytes());
    format!("{HOST_PREFIX}tokens/{tenant}/{user:016x}/{provider}.json")
}
