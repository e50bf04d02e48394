//! Conditions: what limits the items an agent acts on, kept in the person's words as filters
//! ("urgent", "over $500", "from my manager", "mentioning \"refund\"").
//!
//! Read: amounts after over/above/more than/at least/under/below/less than; senders and
//! authors after "from my/our `<role>`"; priority and state adjectives (urgent, critical,
//! high-priority, P1, VIP, overdue, unpaid, unanswered, unassigned, negative); keywords after
//! containing/mentioning/with the word/about + a quoted word; "only ..." up to the end of its
//! clause when it is none of the above and not a time, day or tool ("only the ones tagged
//! billing"). E-mail operators (unread, label, subject) stay in the e-mail filter.

use super::token::{Kind, Toks};

/// Comparison words before an amount, and how a condition reads them.
const COMPARE: &[(&[&str], &str)] = &[
    (&["over"], "over"),
    (&["above"], "over"),
    (&["more", "than"], "over"),
    (&["more", "then"], "over"),
    (&[">"], "over"),
    (&["<"], "under"),
    (&["more", "of"], "over"),
    (&["greater", "than"], "over"),
    (&["bigger", "than"], "over"),
    (&["larger", "than"], "over"),
    (&["exceeding"], "over"),
    (&["exceeds"], "over"),
    (&["at", "least"], "at least"),
    (&["under"], "under"),
    (&["below"], "under"),
    (&["less", "than"], "under"),
    (&["smaller", "than"], "under"),
];

/// Adjectives that filter items by priority or state, as the condition names them.
const STATES: &[(&str, &str)] = &[
    ("urgent", "urgent"),
    ("critical", "critical"),
    ("p0", "P0"),
    ("p1", "P1"),
    ("p2", "P2"),
    ("vip", "VIP"),
    ("overdue", "overdue"),
    ("unpaid", "unpaid"),
    ("unanswered", "unanswered"),
    ("unassigned", "unassigned"),
    ("negative", "negative"),
    ("angry", "angry"),
    ("escalated", "escalated"),
    ("blocked", "blocked"),
    ("flagged", "flagged"),
    ("unfinished", "unfinished"),
    ("incomplete", "incomplete"),
    ("unresolved", "unresolved"),
    ("unreviewed", "unreviewed"),
    ("stale", "stale"),
    ("stuck", "stuck"),
    ("pending", "pending"),
    ("outstanding", "outstanding"),
];

/// People a "from my ..." condition names.
const ROLES: &[&str] = &[
    "manager",
    "boss",
    "ceo",
    "cto",
    "cfo",
    "team",
    "lead",
    "director",
    "clients",
    "client",
    "customers",
    "customer",
    "vp",
    "founder",
    "investors",
    "partner",
    "accountant",
    "landlord",
    "wife",
    "husband",
];

/// Words after "only" that make it something other than a condition (a time, a day, a tool,
/// a run mode).
const ONLY_NOT: &[&str] = &[
    "on",
    "at",
    "when",
    "whenever",
    "once",
    "during",
    "between",
    "after",
    "before",
    "in",
    "to",
    "for",
    "weekdays",
    "weekends",
    "mondays",
    "tuesdays",
    "wednesdays",
    "thursdays",
    "fridays",
    "saturdays",
    "sundays",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "if",
    "post",
    "send",
    "use",
    "one",
    "me",
    "daily",
    "weekly",
    "monthly",
    "manually",
    "need",
    "needs",
    "want",
    "have",
    "get",
    "notice",
    "check",
    "do",
    "care",
    "see",
    "look",
    "work",
    "know",
    "ever",
    "just",
    "really",
    "thing",
    "things",
    "way",
    "person",
    "reason",
];

/// Tests strong enough to make an "if" that opens the message a condition rather than the
/// event itself ("if a lead is from healthcare", not "if there's a weather alert").
const IF_STRONG: &[&str] = &[
    "from", "mentions", "contains", "over", "above", "more", "less", "bigger", "higher", "lower", "below",
    "under", "says", "includes",
];

/// Words after "if" that make it a figure of speech, not a condition.
const IF_NOT: &[&str] = &["you", "possible", "needed", "that", "i", "necessary", "so", "required", "any"];

/// Words that make an "if" clause a test on the item ("if it mentions water", "if it's down").
const IF_TESTS: &[&str] = &[
    "is", "are", "has", "have", "mentions", "mention", "contains", "contain", "it's", "there's", "isn't",
    "isnt", "aren't", "doesn't", "don't", "not", "returns", "over", "above", "below", "under", "down",
    "fails", "failed", "from", "more", "less", "bigger", "larger", "higher", "lower", "says", "includes",
];

/// Nouns after which "about X" names a topic to keep ("anything about Rust").
const ABOUT: &[&str] = &[
    "anything",
    "everything",
    "something",
    "posts",
    "articles",
    "items",
    "stories",
    "news",
    "messages",
    "emails",
    "tickets",
    "mentions",
    "tweets",
    "videos",
];

/// The conditions in the message, in order, without repeats.
pub(crate) fn find_conditions(toks: &Toks) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |c: String| {
        if !c.is_empty() && !out.contains(&c) {
            out.push(c);
        }
    };
    let mut i = 0;
    while i < toks.len() {
        if let Some((c, end)) = amount_at(toks, i) {
            add(c);
            i = end;
            continue;
        }
        let w = toks.word(i);
        if let Some((_, name)) = STATES.iter().find(|(s, _)| *s == w) {
            // "asking who's blocked": a question the agent asks, not a filter.
            if !toks.is_any(i.wrapping_sub(1), &["who's", "whos", "who"])
                && !toks.seq_before(i, &["who", "is"])
            {
                add((*name).to_owned());
            }
        } else if w == "high" && toks.is_any(i + 1, &["priority", "prio", "value", "severity"]) {
            add(format!("high {}", toks.text(i + 1)));
        } else if let Some(c) = branch_at(toks, i)
            .or_else(|| emoji_at(toks, i))
            .or_else(|| status_at(toks, i))
            .or_else(|| absence_at(toks, i))
            .or_else(|| where_at(toks, i))
        {
            add(c);
        } else if w == "and" && within_event(toks, i) && tests_the_item(toks, i) {
            // "when a ticket is updated and the customer is on the Enterprise plan"
            add(words(toks, i + 1, phrase_end(toks, i + 1, 9, &["and", "then"])));
        } else if w == "but" && toks.is(i + 1, "only") {
            // "but only for heat or frost": whatever follows limits the items.
            if let Some(c) = only_clause(toks, i + 2) {
                add(c);
            }
        } else if w == "with"
            && let Some((q, after)) = super::places::quoted(toks, i + 1)
            && toks.is(after, "in")
        {
            // "with 'refund' in the subject"
            add(format!("mentioning \"{q}\""));
        } else if w == "from" && toks.is_any(i + 1, &["my", "our"]) && toks.is_any(i + 2, ROLES) {
            add(format!("from {} {}", toks.text(i + 1), toks.text(i + 2)));
        } else if w == "from" && toks.is(i + 1, "@") {
            // "from @acme-legal.com": a sender's domain.
            let end =
                (i + 2..toks.len()).find(|&k| !toks.get(k).is_some_and(|t| t.glued)).unwrap_or(toks.len());
            add(format!("from @{}", (i + 2..end).map(|k| toks.text(k)).collect::<String>()));
        } else if matches!(w, "labelled" | "labeled" | "tagged")
            || (w == "label" && toks.is_any(i.wrapping_sub(1), &["with", "the", "a"]))
        {
            let j = if toks.is_any(i + 1, &["as", ":", "with"]) { i + 2 } else { i + 1 };
            if let Some((q, _)) = super::places::quoted(toks, j) {
                add(format!("labelled {q}"));
            } else if toks.is_any(j, &["@", "#"]) && toks.get(j + 1).is_some_and(|t| t.glued) {
                // "with the label @waiting"
                add(format!("labelled {}{}", toks.text(j), toks.text(j + 1)));
            } else if toks.kind(j) == Some(Kind::Word) && !toks.is_any(j, &["the", "a", "an", "by", "in"]) {
                add(format!("labelled {}", toks.text(j)));
            }
        } else if matches!(w, "due" | "closing" | "expiring" | "expires" | "ending")
            && toks.is_any(i + 1, &["today", "tomorrow", "soon", "this", "next"])
        {
            let end = if toks.is(i + 1, "this") { i + 3 } else { i + 2 };
            add(words(toks, i, end));
        } else if w == "open" && i > 0 && toks.is_any(i - 1, &["still", "are", "remain", "stay"]) {
            // "the PRs that are still open"
            add("open".into());
        } else if w == "open"
            && i > 0
            && (toks.is_any(i - 1, &["the", "all", "my", "our", "any", "of", "every"])
                || is_tool(toks, i - 1))
            && toks.kind(i + 1) == Some(Kind::Word)
            && !toks.is_any(i + 1, &["a", "an", "the", "it", "them", "up"])
        {
            add("open".into());
        } else if toks.seq(i, &["assigned", "to", "me"]) {
            add("assigned to me".into());
        } else if w == "branch"
            && i > 0
            && toks.kind(i - 1) == Some(Kind::Word)
            && !toks.is_any(i - 1, &["a", "the", "any", "new"])
        {
            add(format!("on the {} branch", toks.text(i - 1)));
        } else if w == "about" && i > 0 && toks.is_any(i - 1, ABOUT) && toks.kind(i + 1) == Some(Kind::Word) {
            add(format!("about {}", toks.text(i + 1)));
        } else if w == "if" && !toks.is_any(i + 1, IF_NOT) && !toks.is_break(i + 1) {
            let end = phrase_end(toks, i + 1, 8, &[]);
            let tests = if i == 0 { IF_STRONG } else { IF_TESTS };
            // "if someone @mentions me": somebody doing something is the event, not a test.
            let someone = toks.is_any(i + 1, &["someone", "somebody", "anyone", "anybody"]);
            if !someone && (i + 1..end).any(|k| toks.is_any(k, tests)) {
                add(format!("if {}", words(toks, i + 1, end)));
            }
        } else if matches!(w, "containing" | "mentioning" | "mention" | "mentions" | "contain" | "contains")
            || (w == "word" && toks.is(i.wrapping_sub(1), "the"))
        {
            if let Some((q, _)) = super::places::quoted(toks, i + 1) {
                add(format!("mentioning \"{q}\""));
            } else if toks.kind(i + 1) == Some(Kind::Word)
                && !toks.is_any(i + 1, &["me", "the", "a", "an", "my", "of", "to", "in", "on", "for", "from"])
            {
                add(format!("mentioning \"{}\"", toks.text(i + 1)));
            }
        } else if w == "only" && !toks.is_any(i + 1, ONLY_NOT) && !toks.is_break(i + 1) {
            // "only (the) urgent ones", "only over $500": read by the rules above.
            let next = if toks.is(i + 1, "the") { i + 2 } else { i + 1 };
            let read_above = STATES.iter().any(|(s, _)| toks.is(next, s))
                || toks.is_any(next, &["high", "from", "over", "above", "under", "below", "more", "less"]);
            if !read_above && let Some(c) = only_clause(toks, i + 1) {
                add(c);
            }
        }
        i += 1;
    }
    out
}

/// "over $500", "more than 1k", "under 10 €": the comparison and the amount as written.
fn amount_at(toks: &Toks, i: usize) -> Option<(String, usize)> {
    let (words, how) = COMPARE.iter().find(|(seq, _)| toks.seq(i, seq))?;
    let mut j = i + words.len();
    let mut amount = String::new();
    if toks.is_any(j, &["$", "€", "£", "¥"]) {
        amount.push_str(toks.text(j));
        j += 1;
    }
    if toks.kind(j) != Some(Kind::Number) {
        return None;
    }
    amount.push_str(toks.text(j));
    j += 1;
    // "1,000", "1.5k", "500 dollars", "10 €"
    while toks.is(j, ",")
        && toks.kind(j + 1) == Some(Kind::Number)
        && toks.get(j + 1).is_some_and(|t| t.glued)
    {
        amount.push(',');
        amount.push_str(toks.text(j + 1));
        j += 2;
    }
    if toks.is_any(j, &["k", "m"]) && toks.get(j).is_some_and(|t| t.glued) {
        amount.push_str(toks.text(j));
        j += 1;
    }
    if toks.is_any(j, &["dollars", "usd", "eur", "euros", "gbp", "pounds", "€", "$", "£"]) {
        amount.push(' ');
        amount.push_str(toks.text(j));
        j += 1;
    }
    // Quantities of time are not amounts ("more than 2 hours").
    if toks.is_any(j, &["minutes", "minute", "hours", "hour", "days", "day", "weeks", "times", "am", "pm"]) {
        return None;
    }
    Some((format!("{how} {amount}"), j))
}

/// "push to main", "fails on master", "merged into develop": the branch the events are on.
fn branch_at(toks: &Toks, i: usize) -> Option<String> {
    const EVENTS: &[&str] = &[
        "push", "pushes", "pushed", "merged", "merge", "merges", "fails", "failed", "fail", "deploy",
        "deploys", "deployed", "commit", "commits", "build", "builds",
    ];
    const BRANCHES: &[&str] =
        &["main", "master", "develop", "dev", "staging", "production", "prod", "release"];
    let at = toks.is_any(i, EVENTS) && toks.is_any(i + 1, &["to", "on", "into", "in"]);
    let name = if toks.is(i + 2, "the") { i + 3 } else { i + 2 };
    (at && toks.is_any(name, BRANCHES)).then(|| format!("on the {} branch", toks.text(name)))
}

/// "reacts with :eyes:", "a :ticket: reaction": the one emoji that counts.
fn emoji_at(toks: &Toks, i: usize) -> Option<String> {
    let glued = |k: usize| toks.get(k).is_some_and(|t| t.glued);
    let emoji = toks.is(i, ":")
        && toks.kind(i + 1) == Some(Kind::Word)
        && toks.is(i + 2, ":")
        && glued(i + 1)
        && glued(i + 2);
    let reaction = (i.saturating_sub(3)..(i + 6).min(toks.len()))
        .any(|k| toks.is_any(k, &["react", "reacts", "reacted", "reaction", "reactions", "emoji"]));
    (emoji && reaction).then(|| format!("reacted with :{}:", toks.text(i + 1)))
}

/// "status changes to Stuck", "moves to In Review", "updated to Closed Lost": a state the item
/// reaches, named with capitals.
fn status_at(toks: &Toks, i: usize) -> Option<String> {
    const MOVES: &[&str] = &[
        "changes", "changed", "change", "moves", "moved", "move", "updated", "set", "raised", "goes", "gets",
        "marked", "switched", "dragged", "reaches",
    ];
    if !(toks.is_any(i, MOVES) && toks.is(i + 1, "to")) {
        return None;
    }
    let from = if toks.is(i + 2, "the") { i + 3 } else { i + 2 };
    let capital = |k: usize| {
        toks.get(k).is_some_and(|t| t.kind == Kind::Word && t.orig.starts_with(|c: char| c.is_uppercase()))
            && !super::days::is_day_name(toks, k)
            && !is_tool(toks, k)
    };
    let end = (from..toks.len().min(from + 4)).find(|&k| !capital(k)).unwrap_or(toks.len().min(from + 4));
    (end > from).then(|| format!("moved to {}", words(toks, from, end)))
}

/// "nobody is assigned", "no one replied", "with no close date", "without an owner", "haven't
/// been touched in two weeks": items missing something.
fn absence_at(toks: &Toks, i: usize) -> Option<String> {
    let nobody = toks.is_any(i, &["nobody", "noone"]) || toks.seq(i, &["no", "one"]);
    if nobody {
        let from = if toks.is(i, "no") { i + 2 } else { i + 1 };
        let verb = (from..(from + 3).min(toks.len())).find(|&k| {
            toks.word(k).ends_with("ed")
                || toks.is_any(k, &["assigned", "answered", "replied", "seen", "read"])
        })?;
        return Some(words(toks, i, verb + 1));
    }
    if (toks.is(i, "with") && toks.is(i + 1, "no")) || toks.is(i, "without") {
        let from = if toks.is(i, "with") { i + 2 } else { i + 1 };
        let from = if toks.is_any(from, &["a", "an", "any"]) { from + 1 } else { from };
        let end = phrase_end(toks, from, 3, &["and", "to", "in", "into", "then", "on", "at", "or"]);
        let noun = toks.kind(from) == Some(Kind::Word) && end > from;
        return noun.then(|| words(toks, i, end));
    }
    let not_been = toks.is_any(i, &["haven't", "hasn't", "havent", "hasnt"])
        || (toks.is_any(i, &["have", "has"]) && toks.is(i + 1, "not"));
    if not_been {
        let been = if toks.is(i, "have") || toks.is(i, "has") { i + 2 } else { i + 1 };
        let done = toks.is(been, "been") && toks.word(been + 1).ends_with("ed");
        return done.then(|| words(toks, i, phrase_end(toks, been + 1, 6, &["and", "to", "then"])));
    }
    None
}

/// "where Stage = Offer", "where status is Blocked": a test on a field, in the person's words.
fn where_at(toks: &Toks, i: usize) -> Option<String> {
    if !toks.is(i, "where") || toks.kind(i + 1) != Some(Kind::Word) {
        return None;
    }
    let test =
        (i + 2..(i + 4).min(toks.len())).find(|&k| toks.is_any(k, &["=", "is", "equals", "==", ">", "<"]))?;
    let end = phrase_end(toks, test + 1, 4, &["and", "to", "then"]);
    (end > test + 1).then(|| words(toks, i, end))
}

/// The word at `i` is inside a "when"/"if"/"whenever" clause (or the sentence it opens).
fn within_event(toks: &Toks, i: usize) -> bool {
    let start = (0..i).rev().find(|&k| toks.is_any(k, &[".", "!", "?", ";"])).map_or(0, |k| k + 1);
    (start..i).any(|k| toks.is_any(k, &["when", "whenever", "if", "wehn", "wen"]))
}

/// "and it's a PDF", "and the customer is on the Enterprise plan", "and the quantity hits 0":
/// a test on the item after "and".
fn tests_the_item(toks: &Toks, i: usize) -> bool {
    const TESTS: &[&str] =
        &["is", "'s", "it's", "hits", "reaches", "has", "contains", "equals", "was", "are"];
    let subject = toks.is_any(i + 1, &["it", "it's", "the", "its", "their"]);
    subject && (i + 1..(i + 5).min(toks.len())).any(|k| toks.is_any(k, TESTS))
}

/// A tool's name at `i` ("the GitHub open PRs").
fn is_tool(toks: &Toks, i: usize) -> bool {
    super::catalog::mentions(&Toks::new(toks.text(i))).iter().any(|m| m.explicit)
}

/// The words after "only" up to the end of the clause (at most six), as a condition.
fn only_clause(toks: &Toks, from: usize) -> Option<String> {
    let end = phrase_end(toks, from, 10, &["and", "to", "into", "in", "then"]);
    let text = words(toks, from, end);
    // "Teams only", "only Slack": a tool choice, not a condition.
    let tools = super::catalog::mentions(&Toks::new(&text)).iter().any(|m| m.explicit);
    (!text.is_empty() && !tools).then_some(text)
}

/// Where a phrase from `from` ends: at most `max` tokens, at a clause break that stands
/// apart (the dot of "acme.com" does not end it) or at one of `stop`.
fn phrase_end(toks: &Toks, from: usize, max: usize, stop: &[&str]) -> usize {
    let inside = |k: usize| toks.get(k).is_some_and(|t| t.glued) && toks.get(k + 1).is_some_and(|t| t.glued);
    (from..toks.len().min(from + max))
        .find(|&k| (toks.is_break(k) && !inside(k)) || toks.is_any(k, stop))
        .unwrap_or(toks.len().min(from + max))
}

/// The tokens `from..end` as text, glued ones without a space.
fn words(toks: &Toks, from: usize, end: usize) -> String {
    let mut s = String::new();
    for k in from..end {
        if k > from && !toks.get(k).is_some_and(|t| t.glued) {
            s.push(' ');
        }
        s.push_str(toks.text(k));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Vec<String> {
        find_conditions(&Toks::new(s))
    }

    #[test]
    fn amounts_people_states_keywords() {
        assert_eq!(c("notify me of Stripe payments over $500"), ["over $500"]);
        assert_eq!(c("deals bigger than 10k"), ["over 10k"]);
        assert_eq!(c("orders of at least 1,000 euros"), ["at least 1,000 euros"]);
        assert_eq!(c("only urgent tickets"), ["urgent"]);
        assert_eq!(c("emails from my manager"), ["from my manager"]);
        assert_eq!(c("high priority bugs"), ["high priority"]);
        assert_eq!(c("messages mentioning 'refund'"), ["mentioning \"refund\""]);
        assert_eq!(c("only the ones tagged billing"), ["the ones tagged billing", "labelled billing"]);
        assert_eq!(c("open GitHub issues with label bug"), ["labelled bug"]);
        assert_eq!(c("when a pipeline fails on the main branch"), ["on the main branch"]);
        assert_eq!(
            c("check the forecast and if there's a storm warning send a text"),
            ["if there's a storm warning send a text"]
        );
        // Opening the message, "if" is the event itself unless the test is about the item.
        assert!(c("If there's a weather alert, tell #warehouse").is_empty());
        assert_eq!(c("if a lead is from healthcare, add a task"), ["if a lead is from healthcare"]);
        assert_eq!(
            c("Only emails from @acme-legal.com"),
            ["emails from @acme-legal.com", "from @acme-legal.com"]
        );
        assert_eq!(c("post anything about Rust to #rust"), ["about rust"]);
        // Items missing something, a field test, a label written as a handle, a closing date.
        assert_eq!(c("Jira tickets nobody is assigned to"), ["nobody is assigned"]);
        assert_eq!(c("every HubSpot deal with no close date"), ["with no close date"]);
        assert_eq!(c("deals that haven't been touched in two weeks."), ["haven't been touched in two weeks"]);
        assert_eq!(c("record updated where Stage = Offer"), ["where stage = offer"]);
        assert_eq!(c("a Todoist task with the label @waiting"), ["labelled @waiting"]);
        assert_eq!(c("opportunities closing this month"), ["closing this month"]);
        assert_eq!(c("ping the URL and if it isn't 200, tell #ops"), ["if it isn't 200"]);
    }

    #[test]
    fn questions_events_and_of_are_not_conditions() {
        assert!(c("post a prompt asking who's blocked").is_empty());
        assert!(c("collect mentions of our brand on X").is_empty());
        assert!(c("if someone mentions me in Teams, email me").is_empty());
    }

    #[test]
    fn times_days_and_tools_are_not_conditions() {
        assert!(c("only on fridays").is_empty());
        assert!(c("only when I click the button").is_empty());
        assert!(c("Teams only").is_empty());
        assert!(c("more than 2 hours later").is_empty());
        assert!(c("every weekday at 9 post to slack").is_empty());
        assert!(c("if you can, post it to slack").is_empty());
        assert!(c("I only notice weeks later").is_empty());
    }
}
