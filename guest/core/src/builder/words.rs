//! Plain words for the chat: what the requirements say, what a reply changed, and what a
//! draft does, as a person would put it ("every weekday at 09:00 (Europe/London)", "unread
//! mail from boss@acme.com", "post to #team in Slack"). Field names and ids never reach the
//! chat; the requirements snapshot (`RequirementView`: the spec panel, export) keeps them.

use super::agent::{AgentSpec, AgentTrigger, DryRun, StepRun};
use super::requirements::{Requirements, UnknownChoice};
use super::session::Question;
use crate::extract::{DAY_NAMES, Days, Place, Provider, Schedule, Trigger};

/// `s` with its first letter in upper case.
pub fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    let mut out = String::with_capacity(s.len());
    if let Some(c) = chars.next() {
        crate::case::push_upper(&mut out, c);
    }
    out.push_str(chars.as_str());
    out
}

/// Names joined as people list them: "Gmail", "Gmail and Slack", "Gmail, Notion and Slack".
pub fn listed<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => {
            let head: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", head.join(", "), last.as_ref())
        }
    }
}

/// Days as words: "every day", "every weekday", "on Mondays", "on Mon, Wed and Fri".
fn days(d: Days) -> String {
    const SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    if d == Days::EVERY_DAY {
        return "every day".into();
    }
    if d == Days::WEEKDAYS {
        return "every weekday".into();
    }
    if d == Days::WEEKEND {
        return "at weekends".into();
    }
    let indices: Vec<usize> = d.indices().map(usize::from).collect();
    match indices.as_slice() {
        [] => "on a day not chosen yet".into(),
        [one] => format!("on {}s", DAY_NAMES[*one]),
        many => format!("on {}", listed(&many.iter().map(|i| SHORT[*i]).collect::<Vec<_>>())),
    }
}

/// A schedule as words, without the time zone: "every weekday at 09:00".
pub fn schedule(s: &Schedule) -> String {
    match s {
        Schedule::Daily { days: d, time, also } => {
            let at = match time {
                None => " (time not set)".to_owned(),
                Some(t) => {
                    let times: Vec<String> = std::iter::once(t).chain(also).map(|t| t.hh_mm()).collect();
                    format!(" at {}", listed(&times))
                }
            };
            format!("{}{at}", days(*d))
        }
        // Intervals and months already read as words.
        other => other.describe(),
    }
}

/// An event id as words: `issue.opened` -> "a new issue is opened", `pull_request.merged` ->
/// "a pull request is merged".
fn event_words(event: &str) -> String {
    let (object, verb) = event.split_once('.').unwrap_or((event, "happens"));
    let object = object.replace('_', " ");
    let verb = verb.replace('_', " ");
    let new = matches!(verb.as_str(), "opened" | "created" | "added" | "received" | "posted" | "published");
    let article = if new {
        "a new"
    } else if object.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {object} is {verb}")
}

/// When the agent runs, as words: "every weekday at 09:00 (Europe/London)", "when a new
/// issue is opened in GitHub", "when you start it"; `None` while the trigger is unknown.
pub fn when(req: &Requirements) -> Option<String> {
    Some(match req.trigger()? {
        Trigger::Schedule(s) => {
            let timed = matches!(s, Schedule::Daily { .. } | Schedule::Monthly { .. });
            match (&req.timezone, timed) {
                (Some(tz), true) => format!("{} ({})", schedule(&s), tz.value),
                _ => schedule(&s),
            }
        }
        Trigger::Event { provider, event } => {
            format!("when {} in {}", event_words(&event), provider.display_name())
        }
        Trigger::Manual => "when you start it".into(),
        Trigger::Once(once) => match &req.timezone {
            Some(tz) if once.time.is_some() => format!("{} ({})", once.describe(), tz.value),
            _ => once.describe(),
        },
    })
}

/// An e-mail filter as words: `is:unread from:boss@acme.com` -> "unread mail from
/// boss@acme.com". Terms it does not know are quoted as written.
pub fn mail(filter: &str) -> String {
    let mut adjectives = Vec::new();
    let mut rest = Vec::new();
    for term in filter.split_whitespace() {
        match term.split_once(':') {
            Some(("is", "unread")) => adjectives.push("unread".to_owned()),
            Some(("is", "starred")) => adjectives.push("starred".to_owned()),
            Some(("is", "important")) => adjectives.push("important".to_owned()),
            Some(("from", who)) => rest.push(format!("from {who}")),
            Some(("to", who)) => rest.push(format!("to {who}")),
            Some(("subject", what)) => rest.push(format!("about \"{}\"", what.trim_matches('"'))),
            Some(("label", l)) => rest.push(format!("labelled {l}")),
            Some(("has", "attachment")) => rest.push("with attachments".to_owned()),
            Some(("newer_than", age)) => rest.push(format!("from the last {age}")),
            _ => rest.push(format!("matching \"{term}\"")),
        }
    }
    let mut out = adjectives.join(" ");
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str("mail");
    for r in rest {
        out.push(' ');
        out.push_str(&r);
    }
    out
}

/// The chat tool messages go to (the first one named).
fn chat_tool(req: &Requirements) -> Option<Provider> {
    req.providers().into_iter().find(|p| p.is_chat())
}

/// Where messages are posted: "#team in Slack", "Slack".
fn post_target(req: &Requirements) -> Option<String> {
    match (&req.channel, chat_tool(req)) {
        (Some(c), Some(p)) if c.value == super::engine::DIRECT => {
            Some(format!("you directly in {}", p.display_name()))
        }
        (Some(c), Some(p)) => Some(format!("{} in {}", c.value, p.display_name())),
        (Some(c), None) => Some(c.value.clone()),
        (None, Some(p)) => Some(p.display_name().to_owned()),
        (None, None) => None,
    }
}

/// Who gets the e-mail: the addresses, or "you".
fn mail_to(req: &Requirements) -> String {
    req.recipients.as_ref().map_or_else(|| "you".to_owned(), |r| listed(&r.value))
}

/// One action as words, e.g. "post to #team in Slack".
fn action(verb: &str, req: &Requirements) -> String {
    match verb {
        "summarise" => "summarise it".into(),
        "notify" => "notify you".into(),
        "forward" => format!("forward it to {}", mail_to(req)),
        "reply" => "reply".into(),
        "post_message" => {
            post_target(req).map_or_else(|| "post a message".into(), |t| format!("post to {t}"))
        }
        "send_email" => format!("e-mail {}", mail_to(req)),
        "create_issue" => "create an issue".into(),
        "create_task" => "create a task".into(),
        "create_page" => "create a page".into(),
        "create_record" => "create a record".into(),
        "update_record" => "update a record".into(),
        "append_row" => "add a row".into(),
        "create_event" => "create a calendar event".into(),
        "save_file" => "save a file".into(),
        "call_webhook" => "call a webhook".into(),
        "archive" => "archive it".into(),
        "label" => "label it".into(),
        "mark_read" => "mark it as read".into(),
        "translate" => "translate it".into(),
        "sync" => "keep it in sync".into(),
        other => other.replace('_', " "),
    }
}

/// What the agent does, as words ("summarise it, then post to #team in Slack"); a channel
/// or recipients the actions do not mention are still said.
pub fn doing(req: &Requirements) -> Option<String> {
    let verbs: Vec<&str> =
        req.actions.as_ref().map(|a| a.value.iter().map(String::as_str).collect()).unwrap_or_default();
    let mut parts: Vec<String> = verbs.iter().map(|v| action(v, req)).collect();
    if req.channel.is_some() && !verbs.contains(&"post_message") {
        parts.extend(post_target(req).map(|t| format!("post to {t}")));
    }
    if req.recipients.is_some() && !verbs.iter().any(|v| matches!(*v, "send_email" | "forward")) {
        parts.push(format!("e-mail {}", mail_to(req)));
    }
    match parts.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        [init @ .., last] => Some(format!("{}, then {last}", init.join(", "))),
    }
}

/// Places as a reply names them: "#team", "the sheet \"Leads\"".
fn places(list: &[Place]) -> String {
    listed(&list.iter().map(Place::describe).collect::<Vec<_>>())
}

/// The tools Kiln does not know, as words: "Zulip (not decided yet)", "Zulip (by web request)".
fn unknown_tools(req: &Requirements) -> Option<String> {
    let tools: Vec<String> = req
        .unknown_tools
        .iter()
        .map(|u| match u.value.choice {
            None => format!("{} (not decided yet)", u.value.name),
            Some(UnknownChoice::Http) => format!("{} (by web request)", u.value.name),
        })
        .collect();
    (!tools.is_empty()).then(|| listed(&tools))
}

/// The requirements as a few plain lines, for the confirmation and the status.
pub fn summary(req: &Requirements) -> String {
    let mut lines = Vec::new();
    if let Some(w) = when(req) {
        lines.push(format!("Runs {w}"));
    }
    let apps: Vec<&str> = req.providers().iter().map(|p| p.display_name()).collect();
    if !apps.is_empty() {
        lines.push(format!("Uses {}", listed(&apps)));
    }
    if let Some(u) = unknown_tools(req) {
        lines.push(format!("Also uses {u}"));
    }
    if let Some(src) = req.sources.as_ref().filter(|s| !s.value.is_empty()) {
        lines.push(format!("Reads from {}", places(&src.value)));
    }
    if let Some(f) = &req.email_filter {
        lines.push(format!("Works on {}", mail(&f.value)));
    }
    if let Some(c) = req.conditions.as_ref().filter(|c| !c.value.is_empty()) {
        lines.push(format!("Only {}", listed(&c.value)));
    }
    if let Some(d) = doing(req) {
        lines.push(capitalised(&d));
    }
    if let Some(dest) = req.destinations.as_ref().filter(|d| !d.value.is_empty()) {
        lines.push(format!("Writes to {}", places(&dest.value)));
    }
    lines.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n")
}

/// One sentence describing the agent, for its spec: follows every correction, because it
/// is made from the requirements as they are now.
pub fn description(req: &Requirements) -> String {
    let mut out = String::new();
    if let Some(w) = when(req) {
        out.push_str(&capitalised(&w));
        out.push_str(": ");
    }
    let what = doing(req).unwrap_or_else(|| "run".into());
    let what = match &req.email_filter {
        Some(f) => format!("take {}, {what}", mail(&f.value)),
        None => what,
    };
    if out.is_empty() {
        out.push_str(&capitalised(&what));
    } else {
        out.push_str(&what);
    }
    let apps: Vec<&str> = req.providers().iter().map(|p| p.display_name()).collect();
    if !apps.is_empty() {
        out.push_str(&format!(" (with {})", listed(&apps)));
    }
    out.push('.');
    out
}

/// "new" or "new instead of old"; nothing when both are the same.
fn instead(new: Option<String>, old: Option<String>) -> Option<String> {
    match (new, old) {
        (Some(n), Some(o)) if n == o => None,
        (Some(n), Some(o)) => Some(format!("{n} instead of {o}")),
        (Some(n), None) => Some(n),
        (None, Some(o)) => Some(format!("no longer {o}")),
        (None, None) => None,
    }
}

/// What a reply changed, as short phrases ("08:00 instead of 09:00", "#ops instead of
/// #team", "also Notion", "without Teams"); empty when nothing visible changed.
pub fn changes(before: &Requirements, after: &Requirements) -> Vec<String> {
    let mut out = Vec::new();
    let (old_apps, new_apps) = (before.providers(), after.providers());
    let added: Vec<&str> =
        new_apps.iter().filter(|p| !old_apps.contains(p)).map(|p| p.display_name()).collect();
    let removed: Vec<&str> =
        old_apps.iter().filter(|p| !new_apps.contains(p)).map(|p| p.display_name()).collect();
    match (added.is_empty(), removed.is_empty()) {
        (false, false) => out.push(format!("{} instead of {}", listed(&added), listed(&removed))),
        (false, true) if old_apps.is_empty() => out.push(listed(&added)),
        (false, true) => out.push(format!("also {}", listed(&added))),
        (true, false) => out.push(format!("without {}", listed(&removed))),
        (true, true) => {}
    }
    // A new time alone reads "08:00 instead of 09:00"; any other change of the trigger is
    // said whole.
    let same_trigger_but_time = before.trigger_kind == after.trigger_kind
        && before.days == after.days
        && before.also_at == after.also_at
        && before.once_day == after.once_day
        && before.interval_minutes == after.interval_minutes
        && before.month_day == after.month_day
        && before.event == after.event;
    if same_trigger_but_time && before.time.is_some() {
        out.extend(instead(
            after.time.as_ref().map(|t| t.value.hh_mm()),
            before.time.as_ref().map(|t| t.value.hh_mm()),
        ));
    } else {
        let untimed = |r: &Requirements| {
            r.trigger().map(|t| match t {
                Trigger::Schedule(s) => schedule(&s),
                _ => when(r).unwrap_or_default(),
            })
        };
        out.extend(instead(untimed(after), untimed(before)));
    }
    let tz = |r: &Requirements| r.timezone.as_ref().map(|t| format!("{} time", t.value));
    out.extend(instead(tz(after), tz(before)));
    let channel = |r: &Requirements| r.channel.as_ref().map(|c| c.value.clone());
    match instead(channel(after), channel(before)) {
        Some(c) if before.channel.is_none() => out.push(format!("posting to {c}")),
        other => out.extend(other),
    }
    let filter = |r: &Requirements| r.email_filter.as_ref().map(|f| mail(&f.value));
    out.extend(instead(filter(after), filter(before)));
    let to = |r: &Requirements| r.recipients.as_ref().map(|t| format!("e-mail to {}", listed(&t.value)));
    out.extend(instead(to(after), to(before)));
    let only = |r: &Requirements| {
        r.conditions.as_ref().filter(|c| !c.value.is_empty()).map(|c| format!("only {}", listed(&c.value)))
    };
    out.extend(instead(only(after), only(before)));
    let from = |r: &Requirements| {
        r.sources
            .as_ref()
            .filter(|s| !s.value.is_empty())
            .map(|s| format!("reading from {}", places(&s.value)))
    };
    out.extend(instead(from(after), from(before)));
    let into = |r: &Requirements| {
        r.destinations
            .as_ref()
            .filter(|d| !d.value.is_empty())
            .map(|d| format!("writing to {}", places(&d.value)))
    };
    out.extend(instead(into(after), into(before)));
    out.extend(instead(unknown_tools(after), unknown_tools(before)));
    if before.actions.as_ref().map(|a| &a.value) != after.actions.as_ref().map(|a| &a.value) && out.is_empty()
    {
        out.extend(doing(after).map(|d| format!("it will {d}")));
    }
    out
}

/// One step of a draft as words: "find unread mail in Gmail", "post to #team in Slack".
fn step(run: &StepRun) -> String {
    let (tool, verb) = run.action.split_once('.').unwrap_or(("", run.action.as_str()));
    let app = Provider::from_id(tool).map(|p| p.display_name());
    let input = |k: &str| run.inputs.get(k).map(String::as_str);
    let described = match verb {
        "search_messages" => format!("find {}", mail(input("query").unwrap_or("is:unread"))),
        "list_events" => "list today's events".into(),
        "list_issues" => "list the open issues".into(),
        "read_rows" => "read the rows".into(),
        "list_items" => "list what changed recently".into(),
        "post_message" => format!("post to {}", input("channel").unwrap_or("the channel")),
        "send_email" => format!("e-mail {}", input("to").unwrap_or("you")),
        "append_row" => "add a row".into(),
        "create_page" => "create a page".into(),
        "create_issue" => "create an issue".into(),
        "create_event" => "create an event".into(),
        "summarise" | "translate" | "classify" => format!("{verb} it"),
        "notify" => "notify you".into(),
        other => other.replace('_', " "),
    };
    match app {
        Some(app) => format!("{described} in {app}"),
        None => described,
    }
}

/// A dry run as a person reads it: what started it, each step in words with what it got
/// or sent, and what would go wrong for real.
pub fn dry_run(spec: &AgentSpec, run: &DryRun) -> String {
    let started = match &spec.trigger {
        AgentTrigger::Schedule { description, timezone, .. } => {
            format!("the schedule fired ({description}, {timezone})")
        }
        AgentTrigger::Event { integration, event } => {
            let app = Provider::from_id(integration).map_or(integration.as_str(), |p| p.display_name());
            format!("{} in {app}", event_words(event))
        }
        AgentTrigger::Manual => "started by hand".into(),
        AgentTrigger::Once { day, time, timezone } => {
            format!("the one-off run started ({day} at {time}, {timezone})")
        }
    };
    let mut out = format!("Dry run: {started}.\n");
    for (n, s) in run.steps.iter().enumerate() {
        // What a step delivers is its text; what the others give is their output.
        let shown = s.inputs.get("text").or_else(|| s.outputs.values().next());
        let sample = shown.map(|v| super::session::cut(&v.replace('\n', " / "), 120)).unwrap_or_default();
        out.push_str(&format!("{}. {}", n + 1, capitalised(&step(s))));
        if !sample.is_empty() {
            out.push_str(&format!(": {sample}"));
        }
        out.push('\n');
    }
    if run.problems.is_empty() {
        out.push_str("No problems found.");
    } else {
        out.push_str("Problems:");
        for p in &run.problems {
            out.push_str(&format!("\n- {p}"));
        }
    }
    out
}

/// What the question `q` needs, in words: "the time zone (...)", for "I still need ..."
/// and for the LLM's prompt.
pub fn needed(q: &Question) -> String {
    match q {
        Question::Integrations => "to know which apps the agent should use".into(),
        Question::Trigger => "to know when it should run".into(),
        Question::Days => "the days of the week it should run on".into(),
        Question::MonthDay => "the day of the month it should run on".into(),
        Question::Time => "the time of day it should run".into(),
        Question::Timezone => "the time zone (a city like Lisbon, a region like Eastern time, or UTC)".into(),
        Question::Channel(p) => format!("the {} channel to post to", p.display_name()),
        Question::Recipients => "an e-mail address to send to".into(),
        Question::Confirm => "a yes to build it, or what to change".into(),
        Question::Accept => "a yes if the draft looks right, or what to change".into(),
        Question::Activate => "a yes to switch it on, or a no".into(),
        Question::Changes => "a change to make, or another agent to build".into(),
        Question::UnknownTool(name) => format!("to know how the agent should reach {name}"),
        Question::OnceDay => "the day it should run".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::requirements::Sourced;
    use crate::extract::extract;

    fn req(lines: &[&str]) -> Requirements {
        let mut r = Requirements::default();
        for (turn, line) in lines.iter().enumerate() {
            r.merge(&extract(line), turn as u32 + 1, crate::extract::is_change_request(line));
        }
        r
    }

    /// Field names and ids that must never reach the chat.
    const IDS: &[&str] = &[
        "email_filter",
        "post_message",
        "send_email",
        "is:unread",
        "gmail.",
        "slack.",
        "trigger:",
        "channel:",
    ];

    #[test]
    fn the_summary_is_in_plain_words() {
        let mut r = req(&["Every weekday at 9, summarise my unread Gmail and post it to Slack #team"]);
        r.timezone = Some(Sourced::at("Europe/London".into(), 2));
        let s = summary(&r);
        for needle in [
            "every weekday at 09:00 (Europe/London)",
            "Gmail and Slack",
            "unread mail",
            "post to #team in Slack",
        ] {
            assert!(s.contains(needle), "missing {needle:?} in:\n{s}");
        }
        for id in IDS {
            assert!(!s.contains(id), "{id:?} in:\n{s}");
        }
        let d = description(&r);
        assert!(d.starts_with("Every weekday at 09:00 (Europe/London): "), "{d}");
        assert!(!IDS.iter().any(|id| d.contains(id)), "{d}");
    }

    #[test]
    fn events_filters_and_days_read_as_words() {
        let r = req(&["when a new issue is opened in GitHub, post to slack #dev"]);
        assert_eq!(when(&r).as_deref(), Some("when a new issue is opened in GitHub"));
        assert_eq!(mail("is:unread from:boss@acme.com"), "unread mail from boss@acme.com");
        assert_eq!(mail("has:attachment"), "mail with attachments");
        assert_eq!(days(Days::MON), "on Mondays");
        assert_eq!(days(Days::from_list(&[Days::MON, Days::WED, Days::FRI])), "on Mon, Wed and Fri");
        assert_eq!(listed(&["a", "b", "c"]), "a, b and c");
        assert_eq!(event_words("pull_request.merged"), "a pull request is merged");
    }

    #[test]
    fn a_change_is_said_in_a_phrase() {
        let before = req(&["Every weekday at 9, summarise my unread Gmail and post it to Slack #team"]);
        let mut after = before.clone();
        after.merge(&extract("make it 8 instead"), 2, true);
        assert_eq!(changes(&before, &after), ["08:00 instead of 09:00"]);
        let mut moved = before.clone();
        moved.merge(&extract("post it to #ops instead"), 2, true);
        assert_eq!(changes(&before, &moved), ["#ops instead of #team"]);
        let mut zoned = before.clone();
        zoned.timezone = Some(Sourced::at("Europe/Lisbon".into(), 2));
        assert_eq!(changes(&before, &zoned), ["Europe/Lisbon time"]);
        let first = changes(&Requirements::default(), &before);
        assert_eq!(
            first[..3],
            ["Gmail and Slack", "every weekday at 09:00", "posting to #team"],
            "{first:?}"
        );
        assert!(changes(&before, &before).is_empty());
    }
}
