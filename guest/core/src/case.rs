//! Upper and lower case without std's Unicode case tables.
//!
//! `str::to_lowercase` and `char::to_uppercase` link std's conversion tables, 25 KB of the
//! browser's engine (11 KB of its gzip download, docs/benchmarks.md). Case mappings come in
//! runs (A-Z +32, Ā ā Ă ă … every other code point +1, Cyrillic +80, …), so the same
//! mappings fit in [`LOWER`] and [`UPPER`]: 383 runs, derived from std by the test
//! `the_tables_are_std_s`, which checks every code point against std (and prints the tables
//! to paste when a Rust upgrade brings a new Unicode version). Every single-character mapping
//! and every expansion (`İ` → `i̇`, `ß` → `SS`) is std's exactly.
//!
//! One rule is approximated: std lowercases `Σ` at the end of a word to `ς`, where "end of a
//! word" uses Unicode's Cased and Case_Ignorable properties (more tables). Here a letter is
//! cased when it has a case mapping or is lowercase or uppercase, and the characters skipped
//! are the apostrophes, the period, the colon and the combining marks (U+0300-U+036F): the
//! same result for Greek words as people type them (`final_sigma_as_std` checks a set).

/// A run of code points `first, first + stride, …` (`len` of them) that map to `c + delta`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Run {
    first: u32,
    len: u16,
    stride: u8,
    delta: i32,
}

const fn run(first: u32, len: u16, stride: u8, delta: i32) -> Run {
    Run { first, len, stride, delta }
}

/// `c` through `table`, or `None` when it has no mapping there.
fn mapped(table: &[Run], c: char) -> Option<char> {
    let c = c as u32;
    // The last run starting at or before `c`.
    let at = table.partition_point(|r| r.first <= c).checked_sub(1)?;
    let r = table[at];
    let offset = c - r.first;
    let stride = u32::from(r.stride);
    if !offset.is_multiple_of(stride) || offset / stride >= u32::from(r.len) {
        return None;
    }
    char::from_u32(c.checked_add_signed(r.delta)?)
}

/// `c` in lower case when that is one character (every one but `İ`).
fn lower_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    mapped(LOWER, c).unwrap_or(c)
}

/// Whether `c` counts as cased for the final-sigma rule (module docs).
fn cased(c: char) -> bool {
    c.is_lowercase() || c.is_uppercase() || lower_char(c) != c || mapped(UPPER, c).is_some()
}

/// Skipped when looking for the letters around a `Σ` (module docs).
fn case_ignorable(c: char) -> bool {
    matches!(c, '\'' | '.' | ':' | '\u{2019}' | '\u{00B7}' | '\u{0300}'..='\u{036F}')
}

/// `s` in lower case, as `str::to_lowercase` gives it.
pub fn lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        match c {
            'İ' => out.push_str("i\u{307}"),
            'Σ' => {
                let before = s[..i].chars().rev().find(|&c| !case_ignorable(c)).is_some_and(cased);
                let after = s[i + c.len_utf8()..].chars().find(|&c| !case_ignorable(c)).is_some_and(cased);
                out.push(if before && !after { 'ς' } else { 'σ' });
            }
            c => out.push(lower_char(c)),
        }
    }
    out
}

/// Appends `c` in upper case to `out`, as `char::to_uppercase` gives it.
pub fn push_upper(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_uppercase());
    } else if let Ok(at) = UPPER_EXPANDED.binary_search_by_key(&c, |&(from, _)| from) {
        out.push_str(UPPER_EXPANDED[at].1);
    } else {
        out.push(mapped(UPPER, c).unwrap_or(c));
    }
}

include!("case_tables.rs");

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    fn every_char() -> impl Iterator<Item = char> {
        (0..=0x10_FFFF).filter_map(char::from_u32)
    }

    /// The runs of `map` (the single-character mappings that change a character).
    fn runs(map: impl Fn(char) -> Option<char>) -> Vec<Run> {
        let mut out: Vec<Run> = Vec::new();
        for c in every_char() {
            let Some(m) = map(c).filter(|&m| m != c) else { continue };
            let (c, delta) = (c as u32, m as i32 - c as i32);
            if let Some(last) = out.last_mut()
                && last.delta == delta
            {
                let end = last.first + (u32::from(last.len) - 1) * u32::from(last.stride);
                if last.len == 1 && (c - last.first == 1 || c - last.first == 2) {
                    last.stride = u8::try_from(c - last.first).expect("1 or 2");
                    last.len = 2;
                    continue;
                }
                if last.len > 1 && c == end + u32::from(last.stride) {
                    last.len += 1;
                    continue;
                }
            }
            out.push(run(c, 1, 1, delta));
        }
        out
    }

    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let c = it.next()?;
        it.next().is_none().then_some(c)
    }

    fn source(name: &str, runs: &[Run]) -> String {
        let mut s = format!("const {name}: &[Run] = &[\n");
        for r in runs {
            writeln!(s, "    run({:#x}, {}, {}, {}),", r.first, r.len, r.stride, r.delta).expect("a String");
        }
        s + "];\n"
    }

    /// The tables are std's mappings: regenerate `case_tables.rs` from this test's output when
    /// it fails after a Rust upgrade.
    #[test]
    fn the_tables_are_std_s() {
        let lower = runs(|c| single(c.to_lowercase()));
        let upper = runs(|c| single(c.to_uppercase()));
        let expanded: Vec<(char, String)> = every_char()
            .filter(|c| c.to_uppercase().count() > 1)
            .map(|c| (c, c.to_uppercase().collect()))
            .collect();
        let mut want = source("LOWER", &lower) + &source("UPPER", &upper);
        want += "const UPPER_EXPANDED: &[(char, &str)] = &[\n";
        for (c, up) in &expanded {
            writeln!(want, "    ('\\u{{{:x}}}', {up:?}),", *c as u32).expect("a String");
        }
        want += "];\n";
        let have = source("LOWER", LOWER)
            + &source("UPPER", UPPER)
            + "const UPPER_EXPANDED: &[(char, &str)] = &[\n"
            + &UPPER_EXPANDED.iter().fold(String::new(), |mut s, (c, up)| {
                writeln!(s, "    ('\\u{{{:x}}}', {up:?}),", *c as u32).expect("a String");
                s
            })
            + "];\n";
        assert!(have == want, "case_tables.rs is not std's; replace its tables with:\n{want}");
    }

    #[test]
    fn every_character_maps_as_std() {
        for c in every_char() {
            let mut up = String::new();
            push_upper(&mut up, c);
            assert_eq!(up, c.to_uppercase().collect::<String>(), "{c:?} upper");
            let s = c.to_string();
            assert_eq!(lower(&s), s.to_lowercase(), "{c:?} lower");
        }
    }

    #[test]
    fn final_sigma_as_std() {
        for s in [
            "ΟΔΟΣ",
            "ΟΔΟΣ ΚΑΙ ΣΠΙΤΙ",
            "Σ",
            "ΑΣ.",
            "ΑΣ'Α",
            "ΑΣ\u{301}",
            "(ΟΔΟΣ)",
            "ΟΔΟΣ, ΑΘΗΝΑ",
            "Καλησπέρα ΣΑΣ",
            "ΣΑΣ!",
            "1Σ",
            "abcΣ def",
            "Σ Σ Σ",
        ] {
            assert_eq!(lower(s), s.to_lowercase(), "{s}");
        }
    }
}
