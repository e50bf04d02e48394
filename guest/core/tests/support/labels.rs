//! The v2 corpus labels (`tests/corpus/README.md`) and how a conversation's requirements are
//! compared with them. Shared by the single-request scorer (`guest/core/tests/understanding.rs`)
//! and the conversation runner that drives the real component (`host/tests/conversations.rs`),
//! so both score the same fields the same way.

use std::collections::BTreeSet;

use kiln_core::builder::requirements::Requirements;
use kiln_core::extract::{Trigger, same_cron};
use serde::Deserialize;

/// What a request or a finished conversation should establish.
#[derive(Debug, Clone, Deserialize)]
pub struct Label {
    /// Catalog ids, as a set.
    pub integrations: Vec<String>,
    /// Tools outside the catalog, compared case-insensitively.
    pub unknown: Vec<String>,
    /// `schedule`, `event`, `manual`, `once` or none.
    pub trigger: Option<String>,
    /// 5-field cron when fully determined.
    pub cron: Option<String>,
    /// `tool/event`.
    pub event: Option<String>,
    /// IANA zone.
    pub timezone: Option<String>,
    /// Where the agent writes, as a set (case-insensitive).
    pub targets: Vec<String>,
    /// Where it reads, as a set (case-insensitive).
    pub sources: Vec<String>,
    /// Whether it filters what it acts on.
    pub conditions: bool,
}

/// One labelled request.
#[derive(Debug, Clone, Deserialize)]
pub struct Request {
    /// What the person typed.
    pub text: String,
    /// A free label for reporting.
    pub style: String,
    /// The labels.
    #[serde(flatten)]
    pub label: Label,
}

/// A conversation's expected end.
#[derive(Debug, Clone, Deserialize)]
pub struct Expect {
    /// The phase it ends in (`COMPLETE`).
    pub phase: String,
    /// The requirements it ends with.
    #[serde(flatten)]
    pub label: Label,
}

/// One conversation script.
#[derive(Debug, Clone, Deserialize)]
pub struct Conversation {
    /// A short name.
    pub id: String,
    /// Who is talking.
    pub persona: String,
    /// What they type, in order (`/deny` declines the pending connection).
    pub turns: Vec<String>,
    /// Where it must end.
    pub expect: Expect,
}

/// Parses a JSON-lines file, naming the line that does not parse.
pub fn lines<T: for<'a> Deserialize<'a>>(name: &str, text: &str) -> Vec<T> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name} line {}: {e}", n + 1)))
        .collect()
}

/// The fields scored, in report order; the first [`EXACT`] make up "all scored fields exact".
pub const FIELDS: [&str; 9] =
    ["integrations", "unknown", "trigger", "cron", "event", "timezone", "targets", "sources", "conditions"];
/// How many of [`FIELDS`] count towards "all exact" (the scored fields).
pub const EXACT: usize = 7;

/// Names compared case-insensitively; a phone number by its digits (`+44 7700 900123` is
/// `+447700900123`).
fn set(items: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    let norm = |s: String| {
        let s = s.trim().to_lowercase();
        let phone = s.starts_with('+') && s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if phone { s.chars().filter(|c| *c == '+' || c.is_ascii_digit()).collect() } else { s }
    };
    items.into_iter().map(norm).collect()
}

/// Each field of `label` compared with `req`: (field, right, what Kiln has).
pub fn compare(req: &Requirements, label: &Label) -> Vec<(&'static str, bool, String)> {
    let trigger = req.trigger();
    let integrations: BTreeSet<String> = req.providers().iter().map(|p| p.id().to_owned()).collect();
    let unknown = set(req.unknown_tools.iter().map(|u| u.value.name.clone()));
    let kind = req.trigger_kind.as_ref().map(|k| {
        serde_json::to_value(k.value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    });
    let cron = match &trigger {
        Some(Trigger::Schedule(s)) => s.cron(),
        _ => None,
    };
    let event = match &trigger {
        Some(Trigger::Event { provider, event }) => Some(format!("{}/{event}", provider.id())),
        _ => None,
    };
    // A direct message to the person ("@me") and mail to themself ("me") are delivery to
    // themself, which the labels do not count as a target.
    let mut targets: Vec<String> =
        req.channel.iter().map(|c| c.value.clone()).filter(|c| c != "@me").collect();
    targets.extend(req.recipients.iter().flat_map(|r| r.value.iter().filter(|a| *a != "me").cloned()));
    targets.extend(req.destinations.iter().flat_map(|d| d.value.iter().map(|p| p.name.clone())));
    let sources: Vec<String> =
        req.sources.iter().flat_map(|s| s.value.iter().map(|p| p.name.clone())).collect();
    let conditions =
        req.conditions.as_ref().is_some_and(|c| !c.value.is_empty()) || req.email_filter.is_some();
    let cron_ok = match (&label.cron, &cron) {
        (Some(want), Some(got)) => same_cron(want, got),
        (None, None) => true,
        // A cron Kiln cannot know yet (a vague time) is right only when none is labelled.
        _ => false,
    };
    vec![
        ("integrations", integrations == set(label.integrations.clone()), format!("{integrations:?}")),
        ("unknown", unknown == set(label.unknown.clone()), format!("{unknown:?}")),
        ("trigger", kind == label.trigger, format!("{kind:?}")),
        ("cron", cron_ok, format!("{cron:?}")),
        ("event", event == label.event, format!("{event:?}")),
        (
            "timezone",
            req.timezone.as_ref().map(|t| &t.value) == label.timezone.as_ref(),
            format!("{:?}", req.timezone.as_ref().map(|t| &t.value)),
        ),
        ("targets", set(targets.clone()) == set(label.targets.clone()), format!("{targets:?}")),
        ("sources", set(sources.clone()) == set(label.sources.clone()), format!("{sources:?}")),
        ("conditions", conditions == label.conditions, format!("{conditions}")),
    ]
}

/// Per-field counts over many comparisons.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// How many were compared.
    pub n: usize,
    /// Right per field, in [`FIELDS`] order.
    pub right: [usize; FIELDS.len()],
    /// All of the first [`EXACT`] fields right.
    pub all: usize,
}

impl Tally {
    /// Adds one comparison.
    pub fn add(&mut self, fields: &[(&'static str, bool, String)]) {
        self.n += 1;
        for (k, (_, ok, _)) in fields.iter().enumerate() {
            self.right[k] += usize::from(*ok);
        }
        self.all += usize::from(fields.iter().take(EXACT).all(|(_, ok, _)| *ok));
    }

    /// Percentage of `count`.
    pub fn pct(&self, count: usize) -> f64 {
        if self.n == 0 { 100.0 } else { 100.0 * count as f64 / self.n as f64 }
    }

    /// One line per field and the all-exact figure.
    pub fn print(&self, title: &str) {
        println!("{title}: {} items", self.n);
        for (k, f) in FIELDS.iter().enumerate() {
            println!("  {f:<13} {:>4}/{:<4} = {:5.1}%", self.right[k], self.n, self.pct(self.right[k]));
        }
        println!("  {:<13} {:>4}/{:<4} = {:5.1}%", "ALL EXACT", self.all, self.n, self.pct(self.all));
    }
}
