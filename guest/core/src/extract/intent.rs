//! Control intents ("back", "start over", "status", "help", "yes", "no", "quit"), change
//! requests and off-topic messages.
//!
//! [`intent`] fires only when the whole message is the intent: after lowercasing, dropping
//! punctuation, emoji and politeness ("please", "thanks", "ok", "kiln"), what is left must be
//! one of the known phrases. "yes, and also post it to #general" is therefore `None`, so the
//! engine treats it as content; [`leading_intent`] splits such a message into its leading
//! yes/no and the rest.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::Extraction;
use super::token::{Kind, Phrases, Toks};

/// Control intents the conversation engine reacts to in every phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Return to the previous phase ("back", "go back", "undo that").
    Back,
    /// Reset the conversation ("start over", "restart", "reset").
    StartOver,
    /// Say where we are ("status", "where are we?").
    Status,
    /// Explain what Kiln can do ("help", "what can you do?", "?").
    Help,
    /// Agree or confirm ("yes", "looks good", "ship it", "lgtm").
    Yes,
    /// Decline ("no", "nope", "not yet", "cancel").
    No,
    /// Leave ("quit", "exit", "bye", "stop").
    Quit,
}

const PHRASES: &[(Intent, &[&str])] = &[
    (
        Intent::Back,
        &[
            "back",
            "go back",
            "undo",
            "undo that",
            "undo it",
            "previous",
            "previous step",
            "go back a step",
            "back up",
            "step back",
            "one step back",
            "take me back",
            "go to the previous step",
            "revert",
            "revert that",
        ],
    ),
    (
        Intent::StartOver,
        &[
            "start over",
            "start again",
            "restart",
            "reset",
            "start from scratch",
            "begin again",
            "from the top",
            "start fresh",
            "let's start over",
            "lets start over",
            "start over again",
            "new conversation",
            "clear everything",
            "wipe it",
            "scrap it",
            "scrap that",
            "scrap everything",
        ],
    ),
    (
        Intent::Status,
        &[
            "status",
            "where are we",
            "where am i",
            "what's the status",
            "whats the status",
            "what is the status",
            "progress",
            "what's next",
            "whats next",
            "what now",
            "where were we",
            "status update",
            "show status",
            "summary so far",
            "what do we have so far",
            "what have we got",
            "recap",
        ],
    ),
    (
        Intent::Help,
        &[
            "help",
            "?",
            "what can you do",
            "how does this work",
            "how do i use this",
            "what do i do",
            "what should i say",
            "commands",
            "options",
            "i need help",
            "help me",
            "what can i say",
            "what are my options",
            "how does it work",
            "instructions",
            "i'm confused",
            "im confused",
            "i'm lost",
        ],
    ),
    (
        Intent::Yes,
        &[
            "yes",
            "y",
            "yep",
            "yup",
            "yeah",
            "yea",
            "ya",
            "sure",
            "ok",
            "okay",
            "k",
            "looks good",
            "look good",
            "sounds good",
            "looks great",
            "sounds great",
            "perfect",
            "great",
            "confirm",
            "confirmed",
            "i confirm",
            "go ahead",
            "go for it",
            "ship it",
            "lgtm",
            "do it",
            "correct",
            "that's right",
            "thats right",
            "right",
            "exactly",
            "absolutely",
            "of course",
            "approved",
            "approve",
            "activate",
            "activate it",
            "let's go",
            "lets go",
            "yes please",
            "all good",
            "good to go",
            "works for me",
            "fine",
            "that's fine",
            "sounds right",
            "proceed",
            "continue",
            "affirmative",
            "yes do it",
            "yes go ahead",
            "yes that's right",
            "turn it on",
            "switch it on",
            "👍",
            "✅",
        ],
    ),
    (
        Intent::No,
        &[
            "no",
            "n",
            "nope",
            "nah",
            "not yet",
            "cancel",
            "cancel that",
            "no thanks",
            "no thank you",
            "not now",
            "never mind",
            "nevermind",
            "don't",
            "dont",
            "do not",
            "wrong",
            "that's wrong",
            "thats wrong",
            "not right",
            "that's not right",
            "negative",
            "hold on",
            "wait",
            "not quite",
            "no way",
            "reject",
            "decline",
            "👎",
            "❌",
        ],
    ),
    (
        Intent::Quit,
        &[
            "quit",
            "exit",
            "bye",
            "goodbye",
            "good bye",
            "stop",
            "i'm done",
            "im done",
            "i am done",
            "end",
            "close",
            "leave",
            "see you",
            "later",
            "cya",
            "q",
        ],
    ),
];

/// Words dropped around an intent.
const FILLER: &[&str] =
    &["please", "pls", "plz", "thanks", "thank", "you", "thx", "ty", "kiln", "just", "hey", "hi", "oh"];

/// The message's words, lowercased, with punctuation dropped ("?" alone is kept); `toks`
/// are the tokens of `text`.
// Out of line, with `reads`: inlined into `intent_of`, they made the scan of 168 phrases, most
// of them rejected by length alone, ~3.5 K instructions slower per message in wasm (callgrind).
#[inline(never)]
fn normalised<'t>(text: &str, toks: &'t Toks) -> Vec<&'t str> {
    let mut words: Vec<&str> = Vec::new();
    for t in &toks.t {
        match t.kind {
            Kind::Punct => {
                if matches!(&*t.text, "👍" | "✅" | "👌" | "🚀" | "👎" | "❌") {
                    words.push(&t.text);
                }
            }
            _ => words.push(&t.text),
        }
    }
    // Politeness at either end.
    while words.len() > 1 && words.last().is_some_and(|w| FILLER.contains(w)) {
        words.pop();
    }
    while words.len() > 1
        && words.first().is_some_and(|w| FILLER.contains(w) || *w == "ok" || *w == "okay" || *w == "so")
    {
        words.remove(0);
    }
    if words.is_empty() && text.trim().chars().all(|c| c == '?') && text.contains('?') {
        words.push("?");
    }
    words
}

/// `phrase` is `words` joined by spaces (compared in place: no joined copy).
#[inline(never)]
fn reads(phrase: &str, words: &[&str]) -> bool {
    let mut rest = phrase;
    for (k, w) in words.iter().enumerate() {
        let after = if k == 0 { Some(rest) } else { rest.strip_prefix(' ') };
        match after.and_then(|r| r.strip_prefix(w)) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// The intent of a short message, if the whole message is one (see the module docs).
pub fn intent(text: &str) -> Option<Intent> {
    super::Reading::new(text).intent()
}

/// [`intent`] on already tokenised text.
pub(crate) fn intent_of(text: &str, toks: &Toks) -> Option<Intent> {
    if text.len() > 200 {
        return None;
    }
    let words = normalised(text, toks);
    if words.is_empty() {
        return None;
    }
    // The joined length rejects almost every phrase cheaply.
    let len = words.iter().map(|w| w.len() + 1).sum::<usize>() - 1;
    PHRASES
        .iter()
        .find(|(_, ps)| ps.iter().any(|p| p.len() == len && reads(p, &words)))
        .map(|(i, _)| *i)
        .or_else(|| going_back(&words))
        .or_else(|| yes_or_no(&words))
}

/// Words that say yes in a reply made only of reply words ("sure, looks good to me",
/// "perfect, activate", "yes go ahead and build it").
const YES_WORDS: &[&str] = &[
    "yes",
    "gd",
    "gud",
    "on",
    "yy",
    "ye",
    "yeh",
    "yah",
    "okie",
    "okey",
    "alrighty",
    "sgtm",
    "happy",
    "love",
    "cheers",
    "test",
    "try",
    "👌",
    "🚀",
    "yep",
    "yup",
    "yeah",
    "yea",
    "ya",
    "yas",
    "yess",
    "aye",
    "sure",
    "ok",
    "okay",
    "k",
    "kk",
    "perfect",
    "great",
    "good",
    "fine",
    "correct",
    "right",
    "exactly",
    "absolutely",
    "definitely",
    "certainly",
    "lgtm",
    "confirm",
    "confirmed",
    "approve",
    "approved",
    "proceed",
    "continue",
    "activate",
    "enable",
    "build",
    "ship",
    "deploy",
    "launch",
    "go",
    "awesome",
    "excellent",
    "cool",
    "nice",
    "brilliant",
    "lovely",
    "alright",
    "agreed",
    "agree",
    "sweet",
    "ready",
    "switch",
    "turn",
    "start",
    "run",
    "create",
    "wonderful",
    "fantastic",
    "amazing",
    "👍",
    "✅",
    // Yes in the languages people slip into.
    "ja",
    "jawohl",
    "genau",
    "si",
    "sí",
    "oui",
    "claro",
    "vale",
    "da",
    "sim",
];

/// Words that say no in such a reply ("nah not yet", "no, hold off", "don't activate it").
const NO_WORDS: &[&str] = &[
    "no",
    "nope",
    "nah",
    "naw",
    "nay",
    "not",
    "don't",
    "dont",
    "never",
    "cancel",
    "hold",
    "wait",
    "stop",
    "later",
    "decline",
    "reject",
    "negative",
    "n",
    "off",
    "wrong",
    "incorrect",
    "👎",
    "❌",
    "nein",
    "nicht",
    "non",
    "nee",
    "não",
];

/// Words that change nothing about a yes or a no.
const REPLY_FILLER: &[&str] = &[
    "it",
    "live",
    // What is being confirmed: "the dry run looks right", "the draft looks fine to me".
    "dry",
    "draft",
    "preview",
    "result",
    "results",
    "output",
    "sample",
    "summary",
    "plan",
    "setup",
    "it's",
    "its",
    "that",
    "that's",
    "thats",
    "this",
    "is",
    "to",
    "me",
    "and",
    "then",
    "now",
    "the",
    "a",
    "please",
    "pls",
    "plz",
    "thanks",
    "thank",
    "you",
    "just",
    "so",
    "all",
    "looks",
    "look",
    "sounds",
    "sound",
    "seems",
    "seem",
    "be",
    "set",
    "let's",
    "lets",
    "let",
    "us",
    "i",
    "i'm",
    "im",
    "think",
    "we",
    "can",
    "for",
    "up",
    "away",
    "really",
    "very",
    "totally",
    "everything",
    "one",
    "kiln",
    "mate",
    "hey",
    "hi",
    "oh",
    "with",
    "by",
    "as",
    "well",
    "yet",
    "do",
    "there",
    "here",
    "thing",
    "agent",
    "bot",
    "ahead",
    "already",
    "quite",
    "pretty",
    "super",
    "much",
    "should",
    "will",
    "my",
    "our",
    "works",
    "work",
    "makes",
    "sense",
    "today",
    "right",
    "more",
    "bit",
    "moment",
    "sec",
    "second",
    "minute",
    // Office English: "Yes kindly proceed", "It is looking fine", "activate the same".
    "kindly",
    "looking",
    "same",
    "appears",
];

/// Two-word replies whose first word would read as a no.
const YES_PAIRS: &[[&str; 2]] = &[
    ["no", "problem"],
    ["no", "worries"],
    ["why", "not"],
    ["not", "bad"],
    ["do", "it"],
    ["that", "works"],
    ["it", "works"],
    ["please", "do"],
    ["spot", "on"],
    ["all", "set"],
    ["set", "up"],
    ["make", "it"],
    ["that's", "it"],
    ["thats", "it"],
    ["that's", "all"],
    ["thats", "all"],
    ["do", "this"],
    ["carry", "on"],
    ["bang", "on"],
    ["nothing", "else"],
    // "no changes, looks good": nothing to change is a yes.
    ["no", "changes"],
    ["no", "change"],
    ["no", "issues"],
    ["no", "problems"],
    ["no", "complaints"],
];

/// A reply made only of yes/no words and filler: no when any word says no, else yes.
fn yes_or_no(words: &[&str]) -> Option<Intent> {
    let (mut yes, mut no) = (false, false);
    let mut i = 0;
    while i < words.len() {
        if words.get(i + 1).is_some_and(|next| YES_PAIRS.iter().any(|p| p[0] == words[i] && p[1] == *next)) {
            yes = true;
            i += 2;
            continue;
        }
        let w = words[i];
        if NO_WORDS.contains(&w) {
            no = true;
        } else if YES_WORDS.contains(&w) {
            yes = true;
        } else if !REPLY_FILLER.contains(&w) {
            return None;
        }
        i += 1;
    }
    if no {
        Some(Intent::No)
    } else if yes {
        Some(Intent::Yes)
    } else {
        None
    }
}

/// What "back to the ..." may name: a part of the conversation, not something to use.
const BACK_TOPICS: &[&str] = &[
    "schedule",
    "time",
    "timing",
    "times",
    "channel",
    "details",
    "detail",
    "requirements",
    "summary",
    "previous",
    "last",
    "step",
    "question",
    "draft",
    "dry",
    "run",
    "test",
    "testing",
    "apps",
    "app",
    "integrations",
    "trigger",
    "days",
    "day",
    "timezone",
    "zone",
    "recipients",
    "it",
    "that",
    "there",
    "before",
    "questions",
    "part",
    "bit",
    "one",
    "page",
    "earlier",
    "settings",
    "plan",
];

/// "let's go back to the schedule", "can we go back", "take me back to the details": a way
/// back in words. "go back to using Slack" is content (its topic is not a part of the
/// conversation); "back to the start" is starting over.
fn going_back(words: &[&str]) -> Option<Intent> {
    let pos = words.iter().position(|w| *w == "back")?;
    let lead = &words[..pos];
    let lead_ok = lead.iter().all(|w| {
        matches!(
            *w,
            "let's"
                | "lets"
                | "let"
                | "us"
                | "can"
                | "could"
                | "we"
                | "i"
                | "want"
                | "to"
                | "go"
                | "take"
                | "me"
                | "step"
                | "get"
                | "going"
                | "please"
                | "wanna"
                | "need"
                | "like"
                | "would"
                | "i'd"
        )
    });
    if !lead_ok || lead.is_empty() && words.len() == 1 {
        return None;
    }
    let rest: Vec<&str> = words[pos + 1..]
        .iter()
        .copied()
        .filter(|w| {
            !matches!(*w, "to" | "the" | "my" | "a" | "of" | "that" | "please" | "again" | "up" | "one")
        })
        .collect();
    if rest.iter().any(|w| matches!(*w, "start" | "beginning" | "scratch")) {
        return Some(Intent::StartOver);
    }
    rest.iter().all(|w| BACK_TOPICS.contains(w)).then_some(Intent::Back)
}

/// A leading yes or no followed by more content: "yes, and also post it to #general" ->
/// `(Yes, "and also post it to #general")`, "no, make it 8" -> `(No, "make it 8")`. `None`
/// when the message does not start with yes/no or has nothing after it (use [`intent`]).
pub fn leading_intent(text: &str) -> Option<(Intent, &str)> {
    const LEADS: &[(&str, Intent)] = &[
        ("yes please", Intent::Yes),
        ("yes", Intent::Yes),
        ("yep", Intent::Yes),
        ("yup", Intent::Yes),
        ("yeah", Intent::Yes),
        ("sure", Intent::Yes),
        ("ok", Intent::Yes),
        ("okay", Intent::Yes),
        ("looks good", Intent::Yes),
        ("sounds good", Intent::Yes),
        ("perfect", Intent::Yes),
        ("great", Intent::Yes),
        ("lgtm", Intent::Yes),
        ("oui", Intent::Yes),
        ("si", Intent::Yes),
        ("ja", Intent::Yes),
        ("no thanks", Intent::No),
        ("no", Intent::No),
        ("nope", Intent::No),
        ("nah", Intent::No),
        ("not quite", Intent::No),
        ("non", Intent::No),
        ("nein", Intent::No),
    ];
    let trimmed = text.trim_start();
    let head = trimmed.char_indices().nth(16).map_or(trimmed, |(end, _)| &trimmed[..end]);
    // Leads are lowercase ASCII and compared ignoring ASCII case, so only a head with other
    // characters needs a lowercased copy.
    let head = if head.is_ascii() { Cow::Borrowed(head) } else { Cow::Owned(crate::case::lower(head)) };
    for (lead, intent) in LEADS {
        if !head.as_bytes().get(..lead.len()).is_some_and(|h| h.eq_ignore_ascii_case(lead.as_bytes())) {
            continue;
        }
        // `lead` is ASCII, so its lowercase form has the same length in `trimmed`.
        let Some(rest) = trimmed.get(lead.len()..) else { continue };
        // The lead must end at a word boundary.
        if rest.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '\'') {
            continue;
        }
        let rest = rest.trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, ',' | '.' | '!' | '-' | ':' | ';' | '—')
        });
        let rest = rest.trim_end();
        if rest.chars().any(char::is_alphanumeric) {
            return Some((*intent, rest));
        }
        return None;
    }
    None
}

/// The yes or no of a reply that leads with one and says nothing more after it: "yep, sounds
/// like a plan" is yes, "no, hold off for now" is no, "no, go back" is back. `None` when the
/// rest carries a requirement or a change ("yes but post to #ops", "no, make it 8"): that is
/// content, to be applied.
pub fn reply_intent(text: &str) -> Option<Intent> {
    leading_reply(text).or_else(|| trailing_reply(text))
}

fn leading_reply(text: &str) -> Option<Intent> {
    let (lead, rest) = leading_intent(text)?;
    let rest = super::Reading::new(rest);
    if let Some(i) = rest.intent() {
        return Some(i);
    }
    let (ex, change) = rest.extract_with_change();
    (ex.is_empty() && !change).then_some(lead)
}

/// An aside, then the answer: "haha sorry, my cat walked on the keyboard. anyway yes build
/// it". The last sentence (or what follows "anyway") is a yes or a no, and what comes before
/// it asks for nothing.
fn trailing_reply(text: &str) -> Option<Intent> {
    let (head, tail) = last_part(text)?;
    let intent = super::Reading::new(tail).intent().or_else(|| leading_reply(tail))?;
    let (ex, change) = super::Reading::new(head).extract_with_change();
    (matches!(intent, Intent::Yes | Intent::No) && ex.is_empty() && !change).then_some(intent)
}

/// "hmm no, that's the wrong form tool. start over": a message whose last sentence is a way
/// back or a fresh start asks for it, whatever came before (starting over is confirmed first).
pub fn closing_control(text: &str) -> Option<Intent> {
    let (_, tail) = last_part(text)?;
    super::Reading::new(tail).intent().filter(|i| matches!(i, Intent::StartOver | Intent::Back))
}

/// The text before and after its last sentence break (or its last "anyway"), both non-empty.
fn last_part(text: &str) -> Option<(&str, &str)> {
    let lower = text.to_ascii_lowercase();
    let word_at = |at: usize, len: usize| {
        let alnum = |c: char| c.is_ascii_alphanumeric();
        !lower[..at].ends_with(alnum) && !lower[at + len..].starts_with(alnum)
    };
    let marker = ["anyway", "anyways", "in any case"]
        .iter()
        .filter_map(|m| {
            lower.rmatch_indices(m).find(|&(at, _)| word_at(at, m.len())).map(|(at, _)| at + m.len())
        })
        .max();
    let sentence = lower
        .char_indices()
        .rev()
        .find(|(k, c)| matches!(c, '.' | '!' | '?') && lower[k + 1..].starts_with(char::is_whitespace))
        .map(|(k, _)| k + 1);
    let cut = marker.or(sentence)?;
    let (head, tail) = (&text[..cut], &text[cut..]);
    let tail = tail.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | ';' | '-'));
    (!tail.is_empty() && !head.trim().is_empty()).then_some((head, tail))
}

/// Change markers, as token sequences, sorted: looked up by their first byte.
static CHANGES: Phrases = Phrases::new(&[
    &["actually"],
    &["adjust"],
    &["also", "add"],
    &["can", "you", "also"],
    &["change"],
    &["changed"],
    &["could", "you", "also"],
    &["do", "not"],
    &["don't"],
    &["dont"],
    &["drop", "the"],
    &["edit"],
    &["how", "about"],
    &["instead"],
    &["make", "it"],
    &["make", "that"],
    &["make", "the"],
    &["modify"],
    &["move", "it"],
    &["move", "the"],
    &["no", "longer"],
    &["not"],
    &["rather"],
    &["remove"],
    &["replace"],
    &["scratch", "that"],
    &["set", "it", "to"],
    &["swap"],
    &["switch"],
    &["tweak"],
    &["update", "it"],
    &["wait"],
    &["what", "about"],
]);

/// The message asks to change something already said ("make it 8 instead", "change the
/// channel to #ops", "actually use Outlook", "can you also ...", "not 9, 8").
pub fn is_change_request(text: &str) -> bool {
    super::Reading::new(text).is_change_request()
}

/// [`is_change_request`] on already tokenised text; after a leading yes/no, the rest is
/// judged on its own ("yes, and also post it to #general").
pub(crate) fn change_text(text: &str, toks: &Toks) -> bool {
    change_toks(toks) || leading_intent(text).is_some_and(|(_, rest)| change_toks(&Toks::new(rest)))
}

fn change_toks(toks: &Toks) -> bool {
    if toks.len() == 0 {
        return false;
    }
    // A negation changes something only when it names the value it takes back ("not 9, 8",
    // "don't post to Slack"); "invoices not paid" is a condition.
    let negation = |i: usize| toks.is_any(i, &["not", "don't", "dont"]) || toks.seq(i, &["do", "not"]);
    if (0..toks.len()).any(|i| toks.starts_phrase(i, &CHANGES) && (!negation(i) || names_a_value(toks, i))) {
        return true;
    }
    // "also ...", "use Outlook", "no, post it in #x" at the start of a message.
    toks.is_any(0, &["also", "plus", "use", "no", "nope", "nah"]) && toks.len() > 1
        || toks.seq(0, &["and", "also"])
}

/// A value within the few words after `i`: a number, channel, address, zone, URL, day or tool.
fn names_a_value(toks: &Toks, i: usize) -> bool {
    (i + 1..(i + 5).min(toks.len())).any(|k| {
        matches!(toks.kind(k), Some(Kind::Number | Kind::Channel | Kind::Email | Kind::Zone | Kind::Url))
            || super::days::is_day_name(toks, k)
            || super::catalog::mentions(&Toks::new(toks.text(k))).iter().any(|m| m.explicit)
    })
}

/// Words that show the message is about building an agent, even with nothing extracted.
const DOMAIN: &[&str] = &[
    "agent",
    "agents",
    "automation",
    "automations",
    "automate",
    "automatically",
    "workflow",
    "workflows",
    "bot",
    "bots",
    "schedule",
    "scheduled",
    "trigger",
    "triggers",
    "integration",
    "integrations",
    "connect",
    "connected",
    "run",
    "runs",
    "account",
    "accounts",
    "oauth",
    "draft",
    "test",
    "activate",
    "deploy",
    "summary",
    "summaries",
    "notify",
    "notifications",
    "channel",
    "time",
    "timezone",
    "daily",
    "weekly",
    "kiln",
    "step",
    "steps",
    "task",
    "tasks",
    "build",
    "setup",
    "set",
    "configure",
    "support",
    "supported",
    "work",
    "works",
    "permission",
    "permissions",
    "scope",
    "scopes",
    "app",
    "apps",
    "tool",
    "tools",
];

/// Nothing the rules understand and not an intent: "what's the weather?", "tell me a joke".
/// Empty messages are not off-topic (there is nothing to answer).
pub fn looks_off_topic(text: &str, ex: &Extraction) -> bool {
    super::Reading::new(text).looks_off_topic(ex)
}

/// [`looks_off_topic`] on already tokenised text. A message of whitespace has no tokens, so
/// the punctuation check also covers it.
pub(crate) fn off_topic(text: &str, toks: &Toks, ex: &Extraction) -> bool {
    if toks.t.iter().all(|t| t.kind == Kind::Punct) || intent_of(text, toks).is_some() {
        return false;
    }
    let empty = ex.integrations.is_empty()
        && ex.trigger.is_none()
        && ex.time.is_none()
        && ex.days.is_none()
        && ex.timezone.is_none()
        && ex.channel.is_none()
        && ex.email_filter.is_none()
        && ex.recipients.is_empty()
        && ex.actions.is_empty();
    empty && !change_text(text, toks) && !toks.has_any(DOMAIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract;

    #[test]
    fn more_ways_to_say_yes() {
        for p in [
            "let's do it",
            "that works",
            "yes make it live",
            "wonderful",
            "spot on",
            "all set",
            "create it",
            "go live",
            "ya looks gd",
            "that's it",
            "on",
            "no changes, looks good",
            "the dry run looks right",
            "the draft looks fine to me",
            "let's do this",
            "test it",
            "sgtm",
            "👌",
            "Yes kindly proceed",
            "It is looking fine",
            "Yes please activate the same",
        ] {
            assert_eq!(intent(p).or_else(|| reply_intent(p)), Some(Intent::Yes), "{p}");
        }
        // A pair with a value after it is content, not a yes.
        assert_eq!(intent("make it 8"), None);
        assert_eq!(intent("on hold"), Some(Intent::No));
        assert_eq!(intent("no, change the time"), None);
        assert_eq!(intent("test it tomorrow"), None);
        assert_eq!(intent("is that it?"), None);
    }

    #[test]
    fn a_closing_start_over_or_back() {
        assert_eq!(
            closing_control("hmm no, that's the wrong form tool. start over"),
            Some(Intent::StartOver)
        );
        assert_eq!(closing_control("that was wrong. go back"), Some(Intent::Back));
        assert_eq!(closing_control("that was wrong. yes"), None);
        assert_eq!(closing_control("start over"), None, "a whole message is intent() itself");
        assert_eq!(closing_control("post it to #ops. start over the count each week"), None);
    }

    #[test]
    fn an_aside_then_the_answer() {
        let r = reply_intent;
        assert_eq!(
            r("haha sorry my cat just walked across the keyboard. anyway yes build it"),
            Some(Intent::Yes)
        );
        assert_eq!(r("my cat is on the keyboard, anyway: no, not yet"), Some(Intent::No));
        assert_eq!(r("had a long day. looks good"), Some(Intent::Yes));
        // What comes before asks for something: it is content, not a yes.
        assert_eq!(r("make it 8am. anyway yes"), None);
        assert_eq!(r("post it to #ops. yes"), None);
        assert_eq!(r("anyway"), None);
    }

    /// [`change_toks`] finds markers by their first byte in a sorted table, so they must stay
    /// sorted and unique.
    #[test]
    fn changes_sorted() {
        let all = CHANGES.all();
        assert!(all.is_sorted_by(|a, b| a < b), "{all:?}");
    }

    #[test]
    fn whole_message_intents() {
        for (s, want) in [
            ("back", Intent::Back),
            ("Go back.", Intent::Back),
            ("undo that", Intent::Back),
            ("start over", Intent::StartOver),
            ("Restart!", Intent::StartOver),
            ("reset", Intent::StartOver),
            ("status", Intent::Status),
            ("where are we?", Intent::Status),
            ("help", Intent::Help),
            ("What can you do?", Intent::Help),
            ("?", Intent::Help),
            ("yes", Intent::Yes),
            ("Yep!", Intent::Yes),
            ("sure", Intent::Yes),
            ("looks good", Intent::Yes),
            ("confirm", Intent::Yes),
            ("go ahead", Intent::Yes),
            ("ship it", Intent::Yes),
            ("LGTM", Intent::Yes),
            ("do it", Intent::Yes),
            ("yes please", Intent::Yes),
            ("ok thanks", Intent::Yes),
            ("👍", Intent::Yes),
            ("no", Intent::No),
            ("nope", Intent::No),
            ("not yet", Intent::No),
            ("cancel", Intent::No),
            ("no thanks", Intent::No),
            ("quit", Intent::Quit),
            ("bye!", Intent::Quit),
        ] {
            assert_eq!(intent(s), Some(want), "{s:?}");
        }
    }

    #[test]
    fn content_is_not_an_intent() {
        for s in [
            "yes, and also post it to #general",
            "no, make it 8",
            "help me summarise my gmail",
            "go back to using slack",
            "do it every day at 9",
            "",
            "   ",
            "start over the summary with the newest emails",
        ] {
            assert_eq!(intent(s), None, "{s:?}");
        }
    }

    #[test]
    fn leading() {
        assert_eq!(
            leading_intent("yes, and also post it to #general"),
            Some((Intent::Yes, "and also post it to #general"))
        );
        assert_eq!(leading_intent("No - make it 8"), Some((Intent::No, "make it 8")));
        assert_eq!(leading_intent("nope, Fridays"), Some((Intent::No, "Fridays")));
        assert_eq!(leading_intent("yes"), None);
        assert_eq!(leading_intent("yesterday's emails"), None);
        assert_eq!(leading_intent("notion"), None);
        assert_eq!(leading_intent("ok"), None);
    }

    #[test]
    fn change_requests() {
        for s in [
            "make it 8 instead",
            "change the channel to #ops",
            "actually use Outlook",
            "can you also post to #general",
            "not 9, 8",
            "rather on Fridays",
            "yes, and also post it to #general",
            "switch slack to teams",
        ] {
            assert!(is_change_request(s), "{s:?}");
        }
        for s in [
            "every weekday at 9 summarise my gmail and post to slack",
            "yes",
            "",
            "when a PR is merged post to #deploys",
        ] {
            assert!(!is_change_request(s), "{s:?}");
        }
    }

    #[test]
    fn off_topic() {
        for s in ["what's the weather?", "tell me a joke", "who won the game last night"] {
            assert!(looks_off_topic(s, &extract(s)), "{s:?}");
        }
        for s in [
            "summarise my gmail",
            "yes",
            "make it 8 instead",
            "",
            "What integrations do you support?",
            "every day at 9",
            "?",
        ] {
            assert!(!looks_off_topic(s, &extract(s)), "{s:?}");
        }
    }
}
