//! Time zones, as IANA names.
//!
//! - IANA names are taken as written ("Asia/Tokyo", "america/new_york" -> "America/New_York").
//! - Abbreviations anywhere: GMT/BST -> Europe/London, EST/EDT -> America/New_York,
//!   CST/CDT -> America/Chicago, MST/MDT -> America/Denver, PST/PDT -> America/Los_Angeles,
//!   CET/CEST -> Europe/Berlin, IST -> Asia/Kolkata, JST -> Asia/Tokyo, AEST/AEDT ->
//!   Australia/Sydney, UTC -> UTC ... Two-letter ET/CT/MT/PT only in capitals.
//! - Places and regions ("London", "UK", "Eastern", "New York", "Berlin", "Sydney") only where
//!   they name a zone: followed by "time"/"timezone"/"tz", right after a time ("9am Eastern",
//!   "at 4pm in London"), or in a message that talks about the time zone.
//!   "What's the weather in London?" has no time zone.
//!
//! UTC offsets ("UTC+2") are not read (only "UTC" itself).

use super::time::TimeMention;
use super::token::{Kind, Toks, starting_with};

/// Abbreviations, recognised anywhere. Sorted: looked up by binary search.
const ABBREVS: &[(&str, &str)] = &[
    ("aedt", "Australia/Sydney"),
    ("aest", "Australia/Sydney"),
    ("akst", "America/Anchorage"),
    ("awst", "Australia/Perth"),
    ("bst", "Europe/London"),
    ("cdt", "America/Chicago"),
    ("cest", "Europe/Berlin"),
    ("cet", "Europe/Berlin"),
    ("cst", "America/Chicago"),
    ("edt", "America/New_York"),
    ("eest", "Europe/Athens"),
    ("eet", "Europe/Athens"),
    ("est", "America/New_York"),
    ("gmt", "Europe/London"),
    ("hkt", "Asia/Hong_Kong"),
    ("hst", "Pacific/Honolulu"),
    ("ist", "Asia/Kolkata"),
    ("jst", "Asia/Tokyo"),
    ("kst", "Asia/Seoul"),
    ("mdt", "America/Denver"),
    ("msk", "Europe/Moscow"),
    ("mst", "America/Denver"),
    ("nzdt", "Pacific/Auckland"),
    ("nzst", "Pacific/Auckland"),
    ("pdt", "America/Los_Angeles"),
    ("pst", "America/Los_Angeles"),
    ("sast", "Africa/Johannesburg"),
    ("sgt", "Asia/Singapore"),
    ("utc", "UTC"),
    ("zulu", "UTC"),
];

/// Two-letter US abbreviations, only when written in capitals. Sorted, like [`ABBREVS`].
const US_SHORT: &[(&str, &str)] = &[
    ("CT", "America/Chicago"),
    ("ET", "America/New_York"),
    ("MT", "America/Denver"),
    ("PT", "America/Los_Angeles"),
];

/// Places and regions (token sequences), recognised only in a time-zone context. Sorted by
/// words, so the places starting with one word are found by binary search.
const PLACES: &[(&[&str], &str)] = &[
    (&["alaska"], "America/Anchorage"),
    (&["amsterdam"], "Europe/Amsterdam"),
    (&["arizona"], "America/Phoenix"),
    (&["athens"], "Europe/Athens"),
    (&["atlanta"], "America/New_York"),
    (&["auckland"], "Pacific/Auckland"),
    (&["austin"], "America/Chicago"),
    (&["bangalore"], "Asia/Kolkata"),
    (&["bangkok"], "Asia/Bangkok"),
    (&["barcelona"], "Europe/Madrid"),
    (&["beijing"], "Asia/Shanghai"),
    (&["bengaluru"], "Asia/Kolkata"),
    (&["berlin"], "Europe/Berlin"),
    (&["boston"], "America/New_York"),
    (&["brazil"], "America/Sao_Paulo"),
    (&["brisbane"], "Australia/Brisbane"),
    (&["britain"], "Europe/London"),
    (&["british"], "Europe/London"),
    (&["brussels"], "Europe/Brussels"),
    (&["buenos", "aires"], "America/Argentina/Buenos_Aires"),
    (&["cairo"], "Africa/Cairo"),
    (&["california"], "America/Los_Angeles"),
    (&["cape", "town"], "Africa/Johannesburg"),
    (&["central"], "America/Chicago"),
    (&["central", "european"], "Europe/Berlin"),
    (&["chicago"], "America/Chicago"),
    (&["china"], "Asia/Shanghai"),
    (&["copenhagen"], "Europe/Copenhagen"),
    (&["dallas"], "America/Chicago"),
    (&["delhi"], "Asia/Kolkata"),
    (&["denver"], "America/Denver"),
    (&["dubai"], "Asia/Dubai"),
    (&["dublin"], "Europe/Dublin"),
    (&["east", "coast"], "America/New_York"),
    (&["eastern"], "America/New_York"),
    (&["edinburgh"], "Europe/London"),
    (&["england"], "Europe/London"),
    (&["france"], "Europe/Paris"),
    (&["frankfurt"], "Europe/Berlin"),
    (&["french"], "Europe/Paris"),
    (&["german"], "Europe/Berlin"),
    (&["germany"], "Europe/Berlin"),
    (&["hawaii"], "Pacific/Honolulu"),
    (&["helsinki"], "Europe/Helsinki"),
    (&["hong", "kong"], "Asia/Hong_Kong"),
    (&["honolulu"], "Pacific/Honolulu"),
    (&["houston"], "America/Chicago"),
    (&["india"], "Asia/Kolkata"),
    (&["indian"], "Asia/Kolkata"),
    (&["ireland"], "Europe/Dublin"),
    (&["irish"], "Europe/Dublin"),
    (&["israel"], "Asia/Jerusalem"),
    (&["istanbul"], "Europe/Istanbul"),
    (&["jakarta"], "Asia/Jakarta"),
    (&["japan"], "Asia/Tokyo"),
    (&["japanese"], "Asia/Tokyo"),
    (&["johannesburg"], "Africa/Johannesburg"),
    (&["kiev"], "Europe/Kyiv"),
    (&["korea"], "Asia/Seoul"),
    (&["kyiv"], "Europe/Kyiv"),
    (&["la"], "America/Los_Angeles"),
    (&["lagos"], "Africa/Lagos"),
    (&["lisbon"], "Europe/Lisbon"),
    (&["london"], "Europe/London"),
    (&["los", "angeles"], "America/Los_Angeles"),
    (&["madrid"], "Europe/Madrid"),
    (&["manchester"], "Europe/London"),
    (&["manila"], "Asia/Manila"),
    (&["melbourne"], "Australia/Melbourne"),
    (&["mexico", "city"], "America/Mexico_City"),
    (&["miami"], "America/New_York"),
    (&["milan"], "Europe/Rome"),
    (&["moscow"], "Europe/Moscow"),
    (&["mountain"], "America/Denver"),
    (&["mumbai"], "Asia/Kolkata"),
    (&["munich"], "Europe/Berlin"),
    (&["nairobi"], "Africa/Nairobi"),
    (&["new", "york"], "America/New_York"),
    (&["new", "zealand"], "Pacific/Auckland"),
    (&["ny"], "America/New_York"),
    (&["nyc"], "America/New_York"),
    (&["nz"], "Pacific/Auckland"),
    (&["oslo"], "Europe/Oslo"),
    (&["pacific"], "America/Los_Angeles"),
    (&["paris"], "Europe/Paris"),
    (&["perth"], "Australia/Perth"),
    (&["phoenix"], "America/Phoenix"),
    (&["prague"], "Europe/Prague"),
    (&["rome"], "Europe/Rome"),
    (&["san", "francisco"], "America/Los_Angeles"),
    (&["sao", "paulo"], "America/Sao_Paulo"),
    (&["seattle"], "America/Los_Angeles"),
    (&["seoul"], "Asia/Seoul"),
    (&["sf"], "America/Los_Angeles"),
    (&["shanghai"], "Asia/Shanghai"),
    (&["singapore"], "Asia/Singapore"),
    (&["stockholm"], "Europe/Stockholm"),
    (&["sydney"], "Australia/Sydney"),
    (&["são", "paulo"], "America/Sao_Paulo"),
    (&["tel", "aviv"], "Asia/Jerusalem"),
    (&["tokyo"], "Asia/Tokyo"),
    (&["toronto"], "America/Toronto"),
    (&["uk"], "Europe/London"),
    (&["vancouver"], "America/Vancouver"),
    (&["vienna"], "Europe/Vienna"),
    (&["warsaw"], "Europe/Warsaw"),
    (&["west", "coast"], "America/Los_Angeles"),
    (&["zurich"], "Europe/Zurich"),
];

const ZONE_WORDS: &[&str] = &["time", "timezone", "tz", "zone", "hours", "standard", "daylight"];

/// The time zone the text names, if any.
pub(crate) fn find_timezone(toks: &Toks, times: &[TimeMention]) -> Option<String> {
    let talks_zone = toks.has_any(&["timezone", "timezones", "tz"]) || toks.has_seq(&["time", "zone"]);
    for i in 0..toks.len() {
        let Some(t) = toks.get(i) else { break };
        match t.kind {
            Kind::Zone => return Some(canonical_zone(&t.orig)),
            Kind::Word => {}
            _ => continue,
        }
        if let Some(z) = lookup(ABBREVS, &t.text).or_else(|| lookup(US_SHORT, &t.orig)) {
            return Some(z.to_string());
        }
        let places = starting_with(PLACES, &t.text, |(p, _)| p).iter().filter(|(p, _)| toks.seq(i, p));
        let Some((len, z)) = places.map(|(p, z)| (p.len(), *z)).max() else {
            continue;
        };
        let followed = toks.is_any(i + len, ZONE_WORDS);
        // Right after a time: "9am London", "at 4pm in London", "9:00 (Sydney time)".
        let after_time = times.iter().any(|m| {
            m.end <= i && (m.end..i).all(|k| toks.is_any(k, &["in", "(", ",", "-"])) && i - m.end <= 2
        });
        if followed || after_time || talks_zone {
            return Some(z.to_string());
        }
    }
    None
}

/// The zone `key` maps to in a sorted table.
fn lookup(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.binary_search_by(|(a, _)| (*a).cmp(key)).ok().map(|k| table[k].1)
}

/// Capitalises an IANA name written in lower case; anything with capitals is kept.
fn canonical_zone(s: &str) -> String {
    if s.chars().any(|c| c.is_ascii_uppercase()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut up = true;
    for c in s.chars() {
        if up {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        up = matches!(c, '/' | '_' | '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::time::find_times;

    fn tz(s: &str) -> Option<String> {
        let t = Toks::new(s);
        find_timezone(&t, &find_times(&t))
    }

    /// The lookups need every table sorted without duplicates.
    #[test]
    fn tables_sorted() {
        for table in [ABBREVS, US_SHORT] {
            assert!(table.is_sorted_by(|a, b| a.0 < b.0), "{table:?}");
        }
        assert!(PLACES.is_sorted_by(|a, b| a.0 < b.0), "{PLACES:?}");
    }

    #[test]
    fn zones() {
        assert_eq!(tz("at 9 London time").as_deref(), Some("Europe/London"));
        assert_eq!(tz("UK time please").as_deref(), Some("Europe/London"));
        assert_eq!(tz("9am GMT").as_deref(), Some("Europe/London"));
        assert_eq!(tz("at 9 BST").as_deref(), Some("Europe/London"));
        assert_eq!(tz("7:45am EST").as_deref(), Some("America/New_York"));
        assert_eq!(tz("8:30 Eastern").as_deref(), Some("America/New_York"));
        assert_eq!(tz("9am New York time").as_deref(), Some("America/New_York"));
        assert_eq!(tz("use PST").as_deref(), Some("America/Los_Angeles"));
        assert_eq!(tz("9 Pacific time").as_deref(), Some("America/Los_Angeles"));
        assert_eq!(tz("9am CET").as_deref(), Some("Europe/Berlin"));
        assert_eq!(tz("at 4pm in Paris").as_deref(), Some("Europe/Paris"));
        assert_eq!(tz("2pm ET").as_deref(), Some("America/New_York"));
        assert_eq!(tz("daily at 8 UTC").as_deref(), Some("UTC"));
        assert_eq!(tz("the timezone should be Asia/Tokyo").as_deref(), Some("Asia/Tokyo"));
        assert_eq!(tz("tz america/new_york").as_deref(), Some("America/New_York"));
        assert_eq!(tz("change the timezone to Berlin").as_deref(), Some("Europe/Berlin"));
        assert_eq!(tz("what's the weather like in London?"), None);
        assert_eq!(tz("et al"), None);
    }
}
