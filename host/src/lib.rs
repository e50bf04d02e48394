//! The Kiln host: embeds the kiln.wasm component with wasmtime and supplies its imports
//! (storage, clock, randomness).
//!
//! - [`runtime`]: one wasmtime `Engine`, the compiled component cached on disk, one
//!   `InstancePre`, and a fresh, limited `Store` per call.
//! - [`queue`]: the conversation queue, called through the component.
//! - [`builder`]: the builder conversation, called through the component.
//! - [`store`]: the storage backends behind the `store` import (`file`, `memory`).
//! - [`server`]: `kiln serve`, the HTTP API (axum) over the same clients.
//! - [`services`]: what the host hands the guest besides storage: clock and randomness.

mod bindings;
pub mod builder;
mod convert;
mod imports;
pub mod llm;
pub mod queue;
pub mod runtime;
pub mod server;
pub mod services;
pub mod store;

pub use queue::{QueueClient, QueueFailure};
pub use runtime::{EngineError, Limits, Runtime, RuntimeOptions};
pub use services::Services;
