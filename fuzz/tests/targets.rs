//! The fuzz targets on stable Rust, bounded: each runs over its seed corpus
//! (`fuzz/corpus/<target>/`), then over `KILN_FUZZ_CASES` (default 2000) inputs made by
//! mutating those seeds (byte flips, insertions, deletions, tokens of the format spliced in).
//! A failing input is shrunk by proptest and printed; add it to the corpus once fixed.

use std::path::PathBuf;

use kiln_fuzz::{TARGETS, Target};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};

/// How many mutated inputs each target gets.
fn cases() -> u32 {
    std::env::var("KILN_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

fn seeds(target: &Target) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target.name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).expect("seed")).collect();
    assert!(!seeds.is_empty(), "{} has no seeds", dir.display());
    seeds
}

/// One edit of an input.
#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Insert(Index, u8),
    Delete(Index, Index),
    Token(Index, Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Edit::Flip(at, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<Index>(), any::<Index>()).prop_map(|(at, t)| Edit::Token(at, t)),
    ]
}

fn apply(mut input: Vec<u8>, edits: &[Edit], tokens: &[&[u8]]) -> Vec<u8> {
    for e in edits {
        let at = |i: &Index| i.index(input.len() + 1);
        match e {
            Edit::Flip(i, b) if !input.is_empty() => {
                let i = i.index(input.len());
                input[i] ^= b;
            }
            Edit::Flip(..) => {}
            Edit::Insert(i, b) => input.insert(at(i), *b),
            Edit::Delete(i, n) if !input.is_empty() => {
                let start = i.index(input.len());
                let end = start + 1 + n.index(16.min(input.len() - start));
                input.drain(start..end.min(input.len()));
            }
            Edit::Delete(..) => {}
            Edit::Token(i, t) => {
                let at = at(i);
                input.splice(at..at, tokens[t.index(tokens.len())].iter().copied());
            }
        }
    }
    input
}

fn fuzz(name: &str) {
    let target = TARGETS.iter().find(|t| t.name == name).expect("a target of that name");
    let seeds = seeds(target);
    for seed in &seeds {
        (target.run)(seed);
    }
    let inputs = (any::<Index>(), proptest::collection::vec(edit(), 1..12))
        .prop_map(|(seed, edits)| apply(seeds[seed.index(seeds.len())].clone(), &edits, target.tokens));
    let mut runner =
        TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    if let Err(e) = runner.run(&inputs, |input| {
        (target.run)(&input);
        Ok(())
    }) {
        panic!("fuzz target {name}: {e}");
    }
}

#[test]
fn every_target_is_run_here() {
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(names, ["sse", "retry_headers", "models_yaml", "session_record"]);
}

#[test]
fn sse() {
    fuzz("sse");
}

#[test]
fn retry_headers() {
    fuzz("retry_headers");
}

#[test]
fn models_yaml() {
    fuzz("models_yaml");
}

#[test]
fn session_record() {
    fuzz("session_record");
}
