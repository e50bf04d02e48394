//! The Kiln host: embeds the kiln.wasm component with wasmtime and supplies its imports
//! (storage, clock, randomness).
//!
//! - [`runtime`]: one wasmtime `Engine`, the compiled component cached on disk, one
//!   `InstancePre`, and a fresh, limited `Store` per call.
//! - [`queue`]: the conversation queue, called through the component.
//! - [`builder`]: the builder conversation, called through the component.
//! - [`listing`]: listings that skip corrupt entries and name them.
//! - [`server`]: `kiln serve`, the HTTP API (axum) over the same clients.
//! - [`services`]: what the host hands the guest besides storage: clock and randomness.

mod bindings;
pub mod builder;
mod convert;
mod imports;
pub mod listing;
pub mod llm;
pub mod queue;
pub mod runtime;
pub mod server;
pub mod services;

pub use queue::{QueueClient, QueueFailure};
pub use runtime::{EngineError, Limits, Runtime, RuntimeOptions};
pub use services::Services;
