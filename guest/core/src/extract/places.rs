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

/// Words that open a noun phrase ("the", "our").
const DETERMINERS: &[&str] = &["the", "a", "an", "my", "our", "their", "your"];

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
    ("group", PlaceKind::Channel),
    ("space", PlaceKind::Channel),
    ("workbook", PlaceKind::Sheet),
    ("repo", PlaceKind::Project),
    ("audience", PlaceKind::List),
    ("repository", PlaceKind::Project),
    // Only with its name after it ("the Excel file Sales 2027"): "the PDF file" names none.
    ("file", PlaceKind::Document),
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
    "copies",
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
    "show",
    "appear",
    "land",
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
    "take",
    "takes",
    "grab",
    "review",
    "collect",
    "gather",
    "translate",
    "listen",
    "digest",
    "recap",
    "when",
    "whenever",
    "if",
    "once",
    "after",
];

/// Verbs that read a URL they are applied to.
const WATCH_VERBS: &[&str] = &[
    "ping", "check", "checks", "monitor", "monitors", "poll", "polls", "watch", "fetch", "scrape", "read",
    "hit",
];

/// Words skipped when looking for the preposition before a place ("to the Slack #team").
const FILLER: &[&str] = &[
    "the", "my", "our", "a", "an", "your", "their", "this", "that", "whole", "entire", "slack", "teams",
    "discord", "channel", "google", "notion", "trello", "airtable", "sheets", "sheet", "page", "board",
    "called", "named", "'", "\"",
];

/// The role of the place starting at token `start`, if the words say.
pub(crate) fn role(toks: &Toks, start: usize) -> Option<Role> {
    let from = toks.clause_start(start).max(start.saturating_sub(10));
    let cue = |to: usize| (from..to).any(|k| toks.is_any(k, CUES));
    let mut k = start;
    let mut prep = None;
    for _ in 0..5 {
        let Some(p) = k.checked_sub(1) else { break };
        if toks.is_any(p, &["to", "into", "onto", "unto"]) {
            // "when a row is added to the Orders sheet": an event's place is read, unless the
            // clause tells the agent to write there ("when it fails, post to #ops").
            let told = (from..p).any(|k| imperative_sink(toks, k));
            let event = (from..p).any(|k| toks.is_any(k, &["when", "whenever", "if", "once", "after"]));
            return Some(if event && !told { Role::Source } else { Role::Dest });
        }
        if toks.is_any(p, &["from", "of", "across"]) {
            // "into a new row of the Excel file Sales": a part of the place is written to.
            let part = toks.is(p, "of")
                && p > 0
                && toks.is_any(p - 1, &["row", "rows", "line", "entry", "bottom", "end", "top"]);
            let into = part && (p.saturating_sub(5)..p - 1).any(|q| toks.is_any(q, &["to", "into", "onto"]));
            return Some(if into { Role::Dest } else { Role::Source });
        }
        if toks.is_any(p, &["in", "on", "at", "inside", "within", "under", "via"]) {
            prep = Some(p);
            break;
        }
        // A name written as one glued token run ("monday.com", "acme/api") is skipped whole.
        let glued =
            toks.get(p).is_some_and(|t| t.glued) || toks.get(p + 1).is_some_and(|t| t.glued && p + 1 < k);
        if !toks.is_any(p, FILLER) && !is_tool_word(toks, p) && !glued {
            break;
        }
        k = p;
    }
    let before = prep.unwrap_or(start);
    // "a summary of new Trello cards on the Bugs board", "the count of open issues in
    // acme/api": what a digest is made of is read where it is.
    if let Some(p) = prep.filter(|&p| toks.is_any(p, &["in", "on"])) {
        let of = (p.saturating_sub(8)..p).rev().find(|&k| toks.is(k, "of"));
        let plain = |k: usize| {
            toks.kind(k) == Some(Kind::Word)
                && !toks.is_any(k, SINK_VERBS)
                && !toks.is_any(k, SOURCE_VERBS)
                && !toks.is_any(k, &["to", "into", "and", "or"])
        };
        // ("the stats of the week on Facebook page X": when, not what.)
        let when = |o: usize| {
            let k = if toks.is_any(o + 1, &["the", "this", "last", "that"]) { o + 2 } else { o + 1 };
            says_when(toks, k)
        };
        // (Not into another tool's place: "the list of QuickBooks invoices not paid in the
        // Airtable table 'Cobranza'" is written there.)
        let tool = |r: std::ops::Range<usize>| {
            r.filter(|&k| is_tool_word(toks, k)).map(|k| toks.text(k).to_owned()).next()
        };
        let other_tool = |o: usize| match (tool(o + 1..p), tool(p + 1..start + 1)) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        };
        if of.is_some_and(|o| o + 1 < p && (o + 1..p).all(plain) && !other_tool(o) && !when(o)) {
            return Some(Role::Source);
        }
    }
    // Where something happens is read: "when a record is created in the 'Events' table", "new
    // files in the 'Board minutes' folder → copy them to Box" (the left of an arrow), unless
    // the clause tells the agent to write there ("when it fails, post in #ops").
    let told = (from..before).any(|k| imperative_sink(toks, k));
    // ("every Monday morning in #sre" says when, not what happens.)
    let happens = (from..before).any(|k| toks.is_any(k, HAPPENS) && !says_when(toks, k + 1));
    let arrow = toks.is_any(toks.clause_end(start), &[">", "→", "⇒"]);
    // "make a new page in the database X", "open a ticket in project Y": made there (not
    // "when someone makes a page in X").
    let made = (from..before).any(|k| {
        toks.is_any(k, &["make", "open", "raise", "start", "turn"])
            && toks.is_any(k + 1, &["a", "an", "new", "each", "it", "them"])
            && !(k > 0 && toks.is_any(k - 1, SUBJECTS))
    });
    if prep.is_some() && made {
        return Some(Role::Dest);
    }
    if prep.is_some() && !told && (happens || arrow) {
        return Some(Role::Source);
    }
    // The nearest verb of the clause decides ("summarise #support", "post in #team"); a verb
    // with a subject or a determiner before it is an event or a noun ("whenever someone
    // posts in #help", "a new message in #a"): the place is read. What is moved "to"
    // somewhere else is read from ("add everyone in the Leads sheet to HubSpot").
    // "a QuickBooks invoice for every client in the table Retainers": what each item is made
    // from is read.
    // So are the people listed there ("text everyone on the On-call sheet").
    if let Some(p) = prep
        && toks.is_any(p, &["in", "on"])
        && ((p.saturating_sub(3)..p.saturating_sub(1))
            .any(|q| toks.is_any(q, &["every", "each"]) && toks.is(q.wrapping_sub(1), "for"))
            // (Not "tell everyone in #warehouse": a channel is where they are told.)
            || toks.is_any(p.wrapping_sub(1), &["everyone", "everybody", "anyone", "anybody"])
                && toks.kind(start) != Some(Kind::Channel))
        && !says_when(toks, p - 1)
    {
        return Some(Role::Source);
    }
    for k in (from..before).rev() {
        if toks.is_any(k, SINK_VERBS) {
            if !imperative_sink(toks, k) {
                // A noun or an event ("a new message in #a", "someone posts in #help"): the
                // words before it decide ("get a message in #general every day" is written to).
                continue;
            }
            // "add everyone in the Leads sheet to HubSpot", "send the Google Doc 'Panel
            // schedule' to panel@...": what is moved or sent on is read from.
            let end = toks.clause_end(start);
            // ("post the Jira issues in project SUP to #support-leads": with any verb when
            // what follows "to" is a place, not a time or a purpose.)
            let place_after = |j: usize| {
                matches!(toks.kind(j + 1), Some(Kind::Channel | Kind::Email | Kind::Url))
                    || toks.is_any(j + 1, &["the", "my", "our", "their", "a", "an", "+"])
                    || is_tool_word(toks, j + 1)
            };
            let onward = (start + 1..end).any(|j| {
                toks.is_any(j, &["to", "into", "onto"])
                    && toks.kind(j + 1) != Some(Kind::Number)
                    && !super::days::is_day_name(toks, j + 1)
                    && (toks.is_any(k, MOVE_VERBS)
                        || prep.is_none() && !purpose(toks, j + 1)
                        || place_after(j))
            });
            return Some(if onward { Role::Source } else { Role::Dest });
        }
        if toks.is_any(k, SOURCE_VERBS) {
            return Some(Role::Source);
        }
    }
    cue(before).then_some(Role::Source)
}

/// The word at `k` says when ("every Monday", "each morning", "every 2 hours").
fn says_when(toks: &Toks, k: usize) -> bool {
    const WHEN: &[&str] = &[
        "day",
        "days",
        "morning",
        "afternoon",
        "evening",
        "night",
        "week",
        "weekday",
        "weekend",
        "month",
        "hour",
        "minute",
        "quarter",
        "year",
        "other",
    ];
    toks.is_any(k, WHEN) || super::days::is_day_name(toks, k) || toks.kind(k) == Some(Kind::Number)
}

/// "remind #kitchen every afternoon to log the temperatures": "to" before a verb is a purpose,
/// not where things go.
fn purpose(toks: &Toks, k: usize) -> bool {
    // Besides the verbs that write or read, which are purposes too.
    const VERBS: &[&str] = &[
        "see", "know", "let", "help", "keep", "make", "ask", "confirm", "use", "do", "get", "have", "be",
        "fill", "follow", "offer", "pick", "join",
    ];
    // Any other lowercase word with an object after it is a verb too ("to defrost the salmon").
    let verb = toks
        .get(k)
        .is_some_and(|t| t.kind == Kind::Word && t.orig.starts_with(|c: char| c.is_lowercase()))
        && !toks.is_any(
            k,
            &["the", "a", "an", "my", "our", "their", "your", "his", "her", "its", "this", "that"],
        )
        && !is_tool_word(toks, k)
        && toks.is_any(k + 1, &["the", "a", "an", "my", "our", "their", "your", "it", "them", "his", "her"]);
    verb || toks.is_any(k, VERBS) || toks.is_any(k, SINK_VERBS) || toks.is_any(k, SOURCE_VERBS)
}

/// Words that make a place after "in"/"on" one where things happen ("when a record is created
/// in the 'Events' table", "any message posted in #suggestions"). Not used after "to": "every
/// Monday post to #team" is written to.
const HAPPENS: &[&str] = &[
    "when", "whenever", "if", "once", "after", "any", "every", "each", "new", "incoming", "anyone", "someone",
];

/// Words that make a clause something that happens rather than something to do.
const CUES: &[&str] = &["when", "whenever", "if", "once", "new", "incoming", "after"];

/// Verbs that take items from one place to another.
const MOVE_VERBS: &[&str] = &[
    "add",
    "adds",
    "copy",
    "copies",
    "move",
    "moves",
    "export",
    "exports",
    "import",
    "imports",
    "sync",
    "syncs",
    "transfer",
    "transfers",
    "take",
    "backup",
    "migrate",
    "put",
];

/// A verb at `k` that tells the agent to write somewhere (no subject, determiner or tool's
/// name before it: "an Airtable record", "a Slack message" are nouns).
fn imperative_sink(toks: &Toks, k: usize) -> bool {
    toks.is_any(k, SINK_VERBS) && !(k > 0 && (toks.is_any(k - 1, SUBJECTS) || is_tool_word(toks, k - 1)))
}

/// Words before a verb that make it something that happens rather than something to do.
const SUBJECTS: &[&str] = &[
    "by",
    "staff",
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
    let mut found: Vec<(usize, (Place, Role))> = Vec::new();
    let mut push = |at: usize, place: Place, role: Role| found.push((at, (place, role)));
    let mut i = 0;
    while i < toks.len() {
        let Some(t) = toks.get(i) else { break };
        if t.kind == Kind::Url {
            // A URL that is checked, pinged or watched is read ("every 5 min ping https://x/health").
            let watched = (i.saturating_sub(3)..i).any(|k| toks.is_any(k, WATCH_VERBS))
                || super::catalog::is_feed(toks, i);
            let role = if watched { Role::Source } else { role(toks, i).unwrap_or(Role::Dest) };
            push(i, Place::new(PlaceKind::Url, t.orig.to_string()), role);
            i += 1;
            continue;
        }
        if let Some((kind, name, end)) = path_at(toks, i) {
            // A repository is read unless the words say it is written to ("open an issue in
            // acme/api"); a folder path is where things go unless they say otherwise.
            let default = if kind == PlaceKind::Project { Role::Source } else { Role::Dest };
            push(i, Place::new(kind, name), role(toks, i).unwrap_or(default));
            i = end;
            continue;
        }
        if let Some(phone) = phone_at(toks, i) {
            push(i, Place::new(PlaceKind::Phone, phone), role(toks, i).unwrap_or(Role::Dest));
            i += 1;
            continue;
        }
        if let Some((kind, name, start)) = named_at(toks, i).or_else(|| tool_named_at(toks, i)) {
            push(start, Place::new(kind, name), role(toks, start).unwrap_or(Role::Dest));
        }
        i += 1;
    }
    // What is taken back is dropped, among places of one kind ("the sheet Leads 2023, I mean
    // Leads 2024").
    let mut out: Vec<(Place, Role)> = Vec::new();
    let mut kinds: Vec<PlaceKind> = Vec::new();
    for (_, (p, _)) in &found {
        if !kinds.contains(&p.kind) {
            kinds.push(p.kind);
        }
    }
    for kind in kinds {
        let of_kind: Vec<(usize, (Place, Role))> =
            found.iter().filter(|(_, (p, _))| p.kind == kind).cloned().collect();
        for (_, (place, role)) in super::fields::kept(toks, of_kind) {
            if !out.iter().any(|(p, _)| p.name.eq_ignore_ascii_case(&place.name)) {
                out.push((place, role));
            }
        }
    }
    out
}

/// A name written as a path: a repository ("acme/api", "kiln-dev/kiln"), a subreddit
/// ("r/selfhosted") or a folder ("/Finance/Invoices"), glued together: (kind, name, the index
/// after it).
fn path_at(toks: &Toks, i: usize) -> Option<(PlaceKind, String, usize)> {
    let glued = |k: usize| toks.get(k).is_some_and(|t| t.glued);
    let part = |k: usize| toks.get(k).is_some_and(|t| matches!(t.kind, Kind::Word | Kind::Number));
    if glued(i) || !(part(i) || toks.is(i, "/")) {
        return None;
    }
    let mut end = i;
    let mut slashes = 0;
    while end < toks.len() && (end == i || glued(end)) {
        let sep = toks.is_any(end, &["/", "-", "_", "."]);
        if !(part(end) || sep) || (sep && !(glued(end + 1) && part(end + 1)) && !toks.is(end, "/")) {
            break;
        }
        if toks.is(end, "/") {
            if !part(end + 1) || !glued(end + 1) {
                break;
            }
            slashes += 1;
        }
        end += 1;
    }
    if slashes == 0 || toks.is(end.wrapping_sub(1), "/") {
        return None;
    }
    let name = join_orig(toks, i, end);
    // "r/selfhosted" is a subreddit; "/Clients/Acme" a folder; "acme/api" a repository, but
    // "and/or", "24/7", "9/5" and "w/" are not names.
    let kind = if toks.is(i, "/") {
        PlaceKind::Folder
    } else if toks.is(i, "r") && slashes == 1 {
        PlaceKind::Channel
    } else if slashes == 1 && toks.kind(i) == Some(Kind::Word) && toks.kind(end - 1) == Some(Kind::Word) {
        PlaceKind::Project
    } else {
        return None;
    };
    let words = name.split('/').filter(|w| !w.is_empty()).all(|w| w.len() > 1 || w == "r");
    let common =
        ["and/or", "either/or", "on/off", "yes/no", "am/pm", "w/o"].contains(&name.to_lowercase().as_str());
    (words && !common).then_some((kind, name, end))
}

/// A number written the local way, after "at" or "on" ("text the coordinator at 07700
/// 900456"): a leading 0 and nine digits or more, kept as written.
fn local_phone_at(toks: &Toks, i: usize) -> Option<String> {
    let digits =
        |k: usize| toks.kind(k) == Some(Kind::Number) && toks.text(k).bytes().all(|b| b.is_ascii_digit());
    if !(i > 0
        && toks.is_any(i - 1, &["at", "on", "number", "to"])
        && digits(i)
        && toks.text(i).starts_with('0'))
    {
        return None;
    }
    let mut end = i;
    let mut count = 0;
    while digits(end) {
        count += toks.text(end).len();
        end += 1;
    }
    (9..=13).contains(&count).then(|| join_orig(toks, i, end))
}

/// "+15551234567", "+1 555 123 4567" (starting with `+`, seven digits or more).
fn phone_at(toks: &Toks, i: usize) -> Option<String> {
    if !toks.is(i, "+") {
        return local_phone_at(toks, i);
    }
    let mut digits = String::from("+");
    let mut k = i + 1;
    loop {
        // "+1 (617) 555-0143", "+44.20.7946.0958"
        if toks.is_any(k, &["(", ")"]) && toks.kind(k + 1) == Some(Kind::Number) {
            k += 1;
        }
        if !(toks.kind(k) == Some(Kind::Number) && toks.text(k).bytes().all(|b| b.is_ascii_digit())) {
            break;
        }
        digits.push_str(toks.text(k));
        k += 1;
        if toks.is_any(k, &["-", ")", "."]) && toks.kind(k + 1) == Some(Kind::Number) {
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
    // "sheet called Leads", "board named 'Bugs'", "page: Weekly notes", "the sheet "Leads"",
    // "the Dropbox folder Receipts", "the project MOB".
    let mut j = i + 1;
    let introduced = toks.is_any(j, &["called", "named", "titled", ":"]);
    if introduced {
        j += 1;
    }
    if let Some((name, _)) = quoted(toks, j) {
        return Some((kind, name, i));
    }
    // "the 'Stock' spreadsheet: every morning ..." names nothing after its colon.
    let introduced = introduced
        && !(toks.is(i + 1, ":") && toks.is_any(j, &["every", "each", "daily", "at", "on", "when"]));
    // "the Drive folder Slack Archive": a tool's name can open a name.
    let capital = |k: usize| toks.get(k).is_some_and(|t| t.orig.starts_with(char::is_uppercase));
    let tool_led = is_tool_word(toks, j) && capital(j) && is_capital_word(toks, j + 1);
    if (introduced || is_capital_word(toks, j) || tool_led)
        && let Some(name) = name_run(toks, j, introduced || tool_led)
    {
        return Some((kind, name, i));
    }
    if toks.word(i).starts_with("file") {
        return None;
    }
    // "the "Leads" sheet", "my 'Candidates' Google Sheet", "the Bugs board".
    let mut end = i.checked_sub(1)?;
    while end > 0 && is_tool_word(toks, end) {
        end -= 1;
    }
    if matches!(toks.text(end), "'" | "\"") {
        let open = (end.saturating_sub(10)..end).rev().find(|&k| toks.is(k, toks.text(end)))?;
        let (name, _) = quoted(toks, open)?;
        return Some((kind, name, open));
    }
    let mut start = end + 1;
    while start > 0 && start + 4 > end + 1 && is_capital_word(toks, start - 1) {
        start -= 1;
    }
    // "the game-client repo": a hyphenated name, whatever its case.
    if start == end + 1 && toks.is(end.wrapping_sub(1), "-") {
        let (a, _) = toks.hyphen_span(end);
        if a < end && !is_tool_word(toks, a) {
            start = a;
        }
    }
    // After a determiner or a preposition ("the Bugs board", "add row to Leads sheet").
    const BEFORE: &[&str] = &["the", "our", "my", "their", "your", "to", "into", "from", "in", "on"];
    if start <= end && start > 0 && toks.is_any(start - 1, BEFORE) {
        let name = join_orig(toks, start, end + 1);
        // "the Google Drive folder" is the tool's, not a name.
        if super::catalog::mentions(&Toks::new(&name)).iter().any(|m| m.explicit) {
            return None;
        }
        // The phrase starts at its determiner; a preposition before the name is the role's
        // ("cards on the Bugs board" are read).
        let at = if toks.is_any(start - 1, DETERMINERS) { start - 1 } else { start };
        return Some((kind, name, at));
    }
    None
}

/// A quoted name right after a tool's name, with no noun ("log a row in Excel 'Done log'",
/// "the Notion 'Roadmap'"): the kind of place that tool holds.
fn tool_named_at(toks: &Toks, i: usize) -> Option<(PlaceKind, String, usize)> {
    use super::catalog::Category as C;
    let tool = i.checked_sub(1)?;
    let (name, _) = quoted(toks, i)?;
    let mention = super::catalog::mentions(&Toks::new(toks.text(tool)));
    let provider = mention.iter().find(|m| m.explicit)?.provider;
    let kind = match provider.category() {
        C::Table => PlaceKind::Sheet,
        C::Documents => PlaceKind::Page,
        C::Files => PlaceKind::Folder,
        C::Tasks => PlaceKind::Board,
        C::Crm | C::Marketing => PlaceKind::List,
        _ => return None,
    };
    Some((kind, name, tool))
}

/// A word of a tool's name ("Google" in "my Google Sheet").
fn is_tool_word(toks: &Toks, i: usize) -> bool {
    toks.kind(i) == Some(Kind::Word)
        && (toks.is_any(i, &["google", "microsoft", "ms"])
            || super::catalog::mentions(&Toks::new(toks.text(i))).iter().any(|m| m.explicit))
}

/// A name from `i` to the end of its phrase: up to five words, stopping at punctuation and
/// at the words that start the rest of the sentence ("the folder Client Calls every day").
fn name_run(toks: &Toks, i: usize, introduced: bool) -> Option<String> {
    const STOP: &[&str] = &[
        "and", "or", "to", "in", "on", "at", "for", "with", "from", "every", "each", "when", "whenever",
        "if", "so", "that", "then", "please", "as", "by", "daily", "weekly", "instead", "too", "also", "via",
        "into", "onto", "using", "is", "are", "was", "gets", "get", "has", "changes", "moves",
        // "send the WhatsApp group Ops SG a list of ...": a determiner starts what is sent.
        "the", "a", "an", "my", "our", "their", "your", "should", "will", "must",
    ];
    let mut end = i;
    while end < toks.len().min(i + 5) {
        let Some(t) = toks.get(end) else { break };
        let next_glued = toks.get(end + 1).is_some_and(|n| n.glued && n.kind != Kind::Punct);
        let joined =
            t.kind == Kind::Punct && matches!(&*t.text, "-" | "_" | "." | "&" | "/") && t.glued && next_glued;
        let word = matches!(t.kind, Kind::Word | Kind::Number | Kind::Zone);
        // "the Confluence page Finance Weekly": a capitalised "Weekly" goes on with the name.
        let named = t.orig.starts_with(char::is_uppercase) && toks.is_any(end, &["daily", "weekly"]);
        // (A determiner ends a name that has begun: "the group Ops SG a list of", but "the
        // project My follow-ups" starts with one.)
        let determiner = toks.is_any(end, DETERMINERS);
        let stops = toks.is_any(end, STOP) && !(determiner && end == i);
        if !(word || joined) || (stops && !(introduced && end == i) && !named) {
            break;
        }
        end += 1;
    }
    // (A tool's name alone is not a name; "Slack Archive" is.)
    (end > i && (end > i + 1 || !is_tool_word(toks, i))).then(|| join_orig(toks, i, end))
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
        // Names with a capitalised "Weekly", a slash, a tool's name in them; a row of a file.
        // Names written as paths: repositories and subreddits are read, folders by their words.
        assert_eq!(places("GitHub issues opened today in acme/api"), [("acme/api".into(), Role::Source)]);
        assert_eq!(places("post the r/rust posts into #reading")[0], ("r/rust".into(), Role::Source));
        assert_eq!(
            places("copy the PDF into Dropbox /Finance/Invoices"),
            [("/Finance/Invoices".into(), Role::Dest)]
        );
        assert!(places("save receipts and/or invoices 24/7 to Drive").is_empty());
        // What a digest is made of is read where it is; a feed is read.
        assert_eq!(
            places("send the team a summary of new Trello cards on the Bugs board in #triage"),
            [("Bugs".into(), Role::Source)]
        );
        assert_eq!(
            places("post the stats of the week on Facebook page Harbor Yoga"),
            [("Harbor Yoga".into(), Role::Dest)]
        );
        assert_eq!(
            places("post our blog posts (RSS: https://blog.x.io/rss) to LinkedIn"),
            [("https://blog.x.io/rss".into(), Role::Source)]
        );
        // A hyphenated name, whatever its case; a local phone number; the people on a list.
        assert_eq!(
            places("new message → github issue in the game-client repo"),
            [("game-client".into(), Role::Dest)]
        );
        assert_eq!(places("text the coordinator at 07700 900456"), [("07700 900456".into(), Role::Dest)]);
        assert_eq!(
            places("text everyone on the On-call sheet the incident"),
            [("On-call".into(), Role::Source)]
        );
        // A name ends before a determiner; what each item is made from is read; made there.
        assert_eq!(
            places("send the WhatsApp group Ops SG a list of orders"),
            [("Ops SG".into(), Role::Dest)]
        );
        assert_eq!(
            places("create an invoice for every client in the table Retainers"),
            [("Retainers".into(), Role::Source)]
        );
        assert_eq!(
            places("At 9 make a new page in the Notion database Weekly notes with the issues"),
            [("Weekly notes".into(), Role::Dest)]
        );
        let dest = |s: &str| places(s).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        assert_eq!(dest("write it into the Confluence page Finance Weekly"), ["Finance Weekly"]);
        assert_eq!(dest("copy it to the Dropbox folder Backups/CRM"), ["Backups/CRM"]);
        assert_eq!(dest("put them into the Google Sheet Weekly Support"), ["Weekly Support"]);
        assert_eq!(dest("copy the table Inventory into the sheet Snapshot"), ["Inventory", "Snapshot"]);
        assert_eq!(
            places("a button that copies our table Inventory into the sheet Snapshot"),
            [("Inventory".into(), Role::Source), ("Snapshot".into(), Role::Dest)]
        );
        assert_eq!(dest("archive it into the Google Drive folder Slack Archive"), ["Slack Archive"]);
        assert_eq!(
            places("write it into a new row of the Excel file Sales 2027"),
            [("Sales 2027".into(), Role::Dest)]
        );
        assert!(places("save the PDF file to the Google Drive folder").is_empty());
    }

    #[test]
    fn a_purpose_a_time_and_a_whole_channel_do_not_make_a_place_read() {
        let role_of = |s: &str, name: &str| {
            let t = Toks::new(s);
            (0..t.len()).find(|&k| t.text(k) == name).and_then(|k| role(&t, k))
        };
        assert_eq!(
            role_of("remind the #kitchen channel every afternoon to log the temperatures", "#kitchen"),
            Some(Role::Dest)
        );
        assert_ne!(
            role_of("the incidents summarised every monday morning in #sre", "#sre"),
            Some(Role::Source)
        );
        assert_eq!(
            role_of("send the notes of the review to the whole #leads channel", "#leads"),
            Some(Role::Dest)
        );
        assert_eq!(role_of("every message posted in #help goes to Notion", "#help"), Some(Role::Source));
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
