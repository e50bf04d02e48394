//! The kiln.wasm component: `kiln-core` behind the `kiln:engine` WIT world.
//!
//! This crate holds no logic. [`ports`] implements the core's port traits with the WIT
//! imports, and [`convert`] maps core types to and from the generated WIT types. The
//! generated bindings live in the private [`bindings`] module and never leak beyond it.

// Generated code is FFI glue: it needs `unsafe` and carries no docs of its own.
#[allow(unsafe_code, missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "engine",
    });

    use crate::Engine;
    export!(Engine with_types_in crate::bindings);
}

mod builder;
mod convert;
mod ports;

use bindings::exports::kiln::engine::queue::{
    Conversation, Guest, NewConversation, NextSkippingOutcome, QueueError, QueueListing, Started, StepOutcome,
};
use kiln_core::Queue;

/// The guest's allocator: every call's allocations come from a 512 KiB arena that starts over
/// once they are all freed, in front of std's (dlmalloc) for what does not fit. See
/// kiln-arena for why and what keeps it safe.
#[global_allocator]
static ALLOCATOR: kiln_arena::Arena<std::alloc::System> =
    kiln_arena::Arena::new(std::alloc::System, 512 * 1024);

/// The exported engine.
struct Engine;

/// The core's queue over the host's imports.
fn queue() -> Queue<ports::HostStore, ports::HostClock, ports::HostRandom> {
    Queue::new(ports::HostStore, ports::HostClock, ports::HostRandom)
}

impl Guest for Engine {
    fn add(request: NewConversation) -> Result<Conversation, QueueError> {
        let request = convert::new_conversation(request);
        queue().add(request).map(convert::conversation).map_err(convert::queue_error)
    }

    fn list() -> Result<Vec<Conversation>, QueueError> {
        let all = queue().list().map_err(convert::queue_error)?;
        Ok(all.into_iter().map(convert::conversation).collect())
    }

    fn next() -> Result<Option<Conversation>, QueueError> {
        queue().next().map(|c| c.map(convert::conversation)).map_err(convert::queue_error)
    }

    fn start(conversation_id: String) -> Result<Started, QueueError> {
        queue().start(&conversation_id).map(convert::started).map_err(convert::queue_error)
    }

    fn conversation_step(
        prompt: String,
        workflow_id: String,
        metadata: Vec<(String, String)>,
    ) -> Result<StepOutcome, QueueError> {
        queue()
            .conversation_step(prompt, workflow_id, metadata.into_iter().collect())
            .map(StepOutcome::Paused)
            .map_err(convert::queue_error)
    }

    fn list_skipping() -> Result<QueueListing, QueueError> {
        let (listed, skipped) = queue().list_skipping().map_err(convert::queue_error)?;
        Ok(QueueListing {
            conversations: listed.into_iter().map(convert::conversation).collect(),
            skipped: skipped.into_iter().map(convert::skipped_entry).collect(),
        })
    }

    fn next_skipping() -> Result<NextSkippingOutcome, QueueError> {
        let (next, aside) = queue().next_skipping().map_err(convert::queue_error)?;
        Ok(NextSkippingOutcome {
            conversation: next.map(convert::conversation),
            set_aside: aside.into_iter().map(convert::skipped_entry).collect(),
        })
    }

    fn start_forgetting(conversation_id: String) -> Result<Started, QueueError> {
        queue().start_forgetting(&conversation_id).map(convert::started).map_err(convert::queue_error)
    }
}
