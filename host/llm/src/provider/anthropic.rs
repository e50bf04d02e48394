//! Anthropic's Messages API (`POST /v1/messages`), with streaming.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::http::{Http, Wire, exchange, in_band_error, snippet, truncated};
use super::{Key, Provider, ProviderOutput, ProviderRequest, schema_instruction};
use crate::config::ProviderConfig;
use crate::error::{AttemptError, Cause, ErrorClass};
use crate::request::{Role, StreamEvent, TokenSink};
use crate::sse;

/// `anthropic-version` unless configured.
const DEFAULT_VERSION: &str = "2023-06-01";
/// `max_tokens` is required by the API.
const DEFAULT_MAX_TOKENS: u32 = 4096;

#[derive(Debug)]
pub(crate) struct Anthropic {
    http: Http,
    model: String,
    key: Key,
    version: String,
    max_tokens: u32,
}

impl Anthropic {
    pub(crate) fn new(config: &ProviderConfig, key: Key) -> Result<Self, String> {
        // Both `https://api.anthropic.com` and `.../v1` are common spellings of the root.
        let root = config.base_url_or_default();
        let url = format!("{}/v1/messages", root.strip_suffix("/v1").unwrap_or(root));
        Ok(Self {
            http: Http::new(config, url)?,
            model: config.model.clone().unwrap_or_default(),
            key,
            version: config.anthropic_version.clone().unwrap_or_else(|| DEFAULT_VERSION.to_owned()),
            max_tokens: config.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        })
    }

    /// The request body: system messages go to the top-level `system`, the rest stay in
    /// order; a schema becomes an instruction in `system`.
    pub(crate) fn body(&self, request: &ProviderRequest<'_>) -> Value {
        let mut system: Vec<String> =
            request.messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.clone()).collect();
        if let Some(schema) = request.json_schema {
            system.push(schema_instruction(schema));
        }
        let messages: Vec<Value> = request
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        let mut body = json!({
            "model": self.model,
            "max_tokens": request.max_tokens.unwrap_or(self.max_tokens),
            "messages": messages,
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if request.stream {
            body["stream"] = json!(true);
        }
        body
    }
}

#[async_trait]
impl Wire for Anthropic {
    fn http(&self) -> &Http {
        &self.http
    }

    fn text_of(&self, v: &Value) -> Result<String, AttemptError> {
        if v.get("type").and_then(Value::as_str) == Some("error") {
            return Err(in_band_error(v, &self.http.url));
        }
        let blocks = v.get("content").and_then(Value::as_array).ok_or_else(|| {
            AttemptError::new(
                ErrorClass::BadOutput,
                Cause::Body,
                format!(
                    "unexpected response from {}: no content blocks: {}",
                    self.http.url,
                    snippet(&v.to_string())
                ),
            )
        })?;
        Ok(blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect())
    }

    async fn stream(
        &self,
        mut response: reqwest::Response,
        sink: &mut dyn TokenSink,
    ) -> Result<String, AttemptError> {
        let mut parser = sse::Parser::default();
        let mut text = String::new();
        let mut stopped = false;
        let mut read = 0;
        'read: while let Some(chunk) = self.http.stream_chunk(&mut response, &mut read).await? {
            for event in parser.feed(&chunk) {
                let v: Value = serde_json::from_str(&event.data).map_err(|e| {
                    AttemptError::new(
                        ErrorClass::BadOutput,
                        Cause::Body,
                        format!(
                            "malformed stream event from {} ({e}): {}",
                            self.http.url,
                            snippet(&event.data)
                        ),
                    )
                })?;
                match v.get("type").and_then(Value::as_str).or(event.event.as_deref()) {
                    Some("content_block_delta") => {
                        if let Some(t) = v.pointer("/delta/text").and_then(Value::as_str)
                            && !t.is_empty()
                        {
                            sink.on_event(StreamEvent::Token(t));
                            text.push_str(t);
                        }
                    }
                    Some("message_stop") => {
                        stopped = true;
                        break 'read;
                    }
                    Some("error") => return Err(in_band_error(&v, &self.http.url)),
                    _ => {}
                }
            }
        }
        if !stopped {
            return Err(truncated(&self.http.url, "message_stop", text.len(), parser.has_pending()));
        }
        Ok(text)
    }
}

#[async_trait]
impl Provider for Anthropic {
    async fn complete(
        &self,
        request: &ProviderRequest<'_>,
        sink: &mut dyn TokenSink,
    ) -> Result<ProviderOutput, AttemptError> {
        let key = self.key.get()?;
        let mut builder = self.http.post_json(&self.body(request)).header("anthropic-version", &self.version);
        if let Some(key) = key {
            builder = builder.header("x-api-key", key.expose());
        }
        exchange(self, builder, request.stream, sink).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProviderKind;
    use crate::request::ChatMessage;

    #[test]
    fn body_and_response_shapes() {
        let config = ProviderConfig::new(ProviderKind::Anthropic, "http://127.0.0.1:9", "claude");
        let p = Anthropic::new(&config, Key::None).expect("provider");
        assert_eq!(p.http.url, "http://127.0.0.1:9/v1/messages");
        let v1 = ProviderConfig::new(ProviderKind::Anthropic, "http://127.0.0.1:9/v1/", "claude");
        assert_eq!(
            Anthropic::new(&v1, Key::None).expect("provider").http.url,
            "http://127.0.0.1:9/v1/messages"
        );
        let messages = [
            ChatMessage::new(Role::System, "one"),
            ChatMessage::new(Role::User, "hi"),
            ChatMessage::new(Role::System, "two"),
        ];
        let request =
            ProviderRequest { messages: &messages, json_schema: None, max_tokens: None, stream: false };
        let body = p.body(&request);
        assert_eq!(body["system"], "one\n\ntwo");
        assert_eq!(body["max_tokens"], 4096);
        assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
        assert!(body.get("stream").is_none());
        let v = json!({"content": [{"type": "text", "text": "a"}, {"type": "tool_use"}, {"type": "text", "text": "b"}]});
        assert_eq!(p.text_of(&v).expect("text"), "ab");
        assert_eq!(p.text_of(&json!({})).expect_err("shape").class, ErrorClass::BadOutput);
        let e = p
            .text_of(&json!({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}))
            .expect_err("error");
        assert_eq!(e.class, ErrorClass::Transient);
    }
}
