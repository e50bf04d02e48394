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
    "once",
    "daily",
    "weekly",
    "monthly",
    "manually",
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
            add((*name).to_owned());
        } else if w == "high" && toks.is_any(i + 1, &["priority", "prio", "value", "severity"]) {
            add(format!("high {}", toks.text(i + 1)));
        } else if w == "from" && toks.is_any(i + 1, &["my", "our"]) && toks.is_any(i + 2, ROLES) {
            add(format!("from {} {}", toks.text(i + 1), toks.text(i + 2)));
        } else if matches!(w, "containing" | "mentioning" | "mention" | "mentions" | "contain" | "contains")
            || (w == "word" && toks.is(i.wrapping_sub(1), "the"))
        {
            if let Some((q, _)) = super::places::quoted(toks, i + 1) {
                add(format!("mentioning \"{q}\""));
            } else if toks.kind(i + 1) == Some(Kind::Word)
                && !toks.is_any(i + 1, &["me", "the", "a", "an", "my"])
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

/// The words after "only" up to the end of the clause (at most six), as a condition.
fn only_clause(toks: &Toks, from: usize) -> Option<String> {
    let end = toks.clause_end(from).min(from + 6);
    let end = (from..end).find(|&k| toks.is_any(k, &["and", "to", "into", "in", "then"])).unwrap_or(end);
    let words: Vec<&str> = (from..end).map(|k| toks.text(k)).collect();
    // "Teams only", "only Slack": a tool choice, not a condition.
    let tools = super::catalog::mentions(&Toks::new(&words.join(" "))).iter().any(|m| m.explicit);
    (!words.is_empty() && !tools).then(|| words.join(" "))
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
        assert_eq!(c("only the ones tagged billing"), ["the ones tagged billing"]);
    }

    #[test]
    fn times_days_and_tools_are_not_conditions() {
        assert!(c("only on fridays").is_empty());
        assert!(c("only when I click the button").is_empty());
        assert!(c("Teams only").is_empty());
        assert!(c("more than 2 hours later").is_empty());
        assert!(c("every weekday at 9 post to slack").is_empty());
    }
}
