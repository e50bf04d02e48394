//! What the agent does, as verbs from a small vocabulary ([`ACTIONS`]).
//!
//! Verbs are read with what follows them in the clause: "post/send/share ... to Slack or
//! #channel" is `post_message`, "... by email / to bob@x.com" is `send_email`, "create /
//! add / make / open / file / log ... \<thing>" depends on the thing (issue -> `create_issue`,
//! task or card -> `create_task`, row or sheet -> `append_row`, event or meeting ->
//! `create_event`, page or note -> `create_page`, contact or lead -> `create_record`, file ->
//! `save_file`) or else on the destination's provider ("add them to HubSpot").

use super::catalog::{Mention, Provider};
use super::token::{Kind, Toks, fuzzy_eq};

/// Every action [`super::extract`] can report, in no particular order.
pub const ACTIONS: &[&str] = &[
    "summarise",
    "notify",
    "forward",
    "reply",
    "post_message",
    "send_email",
    "create_issue",
    "create_task",
    "create_page",
    "create_record",
    "update_record",
    "append_row",
    "create_event",
    "save_file",
    "call_webhook",
    "archive",
    "label",
    "mark_read",
    "translate",
    "sync",
];

// Word lists as `matches!`, not slices searched with `contains`: they are tested for every
// token, and a match on string literals compiles to a switch on the length and inline
// compares, where `contains` calls `memcmp` for every entry of the same length.

/// Verbs that send or post something.
fn is_send(w: &str) -> bool {
    matches!(
        w,
        "send"
            | "post"
            | "share"
            | "drop"
            | "publish"
            | "announce"
            | "dm"
            | "message"
            | "deliver"
            | "celebrate"
            | "sned"
    )
}

/// Verbs that create or write something.
fn is_create(w: &str) -> bool {
    matches!(
        w,
        "create"
            | "creat"
            | "add"
            | "make"
            | "open"
            | "file"
            | "raise"
            | "log"
            | "put"
            | "turn"
            | "convert"
            | "write"
            | "append"
            | "insert"
            | "record"
            | "generate"
            | "schedule"
            | "book"
            | "block"
            | "track"
            | "capture"
            | "save"
            | "store"
            | "upload"
            | "backup"
            | "copy"
            | "export"
            | "move"
            | "update"
            | "push"
            | "dump"
            | "catalogue"
            | "catalog"
    )
}

/// Words before a verb-looking word that make it a noun ("a file", "the log").
fn is_determiner(w: &str) -> bool {
    matches!(
        w,
        "a" | "an"
            | "the"
            | "my"
            | "new"
            | "each"
            | "every"
            | "this"
            | "that"
            | "any"
            | "of"
            | "per"
            | "your"
            | "our"
            | "his"
            | "her"
            | "their"
            | "its"
            | "on"
            | "is"
            | "are"
            | "was"
            | "someone"
            | "somebody"
            | "anyone"
            | "who"
    )
}

/// Prepositions before a destination.
fn is_prep(w: &str) -> bool {
    matches!(w, "to" | "in" | "into" | "on" | "via" | "by" | "over" | "as" | "through" | "onto" | "inside")
}

/// Words that end a verb's object ("make something that whenever ...").
fn is_stop(w: &str) -> bool {
    matches!(
        w,
        "that"
            | "which"
            | "who"
            | "whenever"
            | "when"
            | "if"
            | "and"
            | "then"
            | "so"
            | "but"
            | "every"
            | "each"
    )
}

fn object_action(w: &str, update: bool) -> Option<&'static str> {
    Some(match w {
        "issue" | "issues" | "bug" | "bugs" | "ticket" | "tickets" | "isue" => "create_issue",
        "task" | "tasks" | "todo" | "todos" | "to-do" | "card" | "cards" | "checklist" | "project"
        | "subtask" => "create_task",
        "row" | "rows" | "line" | "lines" | "sheet" | "sheets" | "spreadsheet" | "spreadsheets" => {
            "append_row"
        }
        "event" | "events" | "meeting" | "meetings" | "invite" | "calendar" | "appointment" | "focus" => {
            "create_event"
        }
        "page" | "pages" | "note" | "notes" | "doc" | "wiki" | "entry" | "entries" => "create_page",
        "contact" | "contacts" | "lead" | "leads" | "deal" | "deals" | "record" | "records" | "person"
        | "customer" | "opportunity" => {
            if update {
                "update_record"
            } else {
                "create_record"
            }
        }
        "file" | "files" | "pdf" | "attachment" | "attachments" | "folder" | "backup" | "copy" | "photos" => {
            "save_file"
        }
        "message" | "messages" | "dm" | "post" => "post_message",
        "email" | "emails" => "send_email",
        _ => return None,
    })
}

/// What sending something to `p` does: its sink's action, the update form for records.
fn provider_action(p: Provider, update: bool) -> Option<&'static str> {
    let act = p.tool().sink?.act;
    Some(if update && act == "create_record" { "update_record" } else { act })
}

/// The actions in `toks`, in order of first mention.
pub(crate) fn find_actions(toks: &Toks, mentions: &[Mention]) -> Vec<String> {
    let mut found: Vec<(usize, &'static str)> = Vec::new();
    let provider_at = |k: usize| mentions.iter().find(|m| m.pos == k && !m.negated).map(|m| m.provider);
    for i in 0..toks.len() {
        let w = toks.word(i);
        if w.is_empty() {
            continue;
        }
        let prev = i.checked_sub(1).map_or("", |p| toks.text(p));
        let noun_use = is_determiner(prev);
        let mut push = |a: &'static str| found.push((i, a));
        if is_summarise(w) || toks.seq(i, &["sum", "up"]) || toks.seq(i, &["round", "up"]) {
            push("summarise");
            continue;
        }
        match w {
            "translate" | "translates" | "translated" | "translation" | "translating" => {
                push("translate");
                continue;
            }
            "forward" | "fwd" | "relay" | "forwarding" if prev != "look" && prev != "going" => {
                // Then, like "send", where to.
                push("forward");
            }
            "reply" | "respond" | "autoreply" | "auto-reply" if !noun_use && prev != "i" => {
                push("reply");
                continue;
            }
            "archive" | "archiving" => {
                push("archive");
                continue;
            }
            "sync" | "syncing" | "synchronise" | "synchronize" | "mirror" => {
                push("sync");
                continue;
            }
            "mark" if (i + 1..(i + 4).min(toks.len())).any(|k| toks.is(k, "read")) => {
                push("mark_read");
                continue;
            }
            "label" | "tag" | "labelling" | "labeling" | "tagging"
                if !noun_use
                    && (w.ends_with("ing")
                        || toks.is_any(
                            i + 1,
                            &[
                                "it", "them", "each", "every", "all", "emails", "as", "with", "incoming",
                                "new",
                            ],
                        )) =>
            {
                push("label");
                continue;
            }
            "notify" | "notifies" | "notification" | "notifications" | "alert" | "ping" | "remind"
            | "reminder" | "reminders" | "warn" | "nudge" | "sms" | "text" | "tell" => {
                if w == "text" && !toks.is_any(i + 1, &["me", "us", "him", "her", "them"]) {
                    continue;
                }
                // "tell me a joke", "tell me about ..." are not notifications.
                if w == "tell"
                    && (toks.is_any(i + 2, &["a", "an", "about", "what", "how", "why", "who", "more", "the"])
                        || !toks.is_any(i + 1, &["me", "us", "them", "everyone", "the"])
                            && toks.kind(i + 1) != Some(Kind::Channel))
                {
                    continue;
                }
                push("notify");
                continue;
            }
            "let" if toks.seq(i + 1, &["me", "know"]) || toks.seq(i + 1, &["us", "know"]) => {
                push("notify");
                continue;
            }
            "page"
                if toks.is_any(i + 1, &["me", "the", "us", "someone", "on-call", "oncall"]) && !noun_use =>
            {
                push("notify");
                continue;
            }
            _ => {}
        }
        // "email me", "e-mail it to ...", "mail it"
        if matches!(w, "email" | "mail") && !noun_use {
            let e_mail = w == "mail" && toks.seq_before(i, &["e", "-"]);
            let first = if e_mail { i - 2 } else { i };
            let before = first.checked_sub(1).map_or("", |p| toks.text(p));
            let verb_next = toks.is_any(
                i + 1,
                &["me", "it", "them", "him", "her", "us", "everyone", "to", "the", "a", "this"],
            ) || toks.kind(i + 1) == Some(Kind::Email);
            let by_mail = ["by", "via", "over", "as", "in", "into", "per"].contains(&before);
            if verb_next
                && !is_determiner(before)
                && !by_mail
                && (w == "email" || e_mail || toks.is_any(i + 1, &["it", "me"]))
            {
                push("send_email");
                continue;
            }
        }
        // "by email", but not "the PDFs I receive by email".
        let received = (i.saturating_sub(3)..i).any(|k| {
            toks.is_any(
                k,
                &[
                    "receive", "received", "receives", "get", "gets", "got", "arrive", "arrives", "comes",
                    "come",
                ],
            )
        });
        if ["by", "via", "over"].contains(&prev) && matches!(w, "email" | "e") && !received {
            push("send_email");
            continue;
        }
        if toks.seq(i, &["into", "an", "email"])
            || toks.seq(i, &["in", "an", "email"])
            || toks.seq(i, &["as", "an", "email"])
        {
            push("send_email");
            continue;
        }
        let forward = matches!(w, "forward" | "fwd" | "relay" | "forwarding");
        let send = is_send(w) || forward;
        let create = is_create(w) || toks.seq(i, &["back", "up"]);
        if !(send || create) || noun_use {
            continue;
        }
        if w == "open" && !toks.is_any(i + 1, &["a", "an", "the", "new"]) {
            continue;
        }
        // "message me", "DM the team"; not "a Slack message".
        if matches!(w, "message" | "dm")
            && !(toks.is_any(i + 1, &["me", "us", "them", "him", "her", "everyone", "the", "it"])
                || toks.kind(i + 1) == Some(Kind::Channel))
        {
            continue;
        }
        let update = w == "update";
        let end = toks.clause_end(i).min(i + 12);
        let mut after_prep = false;
        let mut first: Option<&'static str> = None;
        let mut chosen: Option<&'static str> = None;
        for k in i + 1..end {
            if is_stop(toks.text(k)) && k > i + 1 {
                break;
            }
            let kw = toks.text(k);
            let cand = if toks.kind(k) == Some(Kind::Channel) {
                Some("post_message")
            } else if toks.kind(k) == Some(Kind::Email) {
                Some("send_email")
            } else if let Some(p) = provider_at(k) {
                // Generic mail words as a destination mean e-mail; as a thing, they are the source.
                if after_prep || create { provider_action(p, update) } else { None }
            } else if send {
                match kw {
                    "channel" | "dm" | "slack" => Some("post_message"),
                    "email" | "e-mail" | "inbox" => Some("send_email"),
                    _ => None,
                }
            } else {
                object_action(kw, update)
            };
            if is_prep(kw) {
                after_prep = true;
            }
            if let Some(c) = cand {
                if create && !after_prep && object_action(kw, update).is_some() {
                    chosen = Some(c);
                    break;
                }
                if after_prep {
                    chosen = Some(c);
                    break;
                }
                first.get_or_insert(c);
            }
        }
        let action = chosen.or(first).or(match w {
            _ if forward => None,
            "post" | "dm" | "message" | "share" | "announce" | "publish" | "celebrate" => {
                Some("post_message")
            }
            "send" | "sned" if toks.is_any(i + 1, &["me", "us"]) => Some("notify"),
            "save" | "store" | "upload" | "backup" | "copy" | "export" | "dump" => Some("save_file"),
            "back" => Some("save_file"),
            _ => None,
        });
        if let Some(a) = action {
            found.push((i, a));
        }
    }
    let mut out: Vec<String> = Vec::new();
    for (_, a) in found {
        if !out.iter().any(|x| x == a) {
            out.push(a.to_string());
        }
    }
    out
}

fn is_summarise(w: &str) -> bool {
    matches!(
        w,
        "summarise"
            | "summarize"
            | "summarised"
            | "summarized"
            | "summarising"
            | "summarizing"
            | "summary"
            | "summaries"
            | "digest"
            | "digests"
            | "recap"
            | "recaps"
            | "roundup"
            | "tldr"
            | "overview"
            | "briefing"
    ) || (w.len() >= 7 && (fuzzy_eq(w, "summarise") || fuzzy_eq(w, "summarize")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::catalog::mentions;

    fn acts(s: &str) -> Vec<String> {
        let t = Toks::new(s);
        find_actions(&t, &mentions(&t))
    }

    #[test]
    fn vocabulary() {
        assert_eq!(
            acts("summarise my unread Gmail and post it to Slack #team"),
            ["summarise", "post_message"]
        );
        assert_eq!(acts("sumarize my email and email it to me"), ["summarise", "send_email"]);
        assert_eq!(acts("create a card in Trello"), ["create_task"]);
        assert_eq!(acts("open a ticket in Jira"), ["create_issue"]);
        assert_eq!(acts("add them to HubSpot and tell #sales"), ["create_record", "notify"]);
        assert_eq!(
            acts("save the PDF to Google Drive and log it in a spreadsheet"),
            ["save_file", "append_row"]
        );
        assert_eq!(acts("forward it to slack"), ["forward", "post_message"]);
        assert_eq!(acts("create an event in my calendar"), ["create_event"]);
        assert_eq!(acts("write a Notion page"), ["create_page"]);
        assert_eq!(acts("archive all read emails"), ["archive"]);
        assert_eq!(acts("translate it to English"), ["translate"]);
        assert_eq!(acts("send me a summary"), ["notify", "summarise"]);
        assert_eq!(acts("send a summary to ops@acme.de"), ["send_email", "summarise"]);
        assert_eq!(acts("update the matching HubSpot contact"), ["update_record"]);
        assert_eq!(acts("page the on-call in Teams"), ["notify"]);
        assert_eq!(acts("back up my notion workspace to dropbox"), ["save_file"]);
        assert_eq!(acts("a new file"), Vec::<String>::new());
        assert_eq!(acts("save every PDF I receive by email to Dropbox"), ["save_file"]);
        for a in acts("summarise, notify, post, email me, archive, label them, mark as read") {
            assert!(ACTIONS.contains(&a.as_str()), "{a} is in the vocabulary");
        }
    }
}
