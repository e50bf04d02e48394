//! Structured requirements: each field remembers the turn that set it, and later answers
//! override earlier ones explicitly (SPEC §2.3).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::extract::{
    Days, Extraction, OneOff, OneOffDay, Place, PlaceKind, Provider, Schedule, TimeOfDay, Trigger,
    TriggerKind,
};

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
    /// More times on the schedule's days besides `time` ("at 9 and 5": 17:00).
    #[serde(default)]
    pub also_at: Option<Sourced<Vec<TimeOfDay>>>,
    /// The day of a one-off run, as said.
    #[serde(default)]
    pub once_day: Option<Sourced<OneOffDay>>,
    /// Named places the agent writes to besides the channel and the recipients.
    #[serde(default)]
    pub destinations: Option<Sourced<Vec<Place>>>,
    /// Named places the agent reads from (channels included).
    #[serde(default)]
    pub sources: Option<Sourced<Vec<Place>>>,
    /// What limits the items the agent acts on, in the person's words.
    #[serde(default)]
    pub conditions: Option<Sourced<Vec<String>>>,
    /// Tools the person named that Kiln does not know, and what to do about each.
    #[serde(default)]
    pub unknown_tools: Vec<Sourced<UnknownTool>>,
}

/// A tool Kiln does not know, kept by name until the person decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownTool {
    /// As the person wrote it ("Zulip").
    pub name: String,
    /// What was decided; `None` while it is still open.
    pub choice: Option<UnknownChoice>,
}

/// What to do about a tool Kiln does not know. Postcard stores the variant index: append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownChoice {
    /// Reach it with a generic HTTP request or webhook step.
    Http,
}

pub use kiln_wire::builder::RequirementView;

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
    /// A tool Kiln does not know, not decided yet. Never blocks the build: the summary names
    /// it and offers its choices, and a yes builds without it (people who answer "sure, build
    /// it" mean the build, not a choice they were not asked).
    UnknownTool(String),
    /// A one-off run without its day.
    OnceDay,
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
            Gap::OnceDay => {
                "On which day should it run (for example \"tomorrow\" or \"next Friday\")?".into()
            }
            Gap::Time => "At what time of day should it run?".into(),
            Gap::Timezone => {
                "Which time zone is that in? (for example Europe/London, America/New_York or UTC)".into()
            }
            Gap::Channel(p) => format!("Which {} channel should it post to?", p.display_name()),
            Gap::Recipients => "Who should receive the e-mail? Give one or more addresses.".into(),
            Gap::UnknownTool(name) => format!(
                "I can't connect to {name} directly, so the draft leaves it out unless you choose a web \
                 request (webhook) for it or name another app to use instead."
            ),
        }
    }

    /// Answers to offer as choices: (label, what to send).
    pub fn choices(&self) -> Vec<(String, String)> {
        match self {
            Gap::UnknownTool(name) => vec![
                (format!("Use a webhook for {name}"), format!("use a webhook for {name}")),
                (format!("Leave {name} out"), format!("leave out {name}")),
            ],
            Gap::Days => vec![
                ("Weekdays".into(), "weekdays".into()),
                ("Every day".into(), "every day".into()),
                ("Mondays".into(), "on Mondays".into()),
            ],
            Gap::Time => vec![
                ("08:00".into(), "at 8:00".into()),
                ("09:00".into(), "at 9:00".into()),
                ("17:00".into(), "at 17:00".into()),
            ],
            Gap::Trigger => vec![
                ("Every weekday at 9".into(), "every weekday at 9".into()),
                ("When I start it".into(), "only when I start it".into()),
            ],
            _ => Vec::new(),
        }
    }
}

/// Adds `new` places to `slot`: a place of a kind already there replaces it ("use the Leads
/// sheet instead"); whether that changed anything.
fn merge_places(slot: &mut Option<Sourced<Vec<Place>>>, new: &[Place], turn: u32) -> bool {
    if new.is_empty() {
        return false;
    }
    let mut all = slot.as_ref().map(|s| s.value.clone()).unwrap_or_default();
    all.retain(|p| !new.iter().any(|n| n.kind == p.kind));
    all.extend(new.iter().cloned());
    put(slot, Some(Sourced::at(all, turn)))
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
        for &p in &ex.removed {
            if !self.integrations.iter().any(|s| s.value == p) {
                continue;
            }
            // "use Outlook instead of Gmail": the tool named in its place takes over what it
            // can (its event), and joins first so what the old one had of its kind stays.
            let successor = ex.integrations.iter().copied().find(|r| r.category() == p.category() && *r != p);
            match successor {
                Some(r) => {
                    if !self.integrations.iter().any(|s| s.value == r) {
                        self.integrations.push(Sourced::at(r, turn));
                    }
                    self.replace_integration(p, r, turn);
                }
                None => self.drop_integration(p),
            }
            changed = true;
        }
        // A default ("#alerts" alone means Slack) gives way to a tool of that kind the
        // conversation already had (the Discord it is answering about).
        let had: Vec<_> = self.integrations.iter().map(|s| s.value.category()).collect();
        for &p in &ex.integrations {
            let defaulted = ex.implied.contains(&p) && had.contains(&p.category());
            if defaulted || self.integrations.iter().any(|s| s.value == p) {
                continue;
            }
            let replaced: Vec<Provider> = if change && !ex.adds {
                let same_kind = |q: &Provider| q.category() == p.category() && !ex.integrations.contains(q);
                self.integrations.iter().map(|s| s.value).filter(same_kind).collect()
            } else {
                Vec::new()
            };
            // `p` was not there, so the list now differs whatever is replaced. It joins first,
            // so what the old tool had of its kind (the channel of a chat tool) stays.
            self.integrations.push(Sourced::at(p, turn));
            for q in replaced {
                self.replace_integration(q, p, turn);
            }
            changed = true;
        }
        changed |= self.merge_unknown_tools(ex, turn);
        // Each field is set at most once below, so a field that changes stays changed.
        let also = (!ex.also.is_empty()).then(|| Sourced::at(ex.also.clone(), turn));
        match &ex.trigger {
            Some(Trigger::Schedule(schedule)) => {
                changed |= put(&mut self.trigger_kind, Some(Sourced::at(TriggerKind::Schedule, turn)));
                changed |= put(&mut self.event, None);
                changed |= put(&mut self.once_day, None);
                match schedule {
                    Schedule::Interval { minutes } => {
                        changed |= put(&mut self.interval_minutes, Some(Sourced::at(*minutes, turn)));
                        changed |= put(&mut self.days, None);
                        changed |= put(&mut self.time, None);
                        changed |= put(&mut self.also_at, None);
                        changed |= put(&mut self.month_day, None);
                    }
                    Schedule::Daily { days, time, .. } => {
                        changed |= put(&mut self.days, Some(Sourced::at(*days, turn)));
                        if let Some(t) = time {
                            changed |= put(&mut self.time, Some(Sourced::at(*t, turn)));
                            changed |= put(&mut self.also_at, also);
                        }
                        changed |= put(&mut self.interval_minutes, None);
                        changed |= put(&mut self.month_day, None);
                    }
                    Schedule::Monthly { day, time } => {
                        changed |= put(&mut self.month_day, Some(Sourced::at(*day, turn)));
                        if let Some(t) = time {
                            changed |= put(&mut self.time, Some(Sourced::at(*t, turn)));
                            changed |= put(&mut self.also_at, None);
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
                changed |= self.clear_schedule();
            }
            Some(Trigger::Manual) => {
                changed |= put(&mut self.trigger_kind, Some(Sourced::at(TriggerKind::Manual, turn)));
                changed |= put(&mut self.event, None);
                changed |= put(&mut self.once_day, None);
            }
            Some(Trigger::Once(OneOff { day, time })) => {
                changed |= put(&mut self.trigger_kind, Some(Sourced::at(TriggerKind::Once, turn)));
                changed |= put(&mut self.event, None);
                changed |= self.clear_schedule();
                if let Some(d) = day {
                    changed |= put(&mut self.once_day, Some(Sourced::at(*d, turn)));
                }
                if let Some(t) = time {
                    changed |= put(&mut self.time, Some(Sourced::at(*t, turn)));
                }
            }
            None => {
                // A time or days on their own adjust the schedule there is ("make it 8 instead").
                if let Some(t) = ex.time {
                    changed |= put(&mut self.time, Some(Sourced::at(t, turn)));
                    changed |= put(&mut self.also_at, also);
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
        changed |= merge_places(&mut self.destinations, &ex.destinations, turn);
        changed |= merge_places(&mut self.sources, &ex.sources, turn);
        if !ex.conditions.is_empty() {
            let mut all = match &self.conditions {
                Some(c) if !change => c.value.clone(),
                _ => Vec::new(),
            };
            for c in &ex.conditions {
                if !all.contains(c) {
                    all.push(c.clone());
                }
            }
            changed |= put(&mut self.conditions, Some(Sourced::at(all, turn)));
        }
        if let Some(f) = &ex.email_filter {
            changed |= put(&mut self.email_filter, Some(Sourced::at(f.clone(), turn)));
        }
        if !ex.recipients.is_empty() {
            changed |= put(&mut self.recipients, Some(Sourced::at(ex.recipients.clone(), turn)));
        }
        if !ex.actions.is_empty() {
            // A whole new request says everything it does; a later message ("post to #ops")
            // adds to what the agent already does.
            let whole = ex.trigger.is_some() && !ex.integrations.is_empty();
            let mut actions = match &self.actions {
                Some(a) if !whole => a.value.clone(),
                _ => Vec::new(),
            };
            for a in &ex.actions {
                if !actions.contains(a) {
                    actions.push(a.clone());
                }
            }
            changed |= put(&mut self.actions, Some(Sourced::at(actions, turn)));
        }
        changed
    }

    /// Unknown tools named, and decisions about the open ones: a webhook asked for settles
    /// them as web requests, "leave out X" drops X, another app named in a change replaces
    /// them.
    fn merge_unknown_tools(&mut self, ex: &Extraction, turn: u32) -> bool {
        let mut changed = false;
        let before = self.unknown_tools.len();
        self.unknown_tools
            .retain(|u| !ex.unknown_removed.iter().any(|n| n.eq_ignore_ascii_case(&u.value.name)));
        changed |= self.unknown_tools.len() != before;
        for name in &ex.unknown_tools {
            if ex.unknown_removed.iter().any(|n| n.eq_ignore_ascii_case(name))
                || self.unknown_tools.iter().any(|u| u.value.name.eq_ignore_ascii_case(name))
            {
                continue;
            }
            self.unknown_tools.push(Sourced::at(UnknownTool { name: name.clone(), choice: None }, turn));
            changed = true;
        }
        if ex.integrations.contains(&Provider::WEBHOOK) {
            for u in self.unknown_tools.iter_mut().filter(|u| u.value.choice.is_none()) {
                u.value.choice = Some(UnknownChoice::Http);
                u.turn = turn;
                changed = true;
            }
        }
        changed
    }

    /// Forgets the schedule's parts (an event or a one-off replaced it).
    fn clear_schedule(&mut self) -> bool {
        let mut changed = put(&mut self.days, None);
        changed |= put(&mut self.time, None);
        changed |= put(&mut self.also_at, None);
        changed |= put(&mut self.interval_minutes, None);
        changed |= put(&mut self.month_day, None);
        changed
    }

    /// `old` gives way to `new` ("use Outlook instead"): an event of `old` moves to `new` when
    /// `new` has it, else it goes (and the trigger is asked again), so no trigger is left on a
    /// tool the agent no longer uses.
    fn replace_integration(&mut self, old: Provider, new: Provider, turn: u32) {
        let event = self.event.as_ref().filter(|e| e.value.provider == old).map(|e| e.value.event.clone());
        self.drop_integration(old);
        if let Some(event) = event
            && new.tool().events.iter().any(|e| e.id == event)
        {
            self.trigger_kind = Some(Sourced::at(TriggerKind::Event, turn));
            self.event = Some(Sourced::at(EventTrigger { provider: new, event }, turn));
        }
    }

    /// Removes an integration (the person chose to go without it).
    pub fn drop_integration(&mut self, p: Provider) {
        self.integrations.retain(|s| s.value != p);
        if self.event.as_ref().is_some_and(|e| e.value.provider == p) {
            self.event = None;
            self.trigger_kind = None;
        }
        // What only that kind of tool used goes with it: the channel with the last chat tool,
        // the mail filter with the last mail tool.
        if p.is_chat() && !self.integrations.iter().any(|s| s.value.is_chat()) {
            self.channel = None;
        }
        if p.is_mail() && !self.integrations.iter().any(|s| s.value.is_mail()) {
            self.email_filter = None;
            // Addresses and sending were only for the mail ("forget the email part").
            self.recipients = None;
            if let Some(a) = &mut self.actions {
                a.value.retain(|v| v != "send_email" && v != "forward");
            }
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
        Some(Schedule::Daily {
            days: self.days.as_ref().map_or(Days::EVERY_DAY, |d| d.value),
            time,
            also: self.also_at.as_ref().map(|a| a.value.clone()).unwrap_or_default(),
        })
    }

    /// The one-off run, when the trigger is one.
    pub fn once(&self) -> Option<OneOff> {
        (self.trigger_kind.as_ref()?.value == TriggerKind::Once).then(|| OneOff {
            day: self.once_day.as_ref().map(|d| d.value),
            time: self.time.as_ref().map(|t| t.value),
        })
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
            TriggerKind::Once => self.once().map(Trigger::Once),
        }
    }

    /// What discovery still needs: integrations and a trigger.
    pub fn discovery_gap(&self) -> Option<Gap> {
        if self.integrations.is_empty() && self.unknown_tools.is_empty() {
            return Some(Gap::Integrations);
        }
        if self.trigger().is_none() {
            return Some(Gap::Trigger);
        }
        None
    }

    /// The tools Kiln does not know that are still undecided, as gaps the summary mentions.
    pub fn open_unknown_tools(&self) -> Vec<Gap> {
        let open = self.unknown_tools.iter().filter(|u| u.value.choice.is_none());
        open.map(|u| Gap::UnknownTool(u.value.name.clone())).collect()
    }

    /// Every detail still missing once discovery is done, most important first.
    pub fn detail_gaps(&self) -> Vec<Gap> {
        let mut gaps: Vec<Gap> = Vec::new();
        if let Some(once) = self.once() {
            if once.day.is_none() {
                gaps.push(Gap::OnceDay);
            }
            if once.time.is_none() {
                gaps.push(Gap::Time);
            }
            if self.timezone.is_none() {
                gaps.push(Gap::Timezone);
            }
        }
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
        // A chat tool read from ("a digest of #standup to the Notion page Standups") needs
        // no channel to post to when what the agent makes goes somewhere else.
        let listed = |f: &Option<Sourced<Vec<Place>>>| f.as_ref().is_some_and(|v| !v.value.is_empty());
        let reads_chat =
            self.sources.as_ref().is_some_and(|s| s.value.iter().any(|p| p.kind == PlaceKind::Channel));
        let delivers_elsewhere = listed(&self.destinations) || self.recipients.is_some();
        if self.channel.is_none()
            && !(reads_chat && delivers_elsewhere)
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
                TriggerKind::Once => "once",
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
        if let Some(a) = &self.also_at {
            let times: Vec<String> = a.value.iter().map(|t| t.hh_mm()).collect();
            push("also_at", Cow::Owned(times.join(", ")), a.turn);
        }
        if let (Some(d), Some(once)) = (&self.once_day, self.once()) {
            push("once", Cow::Owned(once.describe()), d.turn);
        }
        for (field, places) in [("destinations", &self.destinations), ("sources", &self.sources)] {
            if let Some(p) = places {
                let names: Vec<String> = p.value.iter().map(Place::describe).collect();
                push(field, Cow::Owned(names.join(", ")), p.turn);
            }
        }
        if let Some(c) = &self.conditions {
            push("conditions", Cow::Owned(c.value.join(", ")), c.turn);
        }
        for u in &self.unknown_tools {
            let what = match u.value.choice {
                None => " (not decided)",
                Some(UnknownChoice::Http) => " (web request)",
            };
            push("unknown_tool", Cow::Owned(super::joined([u.value.name.as_str(), what])), u.turn);
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
        // A chat tool only read from needs no channel to post to when the digest goes elsewhere.
        let channel_gap = |s: &str| merged(&[s]).detail_gaps().iter().any(|g| matches!(g, Gap::Channel(_)));
        assert!(!channel_gap(
            "send a digest of #standup to the Notion page Standups every weekday at 10 Berlin"
        ));
        assert!(channel_gap("send a digest of the Notion page Standups to Slack every weekday at 10 Berlin"));
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

    #[test]
    fn a_default_gives_way_to_the_tool_already_chosen_and_actions_add_up() {
        // "#alerts" alone would mean Slack; answering about Discord it names Discord's channel.
        let r = merged(&["when Sentry reports an issue post it to Discord", "#alerts"]);
        assert_eq!(r.providers(), vec![Provider::SENTRY, Provider::DISCORD]);
        assert_eq!(r.channel.as_ref().map(|c| c.value.as_str()), Some("#alerts"));
        // "post to #ops" adds where to post; the summary the agent makes stays.
        let r =
            merged(&["every weekday at 9 summarise my unread gmail and post it to slack", "post to #ops"]);
        let actions = r.actions.as_ref().map(|a| a.value.clone()).unwrap_or_default();
        assert!(
            actions.contains(&"summarise".to_owned()) && actions.contains(&"post_message".to_owned()),
            "{actions:?}"
        );
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
