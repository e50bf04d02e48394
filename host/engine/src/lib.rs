//! `kiln-engine`: the engine (kiln.wasm, WIT package `kiln:engine`) as the host runs it,
//! embedded with wasmtime. It is the only host crate that sees wasmtime or the WIT's
//! generated types; the faces (the `kiln` binary's CLI and server) speak kiln-wire's types
//! through its typed clients.
//!
//! Names, one meaning each:
//! - the *engine* is the guest, kiln.wasm (WIT package `kiln:engine`, world `engine`, whose
//!   generated instance type is the private `bindings::Engine`); an [`EngineError`] is the
//!   engine failing to run a call (it could not load, or it trapped);
//! - wasmtime's own `Engine` (its compiler and settings) is always written
//!   `wasmtime::Engine`, inside [`runtime`] only;
//! - the [`Runtime`] loads and runs the engine (one per process);
//! - the [`Imports`] serve the engine's imports during one call;
//! - the typed clients, [`QueueClient`] and [`builder::BuilderClient`], call its exports.
//!
//! - [`runtime`]: one wasmtime `Engine`, the compiled component cached on disk, one
//!   `InstancePre`, and a fresh, limited `Store` per call.
//! - [`queue`]: the conversation queue, called through the component.
//! - [`builder`]: the builder conversation, called through the component.
//! - [`listing`]: what a listing says about the corrupt entries it skipped.
//! - [`journal`]: record a session's imports, turn by turn, and replay it through the
//!   component, reporting the first difference.
//! - [`imports`]: the host side of every import the guest makes, and [`Imports`], what serves
//!   them during one call.

mod bindings;
pub mod builder;
mod convert;
pub mod imports;
pub mod journal;
pub mod listing;
pub mod queue;
pub mod runtime;

pub use imports::Imports;
pub use queue::{QueueClient, QueueFailure};
pub use runtime::{EngineError, Limits, Runtime, RuntimeOptions};
