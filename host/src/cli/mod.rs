//! Command-line parsing and dispatch. Every command prints text for people, or JSON with
//! `--json`; failures go to stderr (as `{"error": ...}` with `--json`) with exit status 1,
//! usage errors with status 2.

mod chat;
mod config;
mod conversations;
mod llm;
mod output;
mod sessions;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kiln::builder::BuilderClient;
use kiln::store::{Blocking, FileStore};
use kiln::{QueueClient, Runtime, RuntimeOptions, Services};
use kiln_core::builder::{Caller, TurnOptions};

use output::{Failure, Output};

/// Kiln: build automation agents by conversation, and queue conversations for later.
#[derive(Debug, Parser)]
#[command(name = "kiln", version, propagate_version = true)]
struct Cli {
    /// Store root directory.
    #[arg(long, global = true, env = "KILN_DIR", default_value = ".artificer", value_name = "DIR")]
    dir: PathBuf,

    /// Print machine-readable JSON (errors too, on stderr).
    #[arg(long, global = true)]
    json: bool,

    /// Who you are, for builder sessions (the local tenant's user).
    #[arg(long, global = true, env = "KILN_USER", default_value = "local", value_name = "USER")]
    user: String,

    /// Minutes of inactivity after which a builder session expires (and is archived).
    #[arg(
        long,
        global = true,
        env = "KILN_IDLE_TIMEOUT_MINUTES",
        default_value_t = 30,
        value_name = "MINUTES"
    )]
    idle_timeout_minutes: u64,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build an agent by conversation (interactive; `--json` reads turns from stdin and
    /// prints JSON Lines).
    Chat(chat::ChatArgs),
    /// Builder sessions: list, show, delete, expire.
    #[command(subcommand)]
    Sessions(sessions::SessionsCommand),
    /// Draft agents: export a spec, print the schema.
    #[command(subcommand)]
    Agent(sessions::AgentCommand),
    /// Print the builder's state machine as a Mermaid diagram.
    Diagram,
    /// The FIFO queue of conversations.
    #[command(subcommand)]
    Conversations(conversations::Command),
    /// The LLM layer: one completion through providers, retries and the fallback chain.
    #[command(subcommand)]
    Llm(llm::Command),
    /// Configuration: validate a models.yaml.
    #[command(subcommand)]
    Config(config::Command),
}

/// Parses the command line, runs the command, reports the outcome.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output { json: cli.json };
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            out.failure(&failure);
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let out = Output { json: cli.json };
    let who = Caller { tenant_id: LOCAL_TENANT.into(), user_id: cli.user.clone() };
    let idle_timeout_ms = cli.idle_timeout_minutes.saturating_mul(60_000);
    match cli.command {
        Command::Conversations(cmd) => {
            let (runtime, services) = engine(&cli.dir)?;
            conversations::run(cmd, &QueueClient::new(runtime, services), &out).await
        }
        Command::Chat(args) => {
            let (runtime, services) = engine(&cli.dir)?;
            let options = turn_options(idle_timeout_ms)?;
            chat::run(args, &BuilderClient::new(runtime, services), &who, options, &out).await
        }
        Command::Sessions(cmd) => {
            let (runtime, services) = engine(&cli.dir)?;
            sessions::sessions(cmd, &BuilderClient::new(runtime, services), &who, idle_timeout_ms, &out).await
        }
        Command::Agent(cmd) => {
            let (runtime, services) = engine(&cli.dir)?;
            sessions::agent(cmd, &BuilderClient::new(runtime, services), &who, &out).await
        }
        Command::Llm(cmd) => llm::run(cmd, &out).await,
        Command::Config(cmd) => config::run(cmd, &out),
        Command::Diagram => {
            println!("{}", kiln_core::builder::phase::mermaid());
            Ok(())
        }
    }
}

/// The CLI serves one tenant: the person at the terminal.
const LOCAL_TENANT: &str = "local";

/// The engine over the file store at `dir`, with the compiled component from the cache.
fn engine(dir: &std::path::Path) -> Result<(Arc<Runtime>, Services), Failure> {
    let store = FileStore::open(dir).with_context(|| format!("opening the store at {}", dir.display()))?;
    // One call at a time per CLI process: a small pool keeps start-up cheap.
    let options = RuntimeOptions {
        cache_dir: RuntimeOptions::default_cache_dir(),
        max_concurrent_calls: 2,
        ..Default::default()
    };
    let runtime = Runtime::new(&options).context("starting the engine")?;
    Ok((Arc::new(runtime), Services::system(Arc::new(Blocking::new(store)))))
}

/// Turn settings: `LOVABLE_CONVERSATION_STATE` (true/false, default true) and the timeout.
fn turn_options(idle_timeout_ms: u64) -> Result<TurnOptions, Failure> {
    let context_on = match std::env::var("LOVABLE_CONVERSATION_STATE") {
        Err(_) => true,
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => {
                return Err(Failure {
                    kind: "invalid-input",
                    message: format!("LOVABLE_CONVERSATION_STATE={v:?} is not true or false"),
                });
            }
        },
    };
    Ok(TurnOptions { context_on, idle_timeout_ms, ..TurnOptions::default() })
}
