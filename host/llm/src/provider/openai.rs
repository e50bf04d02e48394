//! Any OpenAI-compatible `/chat/completions` endpoint, with SSE streaming and JSON mode.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::http::{Http, Wire, exchange, in_band_error, truncated};
use super::{Key, Provider, ProviderOutput, ProviderRequest, schema_instruction};
use crate::config::{JsonMode, ProviderConfig};
use crate::error::{AttemptError, Cause, ErrorClass};
use crate::request::{StreamEvent, TokenSink};
use crate::sse;

#[derive(Debug)]
pub(crate) struct OpenAi {
    http: Http,
    model: String,
    key: Key,
    json_mode: JsonMode,
    max_tokens: Option<u32>,
}

impl OpenAi {
    pub(crate) fn new(config: &ProviderConfig, key: Key) -> Result<Self, String> {
        let url = format!("{}/chat/completions", config.base_url_or_default());
        Ok(Self {
            http: Http::new(config, url)?,
            model: config.model.clone().unwrap_or_default(),
            key,
            json_mode: config.json_mode,
            max_tokens: config.max_tokens,
        })
    }

    /// The request body.
    pub(crate) fn body(&self, request: &ProviderRequest<'_>) -> Value {
        let mut messages = Vec::with_capacity(request.messages.len() + 1);
        if let Some(schema) = request.json_schema
            && self.json_mode != JsonMode::Schema
        {
            messages.push(json!({"role": "system", "content": schema_instruction(schema)}));
        }
        messages
            .extend(request.messages.iter().map(|m| json!({"role": m.role.as_str(), "content": m.content})));
        let mut body = json!({"model": self.model, "messages": messages, "stream": request.stream});
        if let Some(max) = request.max_tokens.or(self.max_tokens) {
            body["max_tokens"] = json!(max);
        }
        if let Some(schema) = request.json_schema {
            match self.json_mode {
                JsonMode::Schema => {
                    body["response_format"] = json!({
                        "type": "json_schema",
                        "json_schema": {"name": "kiln_reply", "schema": schema, "strict": false}
                    });
                }
                JsonMode::Object => body["response_format"] = json!({"type": "json_object"}),
                JsonMode::Prompt => {}
            }
        }
        body
    }

    fn shape_error(&self, what: &str, v: &Value) -> AttemptError {
        AttemptError::new(
            ErrorClass::BadOutput,
            Cause::Body,
            format!(
                "unexpected response from {}: {what}: {}",
                self.http.url,
                super::http::snippet(&v.to_string())
            ),
        )
    }
}

#[async_trait]
impl Wire for OpenAi {
    fn http(&self) -> &Http {
        &self.http
    }

    /// The text of a non-streamed response.
    fn text_of(&self, v: &Value) -> Result<String, AttemptError> {
        if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
            return Err(in_band_error(&json!({"error": e}), &self.http.url));
        }
        let message =
            v.pointer("/choices/0/message").ok_or_else(|| self.shape_error("no choices[0].message", v))?;
        match message.get("content") {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => match message.get("refusal").and_then(Value::as_str) {
                Some(r) => Err(AttemptError::new(
                    ErrorClass::BadOutput,
                    Cause::Output,
                    format!("the model refused: {r}"),
                )),
                None => Err(self.shape_error("choices[0].message.content is not text", v)),
            },
        }
    }

    async fn stream(
        &self,
        mut response: reqwest::Response,
        sink: &mut dyn TokenSink,
    ) -> Result<String, AttemptError> {
        let mut parser = sse::Parser::default();
        let mut text = String::new();
        let mut finished = false;
        let mut read = 0;
        'read: while let Some(chunk) = self.http.stream_chunk(&mut response, &mut read).await? {
            for event in parser.feed(&chunk) {
                let data = event.data.trim();
                if data == "[DONE]" {
                    finished = true;
                    break 'read;
                }
                if data.is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(data).map_err(|e| {
                    AttemptError::new(
                        ErrorClass::BadOutput,
                        Cause::Body,
                        format!(
                            "malformed stream event from {} ({e}): {}",
                            self.http.url,
                            super::http::snippet(data)
                        ),
                    )
                })?;
                if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
                    return Err(in_band_error(&json!({"error": e}), &self.http.url));
                }
                if let Some(delta) = v.pointer("/choices/0/delta/content").and_then(Value::as_str)
                    && !delta.is_empty()
                {
                    sink.on_event(StreamEvent::Token(delta));
                    text.push_str(delta);
                }
                if v.pointer("/choices/0/finish_reason").is_some_and(Value::is_string) {
                    finished = true;
                }
            }
        }
        if !finished {
            return Err(truncated(&self.http.url, "its end marker", text.len(), parser.has_pending()));
        }
        Ok(text)
    }
}

#[async_trait]
impl Provider for OpenAi {
    async fn complete(
        &self,
        request: &ProviderRequest<'_>,
        sink: &mut dyn TokenSink,
    ) -> Result<ProviderOutput, AttemptError> {
        let key = self.key.get()?;
        let mut builder = self.http.post_json(&self.body(request));
        if request.stream {
            builder = builder.header(reqwest::header::ACCEPT, "text/event-stream");
        }
        if let Some(key) = key {
            builder = builder.bearer_auth(key.expose());
        }
        exchange(self, builder, request.stream, sink).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProviderKind;
    use crate::request::{ChatMessage, Role};

    fn provider(mode: JsonMode) -> OpenAi {
        let mut config = ProviderConfig::new(ProviderKind::Openai, "http://127.0.0.1:9/v1/", "m");
        config.json_mode = mode;
        config.max_tokens = Some(77);
        OpenAi::new(&config, Key::None).expect("provider")
    }

    #[test]
    fn bodies_for_each_json_mode() {
        let messages = [ChatMessage::new(Role::System, "be brief"), ChatMessage::new(Role::User, "hi")];
        let schema = json!({"type": "object"});
        let request = ProviderRequest {
            messages: &messages,
            json_schema: Some(&schema),
            max_tokens: None,
            stream: true,
        };
        let p = provider(JsonMode::Schema);
        assert_eq!(p.http.url, "http://127.0.0.1:9/v1/chat/completions");
        let body = p.body(&request);
        assert_eq!(body["model"], "m");
        assert_eq!(body["stream"], true);
        assert_eq!(body["max_tokens"], 77);
        assert_eq!(body["messages"].as_array().map(Vec::len), Some(2));
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["response_format"]["json_schema"]["schema"], schema);
        let object = provider(JsonMode::Object).body(&request);
        assert_eq!(object["response_format"], json!({"type": "json_object"}));
        assert_eq!(object["messages"][0]["role"], "system");
        assert!(object["messages"][0]["content"].as_str().is_some_and(|c| c.contains("JSON Schema")));
        let prompt = provider(JsonMode::Prompt).body(&ProviderRequest { max_tokens: Some(5), ..request });
        assert!(prompt.get("response_format").is_none());
        assert_eq!(prompt["max_tokens"], 5);
    }

    #[test]
    fn response_shapes() {
        let p = provider(JsonMode::Schema);
        assert_eq!(p.text_of(&json!({"choices": [{"message": {"content": "hi"}}]})).expect("text"), "hi");
        let refusal = p
            .text_of(&json!({"choices": [{"message": {"content": null, "refusal": "no"}}]}))
            .expect_err("refusal");
        assert_eq!(refusal.class, ErrorClass::BadOutput);
        assert!(p.text_of(&json!({"choices": []})).expect_err("shape").message.contains("no choices"));
        assert!(p.text_of(&json!({"choices": [{"message": {"content": 3}}]})).is_err());
        let in_band = p
            .text_of(&json!({"error": {"message": "overloaded", "type": "overloaded_error"}}))
            .expect_err("error");
        assert_eq!(in_band.class, ErrorClass::Transient);
        assert!(in_band.message.contains("overloaded"));
    }
}
