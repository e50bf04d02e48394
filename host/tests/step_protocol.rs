//! The step protocol (`builder.turn-begin`/`turn-resume`, WIT 0.3.1) driven through wasmtime
//! with a plain synchronous host: with the same clock, random bytes and LLM answers, a
//! stepped turn makes exactly the store, clock and random calls the blocking `turn` makes,
//! asks the same LLM requests, answers the same chunks and leaves the same stored bytes.

mod common;

use common::recording::wit::exports::kiln::engine::builder::{TurnInput, TurnStep};
use common::recording::{Drive, caller, first_difference, instantiate, options, run, transcript};

#[test]
fn a_stepped_turn_is_byte_identical_to_the_blocking_turn() {
    let blocking = run(Drive::Blocking);
    let stepped = run(Drive::Stepped);
    let kinds = |name: &str| blocking.iter().filter(|e| e[0] == name).count();
    assert!(kinds("llm") >= 3, "the transcript asks the LLM");
    assert!(
        blocking.iter().any(|e| e[0] == "progress" && e[1] == "Reading that again…"),
        "and repairs an answer"
    );
    assert!(kinds("chunk") >= 6 && kinds("put") >= 6 && kinds("fill") >= 1);
    if let Some(diff) = first_difference(&blocking, &stepped) {
        panic!("the stepped run differs from the blocking one at {diff}");
    }
}

/// A continuation dropped instead of resumed abandons its turn: nothing of it is stored,
/// and the session takes its next turn normally.
#[test]
fn a_dropped_continuation_stores_nothing() {
    let (mut store, world) = instantiate();
    let b = world.kiln_engine_builder();
    let id = b.call_start_session(&mut store, &caller()).expect("no trap").expect("session").session_id;
    let text = transcript()[0]["message"].as_str().expect("the transcript opens with a message").to_owned();
    let input = TurnInput::Message(text);
    let before = store.data().stored();
    let step =
        b.call_turn_begin(&mut store, &caller(), &id, &input, options()).expect("no trap").expect("step");
    let TurnStep::NeedsLlm(wait) = step else { panic!("an online turn asks the LLM first") };
    wait.continuation.resource_drop(&mut store).expect("drop");
    assert_eq!(store.data().stored(), before, "an abandoned turn writes nothing");
    let view = b.call_get_session(&mut store, &caller(), &id).expect("no trap").expect("view");
    assert_eq!(view.turn, 0);
    let offline =
        common::recording::wit::exports::kiln::engine::builder::TurnOptions { llm: false, ..options() };
    let step =
        b.call_turn_begin(&mut store, &caller(), &id, &input, offline).expect("no trap").expect("step");
    assert!(matches!(step, TurnStep::Done(_)), "offline, a turn needs no LLM");
    assert_eq!(b.call_get_session(&mut store, &caller(), &id).expect("no trap").expect("view").turn, 1);
}
