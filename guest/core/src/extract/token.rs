//! Tokenising and the small matching helpers every rule uses.
//!
//! Text is split on whitespace into chunks; a chunk that is an e-mail address, a URL or an
//! IANA time zone name becomes one token, anything else is split further into words,
//! numbers (`9`, `9:30`, `9.30`, `0900`), `#channels` and single punctuation characters.
//! Digits followed by letters are split (`9am` -> `9` `am`, `1st` -> `1` `st`); letters
//! followed by digits are not (`o365`, `team1`). Every token keeps its lowercased text and
//! its original spelling.
//!
//! Both borrow from the message where they can (a lowercase ASCII word is its own text and
//! spelling), so most tokens cost no allocation.

use std::borrow::Cow;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Letters, possibly with digits, `_` and inner apostrophes.
    Word,
    /// Digits, optionally `:` or `.` and more digits.
    Number,
    /// `#name`; the text keeps the `#`.
    Channel,
    /// `someone@example.com`.
    Email,
    /// `https://...` or `www...`.
    Url,
    /// `Area/Location`, e.g. `Asia/Tokyo`.
    Zone,
    /// One character of anything else.
    Punct,
}

/// One token.
#[derive(Debug, Clone)]
pub(crate) struct Tok<'a> {
    /// Lowercased, with typographic quotes and dashes normalised.
    pub(crate) text: Cow<'a, str>,
    /// As written (quotes and dashes normalised).
    pub(crate) orig: Cow<'a, str>,
    /// What it is.
    pub(crate) kind: Kind,
    /// No whitespace between this token and the previous one.
    pub(crate) glued: bool,
}

/// The tokens of one message, with look-up helpers that never index out of bounds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Toks<'a> {
    /// The tokens, in order.
    pub(crate) t: Vec<Tok<'a>>,
}

/// Chunks longer than this are never special tokens (e-mail, URL, zone); they are split.
const MAX_SPECIAL: usize = 512;

impl<'a> Toks<'a> {
    /// Tokenises `text`.
    pub(crate) fn new(text: &'a str) -> Toks<'a> {
        let mut t = Vec::new();
        for chunk in text.split(|c: char| c.is_whitespace() || c.is_control()) {
            if chunk.is_empty() {
                continue;
            }
            tokenize_chunk(chunk, &mut t);
        }
        Toks { t }
    }

    /// The number of tokens.
    pub(crate) fn len(&self) -> usize {
        self.t.len()
    }

    /// The token at `i`, if any.
    pub(crate) fn get(&self, i: usize) -> Option<&Tok<'a>> {
        self.t.get(i)
    }

    /// The lowercased text at `i`, or "" past either end.
    pub(crate) fn text(&self, i: usize) -> &str {
        self.t.get(i).map_or("", |t| &t.text)
    }

    /// The text at `i` when it is a word or number, else "".
    pub(crate) fn word(&self, i: usize) -> &str {
        match self.t.get(i) {
            Some(t) if matches!(t.kind, Kind::Word | Kind::Number) => &t.text,
            _ => "",
        }
    }

    /// The kind at `i`.
    pub(crate) fn kind(&self, i: usize) -> Option<Kind> {
        self.t.get(i).map(|t| t.kind)
    }

    /// The token at `i` reads `w`.
    pub(crate) fn is(&self, i: usize, w: &str) -> bool {
        same(self.text(i), w)
    }

    /// The token at `i` is one of `ws`.
    pub(crate) fn is_any(&self, i: usize, ws: &[&str]) -> bool {
        let s = self.text(i);
        !s.is_empty() && ws.iter().any(|w| same(s, w))
    }

    /// The tokens from `i` on read `seq` (whose words are not empty). Rule tables call this
    /// for every token and every phrase, so the tokens are sliced once, not looked up per word.
    pub(crate) fn seq(&self, i: usize, seq: &[&str]) -> bool {
        self.t.get(i..).is_some_and(|rest| {
            rest.len() >= seq.len() && rest.iter().zip(seq).all(|(t, w)| same(&t.text, w))
        })
    }

    /// One of the phrases of `table` starts at `i`: only those that begin with the token's
    /// first byte are compared (rule tables run for every token).
    pub(crate) fn starts_phrase(&self, i: usize, table: &Phrases) -> bool {
        self.phrase_at(i, table).is_some()
    }

    /// The first phrase of `table` (in its order) that starts at `i`.
    pub(crate) fn phrase_at(&self, i: usize, table: &Phrases) -> Option<&'static [&'static str]> {
        let &b = self.text(i).as_bytes().first()?;
        table.starting(b).iter().copied().find(|p| self.seq(i, p))
    }

    /// The tokens ending just before `end` read `seq`.
    pub(crate) fn seq_before(&self, end: usize, seq: &[&str]) -> bool {
        end >= seq.len() && self.seq(end - seq.len(), seq)
    }

    /// Where `seq` first occurs.
    pub(crate) fn find_seq(&self, seq: &[&str]) -> Option<usize> {
        (0..self.len()).find(|&i| self.seq(i, seq))
    }

    /// `seq` occurs anywhere.
    pub(crate) fn has_seq(&self, seq: &[&str]) -> bool {
        self.find_seq(seq).is_some()
    }

    /// Any of the words occurs.
    pub(crate) fn has_any(&self, ws: &[&str]) -> bool {
        (0..self.len()).any(|i| self.is_any(i, ws))
    }

    /// The token at `i` ends a clause: sentence punctuation, arrows, "then". A dot inside a
    /// word ("monday.com", "acme.io") does not.
    pub(crate) fn is_break(&self, i: usize) -> bool {
        match self.t.get(i) {
            Some(t) if t.kind == Kind::Punct => {
                let glued_on = t.glued && self.t.get(i + 1).is_some_and(|n| n.glued);
                // "monday.com", and the thousands of "$1,000".
                let number = |k: usize| self.t.get(k).is_some_and(|n| n.kind == Kind::Number);
                let inside = glued_on
                    && (&*t.text == "." || (&*t.text == "," && i > 0 && number(i - 1) && number(i + 1)));
                !inside
                    && !self.in_emoji(i)
                    && matches!(&*t.text, "," | "." | ";" | "!" | "?" | ":" | ">" | "→" | "|" | "—" | "⇒")
            }
            Some(t) => t.text == "then",
            None => true,
        }
    }

    /// Between the values at `a` and `b` the person takes the first back ("to #sales,
    /// actually #deals", "+1 555 0100, wait wrong number, +1 555 0109", "Correction: ...").
    pub(crate) fn taken_back_between(&self, a: usize, b: usize) -> bool {
        const TAKE_BACK: &[&str] =
            &["actually", "wait", "sorry", "mean", "rather", "correction", "wrong", "oops", "no", "make"];
        (a + 1..b).any(|k| self.is_any(k, TAKE_BACK))
    }

    /// The value at `i` is dropped where it is named ("drop the #sales bit", "skip #ops").
    pub(crate) fn dropped_at(&self, i: usize) -> bool {
        (i.saturating_sub(2)..i).any(|k| self.is_any(k, &["drop", "skip", "remove", "forget", "without"]))
    }

    /// The colon at `i` opens or closes an emoji code (":eyes:").
    fn in_emoji(&self, i: usize) -> bool {
        let is = |k: usize, f: &dyn Fn(&Tok) -> bool| self.t.get(k).is_some_and(f);
        let colon = |t: &Tok| &*t.text == ":";
        let word = |t: &Tok| t.kind == Kind::Word && t.glued;
        let opens = is(i, &colon) && is(i + 1, &word) && is(i + 2, &|t| colon(t) && t.glued);
        let closes = i >= 2 && is(i, &|t| colon(t) && t.glued) && is(i - 1, &word) && is(i - 2, &colon);
        opens || closes
    }

    /// The index of the clause break at or after `i` (or `len`).
    pub(crate) fn clause_end(&self, i: usize) -> usize {
        (i..self.len()).find(|&k| self.is_break(k)).unwrap_or(self.len())
    }

    /// The hyphenated word around `i` ("sales-emea", "key-accounts", "dev-payments"): its
    /// first and last token, hyphens written without spaces.
    pub(crate) fn hyphen_span(&self, i: usize) -> (usize, usize) {
        let part = |k: usize| self.get(k).is_some_and(|t| matches!(t.kind, Kind::Word | Kind::Number));
        let glued = |k: usize| self.get(k).is_some_and(|t| t.glued);
        let joins = |h: usize| self.is(h, "-") && glued(h) && glued(h + 1) && part(h - 1) && part(h + 1);
        let (mut a, mut b) = (i, i);
        while a >= 2 && joins(a - 1) {
            a -= 2;
        }
        while joins(b + 1) {
            b += 2;
        }
        (a, b)
    }

    /// The text of tokens `a..=b` as written together (lowercased).
    pub(crate) fn joined(&self, a: usize, b: usize) -> String {
        (a..=b).map(|k| self.text(k)).collect()
    }

    /// The index just after the clause break before `i` (or 0).
    pub(crate) fn clause_start(&self, i: usize) -> usize {
        (0..i.min(self.len())).rev().find(|&k| self.is_break(k)).map_or(0, |k| k + 1)
    }
}

/// A sorted table of phrases (token sequences) with where each first byte's phrases begin, so a
/// token is compared only with the few that start like it: a lookup, where a binary search
/// over the table cost ~400 instructions per token in wasm.
pub(crate) struct Phrases {
    phrases: &'static [&'static [&'static str]],
    /// `phrases[starts[b]..starts[b + 1]]` begin with the byte `b`.
    starts: [u16; 257],
}

impl Phrases {
    /// Indexes `phrases`, which must be sorted (each table's test checks; phrases out of
    /// order by first byte, an empty first word or more than 65,535 phrases fail the build).
    pub(crate) const fn new(phrases: &'static [&'static [&'static str]]) -> Self {
        assert!(phrases.len() <= u16::MAX as usize, "a phrase table holds at most 65,535 phrases");
        let mut k = 1;
        while k < phrases.len() {
            assert!(phrases[k - 1][0].as_bytes()[0] <= phrases[k][0].as_bytes()[0], "phrases must be sorted");
            k += 1;
        }
        let mut starts = [0u16; 257];
        let mut b = 0;
        k = 0;
        while b < starts.len() {
            while k < phrases.len() && (phrases[k][0].as_bytes()[0] as usize) < b {
                k += 1;
            }
            starts[b] = k as u16;
            b += 1;
        }
        Self { phrases, starts }
    }

    /// Every phrase, in order.
    #[cfg(test)]
    pub(crate) fn all(&self) -> &'static [&'static [&'static str]] {
        self.phrases
    }

    /// The phrases whose first word begins with `b`.
    fn starting(&self, b: u8) -> &'static [&'static [&'static str]] {
        let b = usize::from(b);
        &self.phrases[usize::from(self.starts[b])..usize::from(self.starts[b + 1])]
    }
}

/// `a == b`, with the first bytes compared inline: rules compare short words that mostly
/// differ there, and calling `memcmp` costs more than such a comparison.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

fn normalise_char(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201B}' | '`' | '\u{00B4}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => '"',
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2212}' => '-',
        '\u{FF03}' => '#',
        '\u{FF20}' => '@',
        _ => c,
    }
}

fn is_wrapper(c: char) -> bool {
    matches!(
        c,
        '(' | ')' | '[' | ']' | '{' | '}' | '<' | '>' | '"' | '\'' | ',' | ';' | '!' | '?' | ':' | '.' | '*'
    )
}

impl Tok<'_> {
    /// The same token, owning its strings.
    fn into_owned<'b>(self) -> Tok<'b> {
        Tok {
            text: Cow::Owned(self.text.into_owned()),
            orig: Cow::Owned(self.orig.into_owned()),
            kind: self.kind,
            glued: self.glued,
        }
    }
}

/// `s` lowercased, borrowed when it already is (the common case: ASCII without capitals).
fn lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| !b.is_ascii() || b.is_ascii_uppercase()) {
        Cow::Owned(crate::case::lower(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// Pushes the token `orig`, whose lowercased text is computed here.
fn push<'a>(out: &mut Vec<Tok<'a>>, orig: &'a str, kind: Kind, glued: bool) {
    out.push(Tok { text: lowercase(orig), orig: Cow::Borrowed(orig), kind, glued });
}

/// Pushes every character of `s` as punctuation.
fn punct<'a>(out: &mut Vec<Tok<'a>>, s: &'a str, mut glued: bool) {
    for (i, c) in s.char_indices() {
        let one = &s[i..i + c.len_utf8()];
        out.push(Tok { text: Cow::Borrowed(one), orig: Cow::Borrowed(one), kind: Kind::Punct, glued });
        glued = true;
    }
}

fn tokenize_chunk<'a>(chunk: &'a str, out: &mut Vec<Tok<'a>>) {
    if chunk.chars().all(|c| normalise_char(c) == c) {
        tokenize_normal(chunk, out);
    } else {
        // Tokens of the normalised copy cannot borrow from the message.
        let norm: String = chunk.chars().map(normalise_char).collect();
        let mut toks = Vec::new();
        tokenize_normal(&norm, &mut toks);
        out.extend(toks.into_iter().map(Tok::into_owned));
    }
}

/// Tokenises a chunk whose characters are already normalised.
fn tokenize_normal<'a>(norm: &'a str, out: &mut Vec<Tok<'a>>) {
    let core = norm.trim_matches(is_wrapper);
    if !core.is_empty() && core.len() <= MAX_SPECIAL {
        let kind = if is_email(core) {
            Some(Kind::Email)
        } else if is_url(core) {
            Some(Kind::Url)
        } else if is_zone(core) {
            Some(Kind::Zone)
        } else {
            None
        };
        if let Some(kind) = kind {
            // `core` is a substring of `norm`; find where it starts (trim only removes ASCII).
            let lead = norm.len() - norm.trim_start_matches(is_wrapper).len();
            let trail_start = lead + core.len();
            punct(out, &norm[..lead], false);
            push(out, core, kind, lead > 0);
            punct(out, &norm[trail_start..], true);
            return;
        }
    }
    split_chunk(norm, out);
}

fn split_chunk<'a>(s: &'a str, out: &mut Vec<Tok<'a>>) {
    // The character at byte `i` (always a character boundary here).
    let at = |i: usize| s.get(i..).and_then(|r| r.chars().next());
    let mut i = 0;
    let mut glued = false;
    while let Some(c) = at(i) {
        if c.is_alphabetic() {
            let start = i;
            i += c.len_utf8();
            while let Some(d) = at(i) {
                if d.is_alphanumeric() || d == '_' {
                    i += d.len_utf8();
                } else if d == '\'' && at(i + 1).is_some_and(|n| n.is_alphabetic()) {
                    i += 1;
                } else {
                    break;
                }
            }
            let word = &s[start..i];
            let text = lowercase(word);
            // "a.m." / "p.m."
            let meridiem = match &*text {
                "a" => Some("am"),
                "p" => Some("pm"),
                _ => None,
            };
            if let Some(m) = meridiem
                && at(i) == Some('.')
                && at(i + 1).is_some_and(|n| n == 'm' || n == 'M')
                && !at(i + 2).is_some_and(|n| n.is_alphanumeric())
            {
                i += 2;
                if at(i) == Some('.') {
                    i += 1;
                }
                out.push(Tok { text: Cow::Borrowed(m), orig: Cow::Borrowed(m), kind: Kind::Word, glued });
            } else {
                out.push(Tok { text, orig: Cow::Borrowed(word), kind: Kind::Word, glued });
            }
        } else if c.is_ascii_digit() {
            let b = s.as_bytes();
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if matches!(b.get(i), Some(b':' | b'.')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 1;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            push(out, &s[start..i], Kind::Number, glued);
        } else if c == '#' && at(i + 1).is_some_and(|n| n.is_alphanumeric() || n == '_' || n == '-') {
            let start = i + 1;
            let mut j = start;
            while let Some(d) = at(j).filter(|d| d.is_alphanumeric() || matches!(d, '_' | '-' | '.')) {
                j += d.len_utf8();
            }
            // Trailing '.' and '-' are one byte each.
            while j > start && matches!(s.as_bytes()[j - 1], b'.' | b'-') {
                j -= 1;
            }
            let name = &s[start..j];
            if name.chars().any(char::is_alphabetic) {
                let text = match lowercase(name) {
                    Cow::Borrowed(_) => Cow::Borrowed(&s[i..j]),
                    Cow::Owned(l) => Cow::Owned(format!("#{l}")),
                };
                out.push(Tok { text, orig: Cow::Borrowed(&s[i..j]), kind: Kind::Channel, glued });
                i = j;
            } else {
                punct(out, &s[i..start], glued);
                i = start;
            }
        } else {
            let end = i + c.len_utf8();
            punct(out, &s[i..end], glued);
            i = end;
        }
        glued = true;
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && local.chars().all(|c| c.is_alphanumeric() || "._%+-'".contains(c))
        && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        && domain.rsplit('.').next().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic))
}

fn is_url(s: &str) -> bool {
    let starts = |p: &str| s.as_bytes().get(..p.len()).is_some_and(|b| b.eq_ignore_ascii_case(p.as_bytes()));
    (starts("http://") || starts("https://") || starts("www.")) && s.len() > 8
}

/// The areas of the IANA time zone database.
const ZONE_AREAS: &[&str] = &[
    "africa",
    "america",
    "antarctica",
    "asia",
    "atlantic",
    "australia",
    "europe",
    "indian",
    "pacific",
    "etc",
];

fn is_zone(s: &str) -> bool {
    let Some((area, rest)) = s.split_once('/') else { return false };
    ZONE_AREAS.iter().any(|a| a.eq_ignore_ascii_case(area))
        && rest.split('/').all(|p| {
            p.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
                && p.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'+'))
        })
}

/// Optimal-string-alignment distance between `a` and `b`, or `None` when it exceeds `max`.
/// Words longer than 40 characters are never compared.
pub(crate) fn distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    const CAP: usize = 40;
    let mut ab = ['\0'; CAP];
    let mut bb = ['\0'; CAP];
    let (mut n, mut m) = (0, 0);
    for c in a.chars() {
        *ab.get_mut(n)? = c;
        n += 1;
    }
    for c in b.chars() {
        *bb.get_mut(m)? = c;
        m += 1;
    }
    if n.abs_diff(m) > max {
        return None;
    }
    // Three rolling rows: row i lives in slot i % 3.
    let mut rows = [[0usize; CAP + 1]; 3];
    for (j, v) in rows[0].iter_mut().enumerate().take(m + 1) {
        *v = j;
    }
    for i in 1..=n {
        let (r0, r1, r2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[r0][0] = i;
        for j in 1..=m {
            let cost = usize::from(ab[i - 1] != bb[j - 1]);
            let mut v = (rows[r1][j] + 1).min(rows[r0][j - 1] + 1).min(rows[r1][j - 1] + cost);
            if i > 1 && j > 1 && ab[i - 1] == bb[j - 2] && ab[i - 2] == bb[j - 1] {
                v = v.min(rows[r2][j - 2] + 1);
            }
            rows[r0][j] = v;
        }
    }
    let dist = rows[n % 3][m];
    (dist <= max).then_some(dist)
}

/// Real English words that sit one typo away from a vocabulary word and must never be
/// "corrected" into it.
const NOT_TYPOS: &[&str] = &[
    "older",
    "issued",
    "custom",
    "conversion",
    "conversions",
    "reporting",
    "transition",
    "transitions",
    "translation",
    "stack",
    "slick",
    "snack",
    "shack",
    "slacks",
    "black",
    "nation",
    "motion",
    "notice",
    "liner",
    "linen",
    "discard",
    "sheep",
    "sweet",
    "sheer",
    "shelf",
    "event",
    "ever",
    "even",
    "email",
    "emails",
    "mail",
    "main",
    "daily",
    "early",
    "hours",
    "house",
    "steam",
    "teams",
    "team",
    "seams",
    "dairy",
    "diary",
    "calendars",
    "morning",
    "mourning",
    "evening",
    "opened",
    "opens",
    "open",
    "issues",
    "issue",
    "tissue",
    "posted",
    "poster",
    "hourly",
    "sunday",
    "monday",
    "today",
    "friday",
    "fridays",
    "wednesday",
    "every",
    "week",
    "weeks",
    "weekly",
    "weekday",
    "weekdays",
    "weekend",
    "weekends",
    "mondays",
    "months",
    "month",
    "minute",
    "minutes",
    "create",
    "created",
    "creates",
    "crate",
    "unread",
    "thread",
    "spread",
    "summary",
    "summer",
    "jura",
    "gmail",
    "slack",
    "notion",
    "drive",
    "driver",
    "river",
    "drove",
    "linear",
    "line",
    "trello",
    "hello",
    "asana",
    "discord",
    "dropbox",
    "airtable",
    "outlook",
    "github",
    "hubspot",
    "salesforce",
    "sheets",
    "sheet",
    "jira",
    "ticket",
    "tickets",
    "tickle",
    "wicket",
    "rows",
    "row",
    "card",
    "cards",
    "cord",
    "deals",
    "deal",
    "dealt",
    "leads",
    "lead",
    "loads",
    "lends",
    "nightly",
    "lightly",
    "tightly",
    "rightly",
    "mornings",
    "evenings",
    "weather",
    "whether",
    "later",
    "latter",
    "letter",
    "water",
    "matter",
    "after",
    "alter",
    "filter",
];

/// `word` is `target` or, for targets of five letters or more, a plausible typo of it (one
/// edit, two for long targets, same first letter, and not itself a common word).
#[inline(always)]
pub(crate) fn fuzzy_eq(word: &str, target: &str) -> bool {
    if same(word, target) {
        return true;
    }
    // Cheap rejections first, inline at the caller: this runs for every word against every
    // vocabulary entry, and almost every call ends here.
    if word.as_bytes().first() != target.as_bytes().first() || target.len() < 5 || word.len() < 4 {
        return false;
    }
    is_typo_of(word, target)
}

/// The rest of [`fuzzy_eq`], for the few words that pass its cheap checks.
fn is_typo_of(word: &str, target: &str) -> bool {
    let tl = target.chars().count();
    let wl = word.chars().count();
    if wl < 4 || wl.abs_diff(tl) > 2 {
        return false;
    }
    let max = if tl >= 9 { 2 } else { 1 };
    // The distance first: it rejects almost every pair, the stop list only the rare near miss.
    distance_within(word, target, max).is_some() && !NOT_TYPOS.contains(&word)
}

/// A cardinal number written as digits or words ("15", "fifteen", "twenty five",
/// "forty-five"), with the number of tokens it spans.
pub(crate) fn number_at(toks: &Toks, i: usize) -> Option<(u32, usize)> {
    let t = toks.get(i)?;
    if t.kind == Kind::Number {
        if t.text.bytes().all(|c| c.is_ascii_digit()) && t.text.len() <= 6 {
            return t.text.parse().ok().map(|n| (n, 1));
        }
        return None;
    }
    if t.kind != Kind::Word {
        return None;
    }
    let w = &*t.text;
    if let Some(tens) = tens_word(w) {
        // "twenty five", "twenty-five"
        let (j, hy) = if toks.is(i + 1, "-") { (i + 2, 2) } else { (i + 1, 1) };
        if let Some(u) = unit_word(toks.text(j)).filter(|u| (1..=9).contains(u)) {
            return Some((tens + u, hy + 1));
        }
        return Some((tens, 1));
    }
    unit_word(w).map(|n| (n, 1))
}

fn unit_word(w: &str) -> Option<u32> {
    const UNITS: &[&str] = &[
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    UNITS.iter().position(|u| *u == w).and_then(|p| u32::try_from(p).ok())
}

fn tens_word(w: &str) -> Option<u32> {
    match w {
        "twenty" => Some(20),
        "thirty" => Some(30),
        "forty" | "fourty" => Some(40),
        "fifty" => Some(50),
        _ => None,
    }
}

/// An ordinal ("1st", "15th", "first", "fifteenth", "twenty-first") with the number of
/// tokens it spans.
/// `n` as an English ordinal: "1st", "22nd", "13th".
pub(crate) fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

pub(crate) fn ordinal_at(toks: &Toks, i: usize) -> Option<(u32, usize)> {
    let t = toks.get(i)?;
    if t.kind == Kind::Number {
        let n: u32 = t.text.parse().ok()?;
        let next = toks.get(i + 1)?;
        if next.glued && matches!(&*next.text, "st" | "nd" | "rd" | "th") {
            return Some((n, 2));
        }
        return None;
    }
    let w = &*t.text;
    if let Some(tens) = tens_word(w) {
        let (j, hy) = if toks.is(i + 1, "-") { (i + 2, 2) } else { (i + 1, 1) };
        if let Some(u) = ordinal_word(toks.text(j)).filter(|u| (1..=9).contains(u)) {
            return Some((tens + u, hy + 1));
        }
        return None;
    }
    match w {
        "twentieth" => Some((20, 1)),
        "thirtieth" => Some((30, 1)),
        _ => ordinal_word(w).map(|n| (n, 1)),
    }
}

fn ordinal_word(w: &str) -> Option<u32> {
    const ORD: &[&str] = &[
        "zeroth",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
    ];
    ORD.iter().position(|u| *u == w).and_then(|p| u32::try_from(p).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        Toks::new(s).t.into_iter().map(|t| t.text.into_owned()).collect()
    }

    #[test]
    fn phrase_tables_are_found_by_first_byte() {
        static TABLE: Phrases =
            Phrases::new(&[&["as", "soon", "as"], &["at", "once"], &["when"], &["\u{e9}t\u{e9}"]]);
        assert_eq!(TABLE.starting(b'a'), [&["as", "soon", "as"][..], &["at", "once"]]);
        assert!(TABLE.starting(b'b').is_empty() && TABLE.starting(0).is_empty());
        assert_eq!(TABLE.starting(b'w'), [&["when"][..]]);
        assert_eq!(TABLE.starting(0xC3), [&["\u{e9}t\u{e9}"][..]]);
        assert!(TABLE.starting(255).is_empty());
        let t = Toks::new("post it at once, or as soon as you can");
        let at: Vec<usize> = (0..t.len()).filter(|&i| t.starts_phrase(i, &TABLE)).collect();
        assert_eq!(at, [2, 6]);
        assert!(!Toks::new("as it comes").starts_phrase(0, &TABLE));
    }

    #[test]
    fn splits_words_numbers_and_specials() {
        assert_eq!(
            texts("Every weekday at 9am, post to #Team!"),
            ["every", "weekday", "at", "9", "am", ",", "post", "to", "#team", "!"]
        );
        assert_eq!(texts("at 9:30 p.m. or 9.30"), ["at", "9:30", "pm", "or", "9.30"]);
        assert_eq!(texts("mail <bob@acme.com>, please"), ["mail", "<", "bob@acme.com", ">", ",", "please"]);
        assert_eq!(texts("(Asia/Tokyo)"), ["(", "asia/tokyo", ")"]);
        assert_eq!(texts("issue #42 o'clock"), ["issue", "#", "42", "o'clock"]);
        assert_eq!(texts("mon–fri"), ["mon", "-", "fri"]);
        let t = Toks::new("ping https://x.io/a?b=1.");
        assert_eq!(t.kind(1), Some(Kind::Url));
        assert_eq!(t.text(2), ".");
    }

    #[test]
    fn fuzzy_matches_typos_not_words() {
        assert!(fuzzy_eq("gmial", "gmail"));
        assert!(fuzzy_eq("slak", "slack"));
        assert!(fuzzy_eq("githb", "github"));
        assert!(fuzzy_eq("notoin", "notion"));
        assert!(fuzzy_eq("spredsheet", "spreadsheet"));
        assert!(!fuzzy_eq("stack", "slack"));
        assert!(!fuzzy_eq("nation", "notion"));
        assert!(!fuzzy_eq("jria", "jira"));
        assert_eq!(distance_within("kitten", "sitting", 3), Some(3));
        assert_eq!(distance_within("ab", "ba", 1), Some(1));
        assert_eq!(distance_within("", "abc", 3), Some(3));
        assert_eq!(distance_within("abc", "", 2), None);
        assert_eq!(distance_within(&"a".repeat(41), "a", 40), None);
    }

    #[test]
    fn numbers_and_ordinals() {
        let t = Toks::new("twenty-five 15 fifteen 1st twenty first third");
        assert_eq!(number_at(&t, 0), Some((25, 3)));
        assert_eq!(number_at(&t, 3), Some((15, 1)));
        assert_eq!(number_at(&t, 4), Some((15, 1)));
        assert_eq!(ordinal_at(&t, 5), Some((1, 2)));
        assert_eq!(ordinal_at(&t, 7), Some((21, 2)));
        assert_eq!(ordinal_at(&t, 9), Some((3, 1)));
    }
}
