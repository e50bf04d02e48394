//! Days of the week: [`Days`] and how they are read ("every weekday", "weekdays",
//! "Mon-Fri", "Monday to Friday", "every Monday and Thursday", "on Mondays", "mon wed fri",
//! "daily", "every day", "each morning", "nightly", "weekends", "every day except
//! Wednesdays", "Fridays, not Thursdays").

use std::fmt::{self, Write};

use serde::{Deserialize, Serialize};

use super::token::{Phrases, Toks, fuzzy_eq};

/// Days of the week a schedule runs on (bit set, Monday = bit 0 ... Sunday = bit 6).
///
/// Serialised as the bit set's number (`31` = Mon-Fri). [`Days::NONE`] inside a schedule
/// means "weekly, day not said".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Days(pub u8);

const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
/// The days' names as a reply writes them, Monday first (index = [`Days::day`]'s).
pub const DAY_NAMES: [&str; 7] =
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const FULL: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const PLURAL: [&str; 7] =
    ["mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays"];

/// The message says its days come round again: "every", "each", "daily", "weekly",
/// "weekdays", a plural day ("on Mondays"). A lone "on Saturday" does not.
pub(crate) fn recurring_words(toks: &Toks) -> bool {
    const AGAIN: &[&str] = &[
        "every",
        "evry",
        "evrey",
        "each",
        "daily",
        "weekly",
        "weekdays",
        "weekends",
        "workdays",
        "nightly",
        "always",
        "recurring",
    ];
    (0..toks.len()).any(|i| toks.is_any(i, AGAIN) || toks.is_any(i, &PLURAL))
}

impl Days {
    /// No day.
    pub const NONE: Days = Days(0);
    /// Monday.
    pub const MON: Days = Days(1);
    /// Tuesday.
    pub const TUE: Days = Days(1 << 1);
    /// Wednesday.
    pub const WED: Days = Days(1 << 2);
    /// Thursday.
    pub const THU: Days = Days(1 << 3);
    /// Friday.
    pub const FRI: Days = Days(1 << 4);
    /// Saturday.
    pub const SAT: Days = Days(1 << 5);
    /// Sunday.
    pub const SUN: Days = Days(1 << 6);
    /// Monday to Friday.
    pub const WEEKDAYS: Days = Days(0b001_1111);
    /// Saturday and Sunday.
    pub const WEEKEND: Days = Days(0b110_0000);
    /// All seven days.
    pub const EVERY_DAY: Days = Days(0b111_1111);

    /// The day with this index (0 = Monday ... 6 = Sunday); [`Days::NONE`] out of range.
    pub fn day(index: u8) -> Days {
        if index < 7 { Days(1 << index) } else { Days::NONE }
    }

    /// The union of a list of days.
    pub fn from_list(days: &[Days]) -> Days {
        days.iter().fold(Days::NONE, |acc, d| acc.union(*d))
    }

    /// Every day of `other` is in `self`.
    pub fn contains(self, other: Days) -> bool {
        self.0 & other.0 == other.0
    }

    /// Days in either.
    pub fn union(self, other: Days) -> Days {
        Days((self.0 | other.0) & Days::EVERY_DAY.0)
    }

    /// Days of `self` that are not in `other`.
    pub fn minus(self, other: Days) -> Days {
        Days(self.0 & !other.0 & Days::EVERY_DAY.0)
    }

    /// No day at all.
    pub fn is_empty(self) -> bool {
        self.0 & Days::EVERY_DAY.0 == 0
    }

    /// How many days.
    pub fn count(self) -> u32 {
        (self.0 & Days::EVERY_DAY.0).count_ones()
    }

    /// The indices (0 = Monday) of the days in the set, in week order.
    pub fn indices(self) -> impl Iterator<Item = u8> {
        (0u8..7).filter(move |i| self.0 & (1 << i) != 0)
    }

    /// The cron day-of-week field: `*` for every day, otherwise numbers with Sunday = 0,
    /// runs of three or more as ranges (`1-5`, `0,6`, `1,3,5`).
    pub fn cron_field(self) -> String {
        if self.contains(Days::EVERY_DAY) {
            return "*".to_string();
        }
        // cron numbering: Sunday = 0, Monday = 1 ...
        let cron = (0u8..7).filter(|&c| self.0 & (1 << ((c + 6) % 7)) != 0).fold(0, |m, c| m | 1 << c);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = compress(&mut out, cron, |out, n| write!(out, "{n}"), ",");
        out
    }
}

/// Writes the numbers whose bits are set in `set` (0 to 6) in order, separated by `sep`,
/// runs of three or more as `a-b`. Straight into `out`: every requirements summary shows
/// Days.
fn compress<W: Write>(
    out: &mut W,
    set: u8,
    name: impl Fn(&mut W, u8) -> fmt::Result,
    sep: &str,
) -> fmt::Result {
    let has = |n: u8| n < 7 && set & (1 << n) != 0;
    let mut first = true;
    let mut p = 0;
    while p < 7 {
        if !has(p) {
            p += 1;
            continue;
        }
        let mut q = p;
        while has(q + 1) {
            q += 1;
        }
        let run = q - p >= 2;
        for n in if run { p..=p } else { p..=q } {
            if !first {
                out.write_str(sep)?;
            }
            first = false;
            name(out, n)?;
        }
        if run {
            out.write_char('-')?;
            name(out, q)?;
        }
        p = q + 1;
    }
    Ok(())
}

impl fmt::Display for Days {
    /// `Mon-Fri`, `Mon, Thu`, `Sat, Sun`, `Mon-Sun`; `no days` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no days");
        }
        compress(f, self.0, |f, i| f.write_str(NAMES[usize::from(i)]), ", ")
    }
}

/// What the text says about days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct DaysFound {
    /// The days asked for, if any were named.
    pub(crate) days: Option<Days>,
    /// "weekly", "every week", "once a week" (with or without a day).
    pub(crate) weekly: bool,
    /// Token where the first day mention starts.
    pub(crate) pos: Option<usize>,
}

/// A named day at `i`: (days, tokens spanned, is an abbreviation, plural).
fn day_at(toks: &Toks, i: usize) -> Option<(Days, usize, bool)> {
    let w = toks.word(i);
    if w.is_empty() {
        return None;
    }
    // A day name, or a typo of one, has four letters or more and starts like one (fuzzy_eq
    // keeps the first letter): most words are settled here instead of by 28 comparisons.
    if w.len() >= 4 && FULL.iter().any(|d| d.as_bytes()[0] == w.as_bytes()[0]) {
        for (k, (full, plural)) in FULL.iter().zip(PLURAL).enumerate() {
            if w == *full || w == plural || fuzzy_eq(w, full) || fuzzy_eq(w, plural) {
                // "Monday.com", "our monday board": the tool, not the day.
                if super::catalog::tool_named_at(toks, i) {
                    return None;
                }
                return Some((Days::day(u8::try_from(k).ok()?), 1, false));
            }
        }
    }
    let abbrev = match w {
        "mon" | "mo" => 0,
        "tue" | "tues" | "tu" => 1,
        "wed" | "weds" => 2,
        "thu" | "thur" | "thurs" | "th" => 3,
        "fri" | "fr" => 4,
        "sat" | "sa" => 5,
        "sun" | "su" => 6,
        _ => return None,
    };
    if w.len() == 2 {
        return None; // two-letter forms only inside ranges, handled by the caller
    }
    let len = if toks.is(i + 1, ".") && toks.get(i + 1).is_some_and(|t| t.glued) { 2 } else { 1 };
    Some((Days::day(abbrev), len, true))
}

/// A day name ("monday", "mondays", "mon") at `i`.
pub(crate) fn is_day_name(toks: &Toks, i: usize) -> bool {
    day_at(toks, i).is_some()
}

/// The day (0 = Monday) a day name at `i` names.
pub(crate) fn day_index_at(toks: &Toks, i: usize) -> Option<u8> {
    day_at(toks, i).and_then(|(d, _, _)| d.indices().next())
}

/// Group words at `i`: (days, tokens spanned).
fn group_at(toks: &Toks, i: usize) -> Option<(Days, usize)> {
    let w = toks.word(i);
    let one = |d| Some((d, 1));
    match w {
        "weekday" | "weekdays" | "workday" | "workdays" | "weeknight" | "weeknights" => {
            return one(Days::WEEKDAYS);
        }
        "weekend" | "weekends" => return one(Days::WEEKEND),
        "daily" | "everyday" | "nightly" => return one(Days::EVERY_DAY),
        _ => {}
    }
    if fuzzy_eq(w, "weekdays") || fuzzy_eq(w, "weekday") {
        return one(Days::WEEKDAYS);
    }
    for seq in [
        &["week", "days"][..],
        &["week", "day"],
        &["work", "days"],
        &["working", "days"],
        &["working", "day"],
        &["business", "days"],
        &["business", "day"],
        &["work", "day"],
        &["week", "-", "days"],
        &["week", "-", "day"],
    ] {
        if toks.seq(i, seq) {
            return Some((Days::WEEKDAYS, seq.len()));
        }
    }
    if matches!(w, "every" | "each" | "evry" | "evrey" | "eveyr" | "evey") {
        let mut j = i + 1;
        if toks.is(j, "single") {
            j += 1;
        }
        let n = toks.word(j);
        if n == "day" || fuzzy_eq(n, "morning") || fuzzy_eq(n, "evening") || n == "night" || n == "afternoon"
        {
            return Some((Days::EVERY_DAY, j + 1 - i));
        }
    }
    if toks.seq(i, &["7", "days", "a", "week"]) || toks.seq(i, &["seven", "days", "a", "week"]) {
        return Some((Days::EVERY_DAY, 4));
    }
    // "twice a day", "three times a day", "2x daily": every day, times said elsewhere (or not).
    let count = usize::from(matches!(w, "twice" | "thrice"))
        .max(super::token::number_at(toks, i).map_or(0, |(_, len)| len));
    if count > 0 {
        let mut j = i + count;
        if toks.is_any(j, &["times", "x"]) {
            j += 1;
        }
        if j > i + count || matches!(w, "twice" | "thrice") {
            if toks.is_any(j, &["a", "per"]) && toks.is(j + 1, "day") {
                return Some((Days::EVERY_DAY, j + 2 - i));
            }
            if toks.is(j, "daily") {
                return Some((Days::EVERY_DAY, j + 1 - i));
            }
        }
    }
    None
}

const RANGE: &[&str] = &["-", "to", "through", "thru", "till", "until", "til"];
/// Words that start the days left out, sorted (no two share a first word, so which one is
/// found first cannot matter): looked up by their first byte.
static EXCEPT: Phrases = Phrases::new(&[
    &["apart", "from"],
    &["besides"],
    &["but", "not"],
    &["except"],
    &["excluding"],
    &["minus"],
    &["not"],
    &["other", "than"],
    &["skip"],
    &["skipping"],
]);
/// Words before a single day name that make it a date, not a schedule ("last Monday").
const NOT_SCHEDULE: &[&str] =
    &["last", "this", "next", "since", "before", "after", "by", "until", "till", "past"];

/// Reads the days in `toks`.
pub(crate) fn find_days(toks: &Toks) -> DaysFound {
    let mut plus = Days::NONE;
    // "daily", "every day", "each morning": every day unless specific days are named too
    // ("every weekday at 9 ... the daily deploy" is weekdays).
    let mut every = false;
    let mut minus = Days::NONE;
    let mut any = false;
    let mut pos = None;
    let mut weekly = false;
    let mut i = 0;
    // Index until which found days are exceptions.
    let mut except_until = 0;
    while i < toks.len() {
        // ("every weekday, not just Monday": the day is kept, and more.)
        if let Some(len) = toks
            .phrase_at(i, &EXCEPT)
            .map(<[&str]>::len)
            .filter(|_| !toks.seq(i, &["not", "just"]) && !toks.seq(i, &["not", "only"]))
        {
            except_until = toks.clause_end(i + len).min(i + len + 6);
            i += len;
            continue;
        }
        if toks.is_any(i, &["weekly"])
            || toks.seq(i, &["every", "week"])
            || toks.seq(i, &["each", "week"])
            || toks.seq(i, &["once", "a", "week"])
            || toks.seq(i, &["a", "week"]) && !toks.seq_before(i, &["days"])
        {
            weekly = true;
        }
        let (found, len) = if let Some((d, len)) = group_at(toks, i) {
            (d, len)
        } else if let Some((d, len, abbrev)) = day_at(toks, i) {
            // A range "mon-fri", "monday to friday", "Mon thru Fri".
            if toks.is_any(i + len, RANGE) {
                if let Some((e, elen, _)) = day_at(toks, i + len + 1) {
                    let (a, b) = (d.indices().next().unwrap_or(0), e.indices().next().unwrap_or(0));
                    let mut r = Days::NONE;
                    let mut k = a;
                    loop {
                        r = r.union(Days::day(k));
                        if k == b {
                            break;
                        }
                        k = (k + 1) % 7;
                    }
                    (r, len + 1 + elen)
                } else if schedule_day(toks, i, abbrev) {
                    (d, len)
                } else {
                    i += 1;
                    continue;
                }
            } else if schedule_day(toks, i, abbrev) {
                (d, len)
            } else {
                i += 1;
                continue;
            }
        } else {
            i += 1;
            continue;
        };
        if i < except_until {
            minus = minus.union(found);
        } else {
            if found == Days::EVERY_DAY {
                every = true;
            } else {
                plus = plus.union(found);
            }
            any = true;
            pos.get_or_insert(i);
        }
        i += len;
    }
    let days = any.then(|| {
        let base = if plus.is_empty() && every { Days::EVERY_DAY } else { plus };
        let d = base.minus(minus);
        if d.is_empty() { base } else { d }
    });
    DaysFound { days, weekly, pos }
}

/// A single day name at `i` is part of a schedule, not a date.
fn schedule_day(toks: &Toks, i: usize, abbrev: bool) -> bool {
    let prev = i.checked_sub(1).map_or("", |p| toks.text(p));
    if NOT_SCHEDULE.contains(&prev) {
        return false;
    }
    if !abbrev {
        return true;
    }
    const JOIN: &[&str] =
        &["every", "each", "on", "and", "or", ",", "&", "/", "-", "+", "except", "not", "from"];
    let near_day = |k: Option<usize>| k.is_some_and(|k| day_at(toks, k).is_some());
    JOIN.contains(&prev)
        || i == 0
        || near_day(i.checked_sub(1))
        || near_day(Some(i + 1))
        || toks.is_any(i + 1, &[",", "/", "&", "and", "at", "@", "-", "or"])
        || toks.kind(i + 1) == Some(super::token::Kind::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exception markers are found by first byte, in sorted order: that equals any other
    /// order only while no two share a first word.
    #[test]
    fn exception_markers_sorted_with_distinct_first_words() {
        let all = EXCEPT.all();
        assert!(all.is_sorted_by(|a, b| a < b), "{all:?}");
        assert!(all.windows(2).all(|w| w[0][0] != w[1][0]), "{all:?}");
    }

    fn d(s: &str) -> Option<Days> {
        find_days(&Toks::new(s)).days
    }

    #[test]
    fn sets_and_display() {
        assert_eq!(Days::from_list(&[Days::MON, Days::THU]), Days(0b1001));
        assert!(Days::WEEKDAYS.contains(Days::WED));
        assert!(!Days::WEEKDAYS.contains(Days::SAT));
        assert_eq!(Days::WEEKDAYS.to_string(), "Mon-Fri");
        assert_eq!(Days::WEEKEND.to_string(), "Sat, Sun");
        assert_eq!(Days::from_list(&[Days::MON, Days::THU]).to_string(), "Mon, Thu");
        assert_eq!(Days::NONE.to_string(), "no days");
        assert_eq!(Days::WEEKDAYS.cron_field(), "1-5");
        assert_eq!(Days::WEEKEND.cron_field(), "0,6");
        assert_eq!(Days::EVERY_DAY.cron_field(), "*");
        assert_eq!(Days::from_list(&[Days::MON, Days::WED, Days::FRI]).cron_field(), "1,3,5");
        assert_eq!(Days::from_list(&[Days::SUN, Days::MON, Days::TUE]).cron_field(), "0-2");
        assert_eq!(Days::day(9), Days::NONE);
        assert_eq!(serde_json::to_string(&Days::WEEKDAYS).expect("serialises"), "31");
    }

    #[test]
    fn reads_days() {
        assert_eq!(d("every weekday at 9"), Some(Days::WEEKDAYS));
        assert_eq!(d("Mon-Fri 7:45am"), Some(Days::WEEKDAYS));
        assert_eq!(d("monday to friday"), Some(Days::WEEKDAYS));
        assert_eq!(d("every Monday and Thursday"), Some(Days::from_list(&[Days::MON, Days::THU])));
        assert_eq!(d("on Mondays"), Some(Days::MON));
        assert_eq!(d("every mon wed fri at 9"), Some(Days::from_list(&[Days::MON, Days::WED, Days::FRI])));
        assert_eq!(d("sat and sun at 11am"), Some(Days::WEEKEND));
        assert_eq!(d("daily"), Some(Days::EVERY_DAY));
        assert_eq!(d("each morning"), Some(Days::EVERY_DAY));
        assert_eq!(d("on weekends"), Some(Days::WEEKEND));
        assert_eq!(d("fri-mon"), Some(Days::from_list(&[Days::FRI, Days::SAT, Days::SUN, Days::MON])));
        assert_eq!(d("every weekday except wednesdays"), Some(Days::WEEKDAYS.minus(Days::WED)));
        assert_eq!(d("every day except weekends"), Some(Days::WEEKDAYS));
        assert_eq!(d("no wait, Fridays at 4 not Thursdays"), Some(Days::FRI));
        assert_eq!(d("every Fridy"), Some(Days::FRI));
        assert_eq!(d("every wensday"), Some(Days::WED));
        assert_eq!(d("every weekday at 9 create a ticket for the daily deploy"), Some(Days::WEEKDAYS));
        assert_eq!(d("what happened last Monday"), None);
        assert_eq!(d("I sat in the sun"), None);
        // The tool Monday.com is not the day.
        assert_eq!(d("every Friday, post our Monday.com board to Slack"), Some(Days::FRI));
        assert_eq!(d("every Monday, summarise the monday board"), Some(Days::MON));
        assert!(find_days(&Toks::new("a weekly report")).weekly);
    }
}
