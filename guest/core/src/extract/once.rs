//! One-off runs: "just once", "a one-off", "next Friday at 3", "tomorrow morning", "on
//! March 3rd at 10", "tonight at 8".
//!
//! A one-off phrase ("just once", "only once", "one time", "one-off", "a single time") wins
//! over a recurrence in the same message ("just once, not every week"); a day reference
//! ("next Friday", "tomorrow", "on 3 March") loses to one ("every Monday starting next
//! week" is weekly). "for tomorrow", "tomorrow's" and "today's" describe content, not when
//! ("post my calendar for tomorrow at 8" is daily). The day is kept as said (the next such
//! weekday, tomorrow, a date): the person's clock and time zone turn it into an instant
//! when the agent is deployed.

use serde::{Deserialize, Serialize};

use super::time::TimeOfDay;
use super::token::{Kind, Phrases, Toks, ordinal_at};

/// The day of a one-off run, as said. Postcard stores the variant index: append new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OneOffDay {
    /// "today", "tonight".
    Today,
    /// "tomorrow".
    Tomorrow,
    /// "next Friday", "this Monday", "on Friday" (the next one): 0 = Monday.
    Weekday(u8),
    /// "March 3rd", "3 March": month 1-12, day 1-31.
    Date {
        /// 1-12.
        month: u8,
        /// 1-31.
        day: u8,
    },
    /// "on the 15th": that day of this month (or the next, once it has passed).
    MonthDay(u8),
}

/// A run that happens once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OneOff {
    /// Which day, if said.
    pub day: Option<OneOffDay>,
    /// At what time, if said.
    pub time: Option<TimeOfDay>,
}

impl OneOff {
    /// The day as said: "today", "tomorrow", "next Friday", "March 3", or "day not set".
    pub fn describe_day(&self) -> String {
        match self.day {
            Some(OneOffDay::Today) => "today".into(),
            Some(OneOffDay::Tomorrow) => "tomorrow".into(),
            Some(OneOffDay::Weekday(d)) => format!("next {}", super::days::DAY_NAMES[usize::from(d % 7)]),
            Some(OneOffDay::Date { month, day }) => {
                format!("{} {day}", MONTH_NAMES[usize::from(month.clamp(1, 12) - 1)])
            }
            Some(OneOffDay::MonthDay(d)) => format!("on the {}", super::token::ordinal(u32::from(d))),
            None => "day not set".into(),
        }
    }

    /// "once, next Friday at 15:00", "once, tomorrow (time not set)".
    pub fn describe(&self) -> String {
        let mut s = String::from("once");
        if self.day.is_some() {
            s.push_str(", ");
            s.push_str(&self.describe_day());
        }
        match self.time {
            Some(t) => {
                s.push_str(" at ");
                s.push_str(&t.hh_mm());
            }
            None => s.push_str(" (time not set)"),
        }
        s
    }
}

/// Phrases that say the run happens once, sorted: looked up by their first byte.
static ONCE: Phrases = Phrases::new(&[
    &["a", "one", "-", "off"],
    &["a", "single", "time"],
    &["just", "once"],
    &["just", "the", "once"],
    &["just", "this", "once"],
    &["not", "every", "week"],
    &["not", "recurring"],
    &["once", "only"],
    &["one", "-", "off"],
    &["one", "-", "time"],
    &["one", "off"],
    &["one", "time"],
    &["onetime"],
    &["only", "once"],
    &["run", "it", "once"],
    &["run", "once"],
    &["this", "coming", "one"],
    &["this", "once"],
]);

/// Days people call by name, as (words, month, day).
const HOLIDAYS: &[(&[&str], u8, u8)] = &[
    (&["christmas", "eve"], 12, 24),
    (&["christmas", "day"], 12, 25),
    (&["christmas"], 12, 25),
    (&["boxing", "day"], 12, 26),
    (&["new", "year's", "eve"], 12, 31),
    (&["new", "years", "eve"], 12, 31),
    (&["nye"], 12, 31),
    (&["new", "year's", "day"], 1, 1),
    (&["new", "years", "day"], 1, 1),
    (&["halloween"], 10, 31),
    (&["valentine's", "day"], 2, 14),
    (&["valentines", "day"], 2, 14),
];

/// The months' names, January first.
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The month a word names ("march", "mar", "sept").
fn month_at(toks: &Toks, i: usize) -> Option<u8> {
    let w = toks.word(i);
    if w.len() < 3 {
        return None;
    }
    // "mar" or "march", but not "marketing"; "may" only before or after a number.
    let k = MONTH_NAMES
        .iter()
        .position(|m| w.eq_ignore_ascii_case(m) || w.eq_ignore_ascii_case(&m[..3]))
        .or_else(|| (w == "sept").then_some(8))?;
    (k != 4 || toks.kind(i + 1) == Some(Kind::Number) || toks.kind(i.wrapping_sub(1)) == Some(Kind::Number))
        .then(|| u8::try_from(k + 1).unwrap_or(1))
}

/// A day reference at `i`: the day and whether it names a date rather than content.
fn day_ref_at(toks: &Toks, i: usize) -> Option<OneOffDay> {
    let content = i > 0 && toks.is_any(i - 1, &["for", "of", "about"]);
    match toks.word(i) {
        "tomorrow" | "tmrw" | "tmr" | "tomorow" | "tommorow" | "tommorrow" | "2moro" | "2morrow"
            if !content =>
        {
            return Some(OneOffDay::Tomorrow);
        }
        "tonight" | "today" | "asap" if !content => return Some(OneOffDay::Today),
        // "this afternoon at 4"
        "this" if !content && toks.is_any(i + 1, &["morning", "afternoon", "evening"]) => {
            return Some(OneOffDay::Today);
        }
        "right" if toks.is(i + 1, "now") => return Some(OneOffDay::Today),
        // "in two hours", "in 30 minutes"
        "in" => {
            if let Some((_, len)) = super::token::number_at(toks, i + 1)
                && toks.is_any(i + 1 + len, &["hours", "hour", "minutes", "mins", "min"])
            {
                return Some(OneOffDay::Today);
            }
        }
        // "on the 15th" (of no month: this month's or the next)
        "on" if toks.is(i + 1, "the") => {
            if let Some((day, len)) = ordinal_at(toks, i + 2)
                && month_at(toks, i + 2 + len).is_none()
                && !toks.is(i + 2 + len, "of")
                && let Ok(day) = u8::try_from(day)
                && (1..=31).contains(&day)
            {
                return Some(OneOffDay::MonthDay(day));
            }
        }
        "next" | "this" | "coming" => {
            let j = if toks.is(i + 1, "coming") { i + 2 } else { i + 1 };
            if let Some(d) = super::days::day_index_at(toks, j) {
                return Some(OneOffDay::Weekday(d));
            }
        }
        _ => {}
    }
    // "March 3rd", "3 March", "the 3rd of March" (an ordinal may be two tokens: "12" "th")
    if let Some(month) = month_at(toks, i) {
        if let Some((day, _)) = ordinal_at(toks, i + 1).or_else(|| number_day(toks, i + 1)) {
            return date(month, day);
        }
        let before = if toks.is(i.wrapping_sub(1), "of") { i.wrapping_sub(2) } else { i.wrapping_sub(1) };
        for start in [before, before.wrapping_sub(1)] {
            if let Some((day, len)) = ordinal_at(toks, start).or_else(|| number_day(toks, start))
                && start + len == before + 1
            {
                return date(month, day);
            }
        }
    }
    if !content {
        let holiday = HOLIDAYS.iter().find(|(words, _, _)| toks.seq(i, words));
        if let Some(&(_, month, day)) = holiday {
            return Some(OneOffDay::Date { month, day });
        }
    }
    None
}

fn number_day(toks: &Toks, i: usize) -> Option<(u32, usize)> {
    let w = toks.word(i);
    (toks.kind(i) == Some(Kind::Number) && w.len() <= 2).then(|| w.parse().ok().map(|n| (n, 1))).flatten()
}

fn date(month: u8, day: u32) -> Option<OneOffDay> {
    let day = u8::try_from(day).ok().filter(|d| (1..=31).contains(d))?;
    Some(OneOffDay::Date { month, day })
}

/// What the message says about a one-off run: `Some((day, said_once))` when it names one,
/// where `said_once` marks a one-off phrase (which wins over a recurrence).
pub(crate) fn find_once(toks: &Toks) -> Option<(Option<OneOffDay>, bool)> {
    let said = (0..toks.len()).any(|i| toks.starts_phrase(i, &ONCE));
    // Words in quotes are what the agent says ("posts 'store closing early today'"), not when.
    let mut quoted = vec![false; toks.len()];
    let mut k = 0;
    while k < toks.len() {
        match super::places::quoted(toks, k) {
            Some((_, end)) => {
                quoted[k..end.min(toks.len())].fill(true);
                k = end;
            }
            None => k += 1,
        }
    }
    let day = (0..toks.len()).filter(|&i| !quoted[i]).find_map(|i| day_ref_at(toks, i)).or_else(|| {
        // "just once, on Friday": a plain day name is the next such day.
        said.then(|| (0..toks.len()).find_map(|i| super::days::day_index_at(toks, i).map(OneOffDay::Weekday)))
            .flatten()
    });
    (said || day.is_some()).then_some((day, said))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn once(s: &str) -> Option<(Option<OneOffDay>, bool)> {
        find_once(&Toks::new(s))
    }

    #[test]
    fn one_off_phrases_and_days() {
        assert_eq!(once("next Friday at 3 remind the team"), Some((Some(OneOffDay::Weekday(4)), false)));
        assert_eq!(once("just once, not every week"), Some((None, true)));
        assert_eq!(once("tomorrow at 9 send the deck"), Some((Some(OneOffDay::Tomorrow), false)));
        assert_eq!(once("on March 3rd at 10"), Some((Some(OneOffDay::Date { month: 3, day: 3 }), false)));
        assert_eq!(once("on 14 feb post a note"), Some((Some(OneOffDay::Date { month: 2, day: 14 }), false)));
        assert_eq!(once("make it a one-off on Friday"), Some((Some(OneOffDay::Weekday(4)), true)));
        assert_eq!(once("tmrw 9am msg #design"), Some((Some(OneOffDay::Tomorrow), false)));
        assert_eq!(once("right now, just this once, post it"), Some((Some(OneOffDay::Today), true)));
        assert_eq!(once("in two hours text me"), Some((Some(OneOffDay::Today), false)));
        assert_eq!(once("on the 15th at noon, tweet it"), Some((Some(OneOffDay::MonthDay(15)), false)));
        assert_eq!(once("on the 1st of every month"), None);
        let date = |month, day| Some((Some(OneOffDay::Date { month, day }), false));
        assert_eq!(once("The 12th of January at 14:00 send the invitation"), date(1, 12));
        assert_eq!(once("On Christmas Eve at 5pm post the schedule"), date(12, 24));
        assert_eq!(once("this afternoon at 4, post the list"), Some((Some(OneOffDay::Today), false)));
        assert_eq!(
            once("monday 8am (this coming one) send the doc"),
            Some((Some(OneOffDay::Weekday(0)), true))
        );
    }

    #[test]
    fn content_days_are_not_runs() {
        assert_eq!(once("post my calendar for tomorrow at 8"), None);
        assert_eq!(once("every day send me tomorrow's meetings"), None);
        assert_eq!(once("summarise the marketing emails"), None);
        assert_eq!(once("may I have a summary"), None);
        assert_eq!(once("a button that posts 'store closing early today' to Instagram"), None);
    }

    #[test]
    fn describe() {
        let o = OneOff { day: Some(OneOffDay::Weekday(4)), time: TimeOfDay::new(15, 0) };
        assert_eq!(o.describe(), "once, next Friday at 15:00");
        assert_eq!(OneOff { day: None, time: None }.describe(), "once (time not set)");
    }
}
