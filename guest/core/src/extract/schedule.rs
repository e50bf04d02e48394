//! Recurring schedules: [`Schedule`], its cron form, and how recurrences are read.
//!
//! Intervals: "every 15 minutes", "every 15 mins", "every 2h", "hourly", "every hour",
//! "every half hour", "every quarter of an hour", "every other hour", "every couple of
//! hours", "twice an hour". Monthly: "on the 1st of every month", "first of the month",
//! "every month on the 15th", "monthly" (day not said). Daily and weekly: the days read by
//! [`super::days`], "weekly" without a day (day not said).
//!
//! Not representable, so not produced: several times a day ("at 9 and 5" keeps 9), intervals
//! limited to some days or hours ("every 15 minutes on weekdays" keeps the interval), "every
//! other week"/"fortnightly" (read as weekly), "every 2 days", "the last day of the month",
//! "the first Monday of the month" (no schedule).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::days::{Days, DaysFound};
use super::time::TimeOfDay;
use super::token::{Kind, Toks, fuzzy_eq, number_at, ordinal_at};

/// When a scheduled agent runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// Every `minutes` minutes: "every 15 minutes", "hourly" (60), "every 2 hours" (120).
    Interval {
        /// Minutes between runs (at least 1).
        minutes: u32,
    },
    /// On some days of the week at a time of day: "every weekday at 9", "on Mondays",
    /// "daily at 17:30". `time` is `None` when it was not said ("every morning");
    /// `days` is [`Days::NONE`] for "weekly" without a day.
    Daily {
        /// Which days.
        days: Days,
        /// At what time, if said.
        time: Option<TimeOfDay>,
        /// More times on the same days ("at 9 and 5": 17:00 here, 09:00 in `time`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        also: Vec<TimeOfDay>,
    },
    /// On one day of every month: "on the 1st of every month at 8am". `day` is 0 when it was
    /// not said ("monthly").
    Monthly {
        /// Day of the month, 1-31 (0 = not said).
        day: u8,
        /// At what time, if said.
        time: Option<TimeOfDay>,
    },
}

impl Schedule {
    /// The standard 5-field cron expression (minute hour day-of-month month day-of-week,
    /// Sunday = 0), or `None` when the schedule is incomplete (no time, no day) or an
    /// interval cron cannot express exactly (e.g. every 45 or 90 minutes).
    pub fn cron(&self) -> Option<String> {
        match *self {
            Schedule::Interval { minutes } => match minutes {
                0 => None,
                1 => Some("* * * * *".into()),
                m if m < 60 && 60 % m == 0 => Some(format!("*/{m} * * * *")),
                60 => Some("0 * * * *".into()),
                m if m % 60 == 0 && 24 % (m / 60) == 0 => {
                    let h = m / 60;
                    Some(if h == 24 { "0 0 * * *".into() } else { format!("0 */{h} * * *") })
                }
                _ => None,
            },
            Schedule::Daily { days, time, ref also } => {
                let t = time?;
                if days.is_empty() || also.iter().any(|a| a.minute != t.minute) {
                    return None;
                }
                let mut hours = t.hour.to_string();
                for a in also {
                    hours.push(',');
                    hours.push_str(&a.hour.to_string());
                }
                Some(format!("{} {hours} * * {}", t.minute, days.cron_field()))
            }
            Schedule::Monthly { day, time } => {
                let t = time?;
                if !(1..=31).contains(&day) {
                    return None;
                }
                Some(format!("{} {} {} * *", t.minute, t.hour, day))
            }
        }
    }

    /// A short English description: "every weekday (Mon-Fri) at 09:00", "every 15 minutes",
    /// "on the 1st of every month at 08:00", "every Monday (time not set)".
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let (time, also): (&Option<TimeOfDay>, &[TimeOfDay]) = match self {
            Schedule::Interval { minutes } => {
                return match *minutes {
                    1 => "every minute".into(),
                    60 => "every hour".into(),
                    m if m > 60 && m % 60 == 0 => format!("every {} hours", m / 60),
                    m => format!("every {m} minutes"),
                };
            }
            Schedule::Daily { days, time, also } => {
                if *days == Days::EVERY_DAY {
                    s.push_str("every day");
                } else if *days == Days::WEEKDAYS {
                    s.push_str("every weekday (Mon-Fri)");
                } else if *days == Days::WEEKEND {
                    s.push_str("every weekend (Sat, Sun)");
                } else if days.is_empty() {
                    s.push_str("weekly (day not set)");
                } else if days.count() == 1 {
                    let name = super::days::DAY_NAMES[usize::from(days.indices().next().unwrap_or(0))];
                    let _ = write!(s, "every {name}");
                } else {
                    let _ = write!(s, "on {days}");
                }
                (time, also)
            }
            Schedule::Monthly { day, time } => {
                if (1..=31).contains(day) {
                    let _ = write!(s, "on the {} of every month", super::token::ordinal(u32::from(*day)));
                } else {
                    s.push_str("monthly (day not set)");
                }
                (time, &[])
            }
        };
        // Evenly spaced times, four or more: "every 2 hours from 08:00 to 20:00".
        let step = also.first().zip(*time).map(|(b, a)| i32::from(b.hour) - i32::from(a.hour));
        let even = also.len() >= 3
            && step.is_some_and(|d| d > 0)
            && time.iter().chain(also).collect::<Vec<_>>().windows(2).all(|w| {
                Some(i32::from(w[1].hour) - i32::from(w[0].hour)) == step && w[1].minute == w[0].minute
            });
        match time {
            Some(t) if even => {
                let last = also.last().copied().unwrap_or(*t);
                let every = match step {
                    Some(1) => "every hour".to_owned(),
                    Some(h) => format!("every {h} hours"),
                    None => String::new(),
                };
                let _ = write!(s, ", {every} from {t} to {last}");
            }
            Some(t) => {
                let _ = write!(s, " at {t}");
                for (k, a) in also.iter().enumerate() {
                    let sep = if k + 1 == also.len() { " and " } else { ", " };
                    let _ = write!(s, "{sep}{a}");
                }
            }
            None => s.push_str(" (time not set)"),
        }
        s
    }
}

/// One cron field as the set of values it matches, so `1-5` equals `1,2,3,4,5` and `MON`
/// equals `1`.
fn field_set(field: &str, min: u32, max: u32, dow: bool) -> Option<BTreeSet<u32>> {
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let value = |s: &str| -> Option<u32> {
        let s = s.to_ascii_lowercase();
        if dow && let Some(p) = DAYS.iter().position(|d| *d == s) {
            return u32::try_from(p).ok();
        }
        let v: u32 = s.parse().ok()?;
        Some(if dow && v == 7 { 0 } else { v })
    };
    let mut out = BTreeSet::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let v = value(range)?;
            (v, if step > 1 { max } else { v })
        };
        let mut v = lo;
        while v <= hi {
            out.insert(if dow && v == 7 { 0 } else { v });
            v += step;
        }
    }
    Some(out)
}

/// Two 5-field cron expressions match the same times, compared field by field by meaning
/// (`1-5` = `MON-FRI` = `1,2,3,4,5`, Sunday as 0 or 7); `false` when either is malformed.
pub fn same_cron(a: &str, b: &str) -> bool {
    let fa: Vec<&str> = a.split_whitespace().collect();
    let fb: Vec<&str> = b.split_whitespace().collect();
    if fa.len() != 5 || fb.len() != 5 {
        return false;
    }
    let bounds = [(0, 59, false), (0, 23, false), (1, 31, false), (1, 12, false), (0, 7, true)];
    fa.iter().zip(&fb).zip(bounds).all(|((x, y), (min, max, dow))| {
        let (sx, sy) = (field_set(x, min, max, dow), field_set(y, min, max, dow));
        sx.is_some() && sx == sy
    })
}

/// The recurrence words of a message, before a time is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Recurrence {
    /// An interval in minutes.
    pub(crate) interval: Option<u32>,
    /// A monthly day (0 = not said).
    pub(crate) monthly: Option<u8>,
    /// Days and weekly words.
    pub(crate) days: DaysFound,
    /// A recurrence Kiln cannot represent ("last day of the month").
    pub(crate) unsupported: bool,
}

impl Recurrence {
    /// Reads the recurrence words of `toks`.
    pub(crate) fn find(toks: &Toks, days: DaysFound) -> Recurrence {
        let mut r = Recurrence { days, ..Recurrence::default() };
        r.interval = find_interval(toks);
        let (monthly, unsupported) = find_monthly(toks);
        r.monthly = monthly;
        r.unsupported = unsupported;
        r
    }

    /// An interval of whole hours kept inside a window ("every 2 hours from 8am to 8pm") or
    /// at minutes past the hour ("at 10 past every hour") is a list of times on the days:
    /// `times` becomes that list and the interval goes.
    pub(crate) fn spread(
        &mut self,
        times: &mut Vec<TimeOfDay>,
        window: Option<(TimeOfDay, TimeOfDay)>,
        past: Option<u8>,
    ) {
        let Some(step) = self.interval.filter(|m| m % 60 == 0 && (60..=720).contains(m)).map(|m| m / 60)
        else {
            return;
        };
        let (from, to, minute) = match (window, past) {
            (Some((a, b)), _) if a.hour < b.hour => (a.hour, b.hour, a.minute),
            (None, Some(minute)) if step == 1 => (0, 23, minute),
            _ => return,
        };
        let list: Vec<TimeOfDay> = (from..=to)
            .step_by(usize::from(u8::try_from(step).unwrap_or(1)))
            .filter_map(|h| TimeOfDay::new(h, minute))
            .collect();
        if list.len() < 2 {
            return;
        }
        *times = list;
        self.interval = None;
        if self.days.days.is_none() {
            self.days.days = Some(Days::EVERY_DAY);
        }
    }

    /// The text says how often, not just at what time.
    pub(crate) fn is_explicit(&self) -> bool {
        self.interval.is_some() || self.monthly.is_some() || self.days.days.is_some() || self.days.weekly
    }

    /// The schedule this recurrence and `times` make, if any (the first time, and the others
    /// on the same days). With `bare_time_daily`, a time alone means every day.
    pub(crate) fn schedule(&self, times: &[TimeOfDay], bare_time_daily: bool) -> Option<Schedule> {
        if self.unsupported {
            return None;
        }
        let time = times.first().copied();
        let daily = |days| Schedule::Daily { days, time, also: times.get(1..).unwrap_or_default().to_vec() };
        if let Some(minutes) = self.interval {
            return Some(Schedule::Interval { minutes });
        }
        if let Some(day) = self.monthly {
            return Some(Schedule::Monthly { day, time });
        }
        if let Some(days) = self.days.days {
            return Some(daily(days));
        }
        if self.days.weekly {
            return Some(daily(Days::NONE));
        }
        if bare_time_daily && time.is_some() {
            return Some(daily(Days::EVERY_DAY));
        }
        None
    }
}

const EVERY: &[&str] = &["every", "each", "evry", "evrey", "eveyr", "evey"];

/// "at 10 past every hour", "at half past each hour", "a quarter past the hour": the minute.
pub(crate) fn past_the_hour(toks: &Toks) -> Option<u8> {
    let k = (1..toks.len()).find(|&k| {
        toks.is(k, "past") && toks.is_any(k + 1, &["every", "each", "the"]) && toks.is(k + 2, "hour")
    })?;
    match toks.word(k - 1) {
        "half" => Some(30),
        "quarter" => Some(15),
        w => w.parse().ok().filter(|m| (1..60).contains(m)),
    }
}

fn minutes_unit(toks: &Toks, i: usize) -> Option<u32> {
    let w = toks.word(i);
    match w {
        "minute" | "minutes" | "min" | "mins" | "mn" | "mnts" => Some(1),
        "m" if toks.get(i).is_some_and(|t| t.glued) => Some(1),
        "hour" | "hours" | "hr" | "hrs" | "h" => Some(60),
        _ if fuzzy_eq(w, "minutes") || fuzzy_eq(w, "minute") => Some(1),
        _ => None,
    }
}

/// "every N minutes", "hourly", ...
fn find_interval(toks: &Toks) -> Option<u32> {
    for i in 0..toks.len() {
        let w = toks.word(i);
        if w == "hourly" {
            return Some(60);
        }
        if matches!(w, "twice" | "thrice") && toks.seq(i + 1, &["an", "hour"]) {
            return Some(if w == "twice" { 30 } else { 20 });
        }
        if let Some((n, len)) = number_at(toks, i)
            && (toks.seq(i + len, &["times", "an", "hour"]) || toks.seq(i + len, &["times", "per", "hour"]))
        {
            return (1..=60).contains(&n).then(|| 60 / n);
        }
        if !EVERY.contains(&w) {
            continue;
        }
        let mut j = i + 1;
        if toks.is(j, "single") {
            j += 1;
        }
        let n = toks.word(j);
        if n == "minute" {
            return Some(1);
        }
        if matches!(n, "hour" | "hr") {
            return Some(60);
        }
        if n == "half" {
            let k = if toks.is_any(j + 1, &["an", "a"]) { j + 2 } else { j + 1 };
            if toks.is(k, "hour") {
                return Some(30);
            }
        }
        if n == "quarter" {
            let k = if toks.seq(j + 1, &["of", "an"]) { j + 3 } else { j + 1 };
            if toks.is(k, "hour") {
                return Some(15);
            }
        }
        if n == "other" {
            match toks.word(j + 1) {
                "hour" => return Some(120),
                "minute" => return Some(2),
                _ => {}
            }
        }
        if n == "couple" {
            let k = if toks.is(j + 1, "of") { j + 2 } else { j + 1 };
            match minutes_unit(toks, k) {
                Some(u) => return Some(2 * u),
                None => continue,
            }
        }
        if let Some((count, len)) = number_at(toks, j) {
            if toks.kind(j) == Some(Kind::Number) && toks.text(j).contains([':', '.']) {
                continue;
            }
            if let Some(unit) = minutes_unit(toks, j + len) {
                if count == 0 {
                    continue;
                }
                return count.checked_mul(unit);
            }
        }
    }
    None
}

/// Month markers: "monthly", "every month", "of the month", ...
fn month_markers(toks: &Toks) -> Vec<usize> {
    let mut out = Vec::new();
    for i in 0..toks.len() {
        let hit = toks.is(i, "monthly")
            || (toks.is(i, "month")
                && i > 0
                && (toks.is_any(i - 1, &["every", "each", "per", "the", "a"])
                    // "each 1st of month": no article
                    || (toks.is(i - 1, "of")
                        && (i.saturating_sub(4)..i - 1)
                            .any(|k| ordinal_at(toks, k).is_some_and(|(_, len)| k + len == i - 1)))
                    || toks.seq_before(i, &["every", "single"])));
        if hit {
            out.push(i);
        }
    }
    out
}

/// A monthly day, and whether an unrepresentable monthly rule was seen.
fn find_monthly(toks: &Toks) -> (Option<u8>, bool) {
    let markers = month_markers(toks);
    if markers.is_empty() {
        return (None, false);
    }
    // "last day of the month", "first Monday of the month"
    for i in 0..toks.len() {
        if toks.seq(i, &["last", "day"])
            || toks.seq(i, &["last", "working", "day"])
            || toks.seq(i, &["last", "business", "day"])
        {
            return (None, true);
        }
        if let Some((_, len)) = ordinal_at(toks, i)
            && super::days::is_day_name(toks, i + len)
        {
            return (None, true);
        }
    }
    for i in 0..toks.len() {
        let Some((day, len)) = ordinal_at(toks, i) else { continue };
        if !(1..=31).contains(&day) || toks.is_any(i + len, &["week", "weeks", "quarter"]) {
            continue;
        }
        // In the same sentence, close by: "on the 1st of every month", "monthly ... on the 1st".
        let near = markers.iter().any(|&m| {
            let (a, b) = if m < i { (m, i) } else { (i, m) };
            b - a <= 12 && !(a..b).any(|k| toks.is_any(k, &[".", "!", "?", ";"]))
        });
        if near {
            return (u8::try_from(day).ok(), false);
        }
    }
    (Some(0), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::days::find_days;

    fn rec(s: &str) -> Recurrence {
        let t = Toks::new(s);
        Recurrence::find(&t, find_days(&t))
    }

    fn at(h: u8, m: u8) -> Option<TimeOfDay> {
        TimeOfDay::new(h, m)
    }

    #[test]
    fn intervals() {
        assert_eq!(rec("every 15 minutes").interval, Some(15));
        assert_eq!(rec("every 15 mins").interval, Some(15));
        assert_eq!(rec("every 15mins").interval, Some(15));
        assert_eq!(rec("hourly").interval, Some(60));
        assert_eq!(rec("every 2 hours").interval, Some(120));
        assert_eq!(rec("every 2h").interval, Some(120));
        assert_eq!(rec("every other hour").interval, Some(120));
        assert_eq!(rec("every half hour").interval, Some(30));
        assert_eq!(rec("every quarter of an hour").interval, Some(15));
        assert_eq!(rec("every fifteen minutes").interval, Some(15));
        assert_eq!(rec("every couple of hours").interval, Some(120));
        assert_eq!(rec("every time a PR is merged").interval, None);
        assert_eq!(rec("every day").interval, None);
    }

    #[test]
    fn monthly() {
        assert_eq!(rec("on the 1st of every month at 8am").monthly, Some(1));
        assert_eq!(rec("first of the month, 9am").monthly, Some(1));
        assert_eq!(rec("Each 1st of month at 10").monthly, Some(1));
        assert_eq!(rec("every month on the 15th").monthly, Some(15));
        assert_eq!(rec("monthly report").monthly, Some(0));
        assert_eq!(rec("summary of last month's deals").monthly, None);
        assert!(rec("on the last day of every month").unsupported);
        assert!(rec("the first monday of the month").unsupported);
    }

    #[test]
    fn cron_forms() {
        let c = |s: Schedule| s.cron();
        assert_eq!(c(Schedule::Interval { minutes: 15 }).as_deref(), Some("*/15 * * * *"));
        assert_eq!(c(Schedule::Interval { minutes: 1 }).as_deref(), Some("* * * * *"));
        assert_eq!(c(Schedule::Interval { minutes: 60 }).as_deref(), Some("0 * * * *"));
        assert_eq!(c(Schedule::Interval { minutes: 120 }).as_deref(), Some("0 */2 * * *"));
        assert_eq!(c(Schedule::Interval { minutes: 1440 }).as_deref(), Some("0 0 * * *"));
        assert_eq!(c(Schedule::Interval { minutes: 45 }), None);
        assert_eq!(c(Schedule::Interval { minutes: 0 }), None);
        assert_eq!(
            c(Schedule::Daily { days: Days::WEEKDAYS, time: at(9, 0), also: Vec::new() }).as_deref(),
            Some("0 9 * * 1-5")
        );
        assert_eq!(
            c(Schedule::Daily { days: Days::EVERY_DAY, time: at(17, 30), also: Vec::new() }).as_deref(),
            Some("30 17 * * *")
        );
        assert_eq!(
            c(Schedule::Daily { days: Days::SUN, time: at(8, 0), also: Vec::new() }).as_deref(),
            Some("0 8 * * 0")
        );
        assert_eq!(c(Schedule::Daily { days: Days::WEEKDAYS, time: None, also: Vec::new() }), None);
        assert_eq!(c(Schedule::Daily { days: Days::NONE, time: at(9, 0), also: Vec::new() }), None);
        assert_eq!(c(Schedule::Monthly { day: 1, time: at(8, 0) }).as_deref(), Some("0 8 1 * *"));
        assert_eq!(c(Schedule::Monthly { day: 0, time: at(8, 0) }), None);
    }

    #[test]
    fn hours_inside_a_window_or_past_the_hour_are_a_list_of_times() {
        let cron = |s: &str| {
            crate::extract::extract(s).trigger.and_then(|t| match t {
                crate::extract::Trigger::Schedule(s) => Some((s.cron(), s.describe())),
                _ => None,
            })
        };
        assert_eq!(
            cron("every 2 hours from 8am to 8pm check gmail"),
            Some((
                Some("0 8,10,12,14,16,18,20 * * *".into()),
                "every day, every 2 hours from 08:00 to 20:00".into()
            ))
        );
        assert_eq!(
            cron("every hour between 9 and 5 on weekdays post to #ops").and_then(|c| c.0).as_deref(),
            Some("0 9,10,11,12,13,14,15,16,17 * * 1-5")
        );
        assert_eq!(
            cron("at half past every hour post the queue to #ops")
                .and_then(|c| c.0)
                .map(|c| c.starts_with("30 0,1,2,")),
            Some(true)
        );
        // Minutes inside a window cannot be a list of whole hours: the interval stays.
        assert_eq!(
            cron("every 30 minutes from 9 to 6 post to #ops").and_then(|c| c.0).as_deref(),
            Some("*/30 * * * *")
        );
        assert_eq!(cron("every 2 hours post to #ops").and_then(|c| c.0).as_deref(), Some("0 */2 * * *"));
    }

    #[test]
    fn descriptions() {
        assert_eq!(Schedule::Interval { minutes: 15 }.describe(), "every 15 minutes");
        assert_eq!(Schedule::Interval { minutes: 120 }.describe(), "every 2 hours");
        assert_eq!(
            Schedule::Daily { days: Days::WEEKDAYS, time: at(9, 0), also: Vec::new() }.describe(),
            "every weekday (Mon-Fri) at 09:00"
        );
        assert_eq!(
            Schedule::Daily { days: Days::MON, time: None, also: Vec::new() }.describe(),
            "every Monday (time not set)"
        );
        assert_eq!(
            Schedule::Monthly { day: 1, time: at(8, 0) }.describe(),
            "on the 1st of every month at 08:00"
        );
        let json = serde_json::to_string(&Schedule::Daily {
            days: Days::WEEKDAYS,
            time: at(9, 0),
            also: Vec::new(),
        })
        .expect("schedule serialises");
        assert_eq!(json, r#"{"kind":"daily","days":31,"time":{"hour":9,"minute":0}}"#);
    }
    #[test]
    fn cron_comparison_is_semantic() {
        assert!(same_cron("0 9 * * 1-5", "0 9 * * MON-FRI"));
        assert!(same_cron("0 9 * * 1,2,3,4,5", "0 9 * * 1-5"));
        assert!(same_cron("0 9 * * 0,6", "0 9 * * 6,7"));
        assert!(same_cron("*/15 * * * *", "0,15,30,45 * * * *"));
        assert!(!same_cron("0 9 * * 1-5", "0 9 * * *"));
        assert!(!same_cron("0 9 * * 1-5", "0 9 * *"));
    }
}
