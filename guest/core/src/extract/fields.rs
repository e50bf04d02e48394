//! Smaller fields: the chat channel, the e-mail filter and the e-mail recipients.
//!
//! - Channel: `#name`, "the marketing channel", "channel standup", "channel called ops";
//!   lowercased with a leading `#`. With several, the one a message is posted to wins
//!   ("translate #global ... post them in #global-en" -> `#global-en`); negated ones
//!   ("instead of #general") are skipped.
//! - E-mail filter (only when Gmail or Outlook is among the integrations): Gmail query terms in the order
//!   they are mentioned: `is:unread`, `is:read`, `is:important`, `is:starred`,
//!   `has:attachment`, `from:addr@x.com` / `from:stripe` (a capitalised name),
//!   `label:invoices`, `subject:invoice` / `subject:"weekly report"`, `older_than:7d`,
//!   `newer_than:1d`; operators typed literally (`label:x`) are kept.
//! - Recipients: e-mail addresses that are not senders ("from x@y.com"), not the inbox being
//!   watched ("when a customer emails support@acme.com") and not negated.

use super::catalog::Provider;
use super::places::Role;
use super::token::{Kind, Toks, fuzzy_eq, number_at};
use super::trigger::Trigger;

/// Function words that are never channel or label names.
const STOP: &[&str] = &[
    "the",
    "a",
    "an",
    "my",
    "our",
    "your",
    "their",
    "this",
    "that",
    "these",
    "those",
    "same",
    "name",
    "names",
    "right",
    "wrong",
    "correct",
    "which",
    "what",
    "one",
    "new",
    "private",
    "public",
    "other",
    "another",
    "different",
    "default",
    "to",
    "on",
    "in",
    "into",
    "for",
    "and",
    "or",
    "with",
    "at",
    "by",
    "of",
    "from",
    "every",
    "each",
    "instead",
    "is",
    "should",
    "please",
    "it",
    "them",
    "as",
    "be",
    "called",
    "named",
    "any",
    "some",
    "all",
    "slack",
    "teams",
    "discord",
    "team's",
    "general's",
    "then",
    "but",
    "so",
    "if",
    "when",
    "then",
    "its",
    "his",
    "her",
    "dm",
];

fn negated_before(toks: &Toks, i: usize) -> bool {
    toks.seq_before(i, &["instead", "of"])
        || toks.seq_before(i, &["rather", "than"])
        || toks.seq_before(i, &["not"])
        || toks.seq_before(i, &["not", "in"])
        || toks.seq_before(i, &["not", "to"])
        || (toks.seq_before(i, &["from"])
            && (i + 1..toks.clause_end(i).min(i + 4)).any(|k| toks.is(k, "to"))
            && (toks.clause_start(i)..i).any(|k| toks.is_any(k, &["change", "switch", "move"])))
}

/// The channel the message posts to, and the channels it reads from. A channel's role comes
/// from the words before it (`places::role`); one with no telling words is posted to.
pub(crate) fn find_channels(toks: &Toks) -> (Option<String>, Vec<String>) {
    let mut cands: Vec<(usize, String)> = Vec::new();
    for i in 0..toks.len() {
        let Some(t) = toks.get(i) else { break };
        if t.kind == Kind::Channel {
            if !negated_before(toks, i) {
                cands.push((i, t.text.to_string()));
            }
            continue;
        }
        // (A Zulip stream is its channel: "our Zulip stream support".)
        let stream = &*t.text == "stream" && i > 0 && toks.is(i - 1, "zulip");
        if !matches!(&*t.text, "channel" | "channels") && !stream {
            continue;
        }
        // "the Mattermost channel #ops": the name follows; "just DM me, no channel needed"
        // names none.
        if toks.kind(i + 1) == Some(Kind::Channel) || toks.is_any(i.wrapping_sub(1), &["no", "any"]) {
            continue;
        }
        // "the marketing channel"; but "the Mattermost channel support" names it after.
        let after = toks.kind(i + 1) == Some(Kind::Word) && plausible_name(toks.text(i + 1));
        if let Some(p) = i.checked_sub(1) {
            // "the sales-emea channel": the whole hyphenated name.
            let (a, _) = toks.hyphen_span(p);
            let name = toks.joined(a, p);
            let capital = toks.get(a).is_some_and(|t| t.orig.starts_with(char::is_uppercase));
            if toks.kind(p) == Some(Kind::Word)
                && plausible_name(&name)
                && !negated_before(toks, a)
                && !(capital && after)
            {
                cands.push((a, format!("#{name}")));
                continue;
            }
        }
        // "channel standup", "channel called ops", "channel: ops"
        let mut j = i + 1;
        if toks.is_any(j, &["called", "named", ":"]) {
            j += 1;
        }
        let name = toks.joined(j, toks.hyphen_span(j).1);
        if toks.kind(j) == Some(Kind::Word) && plausible_name(&name) {
            cands.push((j, format!("#{name}")));
        }
    }
    // "to #sales, actually no, to #demos": a channel taken back before the next one goes.
    let cands = kept(toks, cands);
    let mut dest: Option<String> = None;
    let mut unknown: Option<String> = None;
    let mut sources: Vec<String> = Vec::new();
    for (i, name) in cands {
        match super::places::role(toks, i) {
            Some(Role::Dest) => {
                dest.get_or_insert(name);
            }
            Some(Role::Source) => {
                if !sources.contains(&name) {
                    sources.push(name);
                }
            }
            None => {
                unknown.get_or_insert(name);
            }
        }
    }
    let dest = dest.or(unknown);
    sources.retain(|s| Some(s) != dest.as_ref());
    (dest, sources)
}

fn plausible_name(name: &str) -> bool {
    !name.is_empty()
        && !STOP.contains(&name)
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !super::catalog::mentions(&Toks::new(name)).iter().any(|m| m.explicit)
}

fn is_mail_noun(w: &str) -> bool {
    matches!(w, "email" | "emails" | "mail" | "mails" | "e" | "message" | "messages" | "inbox")
        || fuzzy_eq(w, "emails")
        || fuzzy_eq(w, "email")
}

/// A quoted phrase starting at `i` (an opening quote), lowercased, and where it ends.
fn quoted(toks: &Toks, i: usize) -> Option<(String, usize)> {
    super::places::quoted(toks, i).map(|(s, end)| (crate::case::lower(&s), end))
}

/// A value (quoted phrase or one word) starting at `i`.
fn value_at(toks: &Toks, i: usize) -> Option<String> {
    if let Some((s, _)) = quoted(toks, i) {
        return Some(s);
    }
    let w = toks.get(i)?;
    (matches!(w.kind, Kind::Word | Kind::Number | Kind::Email) && !STOP.contains(&w.text.as_ref()))
        .then(|| w.text.to_string())
}

fn query_value(v: &str) -> String {
    if v.contains(' ') { format!("\"{v}\"") } else { v.to_string() }
}

/// The Gmail-style query for the mail the message is about.
pub(crate) fn find_email_filter(toks: &Toks, providers: &[Provider]) -> Option<String> {
    let mail = providers.iter().any(|p| p.is_mail());
    let mut terms: Vec<String> = Vec::new();
    let mut add = |t: String| {
        if !terms.contains(&t) {
            terms.push(t);
        }
    };
    for i in 0..toks.len() {
        let w = toks.text(i);
        // Sender addresses count even without other mail words.
        if w == "from" && toks.kind(i + 1) == Some(Kind::Email) && !negated_before(toks, i) {
            add(format!("from:{}", toks.text(i + 1)));
            continue;
        }
        if !mail {
            continue;
        }
        // Literal operators: "label:invoices", "is:unread".
        const OPS: &[&str] =
            &["is", "from", "to", "subject", "label", "has", "newer_than", "older_than", "category", "in"];
        if OPS.contains(&w)
            && toks.is(i + 1, ":")
            && toks.get(i + 1).is_some_and(|t| t.glued)
            && let Some(v) = toks.get(i + 2).filter(|t| t.glued && t.kind != Kind::Punct)
        {
            add(format!("{w}:{}", v.text));
            continue;
        }
        if toks.is(i.wrapping_sub(1), ":")
            && toks.get(i).is_some_and(|t| t.glued)
            && OPS.contains(&toks.text(i.wrapping_sub(2)))
        {
            continue;
        }
        match w {
            _ if w == "unread" || (w.len() >= 5 && fuzzy_eq(w, "unread")) => add("is:unread".into()),
            "read" if is_mail_noun(toks.word(i + 1)) && !toks.is(i.wrapping_sub(1), "to") => {
                add("is:read".into())
            }
            "important" => add("is:important".into()),
            "starred" => add("is:starred".into()),
            "attachment" | "attachments" => add("has:attachment".into()),
            "from" => {
                let Some(t) = toks.get(i + 1) else { continue };
                let proper = t.kind == Kind::Word
                    && t.orig.chars().next().is_some_and(char::is_uppercase)
                    && t.orig != "I"
                    && !STOP.contains(&t.text.as_ref())
                    // A mail or chat tool, or a place files live ("from Google Drive"), is not a
                    // sender; a tool that sends mail is ("emails from Stripe").
                    && !super::catalog::mentions(&Toks::new(&format!("{} {}", t.text, toks.text(i + 2))))
                        .iter()
                        .any(|m| {
                            use super::catalog::Category as C;
                            let kind = m.provider.category();
                            m.explicit && m.pos == 0 && matches!(kind, C::Email | C::Chat | C::Files | C::Documents | C::Table)
                        })
                    && !super::days::is_day_name(toks, i + 1);
                if proper {
                    add(format!("from:{}", t.text));
                }
            }
            "labelled" | "labeled" | "tagged" => {
                if let Some(v) = value_at(toks, i + 1) {
                    add(format!("label:{}", v.replace(' ', "-")));
                }
            }
            "label" => {
                if toks.is_any(i.wrapping_sub(1), &["the", "with", "a"])
                    && let Some(v) = value_at(toks, i + 1)
                {
                    add(format!("label:{}", v.replace(' ', "-")));
                    continue;
                }
                // "my invoices label", "the 'receipts' label"
                let p = i.wrapping_sub(1);
                if toks.is(p, "'") || toks.is(p, "\"") {
                    let open = (p.saturating_sub(8)..p).rev().find(|&k| toks.is(k, toks.text(p)));
                    if let Some((v, _)) = open.and_then(|o| quoted(toks, o)) {
                        add(format!("label:{}", v.replace(' ', "-")));
                    }
                } else if toks.kind(p) == Some(Kind::Word)
                    && !STOP.contains(&toks.text(p))
                    && toks.is_any(p.wrapping_sub(1), &["my", "the", "our"])
                {
                    add(format!("label:{}", toks.text(p)));
                }
            }
            "subject" => {
                let mut j = i + 1;
                while toks.is_any(
                    j,
                    &[
                        ":",
                        "line",
                        "contains",
                        "containing",
                        "including",
                        "includes",
                        "of",
                        "is",
                        "=",
                        "has",
                        "with",
                        "like",
                        "mentions",
                        "mentioning",
                    ],
                ) {
                    j += 1;
                }
                if let Some(v) = value_at(toks, j) {
                    add(format!("subject:{}", query_value(&v)));
                } else if toks.seq_before(i, &["in", "the"]) {
                    // "'invoice' in the subject"
                    let k = i - 2;
                    if let Some(p) = k.checked_sub(1) {
                        if toks.is(p, "'") || toks.is(p, "\"") {
                            let open = (p.saturating_sub(8)..p).rev().find(|&o| toks.is(o, toks.text(p)));
                            if let Some((v, _)) = open.and_then(|o| quoted(toks, o)) {
                                add(format!("subject:{}", query_value(&v)));
                            }
                        } else if let Some(v) = value_at(toks, p) {
                            add(format!("subject:{}", query_value(&v)));
                        }
                    }
                }
            }
            "older" | "newer" if toks.is(i + 1, "than") => {
                if let Some(age) = age_at(toks, i + 2) {
                    add(format!("{}_than:{age}", if w == "older" { "older" } else { "newer" }));
                }
            }
            "last" | "past"
                if toks.is(i.wrapping_sub(1), "the")
                    && toks.is_any(i.wrapping_sub(2), &["in", "from", "over"]) =>
            {
                if let Some(age) = age_at(toks, i + 1) {
                    add(format!("newer_than:{age}"));
                }
            }
            "today's" => add("newer_than:1d".into()),
            _ => {}
        }
    }
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The e-mail filter kept for mail the agent reads. None when mail only receives what the
/// agent made ("send me the list by email", "email dispatch@x.com today's events": the
/// words around it describe the other tool's items); without the event's own state when
/// that state is the trigger ("starred emails" -> `message.starred`).
pub(crate) fn for_mail_read(
    filter: Option<String>,
    toks: &Toks,
    trigger: &Option<Trigger>,
    actions: &[String],
) -> Option<String> {
    let event = match trigger {
        Some(Trigger::Event { provider, event }) if provider.is_mail() => Some(event.as_str()),
        _ => None,
    };
    let sends = actions.iter().any(|a| a == "send_email");
    if sends && event.is_none() && !(0..toks.len()).any(|i| mail_read_at(toks, i)) {
        return None;
    }
    let own = match event {
        Some("message.starred") => "is:starred",
        _ => "",
    };
    let filter = filter?;
    let terms: Vec<&str> = filter.split(' ').filter(|t| *t != own).collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Mail named at `i` as something read ("my unread emails", "the Gmail inbox"), not as the
/// way results are delivered ("by email", "an email", "to my inbox") or the verb ("email me").
fn mail_read_at(toks: &Toks, i: usize) -> bool {
    let w = toks.word(i);
    let mail = is_mail_noun(w) && w != "message" && w != "messages" && w != "e"
        || super::catalog::mentions(&Toks::new(toks.text(i)))
            .iter()
            .any(|m| m.explicit && m.provider.is_mail());
    if !mail {
        return false;
    }
    const DELIVERY: &[&str] =
        &["by", "via", "on", "an", "as", "per", "over", "through", "to", "send", "sends"];
    let before = i
        .checked_sub(1)
        .map(|p| if toks.is_any(p, &["my", "our", "their", "his", "her"]) { p.wrapping_sub(1) } else { p });
    let delivered = before.is_some_and(|p| toks.is_any(p, DELIVERY));
    let verb = toks.kind(i + 1) == Some(Kind::Email)
        || toks.is_any(i + 1, &["me", "us", "him", "her", "them", "everyone", "it", "the", "a"]);
    !delivered && !verb
}

/// "a week" -> "7d", "3 months" -> "3m", "day" -> "1d".
fn age_at(toks: &Toks, i: usize) -> Option<String> {
    let (n, j) = match number_at(toks, i) {
        Some((n, len)) => (n, i + len),
        None if toks.is_any(i, &["a", "an", "one"]) => (1, i + 1),
        None => (1, i),
    };
    let n = n.max(1);
    match toks.word(j) {
        "day" | "days" => Some(format!("{n}d")),
        "week" | "weeks" => Some(format!("{}d", n.saturating_mul(7))),
        "month" | "months" => Some(format!("{n}m")),
        "year" | "years" => Some(format!("{n}y")),
        "24" if toks.is(j + 1, "hours") => Some("1d".into()),
        _ => None,
    }
}

/// The values (token index, value) the message does not take back: one followed by a
/// correction before the next ("#sales, actually no, #demos") goes, and so does every mention
/// of one dropped anywhere ("ping #sales. Ah, drop the #sales bit").
pub(crate) fn kept<T: PartialEq>(toks: &Toks, cands: Vec<(usize, T)>) -> Vec<(usize, T)> {
    let back: Vec<bool> =
        cands.windows(2).map(|w| toks.taken_back_between(w[0].0, w[1].0)).chain([false]).collect();
    let dropped: Vec<&T> = cands.iter().filter(|(i, _)| toks.dropped_at(*i)).map(|(_, v)| v).collect();
    let keep: Vec<bool> = cands.iter().zip(&back).map(|((_, v), b)| !b && !dropped.contains(&v)).collect();
    cands.into_iter().zip(keep).filter(|(_, k)| *k).map(|(c, _)| c).collect()
}

/// E-mail addresses to send to.
pub(crate) fn find_recipients(toks: &Toks) -> Vec<String> {
    let mut cands: Vec<(usize, String)> = Vec::new();
    for i in 0..toks.len() {
        if toks.kind(i) != Some(Kind::Email) {
            continue;
        }
        let sender = (i.saturating_sub(2)..i).any(|k| toks.is_any(k, &["from", "sender", "by"]));
        let watched = i > 0 && toks.is_any(i - 1, &["emails", "emailed", "writes", "messages", "mails"]);
        if sender || watched || negated_before(toks, i) {
            continue;
        }
        cands.push((i, toks.text(i).to_string()));
    }
    let mut out: Vec<String> = Vec::new();
    for (_, a) in kept(toks, cands) {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    // "email me", "send it to me", "mail me a digest": the person's own address, which the
    // builder does not need to ask for (the "Send it to me" choice, said outright).
    const TO_ME: &[&str] =
        &["email", "e-mail", "mail", "send", "sent", "forward", "emailed", "mailed", "to", "drop", "shoot"];
    let mail = toks.has_any(&["email", "e-mail", "mail", "emails", "gmail", "outlook", "inbox"]);
    if out.is_empty() && mail && (1..toks.len()).any(|i| toks.is(i, "me") && toks.is_any(i - 1, TO_ME)) {
        out.push("me".into());
    }
    out
}

/// Ways to ask for a direct message instead of a channel, and whether each also holds inside
/// a longer request ("DM it to me" does; "just me" only as a short answer to "Which channel?").
const DIRECT: &[(&str, bool)] = &[
    ("dm me", true),
    ("dm it to me", true),
    ("dm them to me", true),
    ("send me a dm", true),
    ("as a dm", true),
    ("in a dm", true),
    ("dms", true),
    ("direct message", true),
    ("to me directly", true),
    ("privately", true),
    ("message me", false),
    ("just me", false),
    ("just to me", false),
    ("only to me", false),
    ("only me", false),
    ("ping me", false),
    ("no channel", false),
];

/// The text asks for a direct message to the person rather than a channel post; `answer`: a
/// short reply to "Which channel?", where more ways count.
pub(crate) fn direct_message(text: &str, answer: bool) -> bool {
    let t = crate::case::lower(text);
    DIRECT.iter().any(|(p, anywhere)| (answer || *anywhere) && t.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::catalog::{mentions, resolve};

    fn ch(s: &str) -> Option<String> {
        find_channels(&Toks::new(s)).0
    }

    fn filter(s: &str) -> Option<String> {
        let t = Toks::new(s);
        let p: Vec<Provider> = resolve(&mentions(&t)).into_iter().map(|(p, _)| p).collect();
        find_email_filter(&t, &p)
    }

    #[test]
    fn channels() {
        assert_eq!(ch("post it to Slack #Team").as_deref(), Some("#team"));
        assert_eq!(ch("the #release channel in Slack").as_deref(), Some("#release"));
        assert_eq!(ch("post in the marketing channel").as_deref(), Some("#marketing"));
        assert_eq!(ch("post them in Teams channel standup").as_deref(), Some("#standup"));
        assert_eq!(ch("post them in the Teams channel key-accounts").as_deref(), Some("#key-accounts"));
        assert_eq!(ch("send it to the sales-emea channel in Teams").as_deref(), Some("#sales-emea"));
        assert_eq!(ch("post them to our Zulip stream support").as_deref(), Some("#support"));
        assert_eq!(ch("post it to #ops instead of #general").as_deref(), Some("#ops"));
        assert_eq!(ch("change the channel to #ops").as_deref(), Some("#ops"));
        assert_eq!(
            ch("translate messages in #global and post them in #global-en").as_deref(),
            Some("#global-en")
        );
        assert_eq!(ch("fix issue #42"), None);
        assert_eq!(ch("summarise #support and post it to #team").as_deref(), Some("#team"));
        assert_eq!(
            find_channels(&Toks::new("summarise #support every evening")),
            (None, vec!["#support".into()])
        );
        assert_eq!(ch("post to the slack channel"), None);
    }

    #[test]
    fn filters() {
        assert_eq!(filter("summarise my unread Gmail").as_deref(), Some("is:unread"));
        assert_eq!(filter("emails from boss@acme.com").as_deref(), Some("from:boss@acme.com"));
        assert_eq!(filter("emails labelled invoices").as_deref(), Some("label:invoices"));
        assert_eq!(filter("emails with subject invoice").as_deref(), Some("subject:invoice"));
        assert_eq!(
            filter("emails with 'weekly report' in the subject").as_deref(),
            Some("subject:\"weekly report\"")
        );
        assert_eq!(
            filter("unread emails from Stripe with attachments").as_deref(),
            Some("is:unread from:stripe has:attachment")
        );
        assert_eq!(filter("archive read emails older than a week").as_deref(), Some("is:read older_than:7d"));
        assert_eq!(filter("my inbox, label:receipts").as_deref(), Some("label:receipts"));
        assert_eq!(filter("unread slack messages"), None);
        assert_eq!(filter("post to slack"), None);
    }

    #[test]
    fn recipients() {
        let r = |s: &str| find_recipients(&Toks::new(s));
        assert_eq!(r("forward emails from a@x.com to b@y.com and C@Z.com"), ["b@y.com", "c@z.com"]);
        assert_eq!(r("when a customer emails support@acme.com"), Vec::<String>::new());
        assert_eq!(r("send it to bob@example.com instead of alice@example.com"), ["bob@example.com"]);
    }
}
