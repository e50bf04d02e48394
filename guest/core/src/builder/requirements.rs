//! Structured requirements: each field remembers the turn that set it, and later answers
//! override earlier ones explicitly (SPEC §2.3).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::extract::{Days, Extraction, Provider, Schedule, TimeOfDay, Trigger, TriggerKind};

/// A value and the turn it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// The turn (1-based) that set it.
    pub turn: u32,
}

impl<T> Sourced<T> {
    /// `value`, set at `turn`.
    pub fn at(value: T, turn: u32) -> Self {
        Self { value, turn }
    }
}

/// An event trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTrigger {
    /// The integration the event comes from.
    pub provider: Provider,
    /// The event, e.g. `issue.opened`.
    pub event: String,
}

/// What the agent should do, as far as the conversation has established.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirements {
    /// The person's own description of the goal (their first substantive message).
    #[serde(default)]
    pub goal: Option<Sourced<String>>,
    /// The integrations the agent uses.
    #[serde(default)]
    pub integrations: Vec<Sourced<Provider>>,
    /// Schedule, event or manual.
    #[serde(default)]
    pub trigger_kind: Option<Sourced<TriggerKind>>,
    /// Days a daily/weekly schedule runs on.
    #[serde(default)]
    pub days: Option<Sourced<Days>>,
    /// Time of day of the schedule.
    #[serde(default)]
    pub time: Option<Sourced<TimeOfDay>>,
    /// Interval of an interval schedule, in minutes.
    #[serde(default)]
    pub interval_minutes: Option<Sourced<u32>>,
    /// Day of the month of a monthly schedule.
    #[serde(default)]
    pub month_day: Option<Sourced<u8>>,
    /// The event of an event trigger.
    #[serde(default)]
    pub event: Option<Sourced<EventTrigger>>,
    /// IANA time zone of the schedule.
    #[serde(default)]
    pub timezone: Option<Sourced<String>>,
    /// Chat channel to post to.
    #[serde(default)]
    pub channel: Option<Sourced<String>>,
    /// Which e-mails to act on.
    #[serde(default)]
    pub email_filter: Option<Sourced<String>>,
    /// Who receives e-mails the agent sends.
    #[serde(default)]
    pub recipients: Option<Sourced<Vec<String>>>,
    /// What the agent does (verbs from the extractor's vocabulary).
    #[serde(default)]
    pub actions: Option<Sourced<Vec<String>>>,
}

/// One requirement as shown to people: field, value, and the turn that set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementView {
    /// Field name, e.g. `time`.
    pub field: String,
    /// The value, for display.
    pub value: String,
    /// The turn that set it.
    pub turn: u32,
}

/// Something still missing, as a question to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// No integration named.
    Integrations,
    /// No trigger.
    Trigger,
    /// A weekly schedule without its day.
    Days,
    /// A monthly schedule without its day of the month.
    MonthDay,
    /// A daily or monthly schedule without a time.
    Time,
    /// A timed schedule without a time zone.
    Timezone,
    /// A chat integration without a channel.
    Channel(Provider),
    /// Sending e-mail without recipients.
    Recipients,
}

impl Gap {
    /// The question that fills this gap.
    pub fn question(&self) -> String {
        match self {
            Gap::Integrations => {
                "Which apps should the agent work with? For example Gmail, Slack, Google Calendar, \
                                  GitHub, Notion or Google Sheets."
                    .into()
            }
            Gap::Trigger => {
                "When should it run: on a schedule (like \"every weekday at 9\"), when something happens \
                             (like \"when a new GitHub issue is opened\"), or only when you start it?"
                    .into()
            }
            Gap::Days => "On which day(s) of the week should it run?".into(),
            Gap::MonthDay => "On which day of the month should it run?".into(),
            Gap::Time => "At what time of day should it run?".into(),
            Gap::Timezone => {
                "Which time zone is that in? (for example Europe/London, America/New_York or UTC)".into()
            }
            Gap::Channel(p) => format!("Which {} channel should it post to?", p.display_name()),
            Gap::Recipients => "Who should receive the e-mail? Give one or more addresses.".into(),
        }
    }
}

/// Sets `slot` to `value`; whether that changed it.
fn put<T: PartialEq>(slot: &mut Option<T>, value: Option<T>) -> bool {
    let changed = *slot != value;
    *slot = value;
    changed
}

impl Requirements {
    /// Merges what one message said, at `turn`. `change` marks a change request, in which a
    /// newly named integration replaces one of the same kind instead of joining it. Returns
    /// whether the requirements changed: the same as comparing them before and after, without
    /// the copy and the comparison of every field (the goal's text included) on every turn.
    pub fn merge(&mut self, ex: &Extraction, turn: u32, change: bool) -> bool {
        let mut changed = false;
        for &p in &ex.integrations {
            if self.integrations.iter().any(|s| s.value == p) {
                continue;
            }
            if change {
                self.integrations
                    .retain(|s| s.value.category() != p.category() || ex.integrations.contains(&s.value));
            }
            // `p` was not there, so the list now differs whatever `retain` removed.
            self.integrations.push(Sourced::at(p, turn));
            changed = true;
        }
        // Each field is set at most once below, so a field that changes stays changed.
        match &ex.trigger {
            Some(Trigger::Schedule(schedule)) => {
                changed |= put(&mut self.trigger_kind, Some(Sourced::at(TriggerKind::Schedule, turn)));
                changed |= put(&mut self.event, None);
                match schedule {
                    Schedule::Interval { minutes } => {
                        changed |= put(&mut self.interval_minutes, Some(Sourced::at(*minutes, turn)));
                        changed |= put(&mut self.days, None);
                        changed |= put(&mut self.time, None);
                        changed |= put(&mut self.month_day, None);
                    }
                    Schedule::Daily { days, time } => {
                        changed |= put(&mut self.days, Some(Sourced::at(*days, turn)));
                        if let Some(t) = time {
                            changed |= put(&mut self.time, Some(Sourced::at(*t, turn)));
                        }
                        changed |= put(&mut self.interval_minutes, None);
                        changed |= put(&mut self.month_day, None);
                    }
                    Schedule::Monthly { day, time } => {
                        changed |= put(&mut self.month_day, Some(Sourced::at(*day, turn)));
                        if let Some(t) = time {
                            changed |= put(&mut self.time, Some(Sourced::at(*t, turn)));
                        }
                        changed |= put(&mut self.interval_minutes, None);
                        changed |= put(&mut self.days, None);
                    }
                }
            }
            Some(Trigger::Event { provider, event }) => {
                changed |= put(&mut self.trigger_kind, Some(Sourced::at(TriggerKind::Event, turn)));
                let event = EventTrigger { provider: *provider, event: event.clone() };
                changed |= put(&mut self.event, Some(Sourced::at(event, turn)));
                if !self.integrations.iter().any(|s| s.value == *provider) {
                    self.integrations.push(Sourced::at(*provider, turn));
                    changed = true;
                }
                changed |= put(&mut self.days, None);
                changed |= put(&mut self.time, None);
                changed |= put(&mut self.interval_minutes, None);
                changed |= put(&mut self.month_day, None);
            }
            Some(Trigger::Manual) => {
                changed |= put(&mut self.trigger_kind, Some(Sourced::at(TriggerKind::Manual, turn)));
                changed |= put(&mut self.event, None);
            }
            None => {
                // A time or days on their own adjust the schedule there is ("make it 8 instead").
                if let Some(t) = ex.time {
                    changed |= put(&mut self.time, Some(Sourced::at(t, turn)));
                }
                if let Some(d) = ex.days {
                    changed |= put(&mut self.days, Some(Sourced::at(d, turn)));
                    changed |= put(&mut self.interval_minutes, None);
                    changed |= put(&mut self.month_day, None);
                }
                if (ex.time.is_some() || ex.days.is_some()) && self.trigger_kind.is_none() {
                    self.trigger_kind = Some(Sourced::at(TriggerKind::Schedule, turn));
                    changed = true;
                }
            }
        }
        if let Some(tz) = &ex.timezone {
            changed |= put(&mut self.timezone, Some(Sourced::at(tz.clone(), turn)));
        }
        if let Some(c) = &ex.channel {
            changed |= put(&mut self.channel, Some(Sourced::at(c.clone(), turn)));
        }
        if let Some(f) = &ex.email_filter {
            changed |= put(&mut self.email_filter, Some(Sourced::at(f.clone(), turn)));
        }
        if !ex.recipients.is_empty() {
            changed |= put(&mut self.recipients, Some(Sourced::at(ex.recipients.clone(), turn)));
        }
        if !ex.actions.is_empty() {
            changed |= put(&mut self.actions, Some(Sourced::at(ex.actions.clone(), turn)));
        }
        changed
    }

    /// Removes an integration (the person chose to go without it).
    pub fn drop_integration(&mut self, p: Provider) {
        self.integrations.retain(|s| s.value != p);
        if self.event.as_ref().is_some_and(|e| e.value.provider == p) {
            self.event = None;
            self.trigger_kind = None;
        }
    }

    /// The integrations, in order.
    pub fn providers(&self) -> Vec<Provider> {
        self.integrations.iter().map(|s| s.value).collect()
    }

    /// The schedule, when the trigger is a schedule and enough is known.
    pub fn schedule(&self) -> Option<Schedule> {
        if self.trigger_kind.as_ref()?.value != TriggerKind::Schedule {
            return None;
        }
        let time = self.time.as_ref().map(|t| t.value);
        if let Some(m) = &self.interval_minutes {
            return Some(Schedule::Interval { minutes: m.value });
        }
        if let Some(d) = &self.month_day {
            return Some(Schedule::Monthly { day: d.value, time });
        }
        Some(Schedule::Daily { days: self.days.as_ref().map_or(Days::EVERY_DAY, |d| d.value), time })
    }

    /// The trigger, when known.
    pub fn trigger(&self) -> Option<Trigger> {
        match self.trigger_kind.as_ref()?.value {
            TriggerKind::Schedule => self.schedule().map(Trigger::Schedule),
            TriggerKind::Event => self
                .event
                .as_ref()
                .map(|e| Trigger::Event { provider: e.value.provider, event: e.value.event.clone() }),
            TriggerKind::Manual => Some(Trigger::Manual),
        }
    }

    /// What discovery still needs: integrations and a trigger.
    pub fn discovery_gap(&self) -> Option<Gap> {
        if self.integrations.is_empty() {
            return Some(Gap::Integrations);
        }
        if self.trigger().is_none() {
            return Some(Gap::Trigger);
        }
        None
    }

    /// Every detail still missing once discovery is done, most important first.
    pub fn detail_gaps(&self) -> Vec<Gap> {
        let mut gaps = Vec::new();
        if let Some(schedule) = self.schedule() {
            match schedule {
                Schedule::Daily { days, .. } if days.is_empty() => gaps.push(Gap::Days),
                Schedule::Monthly { day: 0, .. } => gaps.push(Gap::MonthDay),
                _ => {}
            }
            let timed = matches!(schedule, Schedule::Daily { .. } | Schedule::Monthly { .. });
            if timed && self.time.is_none() {
                gaps.push(Gap::Time);
            }
            if timed && self.timezone.is_none() {
                gaps.push(Gap::Timezone);
            }
        }
        if self.channel.is_none()
            && let Some(p) = self.providers().into_iter().find(|p| p.posts_to_channel())
        {
            gaps.push(Gap::Channel(p));
        }
        let sends_mail = self
            .actions
            .as_ref()
            .is_some_and(|a| a.value.iter().any(|v| v == "send_email" || v == "forward"));
        if sends_mail && self.recipients.is_none() {
            gaps.push(Gap::Recipients);
        }
        gaps
    }

    /// Every requirement that is set, for display.
    pub fn snapshot(&self) -> Vec<RequirementView> {
        let mut out = Vec::new();
        self.each(|field, value, turn| {
            out.push(RequirementView { field: field.into(), value: value.into_owned(), turn });
        });
        out
    }

    /// Calls `push` with every requirement that is set: field, display value, turn. Values
    /// held as text are lent, not copied (the summary only reads them).
    fn each(&self, mut push: impl FnMut(&'static str, Cow<'_, str>, u32)) {
        if let Some(g) = &self.goal {
            push("goal", Cow::Borrowed(&g.value), g.turn);
        }
        if !self.integrations.is_empty() {
            let names: Vec<_> = self.integrations.iter().map(|s| s.value.display_name()).collect();
            let turn = self.integrations.iter().map(|s| s.turn).max().unwrap_or(0);
            push("integrations", Cow::Owned(names.join(", ")), turn);
        }
        if let Some(k) = &self.trigger_kind {
            let kind = match k.value {
                TriggerKind::Schedule => "schedule",
                TriggerKind::Event => "event",
                TriggerKind::Manual => "manual",
            };
            push("trigger", Cow::Borrowed(kind), k.turn);
        }
        if let Some(d) = &self.days {
            push("days", Cow::Owned(d.value.to_string()), d.turn);
        }
        if let Some(t) = &self.time {
            push("time", Cow::Owned(t.value.hh_mm()), t.turn);
        }
        if let Some(m) = &self.interval_minutes {
            push("interval", Cow::Owned(format!("every {} minutes", m.value)), m.turn);
        }
        if let Some(d) = &self.month_day {
            push("day_of_month", Cow::Owned(d.value.to_string()), d.turn);
        }
        if let Some(e) = &self.event {
            push(
                "event",
                Cow::Owned(format!("{} {}", e.value.provider.display_name(), e.value.event)),
                e.turn,
            );
        }
        if let Some(tz) = &self.timezone {
            push("timezone", Cow::Borrowed(&tz.value), tz.turn);
        }
        if let Some(c) = &self.channel {
            push("channel", Cow::Borrowed(&c.value), c.turn);
        }
        if let Some(f) = &self.email_filter {
            push("email_filter", Cow::Borrowed(&f.value), f.turn);
        }
        if let Some(r) = &self.recipients {
            push("recipients", Cow::Owned(r.value.join(", ")), r.turn);
        }
        if let Some(a) = &self.actions {
            push("actions", Cow::Owned(a.value.join(", ")), a.turn);
        }
    }

    /// A readable summary, one requirement per line.
    pub fn summary(&self) -> String {
        // Written into one buffer: it is rebuilt on most turns, and a string per line
        // showed up in the turn's profile.
        let mut out = String::with_capacity(256);
        self.each(|field, value, _| {
            if field == "goal" {
                return;
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str("- ");
            // "day_of_month" reads "day of month".
            if field.as_bytes().contains(&b'_') {
                out.push_str(&field.replace('_', " "));
            } else {
                out.push_str(field);
            }
            out.push_str(": ");
            out.push_str(&value);
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract;

    fn merged(lines: &[&str]) -> Requirements {
        let mut r = Requirements::default();
        for (turn, line) in lines.iter().enumerate() {
            let ex = extract(line);
            r.merge(&ex, turn as u32 + 1, crate::extract::is_change_request(line));
        }
        r
    }

    #[test]
    fn later_answers_override_earlier_ones_field_by_field() {
        let r = merged(&["every weekday at 9 summarise my gmail", "make it 8 instead", "London time"]);
        let field = |f: &str| r.snapshot().into_iter().find(|v| v.field == f).map(|v| (v.value, v.turn));
        assert_eq!(field("time"), Some(("08:00".into(), 2)));
        assert_eq!(field("days"), Some(("Mon-Fri".into(), 1)));
        assert_eq!(field("timezone"), Some(("Europe/London".into(), 3)));
        assert!(r.summary().contains("- time: 08:00"));
    }

    #[test]
    fn schedules_events_and_manual_triggers_replace_each_other() {
        let r = merged(&["every 15 minutes check github", "actually, when a new issue is opened in github"]);
        assert!(matches!(r.trigger(), Some(Trigger::Event { .. })));
        assert!(r.interval_minutes.is_none() && r.time.is_none());
        let r = merged(&["when a new issue is opened in github", "only when I click a button"]);
        assert_eq!(r.trigger(), Some(Trigger::Manual));
        let r = merged(&["on the 1st of every month at 8am email me a report from my sheet"]);
        assert!(matches!(r.schedule(), Some(Schedule::Monthly { day: 1, .. })));
        assert!(r.snapshot().iter().any(|v| v.field == "day_of_month"));
        let r = merged(&["hourly check notion"]);
        assert_eq!(r.schedule(), Some(Schedule::Interval { minutes: 60 }));
        assert!(r.snapshot().iter().any(|v| v.field == "interval"));
        assert!(r.detail_gaps().is_empty());
    }

    #[test]
    fn gaps_are_asked_in_order() {
        assert_eq!(Requirements::default().discovery_gap(), Some(Gap::Integrations));
        assert_eq!(merged(&["use gmail"]).discovery_gap(), Some(Gap::Trigger));
        let r = merged(&["every weekday summarise my gmail and post to slack, and email it too"]);
        let gaps = r.detail_gaps();
        assert_eq!(gaps[0], Gap::Time);
        assert!(gaps.contains(&Gap::Timezone) && gaps.contains(&Gap::Channel(Provider::SLACK)));
        for gap in gaps {
            assert!(gap.question().contains('?'), "{}", gap.question());
        }
        let weekly = merged(&["weekly at 9 summarise my gmail"]);
        assert!(weekly.detail_gaps().contains(&Gap::Days), "{:?}", weekly.detail_gaps());
        let sends = merged(&["every day at 9 send an email with my calendar"]);
        if sends.actions.as_ref().is_some_and(|a| a.value.iter().any(|v| v == "send_email")) {
            assert!(sends.detail_gaps().contains(&Gap::Recipients));
        }
    }

    #[test]
    fn a_change_request_replaces_an_integration_of_the_same_kind() {
        let r = merged(&["every day at 9 summarise my gmail to slack", "actually use Outlook instead"]);
        assert_eq!(r.providers(), vec![Provider::SLACK, Provider::OUTLOOK]);
        let mut r = merged(&["when a new issue is opened in github post to slack"]);
        r.drop_integration(Provider::GITHUB);
        assert_eq!(r.providers(), vec![Provider::SLACK]);
        assert!(r.trigger_kind.is_none(), "the event went with its integration");
    }

    /// Messages that set, reset and repeat every kind of requirement.
    const LINES: &[&str] = &[
        "Every weekday at 9, summarise my unread Gmail and post it to Slack #team",
        "post it to #ops",
        "post it to #team",
        "make it 8 instead",
        "on Mondays",
        "hourly",
        "every 15 minutes",
        "on the 1st of every month at 7",
        "when a new GitHub issue is opened, add a card in Trello",
        "only when I start it",
        "use Outlook instead of Gmail",
        "London time",
        "send it to ada@example.com and bob@example.com",
        "only emails from my boss",
        "create a Notion page and summarise it",
        "status",
        "what's the weather?",
        "use Teams instead",
        "at 17:30 on weekdays",
    ];

    proptest::proptest! {
        /// `merge` says whether it changed anything exactly when comparing before and after
        /// would (the engine relies on it instead of keeping a copy): repeats at the same turn
        /// change nothing, the same value at a new turn does.
        #[test]
        fn merge_says_whether_the_requirements_changed(
            steps in proptest::collection::vec((0..LINES.len(), 1u32..4, proptest::bool::ANY), 1..16)
        ) {
            let mut r = Requirements::default();
            for (line, turn, change) in steps {
                let before = r.clone();
                let said = r.merge(&extract(LINES[line]), turn, change);
                proptest::prop_assert_eq!(said, r != before, "{:?} at turn {}", LINES[line], turn);
            }
        }
    }
}
