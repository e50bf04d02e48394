//! How well the offline path understands requests written outside the project (issue #16):
//! every field of the v2 corpus (`tests/corpus/README.md`) scored on the requirements a first
//! message leaves, for the development split and the frozen test split.
//!
//! The development split's misses are printed one by one (rules may be tuned on them); the
//! test split's figures are printed as totals only and nothing is tuned on it. Both assert the
//! current counts ([`DEV_FLOOR`], [`TEST_FLOOR`]), so a regression fails; raise them when the
//! figures improve, and report both in `docs/extractor.md`.
//!
//! `cargo test -p kiln-core --test understanding -- --nocapture` prints the tables.

#[path = "support/labels.rs"]
mod labels;

use kiln_core::builder::agent::draft_offline;
use kiln_core::builder::requirements::Requirements;
use kiln_core::extract::Reading;
use labels::{FIELDS, Request, Tally, compare, lines};

const DEV: &str = include_str!("corpus/dev.jsonl");
const DEV3: &str = include_str!("corpus/dev3.jsonl");
const DEV4: &str = include_str!("corpus/dev4.jsonl");
const DEV5: &str = include_str!("corpus/dev5.jsonl");
const TEST: &str = include_str!("corpus/test.jsonl");

/// Right answers per field (in [`FIELDS`] order), then all scored fields exact: the
/// development split's current figures.
const DEV_FLOOR: [usize; FIELDS.len() + 1] = [158, 159, 160, 156, 159, 159, 157, 158, 154, 149];
/// The same for the third development batch (`dev3.jsonl`, written after the rules were
/// tuned on `dev.jsonl`; its first run is in `docs/extractor.md`).
const DEV3_FLOOR: [usize; FIELDS.len() + 1] = [234, 239, 235, 234, 227, 239, 227, 228, 228, 208];
/// The same for the fourth development batch (`dev4.jsonl`, another writer's; its first run
/// is in `docs/extractor.md`).
const DEV4_FLOOR: [usize; FIELDS.len() + 1] = [194, 197, 197, 196, 196, 200, 190, 185, 190, 176];
/// The same for the fifth development batch (`dev5.jsonl`, a fifth writer's; its first run is
/// in `docs/extractor.md`).
const DEV5_FLOOR: [usize; FIELDS.len() + 1] = [195, 200, 197, 196, 195, 200, 191, 185, 182, 178];
/// The same for the frozen test split.
const TEST_FLOOR: [usize; FIELDS.len() + 1] = [210, 219, 206, 211, 204, 218, 207, 206, 196, 175];

/// The requirements a conversation holds after `text` as its first message.
fn understood(text: &str) -> Requirements {
    let msg = Reading::new(text);
    let (ex, change) = msg.extract_with_change();
    let mut req = Requirements::default();
    req.merge(&ex, 1, change);
    req
}

fn score(name: &str, text: &str, show_misses: bool) -> Tally {
    let items: Vec<Request> = lines(name, text);
    let mut tally = Tally::default();
    for it in &items {
        let fields = compare(&understood(&it.text), &it.label);
        if show_misses {
            for (field, _, got) in fields.iter().filter(|(_, ok, _)| !ok) {
                println!("  miss {field}: got {got} [{}] {}", it.style, it.text);
            }
        }
        tally.add(&fields);
    }
    tally
}

fn hold(tally: &Tally, floor: &[usize; FIELDS.len() + 1], split: &str) {
    for (k, f) in FIELDS.iter().enumerate() {
        assert!(tally.right[k] >= floor[k], "{split}: {f} fell to {} from {}", tally.right[k], floor[k]);
    }
    let all = floor[FIELDS.len()];
    assert!(tally.all >= all, "{split}: all-exact fell to {} from {all}", tally.all);
}

/// Scores one split, prints its table (and its misses when `show`), and holds its floor.
fn split(title: &str, name: &str, text: &str, show: bool, min: usize, floor: &[usize; FIELDS.len() + 1]) {
    let tally = score(name, text, show);
    tally.print(&format!("{title} ({name})"));
    assert!(tally.n >= min, "the {title} has {} requests", tally.n);
    hold(&tally, floor, title);
}

#[test]
fn development_split() {
    split("development split", "dev.jsonl", DEV, true, 150, &DEV_FLOOR);
}

#[test]
fn third_development_batch() {
    split("third development batch", "dev3.jsonl", DEV3, true, 240, &DEV3_FLOOR);
}

#[test]
fn fourth_development_batch() {
    split("fourth development batch", "dev4.jsonl", DEV4, true, 200, &DEV4_FLOOR);
}

#[test]
fn fifth_development_batch() {
    split("fifth development batch", "dev5.jsonl", DEV5, true, 200, &DEV5_FLOOR);
}

#[test]
fn frozen_test_split() {
    // Totals only: the test split is never tuned on, so its misses are not shown.
    split("frozen test split", "test.jsonl", TEST, false, 200, &TEST_FLOOR);
}

#[test]
fn labels_are_well_formed() {
    const CONVERSATIONS: [(&str, &str); 5] = [
        ("conversations/dev.jsonl", include_str!("corpus/conversations/dev.jsonl")),
        ("conversations/dev3.jsonl", include_str!("corpus/conversations/dev3.jsonl")),
        ("conversations/dev4.jsonl", include_str!("corpus/conversations/dev4.jsonl")),
        ("conversations/dev5.jsonl", include_str!("corpus/conversations/dev5.jsonl")),
        ("conversations/test.jsonl", include_str!("corpus/conversations/test.jsonl")),
    ];
    let mut all: Vec<labels::Label> = Vec::new();
    for (name, text) in [
        ("dev.jsonl", DEV),
        ("dev3.jsonl", DEV3),
        ("dev4.jsonl", DEV4),
        ("dev5.jsonl", DEV5),
        ("test.jsonl", TEST),
    ] {
        all.extend(lines::<Request>(name, text).into_iter().map(|r| r.label));
    }
    for (name, text) in CONVERSATIONS {
        for c in lines::<labels::Conversation>(name, text) {
            assert_eq!(
                c.expect.phase, "COMPLETE",
                "{name} {}: every script ends with the agent active",
                c.id
            );
            assert!((4..=12).contains(&c.turns.len()), "{name} {} ({}): 4-12 turns", c.id, c.persona);
            all.push(c.expect.label);
        }
    }
    for l in &all {
        let trigger = l.trigger.as_deref();
        assert!(
            matches!(trigger, None | Some("schedule" | "event" | "manual" | "once")),
            "trigger {trigger:?}"
        );
        if let Some(c) = &l.cron {
            assert!(kiln_core::extract::same_cron(c, c), "cron {c:?}");
            assert_eq!(trigger, Some("schedule"), "a cron on a {trigger:?} trigger");
        }
        assert_eq!(l.event.is_some(), trigger == Some("event"), "event {:?} on {trigger:?}", l.event);
    }
}

/// The offline draft is valid for whatever a person asks: for every complete request of the
/// development corpora, the agent drafted from what the first message leaves has no problems
/// and nothing that disagrees with the requirements (an invalid draft sends the person back to
/// "Shall I build it?" with nothing they can change: a loop).
#[test]
fn every_development_request_drafts_a_valid_agent() {
    let corpora = [("dev.jsonl", DEV), ("dev3.jsonl", DEV3), ("dev4.jsonl", DEV4), ("dev5.jsonl", DEV5)];
    let mut bad = Vec::new();
    for (name, text) in corpora {
        for it in lines::<Request>(name, text) {
            let (ex, change) = Reading::new(&it.text).extract_with_change();
            let mut req = Requirements::default();
            req.merge(&ex, 1, change);
            // Only what is complete is built: the conversation asks for the rest first.
            if req.discovery_gap().is_some() || !req.detail_gaps().is_empty() {
                continue;
            }
            let spec = draft_offline(&req);
            let mut problems = spec.problems();
            problems.extend(spec.mismatches(&req));
            if !problems.is_empty() {
                bad.push(format!("{name}: {}\n  {}", it.text, problems.join("; ")));
            }
        }
    }
    assert!(bad.is_empty(), "{} invalid drafts:\n{}", bad.len(), bad.join("\n"));
}
