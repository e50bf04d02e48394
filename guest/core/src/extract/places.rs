//! Where an agent writes and where it reads: named places ("a sheet called Leads", the
//! "Bugs" board, the Notion page 'Weekly notes'), URLs and phone numbers, each with its role.
//!
//! A place's role comes from the words before it: "to/into/onto X" is a destination, "from
//! X" a source; after "in/on/at" the nearest verb of the clause decides ("post in #team" is a
//! destination, "summarise #support", "new messages in #help", "whenever someone posts in
//! #help" are sources). Channels use the same rule (`fields::find_channels`), so a channel
//! the agent reads from is no longer taken for the one it posts to.

use serde::{Deserialize, Serialize};

use super::token::{Kind, Toks};

/// What kind of place a [`Place`] is. Postcard stores the variant index: append new kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    /// A chat channel (`#team`).
    Channel,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A URL (a webhook, an API endpoint, a page).
    Url,
    /// A spreadsheet or one of its tabs.
    Sheet,
    /// A page or note (Notion, Confluence, a wiki).
    Page,
    /// A board (Trello, Monday.com, Jira).
    Board,
    /// A table or base (Airtable).
    Table,
    /// A database (Notion).
    Database,
    /// A project (Asana, Jira, Linear, GitLab).
    Project,
    /// A list (ClickUp, Todoist, a mailing list).
    List,
    /// A folder (Drive, Dropbox, OneDrive, Box).
    Folder,
    /// A document.
    Document,
}

impl PlaceKind {
    /// The word people use for it ("sheet", "board").
    pub fn noun(self) -> &'static str {
        match self {
            PlaceKind::Channel => "channel",
            PlaceKind::Email => "address",
            PlaceKind::Phone => "number",
            PlaceKind::Url => "URL",
            PlaceKind::Sheet => "sheet",
            PlaceKind::Page => "page",
            PlaceKind::Board => "board",
            PlaceKind::Table => "table",
            PlaceKind::Database => "database",
            PlaceKind::Project => "project",
            PlaceKind::List => "list",
            PlaceKind::Folder => "folder",
            PlaceKind::Document => "document",
        }
    }
}

/// A named place an agent writes to or reads from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Place {
    /// What it is.
    pub kind: PlaceKind,
    /// Its name as the person wrote it (`Leads`, `#team`, `https://...`).
    pub name: String,
}

impl Place {
    /// `kind` named `name`.
    pub fn new(kind: PlaceKind, name: impl Into<String>) -> Place {
        Place { kind, name: name.into() }
    }

    /// "the sheet \"Leads\"", "#team", "ada@example.com": how a reply names it.
    pub fn describe(&self) -> String {
        match self.kind {
            PlaceKind::Channel | PlaceKind::Email | PlaceKind::Phone | PlaceKind::Url => self.name.clone(),
            kind => format!("the {} \"{}\"", kind.noun(), self.name),
        }
    }
}

/// Which way a place is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The agent writes or sends there.
    Dest,
    /// The agent reads or watches it.
    Source,
}

/// The nouns that name a kind of place. One entry per noun.
const NOUNS: &[(&str, PlaceKind)] = &[
    ("sheet", PlaceKind::Sheet),
    ("spreadsheet", PlaceKind::Sheet),
    ("tab", PlaceKind::Sheet),
    ("worksheet", PlaceKind::Sheet),
    ("page", PlaceKind::Page),
    ("wiki", PlaceKind::Page),
    ("note", PlaceKind::Page),
    ("board", PlaceKind::Board),
    ("table", PlaceKind::Table),
    ("base", PlaceKind::Table),
    ("database", PlaceKind::Database),
    ("db", PlaceKind::Database),
    ("project", PlaceKind::Project),
    ("list", PlaceKind::List),
    ("folder", PlaceKind::Folder),
    ("doc", PlaceKind::Document),
    ("document", PlaceKind::Document),
];

/// Verbs (and verb-like words) that write or send to the place after them.
const SINK_VERBS: &[&str] = &[
    "post",
    "posts",
    "posting",
    "send",
    "sends",
    "sending",
    "add",
    "adds",
    "adding",
    "append",
    "appends",
    "log",
    "logs",
    "save",
    "saves",
    "put",
    "write",
    "writes",
    "create",
    "creates",
    "drop",
    "file",
    "record",
    "upload",
    "store",
    "push",
    "share",
    "notify",
    "copy",
    "insert",
    "update",
    "move",
    "publish",
    "forward",
    "dump",
    "paste",
    "deliver",
    "announce",
    "alert",
    "ping",
    "message",
    "dm",
    "tell",
    "remind",
    "text",
    "repost",
    "crosspost",
    "request",
    "page",
    "call",
    "hit",
    "fire",
    "email",
    "mail",
    "export",
    "sync",
    "track",
    "backup",
    "back",
    "archive",
];

/// Verbs (and cue words) that read or watch the place after them.
const SOURCE_VERBS: &[&str] = &[
    "read",
    "reads",
    "watch",
    "watches",
    "monitor",
    "monitors",
    "check",
    "checks",
    "summarise",
    "summarize",
    "summarising",
    "summarizing",
    "scan",
    "pull",
    "pulls",
    "fetch",
    "get",
    "review",
    "collect",
    "gather",
    "translate",
    "listen",
    "look",
    "go",
    "digest",
    "recap",
    "new",
    "incoming",
    "when",
    "whenever",
    "if",
    "once",
    "after",
    "mentions",
    "mentioned",
    "messages",
    "message",
    "posted",
];

/// Words skipped when looking for the preposition before a place ("to the Slack #team").
const FILLER: &[&str] = &[
    "the", "my", "our", "a", "an", "your", "their", "this", "that", "slack", "teams", "discord", "channel",
    "google", "notion", "trello", "airtable", "sheets", "sheet", "page", "board", "called", "named", "'",
    "\"",
];

/// The role of the place starting at token `start`, if the words say.
pub(crate) fn role(toks: &Toks, start: usize) -> Option<Role> {
    let mut k = start;
    let mut prep = None;
    for _ in 0..5 {
        let Some(p) = k.checked_sub(1) else { break };
        if toks.is_any(p, &["to", "into", "onto", "unto"]) {
            return Some(Role::Dest);
        }
        if toks.is_any(p, &["from", "of", "across"]) {
            return Some(Role::Source);
        }
        if toks.is_any(p, &["in", "on", "at", "inside", "within", "under", "via"]) {
            prep = Some(p);
            break;
        }
        if !toks.is_any(p, FILLER) {
            break;
        }
        k = p;
    }
    // The nearest verb of the clause decides ("summarise #support", "post in #team"); a verb
    // with a subject or a determiner before it is an event or a noun ("whenever someone
    // posts in #help", "a new message in #a"): the place is read.
    let from = toks.clause_start(start).max(start.saturating_sub(10));
    let before = prep.unwrap_or(start);
    for k in (from..before).rev() {
        if toks.is_any(k, SINK_VERBS) {
            let told = k > 0 && toks.is_any(k - 1, SUBJECTS);
            return Some(if told { Role::Source } else { Role::Dest });
        }
        if toks.is_any(k, SOURCE_VERBS) {
            return Some(Role::Source);
        }
    }
    (from..before)
        .any(|k| toks.is_any(k, &["when", "whenever", "if", "once", "new", "incoming"]))
        .then_some(Role::Source)
}

/// Words before a verb that make it something that happens rather than something to do.
const SUBJECTS: &[&str] = &[
    "someone",
    "somebody",
    "anyone",
    "anybody",
    "people",
    "users",
    "customers",
    "they",
    "he",
    "she",
    "who",
    "a",
    "an",
    "the",
    "new",
    "every",
    "each",
    "any",
    "my",
    "our",
];

/// Every named place, URL and phone number in the message with its role; unknown roles are
/// destinations (a place someone names is usually where the agent writes).
pub(crate) fn find_places(toks: &Toks) -> Vec<(Place, Role)> {
    let mut out: Vec<(Place, Role)> = Vec::new();
    let mut push = |place: Place, role: Role| {
        if !out.iter().any(|(p, _)| p.name.eq_ignore_ascii_case(&place.name)) {
            out.push((place, role));
        }
    };
    let mut i = 0;
    while i < toks.len() {
        let Some(t) = toks.get(i) else { break };
        if t.kind == Kind::Url {
            push(Place::new(PlaceKind::Url, t.orig.to_string()), role(toks, i).unwrap_or(Role::Dest));
            i += 1;
            continue;
        }
        if let Some(phone) = phone_at(toks, i) {
            push(Place::new(PlaceKind::Phone, phone), role(toks, i).unwrap_or(Role::Dest));
            i += 1;
            continue;
        }
        if let Some((kind, name, start)) = named_at(toks, i) {
            push(Place::new(kind, name), role(toks, start).unwrap_or(Role::Dest));
        }
        i += 1;
    }
    out
}

/// "+15551234567", "+1 555 123 4567" (starting with `+`, seven digits or more).
fn phone_at(toks: &Toks, i: usize) -> Option<String> {
    if !toks.is(i, "+") {
        return None;
    }
    let mut digits = String::from("+");
    let mut k = i + 1;
    while toks.kind(k) == Some(Kind::Number) && toks.text(k).bytes().all(|b| b.is_ascii_digit()) {
        digits.push_str(toks.text(k));
        k += 1;
        if toks.is(k, "-") {
            k += 1;
        }
    }
    (digits.len() >= 8).then_some(digits)
}

/// The place kind named by the noun at `i`.
fn noun_at(toks: &Toks, i: usize) -> Option<PlaceKind> {
    let w = toks.word(i);
    let w = w.strip_suffix('s').filter(|s| s.len() > 2).unwrap_or(w);
    NOUNS.iter().find(|(n, _)| *n == w).map(|(_, k)| *k)
}

/// A place noun at `i` with the name given to it: (kind, name, first token of the phrase).
fn named_at(toks: &Toks, i: usize) -> Option<(PlaceKind, String, usize)> {
    let kind = noun_at(toks, i)?;
    // "sheet called Leads", "board named 'Bugs'", "page: Weekly notes", "the sheet "Leads"".
    let mut j = i + 1;
    let introduced = toks.is_any(j, &["called", "named", "titled", ":"]);
    if introduced {
        j += 1;
    }
    if let Some((name, _)) = quoted(toks, j) {
        return Some((kind, name, i));
    }
    if introduced && let Some(name) = capitalised_run(toks, j, 1).or_else(|| plain_word(toks, j)) {
        return Some((kind, name, i));
    }
    // "the "Leads" sheet", "the Bugs board", "our Weekly Notes page".
    if let Some(end) = i.checked_sub(1) {
        if matches!(toks.text(end), "'" | "\"") {
            let open = (end.saturating_sub(10)..end).rev().find(|&k| toks.is(k, toks.text(end)))?;
            let (name, _) = quoted(toks, open)?;
            return Some((kind, name, open));
        }
        let mut start = end + 1;
        while start > 0 && start + 4 > end + 1 && is_capital_word(toks, start - 1) {
            start -= 1;
        }
        if start <= end && start > 0 && toks.is_any(start - 1, &["the", "our", "my", "a", "their", "your"]) {
            let name = join_orig(toks, start, end + 1);
            return Some((kind, name, start - 1));
        }
    }
    None
}

/// A capitalised word that is not a tool, a day or a month (part of a place's name).
fn is_capital_word(toks: &Toks, i: usize) -> bool {
    let Some(t) = toks.get(i) else { return false };
    matches!(t.kind, Kind::Word | Kind::Number)
        && (t.kind == Kind::Number || t.orig.chars().next().is_some_and(char::is_uppercase))
        && t.orig != "I"
        && !super::catalog::mentions(&Toks::new(&t.text)).iter().any(|m| m.explicit)
        && !super::days::is_day_name(toks, i)
}

/// Up to four capitalised words from `i` (at least `min`), as written.
fn capitalised_run(toks: &Toks, i: usize, min: usize) -> Option<String> {
    let end = (i..toks.len().min(i + 4)).take_while(|&k| is_capital_word(toks, k)).last()? + 1;
    (end - i >= min).then(|| join_orig(toks, i, end))
}

/// One ordinary word at `i` used as a name ("channel called ops").
fn plain_word(toks: &Toks, i: usize) -> Option<String> {
    let t = toks.get(i)?;
    (t.kind == Kind::Word
        && !toks.is_any(i, FILLER)
        && !toks.is_any(i, &["and", "or", "with", "for", "every"]))
    .then(|| t.orig.to_string())
}

fn join_orig(toks: &Toks, from: usize, to: usize) -> String {
    let mut s = String::new();
    for k in from..to {
        let Some(t) = toks.get(k) else { break };
        if k > from && !t.glued {
            s.push(' ');
        }
        s.push_str(&t.orig);
    }
    s
}

/// The words of a quoted phrase starting at `i` (an opening quote), as written, and where it
/// ends.
pub(crate) fn quoted(toks: &Toks, i: usize) -> Option<(String, usize)> {
    let q = toks.text(i);
    if !matches!(q, "'" | "\"") {
        return None;
    }
    let close = (i + 1..toks.len().min(i + 12)).find(|&k| toks.is(k, q))?;
    let s = join_orig(toks, i + 1, close);
    (!s.is_empty()).then_some((s, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(s: &str) -> Vec<(String, Role)> {
        find_places(&Toks::new(s)).into_iter().map(|(p, r)| (p.name, r)).collect()
    }

    #[test]
    fn named_places_and_their_roles() {
        assert_eq!(places("add a row to the sheet called Leads"), [("Leads".into(), Role::Dest)]);
        assert_eq!(places("append it to the \"Q3 pipeline\" sheet"), [("Q3 pipeline".into(), Role::Dest)]);
        assert_eq!(places("create a card on the Bugs board in Trello"), [("Bugs".into(), Role::Dest)]);
        assert_eq!(
            places("save it to the Notion page 'Weekly notes'"),
            [("Weekly notes".into(), Role::Dest)]
        );
        assert_eq!(places("read new rows from the Orders sheet"), [("Orders".into(), Role::Source)]);
        assert_eq!(
            places("post to https://hooks.acme.dev/x"),
            [("https://hooks.acme.dev/x".into(), Role::Dest)]
        );
        assert_eq!(places("text +1 555 123 4567 when it fails"), [("+15551234567".into(), Role::Dest)]);
    }

    #[test]
    fn unnamed_places_are_not_places() {
        assert!(places("log it in a spreadsheet").is_empty());
        assert!(places("add them to my Notion").is_empty());
        assert!(places("make a list of the top issues").is_empty());
        assert!(places("post to the Trello board").is_empty());
    }

    #[test]
    fn roles_follow_the_verbs() {
        let toks = Toks::new("summarise #support and post it to #team");
        assert_eq!(role(&toks, 1), Some(Role::Source));
        assert_eq!(role(&toks, 6), Some(Role::Dest));
        let toks = Toks::new("whenever someone posts in #help create a ticket");
        assert_eq!(role(&toks, 4), Some(Role::Source));
        let toks = Toks::new("post in #general");
        assert_eq!(role(&toks, 2), Some(Role::Dest));
    }
}
