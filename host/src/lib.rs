//! The `kiln` binary's library: its faces and their wiring, over the engine
//! (`kiln-engine`), the stores (`kiln-store`) and the LLM layer (`kiln-llm`).
//!
//! - [`server`]: `kiln serve`, the HTTP API (axum) over the engine's typed clients.
//! - [`llm`]: the LLM layer as the backend of the guest's `llm` import.
//!
//! The CLI (`src/cli`) is the binary's own module.

pub mod llm;
pub mod server;
