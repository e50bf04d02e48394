//! `kiln conversations ...`: the queue from the command line (SPEC §3).

use std::collections::BTreeMap;
use std::io::Read as _;

use clap::{Args, Subcommand};
use kiln_engine::QueueClient;
use kiln_wire::queue::{Conversation, NewConversation};
use serde_json::json;

use super::output::{Failure, Output, warn_skipped};

/// Queue commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a conversation and append it to the queue; prints its id.
    Add(NewArgs),
    /// Show every queued conversation, oldest first.
    List,
    /// Take the oldest conversation off the queue and show it (exit 1 when empty).
    Next,
    /// Start a conversation by id: takes it off the queue if it is there (exit 1 if unknown).
    Start {
        /// The conversation id.
        id: String,
    },
    /// Workflow step: queue a conversation for a workflow, which pauses until it is started.
    Step(StepArgs),
}

/// A new conversation.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The opening text; `-` reads it from standard input (for long prompts).
    prompt: String,
    /// The workflow waiting on this conversation.
    #[arg(long, value_name = "ID")]
    workflow_id: Option<String>,
    /// Metadata, repeatable.
    #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = parse_meta)]
    meta: Vec<(String, String)>,
}

/// A workflow step.
#[derive(Debug, Args)]
pub struct StepArgs {
    /// The opening text; `-` reads it from standard input.
    prompt: String,
    /// The workflow that pauses on this conversation.
    #[arg(long, value_name = "ID", required = true)]
    workflow_id: String,
    /// Metadata, repeatable.
    #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = parse_meta)]
    meta: Vec<(String, String)>,
}

fn parse_meta(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{raw:?} is not KEY=VALUE (for example --meta team=ops)")),
    }
}

/// `-` means standard input.
fn read_prompt(prompt: String) -> Result<String, Failure> {
    if prompt != "-" {
        return Ok(prompt);
    }
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes).map_err(|e| Failure {
        kind: "invalid-input",
        message: format!("could not read the prompt from stdin: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|e| Failure {
        kind: "invalid-input",
        message: format!(
            "the prompt on stdin is not UTF-8 text (bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

fn metadata(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    pairs.into_iter().collect()
}

/// Runs one queue command.
pub async fn run(cmd: Command, queue: &QueueClient, out: &Output) -> Result<(), Failure> {
    let fail = |e| Failure::queue(e, |key| queue.locate(key));
    match cmd {
        Command::Add(args) => {
            let request = NewConversation {
                prompt: read_prompt(args.prompt)?,
                workflow_id: args.workflow_id,
                metadata: metadata(args.meta),
            };
            let c = queue.add(request).await.map_err(fail)?;
            out.print(&c, || c.conversation_id.clone());
        }
        Command::List => {
            let (all, corrupt) = queue.list().await.map_err(fail)?;
            out.print(&all, || {
                all.iter()
                    .map(|c| format!("{}  {}", c.conversation_id, summary(&c.prompt)))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            warn_skipped(&corrupt, |key| queue.locate(key));
            if all.is_empty() && corrupt.is_empty() && !out.json {
                eprintln!("the queue is empty");
            }
        }
        Command::Next => match queue
            .next()
            .await
            .map_err(fail)
            .inspect(|(_, aside)| warn_skipped(aside, |key| queue.locate(key)))?
            .0
        {
            Some(c) => out.print(&c, || format!("{}\n\nconversation_id: {}", c.prompt, c.conversation_id)),
            None => {
                return Err(Failure {
                    kind: "empty",
                    message:
                        "the queue is empty: nothing to take. Add one with `kiln conversations add <prompt>`"
                            .into(),
                });
            }
        },
        Command::Start { id } => {
            let started = queue.start(&id).await.map_err(fail)?;
            let c = &started.conversation;
            let body = json!({ "conversation": c, "was_queued": started.was_queued });
            out.print(&body, || details(c, started.was_queued));
        }
        Command::Step(args) => {
            let request = NewConversation {
                prompt: read_prompt(args.prompt)?,
                workflow_id: Some(args.workflow_id.clone()),
                metadata: metadata(args.meta),
            };
            let id = queue.conversation_step(request).await.map_err(fail)?;
            let body = json!({ "status": "paused", "conversation_id": id, "workflow_id": args.workflow_id });
            out.print(&body, || format!("paused {id}"));
        }
    }
    Ok(())
}

/// The first line of a prompt, cut to 72 characters.
fn summary(prompt: &str) -> String {
    const WIDTH: usize = 72;
    let first = prompt.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let more = first.chars().count() > WIDTH || prompt.trim().lines().count() > 1;
    let cut: String = first.chars().take(WIDTH).collect();
    if more { format!("{cut}…") } else { cut }
}

fn details(c: &Conversation, was_queued: bool) -> String {
    let mut lines = vec![
        format!("conversation_id: {}", c.conversation_id),
        format!("created_at: {}", c.created_at),
        format!("workflow_id: {}", c.workflow_id.as_deref().unwrap_or("-")),
    ];
    for (k, v) in &c.metadata {
        lines.push(format!("meta {k}: {v}"));
    }
    lines.push(format!(
        "status: {}",
        if was_queued { "started (taken off the queue)" } else { "started (was not queued)" }
    ));
    lines.push(String::new());
    lines.push(c.prompt.clone());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_one_short_line() {
        assert_eq!(summary("hello"), "hello");
        assert_eq!(summary("\n  first line\nsecond"), "first line…");
        assert_eq!(summary(&"x".repeat(100)).chars().count(), 73);
    }

    #[test]
    fn meta_needs_key_and_equals() {
        assert_eq!(parse_meta("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_meta("a="), Ok(("a".into(), String::new())));
        assert!(parse_meta("novalue").is_err());
        assert!(parse_meta("=v").is_err());
    }
}
