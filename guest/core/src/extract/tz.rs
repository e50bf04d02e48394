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
use super::token::{Kind, Toks};

/// Abbreviations, recognised anywhere.
const ABBREVS: &[(&str, &str)] = &[
    ("utc", "UTC"),
    ("gmt", "Europe/London"),
    ("bst", "Europe/London"),
    ("est", "America/New_York"),
    ("edt", "America/New_York"),
    ("cst", "America/Chicago"),
    ("cdt", "America/Chicago"),
    ("mst", "America/Denver"),
    ("mdt", "America/Denver"),
    ("pst", "America/Los_Angeles"),
    ("pdt", "America/Los_Angeles"),
    ("akst", "America/Anchorage"),
    ("hst", "Pacific/Honolulu"),
    ("cet", "Europe/Berlin"),
    ("cest", "Europe/Berlin"),
    ("eet", "Europe/Athens"),
    ("eest", "Europe/Athens"),
    ("msk", "Europe/Moscow"),
    ("ist", "Asia/Kolkata"),
    ("jst", "Asia/Tokyo"),
    ("kst", "Asia/Seoul"),
    ("hkt", "Asia/Hong_Kong"),
    ("sgt", "Asia/Singapore"),
    ("aest", "Australia/Sydney"),
    ("aedt", "Australia/Sydney"),
    ("awst", "Australia/Perth"),
    ("nzst", "Pacific/Auckland"),
    ("nzdt", "Pacific/Auckland"),
    ("sast", "Africa/Johannesburg"),
    ("zulu", "UTC"),
];

/// Two-letter US abbreviations, only when written in capitals.
const US_SHORT: &[(&str, &str)] = &[
    ("ET", "America/New_York"),
    ("CT", "America/Chicago"),
    ("MT", "America/Denver"),
    ("PT", "America/Los_Angeles"),
];

/// Places and regions (token sequences), recognised only in a time-zone context.
const PLACES: &[(&[&str], &str)] = &[
    (&["london"], "Europe/London"),
    (&["uk"], "Europe/London"),
    (&["british"], "Europe/London"),
    (&["britain"], "Europe/London"),
    (&["england"], "Europe/London"),
    (&["edinburgh"], "Europe/London"),
    (&["manchester"], "Europe/London"),
    (&["dublin"], "Europe/Dublin"),
    (&["ireland"], "Europe/Dublin"),
    (&["irish"], "Europe/Dublin"),
    (&["lisbon"], "Europe/Lisbon"),
    (&["paris"], "Europe/Paris"),
    (&["france"], "Europe/Paris"),
    (&["french"], "Europe/Paris"),
    (&["berlin"], "Europe/Berlin"),
    (&["germany"], "Europe/Berlin"),
    (&["german"], "Europe/Berlin"),
    (&["munich"], "Europe/Berlin"),
    (&["frankfurt"], "Europe/Berlin"),
    (&["central", "european"], "Europe/Berlin"),
    (&["amsterdam"], "Europe/Amsterdam"),
    (&["madrid"], "Europe/Madrid"),
    (&["barcelona"], "Europe/Madrid"),
    (&["rome"], "Europe/Rome"),
    (&["milan"], "Europe/Rome"),
    (&["zurich"], "Europe/Zurich"),
    (&["vienna"], "Europe/Vienna"),
    (&["brussels"], "Europe/Brussels"),
    (&["stockholm"], "Europe/Stockholm"),
    (&["oslo"], "Europe/Oslo"),
    (&["copenhagen"], "Europe/Copenhagen"),
    (&["helsinki"], "Europe/Helsinki"),
    (&["warsaw"], "Europe/Warsaw"),
    (&["prague"], "Europe/Prague"),
    (&["athens"], "Europe/Athens"),
    (&["istanbul"], "Europe/Istanbul"),
    (&["moscow"], "Europe/Moscow"),
    (&["kyiv"], "Europe/Kyiv"),
    (&["kiev"], "Europe/Kyiv"),
    (&["new", "york"], "America/New_York"),
    (&["nyc"], "America/New_York"),
    (&["ny"], "America/New_York"),
    (&["boston"], "America/New_York"),
    (&["miami"], "America/New_York"),
    (&["atlanta"], "America/New_York"),
    (&["eastern"], "America/New_York"),
    (&["east", "coast"], "America/New_York"),
    (&["toronto"], "America/Toronto"),
    (&["chicago"], "America/Chicago"),
    (&["dallas"], "America/Chicago"),
    (&["houston"], "America/Chicago"),
    (&["austin"], "America/Chicago"),
    (&["central"], "America/Chicago"),
    (&["denver"], "America/Denver"),
    (&["mountain"], "America/Denver"),
    (&["phoenix"], "America/Phoenix"),
    (&["arizona"], "America/Phoenix"),
    (&["los", "angeles"], "America/Los_Angeles"),
    (&["la"], "America/Los_Angeles"),
    (&["san", "francisco"], "America/Los_Angeles"),
    (&["sf"], "America/Los_Angeles"),
    (&["seattle"], "America/Los_Angeles"),
    (&["california"], "America/Los_Angeles"),
    (&["pacific"], "America/Los_Angeles"),
    (&["west", "coast"], "America/Los_Angeles"),
    (&["vancouver"], "America/Vancouver"),
    (&["hawaii"], "Pacific/Honolulu"),
    (&["honolulu"], "Pacific/Honolulu"),
    (&["alaska"], "America/Anchorage"),
    (&["mexico", "city"], "America/Mexico_City"),
    (&["sao", "paulo"], "America/Sao_Paulo"),
    (&["são", "paulo"], "America/Sao_Paulo"),
    (&["brazil"], "America/Sao_Paulo"),
    (&["buenos", "aires"], "America/Argentina/Buenos_Aires"),
    (&["tokyo"], "Asia/Tokyo"),
    (&["japan"], "Asia/Tokyo"),
    (&["japanese"], "Asia/Tokyo"),
    (&["seoul"], "Asia/Seoul"),
    (&["korea"], "Asia/Seoul"),
    (&["beijing"], "Asia/Shanghai"),
    (&["shanghai"], "Asia/Shanghai"),
    (&["china"], "Asia/Shanghai"),
    (&["hong", "kong"], "Asia/Hong_Kong"),
    (&["singapore"], "Asia/Singapore"),
    (&["india"], "Asia/Kolkata"),
    (&["indian"], "Asia/Kolkata"),
    (&["mumbai"], "Asia/Kolkata"),
    (&["delhi"], "Asia/Kolkata"),
    (&["bangalore"], "Asia/Kolkata"),
    (&["bengaluru"], "Asia/Kolkata"),
    (&["dubai"], "Asia/Dubai"),
    (&["tel", "aviv"], "Asia/Jerusalem"),
    (&["israel"], "Asia/Jerusalem"),
    (&["jakarta"], "Asia/Jakarta"),
    (&["manila"], "Asia/Manila"),
    (&["bangkok"], "Asia/Bangkok"),
    (&["sydney"], "Australia/Sydney"),
    (&["melbourne"], "Australia/Melbourne"),
    (&["brisbane"], "Australia/Brisbane"),
    (&["perth"], "Australia/Perth"),
    (&["auckland"], "Pacific/Auckland"),
    (&["nz"], "Pacific/Auckland"),
    (&["new", "zealand"], "Pacific/Auckland"),
    (&["johannesburg"], "Africa/Johannesburg"),
    (&["cape", "town"], "Africa/Johannesburg"),
    (&["lagos"], "Africa/Lagos"),
    (&["nairobi"], "Africa/Nairobi"),
    (&["cairo"], "Africa/Cairo"),
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
        if let Some((_, z)) = ABBREVS.iter().find(|(a, _)| *a == t.text) {
            return Some((*z).to_string());
        }
        if let Some((_, z)) = US_SHORT.iter().find(|(a, _)| *a == t.orig) {
            return Some((*z).to_string());
        }
        // The first word rejects almost every place cheaply (every place has one).
        let places = PLACES.iter().filter(|(p, _)| p.first().is_some_and(|w| *w == t.text) && toks.seq(i, p));
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
