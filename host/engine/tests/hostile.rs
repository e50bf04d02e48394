//! Hostile and broken guests (issue #18, item 6): the hostile test guest
//! (kiln-test-guests, built by its build.rs) loops, allocates without end, recurses, traps
//! mid-turn and answers garbage. The runtime stops each within its limits, answers a typed
//! error that says what stopped it, serves the next call, and the session stored before the
//! hostile turn is byte for byte what it was.

use std::sync::Arc;
use std::time::Duration;

use kiln_engine::builder::{BuilderClient, BuilderFailure, TurnInput};
use kiln_engine::imports::Silent;
use kiln_engine::{EngineError, Imports, Limits, Runtime, RuntimeOptions};
use kiln_store::MemoryStore;
use kiln_wire::builder::{BuilderError, Caller, TurnOptions};

fn who() -> Caller {
    Caller { tenant_id: "t".into(), user_id: "u".into() }
}

/// The hostile guest under `limits`, one call at a time.
fn hostile(limits: Limits) -> (BuilderClient, Arc<MemoryStore>) {
    let options = RuntimeOptions {
        component: Some(Arc::from(kiln_test_guests::HOSTILE)),
        limits,
        max_concurrent_calls: 1,
        ..Default::default()
    };
    let runtime = Arc::new(Runtime::new(&options).expect("the hostile guest loads: it implements the world"));
    let store = Arc::new(MemoryStore::new());
    (BuilderClient::new(runtime, Imports::system(store.clone())), store)
}

/// Small limits, so runaway guests are stopped in milliseconds of CPU (fuel counts
/// instructions, deterministically); the deadline is long enough never to fire first.
fn small() -> Limits {
    Limits { memory_bytes: 16 << 20, fuel: 50_000_000, deadline: Duration::from_secs(600) }
}

async fn say(
    client: &BuilderClient,
    id: &str,
    text: &str,
) -> Result<Vec<kiln_engine::builder::ChatChunk>, BuilderFailure> {
    let options = TurnOptions { llm: false, ..TurnOptions::default() };
    client.turn(&who(), id, TurnInput::Message(text.into()), options, Arc::new(Silent)).await
}

/// Runs `text` as a hostile turn on a fresh session and returns the engine's error, after
/// checking that the store is unchanged and the next call is served.
async fn contained(client: &BuilderClient, store: &MemoryStore, text: &str) -> String {
    let id = client.start_session(&who()).await.expect("session").session_id;
    let before = store.snapshot();
    let err = say(client, &id, text).await.expect_err("a hostile turn fails");
    assert_eq!(store.snapshot(), before, "{text}: the stored session is byte for byte what it was");
    let hello = say(client, &id, "hello").await.expect("the next turn is served");
    assert_eq!(hello[0].text, "hello");
    client.get_session(&who(), &id).await.expect("and the session still reads");
    match err {
        BuilderFailure::Engine(EngineError::Trap { operation, reason }) => {
            assert_eq!(operation, "turn");
            reason
        }
        other => panic!("{text}: expected the engine to be stopped, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_guests_are_stopped_by_their_limits_and_lose_nothing() {
    let (client, store) = hostile(small());
    let reason = contained(&client, &store, "loop").await;
    assert!(reason.contains("used up its fuel (50000000 units)"), "{reason}");
    let reason = contained(&client, &store, "alloc").await;
    assert!(reason.contains("growing memory"), "{reason}");
    // The guest's shadow stack (in its linear memory, 1 MiB) runs out before wasmtime's
    // call stack: the overflow is an access below the memory's start.
    let reason = contained(&client, &store, "recurse").await;
    assert!(reason.contains("out of bounds memory access"), "{reason}");
    let reason = contained(&client, &store, "trap").await;
    assert!(reason.contains("unreachable"), "{reason}");
}

/// With fuel to spare, the epoch deadline is what stops a loop (a guest could also wait on
/// slow imports; the deadline covers host calls too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_with_fuel_to_spare_is_stopped_by_the_deadline() {
    let (client, store) = hostile(Limits { fuel: u64::MAX, deadline: Duration::from_millis(50), ..small() });
    let reason = contained(&client, &store, "loop").await;
    assert!(reason.contains("ran past its 50ms deadline"), "{reason}");
}

/// Garbage the bindings accept is refused at the host's edge: nothing of it reaches a person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_answers_are_refused_with_a_typed_error() {
    let (client, store) = hostile(small());
    let id = client.start_session(&who()).await.expect("session").session_id;
    let before = store.snapshot();
    for (text, says) in [
        ("bad-json", "agent spec that is not JSON"),
        ("bad-count", "reported 4294967295 chunks but emitted 1"),
        ("other-session", "a chunk of session \"someone-else\""),
    ] {
        match say(&client, &id, text).await {
            Err(BuilderFailure::Builder(BuilderError::Internal(why))) => {
                assert!(why.contains(says), "{text}: {why}")
            }
            other => panic!("{text}: expected an internal error, got {other:?}"),
        }
    }
    match client.export_agent(&who(), &id).await {
        Err(BuilderFailure::Builder(BuilderError::Internal(why))) => {
            assert!(why.contains("not JSON"), "{why}")
        }
        other => panic!("export: expected an internal error, got {other:?}"),
    }
    // Asking for 4 GiB of randomness gets the host's bound, not an out-of-memory host.
    let random = say(&client, &id, "random").await.expect("a bounded answer");
    assert_eq!(random[0].text, (1 << 20).to_string());
    assert_eq!(store.snapshot(), before, "no garbage was stored");
}
