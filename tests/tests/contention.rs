//! Many `kiln` processes adding and taking at once: no id is lost or handed out twice, the
//! index never holds a duplicate, and the queue stays FIFO.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

use kiln_tests::{Kiln, assert_uuid_v4, read_json};

const ADDERS: usize = 8;
const ADDS_EACH: usize = 200;
const TAKERS: usize = 2;

/// What a taker thread saw: the ids `next` returned, in order, and how often the queue was empty.
struct Taken {
    ids: Vec<String>,
    empty: usize,
}

#[test]
fn concurrent_adds_and_nexts_lose_and_duplicate_nothing() {
    let started = Instant::now();
    let k = Arc::new(Kiln::new_in_memory());
    // Create the store (and warm the component cache) before the race.
    k.run(["conversations", "list"]).ok();

    let adders_left = Arc::new(AtomicUsize::new(ADDERS));
    let failed = Arc::new(AtomicBool::new(false));

    let adders: Vec<_> = (0..ADDERS)
        .map(|a| {
            let (k, adders_left, failed) = (Arc::clone(&k), Arc::clone(&adders_left), Arc::clone(&failed));
            thread::spawn(move || {
                let mut ids = Vec::with_capacity(ADDS_EACH);
                for i in 0..ADDS_EACH {
                    if failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let out = k.run(["conversations", "add", &format!("adder {a} prompt {i}")]);
                    if out.code() != Some(0) {
                        failed.store(true, Ordering::Relaxed);
                        adders_left.fetch_sub(1, Ordering::SeqCst);
                        panic!("adder {a}, add {i} failed under contention\n{out}");
                    }
                    let id = out.stdout.trim().to_owned();
                    assert_uuid_v4(&id);
                    ids.push((id, format!("adder {a} prompt {i}")));
                }
                adders_left.fetch_sub(1, Ordering::SeqCst);
                ids
            })
        })
        .collect();

    let takers: Vec<_> = (0..TAKERS)
        .map(|t| {
            let (k, adders_left, failed) = (Arc::clone(&k), Arc::clone(&adders_left), Arc::clone(&failed));
            thread::spawn(move || {
                let mut taken = Taken { ids: Vec::new(), empty: 0 };
                // Keep going until the adders are done, then one last empty answer ends it.
                loop {
                    let adding = adders_left.load(Ordering::SeqCst) > 0;
                    let out = k.run(["--json", "conversations", "next"]);
                    match out.code() {
                        Some(0) => {
                            let c = out.json();
                            let id = c["conversation_id"].as_str().expect("conversation_id").to_owned();
                            let prompt = c["prompt"].as_str().expect("prompt");
                            assert!(prompt.starts_with("adder "), "taker {t}: unexpected prompt {prompt:?}");
                            taken.ids.push(id);
                        }
                        Some(1) if out.json_error().0 == "empty" => {
                            taken.empty += 1;
                            if !adding {
                                break;
                            }
                            // Let the adders get ahead instead of spinning on an empty queue.
                            thread::sleep(std::time::Duration::from_millis(5));
                        }
                        _ => {
                            failed.store(true, Ordering::Relaxed);
                            panic!("taker {t}: next failed under contention\n{out}");
                        }
                    }
                    if failed.load(Ordering::Relaxed) {
                        break;
                    }
                }
                taken
            })
        })
        .collect();

    let added: Vec<Vec<(String, String)>> =
        adders.into_iter().map(|h| h.join().expect("an adder thread failed")).collect();
    let taken: Vec<Taken> = takers.into_iter().map(|h| h.join().expect("a taker thread failed")).collect();
    let elapsed = started.elapsed();

    // Every add printed a distinct id.
    let mut prompt_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (id, prompt) in added.iter().flatten() {
        assert!(prompt_of.insert(id, prompt).is_none(), "two adds printed the same id {id}");
    }
    assert_eq!(prompt_of.len(), ADDERS * ADDS_EACH);

    // Each id was handed out by at most one `next`, and only ids that were added.
    let mut handed_out: BTreeMap<&str, usize> = BTreeMap::new();
    for (t, taker) in taken.iter().enumerate() {
        for id in &taker.ids {
            assert!(prompt_of.contains_key(id.as_str()), "taker {t} got {id}, which no add printed");
            if let Some(other) = handed_out.insert(id, t) {
                panic!("{id} was handed out twice (takers {other} and {t})");
            }
        }
    }

    // The index: no duplicates, only added ids, none of them also handed out.
    let queue = k.queue();
    let queued: BTreeSet<&str> = queue.iter().map(String::as_str).collect();
    assert_eq!(queued.len(), queue.len(), "the index holds a duplicate id");
    for id in &queue {
        assert!(prompt_of.contains_key(id.as_str()), "the index holds {id}, which no add printed");
        assert!(!handed_out.contains_key(id.as_str()), "{id} is still queued but was handed out");
    }
    // No loss: every added id is queued or was handed out.
    let lost: Vec<&&str> =
        prompt_of.keys().filter(|id| !queued.contains(**id) && !handed_out.contains_key(**id)).collect();
    assert!(lost.is_empty(), "{} ids were lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
    assert!(queue.is_empty(), "the takers stopped on an empty queue, yet {} ids are queued", queue.len());

    // FIFO: each adder's ids were queued in its order, so each taker saw them in that order.
    let position: BTreeMap<&str, (usize, usize)> = added
        .iter()
        .enumerate()
        .flat_map(|(a, ids)| ids.iter().enumerate().map(move |(i, (id, _))| (id.as_str(), (a, i))))
        .collect();
    for (t, taker) in taken.iter().enumerate() {
        let mut last_of_adder: BTreeMap<usize, usize> = BTreeMap::new();
        for id in &taker.ids {
            let (a, i) = position[id.as_str()];
            if let Some(prev) = last_of_adder.insert(a, i) {
                assert!(prev < i, "taker {t} got adder {a}'s #{i} after its #{prev}: not FIFO");
            }
        }
    }

    // Every conversation file exists, parses, and holds its own prompt; no orphan files.
    for (id, prompt) in &prompt_of {
        let c = read_json(&k.conversation_path(id));
        assert_eq!(c["conversation_id"], serde_json::json!(id));
        assert_eq!(c["prompt"], serde_json::json!(prompt));
    }
    let files = k.snapshot();
    assert_eq!(files.len(), prompt_of.len() + 1, "conversation files + index.json, nothing else");
    // Writers that finished left no temp files behind.
    let tmp = k.store().join(".kiln/tmp");
    let leftovers: Vec<_> = std::fs::read_dir(&tmp).expect("the temp dir").collect();
    assert!(leftovers.is_empty(), "temp files left in {}: {leftovers:?}", tmp.display());

    let nexts: usize = taken.iter().map(|t| t.ids.len() + t.empty).sum();
    eprintln!(
        "contention: {} adds by {ADDERS} processes at a time, {nexts} nexts ({} empty) by {TAKERS}, in {elapsed:.1?} (store in {})",
        prompt_of.len(),
        taken.iter().map(|t| t.empty).sum::<usize>(),
        k.store().display()
    );
}
