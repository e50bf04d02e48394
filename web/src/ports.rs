//! The core's ports implemented with browser APIs: `localStorage`, `Date.now` and
//! `crypto.getRandomValues`.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kiln_core::ports::validate_key;
use kiln_core::{Clock, Entropy, Entry, Precondition, Store, StoreError, UnixTime, Version};
use wasm_bindgen::JsValue;

/// Every store key lives under this prefix in `localStorage`, so Kiln's data never mixes
/// with other data of the same origin, and a future format can sit beside this one.
pub const NAMESPACE: &str = "kiln/v1/";

/// The store on `localStorage`. localStorage holds text: a value that is text is stored as
/// itself (the queue's JSON, readable in the browser's developer tools); bytes that are not,
/// such as session records, as [`BASE64`] and their base64. A value's version is the xxh3
/// hash of the stored text, like the file store's, so a hand edit changes the version and a
/// compare-and-swap notices.
pub struct LocalStore;

/// Starts a value stored as base64. A control character no text value starts with in
/// practice; a text value that does is stored as base64 too, so every value reads back.
pub const BASE64: &str = "\u{1}base64,";

/// The text stored for `value`.
fn to_text(value: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(value) {
        Ok(text) if !text.starts_with(BASE64) => Cow::Borrowed(text),
        _ => Cow::Owned(format!("{BASE64}{}", STANDARD.encode(value))),
    }
}

/// The value stored as `text`. Base64 that does not decode is passed on as it is, so the
/// core reports the record as damaged, naming its key, and the page offers to remove it.
fn from_text(text: String) -> Vec<u8> {
    match text.strip_prefix(BASE64).map(|b64| STANDARD.decode(b64)) {
        Some(Ok(bytes)) => bytes,
        _ => text.into_bytes(),
    }
}

/// `Date.now()`.
pub struct BrowserClock;

/// `crypto.getRandomValues()`.
pub struct BrowserRandom;

fn storage() -> Result<web_sys::Storage, StoreError> {
    let unavailable = |why: String| {
        StoreError::Backend(format!(
            "the browser's localStorage is not available ({why}); allow site data for this page \
             (private windows and some privacy settings block it), then reload"
        ))
    };
    let window = web_sys::window().ok_or_else(|| unavailable("no window".into()))?;
    match window.local_storage() {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(unavailable("the browser offers none".into())),
        Err(e) => Err(unavailable(describe(&e))),
    }
}

/// `name: message` of a thrown JavaScript value.
fn describe(e: &JsValue) -> String {
    let field = |name: &str| {
        js_sys::Reflect::get(e, &JsValue::from_str(name)).ok().and_then(|v| v.as_string()).unwrap_or_default()
    };
    match (field("name"), field("message")) {
        (n, m) if n.is_empty() && m.is_empty() => format!("{e:?}"),
        (n, m) => format!("{n}: {m}"),
    }
}

fn version_of(text: &str) -> Version {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

fn read(storage: &web_sys::Storage, key: &str) -> Result<Option<String>, StoreError> {
    storage
        .get_item(&format!("{NAMESPACE}{key}"))
        .map_err(|e| StoreError::Backend(format!("reading {key} from localStorage failed: {}", describe(&e))))
}

impl Store for LocalStore {
    fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        validate_key(key)?;
        Ok(read(&storage()?, key)?.map(|text| Entry { version: version_of(&text), value: from_text(text) }))
    }

    fn put(&self, key: &str, value: &[u8], expected: Precondition) -> Result<Version, StoreError> {
        validate_key(key)?;
        let text = to_text(value);
        let storage = storage()?;
        if !expected.holds(read(&storage, key)?.as_deref().map(version_of)) {
            return Err(StoreError::Conflict);
        }
        storage.set_item(&format!("{NAMESPACE}{key}"), &text).map_err(|e| {
            let quota = js_sys::Reflect::get(&e, &JsValue::from_str("name"))
                .ok()
                .and_then(|n| n.as_string())
                .is_some_and(|n| n == "QuotaExceededError");
            if quota {
                StoreError::Backend(format!(
                    "the browser's storage for this site is full, so {key} ({} bytes) was not saved: \
                     delete sessions you no longer need (export their agents first), then retry",
                    text.len()
                ))
            } else {
                StoreError::Backend(format!("writing {key} to localStorage failed: {}", describe(&e)))
            }
        })?;
        Ok(version_of(&text))
    }

    fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        validate_key(key)?;
        let storage = storage()?;
        let current = read(&storage, key)?;
        if !expected.holds(current.as_deref().map(version_of)) {
            return Err(StoreError::Conflict);
        }
        storage
            .remove_item(&format!("{NAMESPACE}{key}"))
            .map_err(|e| StoreError::Backend(format!("deleting {key} failed: {}", describe(&e))))?;
        Ok(current.is_some())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let storage = storage()?;
        let failed =
            |e: JsValue| StoreError::Backend(format!("listing localStorage failed: {}", describe(&e)));
        let mut keys = Vec::new();
        for i in 0..storage.length().map_err(failed)? {
            let Some(full) = storage.key(i).map_err(failed)? else { continue };
            // Items that are not valid keys (another tool's, or hand-made) are not Kiln's.
            if let Some(key) = full.strip_prefix(NAMESPACE)
                && key.starts_with(prefix)
                && validate_key(key).is_ok()
            {
                // Kept in order as it is built (item names are unique): a sort of the
                // strings would be ~3.5 KB more wasm for the page to compile.
                let at = keys.binary_search_by(|k: &String| k.as_str().cmp(key)).unwrap_or_else(|at| at);
                keys.insert(at, key.to_owned());
            }
        }
        Ok(keys)
    }
}

impl Clock for BrowserClock {
    fn now(&self) -> UnixTime {
        let ms = js_sys::Date::now().max(0.0);
        let whole = ms.trunc();
        // f64 milliseconds since 1970 are exact integers well past the year 200000.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (seconds, millis) = ((whole / 1000.0) as u64, (whole % 1000.0) as u32);
        UnixTime { seconds, nanoseconds: millis * 1_000_000 }
    }
}

impl Entropy for BrowserRandom {
    fn fill(&self, buf: &mut [u8]) {
        let crypto = web_sys::window().and_then(|w| w.crypto().ok());
        // getRandomValues takes at most 65536 bytes per call. Without a crypto object (not
        // a browser the page supports: it checks for one before loading) the call fails
        // loudly instead of handing out predictable OAuth states.
        for part in buf.chunks_mut(65536) {
            let filled = crypto.as_ref().map(|c| c.get_random_values_with_u8_array(part));
            if !matches!(filled, Some(Ok(_))) {
                wasm_bindgen::throw_str(
                    "crypto.getRandomValues is not available: Kiln needs a current browser",
                );
            }
        }
    }
}
