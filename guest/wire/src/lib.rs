//! Kiln's wire vocabulary: the plain types that cross the `kiln:engine` WIT contract
//! (queue, builder, llm) and the store contract every backend keeps. No logic beyond what
//! the types mean (names, messages, the key rule): the guest's core builds these values, and
//! a host speaks them without depending on the core (docs/architecture.md).

pub mod builder;
pub mod clock;
pub mod llm;
pub mod proxy;
pub mod queue;
pub mod store;
