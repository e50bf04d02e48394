//! Metric names (through the `metrics` facade; the server installs a recorder for
//! `/metrics`). Every name is listed in docs/llm.md.

/// Counter: attempts, by `provider` and `class` (`ok`, `offline` or an error class).
pub const ATTEMPTS: &str = "kiln_llm_attempts_total";
/// Histogram (seconds): attempt latency, by `provider` and `class`.
pub const ATTEMPT_DURATION: &str = "kiln_llm_attempt_duration_seconds";
/// Counter: retries on the same provider, by `provider` and `class`.
pub const RETRIES: &str = "kiln_llm_retries_total";
/// Histogram (seconds): waits before retries, by `provider` and `source` (`hint`,
/// `backoff`, `fixed`).
pub const RETRY_DELAY: &str = "kiln_llm_retry_delay_seconds";
/// Counter: moves down the chain, by `from` and `to`.
pub const FALLBACKS: &str = "kiln_llm_fallbacks_total";
/// Counter: circuit breakers opened, by `provider`.
pub const COOLDOWNS: &str = "kiln_llm_cooldowns_total";
/// Counter: providers skipped because their breaker is open, by `provider`.
pub const COOLDOWN_SKIPS: &str = "kiln_llm_cooldown_skips_total";
/// Counter: calls, by `outcome` (`ok`, `offline`, `failed`) and `class`.
pub const CALLS: &str = "kiln_llm_calls_total";
/// Histogram (seconds): whole-call latency, by `outcome`.
pub const CALL_DURATION: &str = "kiln_llm_call_duration_seconds";
/// Counter: rounds after the first (every provider had failed for now, the chain was tried
/// again after a backoff).
pub const ROUNDS: &str = "kiln_llm_rounds_total";
