use std::cell::Cell;

use super::*;
use crate::memory::MemoryStore;
use crate::ports::{Entry, UnixTime, Version};

struct FixedClock;
impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        UnixTime { seconds: 1_795_316_842, nanoseconds: 5_000 }
    }
}

/// Deterministic "randomness": each fill is a different counter value.
#[derive(Default)]
struct Counter(Cell<u8>);
impl Entropy for Counter {
    fn fill(&self, buf: &mut [u8]) {
        self.0.set(self.0.get().wrapping_add(1));
        buf.fill(self.0.get());
    }
}

type TestQueue<S = MemoryStore> = Queue<S, FixedClock, Counter>;

fn queue() -> TestQueue {
    Queue::new(MemoryStore::new(), FixedClock, Counter::default())
}

fn add(q: &TestQueue<impl Store>, prompt: &str) -> String {
    q.add(NewConversation { prompt: prompt.into(), ..Default::default() }).expect("add").conversation_id
}

fn raw_put(store: &impl Store, key: &str, value: &str) {
    store.put(key, value.as_bytes(), Precondition::Any).expect("raw put");
}

#[test]
fn next_is_fifo() {
    let q = queue();
    let ids: Vec<_> = ["one", "two", "three"].iter().map(|p| add(&q, p)).collect();
    for (id, prompt) in ids.iter().zip(["one", "two", "three"]) {
        let c = q.next().expect("next").expect("not empty");
        assert_eq!((&c.conversation_id, c.prompt.as_str()), (id, prompt));
    }
    assert_eq!(q.next(), Ok(None), "queue drained");
}

#[test]
fn add_stores_the_conversation_in_the_seed_format() {
    let q = queue();
    let meta = BTreeMap::from([("team".to_owned(), "ops".to_owned())]);
    let c = q
        .add(NewConversation { prompt: "hello".into(), workflow_id: Some("wf-1".into()), metadata: meta })
        .expect("add");
    assert_eq!(c.created_at, "2026-11-22T03:07:22.000005Z");
    let stored = q.store.get(&conversation_key(&c.conversation_id)).expect("get").expect("exists");
    let json: serde_json::Value = serde_json::from_slice(&stored.value).expect("json");
    assert_eq!(
        json,
        serde_json::json!({
            "conversation_id": c.conversation_id, "prompt": "hello",
            "created_at": "2026-11-22T03:07:22.000005Z", "workflow_id": "wf-1",
            "metadata": {"team": "ops"}
        })
    );
    let index = q.store.get(INDEX_KEY).expect("get").expect("exists");
    let json: serde_json::Value = serde_json::from_slice(&index.value).expect("json");
    assert_eq!(json, serde_json::json!({ "queue": [c.conversation_id] }));
}

#[test]
fn list_shows_only_queued_in_order() {
    let q = queue();
    let a = add(&q, "a");
    let b = add(&q, "b");
    let c = add(&q, "c");
    q.start(&b).expect("start b");
    let listed: Vec<_> = q.list().expect("list").into_iter().map(|c| c.conversation_id).collect();
    assert_eq!(listed, vec![a.clone(), c]);
    q.next().expect("next");
    assert_eq!(q.list().expect("list").len(), 1);
    // The started and popped conversations still exist: start finds them.
    assert_eq!(q.start(&a).expect("start a").conversation.prompt, "a");
}

#[test]
fn start_is_idempotent() {
    let q = queue();
    let id = add(&q, "x");
    let first = q.start(&id).expect("first start");
    assert!(first.was_queued);
    let second = q.start(&id).expect("second start");
    assert!(!second.was_queued);
    assert_eq!(first.conversation, second.conversation);
    assert!(q.list().expect("list").is_empty());
}

#[test]
fn unknown_and_malformed_ids_are_errors() {
    let q = queue();
    add(&q, "x");
    let unknown = "2f1c0e9a-0b7d-4c3e-9a51-0c7c2a3c9d10";
    assert_eq!(q.start(unknown), Err(QueueError::NotFound(unknown.into())));
    for hostile in ["../index", "index.json", ""] {
        assert!(matches!(q.start(hostile), Err(QueueError::InvalidInput(_))), "{hostile:?}");
    }
}

#[test]
fn empty_queue_next_is_none_and_writes_nothing() {
    let q = queue();
    assert_eq!(q.next(), Ok(None));
    assert_eq!(q.store.get(INDEX_KEY), Ok(None));
}

#[test]
fn bad_requests_are_refused_before_anything_is_written() {
    let q = queue();
    let cases = [
        NewConversation { prompt: "  \n".into(), ..Default::default() },
        NewConversation { prompt: "x".repeat(MAX_PROMPT_BYTES + 1), ..Default::default() },
        NewConversation { prompt: "p".into(), workflow_id: Some(" ".into()), ..Default::default() },
        NewConversation {
            prompt: "p".into(),
            metadata: BTreeMap::from([(String::new(), "v".into())]),
            ..Default::default()
        },
    ];
    for case in cases {
        assert!(matches!(q.add(case), Err(QueueError::InvalidInput(_))));
    }
    assert_eq!(q.store.list(""), Ok(vec![]));
    assert!(matches!(
        q.conversation_step("p".into(), "".into(), BTreeMap::new()),
        Err(QueueError::InvalidInput(_))
    ));
}

#[test]
fn a_megabyte_prompt_round_trips() {
    let q = queue();
    let prompt = "ä".repeat(512 * 1024); // 1 MiB of UTF-8
    let id = add(&q, &prompt);
    assert_eq!(q.next().expect("next").expect("some").prompt, prompt);
    assert_eq!(q.start(&id).expect("start").conversation.prompt.len(), 1024 * 1024);
}

#[test]
fn conversation_step_queues_and_pauses_on_the_id() {
    let q = queue();
    let meta = BTreeMap::from([("step".to_owned(), "review".to_owned())]);
    let id = q.conversation_step("approve?".into(), "wf-7".into(), meta.clone()).expect("step");
    let started = q.start(&id).expect("start");
    assert_eq!(started.conversation.workflow_id.as_deref(), Some("wf-7"));
    assert_eq!(started.conversation.metadata, meta);
    assert!(started.was_queued);
}

/// A store whose index writes lose the race a given number of times: just before each of
/// those writes, a "competing writer" appends its own id, so the write conflicts.
struct Racing {
    inner: MemoryStore,
    races_left: Cell<u32>,
    competing: Cell<u32>,
}

impl Racing {
    fn new(races: u32) -> Self {
        Self { inner: MemoryStore::new(), races_left: Cell::new(races), competing: Cell::new(0) }
    }
}

impl Store for Racing {
    fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        self.inner.get(key)
    }
    fn put(&self, key: &str, value: &[u8], expected: Precondition) -> Result<Version, StoreError> {
        if key == INDEX_KEY && self.races_left.get() > 0 {
            self.races_left.set(self.races_left.get() - 1);
            let n = self.competing.get() + 1;
            self.competing.set(n);
            let rival_id = format!("rival-{n}");
            let rival = Conversation {
                conversation_id: rival_id.clone(),
                prompt: format!("rival {n}"),
                created_at: "2026-01-01T00:00:00Z".into(),
                workflow_id: None,
                metadata: BTreeMap::new(),
            };
            self.inner.put(&conversation_key(&rival_id), &to_pretty_json(&rival), Precondition::Absent)?;
            let mut index: Index = match self.inner.get(INDEX_KEY)? {
                Some(e) => {
                    serde_json::from_slice(&e.value).map_err(|e| StoreError::Backend(e.to_string()))?
                }
                None => Index::default(),
            };
            index.queue.push(rival_id);
            self.inner.put(INDEX_KEY, &to_pretty_json(&index), Precondition::Any)?;
        }
        self.inner.put(key, value, expected)
    }
    fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        self.inner.delete(key, expected)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix)
    }
}

#[test]
fn cas_conflicts_are_retried_without_losing_either_write() {
    let q = Queue::new(Racing::new(3), FixedClock, Counter::default());
    let mine = add(&q, "mine");
    let queued: Vec<_> = q.list().expect("list").into_iter().map(|c| c.conversation_id).collect();
    assert_eq!(queued, vec!["rival-1", "rival-2", "rival-3", mine.as_str()]);

    // `next` loses two races too, and must pop exactly one id (the oldest) in the end.
    q.store.races_left.set(2);
    let popped = q.next().expect("next").expect("some");
    assert_eq!(popped.conversation_id, "rival-1");
    let queued: Vec<_> = q.list().expect("list").into_iter().map(|c| c.conversation_id).collect();
    assert_eq!(queued, vec!["rival-2", "rival-3", mine.as_str(), "rival-4", "rival-5"]);
}

#[test]
fn endless_contention_is_reported_not_looped_forever() {
    let q = Queue::new(Racing::new(u32::MAX), FixedClock, Counter::default());
    assert_eq!(
        q.add(NewConversation { prompt: "p".into(), ..Default::default() }),
        Err(QueueError::Contention(MAX_ATTEMPTS))
    );
}

#[test]
fn corrupt_index_is_reported_and_never_overwritten() {
    for bad in
        ["{not json", "[1,2]", r#"{"queue": "abc"}"#, r#"{"queue": ["a", "a"]}"#, r#"{"queue": ["../x"]}"#]
    {
        let q = queue();
        raw_put(&q.store, INDEX_KEY, bad);
        let err = q.add(NewConversation { prompt: "p".into(), ..Default::default() }).expect_err(bad);
        assert!(matches!(&err, QueueError::Corrupt { key, .. } if key == INDEX_KEY), "{bad}: {err}");
        assert!(matches!(q.next(), Err(QueueError::Corrupt { .. })));
        assert!(matches!(q.list(), Err(QueueError::Corrupt { .. })));
        assert_eq!(q.store.get(INDEX_KEY).expect("get").expect("kept").value, bad.as_bytes());
        assert_eq!(q.store.list("conversations/").expect("list"), vec![INDEX_KEY], "no orphan written");
    }
}

#[test]
fn corrupt_conversation_file_is_named() {
    let q = queue();
    let id = add(&q, "x");
    raw_put(&q.store, &conversation_key(&id), "{\"prompt\": 3}");
    let err = q.next().expect_err("corrupt");
    assert!(matches!(&err, QueueError::Corrupt { key, .. } if *key == conversation_key(&id)), "{err}");
    assert_eq!(q.list().expect_err("corrupt"), err);
    assert_eq!(q.store.get(INDEX_KEY).map(|e| e.is_some()), Ok(true));
    // The id stays queued: nothing was popped.
    raw_put(
        &q.store,
        &conversation_key(&id),
        &String::from_utf8(to_pretty_json(&Conversation {
            conversation_id: id.clone(),
            prompt: "fixed".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            workflow_id: None,
            metadata: BTreeMap::new(),
        }))
        .expect("utf8"),
    );
    assert_eq!(q.next().expect("next").expect("some").prompt, "fixed");
}

#[test]
fn queued_id_without_a_file_and_mismatched_ids_are_corrupt() {
    let q = queue();
    raw_put(&q.store, INDEX_KEY, r#"{"queue": ["ghost"]}"#);
    let err = q.next().expect_err("ghost");
    assert!(err.to_string().contains("conversations/ghost.json does not exist"), "{err}");
    let q = queue();
    raw_put(&q.store, &conversation_key("abc"), r#"{"conversation_id":"xyz","prompt":"p","created_at":"t"}"#);
    assert!(matches!(q.start("abc"), Err(QueueError::Corrupt { .. })));
}

#[test]
fn files_from_other_tools_are_read_and_their_extra_fields_kept() {
    let q = queue();
    raw_put(
        &q.store,
        &conversation_key("py-1"),
        r#"{"conversation_id":"py-1","prompt":"from python","created_at":"2024-05-01T10:00:00+00:00",
            "workflow_id":null,"metadata":{"n":3,"ok":true,"s":"x","nested":{"a":1}}}"#,
    );
    raw_put(&q.store, INDEX_KEY, r#"{"queue":["py-1"],"owner":"artificer"}"#);
    let listed = q.list().expect("list");
    assert_eq!(listed[0].metadata["n"], "3");
    assert_eq!(listed[0].metadata["ok"], "true");
    assert_eq!(listed[0].metadata["nested"], r#"{"a":1}"#);
    add(&q, "mine");
    let index: serde_json::Value =
        serde_json::from_slice(&q.store.get(INDEX_KEY).expect("get").expect("some").value).expect("json");
    assert_eq!(index["owner"], "artificer", "extra index field kept across a rewrite");
    assert_eq!(index["queue"].as_array().map(Vec::len), Some(2));
}

/// A clock a test moves by hand.
#[derive(Default)]
struct ManualClock(Cell<u64>);
impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        let ms = 1_795_316_842_000 + self.0.get();
        UnixTime { seconds: ms / 1000, nanoseconds: u32::try_from(ms % 1000).unwrap_or(0) * 1_000_000 }
    }
}

fn queue_with_clock() -> Queue<MemoryStore, ManualClock, Counter> {
    Queue::new(MemoryStore::new(), ManualClock::default(), Counter::default())
}

fn ids(conversations: Vec<Conversation>) -> Vec<String> {
    conversations.into_iter().map(|c| c.conversation_id).collect()
}

/// Issue #19: a killed `next` took a conversation off the queue without delivering it (2 in
/// 100 kills). `next` now leases: unless `start` confirms it, the conversation returns to
/// the front of the queue when the lease ends.
#[test]
fn next_leases_and_an_unstarted_conversation_comes_back_first() {
    let q = queue_with_clock();
    let a = q.add(NewConversation { prompt: "a".into(), ..Default::default() }).expect("add").conversation_id;
    let b = q.add(NewConversation { prompt: "b".into(), ..Default::default() }).expect("add").conversation_id;
    assert_eq!(q.next().expect("next").map(|c| c.conversation_id), Some(a.clone()));
    assert_eq!(ids(q.list().expect("list")), vec![b.clone()], "leased, not listed");
    q.clock.0.set(LEASE_MS - 1);
    assert_eq!(q.next().expect("next").map(|c| c.conversation_id), Some(b.clone()), "a is still leased");
    assert_eq!(q.next(), Ok(None));
    // Nobody started either: both come back, the earlier lease first.
    q.clock.0.set(2 * LEASE_MS);
    assert_eq!(ids(q.list().expect("list")), vec![a.clone(), b.clone()]);
    assert_eq!(q.next().expect("next").map(|c| c.conversation_id), Some(a.clone()));
    // Starting confirms the lease: it never comes back.
    let started = q.start(&a).expect("start");
    assert!(!started.was_queued, "next had taken it off the queue");
    q.clock.0.set(4 * LEASE_MS);
    assert_eq!(ids(q.list().expect("list")), vec![b.clone()]);
    // With no lease left the index is the seed format again.
    q.next().expect("next");
    q.start(&b).expect("start");
    let index: serde_json::Value =
        serde_json::from_slice(&q.store.get(INDEX_KEY).expect("get").expect("index").value).expect("json");
    assert_eq!(index, serde_json::json!({"queue": []}));
}

#[test]
fn index_is_not_a_conversation_id() {
    let q = queue();
    add(&q, "a");
    assert_eq!(q.start("index"), Err(QueueError::NotFound("index".into())));
}

/// A killed `add` can leave a conversation file that no index names (it wrote the file, not
/// yet the index). That is deliberate (the other order would leave an index entry without a
/// file, which breaks listing): such a file is never listed or handed out, and nobody was
/// told its id.
#[test]
fn a_conversation_file_no_index_names_is_ignored() {
    let q = queue();
    let a = add(&q, "a");
    raw_put(
        &q.store,
        &conversation_key("orphan-1"),
        r#"{"conversation_id": "orphan-1", "prompt": "half an add", "created_at": "2026-11-22T03:07:22Z"}"#,
    );
    assert_eq!(ids(q.list().expect("list")), vec![a.clone()]);
    assert_eq!(q.next().expect("next").map(|c| c.conversation_id), Some(a));
    assert_eq!(q.next(), Ok(None));
}

#[test]
fn unreadable_conversations_are_skipped_set_aside_and_forgotten() {
    let q = queue();
    let [a, b, c] = ["a", "b", "c"].map(|p| add(&q, p));
    let a_bytes = q.store.get(&conversation_key(&a)).expect("get").expect("a").value;
    for id in [&a, &c] {
        raw_put(&q.store, &conversation_key(id), "{half");
    }
    let skipped_ids = |s: &[SkippedEntry]| s.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert!(matches!(q.list(), Err(QueueError::Corrupt { .. })), "list still stops at the first");

    let (listed, skipped) = q.list_skipping().expect("list");
    assert_eq!((ids(listed), skipped_ids(&skipped)), (vec![b.clone()], vec![a.clone(), c.clone()]));
    assert_eq!(skipped[0].key, conversation_key(&a));
    assert!(skipped[0].detail.contains("not a conversation"), "{skipped:?}");

    let (next, aside) = q.next_skipping().expect("next");
    assert_eq!((next.map(|n| n.conversation_id), skipped_ids(&aside)), (Some(b.clone()), vec![a.clone()]));
    let (next, aside) = q.next_skipping().expect("next");
    assert_eq!((next, skipped_ids(&aside)), (None, vec![c.clone()]));
    let index: serde_json::Value =
        serde_json::from_slice(&q.store.get(INDEX_KEY).expect("get").expect("index").value).expect("json");
    assert_eq!(index["queue"], serde_json::json!([]), "{index}");
    assert!(index[CORRUPT_FIELD][&a].as_str().is_some_and(|d| d.contains("not a conversation")), "{index}");
    let mut both = vec![a.clone(), c.clone()];
    both.sort();
    let (listed, skipped) = q.list_skipping().expect("list");
    assert_eq!((listed.len(), skipped_ids(&skipped)), (0, both), "set aside: listed in id order");

    // Repaired: delivered and forgotten; gone: not found and forgotten.
    raw_put(&q.store, &conversation_key(&a), std::str::from_utf8(&a_bytes).expect("utf-8"));
    assert!(q.start_forgetting(&a).expect("start").was_queued);
    q.store.delete(&conversation_key(&c), Precondition::Any).expect("delete");
    assert_eq!(q.start_forgetting(&c), Err(QueueError::NotFound(c.clone())));
    assert_eq!(q.list_skipping(), Ok((vec![], vec![])));
}

#[test]
fn a_corrupt_field_that_is_not_an_object_is_reported_not_overwritten() {
    let q = queue();
    let a = add(&q, "a");
    raw_put(&q.store, &conversation_key(&a), "{half");
    let index = format!("{{\"queue\": [\"{a}\"], \"corrupt\": 3}}");
    raw_put(&q.store, INDEX_KEY, &index);
    let err = q.next_skipping().expect_err("refused");
    assert!(
        matches!(&err, QueueError::Corrupt { key, detail } if key == INDEX_KEY && detail.contains("\"corrupt\" field")),
        "{err:?}"
    );
    assert_eq!(q.store.get(INDEX_KEY).expect("get").expect("index").value, index.as_bytes());
}
