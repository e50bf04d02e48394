//! Kiln's deterministic core: pure logic that sees the outside world only through the
//! [`ports`] traits. The component (`kiln-component`) and, later, the browser build are thin
//! layers that implement those traits on top of their imports; native tests implement them
//! with [`memory::MemoryStore`] and fixed clocks and randomness.

pub mod builder;
mod case;
pub mod extract;
pub mod ids;
pub mod memory;
mod order;
pub mod ports;
pub mod queue;
pub mod timefmt;

pub use ports::{Clock, Entropy, Entry, Precondition, Store, StoreError, UnixTime, Version};
pub use queue::{Conversation, NewConversation, Queue, QueueError, Started};
