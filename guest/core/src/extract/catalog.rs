//! The integrations Kiln knows ([`Provider`]) and how they are recognised in text.
//!
//! A provider is named explicitly ("Gmail", "google calendar", typos within one edit such
//! as "gmial", "slak", "githb") or implied by a generic word: "email"/"inbox"/"mail" mean
//! Gmail unless Outlook is named; "calendar" and "my meetings" mean Google Calendar unless
//! Outlook is named; "sheet"/"spreadsheet" mean Google Sheets; "my drive" means Google Drive;
//! "issues"/"PRs"/"pull requests"/"repo"/"commits" mean GitHub (issues only when no other
//! issue tracker is named); "Teams" means Microsoft Teams when it reads as the product ("in
//! Teams", "MS Teams", capitalised mid-sentence); URLs of known services mean that service
//! and other URLs next to a sending verb mean a webhook. Mentions after "instead of", "not",
//! "rather than", "switch X to Y" are dropped.

use serde::{Deserialize, Serialize};

use super::token::{Kind, Toks, fuzzy_eq};

/// An integration Kiln knows how to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Provider {
    /// Google's mail service.
    #[serde(rename = "gmail")]
    Gmail,
    /// Slack workspaces and channels.
    #[serde(rename = "slack")]
    Slack,
    /// Google Calendar.
    #[serde(rename = "google_calendar")]
    GoogleCalendar,
    /// GitHub repositories, issues and pull requests.
    #[serde(rename = "github")]
    GitHub,
    /// Notion pages and databases.
    #[serde(rename = "notion")]
    Notion,
    /// Google Sheets spreadsheets.
    #[serde(rename = "google_sheets")]
    GoogleSheets,
    /// Google Drive files (and Google Docs).
    #[serde(rename = "google_drive")]
    GoogleDrive,
    /// Microsoft Outlook mail and calendar.
    #[serde(rename = "outlook")]
    Outlook,
    /// Microsoft Teams channels and chats.
    #[serde(rename = "microsoft_teams")]
    MicrosoftTeams,
    /// Atlassian Jira issues.
    #[serde(rename = "jira")]
    Jira,
    /// Trello boards and cards.
    #[serde(rename = "trello")]
    Trello,
    /// Discord servers and channels.
    #[serde(rename = "discord")]
    Discord,
    /// HubSpot CRM.
    #[serde(rename = "hubspot")]
    HubSpot,
    /// Salesforce CRM.
    #[serde(rename = "salesforce")]
    Salesforce,
    /// Dropbox files.
    #[serde(rename = "dropbox")]
    Dropbox,
    /// Airtable bases.
    #[serde(rename = "airtable")]
    Airtable,
    /// Linear issues.
    #[serde(rename = "linear")]
    Linear,
    /// Asana tasks and projects.
    #[serde(rename = "asana")]
    Asana,
    /// A plain HTTP endpoint (incoming or outgoing); needs no account.
    #[serde(rename = "webhook")]
    Webhook,
}

impl Provider {
    const ALL: [Provider; 19] = [
        Provider::Gmail,
        Provider::Slack,
        Provider::GoogleCalendar,
        Provider::GitHub,
        Provider::Notion,
        Provider::GoogleSheets,
        Provider::GoogleDrive,
        Provider::Outlook,
        Provider::MicrosoftTeams,
        Provider::Jira,
        Provider::Trello,
        Provider::Discord,
        Provider::HubSpot,
        Provider::Salesforce,
        Provider::Dropbox,
        Provider::Airtable,
        Provider::Linear,
        Provider::Asana,
        Provider::Webhook,
    ];

    /// Every provider, in declaration order.
    pub fn all() -> &'static [Provider] {
        &Self::ALL
    }

    /// The stable snake_case id (`"gmail"`, `"google_calendar"`, ...), the same as serde's.
    pub fn id(self) -> &'static str {
        match self {
            Provider::Gmail => "gmail",
            Provider::Slack => "slack",
            Provider::GoogleCalendar => "google_calendar",
            Provider::GitHub => "github",
            Provider::Notion => "notion",
            Provider::GoogleSheets => "google_sheets",
            Provider::GoogleDrive => "google_drive",
            Provider::Outlook => "outlook",
            Provider::MicrosoftTeams => "microsoft_teams",
            Provider::Jira => "jira",
            Provider::Trello => "trello",
            Provider::Discord => "discord",
            Provider::HubSpot => "hubspot",
            Provider::Salesforce => "salesforce",
            Provider::Dropbox => "dropbox",
            Provider::Airtable => "airtable",
            Provider::Linear => "linear",
            Provider::Asana => "asana",
            Provider::Webhook => "webhook",
        }
    }

    /// The provider with this id, if any.
    pub fn from_id(id: &str) -> Option<Provider> {
        Self::ALL.into_iter().find(|p| p.id() == id)
    }

    /// The name people know it by (`"Google Calendar"`).
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Gmail => "Gmail",
            Provider::Slack => "Slack",
            Provider::GoogleCalendar => "Google Calendar",
            Provider::GitHub => "GitHub",
            Provider::Notion => "Notion",
            Provider::GoogleSheets => "Google Sheets",
            Provider::GoogleDrive => "Google Drive",
            Provider::Outlook => "Outlook",
            Provider::MicrosoftTeams => "Microsoft Teams",
            Provider::Jira => "Jira",
            Provider::Trello => "Trello",
            Provider::Discord => "Discord",
            Provider::HubSpot => "HubSpot",
            Provider::Salesforce => "Salesforce",
            Provider::Dropbox => "Dropbox",
            Provider::Airtable => "Airtable",
            Provider::Linear => "Linear",
            Provider::Asana => "Asana",
            Provider::Webhook => "Webhook",
        }
    }

    /// Connecting it needs an OAuth consent (every provider except [`Provider::Webhook`]).
    pub fn needs_oauth(self) -> bool {
        self != Provider::Webhook
    }

    /// The OAuth scopes Kiln asks for by default: enough to read the source and post the
    /// usual outputs. Notion grants capabilities per integration rather than by scope, and a
    /// webhook needs none, so both are empty.
    pub fn default_scopes(self) -> &'static [&'static str] {
        match self {
            Provider::Gmail => &["https://www.googleapis.com/auth/gmail.readonly"],
            Provider::Slack => &["chat:write", "channels:read"],
            Provider::GoogleCalendar => &["https://www.googleapis.com/auth/calendar.events"],
            Provider::GitHub => &["repo", "read:user"],
            Provider::Notion => &[],
            Provider::GoogleSheets => &["https://www.googleapis.com/auth/spreadsheets"],
            Provider::GoogleDrive => &["https://www.googleapis.com/auth/drive.file"],
            Provider::Outlook => &["offline_access", "Mail.Read", "Mail.Send"],
            Provider::MicrosoftTeams => &["offline_access", "ChannelMessage.Send", "Channel.ReadBasic.All"],
            Provider::Jira => &["read:jira-work", "write:jira-work", "offline_access"],
            Provider::Trello => &["read", "write"],
            Provider::Discord => &["identify", "bot"],
            Provider::HubSpot => {
                &["crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.deals.read"]
            }
            Provider::Salesforce => &["api", "refresh_token"],
            Provider::Dropbox => &["files.content.read", "files.content.write"],
            Provider::Airtable => &["data.records:read", "data.records:write", "schema.bases:read"],
            Provider::Linear => &["read", "write"],
            Provider::Asana => &["default"],
            Provider::Webhook => &[],
        }
    }

    /// A chat tool with channels.
    pub(crate) fn is_chat(self) -> bool {
        matches!(self, Provider::Slack | Provider::MicrosoftTeams | Provider::Discord)
    }

    /// A mail provider.
    pub(crate) fn is_mail(self) -> bool {
        matches!(self, Provider::Gmail | Provider::Outlook)
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

/// Names that identify a provider outright. Single words of five letters or more also
/// match their typos.
const EXPLICIT: &[(&[&str], Provider)] = &[
    (&["gmail"], Provider::Gmail),
    (&["googlemail"], Provider::Gmail),
    (&["google", "mail"], Provider::Gmail),
    (&["g", "-", "mail"], Provider::Gmail),
    (&["slack"], Provider::Slack),
    (&["google", "calendar"], Provider::GoogleCalendar),
    (&["google", "calender"], Provider::GoogleCalendar),
    (&["google", "cal"], Provider::GoogleCalendar),
    (&["gcal"], Provider::GoogleCalendar),
    (&["github"], Provider::GitHub),
    (&["git", "hub"], Provider::GitHub),
    (&["notion"], Provider::Notion),
    (&["google", "sheets"], Provider::GoogleSheets),
    (&["google", "sheet"], Provider::GoogleSheets),
    (&["google", "spreadsheet"], Provider::GoogleSheets),
    (&["google", "spreadsheets"], Provider::GoogleSheets),
    (&["gsheet"], Provider::GoogleSheets),
    (&["gsheets"], Provider::GoogleSheets),
    (&["google", "drive"], Provider::GoogleDrive),
    (&["google", "docs"], Provider::GoogleDrive),
    (&["google", "doc"], Provider::GoogleDrive),
    (&["gdrive"], Provider::GoogleDrive),
    (&["gdocs"], Provider::GoogleDrive),
    (&["outlook"], Provider::Outlook),
    (&["hotmail"], Provider::Outlook),
    (&["office", "365"], Provider::Outlook),
    (&["office365"], Provider::Outlook),
    (&["o365"], Provider::Outlook),
    (&["microsoft", "365"], Provider::Outlook),
    (&["microsoft", "teams"], Provider::MicrosoftTeams),
    (&["ms", "teams"], Provider::MicrosoftTeams),
    (&["msteams"], Provider::MicrosoftTeams),
    (&["jira"], Provider::Jira),
    (&["jria"], Provider::Jira),
    (&["jirra"], Provider::Jira),
    (&["trello"], Provider::Trello),
    (&["discord"], Provider::Discord),
    (&["hubspot"], Provider::HubSpot),
    (&["hub", "spot"], Provider::HubSpot),
    (&["salesforce"], Provider::Salesforce),
    (&["sales", "force"], Provider::Salesforce),
    (&["sfdc"], Provider::Salesforce),
    (&["dropbox"], Provider::Dropbox),
    (&["drop", "box"], Provider::Dropbox),
    (&["airtable"], Provider::Airtable),
    (&["air", "table"], Provider::Airtable),
    (&["linear"], Provider::Linear),
    (&["asana"], Provider::Asana),
    (&["webhook"], Provider::Webhook),
    (&["webhooks"], Provider::Webhook),
    (&["web", "hook"], Provider::Webhook),
    (&["web", "hooks"], Provider::Webhook),
    (&["endpoint"], Provider::Webhook),
];

/// The aliases grouped by first byte, each group in list order (list order decides ties): the
/// indices into [`EXPLICIT`] of the aliases starting with byte `b` are
/// `EXPLICIT_BY_FIRST.0[EXPLICIT_BY_FIRST.1[b]..EXPLICIT_BY_FIRST.1[b + 1]]`. Built at compile
/// time (a counting sort, which keeps the order), so a word is checked only against the
/// aliases that begin like it.
const EXPLICIT_BY_FIRST: ([u8; EXPLICIT.len()], [u8; 257]) = {
    assert!(EXPLICIT.len() < 256, "indices are bytes");
    let mut starts = [0u8; 257];
    let mut k = 0;
    while k < EXPLICIT.len() {
        starts[EXPLICIT[k].0[0].as_bytes()[0] as usize + 1] += 1;
        k += 1;
    }
    let mut b = 1;
    while b < starts.len() {
        starts[b] += starts[b - 1];
        b += 1;
    }
    let mut order = [0u8; EXPLICIT.len()];
    let mut next = starts;
    k = 0;
    while k < EXPLICIT.len() {
        let b = EXPLICIT[k].0[0].as_bytes()[0] as usize;
        order[next[b] as usize] = k as u8;
        next[b] += 1;
        k += 1;
    }
    (order, starts)
};

/// The indices into [`EXPLICIT`] of the aliases whose first word begins with `b`, in list order.
fn aliases_starting(b: u8) -> &'static [u8] {
    let (order, starts) = &EXPLICIT_BY_FIRST;
    let b = usize::from(b);
    &order[usize::from(starts[b])..usize::from(starts[b + 1])]
}

/// URL host fragments that identify a provider.
const HOSTS: &[(&str, Provider)] = &[
    ("mail.google.", Provider::Gmail),
    ("calendar.google.", Provider::GoogleCalendar),
    ("docs.google.com/spreadsheets", Provider::GoogleSheets),
    ("sheets.google.", Provider::GoogleSheets),
    ("drive.google.", Provider::GoogleDrive),
    ("docs.google.", Provider::GoogleDrive),
    ("slack.com", Provider::Slack),
    ("github.com", Provider::GitHub),
    ("notion.so", Provider::Notion),
    ("notion.site", Provider::Notion),
    ("outlook.", Provider::Outlook),
    ("teams.microsoft.", Provider::MicrosoftTeams),
    ("atlassian.net", Provider::Jira),
    ("trello.com", Provider::Trello),
    ("discord.com", Provider::Discord),
    ("discordapp.com", Provider::Discord),
    ("hubspot.com", Provider::HubSpot),
    ("salesforce.com", Provider::Salesforce),
    ("force.com", Provider::Salesforce),
    ("dropbox.com", Provider::Dropbox),
    ("airtable.com", Provider::Airtable),
    ("linear.app", Provider::Linear),
    ("asana.com", Provider::Asana),
];

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
        if is_teams(toks, i) {
            out.push(Mention { provider: Provider::MicrosoftTeams, pos: i, explicit: true, negated: false });
        }
        i += 1;
    }
    let has = |out: &[Mention], p: Provider| out.iter().any(|m| m.provider == p);
    let outlook = has(&out, Provider::Outlook);
    let tracker = out.iter().any(|m| matches!(m.provider, Provider::Jira | Provider::Linear));
    let mut generic = Vec::new();
    for i in 0..toks.len() {
        if toks.kind(i) != Some(Kind::Word) {
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
            (!outlook).then_some(Provider::Gmail)
        } else if is_calendar_word(toks, i) {
            (!outlook).then_some(Provider::GoogleCalendar)
        } else if is_sheet_word(toks, i) {
            Some(Provider::GoogleSheets)
        } else if is_drive_word(toks, i) {
            Some(Provider::GoogleDrive)
        } else {
            github_word(toks, i, tracker).then_some(Provider::GitHub)
        };
        if let Some(provider) = g {
            generic.push(Mention { provider, pos: i, explicit: false, negated: false });
        }
    }
    out.extend(generic);
    out.sort_by_key(|m| m.pos);
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

fn explicit_at(toks: &Toks, i: usize) -> Option<(Provider, usize)> {
    let w = toks.word(i);
    if w.is_empty() {
        return None;
    }
    let mut best: Option<(Provider, usize)> = None;
    let first = w.as_bytes()[0];
    // Every match (the same word, or a typo, which keeps the first letter: `fuzzy_eq`) starts
    // with the alias's first letter; this runs for every word of every message.
    for &k in aliases_starting(first) {
        let (alias, p) = &EXPLICIT[usize::from(k)];
        let ok = if alias.len() == 1 {
            fuzzy_eq(w, alias[0])
        } else {
            alias.iter().enumerate().all(|(k, a)| {
                let t = toks.text(i + k);
                t == *a || (a.len() >= 5 && fuzzy_eq(t, a))
            })
        };
        if ok && best.is_none_or(|(_, l)| alias.len() > l) {
            best = Some((*p, alias.len()));
        }
    }
    best
}

fn url_provider(toks: &Toks, i: usize) -> Option<Provider> {
    let url = toks.text(i);
    if let Some((_, p)) = HOSTS.iter().find(|(h, _)| url.contains(h)) {
        return Some(*p);
    }
    let from = i.saturating_sub(4);
    let near =
        (from..i).any(|k| toks.is_any(k, URL_VERBS)) || toks.has_any(&["webhook", "webhooks", "endpoint"]);
    near.then_some(Provider::Webhook)
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

fn github_word(toks: &Toks, i: usize, tracker: bool) -> bool {
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

fn negated(toks: &Toks, pos: usize, provider: Provider, all: &[Mention]) -> bool {
    let mut end = pos;
    // Skip up to two fillers.
    for _ in 0..=2 {
        if NEGATORS.iter().any(|n| toks.seq_before(end, n)) {
            return true;
        }
        match end.checked_sub(1) {
            Some(p) if toks.is_any(p, FILLER) => end = p,
            _ => break,
        }
    }
    // "switch (from) Slack to Teams", "change gmail to outlook", "swap X for Y"
    let mut p = pos;
    while p > 0 && toks.is_any(p - 1, &["from", "the", "my", "our"]) {
        p -= 1;
    }
    let verb_before =
        |k: usize| toks.is_any(k, &["switch", "change", "move", "swap", "migrate", "replace", "replacing"]);
    // "switch (from) Slack to Teams", or "switch the output from Slack to Teams".
    let changed_from = p > 0 && verb_before(p - 1)
        || pos > 0 && toks.is(pos - 1, "from") && (toks.clause_start(pos)..pos).any(verb_before);
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

    #[test]
    fn aliases_are_grouped_by_first_byte_in_list_order() {
        for b in 0..=255u8 {
            let group: Vec<usize> = aliases_starting(b).iter().map(|&k| usize::from(k)).collect();
            let expected: Vec<usize> =
                (0..EXPLICIT.len()).filter(|&k| EXPLICIT[k].0[0].as_bytes()[0] == b).collect();
            assert_eq!(group, expected, "aliases starting with {:?}", char::from(b));
        }
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
            assert_eq!(p.needs_oauth(), *p != Provider::Webhook);
        }
        assert_eq!(Provider::from_id("nope"), None);
        assert_eq!(Provider::GoogleCalendar.display_name(), "Google Calendar");
        assert_eq!(Provider::Gmail.default_scopes(), ["https://www.googleapis.com/auth/gmail.readonly"]);
        assert_eq!(Provider::Slack.default_scopes(), ["chat:write", "channels:read"]);
    }

    #[test]
    fn explicit_names_and_typos() {
        assert_eq!(found("summarise my gmial and post to slak"), [Provider::Gmail, Provider::Slack]);
        assert_eq!(found("githb to notoin"), [Provider::GitHub, Provider::Notion]);
        assert_eq!(
            found("google calender and google sheets"),
            [Provider::GoogleCalendar, Provider::GoogleSheets]
        );
        assert_eq!(found("hubspto salesfroce"), [Provider::HubSpot, Provider::Salesforce]);
        assert_eq!(found("a stack of black snacks"), []);
    }

    #[test]
    fn generic_words() {
        assert_eq!(found("summarise my inbox"), [Provider::Gmail]);
        assert_eq!(found("my outlook inbox and calendar"), [Provider::Outlook]);
        assert_eq!(found("log it in a spreadsheet"), [Provider::GoogleSheets]);
        assert_eq!(found("new PRs and issues"), [Provider::GitHub]);
        assert_eq!(found("jira issues"), [Provider::Jira]);
        assert_eq!(found("the airtable content calendar"), [Provider::Airtable]);
        assert_eq!(found("backup to drive"), [Provider::GoogleDrive]);
        assert_eq!(found("I want to drive more sales"), []);
    }

    #[test]
    fn teams_only_as_the_product() {
        assert_eq!(found("post it in teams"), [Provider::MicrosoftTeams]);
        assert_eq!(found("send it to me on Teams"), [Provider::MicrosoftTeams]);
        assert_eq!(found("notify all teams that are late"), []);
        assert_eq!(found("Teams channel standup"), [Provider::MicrosoftTeams]);
    }

    #[test]
    fn negations() {
        assert_eq!(found("actually use Outlook instead of Gmail"), [Provider::Outlook]);
        assert_eq!(found("switch slack to teams"), [Provider::MicrosoftTeams]);
        assert_eq!(found("not slack, discord"), [Provider::Discord]);
    }

    #[test]
    fn urls() {
        assert_eq!(found("ping https://hooks.acme.dev/x every minute"), [Provider::Webhook]);
        assert_eq!(found("read https://github.com/a/b"), [Provider::GitHub]);
        assert_eq!(found("summarise the article at https://blog.example.com/x"), []);
    }
}
