//! What starts an agent: a [`Trigger`] (schedule, event, manual or once) and how events and manual
//! runs are recognised.
//!
//! Events are introduced by "whenever", "as soon as", "every time", "each time", "any time",
//! "the moment", "as they happen", "in real time", "upon" (strong: they win over a schedule in
//! the same message), or by "when", "if", "once", "after", "on every", "for each", "on new",
//! "new ...", "incoming", "\<thing> added/created/..." (weak: a schedule in the same message
//! wins, and "when"/"if"/"once"/"after" need an event verb or "new" in their clause). Manual
//! runs: "manually", "on demand", "by hand", "a button", "when I ask", "whenever I want",
//! "I'll kick it off myself"; they win over everything else.
//!
//! The event's provider is the one whose kind of thing the clause talks about ("a PR" ->
//! GitHub, "a row" -> Google Sheets or Airtable, whichever is mentioned), else the first
//! provider named in the clause, else the thing's usual provider, else the first provider
//! of the message, else [`Provider::WEBHOOK`]. Event names come from a small vocabulary,
//! listed in `docs/extractor.md`.

use serde::{Deserialize, Serialize};

use super::catalog::{Mention, Provider, Things, Unknown, event_name, things};
use super::once::OneOff;
use super::schedule::Schedule;
use super::token::{Kind, Phrases, Toks, fuzzy_eq};

/// The three ways an agent can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// On a schedule.
    Schedule,
    /// When something happens in an integration.
    Event,
    /// When the person asks.
    Manual,
    /// Once, at a day and time.
    Once,
}

/// What starts an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// On a schedule.
    Schedule(Schedule),
    /// When `event` happens in `provider`, e.g. (GitHub, `issue.opened`).
    Event {
        /// Where it happens.
        provider: Provider,
        /// What happens, from the documented vocabulary (`message.received`, ...).
        event: String,
    },
    /// "when I click a button", "on demand", "manually".
    Manual,
    /// "next Friday at 3", "just once".
    Once(OneOff),
}

impl Trigger {
    /// Which of the three kinds this is.
    pub fn kind(&self) -> TriggerKind {
        match self {
            Trigger::Schedule(_) => TriggerKind::Schedule,
            Trigger::Event { .. } => TriggerKind::Event,
            Trigger::Manual => TriggerKind::Manual,
            Trigger::Once(_) => TriggerKind::Once,
        }
    }
}

/// Manual-run phrases, sorted: looked up by their first byte.
static MANUAL: Phrases = Phrases::new(&[
    &["ad", "-", "hoc"],
    &["ad", "hoc"],
    &["adhoc"],
    &["button"],
    &["by", "hand"],
    &["click", "to", "run"],
    &["i", "can", "kick"],
    &["i", "can", "press"],
    &["i", "can", "trigger"],
    &["i", "click"],
    &["i", "will", "run", "it"],
    &["i", "will", "trigger"],
    &["i'll", "kick"],
    &["i'll", "run", "it"],
    &["i'll", "trigger"],
    &["kick", "it", "off", "myself"],
    &["let", "me", "click"],
    &["manual"],
    &["manually"],
    &["on", "-", "demand"],
    &["on", "demand"],
    &["on", "request"],
    &["ondemand"],
    &["one", "-", "click"],
    &["one", "click"],
    &["only", "when", "i"],
    &["run", "it", "myself"],
    &["run", "myself"],
    &["single", "click"],
    &["start", "it", "myself"],
    &["trigger", "it", "myself"],
    &["trigger", "myself"],
    &["when", "i", "ask"],
    &["when", "i", "click"],
    &["when", "i", "need"],
    &["when", "i", "press"],
    &["when", "i", "run"],
    &["when", "i", "say"],
    &["when", "i", "tell"],
    &["when", "i", "trigger"],
    &["when", "i", "want"],
    &["whenever", "i", "ask"],
    &["whenever", "i", "need"],
    &["whenever", "i", "want"],
]);

/// The message asks for manual runs.
pub(crate) fn is_manual(toks: &Toks) -> bool {
    (0..toks.len()).any(|i| toks.starts_phrase(i, &MANUAL) && !how_it_is_done_now(toks, i))
}

/// "right now my assistant copies them by hand": the way it is done today, which the agent
/// is to replace, not how the agent runs.
fn how_it_is_done_now(toks: &Toks, i: usize) -> bool {
    const NOW: &[&str] = &["currently", "now", "today", "usually", "always", "still", "moment", "anymore"];
    const OTHERS: &[&str] =
        &["assistant", "someone", "somebody", "they", "he", "she", "we", "everyone", "team"];
    toks.is_any(i, &["by", "manually"])
        && (toks.clause_start(i)..i).any(|k| toks.is_any(k, NOW) || toks.is_any(k, OTHERS))
}

/// Where an event is introduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cue {
    /// Token where the cue starts.
    pub(crate) pos: usize,
    /// Wins over a schedule.
    pub(crate) strong: bool,
    /// Clause the event is described in (token range).
    pub(crate) clause: (usize, usize),
}

/// Cues that win over a schedule, sorted: looked up by their first byte.
static STRONG: Phrases = Phrases::new(&[
    &["any", "time"],
    &["anytime"],
    &["as", "it", "happens"],
    &["as", "soon", "as"],
    &["as", "soon", "as", "they"],
    &["as", "they", "arrive"],
    &["as", "they", "come", "in"],
    &["as", "they", "happen"],
    &["each", "time"],
    &["every", "time"],
    &["in", "real", "time"],
    &["real", "-", "time"],
    &["realtime"],
    &["the", "minute"],
    &["the", "moment"],
    &["upon"],
    &["whenever"],
    &["whenevr"],
    &["whenver"],
    &["whnever"],
]);

const WEAK_NEEDS_VERB: &[&str] = &["when", "wehn", "whn", "wen", "if", "once", "after"];

/// Verbs that say something happened (for "when"/"if"/"once"/"after" clauses).
const EVENT_VERBS: &[&str] = &[
    "new",
    "get",
    "gets",
    "got",
    "receive",
    "receives",
    "received",
    "arrive",
    "arrives",
    "arrived",
    "come",
    "comes",
    "land",
    "lands",
    "landed",
    "open",
    "opens",
    "opened",
    "opend",
    "create",
    "creates",
    "created",
    "add",
    "adds",
    "added",
    "merge",
    "merges",
    "merged",
    "post",
    "posts",
    "posted",
    "push",
    "pushes",
    "pushed",
    "publish",
    "publishes",
    "published",
    "close",
    "closes",
    "closed",
    "assign",
    "assigns",
    "assigned",
    "mention",
    "mentions",
    "mentioned",
    "comment",
    "comments",
    "commented",
    "submit",
    "submits",
    "submitted",
    "sign",
    "signs",
    "signed",
    "change",
    "changes",
    "changed",
    "update",
    "updates",
    "updated",
    "edit",
    "edits",
    "edited",
    "move",
    "moves",
    "moved",
    "fail",
    "fails",
    "failed",
    "star",
    "stars",
    "starred",
    "react",
    "reacts",
    "reacted",
    "cancel",
    "cancels",
    "cancelled",
    "canceled",
    "start",
    "starts",
    "begin",
    "begins",
    "end",
    "ends",
    "ended",
    "finish",
    "finishes",
    "finished",
    "upload",
    "uploads",
    "uploaded",
    "share",
    "shares",
    "shared",
    "win",
    "wins",
    "won",
    "complete",
    "completes",
    "completed",
    "label",
    "labelled",
    "labeled",
    "tag",
    "tagged",
    "reply",
    "replies",
    "replied",
    "buy",
    "buys",
    "bought",
    "book",
    "books",
    "booked",
    "join",
    "joins",
    "joined",
    "fill",
    "fills",
    "filled",
    "show",
    "shows",
    "appear",
    "appears",
    "drop",
    "drops",
    "dropped",
    "emails",
    "emailed",
    "messages",
    "messaged",
    "sends",
    "sent",
    "writes",
    "invites",
    "invited",
    "marked",
    "goes",
    "hits",
    "incoming",
    "deleted",
    "removed",
    "transitions",
    "resolved",
    "approved",
    "requested",
    "rsvps",
    "send",
    "pay",
    "pays",
    "paid",
    "places",
    "placed",
    "orders",
    "ordered",
    "purchases",
    "purchased",
    "refunds",
    "refunded",
    "subscribes",
    "unsubscribes",
    "churns",
    "triggers",
    "triggered",
    "fires",
    "solved",
    "regressed",
    "breaks",
    "tweets",
    "tweeted",
    "sells",
    "sold",
    "there's",
    "fulfilled",
    "shipped",
    "low",
    "ready",
    "regresses",
    "reappears",
    "reopened",
    "dms",
    "dmed",
    "texts",
    "texted",
    "pings",
    "pinged",
    "calls",
    "called",
    "rings",
];

/// Participles that make "\<thing> added" an event without a cue word (terse requests).
const PARTICIPLES: &[&str] = &[
    "added",
    "created",
    "opened",
    "merged",
    "received",
    "submitted",
    "updated",
    "published",
    "closed",
    "assigned",
    "uploaded",
    "arrives",
    "arrived",
    "won",
    "completed",
    "starred",
    "posted",
    "paid",
    "placed",
    "fulfilled",
    "refunded",
    "solved",
    "triggered",
    "cancelled",
    "booked",
    "resolved",
    "unsubscribed",
    "subscribed",
    "failed",
    "deleted",
    "moved",
    "signed",
];

fn is_event_noun(toks: &Toks, i: usize) -> bool {
    things(toks.word(i)).is_some()
}

/// The first event cue in the text; `unknown` are the tools Kiln does not know, named where
/// a known one could be ("BambooHR new hire -> ...").
pub(crate) fn find_cue(toks: &Toks, mentions: &[Mention], unknown: &[Unknown]) -> Option<Cue> {
    let clause = |i: usize| (toks.clause_start(i), toks.clause_end(i));
    let mentioned_at =
        |i: usize| mentions.iter().any(|m| m.pos == i) || unknown.iter().any(|u| u.pos == i && !u.negated);
    if let Some(end) = happened_then_do(toks, &mentioned_at) {
        return Some(Cue { pos: 0, strong: false, clause: (0, end) });
    }
    let mut weak: Option<Cue> = None;
    for i in 0..toks.len() {
        if toks.starts_phrase(i, &STRONG) {
            return Some(Cue { pos: i, strong: true, clause: clause(i) });
        }
        if weak.is_some() {
            continue;
        }
        let w = toks.word(i);
        if WEAK_NEEDS_VERB.contains(&w) {
            // "once a day", "once per week", "once more"
            let unit = |k: usize| {
                toks.is_any(
                    k,
                    &["day", "week", "month", "hour", "year", "fortnight", "morning", "night", "evening"],
                )
            };
            if w == "once"
                && (toks.is_any(i + 1, &["every", "daily", "weekly", "monthly", "more", "again"])
                    || (toks.is_any(i + 1, &["a", "an", "per", "each"]) && unit(i + 2)))
            {
                continue;
            }
            let end = toks.clause_end(i).min(i + 14);
            // ("when a customer makes a payment", "when client do payment": a thing done.)
            let does_a_thing = |k: usize| {
                toks.is_any(k, &["make", "makes", "made", "do", "does", "did"])
                    && (is_event_noun(toks, k + 1)
                        || toks.is_any(k + 1, &["a", "an"]) && is_event_noun(toks, k + 2))
            };
            if (i + 1..end).any(|k| {
                let v = toks.word(k);
                EVENT_VERBS.contains(&v) || fuzzy_eq(v, "opened") || fuzzy_eq(v, "created") || does_a_thing(k)
            }) || sets_up_an_order(toks, i)
                // "our backend will POST to a webhook when a user upgrades": with a webhook
                // to call it, anything that happens is an event.
                || (w != "once" && toks.has_any(&["webhook", "webhooks"]) && toks.kind(i + 1) == Some(Kind::Word))
            {
                weak = Some(Cue { pos: i, strong: false, clause: clause(i) });
            }
            continue;
        }
        // "every invoice PDF I receive", "each email we get": per received thing.
        if matches!(w, "every" | "each" | "any" | "all")
            && (i + 1..(i + 4).min(toks.len())).any(|k| is_event_noun(toks, k))
            && (i + 2..(i + 7).min(toks.len())).any(|k| {
                toks.is_any(k, &["i", "we", "you"])
                    && toks.is_any(k + 1, &["receive", "get", "gets", "got", "receives", "are", "'re"])
            })
        {
            weak = Some(Cue { pos: i, strong: false, clause: clause(i) });
            continue;
        }
        // "forward emails from my bank to ...": forwarding is per message.
        if matches!(w, "forward" | "fwd" | "autoforward")
            && (i + 1..(i + 4).min(toks.len())).any(|k| {
                matches!(toks.word(k), "email" | "emails" | "mail" | "mails" | "messages" | "message")
                    || mentions.iter().any(|m| m.pos == k && m.provider.is_mail())
            })
        {
            weak = Some(Cue { pos: i, strong: false, clause: clause(i) });
            continue;
        }
        // "15 min before any calendar event", "ahead of each meeting": a time before
        // something that happens.
        if (w == "before" || toks.seq(i, &["ahead", "of"]))
            && (i + 1..(i + 4).min(toks.len()))
                .any(|k| is_event_noun(toks, k) && !toks.is_any(k - 1, &["the"]))
        {
            weak = Some(Cue { pos: i, strong: false, clause: clause(i) });
            continue;
        }
        // "on every push", "for each new lead", "on new email"
        if matches!(w, "on" | "for") {
            let mut j = i + 1;
            if toks.is_any(j, &["every", "each", "any"]) {
                j += 1;
            }
            if toks.is(j, "new") || (j > i + 1 && (is_event_noun(toks, j) || mentioned_at(j))) {
                weak = Some(Cue { pos: i, strong: false, clause: clause(i) });
            }
            continue;
        }
        // "new emails from my boss", "new gmail with attachment", "new jira bug"
        if w == "new" || w == "incoming" {
            if (i + 1..(i + 4).min(toks.len()))
                .any(|k| is_event_noun(toks, k) || mentioned_at(k) || toks.is_any(k, ARRIVALS))
            {
                weak = Some(Cue { pos: i, strong: false, clause: clause(i) });
            }
            continue;
        }
        // "sheets row added"
        if PARTICIPLES.contains(&w) && i > 0 && (is_event_noun(toks, i - 1) || mentioned_at(i - 1)) {
            let start = toks.clause_start(i);
            weak = Some(Cue { pos: start, strong: false, clause: clause(i) });
            continue;
        }
        // Terse routing: "stripe failed payments -> #billing", "calendly booking → add a row",
        // "Stripe payments over $500 should go to #big-sales": a thing sent on as it comes.
        if (is_event_noun(toks, i) || mentioned_at(i)) && routes_on(toks, i) {
            let start = toks.clause_start(i);
            weak = Some(Cue { pos: start, strong: false, clause: clause(i) });
        }
    }
    weak
}

/// "jenkins build fails, tell #qa-night", "Stripe payment over $500 succeeded? Put it in
/// #big-tickets": a message that opens on something happening (a thing and a verb that
/// says it happened, no cue word) and goes on with what to do. Returns where that first
/// clause ends.
fn happened_then_do(toks: &Toks, named: &dyn Fn(usize) -> bool) -> Option<usize> {
    // After a heading that names the tool ("Lever: candidate moved to onsite → ...").
    let head = toks.clause_end(0);
    let start = if head <= 2 && toks.is(head, ":") && named(0) { head + 1 } else { 0 };
    let end = toks.clause_end(start);
    if !toks.is_any(end, &[",", "?", "—", ">", "→", "⇒"]) || end > start + 12 {
        return None;
    }
    let thing = (0..end).find(|&k| is_event_noun(toks, k) || named(k))?;
    let happened = (thing + 1..end).any(|k| {
        let v = toks.word(k);
        (EVENT_VERBS.contains(&v) || HAPPENED.contains(&v)) && !toks.is_any(k - 1, &["to", "will", "should"])
    });
    let then_do = toks.is_any(end + 1, ORDERS)
        || toks.is_any(end + 2, ORDERS) && toks.is_any(end + 1, &["then", "just", "pls", "please"]);
    (happened && then_do).then_some(end)
}

/// Past and present forms that say something happened, besides [`EVENT_VERBS`].
const HAPPENED: &[&str] = &[
    "broke",
    "succeeded",
    "succeeds",
    "went",
    "passed",
    "passes",
    "crashed",
    "crashes",
    "expired",
    "expires",
    "bounced",
    "bounces",
];

/// Verbs that open an order ("tell #ops", "email me", "create a task").
const ORDERS: &[&str] = &[
    "tell", "post", "send", "email", "mail", "text", "sms", "ping", "alert", "notify", "message", "dm",
    "create", "add", "open", "make", "log", "put", "save", "forward", "copy", "share", "file", "raise",
    "page", "call", "write",
];

/// "When a student hands in an assignment on Google Classroom, add a row ...": a "when" or
/// "if" that opens the sentence, with a clause of its own (a subject and a verb, no time)
/// ended by a comma before what to do. Whatever the verb, that shape is an event.
fn sets_up_an_order(toks: &Toks, i: usize) -> bool {
    let opens = i == 0 || toks.is_break(i - 1) || toks.is_any(i - 1, &["hi", "hey", "hello", "please", "so"]);
    let end = toks.clause_end(i);
    let long = end >= i + 4;
    let timeless = (i + 1..end).all(|k| toks.kind(k) != Some(Kind::Number));
    opens && long && timeless && toks.is(end, ",") && toks.kind(end + 1) == Some(Kind::Word)
}

/// Things that only ever arrive one at a time: "post our Datadog alerts into #ops" passes each
/// on as it comes, where "post the open tickets to #ops" (a state) says nothing of when.
const ARRIVALS: &[&str] = &[
    "alerts",
    "notifications",
    "orders",
    "payments",
    "signups",
    "sign-ups",
    "submissions",
    "responses",
    "bookings",
    "applicants",
    "applications",
    "incidents",
    "errors",
    "crashes",
    "deploys",
    "deployments",
    "releases",
    "refunds",
    "cancellations",
    "registrations",
    "mentions",
    "replies",
    "enquiries",
    "inquiries",
    "reservations",
    "comments",
    "candidates",
    "reviews",
];

/// Verbs that pass things on ("post", "send", "forward").
const PASS_VERBS: &[&str] = &[
    "post", "send", "forward", "push", "share", "pipe", "route", "relay", "mirror", "stream", "copy", "dump",
];

/// "Post our Datadog alerts into #ops": an order to pass on things that arrive one at a time,
/// in a message that says no time. The caller asks only when nothing else says when it runs.
pub(crate) fn passing_on(toks: &Toks) -> Option<Cue> {
    let i = (0..toks.len()).find(|&k| toks.is_any(k, PASS_VERBS) && toks.clause_start(k) + 3 > k)?;
    let end = toks.clause_end(i).min(i + 6);
    (i + 1..end).any(|k| toks.is_any(k, ARRIVALS)).then(|| Cue {
        pos: i,
        strong: false,
        clause: (toks.clause_start(i), toks.clause_end(i)),
    })
}

/// The thing at `i` is sent on as it comes: its clause ends in an arrow ("->", "→", "=>"), or
/// it "goes to"/"should go to" somewhere; not in a message with a time of day ("10:00 — Notion
/// agenda → Teams" is a schedule).
fn routes_on(toks: &Toks, i: usize) -> bool {
    let timed = (0..toks.len()).any(|k| {
        toks.kind(k) == Some(Kind::Number)
            && (toks.text(k).contains(':') || toks.is_any(k + 1, &["am", "pm", "a.m", "p.m", "h"]))
    });
    if timed {
        return false;
    }
    let end = toks.clause_end(i);
    let arrow = toks.is_any(end, &[">", "→", "⇒"]);
    let near = i + 1..end.min(i + 8);
    let goes = near.clone().any(|k| toks.is_any(k, &["go", "goes"]) && toks.is(k + 1, "to"));
    // A message or sentence that opens on the things themselves: "starred emails: turn each
    // one into a task", "Slack mentions of me should reach me by text", "... to book. Each
    // SMS should turn into a row".
    let sentence = (0..i).rev().find(|&k| toks.is_any(k, &[".", "!", "?"])).map_or(0, |k| k + 1);
    let opens = i <= sentence + 1 && toks.clause_start(i) == sentence;
    // (Not a tool's name alone: "monday.com: when an item's status changes ..." says more.)
    let colon = toks.is(end, ":") && is_event_noun(toks, i);
    let should = near.clone().any(|k| toks.is(k, "should") && !toks.is_any(k + 1, &["be", "i", "we", "it"]));
    let into = (i + 1..end.min(i + 4)).any(|k| toks.is(k, "into"));
    arrow || goes || (opens && (colon || should || into))
}

/// The provider and event name for `cue`.
pub(crate) fn event_for(
    toks: &Toks,
    cue: Cue,
    mentions: &[Mention],
    wanted: &[Provider],
    unknown: &[Unknown],
) -> (Provider, String) {
    let (start, end) = cue.clause;
    // A tool Kiln does not know named first in the clause ("when a Webflow form is submitted",
    // "when a Jenkins build fails, email me"): its events arrive by webhook.
    let after_cue =
        |pos: usize| if pos >= cue.pos { pos - cue.pos } else { usize::MAX / 2 + (cue.pos - pos) };
    let first_unknown =
        unknown.iter().filter(|u| u.pos >= start && u.pos < end).map(|u| after_cue(u.pos)).min();
    let here = |m: &&Mention| !m.negated && m.pos >= start && m.pos < end;
    let first_known = mentions.iter().filter(here).filter(|m| m.explicit).map(|m| after_cue(m.pos)).min();
    // A place named where it happens wins ("shares a Loom video in #demos" is Slack's).
    let place =
        mentions.iter().filter(here).any(|m| m.pos > 0 && toks.is_any(m.pos - 1, &["in", "on", "from"]));
    if !place && first_unknown.is_some_and(|u| first_known.is_none_or(|k| u < k)) {
        return (Provider::WEBHOOK, event_name(Provider::WEBHOOK, &[]).to_owned());
    }
    let in_clause: Vec<&Mention> =
        mentions.iter().filter(|m| !m.negated && m.pos >= start && m.pos < end).collect();
    // Mentions after the cue first, then before it.
    let mut ordered: Vec<&Mention> = in_clause.iter().filter(|m| m.pos >= cue.pos).copied().collect();
    ordered.extend(in_clause.iter().filter(|m| m.pos < cue.pos).copied());
    // The first thing the clause talks about.
    let nouns: Vec<Things> = (cue.pos..end)
        .chain(start..cue.pos)
        .filter_map(|k| toks.get(k).and_then(|_| things(toks.word(k))))
        .collect();
    let provider = nouns
        .iter()
        .find_map(|cands| {
            ordered
                .iter()
                .map(|m| m.provider)
                .find(|p| cands.tools.contains(*p))
                .or_else(|| wanted.iter().copied().find(|p| cands.tools.contains(*p)))
        })
        .or_else(|| ordered.first().map(|m| m.provider))
        .or_else(|| nouns.iter().find_map(|c| c.usual))
        .or_else(|| {
            // The clause names no tool and no thing ("When someone submits it, add them to
            // HubSpot"): a tool named before it ("I have a Google Form."); else, with a tool
            // Kiln lacks in the message, that tool by webhook; a tool named only after it is
            // where the results go, not what happens.
            let before =
                mentions.iter().find(|m| !m.negated && m.explicit && m.pos < start).map(|m| m.provider);
            let lacked = unknown.iter().any(|u| !u.negated);
            before.or_else(|| (!lacked).then(|| wanted.first().copied()).flatten())
        })
        .unwrap_or(Provider::WEBHOOK);
    let words: Vec<&str> = (start..end).map(|k| toks.text(k)).collect();
    (provider, event_name(provider, &words).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::catalog::{mentions, resolve};

    /// [`Toks::starts_phrase`] finds phrases by their first byte in a sorted table, so the
    /// tables must stay sorted and unique.
    #[test]
    fn phrase_tables_sorted() {
        for table in [MANUAL.all(), STRONG.all()] {
            assert!(table.is_sorted_by(|a, b| a < b), "{table:?}");
        }
    }

    fn ev(s: &str) -> Option<(Provider, String, bool)> {
        let t = Toks::new(s);
        let m = mentions(&t);
        let wanted: Vec<Provider> = resolve(&m).into_iter().map(|(p, _)| p).collect();
        let cue = find_cue(&t, &m, &[])?;
        let (p, e) = event_for(&t, cue, &m, &wanted, &[]);
        Some((p, e, cue.strong))
    }

    #[test]
    fn kinds() {
        assert_eq!(Trigger::Manual.kind(), TriggerKind::Manual);
        let e = Trigger::Event { provider: Provider::GITHUB, event: "issue.opened".into() };
        assert_eq!(e.kind(), TriggerKind::Event);
        let json = serde_json::to_string(&e).expect("trigger serialises");
        assert_eq!(json, r#"{"event":{"provider":"github","event":"issue.opened"}}"#);
        assert_eq!(serde_json::to_string(&Trigger::Manual).expect("serialises"), r#""manual""#);
    }

    #[test]
    fn events() {
        let e = |s| ev(s).map(|(p, e, _)| (p, e));
        assert_eq!(
            e("when a new issue is opened in GitHub"),
            Some((Provider::GITHUB, "issue.opened".into()))
        );
        assert_eq!(e("when I get an email from my boss"), Some((Provider::GMAIL, "message.received".into())));
        assert_eq!(
            e("post to slack every time a PR is merged"),
            Some((Provider::GITHUB, "pull_request.merged".into()))
        );
        assert_eq!(
            e("if a new lead comes into Salesforce, add them to HubSpot"),
            Some((Provider::SALESFORCE, "lead.created".into()))
        );
        assert_eq!(
            e("when a meeting is about to start"),
            Some((Provider::GOOGLE_CALENDAR, "event.starting".into()))
        );
        assert_eq!(e("sheets row added -> email me"), Some((Provider::GOOGLE_SHEETS, "row.added".into())));
        assert_eq!(e("when a trello card moves to done"), Some((Provider::TRELLO, "card.moved".into())));
        assert_eq!(e("when someone mentions me in slack"), Some((Provider::SLACK, "mention".into())));
        assert_eq!(
            e("whenever a customer buys something"),
            Some((Provider::WEBHOOK, "request.received".into()))
        );
        // "merge" names the request here; it is not a typo of "merged".
        assert_eq!(
            e("when a merge request is opened in GitLab ping slack"),
            Some((Provider::GITLAB, "merge_request.opened".into()))
        );
        assert_eq!(e("when is my next meeting"), None);
        assert_eq!(e("once a day"), None);
        // Something happened, then what to do: no cue word needed.
        assert_eq!(
            e("zendesk ticket solved? email the customer"),
            Some((Provider::ZENDESK, "ticket.solved".into()))
        );
        assert_eq!(e("github build failed, tell #ci"), Some((Provider::GITHUB, "workflow.failed".into())));
        assert_eq!(e("the github report is ready, thanks"), None);
        assert_eq!(
            e("10 min before each calendar event, text me"),
            Some((Provider::GOOGLE_CALENDAR, "event.starting".into()))
        );
        assert_eq!(e("before the meeting, text me"), None);
        assert_eq!(e("my github issues, post them in #triage"), None);
    }

    #[test]
    fn strength() {
        assert_eq!(ev("whenever a file lands in dropbox").map(|x| x.2), Some(true));
        assert_eq!(ev("forward new emails to slack").map(|x| x.2), Some(false));
    }

    #[test]
    fn manual() {
        assert!(is_manual(&Toks::new("I want a button I can click")));
        assert!(is_manual(&Toks::new("run it on demand")));
        assert!(is_manual(&Toks::new("let me run it manually whenever I want")));
        assert!(!is_manual(&Toks::new("every day at 9")));
        assert!(is_manual(&Toks::new("something I can kick off from my phone")));
        assert!(is_manual(&Toks::new("an agent that, only when I tell it to, texts everyone")));
    }
}
