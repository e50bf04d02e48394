//! `kiln llm complete`: one call through the whole LLM layer (providers, retries, the
//! fallback chain), for debugging a `models.yaml`.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use clap::{Args, Subcommand};
use kiln::llm::StoreShared;
use kiln_llm::{Attempt, ChatMessage, CompletionRequest, Config, LlmLayer, Reply, Role, StreamEvent};
use kiln_store::StoreChoice;
use serde_json::json;

use super::output::{Failure, Output, line};

/// LLM commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send one prompt through the layer (providers, retries, fallback chain).
    ///
    /// Prints the reply as it streams; attempts that needed retries or fallbacks are
    /// summarised on stderr. With `--json`, an object with text, provider, model, attempts
    /// and fallback_depth. Exits 1 with the final error class when every provider failed.
    Complete(CompleteArgs),
}

/// One completion.
#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The prompt; `-` reads it from standard input.
    prompt: String,
    /// The models.yaml to use; without one, the embedded offline default.
    #[arg(long, env = "KILN_MODELS", value_name = "FILE")]
    config: Option<PathBuf>,
    /// A system message to send first.
    #[arg(long, value_name = "TEXT")]
    system: Option<String>,
    /// A session id: picks the session's rollout slice for every flag.
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// The most tokens to generate.
    #[arg(long, value_name = "N")]
    max_tokens: Option<u32>,
    /// A JSON Schema file: ask for a JSON reply matching it.
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
}

/// Runs an LLM command; `store` keeps the circuit breakers that other runs share.
pub async fn run(cmd: Command, store: &StoreChoice, out: &Output) -> Result<(), Failure> {
    match cmd {
        Command::Complete(args) => complete(args, store, out).await,
    }
}

/// Loads `path`, or the offline default without one.
pub fn load_config(path: Option<&Path>) -> Result<Config, Failure> {
    match path {
        None => Ok(Config::default_offline()),
        Some(p) => Config::load(p).map_err(|e| Failure { kind: "invalid-config", message: e.to_string() }),
    }
}

async fn complete(args: CompleteArgs, store: &StoreChoice, out: &Output) -> Result<(), Failure> {
    let config = load_config(args.config.as_deref())?;
    let layer =
        LlmLayer::new(config).map_err(|e| Failure { kind: "invalid-config", message: e.to_string() })?;
    // A provider another run found down is skipped here too; without the store each run
    // learns it alone, which is worse but still works.
    let layer = match store.open().await {
        Ok(store) => layer.with_shared_state(Arc::new(StoreShared::new(store))),
        Err(e) => {
            eprintln!("kiln: the store is unavailable ({e}); circuit breakers are this run's alone");
            layer
        }
    };
    let json_schema = match &args.schema {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Failure {
                kind: "invalid-input",
                message: format!("cannot read the schema {}: {e}", path.display()),
            })?;
            Some(serde_json::from_str(&text).map_err(|e| Failure {
                kind: "invalid-input",
                message: format!("the schema {} is not JSON: {e}", path.display()),
            })?)
        }
    };
    let mut messages = Vec::new();
    if let Some(system) = args.system {
        messages.push(ChatMessage::new(Role::System, system));
    }
    messages.push(ChatMessage::new(Role::User, read_prompt(args.prompt)?));
    let request = CompletionRequest {
        messages,
        json_schema,
        max_tokens: args.max_tokens,
        session_id: args.session,
        stream: true,
    };

    let json = out.json;
    let mut printed = false;
    let mut sink = |event: StreamEvent<'_>| match event {
        StreamEvent::Token(t) if !json => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(t.as_bytes());
            let _ = stdout.flush();
            printed = true;
        }
        StreamEvent::Token(_) => {}
        StreamEvent::Discard { provider, reason } => {
            if !json {
                eprintln!("\n[the partial reply from {provider} above is void ({reason}); retrying]");
            }
        }
    };
    let result = layer.complete(&request, &mut sink).await;
    if printed {
        line("");
    }
    match result {
        Ok(Reply::Completion(c)) => {
            if json {
                out.print(&c, String::new);
            } else if c.attempts.len() > 1 {
                summarise(&c.attempts);
                eprintln!("answered by {} ({}) at fallback depth {}", c.provider, c.model, c.fallback_depth);
            }
            Ok(())
        }
        Ok(Reply::Offline(o)) => {
            if json {
                let value = json!({
                    "offline": true, "text": null, "provider": o.provider, "model": null,
                    "attempts": o.attempts, "fallback_depth": o.fallback_depth,
                });
                out.print(&value, String::new);
            } else {
                summarise(&o.attempts);
                eprintln!(
                    "offline: no model answered (the chain reached `{}`); Kiln's rule-based path answers instead. \
                     Give a models.yaml with --config or KILN_MODELS to use a model.",
                    o.provider
                );
            }
            Ok(())
        }
        Err(f) => {
            if json {
                let value = json!({
                    "text": null, "provider": null, "model": null, "attempts": f.attempts,
                    "fallback_depth": null, "class": f.class, "message": f.message,
                });
                out.print(&value, String::new);
            } else {
                summarise(&f.attempts);
            }
            Err(Failure { kind: f.class.as_str(), message: f.to_string() })
        }
    }
}

/// One line per failed attempt, on stderr.
fn summarise(attempts: &[Attempt]) {
    for a in attempts.iter().filter(|a| a.class.is_some()) {
        let class = a.class.map_or("", |c| c.as_str());
        let wait = if a.delay_ms > 0 { format!(", waited {} ms", a.delay_ms) } else { String::new() };
        let next =
            serde_json::to_value(a.next).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        eprintln!(
            "attempt on {} ({}, depth {}): {class}: {}{wait}; next: {next}",
            a.provider,
            a.model,
            a.depth,
            a.message.as_deref().unwrap_or("")
        );
    }
}

/// `-` means standard input.
fn read_prompt(prompt: String) -> Result<String, Failure> {
    if prompt != "-" {
        return Ok(prompt);
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| Failure {
        kind: "invalid-input",
        message: format!("could not read the prompt from stdin (UTF-8 text expected): {e}"),
    })?;
    Ok(text)
}
