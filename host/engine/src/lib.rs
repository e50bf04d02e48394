//! `kiln-engine`: the engine (kiln.wasm, WIT package `kiln:engine`) as the host runs it,
//! embedded with wasmtime. It is the only host crate that sees wasmtime or the WIT's
//! generated types; the faces (the `kiln` binary's CLI and server) speak kiln-wire's types
//! through its typed clients.
//!
//! - [`runtime`]: one wasmtime `Engine`, the compiled component cached on disk, one
//!   `InstancePre`, and a fresh, limited `Store` per call.
//! - [`queue`]: the conversation queue, called through the component.
//! - [`builder`]: the builder conversation, called through the component.
//! - [`listing`]: listings that skip corrupt entries and name them.
//! - [`services`]: what the host hands the guest besides storage: clock and randomness.

mod bindings;
pub mod builder;
mod convert;
mod imports;
pub mod listing;
pub mod queue;
pub mod runtime;
pub mod services;

pub use queue::{QueueClient, QueueFailure};
pub use runtime::{EngineError, Limits, Runtime, RuntimeOptions};
pub use services::Services;
