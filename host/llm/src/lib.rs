//! Kiln's LLM layer (SPEC §4): one call through an ordered chain of providers, with
//! classified errors, dynamic retry delays, a circuit breaker per provider and feature
//! flags rolled out by session.
//!
//! - Providers: `openai` (any OpenAI-compatible `/chat/completions`, SSE streaming, JSON
//!   schema / JSON mode), `anthropic` (Messages API, streaming) and `offline` (no network:
//!   [`Reply::Offline`] hands over to the guest's rule-based path).
//! - Errors: [`ErrorClass`] per SPEC §4's table, from statuses, provider error codes,
//!   `x-should-retry`, transport failures and truncated streams.
//! - Retries: only this layer retries (the HTTP client never does). With
//!   `p1_dynamic_retry_delays` on, server hints are followed exactly (capped), else
//!   exponential backoff with full jitter; always an attempt limit and a per-call
//!   deadline, failing fast when a hint exceeds what is left. Off: a fixed short delay.
//! - Fallback (`p2_fallback_chain`): the next provider on exhaustion, refusal or timeout;
//!   a larger window after context-too-long; breakers skip a provider that keeps failing
//!   and probe it after a cooldown. Off: the first provider only.
//! - Configuration: [`Config`] (`models.yaml`), [`Flags`] with environment overrides and
//!   stable rollout slices. API keys only from environment variables, never shown.
//! - Observability: `tracing` events for every attempt and metrics through the `metrics`
//!   facade (names in [`telemetry`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use kiln_llm::{Config, CompletionRequest, LlmLayer, NoSink, Reply};
//! let layer = LlmLayer::new(Config::load("models.yaml".as_ref())?)?;
//! match layer.complete(&CompletionRequest::prompt("Say hi"), &mut NoSink).await? {
//!     Reply::Completion(c) => println!("{} (from {} at depth {})", c.text, c.provider, c.fallback_depth),
//!     Reply::Offline(_) => println!("offline: the rule-based path answers"),
//! }
//! # Ok(()) }
//! ```

mod breaker;
mod clock;
mod config;
mod error;
mod flags;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod layer;
mod provider;
mod request;
mod retry;
mod schema;
mod secret;
mod sse;
pub mod telemetry;

pub use breaker::SharedState;
pub use clock::{Clock, SystemClock};
pub use config::{
    Config, ConfigError, FallbackFlagConfig, FlagConfig, JsonMode, PatternsConfig, Percent, ProviderConfig,
    ProviderKind, RetryConfig,
};
pub use error::{ErrorClass, LlmFailure};
pub use flags::{Flag, Flags, rollout_bucket};
pub use layer::LlmLayer;
pub use request::{
    Attempt, ChatMessage, Completion, CompletionRequest, Next, NoSink, OfflineReply, Reply, Role,
    StreamEvent, TokenSink,
};
pub use retry::{full_jitter, hint_from_headers, parse_go_duration};
pub use secret::Secret;
