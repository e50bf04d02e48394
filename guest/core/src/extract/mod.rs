//! The deterministic, rule-based text extractor Kiln uses when no LLM is configured or
//! every provider failed (SPEC §2.5): integrations, trigger (schedule, event or manual),
//! time, days, time zone, channel, e-mail filter, recipients and actions from one message,
//! plus the control intents every phase reacts to.
//!
//! Everything here is a pure function of the input text: no clock, no randomness, no I/O,
//! no panics on any input. Matching is hand-written over a small tokeniser (`token`);
//! `docs/extractor.md` describes what is understood, the labelled corpus and its scores.
//!
//! Only the first [`MAX_INPUT`] bytes of a message are read.

mod actions;
pub(crate) mod catalog;
mod conditions;
mod days;
mod fields;
mod intent;
mod once;
mod places;
mod schedule;
mod time;
mod token;
mod trigger;
mod tz;

use serde::{Deserialize, Serialize};

pub use actions::ACTIONS;
pub use catalog::Provider;
pub use days::{DAY_NAMES, Days};
/// The reply asks for a direct message rather than a channel ("DM me", "just to me").
pub fn is_direct_answer(text: &str) -> bool {
    fields::direct_message(text, true)
}

pub use intent::{
    Intent, closing_control, intent, is_change_request, leading_intent, looks_off_topic, reply_intent,
};
pub use once::{OneOff, OneOffDay};
pub use places::{Place, PlaceKind};
pub use schedule::{Schedule, same_cron};
pub use time::TimeOfDay;
pub use trigger::{Trigger, TriggerKind};
pub use tz::{timezone_answer, zone_choices};

use catalog::{Mention, Unknown};
use schedule::Recurrence;
use token::{Kind, Toks};

/// How much of a message is read, in bytes; the rest is ignored. Requests are chat turns,
/// and this bound keeps every rule linear in practice.
pub const MAX_INPUT: usize = 16 * 1024;

/// What one message says, as far as rules can tell. Everything optional: absent = not
/// mentioned.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Extraction {
    /// Integrations needed, in order of first mention, deduplicated.
    pub integrations: Vec<Provider>,
    /// What starts the agent.
    pub trigger: Option<Trigger>,
    /// A time of day mentioned, also alone ("make it 8 instead" -> 08:00).
    pub time: Option<TimeOfDay>,
    /// More times of day listed with it ("at 9 and 5": 17:00 here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<TimeOfDay>,
    /// Days mentioned, also alone ("only on Fridays").
    pub days: Option<Days>,
    /// An IANA time zone name ("Europe/London", "UTC").
    pub timezone: Option<String>,
    /// The chat channel to post to, lowercased with a leading `#` ("#team").
    pub channel: Option<String>,
    /// Named places the agent writes to besides the channel and the recipients: sheets,
    /// pages, boards, URLs, phone numbers ("the sheet called Leads").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<Place>,
    /// Named places the agent reads from, channels included ("summarise #support").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Place>,
    /// What limits the items it acts on, in the person's words ("urgent", "over $500").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// A Gmail-style query ("is:unread from:boss@acme.com").
    pub email_filter: Option<String>,
    /// E-mail addresses to send to.
    pub recipients: Vec<String>,
    /// What the agent does, from [`ACTIONS`], in order of first mention.
    pub actions: Vec<String>,
    /// Integrations the message says to remove or not use ("leave out the Teams bit").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<Provider>,
    /// Tools named that Kiln does not know ("Zulip"), as written, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_tools: Vec<String>,
    /// Integrations only implied by a default, never named ("email" -> Gmail, a lone
    /// `#channel` -> Slack): a conversation that already has a tool of that kind keeps it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implied: Vec<Provider>,
    /// Unknown tools the message says to leave out ("leave out Zulip").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_removed: Vec<String>,
    /// The tools named are wanted besides the others ("also add them to HubSpot"): a change
    /// adds them instead of replacing one of the same kind.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adds: bool,
}

impl Extraction {
    /// Nothing was extracted.
    pub fn is_empty(&self) -> bool {
        *self == Extraction::default()
    }
}

/// The first [`MAX_INPUT`] bytes of `text`, cut at a character boundary.
pub(crate) fn clip(text: &str) -> &str {
    if text.len() <= MAX_INPUT {
        return text;
    }
    let mut end = MAX_INPUT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// One message, tokenised once, with everything a builder turn asks of it: a turn needs
/// the intent, the extraction and whether it is a change request, and tokenising is most of
/// the cost of each.
#[derive(Debug, Clone)]
pub struct Reading<'a> {
    /// As given (rules see only its first [`MAX_INPUT`] bytes).
    text: &'a str,
    /// The tokens of the clipped text.
    toks: Toks<'a>,
}

impl<'a> Reading<'a> {
    /// Tokenises the first [`MAX_INPUT`] bytes of `text`.
    pub fn new(text: &'a str) -> Reading<'a> {
        Reading { text, toks: Toks::new(clip(text)) }
    }

    /// The message as given.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// See [`intent()`].
    pub fn intent(&self) -> Option<Intent> {
        intent::intent_of(clip(self.text), &self.toks)
    }

    /// See [`is_change_request`].
    pub fn is_change_request(&self) -> bool {
        intent::change_text(clip(self.text), &self.toks)
    }

    /// See [`looks_off_topic`].
    pub fn looks_off_topic(&self, ex: &Extraction) -> bool {
        intent::off_topic(clip(self.text), &self.toks, ex)
    }

    /// The tools a question about what Kiln works with names ("do you also work with Facebook
    /// groups?", "can it connect to Notion?"); empty for anything else. Such a question adds
    /// nothing: it is answered.
    pub fn tools_asked_about(&self) -> Vec<Provider> {
        if !asks_what_kiln_works_with(&self.toks) {
            return Vec::new();
        }
        catalog::resolve(&catalog::mentions(&self.toks)).into_iter().map(|(p, _)| p).collect()
    }

    /// See [`extract()`].
    pub fn extract(&self) -> Extraction {
        self.extract_with_change().0
    }

    /// [`extract()`] and [`is_change_request`] together: a builder turn needs both.
    pub fn extract_with_change(&self) -> (Extraction, bool) {
        let text = clip(self.text);
        let toks = &self.toks;
        let change = intent::change_text(text, toks);
        if asks_about_the_world(toks) || asks_what_kiln_works_with(toks) {
            return (Extraction::default(), false);
        }
        let mut mentions = catalog::mentions(toks);
        let unknown = catalog::unknown_tools(toks, &mentions);
        // "the Klaviyo email stats": a generic word right after a tool Kiln does not know is
        // that tool's, not Gmail's.
        mentions.retain(|m| m.explicit || !unknown.iter().any(|u| u.end == m.pos));
        let recipients = fields::find_recipients(toks);
        let (channel, source_channels) = fields::find_channels(toks);
        // "summarise #general and DM it to me": a direct message is where it goes.
        let channel =
            channel.or_else(|| fields::direct_message(clip(self.text), false).then(|| "@me".to_owned()));

        // Implied integrations. In a change the builder lets a default give way to a tool of
        // that kind the conversation already has (`Requirements::merge`).
        {
            let before = catalog::resolve(&mentions);
            let first_pos = |pred: &dyn Fn(usize) -> bool| (0..toks.len()).find(|&i| pred(i));
            // (A YouTube channel, or one in a chat tool Kiln does not know, is not Slack's.)
            let youtube = before.iter().any(|(p, _)| *p == Provider::YOUTUBE);
            let any_channel = channel.is_some() || !source_channels.is_empty();
            let other_chat = unknown.iter().any(|u| u.chat);
            if any_channel && !before.iter().any(|(p, _)| p.is_chat()) && !youtube && !other_chat {
                let pos = first_pos(&|i| {
                    toks.kind(i) == Some(Kind::Channel) || toks.is_any(i, &["channel", "channels"])
                });
                if let Some(pos) = pos {
                    mentions.push(Mention {
                        provider: Provider::SLACK,
                        pos,
                        explicit: false,
                        negated: false,
                    });
                }
            }
            if !recipients.is_empty()
                && !before.iter().any(|(p, _)| p.is_mail())
                && let Some(pos) = first_pos(&|i| toks.kind(i) == Some(Kind::Email))
            {
                mentions.push(Mention { provider: Provider::GMAIL, pos, explicit: false, negated: false });
            }
            crate::order::sort_by_key(&mut mentions, |m| m.pos as u64);
        }
        let removed = catalog::removed(toks, &mentions);
        // Tools only implied by a default ("email" -> Gmail, a lone #channel -> Slack), never
        // named: the conversation keeps a tool of that kind it already has instead.
        let implied: Vec<Provider> = catalog::resolve(&mentions)
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| !mentions.iter().any(|m| m.provider == *p && m.explicit && !m.negated))
            .collect();
        let integrations: Vec<Provider> = catalog::resolve(&mentions)
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| !removed.contains(p))
            .collect();

        let times = time::in_schedule_sentence(toks, time::find_times(toks));
        let mut chosen = time::chosen(toks, &times);
        let days_found = days::find_days(toks);
        let mut recurrence = Recurrence::find(toks, days_found);
        recurrence.spread(&mut chosen, time::window(toks), schedule::past_the_hour(toks));
        let time = chosen.first().copied();
        let actions = actions::find_actions(toks, &mentions);
        let timezone = tz::find_timezone(toks, &times);
        let email_filter = fields::find_email_filter(toks, &integrations);

        let cue = trigger::find_cue(toks, &mentions, &unknown);
        let event = |cue| {
            let (provider, event) = trigger::event_for(toks, cue, &mentions, &integrations, &unknown);
            Trigger::Event { provider, event }
        };
        let once = once::find_once(toks);
        let one_off = |day| Some(Trigger::Once(OneOff { day, time }));
        let trigger = if trigger::is_manual(toks) {
            Some(Trigger::Manual)
        } else if let Some(c) = cue.filter(|c| c.strong) {
            Some(event(c))
        } else if let Some((day, true)) = once {
            one_off(day)
        } else if let Some((Some(day), _)) =
            once.filter(|_| lone_days(&recurrence) && !days::recurring_words(toks))
        {
            // "Next Friday at 3pm, post that the water is off on Saturday": a day named
            // once, with nothing that says it comes round again, is content.
            one_off(Some(day))
        } else if recurrence.is_explicit() || recurrence.unsupported {
            recurrence.schedule(&chosen, false).map(Trigger::Schedule)
        } else if let Some((day, _)) = once.filter(|(day, _)| {
            time.is_some()
                || !actions.is_empty()
                || integrations.is_empty()
                || !matches!(day, Some(OneOffDay::Today) | None)
        }) {
            // A day is a one-off run in a request that says what to do or when ("tomorrow at
            // 9 send the deck"), or said alone (an answer: "next Friday"); not in a mention of
            // a tool ("the weather today").
            one_off(day)
        } else if let Some(c) = cue.filter(|c| time.is_none() || !toks.is_any(c.pos, &["new", "incoming"])) {
            // "the new Intercom conversations at 8 and 20": new since the last run, at a time.
            Some(event(c))
        } else {
            let request = !integrations.is_empty() || !actions.is_empty();
            let schedule = recurrence.schedule(&chosen, request && !change).map(Trigger::Schedule);
            let timeless = chosen.is_empty() && !change && once.is_none();
            schedule.or_else(|| trigger::passing_on(toks).filter(|_| timeless).map(event))
        };
        let email_filter = fields::for_mail_read(email_filter, toks, &trigger, &actions);
        let (mut destinations, mut sources) = (Vec::new(), Vec::new());
        for (place, role) in places::find_places(toks) {
            match role {
                places::Role::Dest => destinations.push(place),
                places::Role::Source => sources.push(place),
            }
        }
        // "every Monday a summary of the new Salesforce opportunities in the Teams channel
        // Direction": a lone channel in a message that reads another tool and writes nowhere
        // else is where the results go, not what is read.
        let mut source_channels = source_channels;
        let mut channel = channel;
        // (A YouTube channel is YouTube's.)
        if channel.is_none()
            && !integrations.contains(&Provider::YOUTUBE)
            && source_channels.len() == 1
            && destinations.is_empty()
            && recipients.is_empty()
            && !matches!(&trigger, Some(Trigger::Event { provider, .. }) if provider.is_chat())
            && integrations.iter().any(|p| !p.is_chat() && !p.is_mail())
            && actions.iter().all(|a| a == "summarise" || a == "post_message")
        {
            channel = source_channels.pop();
        }
        sources.splice(0..0, source_channels.into_iter().map(|c| Place::new(PlaceKind::Channel, c)));

        // An event's tool is used even when only its thing was named ("when a PR is merged");
        // the requirements add it the same way.
        let mut integrations = integrations;
        if let Some(Trigger::Event { provider, .. }) = &trigger
            && !change
            && !integrations.contains(provider)
        {
            integrations.push(*provider);
        }
        // A phone number written to with no tool that reaches phones is a text message ("txt
        // +1 617 555 0182"): SMS, as "text me" is.
        let phones = [Provider::TWILIO, Provider::WHATSAPP, Provider::TELEGRAM];
        if !change
            && destinations.iter().any(|p| p.kind == PlaceKind::Phone)
            && !integrations.iter().any(|p| phones.contains(p))
            && !unknown.iter().any(|u| u.chat)
        {
            integrations.push(Provider::TWILIO);
        }
        let (unknown_removed, unknown_tools): (Vec<Unknown>, Vec<Unknown>) =
            unknown.into_iter().partition(|u| u.negated);
        let adds = !integrations.is_empty()
            && (toks.has_any(&["also", "too", "additionally", "plus"]) || toks.has_seq(&["as", "well"]));
        let extraction = Extraction {
            integrations,
            trigger,
            time,
            also: chosen.get(1..).unwrap_or_default().to_vec(),
            days: recurrence.days.days,
            timezone,
            channel,
            destinations,
            sources,
            conditions: conditions::find_conditions(toks),
            removed,
            unknown_tools: unknown_tools.into_iter().map(|u| u.name).collect(),
            unknown_removed: unknown_removed.into_iter().map(|u| u.name).collect(),
            adds,
            implied,
            email_filter,
            recipients,
            actions,
        };
        (extraction, change)
    }
}

/// The recurrence is only day names ("on Saturday"): no interval, month day, "weekly" or
/// every day.
fn lone_days(r: &Recurrence) -> bool {
    r.interval.is_none()
        && r.monthly.is_none()
        && !r.days.weekly
        && r.days.days.is_some_and(|d| d != Days::EVERY_DAY)
}

/// "do you also work with Facebook groups?", "does Kiln support Notion?", "can it connect to
/// Jira?": a question about what Kiln can use, with no order in it ("can you post it to
/// Notion?" is one).
fn asks_what_kiln_works_with(toks: &Toks) -> bool {
    const ASKS: &[&str] = &["do", "does", "can", "could", "will"];
    let question = toks.len() > 3 && toks.is(toks.len() - 1, "?") && toks.is_any(0, ASKS);
    // "do you (also) work with X", "does it support X", "can kiln connect to X".
    let subject = toks.is_any(1, &["you", "u", "it", "kiln"]);
    let verb = if toks.is_any(2, &["also", "even", "already"]) { 3 } else { 2 };
    let works = (toks.is_any(verb, &["work", "integrate", "connect", "talk"])
        && toks.is_any(verb + 1, &["with", "to"]))
        || toks.is_any(verb, &["support", "handle", "know"]);
    // (Every message is asked this: the tools are looked up only for such a question.)
    let tool = |k: usize| catalog::mentions(&Toks::new(toks.text(k))).iter().any(|m| m.explicit);
    question && subject && works && (verb + 1..toks.len()).filter(|&k| tool(k)).count() == 1
}

/// A question about the world rather than a request: "what's the weather like there
/// today?", "is it raining in Lisbon?". A question that asks for something ("can you post it
/// to #ops?", "how about 8?", "what about Teams?") is a request.
fn asks_about_the_world(toks: &Toks) -> bool {
    const ASKS: &[&str] = &[
        "what", "what's", "whats", "how", "how's", "is", "are", "was", "will", "who", "why", "where",
        "when's", "do", "does", "did",
    ];
    let last = toks.len().checked_sub(1);
    let question = last.is_some_and(|l| toks.is(l, "?")) && toks.is_any(0, ASKS);
    let proposal = toks.seq(0, &["what", "about"]) || toks.seq(0, &["how", "about"]);
    // Words of a request: "what if every new Stripe payment went to #sales?" asks for an agent.
    const REQUEST: &[&str] = &[
        "you",
        "agent",
        "it",
        "automation",
        "bot",
        "every",
        "each",
        "whenever",
        "new",
        "post",
        "send",
        "add",
        "create",
        "notify",
        "remind",
        "save",
        "share",
        "copy",
        "forward",
        "summarise",
        "summarize",
        "text",
        "email",
        "sync",
        "log",
        "update",
        "track",
        "went",
        "go",
        "goes",
        "if",
        "could",
        "would",
        "should",
    ];
    question
        && !proposal
        && !(1..toks.len()).any(|k| toks.is_any(k, REQUEST) || toks.kind(k) == Some(Kind::Channel))
        && time::find_times(toks).is_empty()
}

/// Reads one message.
///
/// Rules in brief (details in each module and `docs/extractor.md`): a manual cue wins; then a
/// strong event cue ("whenever", "as soon as", "every time"); then an explicit recurrence
/// ("every weekday", "hourly", "on the 1st of every month"); then a weak event cue ("when a
/// new issue is opened", "new emails from ..."); then a bare time in a request that names an
/// integration or an action ("post my calendar to Teams at 8") means every day. A correction
/// ("make it 8 instead") gives the time but no trigger, and implies no integration.
pub fn extract(text: &str) -> Extraction {
    Reading::new(text).extract()
}

#[cfg(test)]
mod tests;
