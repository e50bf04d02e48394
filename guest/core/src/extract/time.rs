//! Times of day: "9", "9am", "9:30 pm", "21:00", "0900", "9.30am", "noon", "midnight",
//! "half past 8", "quarter to six", "half eight", "nine thirty", "5 o'clock", "9ish".
//!
//! A bare number is a time only where a person would read one: after "at", "@", "around",
//! "by", "before", "until", "from", "after"; after a day word ("daily 9", "mon-fri 0900");
//! in "make it 8", "change it to 8", "8 instead"; as the whole message ("8"); and next to a
//! negated time ("not 9, 8"). Numbers before units ("15 minutes", "2 hours") and ordinals
//! ("the 1st") never are.
//!
//! Without am/pm, the hour is read from nearby words ("morning" -> am, "evening",
//! "afternoon", "tonight" -> pm, "night" -> pm for 6-11 and am for 1-5), else by working
//! hours: 7-11 are morning, 12 is noon, 1-6 are afternoon or evening ("at 5" -> 17:00,
//! "half past five" -> 17:30). A leading zero ("05:30", "0900") or an hour of 13-23 is 24h.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::token::{Kind, Toks, number_at};

/// A time of day on the 24-hour clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimeOfDay {
    /// 0-23.
    pub hour: u8,
    /// 0-59.
    pub minute: u8,
}

impl TimeOfDay {
    /// The time `hour:minute`, if both are in range.
    pub fn new(hour: u8, minute: u8) -> Option<TimeOfDay> {
        (hour < 24 && minute < 60).then_some(TimeOfDay { hour, minute })
    }

    /// The time as `Display` writes it (`09:05`), without the formatting machinery, which
    /// in wasm costs several times the copy (the requirements show the time on every turn).
    pub fn hh_mm(self) -> String {
        if self.hour > 99 || self.minute > 99 {
            return self.to_string();
        }
        let mut s = String::with_capacity(5);
        for (k, n) in [self.hour, self.minute].into_iter().enumerate() {
            if k == 1 {
                s.push(':');
            }
            s.push(char::from(b'0' + n / 10));
            s.push(char::from(b'0' + n % 10));
        }
        s
    }
}

impl fmt::Display for TimeOfDay {
    /// `09:05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// One time found in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeMention {
    /// The time.
    pub(crate) time: TimeOfDay,
    /// First token.
    pub(crate) pos: usize,
    /// One past the last token.
    pub(crate) end: usize,
    /// Said not to be wanted ("not 9").
    pub(crate) negated: bool,
    /// Recognisable as a time anywhere (has am/pm, a colon, "noon"...), not only in context.
    pub(crate) strong: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meridiem {
    Am,
    Pm,
}

#[derive(Debug, Clone, Copy)]
struct Raw {
    hour: u32,
    minute: u32,
    meridiem: Option<Meridiem>,
    /// Written in a way that fixes the 24h reading ("05:30", "0900", "17").
    fixed: bool,
    strong: bool,
    end: usize,
}

/// Words that make a following bare number a time.
const PREPS: &[&str] = &[
    "at", "@", "around", "about", "~", "by", "before", "until", "till", "til", "from", "after", "circa",
    "approx",
];

/// Day and recurrence words after which a bare number is a time ("daily 9").
const DAYISH: &[&str] = &[
    "daily",
    "weekday",
    "weekdays",
    "weekend",
    "weekends",
    "everyday",
    "nightly",
    "morning",
    "mornings",
    "evening",
    "evenings",
    "afternoon",
    "afternoons",
    "night",
    "nights",
    "monday",
    "mondays",
    "tuesday",
    "tuesdays",
    "wednesday",
    "wednesdays",
    "thursday",
    "thursdays",
    "friday",
    "fridays",
    "saturday",
    "saturdays",
    "sunday",
    "sundays",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
    "day",
    "weekly",
    "monthly",
    "workdays",
    "month",
];

/// Words after a number that make it a quantity, not a time.
const UNITS: &[&str] = &[
    "min", "mins", "minute", "minutes", "m", "hour", "hours", "hr", "hrs", "day", "days", "week", "weeks",
    "month", "months", "year", "years", "sec", "secs", "second", "seconds", "st", "nd", "rd", "th", "%",
    "times", "x", "people", "items", "emails", "messages", "issues", "rows", "k", "percent",
];

/// Every time mentioned, in order.
pub(crate) fn find_times(toks: &Toks) -> Vec<TimeMention> {
    let mut out: Vec<TimeMention> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some(raw) = parse_at(toks, i, out.last().map(|m| m.end))
            && let Some(time) = resolve(toks, i, raw)
        {
            out.push(TimeMention { time, pos: i, end: raw.end, negated: false, strong: raw.strong });
            i = raw.end.max(i + 1);
            // A number listed after a time, or given after taking it back, is one too: "at 9
            // and 5", "9am, 1 and 5", "at 9, no wait, 10".
            loop {
                let k = (i..i + 5).find(|&k| {
                    !toks.is_any(k, LIST)
                        && !toks.is_any(k, TAKE_BACK)
                        && !toks.is_any(k, &["at", "i", "-", "make", "it", "that"])
                });
                let Some(k) = k.filter(|&k| k > i) else { break };
                let next = parse_at(toks, k, Some(i))
                    .and_then(|r| resolve(toks, k, r).map(|t| (t, r.end, r.strong)))
                    .or_else(|| bare(toks, k).map(|m| (m.time, m.end, false)));
                let Some((time, end, strong)) = next else { break };
                out.push(TimeMention { time, pos: k, end, negated: false, strong });
                i = end.max(k + 1);
            }
            continue;
        }
        i += 1;
    }
    for m in &mut out {
        m.negated = is_negated(toks, m.pos);
    }
    // Bare numbers next to a negated time: "not 9, 8", "8, not 9", "8 not 9".
    let negated: Vec<TimeMention> = out.iter().filter(|m| m.negated).copied().collect();
    for n in negated {
        for cand in [n.end, n.end + 1, n.end + 2] {
            if cand < toks.len()
                && !out.iter().any(|m| m.pos <= cand && cand < m.end)
                && (n.end..cand).all(|k| toks.is_any(k, &[",", "but", "-", "make", "it"]))
                && let Some(m) = bare(toks, cand)
            {
                out.push(m);
                break;
            }
        }
        if let Some(notpos) = (n.pos.saturating_sub(2)..n.pos).rev().find(|&k| toks.is(k, "not")) {
            for cand in [notpos.wrapping_sub(1), notpos.wrapping_sub(2)] {
                if cand < toks.len()
                    && !out.iter().any(|m| m.pos <= cand && cand < m.end)
                    && (cand + 1..notpos).all(|k| toks.is_any(k, &[","]))
                    && let Some(m) = bare(toks, cand)
                {
                    out.push(m);
                    break;
                }
            }
        }
    }
    crate::order::sort_by_key(&mut out, |m| m.pos as u64);
    out
}

/// The times of the first sentence that says when the agent runs, when the message has
/// several ("PagerDuty pages us at 3am. Every Monday at 9:30 send ..."): a time told as
/// background is not the schedule's. Otherwise all of them.
pub(crate) fn in_schedule_sentence(toks: &Toks, times: Vec<TimeMention>) -> Vec<TimeMention> {
    const WHEN: &[&str] = &[
        "every", "each", "daily", "weekly", "nightly", "hourly", "monthly", "weekdays", "weekday",
        "tomorrow", "tonight", "twice", "on",
    ];
    let mut sentence = Vec::with_capacity(toks.len());
    let mut n = 0usize;
    for k in 0..toks.len() {
        sentence.push(n);
        if toks.is_any(k, &[".", "!", "?"]) {
            n += 1;
        }
    }
    if times.iter().all(|t| sentence.get(t.pos) == sentence.get(times[0].pos)) {
        return times;
    }
    let says_when = |s: usize| (0..toks.len()).any(|k| sentence[k] == s && toks.is_any(k, WHEN));
    let Some(s) = times.iter().map(|t| sentence[t.pos]).find(|&s| says_when(s)) else { return times };
    times.into_iter().filter(|t| sentence[t.pos] == s).collect()
}

/// Words that join listed times ("at 9 and 5", "9, 1 & 5").
const LIST: &[&str] = &["and", ",", "&", "+"];

/// Words that take back what came before ("at 9, no wait, 10", "9 - actually 10").
const TAKE_BACK: &[&str] =
    &["no", "wait", "actually", "sorry", "mean", "rather", "correction", "scratch", "oops"];

/// The times the message asks for: the first one not negated and the ones listed right after
/// it ("at 9 and 5"); a time after a correction ("at 9, no wait, 10") replaces the ones
/// before it.
pub(crate) fn chosen(toks: &Toks, times: &[TimeMention]) -> Vec<TimeOfDay> {
    let mut out: Vec<TimeOfDay> = Vec::new();
    let mut listed: Vec<&TimeMention> = Vec::new();
    let mut last: Option<&TimeMention> = None;
    for m in times.iter().filter(|m| !m.negated) {
        if let Some(prev) = last {
            let between = prev.end..m.pos;
            if between.clone().any(|k| toks.is_any(k, TAKE_BACK)) && m.pos - prev.end <= 5 {
                listed.clear();
            } else if !(between.len() <= 3
                && between.clone().all(|k| toks.is_any(k, LIST) || toks.is_any(k, &["at", "again", "also"])))
            {
                break;
            }
        }
        listed.push(m);
        last = Some(m);
    }
    // A list with an hour written 13-23 is on the 24-hour clock ("at 6 and 18"): its other
    // hours are as written, not moved to the afternoon.
    let written = |m: &TimeMention| {
        let t = toks.text(m.pos);
        t.split(|c: char| !c.is_ascii_digit()).next().and_then(|h| h.parse::<u8>().ok())
    };
    let clock24 =
        listed.len() > 1 && listed.iter().any(|m| written(m).is_some_and(|h| (13..=23).contains(&h)));
    for m in listed {
        let mut time = m.time;
        if clock24 && let Some(h) = written(m).filter(|h| (1..=6).contains(h) && time.hour == h + 12) {
            time = TimeOfDay::new(h, time.minute).unwrap_or(time);
        }
        if !out.contains(&time) {
            out.push(time);
        }
    }
    out
}

/// Two hours that bound a span: "from 8am to 8pm", "between 8 and 6", "works 9 to 5",
/// "9-5". An end not after the start is in the afternoon ("9 to 5" ends at 17:00).
pub(crate) fn window(toks: &Toks) -> Option<(TimeOfDay, TimeOfDay)> {
    let at = |k: usize| {
        parse_at(toks, k, None)
            .and_then(|r| resolve(toks, k, r).map(|t| (t, r.end)))
            .or_else(|| bare(toks, k).map(|m| (m.time, m.end)))
    };
    (0..toks.len()).filter(|&k| toks.kind(k) == Some(Kind::Number)).find_map(|k| {
        let (a, end) = at(k)?;
        let between = k > 0 && toks.is(k - 1, "between") && toks.is(end, "and");
        if !(between || toks.is_any(end, &["to", "-", "until", "till", "til", "through", "thru"])) {
            return None;
        }
        let (mut b, _) = at(end + 1)?;
        if b.hour <= a.hour && b.hour < 12 {
            b = TimeOfDay::new(b.hour + 12, b.minute)?;
        }
        (a.hour < b.hour).then_some((a, b))
    })
}

fn bare(toks: &Toks, i: usize) -> Option<TimeMention> {
    let (n, len) = number_at(toks, i)?;
    if toks.kind(i) == Some(Kind::Number) && toks.text(i).len() > 2 {
        return None;
    }
    if !(1..=24).contains(&n) || toks.is_any(i + len, UNITS) {
        return None;
    }
    let raw = Raw { hour: n, minute: 0, meridiem: None, fixed: n > 12, strong: false, end: i + len };
    let time = resolve(toks, i, raw)?;
    Some(TimeMention { time, pos: i, end: i + len, negated: false, strong: false })
}

fn is_negated(toks: &Toks, pos: usize) -> bool {
    let from = pos.saturating_sub(3);
    for k in (from..pos).rev() {
        if toks.is_break(k) {
            break;
        }
        if toks.is_any(k, &["not", "isn't", "never"])
            || toks.seq(k, &["instead", "of"])
            || toks.seq(k, &["rather", "than"])
            || toks.seq(k, &["no", "longer"])
        {
            return true;
        }
    }
    // "change it from 9 to 8": the "from" time is the old one.
    if pos > 0 && toks.is(pos - 1, "from") {
        let start = toks.clause_start(pos);
        let change =
            (start..pos).any(|k| toks.is_any(k, &["change", "move", "switch", "push", "shift", "moved"]));
        let to_later = (pos + 1..toks.clause_end(pos).min(pos + 5)).any(|k| toks.is(k, "to"));
        return change && to_later;
    }
    false
}

fn parse_at(toks: &Toks, i: usize, last_end: Option<usize>) -> Option<Raw> {
    let w = toks.text(i);
    match w {
        "noon" | "midday" => {
            return Some(Raw { hour: 12, minute: 0, meridiem: None, fixed: true, strong: true, end: i + 1 });
        }
        "midnight" => {
            return Some(Raw { hour: 0, minute: 0, meridiem: None, fixed: true, strong: true, end: i + 1 });
        }
        _ => {}
    }
    // "half past 8", "quarter past 9", "quarter to 10", "ten past 9", "half eight".
    if let Some(raw) = parse_past_to(toks, i) {
        return Some(raw);
    }
    let tok = toks.get(i)?;
    // "every 2h", "every 15": quantities.
    if i > 0 && toks.is_any(i - 1, &["every", "each", "the", "last", "next", "top", "first"]) {
        return None;
    }
    let (hour, mut minute, mut fixed, mut strong, mut end);
    match tok.kind {
        Kind::Number => {
            let s = &*tok.text;
            if let Some((h, m)) = s.split_once(':') {
                if m.len() != 2 {
                    return None;
                }
                hour = h.parse().ok()?;
                minute = m.parse().ok()?;
                // A leading zero, 13-23, or a UTC time ("6:00 UTC") is 24-hour.
                fixed =
                    h.starts_with('0') || hour > 12 || hour == 0 || toks.is_any(i + 1, &["utc", "gmt", "z"]);
                strong = true;
            } else if let Some((h, m)) = s.split_once('.') {
                if m.len() != 2 || h.len() > 2 {
                    return None;
                }
                hour = h.parse().ok()?;
                minute = m.parse().ok()?;
                fixed = h.starts_with('0') || hour > 12 || hour == 0;
                strong = false;
            } else if s.len() == 4 {
                hour = s[..2].parse().ok()?;
                minute = s[2..].parse().ok()?;
                fixed = true;
                strong = false;
            } else if s.len() <= 2 {
                hour = s.parse().ok()?;
                minute = 0;
                fixed = s.starts_with('0') || hour > 12 || hour == 0;
                strong = false;
            } else {
                return None;
            }
            end = i + 1;
        }
        Kind::Word => {
            let (h, len) = number_at(toks, i)?;
            if !(1..=12).contains(&h) {
                return None;
            }
            hour = h;
            minute = 0;
            fixed = false;
            strong = false;
            end = i + len;
            // "nine thirty", "nine forty-five", "six oh five"
            if let Some((m, mlen)) = number_at(toks, end).filter(|(m, _)| (10..60).contains(m))
                && toks.kind(end) == Some(Kind::Word)
            {
                minute = m;
                end += mlen;
            }
        }
        _ => return None,
    }
    if hour > 24 || minute > 59 {
        return None;
    }
    // What follows.
    let mut meridiem = None;
    let four_digits = tok.kind == Kind::Number && tok.text.len() == 4;
    loop {
        let next = toks.text(end);
        let glued = toks.get(end).is_some_and(|t| t.glued);
        let step = match next {
            "am" => {
                meridiem = Some(Meridiem::Am);
                1
            }
            "pm" => {
                meridiem = Some(Meridiem::Pm);
                1
            }
            "a" if glued => {
                meridiem = Some(Meridiem::Am);
                1
            }
            "p" if glued => {
                meridiem = Some(Meridiem::Pm);
                1
            }
            "h" if glued && tok.kind == Kind::Number => {
                fixed = true;
                1
            }
            // "8h30": the French and Portuguese way.
            _ if glued
                && tok.kind == Kind::Number
                && next.len() == 3
                && next.starts_with('h')
                && next[1..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                minute = next[1..].parse().ok().filter(|m| *m < 60)?;
                fixed = true;
                1
            }
            "o'clock" | "oclock" | "sharp" | "ish" => 1,
            "hrs" | "hours" if four_digits => 1,
            "noon" if hour == 12 => 1,
            "-" if toks.is(end + 1, "ish") => 2,
            "o" if toks.is(end + 1, "clock") => 2,
            _ => break,
        };
        strong = true;
        end += step;
        if meridiem.is_some() {
            break;
        }
    }
    if meridiem.is_none() && toks.is_any(end, UNITS) {
        return None;
    }
    if !strong && !context(toks, i, end, last_end) {
        return None;
    }
    if meridiem.is_some() && hour > 12 {
        meridiem = None;
        fixed = true;
    }
    Some(Raw { hour, minute, meridiem, fixed, strong, end })
}

/// A bare number at `i..end` reads as a time here.
fn context(toks: &Toks, i: usize, end: usize, last_end: Option<usize>) -> bool {
    if i > 0 {
        let p = toks.text(i - 1);
        if PREPS.contains(&p) || p == "not" {
            return true;
        }
        if toks.seq_before(i, &["instead", "of"]) || toks.seq_before(i, &["rather", "than"]) {
            return true;
        }
        if DAYISH.contains(&p) && toks.kind(i - 1) == Some(Kind::Word) {
            return true;
        }
        if p == "-" && toks.is_any(i.wrapping_sub(2), DAYISH) {
            return true;
        }
        // "make it 8", "make that 8"
        if matches!(p, "it" | "that") && toks.is(i.wrapping_sub(2), "make") {
            return true;
        }
        // "change it to 8", "move the time to 8"
        if p == "to" {
            let from = i.saturating_sub(5);
            if (from..i).any(|k| {
                toks.is_any(k, &["change", "move", "set", "switch", "push", "shift", "update", "time"])
            }) {
                return true;
            }
        }
        // "twice a day (9 and 5)", "three times a day (8, 13, 18h)"
        if p == "("
            && (i.saturating_sub(6)..i - 1)
                .any(|k| toks.is_any(k, &["twice", "thrice", "times", "daily", "day", "days", "weekdays"]))
        {
            return true;
        }
        // "at 9 and 5"
        if matches!(p, "and" | "or" | "&" | ",") && last_end == Some(i - 1) {
            return true;
        }
    }
    if toks.is(end, "instead") {
        return true;
    }
    // The whole message is the time ("8", "8 please").
    // ("9 and 4", "8, 12 and 5": only times.)
    let rest_is_filler = (end..toks.len()).all(|k| {
        toks.is_break(k)
            || toks.is_any(k, &["please", "pls", "thanks", "and", "&", "then", "am", "pm"])
            || toks.kind(k) == Some(Kind::Number)
    });
    let before_is_filler =
        (0..i).all(|k| toks.is_break(k) || toks.is_any(k, &["ok", "okay", "um", "hmm", "maybe"]));
    rest_is_filler && before_is_filler
}

fn parse_past_to(toks: &Toks, i: usize) -> Option<Raw> {
    let w = toks.text(i);
    let (minutes, mut j) = match w {
        "half" => (30, i + 1),
        "quarter" => (15, i + 1),
        _ => {
            let (m, len) = number_at(toks, i).filter(|(m, _)| (1..=30).contains(m))?;
            let mut j = i + len;
            if toks.is_any(j, &["minutes", "mins", "min"]) {
                j += 1;
            }
            if !toks.is(j, "past") {
                return None;
            }
            (m, j)
        }
    };
    let to = toks.is(j, "to");
    let past = toks.is(j, "past") || toks.is(j, "after");
    // British "half eight" = 8:30; only "half" takes no "past".
    if past || to {
        j += 1;
    } else if w != "half" {
        return None;
    }
    let (h, len) = number_at(toks, j).filter(|(h, _)| (1..=12).contains(h))?;
    let (hour, minute) = if to { (if h == 1 { 12 } else { h - 1 }, 60 - minutes) } else { (h, minutes) };
    let mut end = j + len;
    let mut meridiem = None;
    match toks.text(end) {
        "am" => {
            meridiem = Some(Meridiem::Am);
            end += 1;
        }
        "pm" => {
            meridiem = Some(Meridiem::Pm);
            end += 1;
        }
        _ => {}
    }
    Some(Raw { hour, minute, meridiem, fixed: false, strong: true, end })
}

/// Applies am/pm to a raw time.
fn resolve(toks: &Toks, pos: usize, raw: Raw) -> Option<TimeOfDay> {
    let mut h = raw.hour;
    if h == 24 {
        h = 0;
    }
    let h = match raw.meridiem {
        Some(Meridiem::Am) => h % 12,
        Some(Meridiem::Pm) => h % 12 + 12,
        None if raw.fixed || h == 0 => h,
        None => match day_part(toks, pos, raw.end) {
            Some(Part::Morning) => h % 12,
            Some(Part::Evening) => h % 12 + 12,
            Some(Part::Afternoon) => {
                if h == 12 {
                    12
                } else {
                    h + 12
                }
            }
            Some(Part::Night) => match h {
                12 => 0,
                1..=5 => h,
                _ => h + 12,
            },
            // ("every weekday at 6:30 send the day's calendar events", "at 6 txt me the
            // weather": what a day starts with is wanted early.)
            None => match h {
                5..=6 if ahead_of_the_day(toks) => h,
                1..=6 => h + 12,
                _ => h,
            },
        },
    };
    TimeOfDay::new(u8::try_from(h).ok()?, u8::try_from(raw.minute).ok()?)
}

/// The message is about the day ahead: its weather, its agenda, its meetings.
fn ahead_of_the_day(toks: &Toks) -> bool {
    const DAY_AHEAD: &[&str] = &["weather", "wether", "forecast", "agenda"];
    const PLANS: &[&str] =
        &["calendar", "events", "meetings", "appointments", "schedule", "shifts", "bookings", "agenda"];
    let day = |k: usize| toks.is_any(k, &["today's", "todays"]) || toks.seq(k, &["the", "day's"]);
    toks.has_any(DAY_AHEAD)
        || (0..toks.len()).any(|k| day(k) && (k + 1..(k + 4).min(toks.len())).any(|j| toks.is_any(j, PLANS)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Morning,
    Afternoon,
    Evening,
    Night,
}

fn day_part(toks: &Toks, pos: usize, end: usize) -> Option<Part> {
    let from = pos.saturating_sub(5);
    let to = (end + 5).min(toks.len());
    let mut best: Option<(usize, Part)> = None;
    for k in from..to {
        let part = match toks.text(k) {
            "morning" | "mornings" | "breakfast" | "am" => Part::Morning,
            "afternoon" | "afternoons" | "lunch" | "lunchtime" | "pm" => Part::Afternoon,
            "evening" | "evenings" | "tonight" | "dinner" => Part::Evening,
            "night" | "nights" | "nightly" | "overnight" => Part::Night,
            _ => continue,
        };
        if k >= pos && k < end {
            continue;
        }
        let dist = if k < pos { pos - k } else { k - end + 1 };
        if best.is_none_or(|(d, _)| dist < d) {
            best = Some((dist, part));
        }
    }
    best.map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `hh_mm` writes exactly what `Display` does, for every pair of bytes (valid times are
    /// a small part of it).
    #[test]
    fn hh_mm_is_display() {
        for hour in 0..=u8::MAX {
            for minute in 0..=u8::MAX {
                let t = TimeOfDay { hour, minute };
                assert_eq!(t.hh_mm(), t.to_string());
            }
        }
    }

    fn t(s: &str) -> Option<String> {
        all(s).into_iter().next()
    }

    fn all(s: &str) -> Vec<String> {
        let toks = Toks::new(s);
        chosen(&toks, &find_times(&toks)).into_iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn several_times_and_taking_one_back() {
        assert_eq!(all("every day at 9 and 5"), ["09:00", "17:00"]);
        // An hour written 13-23 puts the whole list on the 24-hour clock.
        assert_eq!(all("at 6 and 18 post the stock levels"), ["06:00", "18:00"]);
        assert_eq!(all("at 9am, 1pm and 5pm"), ["09:00", "13:00", "17:00"]);
        assert_eq!(all("twice a day at 8 and 6"), ["08:00", "18:00"]);
        assert_eq!(all("post it in #office at 8 and again at 1"), ["08:00", "13:00"]);
        assert_eq!(all("every day at 9, no wait, 10"), ["10:00"]);
        assert_eq!(all("at 9 - actually make it 10"), ["10:00"]);
        assert_eq!(all("at 9 and send 5 messages"), ["09:00"]);
    }

    #[test]
    fn clock_formats() {
        assert_eq!(t("every weekday at 9").as_deref(), Some("09:00"));
        assert_eq!(t("at 9am").as_deref(), Some("09:00"));
        assert_eq!(t("at 9:30 pm").as_deref(), Some("21:30"));
        assert_eq!(t("9.30pm").as_deref(), Some("21:30"));
        assert_eq!(t("at 9.30 every day").as_deref(), Some("09:30"));
        assert_eq!(t("21:00").as_deref(), Some("21:00"));
        assert_eq!(t("daily 17:30").as_deref(), Some("17:30"));
        assert_eq!(t("mon-fri 0900 standup").as_deref(), Some("09:00"));
        assert_eq!(t("at 8 p.m.").as_deref(), Some("20:00"));
        assert_eq!(t("9a").as_deref(), Some("09:00"));
        assert_eq!(t("daily 6:00 UTC").as_deref(), Some("06:00"));
        assert_eq!(t("12am").as_deref(), Some("00:00"));
        assert_eq!(t("12pm").as_deref(), Some("12:00"));
        assert_eq!(t("at 05:30").as_deref(), Some("05:30"));
        assert_eq!(t("17h").as_deref(), Some("17:00"));
        assert_eq!(t("24:00").as_deref(), Some("00:00"));
    }

    #[test]
    fn words() {
        assert_eq!(t("at noon").as_deref(), Some("12:00"));
        assert_eq!(t("midnight").as_deref(), Some("00:00"));
        assert_eq!(t("half past 8").as_deref(), Some("08:30"));
        assert_eq!(t("at half past five").as_deref(), Some("17:30"));
        assert_eq!(t("quarter to six in the evening").as_deref(), Some("17:45"));
        assert_eq!(t("at half eight").as_deref(), Some("08:30"));
        assert_eq!(t("at nine thirty").as_deref(), Some("09:30"));
        assert_eq!(t("5 o'clock").as_deref(), Some("17:00"));
        assert_eq!(t("around 9ish").as_deref(), Some("09:00"));
        assert_eq!(t("weekday 9-ish").as_deref(), Some("09:00"));
        assert_eq!(t("ten past nine").as_deref(), Some("09:10"));
    }

    #[test]
    fn context_and_meridiem() {
        assert_eq!(t("every morning at 6").as_deref(), Some("06:00"));
        assert_eq!(t("each evening at 7").as_deref(), Some("19:00"));
        assert_eq!(t("nightly at 2").as_deref(), Some("02:00"));
        assert_eq!(t("at 5").as_deref(), Some("17:00"));
        assert_eq!(t("every 15 minutes"), None);
        assert_eq!(t("every 2 hours"), None);
        assert_eq!(t("on the 1st at 8am").as_deref(), Some("08:00"));
        assert_eq!(t("top 5 emails"), None);
        assert_eq!(t("in 2024"), None);
    }

    #[test]
    fn corrections() {
        assert_eq!(t("make it 8 instead").as_deref(), Some("08:00"));
        assert_eq!(t("not 9, 8").as_deref(), Some("08:00"));
        assert_eq!(t("8, not 9").as_deref(), Some("08:00"));
        assert_eq!(t("8").as_deref(), Some("08:00"));
        assert_eq!(t("change it from 9 to 10").as_deref(), Some("10:00"));
        assert_eq!(t("at 10 instead of 9").as_deref(), Some("10:00"));
        assert_eq!(t("switch it to 5:30pm").as_deref(), Some("17:30"));
    }
}
