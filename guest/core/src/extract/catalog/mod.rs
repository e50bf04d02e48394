//! The integrations Kiln knows ([`Provider`], an index into the catalog of `table.rs`) and
//! how they are recognised in text. Everything per tool comes from its table entry; this
//! module derives the indexes (names and nouns by first byte, built at compile time) and holds
//! the rules that are not per tool.
//!
//! A provider is named explicitly ("Gmail", "google calendar", typos within one edit such
//! as "gmial", "slak", "githb"; an exact name beats a typo of another, so "gitlab" is GitLab),
//! read in context when its name is also a word ("Teams", "Zoom", "Box", "X", "text me"), or
//! implied by a generic word: "email"/"inbox"/"mail" mean Gmail unless Outlook is named;
//! "calendar" and "my meetings" mean Google Calendar unless Outlook is named;
//! "sheet"/"spreadsheet" mean Google Sheets unless Excel is named; "my drive" means Google
//! Drive; "issues"/"PRs"/"pull requests"/"repo"/"commits" mean GitHub (issues only when no
//! other tracker is named, none when another code host is); "the weather"/"forecast" mean
//! Weather, a blog's feed RSS; URLs of known services mean that service and other URLs next
//! to a sending verb mean a webhook. Mentions after "instead of", "not", "rather than",
//! "leave out", "no need for", "switch X to Y" are negated (and reported as removed); a tool
//! that only sends the mail ("emails from Stripe") is not used. Tools the catalog lacks are
//! found in `unknown.rs`.

use serde::de::{self, Deserializer, EnumAccess, Unexpected, VariantAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::token::{Kind, Toks, fuzzy_eq};

mod table;
mod unknown;

use table::TOOLS;
pub(crate) use unknown::{Unknown, unknown_tools};

/// An integration Kiln knows how to connect: an index into the catalog (`table.rs`), with a
/// constant for each entry ([`Provider::GMAIL`], ...; usable in `match` patterns).
///
/// Serialised as the enum it replaced: its id (`"google_calendar"`) in human-readable formats,
/// its index as a variant index in binary ones (postcard: a varint), so stored session
/// records keep their bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Provider(u8);

/// What a tool is for; tools of one category do the same job (a change request naming one
/// replaces another of the same category).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    Email,
    Chat,
    Calendar,
    Code,
    Documents,
    Files,
    Table,
    Tasks,
    Crm,
    Support,
    Payments,
    Commerce,
    Forms,
    Scheduling,
    Meetings,
    Marketing,
    Social,
    Sms,
    Accounting,
    Feeds,
    Data,
    Monitoring,
    Webhook,
}

/// One tool of the catalog.
#[derive(Debug)]
pub(crate) struct Tool {
    /// Stable snake_case id, the serde form.
    pub(crate) id: &'static str,
    /// The name people know it by.
    pub(crate) name: &'static str,
    /// What it is for.
    pub(crate) category: Category,
    /// Names that identify it outright, as token sequences; words of five letters or more
    /// also match their typos.
    pub(crate) aliases: &'static [&'static [&'static str]],
    /// Names matched only as written (also ordinary words, or a typo away from one).
    pub(crate) exact: &'static [&'static [&'static str]],
    /// Its events: the first is the default; the others are tried in order and the first whose
    /// cue groups all have a word in the clause wins.
    pub(crate) events: &'static [Event],
    /// Groups of nouns for the things it holds (an event about "a PR" comes from a tool that
    /// holds PRs).
    pub(crate) things: &'static [&'static [&'static str]],
    /// Of `things`, the groups it is the usual tool for when no tool holding them is named.
    pub(crate) usual_for: &'static [&'static [&'static str]],
    /// How a draft reads it when it is a source.
    pub(crate) read: Step,
    /// How it receives results; `None`: it is only ever a source.
    pub(crate) sink: Option<Sink>,
    /// How it is connected.
    pub(crate) auth: Auth,
    /// URL fragments that identify it (matched at a host boundary; the longest wins).
    pub(crate) hosts: &'static [&'static str],
}

/// An event a tool reports.
#[derive(Debug)]
pub(crate) struct Event {
    /// `thing.verb` (or one of the older single words, `mention` and `push`).
    pub(crate) id: &'static str,
    /// Every group must have a word in the clause (a word matches exactly, or as a typo when
    /// six letters or more).
    pub(crate) cues: &'static [&'static [&'static str]],
}

/// One step of a drafted agent, `provider.verb`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// The verb after `provider.`.
    pub(crate) verb: &'static str,
    /// Its one input, if any.
    pub(crate) input: Input,
    /// Its output's name.
    pub(crate) output: &'static str,
}

/// Where a step's input comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// No input.
    Nothing,
    /// A fixed `(name, value)`.
    Fixed(&'static str, &'static str),
    /// `query`: the requirements' e-mail filter.
    EmailQuery,
    /// `channel`: the requirements' channel (so the builder asks for one).
    Channel,
    /// `to`: the requirements' recipients.
    Recipients,
}

/// How a tool receives results.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sink {
    /// The draft's step.
    pub(crate) step: Step,
    /// The extractor's action (from `ACTIONS`) for sending something to it ("add them to
    /// HubSpot" is `create_record`).
    pub(crate) act: &'static str,
    /// When a draft makes it a destination.
    pub(crate) when: SinkWhen,
}

/// When a draft makes a tool a destination.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SinkWhen {
    /// Always (chat tools).
    Always,
    /// When the requirements' actions include one of these.
    Asked(&'static [&'static str]),
    /// Only as the last tool named when nothing else receives.
    Last,
}

/// How a tool is connected.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth {
    /// No account (plain HTTP, public data).
    NoAccount,
    /// OAuth with these default scopes: enough to read the source and post the usual outputs.
    Scopes(&'static [&'static str]),
    /// OAuth without scopes (the catalog test lists each such tool with the reason).
    Unscoped,
    /// A key or token the person pastes (no OAuth consent to ask for).
    ApiKey,
}

const COUNT: usize = TOOLS.len();
const _: () = assert!(COUNT <= 64, "ProviderSet is a u64");

/// Every provider, in index order.
const ALL: [Provider; COUNT] = {
    let mut all = [Provider(0); COUNT];
    let mut k = 0;
    while k < COUNT {
        all[k] = Provider(k as u8);
        k += 1;
    }
    all
};

/// Every id, in index order (serde's variant names).
const IDS: [&str; COUNT] = {
    let mut ids = [""; COUNT];
    let mut k = 0;
    while k < COUNT {
        ids[k] = TOOLS[k].id;
        k += 1;
    }
    ids
};

impl Provider {
    /// Every provider, in index order.
    pub fn all() -> &'static [Provider] {
        &ALL
    }

    /// The stable snake_case id (`"gmail"`, `"google_calendar"`, ...), the same as serde's.
    pub fn id(self) -> &'static str {
        self.tool().id
    }

    /// The provider with this id, if any.
    pub fn from_id(id: &str) -> Option<Provider> {
        ALL.into_iter().find(|p| p.id() == id)
    }

    /// The name people know it by (`"Google Calendar"`).
    pub fn display_name(self) -> &'static str {
        self.tool().name
    }

    /// Connecting it needs an OAuth consent (not for tools without an account, nor for those
    /// connected with a pasted key or bot token: Telegram, Twilio, Freshdesk, WooCommerce).
    pub fn needs_oauth(self) -> bool {
        matches!(self.tool().auth, Auth::Scopes(_) | Auth::Unscoped)
    }

    /// The OAuth scopes Kiln asks for by default: enough to read the source and post the
    /// usual outputs. Empty for tools without an account and for Notion, which grants
    /// capabilities per integration rather than by scope.
    pub fn default_scopes(self) -> &'static [&'static str] {
        match self.tool().auth {
            Auth::Scopes(s) => s,
            Auth::NoAccount | Auth::Unscoped | Auth::ApiKey => &[],
        }
    }

    /// Its catalog entry.
    pub(crate) fn tool(self) -> &'static Tool {
        &TOOLS[usize::from(self.0)]
    }

    /// What it is for.
    pub(crate) fn category(self) -> Category {
        self.tool().category
    }

    /// A chat tool.
    pub(crate) fn is_chat(self) -> bool {
        self.category() == Category::Chat
    }

    /// A mail provider.
    pub(crate) fn is_mail(self) -> bool {
        self.category() == Category::Email
    }

    /// Its messages go to a channel (the builder asks which).
    pub(crate) fn posts_to_channel(self) -> bool {
        self.tool().sink.is_some_and(|s| s.step.input == Input::Channel)
    }
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Provider {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Exactly what `#[derive(Serialize)]` on the enum it replaced did.
        s.serialize_unit_variant("Provider", u32::from(self.0), self.id())
    }
}

impl<'de> Deserialize<'de> for Provider {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Provider, D::Error> {
        d.deserialize_enum("Provider", &IDS, ProviderVisitor)
    }
}

/// Reads a provider as the enum it replaced: by id or by variant index.
struct ProviderVisitor;

impl<'de> Visitor<'de> for ProviderVisitor {
    type Value = Provider;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an integration id")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Provider, E> {
        usize::try_from(v).ok().filter(|&k| k < COUNT).map(|k| ALL[k]).ok_or_else(|| {
            E::invalid_value(Unexpected::Unsigned(v), &"an integration index below the catalog's size")
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Provider, E> {
        Provider::from_id(v).ok_or_else(|| E::unknown_variant(v, &IDS))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Provider, E> {
        match std::str::from_utf8(v) {
            Ok(s) => self.visit_str(s),
            Err(_) => Err(E::invalid_value(Unexpected::Bytes(v), &self)),
        }
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Provider, A::Error> {
        let (p, variant) = data.variant_seed(IdSeed)?;
        variant.unit_variant()?;
        Ok(p)
    }
}

/// The variant part of the enum form: an id or an index.
struct IdSeed;

impl<'de> de::DeserializeSeed<'de> for IdSeed {
    type Value = Provider;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Provider, D::Error> {
        d.deserialize_identifier(ProviderVisitor)
    }
}

/// A set of providers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ProviderSet(u64);

impl ProviderSet {
    /// Adds `p`.
    fn insert(&mut self, p: Provider) {
        self.0 |= 1 << p.0;
    }

    /// Holds `p`.
    pub(crate) fn contains(self, p: Provider) -> bool {
        self.0 & (1 << p.0) != 0
    }
}

/// One place a provider is mentioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mention {
    /// Which provider.
    pub(crate) provider: Provider,
    /// Token index where the mention starts.
    pub(crate) pos: usize,
    /// Named outright rather than implied by a generic word.
    pub(crate) explicit: bool,
    /// Said not to be wanted ("instead of Gmail").
    pub(crate) negated: bool,
}

/// One name of a tool, from its entry's `aliases` or `exact`.
#[derive(Debug, Clone, Copy)]
struct Alias {
    /// Its tokens.
    words: &'static [&'static str],
    /// Whose name it is.
    provider: Provider,
    /// Its words of five letters or more also match their typos.
    typos: bool,
}

/// How many names the catalog holds.
const ALIAS_COUNT: usize = {
    let mut n = 0;
    let mut k = 0;
    while k < COUNT {
        n += TOOLS[k].aliases.len() + TOOLS[k].exact.len();
        k += 1;
    }
    n
};

/// Every name, grouped by first byte (a counting sort, which keeps catalog order within a
/// group): the names starting with byte `b` are `ALIASES.0[ALIASES.1[b]..ALIASES.1[b + 1]]`.
/// Built at compile time, so a word is checked only against the names that begin like it.
const ALIASES: ([Alias; ALIAS_COUNT], [u16; 257]) = {
    assert!(ALIAS_COUNT < u16::MAX as usize, "indices are u16");
    let blank = Alias { words: &[], provider: Provider(0), typos: false };
    let mut flat = [blank; ALIAS_COUNT];
    let mut n = 0;
    let mut k = 0;
    while k < COUNT {
        let t = &TOOLS[k];
        let mut a = 0;
        while a < t.aliases.len() + t.exact.len() {
            let typos = a < t.aliases.len();
            let words = if typos { t.aliases[a] } else { t.exact[a - t.aliases.len()] };
            assert!(!words.is_empty() && !words[0].is_empty(), "a name has a non-empty first word");
            flat[n] = Alias { words, provider: Provider(k as u8), typos };
            n += 1;
            a += 1;
        }
        k += 1;
    }
    let mut starts = [0u16; 257];
    k = 0;
    while k < ALIAS_COUNT {
        starts[flat[k].words[0].as_bytes()[0] as usize + 1] += 1;
        k += 1;
    }
    let mut b = 1;
    while b < starts.len() {
        starts[b] += starts[b - 1];
        b += 1;
    }
    let mut sorted = [blank; ALIAS_COUNT];
    let mut next = starts;
    k = 0;
    while k < ALIAS_COUNT {
        let b = flat[k].words[0].as_bytes()[0] as usize;
        sorted[next[b] as usize] = flat[k];
        next[b] += 1;
        k += 1;
    }
    (sorted, starts)
};

/// The names whose first word begins with `b`, in catalog order.
fn aliases_starting(b: u8) -> &'static [Alias] {
    let (sorted, starts) = &ALIASES;
    let b = usize::from(b);
    &sorted[usize::from(starts[b])..usize::from(starts[b + 1])]
}

/// The things (nouns) one word names: the tools that hold them, and the usual one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Things {
    /// Tools that hold the thing.
    pub(crate) tools: ProviderSet,
    /// The tool meant when none of them is named.
    pub(crate) usual: Option<Provider>,
}

/// One noun of a tool's `things`.
#[derive(Debug, Clone, Copy)]
struct Noun {
    word: &'static str,
    provider: Provider,
    usual: bool,
}

/// How many nouns the catalog's entries list (with repeats across tools).
const NOUN_COUNT: usize = {
    let mut n = 0;
    let mut k = 0;
    while k < COUNT {
        let mut g = 0;
        while g < TOOLS[k].things.len() {
            n += TOOLS[k].things[g].len();
            g += 1;
        }
        k += 1;
    }
    n
};

/// `a == b` at compile time.
const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut k = 0;
    while k < a.len() {
        if a[k] != b[k] {
            return false;
        }
        k += 1;
    }
    true
}

/// `group` is one of `groups` (same words).
const fn has_group(groups: &[&[&str]], group: &[&str]) -> bool {
    let mut g = 0;
    while g < groups.len() {
        let other = groups[g];
        if other.len() == group.len() {
            let mut same = true;
            let mut k = 0;
            while k < group.len() {
                same &= const_eq(other[k], group[k]);
                k += 1;
            }
            if same {
                return true;
            }
        }
        g += 1;
    }
    false
}

/// `a < b` at compile time (bytewise).
const fn const_lt(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut k = 0;
    while k < a.len() && k < b.len() {
        if a[k] != b[k] {
            return a[k] < b[k];
        }
        k += 1;
    }
    a.len() < b.len()
}

/// Every noun, grouped by first byte like [`ALIASES`], each group sorted by word (so the
/// tools that hold one word are neighbours and a typo check runs once per word).
const NOUNS: ([Noun; NOUN_COUNT], [u16; 257]) = {
    assert!(NOUN_COUNT < u16::MAX as usize, "indices are u16");
    let blank = Noun { word: "", provider: Provider(0), usual: false };
    let mut flat = [blank; NOUN_COUNT];
    let mut n = 0;
    let mut k = 0;
    while k < COUNT {
        let t = &TOOLS[k];
        let mut g = 0;
        while g < t.things.len() {
            let usual = has_group(t.usual_for, t.things[g]);
            let mut w = 0;
            while w < t.things[g].len() {
                assert!(!t.things[g][w].is_empty(), "a noun is not empty");
                flat[n] = Noun { word: t.things[g][w], provider: Provider(k as u8), usual };
                n += 1;
                w += 1;
            }
            g += 1;
        }
        k += 1;
    }
    let mut starts = [0u16; 257];
    k = 0;
    while k < NOUN_COUNT {
        starts[flat[k].word.as_bytes()[0] as usize + 1] += 1;
        k += 1;
    }
    let mut b = 1;
    while b < starts.len() {
        starts[b] += starts[b - 1];
        b += 1;
    }
    let mut sorted = [blank; NOUN_COUNT];
    let mut next = starts;
    k = 0;
    while k < NOUN_COUNT {
        let b = flat[k].word.as_bytes()[0] as usize;
        sorted[next[b] as usize] = flat[k];
        next[b] += 1;
        k += 1;
    }
    // Insertion sort by word, stable, so tools keep catalog order within a word.
    k = 1;
    while k < NOUN_COUNT {
        let mut j = k;
        while j > 0 && const_lt(sorted[j].word, sorted[j - 1].word) {
            let t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
            j -= 1;
        }
        k += 1;
    }
    (sorted, starts)
};

/// The things `w` names: nouns equal to it, else (for nouns of five letters or more) its typos.
pub(crate) fn things(w: &str) -> Option<Things> {
    let &b = w.as_bytes().first()?;
    let (sorted, starts) = &NOUNS;
    let group = &sorted[usize::from(starts[usize::from(b)])..usize::from(starts[usize::from(b) + 1])];
    let collect = |hit: &mut dyn FnMut(&'static str) -> bool| {
        let mut out = Things { tools: ProviderSet::default(), usual: None };
        for n in group.iter().filter(|n| hit(n.word)) {
            out.tools.insert(n.provider);
            if n.usual && out.usual.is_none() {
                out.usual = Some(n.provider);
            }
        }
        (out.tools != ProviderSet::default()).then_some(out)
    };
    if let Some(found) = collect(&mut |n| n == w) {
        return Some(found);
    }
    if w.len() < 4 {
        return None;
    }
    // Typos of nouns of five letters or more: each word checked once (the group is sorted, so
    // a word's holders are neighbours), and only when the lengths allow it.
    let mut last: Option<(&'static str, bool)> = None;
    collect(&mut |n| match last {
        Some((prev, hit)) if prev == n => hit,
        _ => {
            let hit = n.len() >= 5 && n.len().abs_diff(w.len()) <= 2 && fuzzy_eq(w, n);
            last = Some((n, hit));
            hit
        }
    })
}

/// The clause `words` (lowercased tokens) have a word of `any`, or a typo of one of six
/// letters or more. A word that is itself one of the tool's cue words (`known`) is never a
/// typo of another ("merge" in "merge request" is not "merged").
fn has_cue(words: &[&str], any: &[&str], known: &dyn Fn(&str) -> bool) -> bool {
    words.iter().any(|w| any.contains(w) || (!known(w) && any.iter().any(|a| a.len() >= 6 && fuzzy_eq(w, a))))
}

/// The event of `p` a clause of `words` describes: the first of its events after the default
/// whose cue groups all match, else the default.
pub(crate) fn event_name(p: Provider, words: &[&str]) -> &'static str {
    let events = p.tool().events;
    let known = |w: &str| events.iter().any(|e| e.cues.iter().any(|g| g.contains(&w)));
    events
        .iter()
        .skip(1)
        .find(|e| e.cues.iter().all(|group| has_cue(words, group, &known)))
        .or(events.first())
        .map_or("", |e| e.id)
}

/// Words that, near a bare URL, make it an HTTP call: a webhook.
const URL_VERBS: &[&str] = &[
    "post", "send", "ping", "call", "hit", "poll", "notify", "push", "forward", "deliver", "check",
    "monitor", "fire", "trigger", "to", "endpoint", "webhook", "url", "request", "get",
];

/// Every provider mention in `toks`, in order.
pub(crate) fn mentions(toks: &Toks) -> Vec<Mention> {
    let mut out: Vec<Mention> = Vec::new();
    let mut covered = vec![false; toks.len()];
    let mut i = 0;
    while i < toks.len() {
        if let Some((provider, len)) = explicit_at(toks, i) {
            out.push(Mention { provider, pos: i, explicit: true, negated: false });
            for c in covered.iter_mut().skip(i).take(len) {
                *c = true;
            }
            i += len;
            continue;
        }
        if toks.kind(i) == Some(Kind::Url)
            && let Some(p) = url_provider(toks, i)
        {
            out.push(Mention { provider: p, pos: i, explicit: true, negated: false });
        }
        if let Some(provider) = named_in_context(toks, i) {
            out.push(Mention { provider, pos: i, explicit: true, negated: false });
        }
        i += 1;
    }
    // "emails from Stripe", "Sentry emails": the tool sends the mail; it is not used. "an
    // excel file in Dropbox": a file format, not the tool.
    let files = out.iter().any(|m| m.provider.category() == Category::Files);
    let mut k = 0;
    while k < out.len() {
        let m = out[k];
        // (A mailing tool's lists and newsletters are its own: "mailchimp list Newsletter".)
        let sender = !m.provider.is_mail()
            && m.provider.category() != Category::Marketing
            && is_sender(toks, m.pos, &covered);
        let format =
            m.provider == Provider::EXCEL && files && toks.is_any(m.pos + 1, &["file", "files", "export"]);
        if sender || format {
            // Its words are ordinary words again ("Sentry emails" is mail).
            let len = explicit_at(toks, m.pos).map_or(0, |(_, len)| len);
            for c in covered.iter_mut().skip(m.pos).take(len) {
                *c = false;
            }
            out.remove(k);
        } else {
            k += 1;
        }
    }
    let has = |out: &[Mention], p: Provider| out.iter().any(|m| m.provider == p);
    let outlook = has(&out, Provider::OUTLOOK);
    let excel = has(&out, Provider::EXCEL);
    let zoom = has(&out, Provider::ZOOM);
    // Another tracker's issues are not GitHub's, nor another code host's PRs.
    let issues = things("issues").map_or(ProviderSet::default(), |t| t.tools);
    let tracker = out.iter().any(|m| m.provider != Provider::GITHUB && issues.contains(m.provider));
    let code_host =
        out.iter().any(|m| m.provider != Provider::GITHUB && m.provider.category() == Category::Code);
    let mut generic = Vec::new();
    // Inside quotes a word is a name ("the sheet 'Forecast'"), never a generic mention.
    let mut quoted = false;
    for i in 0..toks.len() {
        if matches!(toks.text(i), "'" | "\"" | "“" | "”" | "‘" | "’") {
            quoted = !quoted;
        }
        if toks.kind(i) != Some(Kind::Word) || quoted {
            continue;
        }
        // Words inside an explicit mention ("google calendar") are not generic mentions.
        if covered.get(i).copied().unwrap_or(false) {
            continue;
        }
        // "my Asana inbox", "the Notion calendar": another product's inbox or calendar.
        let owned_by_other = i > 0 && covered.get(i - 1).copied().unwrap_or(false);
        let g = if owned_by_other {
            None
        } else if is_mail_word(toks, i) {
            (!outlook).then_some(Provider::GMAIL)
        } else if is_calendar_word(toks, i) {
            // A Zoom meeting is Zoom's; Outlook has its own calendar.
            let zoom_meeting = zoom && toks.word(i).starts_with("meeting");
            (!outlook && !zoom_meeting).then_some(Provider::GOOGLE_CALENDAR)
        } else if is_sheet_word(toks, i) {
            (!excel).then_some(Provider::GOOGLE_SHEETS)
        } else if is_drive_word(toks, i) {
            Some(Provider::GOOGLE_DRIVE)
        } else if is_weather_word(toks, i) {
            Some(Provider::WEATHER)
        } else if is_feed_word(toks, i) {
            Some(Provider::RSS)
        } else {
            (!code_host && github_word(toks, i, tracker)).then_some(Provider::GITHUB)
        };
        if let Some(provider) = g {
            generic.push(Mention { provider, pos: i, explicit: false, negated: false });
        }
    }
    out.extend(generic);
    crate::order::sort_by_key(&mut out, |m| m.pos as u64);
    let snapshot = out.clone();
    for m in &mut out {
        m.negated = negated(toks, m.pos, m.provider, &snapshot);
    }
    out
}

/// The distinct wanted providers, in order of first mention.
pub(crate) fn resolve(mentions: &[Mention]) -> Vec<(Provider, usize)> {
    let mut out: Vec<(Provider, usize)> = Vec::new();
    for m in mentions.iter().filter(|m| !m.negated) {
        if !out.iter().any(|(p, _)| *p == m.provider) {
            out.push((m.provider, m.pos));
        }
    }
    out
}

/// A tool's name starts at `i` ("monday.com" is a tool, not a day).
pub(crate) fn tool_named_at(toks: &Toks, i: usize) -> bool {
    explicit_at(toks, i).is_some()
}

/// The providers the message says to remove or not use: those whose last mention is negated
/// ("leave out the Teams bit", "no need for Slack", "not Slack, Teams"), and, when one is
/// wanted "only" ("Teams only", "only Teams"), the others of its category named before it.
pub(crate) fn removed(toks: &Toks, mentions: &[Mention]) -> Vec<Provider> {
    let mut out: Vec<Provider> = Vec::new();
    for (k, m) in mentions.iter().enumerate() {
        let last = !mentions[k + 1..].iter().any(|later| later.provider == m.provider);
        if m.negated && last && !out.contains(&m.provider) {
            out.push(m.provider);
        }
    }
    // "open a ticket in Zendesk, no, Freshdesk", "to Discord #ci, no wait, to the Teams channel",
    // "create a PagerDuty... no, just post it in #x": a tool taken back for the next one.
    const BACK: &[&str] = &["no", "nope", "wait", "actually", "scratch", "oops", "sorry"];
    for (k, m) in mentions.iter().enumerate() {
        let Some(next) = mentions[k + 1..].iter().find(|n| n.provider != m.provider) else { continue };
        let back = next.pos <= m.pos + 10
            && (m.pos + 1..(m.pos + 5).min(next.pos)).any(|j| {
                toks.is_any(j, BACK) && !toks.is_any(j + 1, &["channel", "need", "needs", "longer", "more"])
            });
        let again = mentions[k + 1..].iter().any(|l| l.provider == m.provider && !l.negated);
        if back && !again && !out.contains(&m.provider) {
            out.push(m.provider);
        }
    }
    // "Teams only", "only Teams", "we moved to Teams", "use Teams instead".
    let only = |m: &Mention| {
        let near = (m.pos + 1..m.pos + 4).any(|k| toks.is_any(k, &["only", "instead"]));
        let len = if near { explicit_at(toks, m.pos).map_or(1, |(_, len)| len) } else { 1 };
        toks.is_any(m.pos + len, &["only", "instead"])
            || m.pos > 0 && toks.is_any(m.pos - 1, &["only", "just"])
            || m.pos > 1
                && toks.is(m.pos - 1, "to")
                && toks.is_any(m.pos - 2, &["moved", "switched", "switching", "migrated", "move", "switch"])
    };
    for kept in mentions.iter().filter(|m| !m.negated && only(m)) {
        let others = mentions.iter().filter(|m| {
            m.pos < kept.pos
                && m.provider != kept.provider
                && m.provider.category() == kept.provider.category()
        });
        for m in others {
            if !out.contains(&m.provider) {
                out.push(m.provider);
            }
        }
    }
    out
}

fn explicit_at(toks: &Toks, i: usize) -> Option<(Provider, usize)> {
    let w = toks.word(i);
    if w.is_empty() {
        return None;
    }
    // The longest name wins; of two as long, one written exactly beats a typo of another
    // ("gitlab" is GitLab, not a typo of GitHub).
    let mut best: Option<(Provider, usize, bool)> = None;
    // Every match (the same word, or a typo, which keeps the first letter: `fuzzy_eq`) starts
    // with the name's first letter; this runs for every word of every message.
    for alias in aliases_starting(w.as_bytes()[0]) {
        let words = alias.words;
        let exact = if words.len() == 1 { w == words[0] } else { toks.seq(i, words) };
        // A typo is at most two letters longer or shorter: checked before the edit distance.
        let typo = |t: &str, a: &str| a.len() >= 5 && a.len().abs_diff(t.len()) <= 2 && fuzzy_eq(t, a);
        let ok = exact
            || words.len() == 1 && words[0].len() >= 4 && doubled(w, words[0])
            || alias.typos
                && if words.len() == 1 {
                    typo(w, words[0])
                } else {
                    words.iter().enumerate().all(|(k, a)| {
                        let t = toks.text(i + k);
                        t == *a || typo(t, a)
                    })
                };
        if ok && best.is_none_or(|(_, l, e)| words.len() > l || (words.len() == l && exact && !e)) {
            best = Some((alias.provider, words.len(), exact));
        }
    }
    best.map(|(p, l, _)| (p, l))
}

/// `word` is `name` with one letter typed twice ("excell", "tweeet"): the one typo safe for
/// names that are also words, which otherwise match only as written.
fn doubled(word: &str, name: &str) -> bool {
    let (w, n) = (word.as_bytes(), name.as_bytes());
    w.len() == n.len() + 1
        && (1..w.len()).any(|k| w[k] == w[k - 1] && w[..k] == n[..k] && w[k + 1..] == n[k..])
}

/// The URL at `i` is a feed: "the feed https://hnrss.org/newest", "(RSS:
/// https://blog.x.io/rss)". A feed is read.
pub(crate) fn is_feed(toks: &Toks, i: usize) -> bool {
    let lower = toks.text(i).to_ascii_lowercase();
    (i.saturating_sub(4)..i).any(|k| toks.is_any(k, &["feed", "feeds", "rss", "atom"]))
        || ["/rss", "/feed", "/atom", ".rss", ".xml", "rss."].iter().any(|f| lower.contains(f))
}

fn url_provider(toks: &Toks, i: usize) -> Option<Provider> {
    let url = toks.text(i);
    if let Some(p) = host_provider(url) {
        return Some(p);
    }
    let from = i.saturating_sub(4);
    if is_feed(toks, i) {
        return Some(Provider::RSS);
    }
    let near =
        (from..i).any(|k| toks.is_any(k, URL_VERBS)) || toks.has_any(&["webhook", "webhooks", "endpoint"]);
    near.then_some(Provider::WEBHOOK)
}

/// The tool whose longest host fragment occurs in `url` at a boundary on both sides (not
/// inside a longer name: "box.com" is not in "dropbox.com", "feed" not in "feedback").
fn host_provider(url: &str) -> Option<Provider> {
    let mut best: Option<(Provider, usize)> = None;
    for &p in Provider::all() {
        for h in p.tool().hosts {
            let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '-');
            let found = url.match_indices(h).any(|(at, _)| {
                boundary(url[..at].chars().next_back())
                    && (!h.ends_with(|c: char| c.is_ascii_alphanumeric())
                        || boundary(url[at + h.len()..].chars().next()))
            });
            if found && best.is_none_or(|(_, l)| h.len() > l) {
                best = Some((p, h.len()));
            }
        }
    }
    best.map(|(p, _)| p)
}

/// Product names that are also ordinary words, read as the product only where they sit like
/// one: "Teams", "Zoom" ("a Zoom call", "on zoom"; not "zoom in"), "Box" ("save it to Box";
/// not "a box"), "X" ("post on X", "X (Twitter)").
fn named_in_context(toks: &Toks, i: usize) -> Option<Provider> {
    let t = toks.get(i)?;
    if t.kind != Kind::Word {
        return None;
    }
    let mid_capital = |name: &str| t.orig == name && i > 0 && !toks.is_break(i - 1);
    const VIA: &[&str] =
        &["on", "in", "to", "via", "into", "through", "using", "over", "from", "onto", "with"];
    let after_via = i > 0 && toks.is_any(i - 1, VIA);
    let clause_ends = |k: usize| toks.is_break(k) || toks.is_any(k, &["and", "or", "every", "each", "at"]);
    match &*t.text {
        "teams" => is_teams(toks, i).then_some(Provider::MICROSOFT_TEAMS),
        "zoom" => {
            let verb = toks.is_any(i + 1, &["in", "out", "into", "level", "lens"]);
            (!verb && (mid_capital("Zoom") || after_via)).then_some(Provider::ZOOM)
        }
        "box" => {
            let article =
                i > 0 && toks.is_any(i - 1, &["a", "an", "the", "this", "that", "each", "every", "one"]);
            (!article && (mid_capital("Box") || after_via && clause_ends(i + 1))).then_some(Provider::BOX)
        }
        // "text me", "text +1 415...", "send a text to", "by text"; not "the text of".
        "text" => {
            let noun = i > 0 && toks.is_any(i - 1, &["the", "this", "that", "of", "plain", "full", "rich"]);
            let whom = toks
                .is_any(i + 1, &["me", "us", "him", "her", "them", "the", "my", "our", "everyone", "+"])
                || toks.kind(i + 1) == Some(Kind::Number)
                || i > 0 && toks.is_any(i - 1, &["a", "by", "via"]) && toks.is_any(i + 1, &["to", "message"])
                || i > 0 && toks.is_any(i - 1, &["by", "via"]) && clause_ends(i + 1)
                || i > 0 && toks.is(i - 1, "than");
            (!noun && whom).then_some(Provider::TWILIO)
        }
        "x" if i > 0 => {
            let product = toks.is_any(i - 1, &["on", "to", "via", "onto"]) && clause_ends(i + 1)
                || (toks.is(i + 1, "(") || toks.is(i + 1, "/")) && toks.is(i + 2, "twitter")
                || toks
                    .is_any(i + 1, &["account", "post", "posts", "handle", "thread", "followers", "profile"])
                // "to LinkedIn and X": last in a list of tools.
                || toks.is_any(i - 1, &["and", "&", ","])
                    && i >= 2
                    && mentions(&Toks::new(toks.text(i - 2))).iter().any(|m| m.explicit)
                    && clause_ends(i + 1);
            (t.orig == "X" && product).then_some(Provider::TWITTER)
        }
        _ => None,
    }
}

/// Words that name mail: the tool next to them sends it.
fn names_mail(toks: &Toks, k: usize) -> bool {
    toks.is_any(k, &["email", "emails", "mail", "mails", "newsletter", "newsletters"])
        || toks.is(k, "e") && toks.is(k + 1, "-")
}

/// The tool named at `pos` only sends the mail the request is about: "emails from Stripe",
/// "order email comes in from Shopify", "Sentry emails", "Stripe payouts from my inbox".
fn is_sender(toks: &Toks, pos: usize, covered: &[bool]) -> bool {
    let after =
        (pos + 1..toks.len()).find(|&k| !covered.get(k).copied().unwrap_or(false)).unwrap_or(toks.len());
    // "Sentry emails", "Shopify order emails"
    const GLUE: &[&str] = &["and", "or", "to", "it", "them", "the", "a", "an", "me", "via", "by", "as"];
    // ("if a payment fails in Stripe email the customer": "email" is the verb.)
    const OBJECTS: &[&str] =
        &["the", "a", "an", "me", "us", "them", "it", "him", "her", "my", "our", "their", "everyone"];
    let verb = |k: usize| toks.is_any(k + 1, OBJECTS) || toks.kind(k + 1) == Some(Kind::Email);
    if names_mail(toks, after) && !verb(after)
        || toks.kind(after) == Some(Kind::Word)
            && !toks.is_any(after, GLUE)
            && names_mail(toks, after + 1)
            && !verb(after + 1)
    {
        return true;
    }
    // "from Stripe" after a mail word in the same stretch ("emails and messages from Slack" is not)
    if pos > 0 && toks.is(pos - 1, "from") {
        for k in (pos.saturating_sub(7)..pos - 1).rev() {
            if toks.is_break(k) || toks.is_any(k, &["and", "or", "&", "+"]) {
                break;
            }
            // ("email the Q3 report from Google Drive": "email" is the verb, the report is
            // read from Drive.)
            let verb = toks
                .is_any(k + 1, &["the", "a", "an", "my", "our", "it", "them", "me", "him", "her", "this"]);
            if toks.is_any(k, &["email", "emails", "mail", "mails", "inbox", "mailbox"]) && !verb {
                return true;
            }
        }
    }
    // "Stripe payouts from my inbox"
    (after..(after + 4).min(toks.len())).any(|k| {
        toks.is_any(k, &["from", "in"])
            && (toks.is_any(k + 1, &["inbox", "mailbox", "email", "gmail", "outlook"])
                || toks.is_any(k + 1, &["my", "the", "our"])
                    && toks.is_any(k + 2, &["inbox", "mailbox", "email", "gmail", "outlook"]))
    })
}

/// "Teams" read as the product, not as groups of people.
fn is_teams(toks: &Toks, i: usize) -> bool {
    let Some(t) = toks.get(i) else { return false };
    if t.text != "teams" || t.kind != Kind::Word {
        return false;
    }
    if i > 0 && toks.is_any(i - 1, &["microsoft", "ms"]) {
        return false; // an explicit alias covers it
    }
    const PEOPLE: &[&str] =
        &["that", "who", "which", "are", "were", "have", "members", "member", "leads", "of"];
    if toks.is_any(i + 1, PEOPLE) {
        return false;
    }
    const AFTER: &[&str] = &[
        "channel",
        "channels",
        "chat",
        "chats",
        "message",
        "messages",
        "meeting",
        "dm",
        "notification",
        "post",
    ];
    if toks.is_any(i + 1, AFTER) {
        return true;
    }
    let capital_mid = t.orig == "Teams" && i > 0 && !toks.is_break(i - 1);
    const BEFORE: &[&str] = &[
        "in", "on", "to", "via", "into", "through", "using", "use", "with", "from", "and", "or", "over", "+",
        "&",
    ];
    let prep = i > 0 && (toks.is_any(i - 1, BEFORE) || toks.is_break(i - 1) || toks.is(i - 1, "-"));
    let determiner = i > 0 && toks.is_any(i - 1, &["all", "the", "our", "my", "both", "other", "different"]);
    capital_mid || (prep && !determiner) || i == 0
}

fn is_mail_word(toks: &Toks, i: usize) -> bool {
    let w = toks.word(i);
    if matches!(w, "email" | "emails" | "mail" | "mails" | "inbox" | "inboxes" | "mailbox" | "mailboxes") {
        // "e-mail" is caught at the "mail" token.
        return true;
    }
    fuzzy_eq(w, "emails") || fuzzy_eq(w, "email") || fuzzy_eq(w, "inbox")
}

fn is_calendar_word(toks: &Toks, i: usize) -> bool {
    let w = toks.word(i);
    if fuzzy_eq(w, "calendar") || fuzzy_eq(w, "calendars") {
        const NOT_GOOGLE: &[&str] = &[
            "content",
            "editorial",
            "social",
            "marketing",
            "release",
            "publishing",
            "notion",
            "airtable",
            "outlook",
        ];
        return !(i > 0 && toks.is_any(i - 1, NOT_GOOGLE));
    }
    if matches!(w, "meeting" | "meetings") {
        const OWNED: &[&str] = &[
            "my",
            "a",
            "each",
            "every",
            "next",
            "upcoming",
            "all",
            "any",
            "new",
            "today's",
            "tomorrow's",
            "before",
            "after",
            "your",
            "our",
        ];
        return i > 0 && toks.is_any(i - 1, OWNED);
    }
    false
}

fn is_sheet_word(toks: &Toks, i: usize) -> bool {
    let w = toks.word(i);
    let hit = matches!(w, "sheet" | "sheets" | "spreadsheet" | "spreadsheets")
        || fuzzy_eq(w, "spreadsheet")
        || fuzzy_eq(w, "spreadsheets");
    if hit {
        const NOT: &[&str] = &["cheat", "balance", "time", "fact", "data", "style", "cover", "call", "excel"];
        return !(i > 0 && toks.is_any(i - 1, NOT));
    }
    w == "spread" && toks.is_any(i + 1, &["sheet", "sheets"])
}

fn is_drive_word(toks: &Toks, i: usize) -> bool {
    if toks.word(i) != "drive" || i == 0 {
        return false;
    }
    if toks.is_any(i - 1, &["my", "our", "shared", "team", "company", "the"]) {
        return true;
    }
    toks.is_any(i - 1, &["to", "in", "into", "from", "on", "onto"])
        && (toks.is_break(i + 1)
            || toks.is_any(
                i + 1,
                &["folder", "folders", "and", "every", "each", "at", "daily", "nightly", "weekly"],
            ))
}

/// "the weather", "a forecast", but not a question about it ("what's the weather like?").
fn is_weather_word(toks: &Toks, i: usize) -> bool {
    let w = toks.word(i);
    if !(fuzzy_eq(w, "weather") || fuzzy_eq(w, "forecast") || fuzzy_eq(w, "forecasts")) {
        return false;
    }
    let start = toks.clause_start(i);
    !toks.is_any(start, &["what", "what's", "whats", "how", "how's", "hows", "is", "will", "does", "should"])
}

/// "the blog's feed", "a podcast feed", "this feed: <url>": an RSS feed.
fn is_feed_word(toks: &Toks, i: usize) -> bool {
    if !toks.is_any(i, &["feed", "feeds"]) {
        return false;
    }
    let by_kind = i > 0 && toks.is_any(i - 1, &["blog", "blog's", "podcast", "news", "atom", "xml", "rss"]);
    let url_near = (i + 1..(i + 4).min(toks.len())).any(|k| toks.kind(k) == Some(Kind::Url));
    by_kind || url_near
}

fn github_word(toks: &Toks, i: usize, tracker: bool) -> bool {
    // (Not when another code host is named: the caller checks.)
    let w = toks.word(i);
    match w {
        "pr" | "prs" | "repo" | "repos" | "repository" | "repositories" | "commit" | "commits" => {
            // "commit to" as a verb is rare in these requests; "pr" must not be "PR team".
            true
        }
        "pull" => toks.is_any(i + 1, &["request", "requests"]) || toks.seq(i + 1, &["-", "request"]),
        _ => !tracker && (fuzzy_eq(w, "issue") || fuzzy_eq(w, "issues")),
    }
}

/// Words that say the next provider is not wanted.
const NEGATORS: &[&[&str]] = &[
    &["better", "than"],
    &["never", "open"],
    &["never", "check"],
    &["never", "read"],
    &["don't", "open"],
    &["don't", "check"],
    &["leave", "out"],
    &["get", "rid", "of"],
    &["no", "need", "for"],
    &["don't", "need"],
    &["skip"],
    &["forget"],
    &["forget", "about"],
    &["instead", "of"],
    &["rather", "than"],
    &["not"],
    &["except"],
    &["without"],
    &["replace"],
    &["drop"],
    &["remove"],
    &["ditch"],
    &["stop", "using"],
    &["no", "longer"],
    &["don't", "use"],
    &["isn't"],
];

/// Fillers allowed between a negator and the provider ("not on Slack", "instead of my Gmail").
const FILLER: &[&str] = &["use", "using", "on", "in", "to", "via", "the", "my", "our", "from", "with", "a"];

/// A negator comes just before `pos`, past up to two fillers ("leave out the", "not on").
fn after_negator(toks: &Toks, pos: usize) -> bool {
    // "leave Basecamp out", "take the Gmail bit out"
    let left_out = (pos.saturating_sub(2)..pos)
        .any(|k| toks.is_any(k, &["leave", "leaving", "take", "keep"]))
        && (pos + 1..pos + 4).any(|k| toks.is(k, "out"));
    if left_out {
        return true;
    }
    let mut end = pos;
    for _ in 0..=2 {
        if NEGATORS.iter().any(|n| toks.seq_before(end, n)) {
            return true;
        }
        match end.checked_sub(1) {
            Some(p) if toks.is_any(p, FILLER) => end = p,
            _ => return false,
        }
    }
    false
}

fn negated(toks: &Toks, pos: usize, provider: Provider, all: &[Mention]) -> bool {
    if after_negator(toks, pos) {
        return true;
    }
    // "switch (from) Slack to Teams", "change gmail to outlook", "swap X for Y"
    let mut p = pos;
    while p > 0 && toks.is_any(p - 1, &["from", "the", "my", "our"]) {
        p -= 1;
    }
    let verb_before = |k: usize| {
        toks.is_any(
            k,
            &[
                "switch",
                "change",
                "move",
                "swap",
                "migrate",
                "replace",
                "replacing",
                "switched",
                "moved",
                "migrated",
            ],
        )
    };
    // "switch (from) Slack to Teams", "switch the output from Slack to Teams", "we moved our
    // support from plain email to Freshdesk".
    let from = pos > 0 && toks.is(pos - 1, "from")
        || pos > 1 && toks.is(pos - 2, "from") && toks.is(pos - 1, "plain");
    let changed_from = p > 0 && verb_before(p - 1) || from && (toks.clause_start(pos)..pos).any(verb_before);
    if changed_from {
        let end = toks.clause_end(pos);
        return all.iter().any(|m| {
            m.pos > pos
                && m.pos < end
                && m.provider != provider
                && (m.pos.saturating_sub(3)..m.pos).any(|k| toks.is_any(k, &["to", "for", "with", "into"]))
        });
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use table::CONST_NAMES;

    #[test]
    fn aliases_are_grouped_by_first_byte_in_catalog_order() {
        let all: Vec<(&[&str], Provider)> = Provider::all()
            .iter()
            .flat_map(|&p| p.tool().aliases.iter().chain(p.tool().exact).map(move |a| (*a, p)))
            .collect();
        for b in 0..=255u8 {
            let group: Vec<(&[&str], Provider)> =
                aliases_starting(b).iter().map(|a| (a.words, a.provider)).collect();
            let expected: Vec<(&[&str], Provider)> =
                all.iter().copied().filter(|(w, _)| w[0].as_bytes()[0] == b).collect();
            assert_eq!(group, expected, "aliases starting with {:?}", char::from(b));
        }
    }

    #[test]
    fn a_letter_typed_twice_is_still_the_name() {
        let found =
            |s: &str| resolve(&mentions(&Toks::new(s))).into_iter().map(|(p, _)| p).collect::<Vec<_>>();
        assert_eq!(found("new row in excell 'Expenses'"), [Provider::EXCEL]);
        assert_eq!(found("tweeet it"), [Provider::TWITTER]);
        assert!(doubled("slackk", "slack") && !doubled("slacks", "slack") && !doubled("excel", "excel"));
        // A mailing tool's list is its own, not mail it sends; "issued" is not "issues".
        assert_eq!(found("add them to mailchimp list Newsletter"), [Provider::MAILCHIMP]);
        assert_eq!(found("stripe refund issued"), [Provider::STRIPE]);
    }

    #[test]
    fn nouns_are_indexed_and_none_has_two_usual_tools() {
        let mut words: Vec<&str> =
            TOOLS.iter().flat_map(|t| t.things.iter().flat_map(|g| g.iter().copied())).collect();
        words.sort_unstable();
        words.dedup();
        for w in words {
            let found = things(w).expect("a listed noun is found");
            let holders: Vec<Provider> = Provider::all()
                .iter()
                .copied()
                .filter(|p| p.tool().things.iter().any(|g| g.contains(&w)))
                .collect();
            assert!(holders.iter().all(|p| found.tools.contains(*p)), "{w}: {holders:?}");
            let usual: Vec<Provider> = Provider::all()
                .iter()
                .copied()
                .filter(|p| p.tool().usual_for.iter().any(|g| g.contains(&w)))
                .collect();
            assert!(usual.len() <= 1, "{w:?} has more than one usual tool: {usual:?}");
            assert_eq!(found.usual, usual.first().copied(), "{w}");
        }
        assert_eq!(things("zebra"), None);
    }

    /// The events whose ids predate the `thing.verb` form (stored agents and labels use them).
    const SINGLE_WORD_EVENTS: &[&str] = &["mention", "push"];

    /// OAuth tools that ask for no scope, and why.
    const UNSCOPED: &[(&str, &str)] = &[
        ("notion", "Notion grants capabilities per integration when it is connected, not by OAuth scope"),
        (
            "intercom",
            "an Intercom app's permissions are chosen once in its Developer Hub; the authorize URL takes none",
        ),
        ("clickup", "ClickUp's OAuth has no scopes: the person picks the workspaces to share"),
        ("mailchimp", "Mailchimp's OAuth grants the account's API access as a whole; it has no scopes"),
    ];

    /// A tool is fully described: a test, so adding one half-way fails here rather than in a
    /// conversation.
    #[test]
    fn every_tool_is_fully_described() {
        let mut ids = std::collections::BTreeSet::new();
        let mut names = std::collections::BTreeMap::new();
        assert_eq!(CONST_NAMES.len(), TOOLS.len());
        for (t, konst) in TOOLS.iter().zip(CONST_NAMES) {
            let id = t.id;
            assert!(ids.insert(id), "duplicate id {id}");
            assert!(konst.eq_ignore_ascii_case(id), "Provider::{konst} should be named after {id}");
            assert!(
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "id {id:?} is snake_case"
            );
            assert!(!t.name.is_empty(), "{id} has a display name");
            assert!(!t.aliases.is_empty() || !t.exact.is_empty(), "{id} has no alias");
            for a in t.aliases.iter().chain(t.exact) {
                assert!(a.iter().all(|w| !w.is_empty() && *w == w.to_lowercase()), "{id}: alias {a:?}");
                if let Some(other) = names.insert(a.to_vec(), id) {
                    panic!("alias {a:?} is both {other}'s and {id}'s");
                }
            }
            assert!(!t.events.is_empty(), "{id} has no event");
            assert!(t.events[0].cues.is_empty(), "{id}: the default event needs no cue");
            let mut seen = std::collections::BTreeSet::new();
            for e in t.events {
                assert!(seen.insert(e.id), "{id}: event {} twice", e.id);
                let well_formed = e.id.split_once('.').is_some_and(|(thing, verb)| {
                    [thing, verb]
                        .iter()
                        .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
                });
                assert!(
                    well_formed || SINGLE_WORD_EVENTS.contains(&e.id),
                    "{id}: event {:?} is not thing.verb",
                    e.id
                );
            }
            for e in &t.events[1..] {
                assert!(
                    !e.cues.is_empty() && e.cues.iter().all(|g| !g.is_empty()),
                    "{id}: event {} has no cue words, so it could never be chosen",
                    e.id
                );
            }
            for g in t.usual_for {
                assert!(t.things.contains(g), "{id} is usual for {g:?} but does not hold it");
            }
            assert!(!t.read.verb.is_empty() && !t.read.output.is_empty(), "{id} has no read step");
            if let Some(sink) = t.sink {
                assert!(!sink.step.verb.is_empty() && !sink.step.output.is_empty(), "{id}: sink step");
                assert!(crate::extract::ACTIONS.contains(&sink.act), "{id}: sink action {:?}", sink.act);
                if let SinkWhen::Asked(acts) = sink.when {
                    assert!(acts.iter().all(|a| crate::extract::ACTIONS.contains(a)), "{id}: {acts:?}");
                }
            }
            for verb in std::iter::once(t.read.verb).chain(t.sink.map(|s| s.step.verb)) {
                assert!(verb.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{id}: verb {verb:?}");
            }
            match t.auth {
                Auth::Scopes(s) => assert!(!s.is_empty() && s.iter().all(|s| !s.is_empty()), "{id}: scopes"),
                Auth::Unscoped => {
                    assert!(UNSCOPED.iter().any(|(u, _)| *u == id), "{id}: say why it needs no scope")
                }
                Auth::NoAccount | Auth::ApiKey => {}
            }
            assert!(t.hosts.iter().all(|h| !h.is_empty()), "{id}: empty host");
        }
    }

    #[test]
    fn binary_form_is_the_old_enum_index() {
        for (k, p) in Provider::all().iter().enumerate() {
            let bytes = postcard::to_allocvec(p).expect("serialises");
            let index = u32::try_from(k).expect("small");
            assert_eq!(bytes, postcard::to_allocvec(&index).expect("serialises"), "{p:?}");
            assert_eq!(postcard::from_bytes::<Provider>(&bytes).expect("reads"), *p);
        }
        let count = u32::try_from(Provider::all().len()).expect("small");
        let bad = postcard::to_allocvec(&count).expect("serialises");
        let err = postcard::from_bytes::<Provider>(&bad).expect_err("out of range");
        assert!(!err.to_string().is_empty());
        let err = serde_json::from_str::<Provider>("\"zulip\"").expect_err("unknown id");
        assert!(err.to_string().contains("zulip"), "{err}");
        // postcard's errors carry no message; the visitor's names the index.
        let err =
            ProviderVisitor.visit_u64::<serde::de::value::Error>(u64::from(count)).expect_err("out of range");
        assert!(err.to_string().contains(&count.to_string()), "{err}");
        assert_eq!(
            serde_json::from_str::<Provider>("\"google_calendar\"").expect("reads"),
            Provider::GOOGLE_CALENDAR
        );
    }

    /// One sentence per tool added with the catalog and one per event: the tool is found, and
    /// the event (when the sentence has one) is the one named.
    #[test]
    fn every_new_tool_and_event_in_a_sentence() {
        use crate::extract::{Trigger, extract};
        let cases: &[(&str, Provider, Option<&str>)] = &[
            ("when an issue is opened in GitLab, post it to #dev", Provider::GITLAB, Some("issue.opened")),
            (
                "when a GitLab merge request is merged, tell #releases",
                Provider::GITLAB,
                Some("merge_request.merged"),
            ),
            (
                "whenever someone opens an MR on gitlab ping me on slack",
                Provider::GITLAB,
                Some("merge_request.opened"),
            ),
            ("on every push to our GitLab repo, post to #ci", Provider::GITLAB, Some("push")),
            ("when the GitLab pipeline fails, page the on-call", Provider::GITLAB, Some("pipeline.failed")),
            ("when a gitlab issue is closed, add a row to the sheet", Provider::GITLAB, Some("issue.closed")),
            (
                "whenever a pull request is opened in Bitbucket, post it to #review",
                Provider::BITBUCKET,
                Some("pull_request.opened"),
            ),
            (
                "when a Bitbucket PR is merged, email the team",
                Provider::BITBUCKET,
                Some("pull_request.merged"),
            ),
            ("on every push to bitbucket, post in #builds", Provider::BITBUCKET, Some("push")),
            (
                "whenever a Bitbucket pipeline fails, message #ops",
                Provider::BITBUCKET,
                Some("pipeline.failed"),
            ),
            (
                "whenever a new Zendesk ticket comes in, post it to #support",
                Provider::ZENDESK,
                Some("ticket.created"),
            ),
            (
                "when a zendesk ticket is solved, email the customer a survey",
                Provider::ZENDESK,
                Some("ticket.solved"),
            ),
            (
                "whenever a Zendesk ticket is updated, tell #support",
                Provider::ZENDESK,
                Some("ticket.updated"),
            ),
            (
                "whenever a new Intercom conversation starts, post it to #sales",
                Provider::INTERCOM,
                Some("conversation.created"),
            ),
            (
                "when a customer replies to an Intercom conversation, ping me",
                Provider::INTERCOM,
                Some("conversation.replied"),
            ),
            (
                "whenever a new contact is created in Intercom, add them to HubSpot",
                Provider::INTERCOM,
                Some("contact.created"),
            ),
            (
                "whenever a new Freshdesk ticket arrives, post it in #help",
                Provider::FRESHDESK,
                Some("ticket.created"),
            ),
            (
                "when a Freshdesk ticket is resolved, log it in a spreadsheet",
                Provider::FRESHDESK,
                Some("ticket.solved"),
            ),
            (
                "when a freshdesk ticket is updated, tell me on Teams",
                Provider::FRESHDESK,
                Some("ticket.updated"),
            ),
            (
                "whenever a Stripe payment succeeds, post it to #sales",
                Provider::STRIPE,
                Some("payment.succeeded"),
            ),
            ("when a Stripe payment fails, email me", Provider::STRIPE, Some("payment.failed")),
            ("when a Stripe invoice is paid, add a row to the sheet", Provider::STRIPE, Some("invoice.paid")),
            (
                "when a stripe invoice payment fails, ping #billing",
                Provider::STRIPE,
                Some("invoice.payment_failed"),
            ),
            (
                "whenever a new Stripe subscription is created, tell #growth",
                Provider::STRIPE,
                Some("subscription.created"),
            ),
            (
                "when someone cancels their Stripe subscription, email me",
                Provider::STRIPE,
                Some("subscription.cancelled"),
            ),
            (
                "whenever a charge is refunded in Stripe, post to #finance",
                Provider::STRIPE,
                Some("charge.refunded"),
            ),
            (
                "whenever a new customer is created in Stripe, add them to Mailchimp",
                Provider::STRIPE,
                Some("customer.created"),
            ),
            (
                "whenever I receive a PayPal payment, log it in Google Sheets",
                Provider::PAYPAL,
                Some("payment.received"),
            ),
            ("when a PayPal payment is refunded, email me", Provider::PAYPAL, Some("payment.refunded")),
            (
                "whenever a new Shopify order comes in, post it to #orders",
                Provider::SHOPIFY,
                Some("order.created"),
            ),
            ("when a Shopify order is paid, text me", Provider::SHOPIFY, Some("order.paid")),
            (
                "when a shopify order is fulfilled, email the customer",
                Provider::SHOPIFY,
                Some("order.fulfilled"),
            ),
            (
                "whenever a customer signs up on Shopify, add them to Mailchimp",
                Provider::SHOPIFY,
                Some("customer.created"),
            ),
            (
                "when a Shopify product is low on stock, ping #ops",
                Provider::SHOPIFY,
                Some("product.low_stock"),
            ),
            (
                "whenever a WooCommerce order is placed, post it in #shop",
                Provider::WOOCOMMERCE,
                Some("order.created"),
            ),
            (
                "when a WooCommerce order is completed, email the customer",
                Provider::WOOCOMMERCE,
                Some("order.completed"),
            ),
            (
                "whenever someone submits our Typeform, add a row to Airtable",
                Provider::TYPEFORM,
                Some("response.submitted"),
            ),
            (
                "when a Google Forms response comes in, post it to #hr",
                Provider::GOOGLE_FORMS,
                Some("response.submitted"),
            ),
            (
                "whenever someone books a call on Calendly, add them to HubSpot",
                Provider::CALENDLY,
                Some("invitee.created"),
            ),
            ("when a Calendly booking is cancelled, email me", Provider::CALENDLY, Some("invitee.cancelled")),
            (
                "when a Zoom meeting ends, email the attendees the notes",
                Provider::ZOOM,
                Some("meeting.ended"),
            ),
            (
                "when a Zoom meeting starts, mute my Slack notifications",
                Provider::ZOOM,
                Some("meeting.started"),
            ),
            (
                "when a Zoom recording is ready, save it to Google Drive",
                Provider::ZOOM,
                Some("recording.completed"),
            ),
            (
                "whenever a new item is added to our Monday.com board, post it to #ops",
                Provider::MONDAY,
                Some("item.created"),
            ),
            (
                "when the status changes on our monday board, tell #pm",
                Provider::MONDAY,
                Some("status.changed"),
            ),
            ("when an item is updated in Monday.com, email me", Provider::MONDAY, Some("item.updated")),
            (
                "whenever a new ClickUp task is created, post it to #team",
                Provider::CLICKUP,
                Some("task.created"),
            ),
            ("when a ClickUp task is completed, tell #team", Provider::CLICKUP, Some("task.completed")),
            ("when a ClickUp task is updated, email me", Provider::CLICKUP, Some("task.updated")),
            ("whenever I add a task in Todoist, copy it to Notion", Provider::TODOIST, Some("task.created")),
            ("when I complete a Todoist task, log it in a sheet", Provider::TODOIST, Some("task.completed")),
            (
                "whenever someone subscribes to our Mailchimp list, post it to #growth",
                Provider::MAILCHIMP,
                Some("subscriber.added"),
            ),
            (
                "when someone unsubscribes from Mailchimp, tell #marketing",
                Provider::MAILCHIMP,
                Some("subscriber.unsubscribed"),
            ),
            (
                "when a Mailchimp campaign is sent, post the stats to #marketing",
                Provider::MAILCHIMP,
                Some("campaign.sent"),
            ),
            (
                "whenever someone mentions us on Twitter, post it to #social",
                Provider::TWITTER,
                Some("mention"),
            ),
            ("whenever I tweet, share it on LinkedIn", Provider::TWITTER, Some("post.created")),
            ("post our blog summary on X (Twitter) every Monday at 9", Provider::TWITTER, None),
            (
                "whenever we publish a LinkedIn post, share it in #marketing",
                Provider::LINKEDIN,
                Some("post.created"),
            ),
            (
                "when someone comments on my LinkedIn post, email me",
                Provider::LINKEDIN,
                Some("comment.added"),
            ),
            (
                "whenever a message is posted in our Telegram group, forward it to Slack",
                Provider::TELEGRAM,
                Some("message.posted"),
            ),
            (
                "whenever I get a WhatsApp message from a client, add it to Trello",
                Provider::WHATSAPP,
                Some("message.received"),
            ),
            (
                "whenever I get an SMS on our Twilio number, post it to #support",
                Provider::TWILIO,
                Some("sms.received"),
            ),
            (
                "whenever a file is added to my OneDrive, copy it to Dropbox",
                Provider::ONEDRIVE,
                Some("file.added"),
            ),
            ("when a OneDrive file is updated, email me", Provider::ONEDRIVE, Some("file.updated")),
            (
                "whenever a file is uploaded to our Box folder, post it to #legal",
                Provider::BOX,
                Some("file.added"),
            ),
            ("when a file in Box is updated, tell #legal", Provider::BOX, Some("file.updated")),
            (
                "whenever a new Google Doc is created, post the link to #docs",
                Provider::GOOGLE_DOCS,
                Some("document.created"),
            ),
            ("when the Google Doc is edited, email me", Provider::GOOGLE_DOCS, Some("document.updated")),
            (
                "whenever a row is added to my Excel sheet, post it to Teams",
                Provider::EXCEL,
                Some("row.added"),
            ),
            ("when a row is updated in Excel, email me", Provider::EXCEL, Some("row.updated")),
            (
                "whenever a Confluence page is created, post it to #docs",
                Provider::CONFLUENCE,
                Some("page.created"),
            ),
            ("when a Confluence page is updated, tell #eng", Provider::CONFLUENCE, Some("page.updated")),
            (
                "whenever a new deal is created in Pipedrive, post it to #sales",
                Provider::PIPEDRIVE,
                Some("deal.created"),
            ),
            ("when a Pipedrive deal is won, ring the bell in #sales", Provider::PIPEDRIVE, Some("deal.won")),
            (
                "when a new person is added in Pipedrive, add them to Mailchimp",
                Provider::PIPEDRIVE,
                Some("person.created"),
            ),
            (
                "whenever a QuickBooks invoice is created, email it to the client",
                Provider::QUICKBOOKS,
                Some("invoice.created"),
            ),
            (
                "when a payment is received in QuickBooks, post it to #finance",
                Provider::QUICKBOOKS,
                Some("payment.received"),
            ),
            (
                "when a new bill is created in QuickBooks, tell #finance",
                Provider::QUICKBOOKS,
                Some("bill.created"),
            ),
            (
                "whenever a Xero invoice is created, log it in Airtable",
                Provider::XERO,
                Some("invoice.created"),
            ),
            ("when a payment is received in Xero, email me", Provider::XERO, Some("payment.received")),
            (
                "whenever a new item is published on https://blog.example.com/feed.xml, post it to #news",
                Provider::RSS,
                Some("item.published"),
            ),
            ("summarise the RSS feed every morning at 8 and email it to me", Provider::RSS, None),
            ("whenever a weather alert is issued, tell #warehouse", Provider::WEATHER, Some("alert.issued")),
            ("send me the weather forecast every morning at 7", Provider::WEATHER, None),
            (
                "whenever a new Sentry issue is created, open a Linear ticket",
                Provider::SENTRY,
                Some("issue.created"),
            ),
            ("when a Sentry issue regresses again, page me", Provider::SENTRY, Some("issue.regressed")),
            (
                "whenever a PagerDuty incident is triggered, post to #incidents",
                Provider::PAGERDUTY,
                Some("incident.triggered"),
            ),
            (
                "when a PagerDuty incident is resolved, tell #incidents",
                Provider::PAGERDUTY,
                Some("incident.resolved"),
            ),
            (
                "whenever we publish an Instagram post, share it on Facebook",
                Provider::INSTAGRAM,
                Some("post.created"),
            ),
            ("when someone comments on our Instagram, email me", Provider::INSTAGRAM, Some("comment.added")),
            ("whenever we post on Facebook, share it on LinkedIn", Provider::FACEBOOK, Some("post.created")),
            (
                "whenever a new Facebook lead comes in, add it to HubSpot",
                Provider::FACEBOOK,
                Some("lead.created"),
            ),
            (
                "when someone comments on our Facebook page, tell #social",
                Provider::FACEBOOK,
                Some("comment.added"),
            ),
            (
                "whenever a new YouTube video is published on the channel, post it to #videos",
                Provider::YOUTUBE,
                Some("video.published"),
            ),
            (
                "when someone comments on our YouTube video, email me",
                Provider::YOUTUBE,
                Some("comment.added"),
            ),
        ];
        let mut failed = Vec::new();
        for (text, tool, event) in cases {
            let ex = extract(text);
            let got = match &ex.trigger {
                Some(Trigger::Event { provider, event }) => Some((*provider, event.as_str())),
                _ => None,
            };
            let want = event.map(|e| (*tool, e));
            if !ex.integrations.contains(tool) || (event.is_some() && got != want) {
                failed.push(format!("{text:?}: {:?} {got:?}, want {tool:?} {want:?}", ex.integrations));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
        let covered: std::collections::BTreeSet<(Provider, &str)> =
            cases.iter().filter_map(|(_, p, e)| e.map(|e| (*p, e))).collect();
        for p in &Provider::all()[usize::from(Provider::GITLAB.0)..] {
            assert!(cases.iter().any(|(_, t, _)| t == p), "{p:?} has no sentence");
            for e in p.tool().events {
                assert!(covered.contains(&(*p, e.id)), "{p:?} {} has no sentence", e.id);
            }
        }
    }

    #[test]
    fn words_that_are_also_tools() {
        assert_eq!(found("post it to our Monday.com board"), [Provider::MONDAY]);
        assert_eq!(found("add an item to my monday board"), [Provider::MONDAY]);
        assert_eq!(found("every Monday post to slack"), [Provider::SLACK]);
        assert_eq!(found("save the attachments to Box"), [Provider::BOX]);
        assert_eq!(found("upload it to my Box account"), [Provider::BOX]);
        assert_eq!(found("check the box and tick it"), []);
        assert_eq!(found("Box the leftovers"), []);
        assert_eq!(found("after each Zoom call, email the notes"), [Provider::ZOOM, Provider::GMAIL]);
        assert_eq!(found("zoom in on the chart"), []);
        assert_eq!(found("post it on X every morning"), [Provider::TWITTER]);
        assert_eq!(found("share it to X (Twitter)"), [Provider::TWITTER]);
        assert_eq!(found("tweet the headline"), [Provider::TWITTER]);
        assert_eq!(found("repeat step X twice"), []);
        assert_eq!(found("export it to Excel"), [Provider::EXCEL]);
        assert_eq!(found("export it to an Excel spreadsheet"), [Provider::EXCEL]);
        assert_eq!(found("export it to a spreadsheet"), [Provider::GOOGLE_SHEETS]);
        assert_eq!(found("send me the weather every morning"), [Provider::WEATHER]);
        assert_eq!(found("what's the weather like in London?"), []);
        assert_eq!(found("text me when it is done"), [Provider::TWILIO]);
        assert_eq!(found("copy the text of the email"), [Provider::GMAIL]);
        assert_eq!(found("GitLab merge requests"), [Provider::GITLAB]);
        assert_eq!(found("new issues on gitlab"), [Provider::GITLAB]);
        assert_eq!(found("strip the signature"), []);
        assert_eq!(found("I have no confidence in the conference"), []);
        assert_eq!(found("unread emails from Stripe"), [Provider::GMAIL]);
        assert_eq!(
            found("Stripe payouts from my inbox into a sheet"),
            [Provider::GMAIL, Provider::GOOGLE_SHEETS]
        );
        assert_eq!(found("what app should I use"), []);
    }

    #[test]
    fn removals_are_reported() {
        use crate::extract::extract;
        let removed = |s: &str| extract(s).removed;
        assert_eq!(removed("leave out the Teams bit"), [Provider::MICROSOFT_TEAMS]);
        assert_eq!(removed("drop the mail part, Teams only"), [Provider::GMAIL]);
        assert_eq!(removed("no need for Slack"), [Provider::SLACK]);
        assert_eq!(removed("get rid of jira"), [Provider::JIRA]);
        assert_eq!(removed("do it without Notion"), [Provider::NOTION]);
        assert_eq!(removed("remove the sheet"), [Provider::GOOGLE_SHEETS]);
        assert_eq!(removed("skip Discord"), [Provider::DISCORD]);
        let ex = extract("not Slack, Teams");
        assert_eq!((ex.removed, ex.integrations), (vec![Provider::SLACK], vec![Provider::MICROSOFT_TEAMS]));
        let ex = extract("post it to Slack and Teams. Actually Teams only");
        assert_eq!((ex.removed, ex.integrations), (vec![Provider::SLACK], vec![Provider::MICROSOFT_TEAMS]));
        let ex = extract("post new PRs to Slack... actually we moved to Teams, post them there");
        assert_eq!(ex.removed, [Provider::SLACK]);
        assert!(!ex.integrations.contains(&Provider::SLACK));
        assert_eq!(removed("post my inbox to Slack every morning"), []);
        assert_eq!(removed("only Stripe payments over $500 go to #sales"), []);
    }

    #[test]
    fn unknown_tools_are_kept_and_their_events_come_by_webhook() {
        use crate::extract::{Trigger, extract};
        let ex = extract("post the new Sentry issues in our Zulip stream #ops");
        assert_eq!(ex.unknown_tools, ["Zulip"]);
        assert_eq!(ex.integrations, [Provider::SENTRY], "a Zulip stream is not a Slack channel");
        let ex = extract("when a Webflow form is submitted, add the person to HubSpot");
        assert_eq!(ex.unknown_tools, ["Webflow"]);
        let webhook = Some(Trigger::Event { provider: Provider::WEBHOOK, event: "request.received".into() });
        assert_eq!(ex.trigger, webhook);
        assert_eq!(extract("When a Jenkins build fails send me an email").trigger, webhook);
        let ex = extract("When someone shares a Loom video in #demos, save it to Notion");
        assert_eq!(ex.unknown_tools, ["Loom"]);
        assert_eq!(
            ex.trigger,
            Some(Trigger::Event { provider: Provider::SLACK, event: "message.posted".into() })
        );
        assert!(extract("email Sarah the Lisbon numbers from Acme's invoices").unknown_tools.is_empty());
    }

    #[test]
    fn hosts_match_at_a_boundary_and_the_longest_wins() {
        assert_eq!(host_provider("https://docs.google.com/spreadsheets/d/x"), Some(Provider::GOOGLE_SHEETS));
        assert_eq!(host_provider("https://docs.google.com/a"), Some(Provider::GOOGLE_DRIVE));
        assert_eq!(host_provider("https://acme.my.salesforce.com/x"), Some(Provider::SALESFORCE));
        assert_eq!(host_provider("https://notslack.com/x"), None);
        assert_eq!(host_provider("https://example.com"), None);
        assert_eq!(host_provider("https://www.dropbox.com/s/x"), Some(Provider::DROPBOX));
        assert_eq!(host_provider("https://app.box.com/folder/1"), Some(Provider::BOX));
        assert_eq!(host_provider("https://x.com/kiln"), Some(Provider::TWITTER));
        assert_eq!(host_provider("https://docs.google.com/forms/d/e/x"), Some(Provider::GOOGLE_FORMS));
        assert_eq!(host_provider("https://docs.google.com/document/d/x"), Some(Provider::GOOGLE_DOCS));
        assert_eq!(host_provider("https://acme.atlassian.net/wiki/spaces/X"), Some(Provider::CONFLUENCE));
        assert_eq!(host_provider("https://blog.example.com/feed.xml"), Some(Provider::RSS));
        assert_eq!(host_provider("https://feedback.example.com/form"), None);
    }

    #[test]
    fn events_follow_their_cues() {
        assert_eq!(event_name(Provider::GITHUB, &["when", "a", "pr", "is", "merged"]), "pull_request.merged");
        assert_eq!(event_name(Provider::GITHUB, &["new", "issue"]), "issue.opened");
        assert_eq!(event_name(Provider::HUBSPOT, &["a", "deal", "is", "won"]), "deal.won");
        assert_eq!(event_name(Provider::HUBSPOT, &["a", "deal"]), "deal.created");
        assert_eq!(event_name(Provider::SLACK, &["someone", "reacted"]), "reaction.added");
    }

    fn found(s: &str) -> Vec<Provider> {
        resolve(&mentions(&Toks::new(s))).into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn ids_round_trip_and_match_serde() {
        for p in Provider::all() {
            assert_eq!(Provider::from_id(p.id()), Some(*p));
            let json = serde_json::to_string(p).expect("provider serialises");
            assert_eq!(json, format!("\"{}\"", p.id()));
            assert!(!p.display_name().is_empty());
            assert_eq!(p.needs_oauth(), !matches!(p.tool().auth, Auth::NoAccount | Auth::ApiKey));
        }
        assert_eq!(Provider::from_id("nope"), None);
        assert_eq!(Provider::GOOGLE_CALENDAR.display_name(), "Google Calendar");
        assert_eq!(
            Provider::GMAIL.default_scopes(),
            ["https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/gmail.send"]
        );
        assert_eq!(Provider::SLACK.default_scopes(), ["chat:write", "channels:read"]);
    }

    #[test]
    fn explicit_names_and_typos() {
        assert_eq!(found("summarise my gmial and post to slak"), [Provider::GMAIL, Provider::SLACK]);
        assert_eq!(found("githb to notoin"), [Provider::GITHUB, Provider::NOTION]);
        assert_eq!(
            found("google calender and google sheets"),
            [Provider::GOOGLE_CALENDAR, Provider::GOOGLE_SHEETS]
        );
        assert_eq!(found("hubspto salesfroce"), [Provider::HUBSPOT, Provider::SALESFORCE]);
        assert_eq!(found("a stack of black snacks"), []);
    }

    #[test]
    fn generic_words() {
        assert_eq!(found("summarise my inbox"), [Provider::GMAIL]);
        assert_eq!(found("my outlook inbox and calendar"), [Provider::OUTLOOK]);
        assert_eq!(found("log it in a spreadsheet"), [Provider::GOOGLE_SHEETS]);
        assert_eq!(found("new PRs and issues"), [Provider::GITHUB]);
        assert_eq!(found("jira issues"), [Provider::JIRA]);
        assert_eq!(found("the airtable content calendar"), [Provider::AIRTABLE]);
        assert_eq!(found("backup to drive"), [Provider::GOOGLE_DRIVE]);
        assert_eq!(found("I want to drive more sales"), []);
    }

    #[test]
    fn teams_only_as_the_product() {
        assert_eq!(found("post it in teams"), [Provider::MICROSOFT_TEAMS]);
        assert_eq!(found("send it to me on Teams"), [Provider::MICROSOFT_TEAMS]);
        assert_eq!(found("notify all teams that are late"), []);
        assert_eq!(found("Teams channel standup"), [Provider::MICROSOFT_TEAMS]);
    }

    #[test]
    fn negations() {
        assert_eq!(found("actually use Outlook instead of Gmail"), [Provider::OUTLOOK]);
        assert_eq!(found("switch slack to teams"), [Provider::MICROSOFT_TEAMS]);
        assert_eq!(found("not slack, discord"), [Provider::DISCORD]);
    }

    #[test]
    fn urls() {
        assert_eq!(found("ping https://hooks.acme.dev/x every minute"), [Provider::WEBHOOK]);
        assert_eq!(found("read https://github.com/a/b"), [Provider::GITHUB]);
        assert_eq!(found("summarise the article at https://blog.example.com/x"), []);
    }
}
