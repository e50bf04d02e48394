//! `kiln sessions ...`, `kiln agent ...` and `kiln diagram`: builder sessions and their
//! drafts outside a conversation.

use std::path::PathBuf;

use clap::Subcommand;
use std::sync::Arc;

use kiln_engine::Runtime;
use kiln_engine::builder::{BuilderClient, BuilderFailure};
use kiln_engine::journal::{Journal, JournalError};
use kiln_wire::builder::Caller;
use serde_json::json;

use super::output::{Failure, Output, line, warn_skipped};

/// Session commands.
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Your sessions, most recent first.
    List,
    /// One session: phase, requirements, connections, history.
    Show {
        /// Session id.
        id: String,
    },
    /// Delete a session and its draft.
    Delete {
        /// Session id.
        id: String,
    },
    /// Archive every session idle longer than the timeout.
    Expire,
    /// Re-run a recorded session (`kiln chat --record`, `kiln serve --record`) from its
    /// journal through the engine, without writing to the store, and report the first
    /// difference (exit status 1) or that it replayed identically.
    Replay {
        /// Session id.
        id: String,
    },
}

/// Agent commands.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Print a session's draft agent spec as JSON, or write it to a file.
    Export {
        /// Session id.
        session: String,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the JSON Schema of agent specs.
    Schema,
}

fn fail(builder: &BuilderClient) -> impl Fn(BuilderFailure) -> Failure + '_ {
    |e| Failure::builder(e, |k| builder.locate(k))
}

fn ms_to_rfc3339(ms: u64) -> String {
    kiln_wire::clock::rfc3339(kiln_wire::clock::UnixTime {
        seconds: ms / 1000,
        nanoseconds: u32::try_from(ms % 1000).unwrap_or(0) * 1_000_000,
    })
}

/// Where sessions and their journals are, and who asks.
pub struct Sessions<'a> {
    /// The builder.
    pub builder: &'a BuilderClient,
    /// The runtime replays run on.
    pub runtime: Arc<Runtime>,
    /// The local tenant's journals.
    pub journal: Journal,
    /// The person.
    pub who: &'a Caller,
}

fn journal_failure(e: JournalError) -> Failure {
    let kind = match e {
        JournalError::InvalidSession(_) => "invalid-input",
        JournalError::Missing { .. } => "not-found",
        JournalError::Unreadable { .. } => "corrupt",
        JournalError::Encode(_) | JournalError::Store(_) => "store",
    };
    Failure { kind, message: e.to_string() }
}

/// Runs a sessions command.
pub async fn sessions(
    cmd: SessionsCommand,
    on: Sessions<'_>,
    idle_timeout_ms: u64,
    out: &Output,
) -> Result<(), Failure> {
    let Sessions { builder, who, .. } = on;
    match cmd {
        SessionsCommand::List => {
            let (all, corrupt) = builder.list_sessions(who).await.map_err(fail(builder))?;
            out.print(&all, || {
                all.iter()
                    .map(|s| {
                        let goal = s.goal.clone().unwrap_or_else(|| "(nothing said yet)".into());
                        format!(
                            "{}  {:<12}  {}  {goal}",
                            s.session_id,
                            s.phase.name(),
                            ms_to_rfc3339(s.last_active_at_ms)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            warn_skipped(&corrupt, |key| builder.locate(key));
            if all.is_empty() && corrupt.is_empty() && !out.json {
                eprintln!("no sessions yet: start one with `kiln chat`");
            }
        }
        SessionsCommand::Show { id } => {
            let s = builder.get_session(who, &id).await.map_err(fail(builder))?;
            out.print(&s, || {
                let mut lines = vec![
                    format!("session {} ({}: {})", s.session_id, s.phase.name(), s.phase.title()),
                    format!("turns: {}, iteration: {}, version: {}", s.turn, s.iteration, s.version),
                    format!("last active: {}", ms_to_rfc3339(s.last_active_at_ms)),
                ];
                for r in &s.requirements {
                    lines.push(format!("  {}: {} (turn {})", r.field, r.value, r.turn));
                }
                if !s.connected.is_empty() {
                    lines.push(format!("connected: {}", s.connected.join(", ")));
                }
                if let Some(p) = &s.pending_oauth {
                    lines.push(format!("waiting for: {} ({})", p.provider, p.scopes.join(" ")));
                }
                if let Some(d) = &s.draft_agent_id {
                    lines.push(format!("draft: {d}"));
                }
                for t in &s.history {
                    lines.push(format!(
                        "  turn {}: {} -> {} ({})",
                        t.turn,
                        t.from.name(),
                        t.to.name(),
                        t.cause
                    ));
                }
                lines.join("\n")
            });
        }
        SessionsCommand::Delete { id } => {
            builder.delete_session(who, &id).await.map_err(fail(builder))?;
            // The journal holds the person's words too: it goes with the session.
            on.journal.delete(&id).await.map_err(|e| journal_failure(e.into()))?;
            out.print(&json!({ "deleted": id }), || format!("deleted {id}"));
        }
        SessionsCommand::Expire => {
            let n = builder.expire_idle(idle_timeout_ms).await.map_err(fail(builder))?;
            out.print(&json!({ "archived": n }), || format!("archived {n} idle session(s)"));
        }
        SessionsCommand::Replay { id } => {
            let report = on.journal.replay(on.runtime, &id).await.map_err(journal_failure)?;
            let mut notes = String::new();
            if !report.not_recorded.is_empty() {
                notes.push_str(&format!(
                    "\nturns {:?} were too large to record and were not replayed",
                    report.not_recorded
                ));
            }
            if !report.same_component {
                notes.push_str(
                    "\nnote: some turns were recorded with another kiln.wasm; differences may be its changes",
                );
            }
            // A difference fails the command (status 1, on stderr like every failure).
            if let Some(d) = &report.difference {
                return Err(Failure { kind: "replay-differs", message: format!("session {id}: {d}{notes}") });
            }
            out.print(&report, || {
                format!("session {id}: {} turn(s) replayed identically{notes}", report.turns)
            });
        }
    }
    Ok(())
}

/// Runs an agent command.
pub async fn agent(
    cmd: AgentCommand,
    builder: &BuilderClient,
    who: &Caller,
    out: &Output,
) -> Result<(), Failure> {
    match cmd {
        AgentCommand::Export { session, output } => {
            let spec = builder.export_agent(who, &session).await.map_err(fail(builder))?;
            let json = spec;
            match output {
                Some(path) => {
                    std::fs::write(&path, format!("{json}\n")).map_err(|e| Failure {
                        kind: "error",
                        message: format!("could not write {}: {e}", path.display()),
                    })?;
                    out.print(&json!({ "written": path }), || format!("wrote {}", path.display()));
                }
                None => line(json),
            }
        }
        AgentCommand::Schema => line(builder.agent_schema().await.map_err(fail(builder))?),
    }
    Ok(())
}
