//! Many `kiln` processes adding and taking at once on the file store: no id is lost or
//! handed out twice, the index never holds a duplicate, and the queue stays FIFO
//! (`kiln_tests::race`); every conversation file is intact and no temp file is left.

use std::sync::Arc;

use kiln_tests::{Kiln, race, read_json};

const ADDERS: usize = 8;
const ADDS_EACH: usize = 200;
const TAKERS: usize = 2;

#[test]
fn concurrent_adds_and_nexts_lose_and_duplicate_nothing() {
    let k = Arc::new(Kiln::new_in_memory());
    // Create the store (and warm the component cache) before the race.
    k.run(["conversations", "list"]).ok();

    let race = race::run(&k, ADDERS, ADDS_EACH, TAKERS);
    let prompt_of = race.check(&k.queue());
    assert_eq!(prompt_of.len(), ADDERS * ADDS_EACH);

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

    eprintln!("contention: {} (store in {})", race.summary(), k.store().display());
}
