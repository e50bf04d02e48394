//! How a session is stored: a compact binary record, read and written on every turn.
//!
//! A record is a 4-byte header (`0xFF 'K' 'S'` and the format number) followed by the
//! session in [postcard](https://docs.rs/postcard)'s wire format. JSON cost most of a turn
//! (every byte of every remembered text escaped on the way out and scanned on the way in,
//! ~5x the binary round trip natively and more in wasm) and twice the bytes; postcard writes
//! strings as a length and the bytes. `0xFF` never starts UTF-8 text, so a record is never
//! mistaken for JSON: sessions Kiln 0.1 stored as JSON (format 1) are still read, and the
//! next turn rewrites them as records under the same key with the same compare-and-swap.
//!
//! Postcard stores fields by position and enum variants by index, so the order of fields in
//! [`Session`] and of the variants of every enum in it is part of the format: add enum
//! variants at the end, and bump [`FORMAT`] for any new or moved field, keeping the old
//! format readable: format 2 (Kiln 0.1.2) is read through its frozen shapes in `v2` and
//! converted. The fixture tests pin formats 2 and 3.
//!
//! Reading formats 1 and 2 is the default feature `old-records`. The browser build leaves it
//! out (a third copy of every session type's deserializer, 22 KB of the page's download):
//! there an older record is reported as [`RecordError::OlderFormat`] and left untouched, and
//! the page offers it as a download that the `kiln` CLI reads (docs/web.md, "Sessions saved
//! by an older Kiln").

#[cfg(feature = "old-records")]
mod v2;

use thiserror::Error;

use super::session::Session;

/// The current record format (1 was JSON, 2 had no places, conditions, one-off runs, several
/// times a day, unknown tools or question memory).
pub const FORMAT: u8 = 3;

/// The bytes every record starts with.
const HEADER: [u8; 4] = [0xFF, b'K', b'S', FORMAT];

/// Why stored bytes are not a session.
#[derive(Debug, Error)]
pub enum RecordError {
    /// A record written by a newer Kiln.
    #[error("it was stored in session format {0}, newer than this Kiln reads ({FORMAT}); upgrade Kiln")]
    NewerFormat(u8),
    /// A session of format 1 (JSON) or 2, in a build without the `old-records` feature.
    #[error("it was saved by an older Kiln (session format {0}), which this build does not read")]
    OlderFormat(u8),
    /// A record whose body does not decode.
    #[error("a damaged session record ({0})")]
    Binary(postcard::Error),
    /// A record with bytes after the session.
    #[error("a damaged session record ({0} bytes after its end)")]
    Trailing(usize),
    /// JSON that is not a session.
    #[error("not a session ({0})")]
    Json(serde_json::Error),
    /// Neither a record nor JSON, in a build without the `old-records` feature.
    #[error("not a session (neither a session record nor JSON)")]
    NotRecord,
}

/// The record of `session`.
pub fn encode(session: &Session) -> Vec<u8> {
    // A session is 1-2 KB: one allocation rather than doubling up.
    let mut out = Vec::with_capacity(2048);
    out.extend_from_slice(&HEADER);
    // Writing into a Vec cannot fail, and a Session has no type postcard refuses.
    postcard::serialize_with_flavor(session, Bytes(out)).unwrap_or_default()
}

/// A `Vec` output for postcard that pushes one-byte writes. Postcard hands over every varint
/// (lengths, numbers, enum tags: most of a record's writes) as a slice; copying a slice is a
/// `memory.copy`, which in wasm is a call into the host (~40 instructions for one byte).
struct Bytes(Vec<u8>);

impl postcard::ser_flavors::Flavor for Bytes {
    type Output = Vec<u8>;

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.0.push(byte);
        Ok(())
    }

    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        match bytes {
            [byte] => self.0.push(*byte),
            _ => self.0.extend_from_slice(bytes),
        }
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Vec<u8>> {
        Ok(self.0)
    }
}

/// The session in `bytes`: a record, or JSON from before records.
pub fn decode(bytes: &[u8]) -> Result<Session, RecordError> {
    match bytes {
        [0xFF, b'K', b'S', FORMAT, body @ ..] => whole(body),
        #[cfg(feature = "old-records")]
        [0xFF, b'K', b'S', 2, body @ ..] => whole::<v2::Session>(body).map(Session::from),
        [0xFF, b'K', b'S', format, ..] if cfg!(feature = "old-records") || *format > FORMAT => {
            Err(RecordError::NewerFormat(*format))
        }
        // Format 1; JSON's own error says what is wrong with anything else.
        #[cfg(feature = "old-records")]
        _ => super::from_json(bytes).map_err(RecordError::Json),
        #[cfg(not(feature = "old-records"))]
        _ => Err(older_format(bytes).map_or(RecordError::NotRecord, RecordError::OlderFormat)),
    }
}

/// The format of a session saved by an older Kiln, which this build does not read: 2 for a
/// format 2 record, 1 for JSON (any JSON object is taken for one, so JSON that is not a
/// session is offered as a download too rather than called damage); `None` for anything else.
#[cfg(not(feature = "old-records"))]
pub fn older_format(bytes: &[u8]) -> Option<u8> {
    match bytes {
        [0xFF, b'K', b'S', 2, ..] => Some(2),
        _ if bytes.trim_ascii_start().starts_with(b"{") => Some(1),
        _ => None,
    }
}

/// `T` from all of `body`.
fn whole<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, RecordError> {
    let (value, rest) = postcard::take_from_bytes(body).map_err(RecordError::Binary)?;
    match rest.len() {
        0 => Ok(value),
        n => Err(RecordError::Trailing(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::phase::{Cause, Phase};
    use crate::builder::requirements::{Sourced, UnknownChoice, UnknownTool};
    use crate::builder::session::{PendingOauth, Question, Role};
    use crate::extract::{OneOffDay, Place, PlaceKind, Provider, TimeOfDay};

    /// A session with every kind of field format 2 had set.
    fn sample_v2() -> Session {
        let mut s =
            Session::new("0b6f3c1e-2a8d-4f4e-9c1a-6d2b7e8f9a01".into(), "ada".into(), "acme".into(), 1_000);
        s.transition(Phase::Discovery, Cause::FirstMessage).expect("allowed");
        s.transition(Phase::OauthFlow, Cause::NeedsOauth).expect("allowed");
        s.context.turn = 2;
        let req = &mut s.context.requirements;
        req.goal = Some(Sourced::at("Every weekday at 9, post \"unread\" mail to #team…".into(), 1));
        req.integrations = vec![Sourced::at(Provider::GMAIL, 1), Sourced::at(Provider::SLACK, 1)];
        req.time = Some(Sourced::at(TimeOfDay { hour: 9, minute: 30 }, 2));
        req.channel = Some(Sourced::at("#team".into(), 1));
        req.actions = Some(Sourced::at(vec!["summarise".into(), "post_message".into()], 1));
        s.remember(Role::User, "Every weekday at 9, post \"unread\" mail to #team…");
        s.remember(Role::Assistant, "Noted.\n- time: 09:30");
        s.context.summary.push("T0 kiln: ünïcode ✓".into());
        s.context.resume_phase = Some(Phase::Discovery);
        s.pending_oauth = Some(PendingOauth {
            provider: Provider::GMAIL,
            scopes: vec!["https://www.googleapis.com/auth/gmail.readonly".into()],
            state: "6918fbfc8e3ef31f3ea423ad58874881".into(),
            started_at_ms: 1_500,
            expires_at_ms: 601_500,
        });
        s.last_active_at_ms = 2_000;
        s.version = 7;
        s
    }

    /// A session with every kind of field set.
    fn sample() -> Session {
        let mut s = sample_v2();
        let req = &mut s.context.requirements;
        req.also_at = Some(Sourced::at(vec![TimeOfDay { hour: 17, minute: 0 }], 2));
        req.once_day = Some(Sourced::at(OneOffDay::Weekday(4), 2));
        req.destinations = Some(Sourced::at(vec![Place::new(PlaceKind::Sheet, "Leads")], 1));
        req.sources = Some(Sourced::at(vec![Place::new(PlaceKind::Channel, "#support")], 1));
        req.conditions = Some(Sourced::at(vec!["urgent".into()], 2));
        req.unknown_tools =
            vec![Sourced::at(UnknownTool { name: "Zulip".into(), choice: Some(UnknownChoice::Http) }, 2)];
        s.context.asked = Some(Question::Channel(Provider::SLACK));
        s.context.asked_times = 2;
        s
    }

    fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn a_record_round_trips_and_is_smaller_than_json() {
        let s = sample();
        let record = encode(&s);
        assert_eq!(record[..4], HEADER);
        assert_eq!(decode(&record).expect("decodes"), s);
        let json = serde_json::to_vec(&s).expect("json");
        assert!(record.len() * 2 < json.len() + 200, "record {} vs JSON {} bytes", record.len(), json.len());
    }

    /// Format 3 is fixed: this is what Kiln stores for `sample()`. If this fails, a field or
    /// enum variant moved; sessions already stored would no longer read. Put it back (add
    /// variants at the end) or bump FORMAT and keep reading format 3 the way `v2` keeps 2.
    #[test]
    fn format_3_is_pinned() {
        let pinned = include_str!("format_3.hex").trim();
        assert_eq!(hex(&encode(&sample())), pinned);
        assert_eq!(decode(&unhex(pinned)).expect("format 3"), sample());
    }

    /// Format 2 records (Kiln 0.1.2) still read, with every later field at its default.
    #[test]
    #[cfg(feature = "old-records")]
    fn format_2_still_reads() {
        let pinned = include_str!("format_2.hex").trim();
        let bytes = unhex(pinned);
        assert_eq!(bytes[3], 2);
        assert_eq!(decode(&bytes).expect("format 2"), sample_v2());
        // And rewritten as format 3 by the next save.
        assert_eq!(encode(&sample_v2())[3], FORMAT);
    }

    #[test]
    #[cfg(feature = "old-records")]
    fn sessions_stored_as_json_are_still_read() {
        let s = sample();
        let json = serde_json::to_vec_pretty(&s).expect("json");
        assert_eq!(decode(&json).expect("format 1"), s);
    }

    /// Without `old-records` (the browser build), formats 1 and 2 are named, not read.
    #[test]
    #[cfg(not(feature = "old-records"))]
    fn older_formats_are_named_not_read() {
        let v2 = unhex(include_str!("format_2.hex").trim());
        assert!(matches!(decode(&v2), Err(RecordError::OlderFormat(2))));
        let json = serde_json::to_vec_pretty(&sample()).expect("json");
        let e = decode(&json).expect_err("format 1");
        assert!(e.to_string().contains("saved by an older Kiln (session format 1)"), "{e}");
    }

    #[test]
    fn damaged_records_are_refused_with_what_is_wrong() {
        let record = encode(&sample());
        for cut in [4, 5, record.len() / 2, record.len() - 1] {
            let e = decode(&record[..cut]).expect_err("truncated");
            assert!(e.to_string().starts_with("a damaged session record"), "{e}");
        }
        let mut longer = record.clone();
        longer.extend_from_slice(b"xy");
        assert_eq!(
            decode(&longer).expect_err("trailing").to_string(),
            "a damaged session record (2 bytes after its end)"
        );
        let mut newer = record;
        newer[3] = FORMAT + 1;
        assert!(decode(&newer).expect_err("newer").to_string().contains("upgrade Kiln"));
        let e = decode(b"\x00\x01garbage").expect_err("garbage");
        assert!(e.to_string().starts_with("not a session"), "{e}");
        assert!(decode(b"").is_err());
    }
}
