//! The agent spec (SPEC §2.6): a documented, versioned JSON format; validation (used on
//! every draft, whoever wrote it); the offline drafter; and the dry run shown in TESTING.

use std::collections::BTreeMap;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::requirements::{Requirements, UnknownChoice};
use crate::extract::catalog::{Input, SinkWhen};
use crate::extract::{Place, PlaceKind, Provider, Trigger};

/// The value of `schema_version` this build writes and accepts.
pub const AGENT_SCHEMA_VERSION: &str = "kiln.agent/v1";

/// The JSON Schema of the agent spec (draft 2020-12); also sent to LLMs that draft.
pub const AGENT_JSON_SCHEMA: &str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://kiln.dev/schemas/agent/v1.json",
  "title": "Kiln agent spec v1",
  "type": "object",
  "additionalProperties": false,
  "required": ["schema_version", "name", "description", "trigger", "integrations", "steps"],
  "properties": {
    "schema_version": {"const": "kiln.agent/v1"},
    "name": {"type": "string", "minLength": 1, "maxLength": 80},
    "description": {"type": "string", "maxLength": 500},
    "trigger": {
      "oneOf": [
        {"type": "object", "additionalProperties": false, "required": ["kind", "cron", "timezone", "description"],
         "properties": {"kind": {"const": "schedule"}, "cron": {"type": "string", "description": "5-field cron"},
                        "timezone": {"type": "string", "description": "IANA time zone"}, "description": {"type": "string"}}},
        {"type": "object", "additionalProperties": false, "required": ["kind", "integration", "event"],
         "properties": {"kind": {"const": "event"}, "integration": {"type": "string"}, "event": {"type": "string"}}},
        {"type": "object", "additionalProperties": false, "required": ["kind"],
         "properties": {"kind": {"const": "manual"}}},
        {"type": "object", "additionalProperties": false, "required": ["kind", "day", "time", "timezone"],
         "properties": {"kind": {"const": "once"}, "day": {"type": "string", "description": "as said: today, tomorrow, next Friday, March 3"},
                        "time": {"type": "string", "description": "HH:MM"}, "timezone": {"type": "string", "description": "IANA time zone"}}}
      ]
    },
    "integrations": {"type": "array", "items": {"type": "object", "additionalProperties": false,
      "required": ["provider", "scopes"],
      "properties": {"provider": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}}}},
    "steps": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"type": "object", "additionalProperties": false,
      "required": ["id", "action", "inputs", "outputs"],
      "properties": {"id": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
                     "action": {"type": "string", "pattern": "^[a-z_]+\\.[a-z_]+$"},
                     "integration": {"type": "string"},
                     "inputs": {"type": "object", "additionalProperties": {"type": "string"},
                                "description": "values may reference earlier outputs as {{step_id.output}}"},
                     "outputs": {"type": "array", "items": {"type": "string"}}}}},
    "notes": {"type": "array", "items": {"type": "string"}}
  }
}"##;

/// What starts the agent. (Its `Deserialize` is written below.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentTrigger {
    /// A cron schedule in a time zone.
    Schedule {
        /// 5-field cron.
        cron: String,
        /// IANA time zone.
        timezone: String,
        /// For people, e.g. "Mon-Fri at 09:00".
        description: String,
    },
    /// An event from an integration.
    Event {
        /// Provider id.
        integration: String,
        /// Event name, e.g. `issue.opened`.
        event: String,
    },
    /// Started by hand.
    Manual,
    /// Runs once, at a day and time in a time zone (the deployment turns "next Friday" into a
    /// date with its own clock).
    Once {
        /// The day as said: "today", "tomorrow", "next Friday", "March 3".
        day: String,
        /// HH:MM.
        time: String,
        /// IANA time zone.
        timezone: String,
    },
}

/// Read by hand, not derived: serde's internally tagged enums copy the whole object into a
/// buffer of their own first and read it again, 13 KB of the browser's wasm for this one type
/// (docs/benchmarks.md). Read the same as the derive did, with the same messages: `kind`
/// anywhere in the object; unknown, missing and repeated fields refused; a `manual` trigger's
/// other fields ignored. Two forms nothing writes are no longer read: the array form
/// (`["manual"]`) and a `manual` trigger whose other fields repeat or are not strings; and a
/// `kind` that is not a string is "expected a string", where the derive said "expected
/// variant identifier".
impl<'de> Deserialize<'de> for AgentTrigger {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TriggerVisitor)
    }
}

/// Every field of every kind of trigger but `kind`.
const TRIGGER_FIELDS: [&str; 7] = ["cron", "timezone", "description", "integration", "event", "day", "time"];

struct TriggerVisitor;

impl<'de> Visitor<'de> for TriggerVisitor {
    type Value = AgentTrigger;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("internally tagged enum AgentTrigger")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AgentTrigger, A::Error> {
        let mut kind = None;
        let mut values: [Option<String>; TRIGGER_FIELDS.len()] = Default::default();
        let mut unknown = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "kind" {
                if kind.is_some() {
                    return Err(de::Error::duplicate_field("kind"));
                }
                kind = Some(map.next_value::<String>()?);
            } else if let Some(at) = TRIGGER_FIELDS.iter().position(|f| *f == key) {
                if values[at].is_some() {
                    return Err(de::Error::duplicate_field(TRIGGER_FIELDS[at]));
                }
                values[at] = Some(map.next_value()?);
            } else {
                unknown.get_or_insert(key);
                map.next_value::<de::IgnoredAny>()?;
            }
        }
        let kind = kind.ok_or_else(|| de::Error::missing_field("kind"))?;
        let fields: &'static [&'static str] = match kind.as_str() {
            "schedule" => &["cron", "timezone", "description"],
            "event" => &["integration", "event"],
            "manual" => return Ok(AgentTrigger::Manual),
            "once" => &["day", "time", "timezone"],
            other => return Err(de::Error::unknown_variant(other, &["schedule", "event", "manual", "once"])),
        };
        let other = TRIGGER_FIELDS.iter().zip(&values).find(|(f, v)| v.is_some() && !fields.contains(f));
        if let Some(key) = unknown.as_deref().or(other.map(|(f, _)| *f)) {
            return Err(de::Error::unknown_field(key, fields));
        }
        let mut take = |name: &'static str| {
            let at = TRIGGER_FIELDS.iter().position(|f| *f == name).unwrap_or_default();
            values[at].take().ok_or_else(|| de::Error::missing_field(name))
        };
        Ok(match kind.as_str() {
            "schedule" => AgentTrigger::Schedule {
                cron: take("cron")?,
                timezone: take("timezone")?,
                description: take("description")?,
            },
            "event" => AgentTrigger::Event { integration: take("integration")?, event: take("event")? },
            // "once": "manual" and unknown kinds returned above.
            _ => AgentTrigger::Once { day: take("day")?, time: take("time")?, timezone: take("timezone")? },
        })
    }
}

/// An integration the agent uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentIntegration {
    /// Provider id, e.g. `gmail`.
    pub provider: String,
    /// OAuth scopes.
    pub scopes: Vec<String>,
}

/// One step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentStep {
    /// Unique id, `[a-z][a-z0-9_]*`.
    pub id: String,
    /// `provider.verb` or `llm.verb`.
    pub action: String,
    /// The integration it runs against, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<String>,
    /// Inputs; `{{step.output}}` refers to an earlier step's output.
    pub inputs: BTreeMap<String, String>,
    /// Names of its outputs.
    pub outputs: Vec<String>,
}

/// A drafted agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// [`AGENT_SCHEMA_VERSION`].
    pub schema_version: String,
    /// Short name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// What starts it.
    pub trigger: AgentTrigger,
    /// Integrations it uses.
    pub integrations: Vec<AgentIntegration>,
    /// What it does, in order.
    pub steps: Vec<AgentStep>,
    /// Anything worth knowing.
    #[serde(default)]
    pub notes: Vec<String>,
}

const MAX_TEXT: usize = 2000;

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && id.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn valid_cron(cron: &str) -> bool {
    let fields: Vec<_> = cron.split_whitespace().collect();
    fields.len() == 5
        && fields.iter().all(|f| f.chars().all(|c| c.is_ascii_digit() || matches!(c, '*' | ',' | '/' | '-')))
}

/// `{{step.output}}` references in a value.
fn references(value: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        if let Some((step, output)) = after[..end].trim().split_once('.') {
            out.push((step, output));
        }
        rest = &after[end + 2..];
    }
    out
}

impl AgentSpec {
    /// The spec as pretty JSON, the exported file format.
    pub fn to_json(&self) -> String {
        // Plain structs with string keys always serialize.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Everything wrong with the spec on its own: schema rules and references between
    /// steps. Empty = valid.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.schema_version != AGENT_SCHEMA_VERSION {
            p.push(format!("schema_version must be {AGENT_SCHEMA_VERSION:?}"));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 80 {
            p.push("name must be 1 to 80 characters".into());
        }
        if self.description.chars().count() > 500 {
            p.push("description is longer than 500 characters".into());
        }
        match &self.trigger {
            AgentTrigger::Schedule { cron, timezone, .. } => {
                if !valid_cron(cron) {
                    p.push(format!("trigger cron {cron:?} is not a 5-field cron expression"));
                }
                if !(timezone == "UTC" || timezone.contains('/')) {
                    p.push(format!("trigger timezone {timezone:?} is not an IANA time zone"));
                }
            }
            AgentTrigger::Event { integration, .. } => {
                if !self.integrations.iter().any(|i| &i.provider == integration) {
                    p.push(format!("the trigger's integration {integration:?} is not in integrations"));
                }
            }
            AgentTrigger::Manual => {}
            AgentTrigger::Once { timezone, time, .. } => {
                if !(timezone == "UTC" || timezone.contains('/')) {
                    p.push(format!("trigger timezone {timezone:?} is not an IANA time zone"));
                }
                if super::llm::parse_time(time).is_err() {
                    p.push(format!("trigger time {time:?} is not HH:MM"));
                }
            }
        }
        for i in &self.integrations {
            if Provider::from_id(&i.provider).is_none() {
                p.push(format!("unknown integration {:?}", i.provider));
            }
        }
        if self.steps.is_empty() || self.steps.len() > 20 {
            p.push("an agent has 1 to 20 steps".into());
        }
        let mut outputs: BTreeMap<&str, &[String]> = BTreeMap::new();
        for step in &self.steps {
            if !valid_id(&step.id) {
                p.push(format!("step id {:?} must match [a-z][a-z0-9_]*", step.id));
            }
            if outputs.contains_key(step.id.as_str()) {
                p.push(format!("step id {:?} is used twice", step.id));
            }
            if step.action.split_once('.').is_none_or(|(a, b)| a.is_empty() || b.is_empty()) {
                p.push(format!("step {:?}: action {:?} must look like provider.verb", step.id, step.action));
            }
            if let Some(i) = &step.integration
                && !self.integrations.iter().any(|x| &x.provider == i)
            {
                p.push(format!("step {:?} uses {i:?}, which is not in integrations", step.id));
            }
            for (name, value) in &step.inputs {
                if value.len() > MAX_TEXT {
                    p.push(format!("step {:?}: input {name:?} is too long", step.id));
                }
                for (from, output) in references(value) {
                    match outputs.get(from) {
                        Some(outs) if outs.iter().any(|o| o == output) => {}
                        _ => p.push(format!(
                            "step {:?}: {{{{{from}.{output}}}}} does not name an output of an earlier step",
                            step.id
                        )),
                    }
                }
            }
            outputs.insert(&step.id, &step.outputs);
        }
        p
    }

    /// Differences from what the person asked for (a draft that ignores the requirements
    /// is as wrong as a malformed one).
    pub fn mismatches(&self, req: &Requirements) -> Vec<String> {
        let mut p = Vec::new();
        for provider in req.providers() {
            if !self.integrations.iter().any(|i| i.provider == provider.id()) {
                p.push(format!("{} is missing from integrations", provider.display_name()));
            }
        }
        match (req.trigger(), &self.trigger) {
            (Some(Trigger::Schedule(s)), AgentTrigger::Schedule { cron, timezone, .. }) => {
                if !s.cron().is_some_and(|c| crate::extract::same_cron(&c, cron)) {
                    p.push(format!("the cron should be {:?}", s.cron().unwrap_or_default()));
                }
                if let Some(tz) = &req.timezone
                    && tz.value != *timezone
                {
                    p.push(format!("the time zone should be {}", tz.value));
                }
            }
            (Some(Trigger::Event { provider, event }), AgentTrigger::Event { integration, event: e }) => {
                if provider.id() != integration || event != *e {
                    p.push(format!("the trigger should be {} {event}", provider.id()));
                }
            }
            (Some(Trigger::Once(once)), AgentTrigger::Once { time, .. }) => {
                if let Some(t) = once.time
                    && t.hh_mm() != *time
                {
                    p.push(format!("the run should be at {}", t.hh_mm()));
                }
            }
            (Some(Trigger::Manual), AgentTrigger::Manual) | (None, _) => {}
            (Some(_), _) => p.push("the trigger is of the wrong kind".into()),
        }
        // A channel is owed a step only when a tool that posts to channels is in the draft (a
        // Zulip stream reached by a web request, or a channel only read from, is not).
        let chat = self.steps.iter().filter_map(|s| s.integration.as_deref()).filter_map(Provider::from_id);
        if let Some(c) = &req.channel
            && { chat }.any(posts_to_channels)
            && !self.steps.iter().any(|s| s.inputs.values().any(|v| v == &c.value))
        {
            p.push(format!("no step posts to {}", c.value));
        }
        p.extend(self.stale_words(req));
        p
    }

    /// What the name and description say that the requirements no longer do: a time, a
    /// time zone or a channel other than the requirements' ("at 9" after "make it 8
    /// instead"). Read with the rule-based extractor, like any message.
    fn stale_words(&self, req: &Requirements) -> Vec<String> {
        let mut p = Vec::new();
        for (what, text) in [("name", &self.name), ("description", &self.description)] {
            let said = crate::extract::extract(text);
            if let (Some(t), Some(want)) = (said.time, &req.time)
                && t != want.value
            {
                p.push(format!("the {what} says {} but the agent runs at {}", t.hh_mm(), want.value.hh_mm()));
            }
            if let (Some(tz), Some(want)) = (&said.timezone, &req.timezone)
                && *tz != want.value
            {
                p.push(format!("the {what} says {tz} but the time zone is {}", want.value));
            }
            if let (Some(c), Some(want)) = (&said.channel, &req.channel)
                && *c != want.value
            {
                p.push(format!("the {what} says {c} but the agent posts to {}", want.value));
            }
        }
        p
    }
}

/// The step `provider` gets in a drafted agent: its catalog read step as a source, its sink
/// step as a destination (`None` when it only ever is a source).
fn step_for(provider: Provider, req: &Requirements, source: bool) -> Option<AgentStep> {
    let tool = provider.tool();
    let step = if source { tool.read } else { tool.sink?.step };
    let mut inputs = BTreeMap::new();
    match step.input {
        Input::Nothing => {}
        Input::Fixed(name, value) => {
            inputs.insert(name.into(), value.into());
        }
        Input::EmailQuery => {
            let filter = req.email_filter.as_ref().map_or("is:unread".to_owned(), |f| f.value.clone());
            inputs.insert("query".into(), filter);
        }
        Input::Channel => {
            let channel = req.channel.as_ref().map_or("#general".to_owned(), |c| c.value.clone());
            inputs.insert("channel".into(), channel);
        }
        Input::Recipients => {
            let to = req.recipients.as_ref().map_or("me".to_owned(), |r| r.value.join(", "));
            inputs.insert("to".into(), to);
        }
    }
    Some(AgentStep {
        id: provider.id().to_owned(),
        action: format!("{}.{}", provider.id(), step.verb),
        integration: Some(provider.id().to_owned()),
        inputs,
        outputs: vec![step.output.to_owned()],
    })
}

/// Whether `provider` writes to a channel (its writing step takes one).
fn posts_to_channels(provider: Provider) -> bool {
    provider.tool().sink.is_some_and(|s| matches!(s.step.input, Input::Channel))
}

/// Whether `provider` only receives results in this agent.
fn is_sink(provider: Provider, req: &Requirements) -> bool {
    let actions = req.actions.as_ref().map(|a| a.value.as_slice()).unwrap_or_default();
    match provider.tool().sink.map(|s| s.when) {
        Some(SinkWhen::Always) => true,
        Some(SinkWhen::Asked(wanted)) => actions.iter().any(|a| wanted.contains(&a.as_str())),
        Some(SinkWhen::Last) | None => false,
    }
}

/// A step that keeps only the items matching the person's conditions, if there are any.
fn filter_step(req: &Requirements, payload: &str) -> Option<AgentStep> {
    let conditions = req.conditions.as_ref().filter(|c| !c.value.is_empty())?;
    Some(AgentStep {
        id: "filter".into(),
        action: "llm.filter".into(),
        integration: None,
        inputs: BTreeMap::from([
            ("input".into(), payload.to_owned()),
            ("keep_only".into(), conditions.value.join("; ")),
        ]),
        outputs: vec!["kept".into()],
    })
}

/// A web request for each tool Kiln does not know that the person chose to reach that way.
fn unknown_tool_steps<'r>(req: &'r Requirements, payload: &'r str) -> impl Iterator<Item = AgentStep> + 'r {
    let chosen = req.unknown_tools.iter().filter(|u| u.value.choice == Some(UnknownChoice::Http));
    chosen.enumerate().map(move |(k, u)| {
        let mut inputs = BTreeMap::from([
            ("service".into(), u.value.name.clone()),
            ("url".into(), "(the service's webhook or API URL, set when deployed)".into()),
        ]);
        if !payload.is_empty() {
            inputs.insert("body".into(), payload.to_owned());
        }
        AgentStep {
            id: if k == 0 { "http_request".into() } else { format!("http_request_{}", k + 1) },
            action: "http.request".into(),
            integration: None,
            inputs,
            outputs: vec!["status".into()],
        }
    })
}

/// Puts the named places where the steps use them: what is read on the first step that reads
/// (or the first step), what is written on the last step that writes (or the last step), each
/// under its kind ("sheet": "Leads", "url": "https://...").
fn place_inputs(steps: &mut [AgentStep], req: &Requirements) {
    let places = |p: &Option<super::requirements::Sourced<Vec<Place>>>| p.as_ref().map(|p| p.value.clone());
    if let (Some(sources), Some(first)) = (places(&req.sources), steps.first_mut()) {
        for place in sources {
            first.inputs.insert(format!("from_{}", input_key(place.kind)), place.name);
        }
    }
    // A channel only read from goes on the step that reads the chat tool.
    if let Some(c) = &req.channel
        && !steps.iter().any(|s| s.inputs.values().any(|v| v == &c.value))
        && let Some(step) = steps
            .iter_mut()
            .find(|s| s.integration.as_deref().and_then(Provider::from_id).is_some_and(posts_to_channels))
    {
        step.inputs.insert("channel".into(), c.value.clone());
    }
    let writer = steps.iter().rposition(|s| s.integration.is_some() || s.action.starts_with("http."));
    if let (Some(dests), Some(at)) = (places(&req.destinations), writer.or(steps.len().checked_sub(1))) {
        for place in dests {
            steps[at].inputs.insert(input_key(place.kind).into(), place.name);
        }
    }
}

/// The input name a place goes under.
fn input_key(kind: PlaceKind) -> &'static str {
    match kind {
        PlaceKind::Url => "url",
        PlaceKind::Phone => "phone",
        PlaceKind::Email => "to",
        kind => kind.noun(),
    }
}

/// Drafts an agent from the requirements without an LLM.
pub fn draft_offline(req: &Requirements) -> AgentSpec {
    let providers = req.providers();
    let event_source = match req.trigger() {
        Some(Trigger::Event { provider, .. }) => Some(provider),
        _ => None,
    };
    let (mut sources, mut sinks): (Vec<Provider>, Vec<Provider>) =
        providers.iter().partition(|p| Some(**p) == event_source || !is_sink(**p, req));
    if sinks.is_empty() && sources.len() > 1 {
        // With nothing that only receives, the last integration named that can receive does.
        if let Some(k) = sources.iter().rposition(|p| p.tool().sink.is_some()) {
            sinks.push(sources.remove(k));
        }
    }
    // A channel to post to and no other tool that posts: the event's own chat tool is read
    // and written ("when someone posts in #help, answer in #triage").
    let read_channel = |c: &str| {
        req.sources
            .as_ref()
            .is_some_and(|s| s.value.iter().any(|p| p.kind == PlaceKind::Channel && p.name == c))
    };
    let posted = req.channel.as_ref().is_some_and(|c| !read_channel(&c.value));
    if let Some(p) = event_source
        && posted
        && posts_to_channels(p)
        && !sinks.iter().any(|s| posts_to_channels(*s))
    {
        sinks.push(p);
    }
    let mut steps: Vec<AgentStep> = sources.iter().filter_map(|p| step_for(*p, req, true)).collect();
    let actions = req.actions.as_ref().map(|a| a.value.clone()).unwrap_or_default();
    let gathered: Vec<String> =
        steps.iter().flat_map(|s| s.outputs.iter().map(move |o| format!("{{{{{}.{o}}}}}", s.id))).collect();
    let transform =
        ["summarise", "translate", "classify"].into_iter().find(|a| actions.iter().any(|x| x == a));
    let mut payload = gathered.join("\n");
    if let Some(filter) = filter_step(req, &payload) {
        payload = "{{filter.kept}}".into();
        steps.push(filter);
    }
    if let Some(verb) = transform.or((!sinks.is_empty() && !steps.is_empty()).then_some("summarise")) {
        let mut inputs = BTreeMap::new();
        inputs.insert("input".into(), payload.clone());
        steps.push(AgentStep {
            id: verb.into(),
            action: format!("llm.{verb}"),
            integration: None,
            inputs,
            outputs: vec!["text".into()],
        });
        payload = format!("{{{{{verb}.text}}}}");
    }
    for mut step in sinks.into_iter().filter_map(|p| step_for(p, req, false)) {
        if !payload.is_empty() {
            step.inputs.insert("text".into(), payload.clone());
        }
        // The tool was also read from: its writing step gets a name of its own.
        if steps.iter().any(|s| s.id == step.id) {
            step.id = step.action.replace('.', "_");
        }
        steps.push(step);
    }
    steps.extend(unknown_tool_steps(req, &payload));
    place_inputs(&mut steps, req);
    if steps.is_empty() {
        steps.push(AgentStep {
            id: "notify".into(),
            action: "kiln.notify".into(),
            integration: None,
            inputs: BTreeMap::from([("text".into(), "The agent ran.".into())]),
            outputs: vec![],
        });
    }
    let trigger = match req.trigger() {
        Some(Trigger::Schedule(s)) => AgentTrigger::Schedule {
            cron: s.cron().unwrap_or_else(|| "0 9 * * *".into()),
            timezone: req.timezone.as_ref().map_or("UTC".to_owned(), |t| t.value.clone()),
            description: s.describe(),
        },
        Some(Trigger::Event { provider, event }) => {
            AgentTrigger::Event { integration: provider.id().into(), event: event.clone() }
        }
        Some(Trigger::Once(once)) => AgentTrigger::Once {
            day: once.describe_day(),
            time: once.time.map_or_else(|| "09:00".to_owned(), |t| t.hh_mm()),
            timezone: req.timezone.as_ref().map_or("UTC".to_owned(), |t| t.value.clone()),
        },
        Some(Trigger::Manual) | None => AgentTrigger::Manual,
    };
    let names: Vec<_> = providers.iter().map(|p| p.display_name()).collect();
    let name =
        if names.is_empty() { "Automation".to_owned() } else { format!("{} automation", names.join(" to ")) };
    // Made from the requirements as they are now, not from the first message: after "make
    // it 8 instead" nothing in the draft says 9.
    let description = super::session::cut(&super::words::description(req), 500);
    AgentSpec {
        schema_version: AGENT_SCHEMA_VERSION.into(),
        name: super::session::cut(&name, 80),
        description,
        trigger,
        integrations: providers
            .iter()
            .map(|p| AgentIntegration {
                provider: p.id().into(),
                scopes: p.default_scopes().iter().map(|s| (*s).to_owned()).collect(),
            })
            .collect(),
        steps,
        notes: vec!["Drafted by Kiln's offline drafter from the conversation's requirements.".into()],
    }
}

/// One step of a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRun {
    /// Step id.
    pub id: String,
    /// Its action.
    pub action: String,
    /// Sample inputs, references resolved.
    pub inputs: BTreeMap<String, String>,
    /// Sample outputs.
    pub outputs: BTreeMap<String, String>,
}

/// A simulated run of a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRun {
    /// What triggered the simulated run.
    pub trigger: String,
    /// Each step with sample data.
    pub steps: Vec<StepRun>,
    /// What would go wrong for real.
    pub problems: Vec<String>,
}

fn sample_output(action: &str, output: &str) -> String {
    let verb = action.split_once('.').map_or(action, |(_, v)| v);
    match verb {
        "search_messages" => {
            "3 messages: \"Invoice #1042\" (Acme), \"Standup notes\" (Priya), \"Lunch?\" (Sam)".into()
        }
        "list_events" => "2 events: 10:00 Design review, 14:30 1:1 with Alex".into(),
        "list_issues" => "2 issues: #41 \"Crash on login\", #42 \"Typo in README\"".into(),
        "read_rows" => "5 rows".into(),
        "list_items" => "4 items".into(),
        "summarise" => "Acme sent invoice #1042; Priya shared standup notes; Sam asks about lunch.".into(),
        "translate" => "(translated text)".into(),
        "classify" => "category: billing".into(),
        "filter" => "2 of 3 items kept".into(),
        "request" => "200 OK".into(),
        _ => format!("sample-{output}-1"),
    }
}

/// Runs a draft on sample data: each step with its inputs and outputs, and the problems a
/// real run would hit (including integrations not connected yet).
pub fn dry_run(spec: &AgentSpec, connected: &[Provider]) -> DryRun {
    let trigger = match &spec.trigger {
        AgentTrigger::Schedule { description, timezone, .. } => {
            format!("schedule fired ({description}, {timezone})")
        }
        AgentTrigger::Event { integration, event } => format!("{integration} sent {event}"),
        AgentTrigger::Manual => "started by hand".into(),
        AgentTrigger::Once { day, time, timezone } => format!("one-off run ({day} at {time}, {timezone})"),
    };
    let mut problems = spec.problems();
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    let mut steps = Vec::new();
    for step in &spec.steps {
        if let Some(i) = &step.integration
            && let Some(p) = Provider::from_id(i)
            && p.needs_oauth()
            && !connected.contains(&p)
        {
            problems.push(format!(
                "{} is not connected, so step {} would fail",
                p.display_name(),
                steps.len() + 1
            ));
        }
        // Maps filled by insert rather than collected: `collect` sorts first, and each of those
        // sorts is ~3.5 KB of the browser's wasm; the maps are the same.
        let mut inputs = BTreeMap::new();
        for (k, v) in &step.inputs {
            let mut resolved = v.clone();
            for (from, output) in references(v) {
                let key = format!("{from}.{output}");
                if let Some(sample) = values.get(&key) {
                    resolved = resolved.replace(&format!("{{{{{key}}}}}"), sample);
                }
            }
            inputs.insert(k.clone(), resolved);
        }
        let mut outputs = BTreeMap::new();
        for o in &step.outputs {
            outputs.insert(o.clone(), sample_output(&step.action, o));
        }
        for (o, v) in &outputs {
            values.insert(format!("{}.{o}", step.id), v.clone());
        }
        steps.push(StepRun { id: step.id.clone(), action: step.action.clone(), inputs, outputs });
    }
    DryRun { trigger, steps, problems }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::requirements::Sourced;
    use crate::extract::extract;

    fn req(text: &str) -> Requirements {
        let mut r = Requirements::default();
        r.merge(&extract(text), 1, false);
        r
    }

    #[test]
    fn offline_drafts_are_valid_and_match_their_requirements() {
        for text in [
            "Every weekday at 9, summarise my unread Gmail and post it to Slack #team",
            "when a new issue is opened in GitHub, create a task in Jira",
            "every 15 minutes check my google sheet and email boss@acme.com",
            "on the 1st of every month at 8am send me a summary of my calendar",
            "when I click a button, append a row to my spreadsheet",
            "hourly translate new notion pages and post them to teams",
            "forward invoices from gmail to accounts@acme.com every day at 17:00",
        ] {
            let mut r = req(text);
            r.timezone = Some(Sourced::at("Europe/London".into(), 1));
            let spec = draft_offline(&r);
            assert_eq!(spec.problems(), Vec::<String>::new(), "{text}: {spec:#?}");
            assert_eq!(spec.mismatches(&r), Vec::<String>::new(), "{text}");
            let run = dry_run(&spec, &r.providers());
            assert_eq!(run.steps.len(), spec.steps.len());
            assert!(run.problems.is_empty(), "{text}: {:?}", run.problems);
        }
    }

    #[test]
    fn the_name_and_description_follow_every_correction() {
        let mut r = req("Every weekday at 9, summarise my unread Gmail and post it to Slack #team");
        r.merge(&extract("make it 8 instead"), 2, true);
        r.merge(&extract("post it to #ops instead"), 3, true);
        r.timezone = Some(Sourced::at("Europe/Lisbon".into(), 4));
        let spec = draft_offline(&r);
        let text = format!("{} {}", spec.name, spec.description);
        assert!(text.contains("08:00") && text.contains("#ops") && text.contains("Europe/Lisbon"), "{text}");
        assert!(!text.contains("9") && !text.contains("#team"), "{text}");
        assert_eq!(spec.mismatches(&r), Vec::<String>::new());
        // A drafted description that still says the old values is caught.
        let mut stale = spec.clone();
        stale.description = "Every weekday at 9:00 (Europe/London), post the digest to #team.".into();
        let m = stale.mismatches(&r).join("\n");
        for needle in [
            "description says 09:00 but the agent runs at 08:00",
            "says Europe/London but the time zone is Europe/Lisbon",
            "says #team but the agent posts to #ops",
        ] {
            assert!(m.contains(needle), "missing {needle:?} in:\n{m}");
        }
    }

    #[test]
    fn every_schema_rule_is_enforced() {
        let r = req("Every weekday at 9, summarise my unread Gmail and post it to Slack #team");
        let good = draft_offline(&r);
        let mut bad = good.clone();
        bad.schema_version = "v0".into();
        bad.name = String::new();
        bad.description = "x".repeat(501);
        bad.trigger = AgentTrigger::Schedule {
            cron: "every day".into(),
            timezone: "London".into(),
            description: String::new(),
        };
        bad.integrations.push(AgentIntegration { provider: "myspace".into(), scopes: vec![] });
        bad.steps[0].id = "Bad Id".into();
        bad.steps[1].id = bad.steps[2].id.clone();
        bad.steps[1].action = "noverb".into();
        bad.steps[2].integration = Some("dropbox".into());
        bad.steps[2].inputs.insert("text".into(), "{{ghost.output}}".into());
        bad.steps[2].inputs.insert("huge".into(), "x".repeat(3000));
        let problems = bad.problems().join("\n");
        for needle in [
            "schema_version",
            "name must be",
            "description is longer",
            "5-field cron",
            "IANA",
            "unknown integration",
            "must match [a-z]",
            "used twice",
            "provider.verb",
            "not in integrations",
            "does not name an output",
            "too long",
        ] {
            assert!(problems.contains(needle), "missing {needle:?} in:\n{problems}");
        }
        let mut event = good.clone();
        event.trigger = AgentTrigger::Event { integration: "github".into(), event: "push".into() };
        assert!(event.problems().iter().any(|p| p.contains("trigger's integration")));
        let mut empty = good;
        empty.steps.clear();
        assert!(empty.problems().iter().any(|p| p.contains("1 to 20 steps")));
    }

    #[test]
    fn drafts_that_ignore_the_requirements_are_caught() {
        let mut r = req("Every weekday at 9, summarise my unread Gmail and post it to Slack #team");
        r.timezone = Some(Sourced::at("Europe/London".into(), 1));
        let good = draft_offline(&r);
        let mut other = good.clone();
        other.integrations.retain(|i| i.provider != "slack");
        other.trigger = AgentTrigger::Schedule {
            cron: "0 8 * * *".into(),
            timezone: "UTC".into(),
            description: String::new(),
        };
        for s in &mut other.steps {
            s.inputs.remove("channel");
        }
        let m = other.mismatches(&r).join("\n");
        for needle in ["Slack is missing", "cron should be", "time zone should be", "no step posts to #team"]
        {
            assert!(m.contains(needle), "missing {needle:?} in:\n{m}");
        }
        let mut manual = good;
        manual.trigger = AgentTrigger::Manual;
        assert!(manual.mismatches(&r).iter().any(|p| p.contains("wrong kind")));
        let e = req("when a new issue is opened in GitHub, post to slack #dev");
        let mut wrong_event = draft_offline(&e);
        wrong_event.trigger = AgentTrigger::Event { integration: "github".into(), event: "push".into() };
        assert!(wrong_event.mismatches(&e).iter().any(|p| p.contains("trigger should be")));
    }

    #[test]
    fn the_dry_run_lists_what_would_fail_for_real() {
        let r = req("Every weekday at 9, summarise my unread Gmail and post it to Slack #team");
        let spec = draft_offline(&r);
        let run = dry_run(&spec, &[]);
        assert_eq!(run.problems.len(), 2, "{:?}", run.problems);
        assert!(
            run.problems[0].contains("Gmail is not connected, so step 1 would fail"),
            "{:?}",
            run.problems
        );
        let summarise = run.steps.iter().find(|s| s.action == "llm.summarise").expect("summarise step");
        assert!(
            summarise.inputs["input"].contains("Invoice #1042"),
            "references resolved: {:?}",
            summarise.inputs
        );
        let manual = dry_run(&AgentSpec { trigger: AgentTrigger::Manual, ..spec }, &[]);
        assert!(manual.trigger.contains("by hand"));
        let nothing = draft_offline(&Requirements::default());
        assert_eq!(nothing.steps[0].action, "kiln.notify");
        assert!(nothing.to_json().contains("kiln.agent/v1"));
    }

    /// What serde's derive (`tag = "kind"`, `deny_unknown_fields`) said for each, recorded
    /// before the hand-written reader replaced it.
    #[test]
    fn triggers_read_as_the_derive_read_them() {
        let read = |s: &str| serde_json::from_str::<AgentTrigger>(s).map_err(|e| e.to_string());
        let schedule = |c: &str, t: &str, d: &str| AgentTrigger::Schedule {
            cron: c.into(),
            timezone: t.into(),
            description: d.into(),
        };
        assert_eq!(read(r#"{"kind":"manual","cron":"x"}"#), Ok(AgentTrigger::Manual));
        assert_eq!(read(r#"{"kind":"manual"}"#), Ok(AgentTrigger::Manual));
        assert_eq!(
            read(r#"{"cron":"a","kind":"schedule","timezone":"b","description":"c"}"#),
            Ok(schedule("a", "b", "c"))
        );
        assert_eq!(
            read(r#"{"kind":"once","day":"today","time":"09:00","timezone":"UTC"}"#),
            Ok(AgentTrigger::Once { day: "today".into(), time: "09:00".into(), timezone: "UTC".into() })
        );
        for (json, error) in [
            (r#"{"kind":"schedule","cron":"a","timezone":"b"}"#, "missing field `description`"),
            (
                r#"{"kind":"schedule","cron":"a","timezone":"b","description":"c","x":1}"#,
                "unknown field `x`, expected one of `cron`, `timezone`, `description`",
            ),
            (
                r#"{"kind":"event","integration":"a","event":"b","cron":"c"}"#,
                "unknown field `cron`, expected `integration` or `event`",
            ),
            (
                r#"{"kind":"bogus"}"#,
                "unknown variant `bogus`, expected one of `schedule`, `event`, `manual`, `once`",
            ),
            (r#"{}"#, "missing field `kind`"),
            (r#"{"kind":"event","integration":"a","event":"b","event":"c"}"#, "duplicate field `event`"),
            (r#"{"kind":"event","kind":"event","integration":"a","event":"b"}"#, "duplicate field `kind`"),
            (r#"{"kind":"event","integration":null,"event":"b"}"#, "invalid type: null, expected a string"),
            // The derive: "expected variant identifier".
            (r#"{"kind":3}"#, "invalid type: integer `3`, expected a string"),
        ] {
            let got = read(json).expect_err(json);
            assert!(got.starts_with(error), "{json}: {got}");
        }
        for t in [schedule("0 9 * * 1-5", "Europe/London", "weekdays at 09:00"), AgentTrigger::Manual] {
            assert_eq!(read(&serde_json::to_string(&t).expect("json")), Ok(t));
        }
    }
}
