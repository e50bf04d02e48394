//! Issue #19: one corrupt entry blocked every listing of its kind. On every backend a
//! listing now skips it and names it, `next` sets a corrupt conversation aside and hands
//! out the next one, and no stored byte of the corrupt entry changes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kiln_engine::builder::BuilderClient;
use kiln_engine::queue::{CORRUPT_FIELD, QueueClient, QueueFailure};
use kiln_engine::{Imports, Runtime, RuntimeOptions};
use kiln_store::KvStore;
use kiln_store::testing::backends;
use kiln_wire::builder::Caller;
use kiln_wire::clock::{Clock, UnixTime};
use kiln_wire::queue::{INDEX_KEY, LEASE_MS, NewConversation, QueueError, conversation_key};
use kiln_wire::store::Precondition;
use serde_json::Value;

/// A clock the test moves by hand (milliseconds since the epoch).
struct TestClock(AtomicU64);
impl Clock for TestClock {
    fn now(&self) -> UnixTime {
        let ms = self.0.load(Ordering::SeqCst);
        UnixTime { seconds: ms / 1000, nanoseconds: u32::try_from(ms % 1000).unwrap_or(0) * 1_000_000 }
    }
}

const GARBAGE: &[u8] = b"{half a record";

fn runtime() -> Arc<Runtime> {
    Arc::new(Runtime::new(&RuntimeOptions::default()).expect("runtime"))
}

fn imports(store: &Arc<dyn KvStore>, clock: &Arc<TestClock>) -> Imports {
    Imports { clock: Arc::clone(clock) as _, ..Imports::system(Arc::clone(store)) }
}

async fn add(q: &QueueClient, prompt: &str) -> String {
    let request = NewConversation { prompt: prompt.into(), ..NewConversation::default() };
    q.add(request).await.expect("add").conversation_id
}

async fn index(s: &dyn KvStore) -> Value {
    serde_json::from_slice(&s.get(INDEX_KEY).await.expect("get").expect("index").value).expect("json")
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| id(i).to_owned()).collect()
}

#[tokio::test]
async fn a_corrupt_session_is_skipped_and_named_by_the_listing() {
    let runtime = runtime();
    let clock = Arc::new(TestClock(AtomicU64::new(1_795_316_842_000)));
    let who = Caller { tenant_id: "local".into(), user_id: "local".into() };
    for (name, s, _keep) in backends().await {
        let builder = BuilderClient::new(Arc::clone(&runtime), imports(&s, &clock));
        let bad = builder.start_session(&who).await.expect(name).session_id;
        let good = builder.start_session(&who).await.expect(name).session_id;
        let key = format!("sessions/{bad}.json");
        s.put(&key, GARBAGE.to_vec(), Precondition::Any).await.expect(name);

        let (listed, corrupt) = builder.list_sessions(&who).await.expect(name);
        assert_eq!(ids(&listed, |l| &l.session_id), vec![good], "{name}");
        assert_eq!(ids(&corrupt, |c| &c.id), vec![bad.clone()], "{name}");
        let error = &corrupt[0].error;
        assert!(
            error.contains(&key) && error.contains(&format!("kiln sessions delete {bad}")),
            "{name}: {error}"
        );
        assert_eq!(
            s.get(&key).await.expect(name).expect(name).value,
            GARBAGE,
            "{name}: the session was rewritten"
        );
    }
}

#[tokio::test]
async fn corrupt_conversations_are_listed_apart_and_next_sets_them_aside() {
    let runtime = runtime();
    let clock = Arc::new(TestClock(AtomicU64::new(1_795_316_842_000)));
    for (name, s, _keep) in backends().await {
        let q = QueueClient::new(Arc::clone(&runtime), imports(&s, &clock));
        let [a, b, c] = [add(&q, "a").await, add(&q, "b").await, add(&q, "c").await];
        let a_bytes = s.get(&conversation_key(&a)).await.expect(name).expect(name).value;
        for id in [&a, &c] {
            s.put(&conversation_key(id), GARBAGE.to_vec(), Precondition::Any).await.expect(name);
        }

        let (listed, corrupt) = q.list().await.expect(name);
        assert_eq!(ids(&listed, |l| &l.conversation_id), vec![b.clone()], "{name}");
        assert_eq!(ids(&corrupt, |c| &c.id), vec![a.clone(), c.clone()], "{name}");
        assert!(corrupt[0].error.contains(&format!("kiln conversations start {a}")), "{name}: {corrupt:?}");

        // The corrupt head is set aside, the next one handed out (and leased).
        let (next, aside) = q.next().await.expect(name);
        assert_eq!(next.map(|n| n.conversation_id), Some(b.clone()), "{name}");
        assert_eq!(ids(&aside, |c| &c.id), vec![a.clone()], "{name}");
        let stored = index(s.as_ref()).await;
        assert_eq!(stored["queue"], serde_json::json!([c]), "{name}: {stored}");
        assert!(stored["leased"][&b].is_u64(), "{name}: {stored}");
        assert!(
            stored[CORRUPT_FIELD][&a].as_str().is_some_and(|d| d.contains("not a conversation")),
            "{name}"
        );
        // Only corrupt ones left: both set aside, nothing handed out; listed apart.
        let (next, aside) = q.next().await.expect(name);
        assert_eq!((next, ids(&aside, |c| &c.id)), (None, vec![c.clone()]), "{name}");
        assert_eq!(q.next().await.expect(name), (None, vec![]), "{name}: the queue is empty now");
        // Set-aside conversations are listed in id order.
        let (listed, corrupt) = q.list().await.expect(name);
        let mut both = vec![a.clone(), c.clone()];
        both.sort();
        assert_eq!((listed.len(), ids(&corrupt, |c| &c.id)), (0, both), "{name}");
        for id in [&a, &c] {
            assert_eq!(s.get(&conversation_key(id)).await.expect(name).expect(name).value, GARBAGE, "{name}");
        }

        // Still corrupt: start names it and changes nothing.
        let err = q.start(&a).await.expect_err(name);
        assert!(matches!(err, QueueFailure::Queue(QueueError::Corrupt { .. })), "{name}: {err}");
        // Repaired: start delivers it (it was waiting, so was_queued) and forgets the mark.
        s.put(&conversation_key(&a), a_bytes, Precondition::Any).await.expect(name);
        assert!(q.start(&a).await.expect(name).was_queued, "{name}");
        // Moved aside: start answers not found and forgets the mark.
        s.delete(&conversation_key(&c), Precondition::Any).await.expect(name);
        let err = q.start(&c).await.expect_err(name);
        assert!(matches!(err, QueueFailure::Queue(QueueError::NotFound(_))), "{name}: {err}");
        assert_eq!(q.list().await.expect(name), (vec![], vec![]), "{name}");
        assert_eq!(index(s.as_ref()).await[CORRUPT_FIELD], serde_json::json!({}), "{name}");
    }
}

#[tokio::test]
async fn leases_still_return_and_a_lease_that_ends_on_a_corrupt_file_is_set_aside() {
    let runtime = runtime();
    for (name, s, _keep) in backends().await {
        let clock = Arc::new(TestClock(AtomicU64::new(1_795_316_842_000)));
        let q = QueueClient::new(Arc::clone(&runtime), imports(&s, &clock));
        let [a, b, c] = [add(&q, "a").await, add(&q, "b").await, add(&q, "c").await];
        let first = q.next().await.expect(name).0.expect(name).conversation_id;
        assert_eq!(first, a, "{name}");
        // `a` is leased and not started; its file goes bad meanwhile.
        s.put(&conversation_key(&a), GARBAGE.to_vec(), Precondition::Any).await.expect(name);
        clock.0.fetch_add(LEASE_MS, Ordering::SeqCst);
        // The ended lease puts `a` back at the front; it is set aside, `b` is handed out.
        let (next, aside) = q.next().await.expect(name);
        assert_eq!(
            (next.map(|n| n.conversation_id), ids(&aside, |c| &c.id)),
            (Some(b.clone()), vec![a.clone()])
        );
        // `b`'s lease ends unstarted: it comes back before `c` (at least once).
        clock.0.fetch_add(LEASE_MS, Ordering::SeqCst);
        assert_eq!(q.next().await.expect(name).0.map(|n| n.conversation_id), Some(b), "{name}");
        assert_eq!(q.next().await.expect(name).0.map(|n| n.conversation_id), Some(c), "{name}");
        assert_eq!(s.get(&conversation_key(&a)).await.expect(name).expect(name).value, GARBAGE, "{name}");
    }
}
