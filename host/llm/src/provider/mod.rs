//! Providers behind one trait: `openai`, `anthropic`, `offline`.

mod anthropic;
mod http;
mod openai;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{ConfigError, ProviderConfig, ProviderKind};
use crate::error::AttemptError;
use crate::request::{ChatMessage, TokenSink};
use crate::secret::Secret;

/// What the layer asks of one attempt.
#[derive(Debug)]
pub(crate) struct ProviderRequest<'a> {
    pub messages: &'a [ChatMessage],
    pub json_schema: Option<&'a serde_json::Value>,
    pub max_tokens: Option<u32>,
    pub stream: bool,
}

/// What one attempt produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ProviderOutput {
    /// The model's reply.
    Text(String),
    /// No model here: hand over to the rule-based path.
    Offline,
}

/// One provider: one attempt at a time, no retries (the layer retries).
#[async_trait]
pub(crate) trait Provider: Send + Sync + std::fmt::Debug {
    /// One attempt. Streamed tokens go to `sink` when `request.stream`.
    async fn complete(
        &self,
        request: &ProviderRequest<'_>,
        sink: &mut dyn TokenSink,
    ) -> Result<ProviderOutput, AttemptError>;
}

/// The `offline` provider.
#[derive(Debug)]
pub(crate) struct Offline;

#[async_trait]
impl Provider for Offline {
    async fn complete(
        &self,
        _: &ProviderRequest<'_>,
        _: &mut dyn TokenSink,
    ) -> Result<ProviderOutput, AttemptError> {
        Ok(ProviderOutput::Offline)
    }
}

/// A provider's API key.
#[derive(Debug, Clone)]
pub(crate) enum Key {
    /// None configured (local servers).
    None,
    /// Read from the environment.
    Set(Secret),
    /// `api_key_env` names this variable, which is not set: every attempt fails with a
    /// permanent error, without a request.
    Missing(String),
}

impl Key {
    /// The key, or the permanent failure of a missing one.
    pub(crate) fn get(&self) -> Result<Option<&Secret>, AttemptError> {
        match self {
            Self::None => Ok(None),
            Self::Set(s) => Ok(Some(s)),
            Self::Missing(var) => Err(AttemptError::new(
                crate::ErrorClass::Permanent,
                crate::error::Cause::Config,
                format!(
                    "the API key is missing: environment variable {var} (api_key_env) is not set; export it, or remove the provider from fallback_chain"
                ),
            )),
        }
    }
}

/// Builds the provider for a config entry.
pub(crate) fn build(name: &str, config: &ProviderConfig, key: Key) -> Result<Arc<dyn Provider>, ConfigError> {
    let fail = |message: String| ConfigError::Provider { name: name.to_owned(), message };
    Ok(match config.kind {
        ProviderKind::Offline => Arc::new(Offline),
        ProviderKind::Openai => Arc::new(openai::OpenAi::new(config, key).map_err(fail)?),
        ProviderKind::Anthropic => Arc::new(anthropic::Anthropic::new(config, key).map_err(fail)?),
    })
}

/// The instruction that asks for JSON matching a schema, for providers that cannot be
/// given the schema natively.
pub(crate) fn schema_instruction(schema: &serde_json::Value) -> String {
    format!(
        "Reply with only a JSON document that matches this JSON Schema: no prose, no code fences.\n{}",
        serde_json::to_string(schema).unwrap_or_default()
    )
}
