//! kiln-web: `kiln-core` in the browser, for the builder UI in `web/site/`.
//!
//! This crate holds no logic. `ports` implements the core's port traits with
//! `localStorage`, `Date.now` and `crypto.getRandomValues`; the exports below call the
//! core and hand JSON text across the boundary (the page parses it). A turn is driven
//! step by step ([`Turn`], kiln-core's turn driver) so the page can answer the guest's LLM
//! calls asynchronously with `fetch`, or not at all offline.
//!
//! Errors are thrown as JavaScript `Error`s whose `name` is the core's error kind
//! (`not-found`, `expired`, `corrupt`, `store`, ...) and whose `message` says what to do.

mod ports;

use kiln_core::builder::drive::{Next, TurnDriver};
use kiln_core::builder::engine::Input;
#[cfg(feature = "llm")]
use kiln_core::builder::llm::Purpose;
use kiln_core::builder::phase::Phase;
use kiln_core::builder::record;
use kiln_core::builder::session::Session;
use kiln_core::builder::view::session_view;
use kiln_core::builder::{BuilderError, Caller, TurnOptions, agent};
use kiln_core::extract::Provider;
use kiln_core::{Precondition, Store};
#[cfg(feature = "llm")]
use kiln_wire::proxy;
use serde::Serialize;
#[cfg(feature = "llm")]
use serde_json::value::RawValue;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::ports::{BrowserClock, BrowserRandom, LocalStore};

type WebBuilder = kiln_core::builder::Builder<LocalStore, BrowserClock, BrowserRandom>;

fn builder() -> WebBuilder {
    WebBuilder::new(LocalStore, BrowserClock, BrowserRandom)
}

/// Everything in this browser belongs to one person: the store is theirs alone.
fn caller() -> Caller {
    Caller { tenant_id: "local".into(), user_id: "browser".into() }
}

fn js_error(kind: &str, message: &str, key: Option<&str>) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(kind);
    if let Some(key) = key {
        let _ = js_sys::Reflect::set(&error, &JsValue::from_str("key"), &JsValue::from_str(key));
    }
    error.unchecked_into()
}

fn builder_error(e: BuilderError) -> JsValue {
    let key = match &e {
        BuilderError::Corrupt { key, .. } => Some(key.as_str()),
        _ => None,
    };
    // A session this build does not read (record/mod.rs: no `old-records` here) is not
    // damage: the kind `older`, and what the page offers instead (docs/web.md).
    let older =
        key.and_then(|k| LocalStore.get(k).ok().flatten()).and_then(|e| record::older_format(&e.value));
    match (key, older) {
        (Some(key), Some(format)) => js_error(
            "older",
            &format!(
                "{key} holds a session saved by an older Kiln (session format {format}), which this page no \
                 longer reads. It is kept as it was: download it to keep it (the kiln command-line tool \
                 still reads it), then remove it here to go on."
            ),
            Some(key),
        ),
        _ => js_error(e.kind(), &e.to_string(), key),
    }
}

fn json<T: Serialize>(value: &T) -> Result<String, JsValue> {
    serde_json::to_string(value)
        .map_err(|e| js_error("internal", &format!("could not encode JSON: {e}"), None))
}

fn session_json(s: &Session) -> Result<String, JsValue> {
    json(&session_view(s))
}

/// The eight phases in order, as `[{"name": "IDLE", "title": "Getting started"}, ...]`.
#[wasm_bindgen(js_name = phases)]
pub fn phases() -> Result<String, JsValue> {
    #[derive(Serialize)]
    struct PhaseInfo {
        name: &'static str,
        title: &'static str,
    }
    json(&Phase::ALL.map(|p| PhaseInfo { name: p.name(), title: p.title() }))
}

/// The integrations the engine knows, in its order, as
/// `[{"id": "gmail", "name": "Gmail", "oauth": true}, ...]`: the page names accounts with
/// these, so a new integration in the catalog needs no change to the page.
#[wasm_bindgen(js_name = providers)]
pub fn providers() -> Result<String, JsValue> {
    #[derive(Serialize)]
    struct ProviderInfo {
        id: &'static str,
        name: &'static str,
        oauth: bool,
    }
    let all: Vec<_> = Provider::all()
        .iter()
        .map(|p| ProviderInfo { id: p.id(), name: p.display_name(), oauth: p.needs_oauth() })
        .collect();
    json(&all)
}

/// Starts a session in IDLE; returns its view as JSON.
#[wasm_bindgen(js_name = startSession)]
pub fn start_session() -> Result<String, JsValue> {
    session_json(&builder().start_session(&caller()).map_err(builder_error)?)
}

/// A session's view as JSON.
#[wasm_bindgen(js_name = getSession)]
pub fn get_session(session_id: &str) -> Result<String, JsValue> {
    session_json(&builder().get_session(&caller(), session_id).map_err(builder_error)?)
}

/// The sessions in this browser, most recently active first, as JSON.
#[wasm_bindgen(js_name = listSessions)]
pub fn list_sessions() -> Result<String, JsValue> {
    json(&builder().list_sessions(&caller()).map_err(builder_error)?)
}

/// Deletes a session and its draft.
#[wasm_bindgen(js_name = deleteSession)]
pub fn delete_session(session_id: &str) -> Result<(), JsValue> {
    builder().delete_session(&caller(), session_id).map_err(builder_error)
}

/// The session's draft agent spec (`kiln.agent/v1`), as compact JSON: the page indents the
/// download itself (serde_json's pretty writer would be a second copy of the spec's
/// serializer in the wasm).
#[wasm_bindgen(js_name = exportAgent)]
pub fn export_agent(session_id: &str) -> Result<String, JsValue> {
    json(&builder().export_agent(&caller(), session_id).map_err(builder_error)?)
}

/// A dry run of the session's draft against its current connections, as JSON
/// (`{"trigger", "steps": [{"id", "action", "inputs", "outputs"}], "problems"}`).
#[wasm_bindgen(js_name = dryRun)]
pub fn dry_run(session_id: &str) -> Result<String, JsValue> {
    let b = builder();
    let session = b.get_session(&caller(), session_id).map_err(builder_error)?;
    let spec = b.export_agent(&caller(), session_id).map_err(builder_error)?;
    json(&agent::dry_run(&spec, &session.context.connected))
}

/// Removes one stored record whatever it holds: the way out of a corrupt record.
#[wasm_bindgen(js_name = discardRecord)]
pub fn discard_record(key: &str) -> Result<(), JsValue> {
    LocalStore.delete(key, Precondition::Any).map(drop).map_err(|e| js_error("store", &e.to_string(), None))
}

/// The bytes stored under `key`, as they are: the page offers a record it cannot read (a
/// session saved by an older Kiln, or damaged) as a download before anything removes it.
#[wasm_bindgen(js_name = rawRecord)]
pub fn raw_record(key: &str) -> Result<Option<Vec<u8>>, JsValue> {
    Ok(LocalStore.get(key).map_err(|e| js_error("store", &e.to_string(), None))?.map(|e| e.value))
}

/// Removes every record Kiln keeps in this browser; returns how many.
#[wasm_bindgen(js_name = eraseAll)]
pub fn erase_all() -> Result<u32, JsValue> {
    let store_error = |e: kiln_core::StoreError| js_error("store", &e.to_string(), None);
    let keys = LocalStore.list("").map_err(store_error)?;
    for key in &keys {
        LocalStore.delete(key, Precondition::Any).map_err(store_error)?;
    }
    Ok(u32::try_from(keys.len()).unwrap_or(u32::MAX))
}

/// One turn, driven by the page: call [`Turn::step`]; while it returns an LLM request,
/// answer it with [`Turn::resume`] and step again; the last step returns the chunks. The
/// stepping, the commit and the re-run after a lost compare-and-swap are kiln-core's
/// [`TurnDriver`] (the component drives its turns with it too); this binding only lets the
/// page await `fetch` between steps.
#[wasm_bindgen]
pub struct Turn(TurnDriver);

/// What [`Turn::step`] hands the page.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StepView<'a> {
    /// Ask the server's LLM proxy for `request` (the body of `POST /v1/llm/complete`).
    #[cfg(feature = "llm")]
    Llm { purpose: Purpose, progress: &'a str, request: proxy::CompletionRequest },
    /// The committed response.
    Done { chunks: &'a [kiln_core::builder::chat::ChatChunk] },
}

#[wasm_bindgen]
impl Turn {
    fn new(session_id: String, input: Input, llm: bool) -> Turn {
        Turn(TurnDriver::new(caller(), session_id, input, TurnOptions { llm, ..TurnOptions::default() }))
    }

    /// A message the person typed. `llm`: whether an LLM proxy is reachable (online).
    pub fn message(session_id: String, text: String, llm: bool) -> Turn {
        Turn::new(session_id, Input::Message(text), llm)
    }

    /// The OAuth provider's answer for the pending connection `state`.
    pub fn oauth(session_id: String, state: String, approved: bool, llm: bool) -> Turn {
        Turn::new(session_id, Input::Oauth { state, approved }, llm)
    }

    /// The "back" button.
    pub fn back(session_id: String, llm: bool) -> Turn {
        Turn::new(session_id, Input::Back, llm)
    }

    /// "Start over", already confirmed.
    pub fn reset(session_id: String, llm: bool) -> Turn {
        Turn::new(session_id, Input::Reset, llm)
    }

    /// Runs the turn up to its next LLM call or its end. Returns JSON: `{"kind": "llm",
    /// "purpose", "progress", "request"}` (answer it with [`Turn::resume`]) or
    /// `{"kind": "done", "chunks": [...]}` once the turn is stored.
    pub fn step(&mut self) -> Result<String, JsValue> {
        let b = builder();
        #[cfg(feature = "llm")]
        let session_id = self.0.session_id().to_owned();
        match self.0.step(&b).map_err(builder_error)? {
            #[cfg(feature = "llm")]
            Next::Llm { request, progress } => json(&StepView::Llm {
                purpose: request.purpose,
                progress,
                request: proxy::CompletionRequest {
                    messages: request.messages.clone(),
                    json_schema: request.json_schema.clone().and_then(|s| RawValue::from_string(s).ok()),
                    session_id: Some(session_id),
                    ..proxy::CompletionRequest::default()
                },
            }),
            // Never reached: without the feature the core asks no model (`TurnEnv::asks_llm`).
            #[cfg(not(feature = "llm"))]
            Next::Llm { .. } => Err(no_llm()),
            Next::Done(chunks) => json(&StepView::Done { chunks: &chunks }),
        }
    }

    /// Answers the pending LLM call with the proxy's JSON reply (a completion or an
    /// `{"error": {"kind", "message"}}`); then call [`Turn::step`] again.
    ///
    /// (The offline engine never has a pending call. Same name and docs as the online
    /// engine's, so both share one JavaScript glue: web/build.sh checks it.)
    #[cfg(feature = "llm")]
    pub fn resume(&mut self, reply: &str) -> Result<(), JsValue> {
        self.0.resume(proxy::Reply::answer_from_json(reply.as_bytes())).map_err(builder_error)
    }

    /// Answers the pending LLM call with the proxy's JSON reply (a completion or an
    /// `{"error": {"kind", "message"}}`); then call [`Turn::step`] again.
    ///
    /// (The offline engine never has a pending call. Same name and docs as the online
    /// engine's, so both share one JavaScript glue: web/build.sh checks it.)
    #[cfg(not(feature = "llm"))]
    pub fn resume(&mut self, reply: &str) -> Result<(), JsValue> {
        let _ = reply;
        Err(no_llm())
    }
}

/// What the offline engine says if asked to talk to a model.
#[cfg(not(feature = "llm"))]
fn no_llm() -> JsValue {
    js_error(
        "internal",
        "this is the offline engine, which asks no model: load pkg/kiln_web_llm_bg.wasm",
        None,
    )
}
