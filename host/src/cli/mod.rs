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
use kiln::llm::LayerBackend;
use kiln::store::{Blocking, FileStore};
use kiln::{QueueClient, Runtime, RuntimeOptions, Services};
use kiln_core::builder::{Caller, TurnOptions};
use kiln_llm::{LlmLayer, ProviderKind};

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

    /// The models.yaml for builder sessions; without one, the offline default.
    #[arg(long, global = true, env = "KILN_MODELS", value_name = "FILE")]
    models: Option<PathBuf>,

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
            let engine = Engine::open(&cli.dir, None)?;
            conversations::run(cmd, &QueueClient::new(engine.runtime, engine.services), &out).await
        }
        Command::Chat(args) => {
            let engine = Engine::open(&cli.dir, cli.models.as_deref())?;
            let llm = Arc::clone(&engine.llm);
            let offline = engine.offline;
            let options = |session_id: &str| TurnOptions {
                context_on: llm.layer().flags().conversation_state(Some(session_id)),
                llm: !offline,
                idle_timeout_ms,
                ..TurnOptions::default()
            };
            let builder = BuilderClient::new(engine.runtime, engine.services);
            chat::run(args, &builder, &who, &options, engine.offline, &out).await
        }
        Command::Sessions(cmd) => {
            let engine = Engine::open(&cli.dir, None)?;
            let builder = BuilderClient::new(engine.runtime, engine.services);
            sessions::sessions(cmd, &builder, &who, idle_timeout_ms, &out).await
        }
        Command::Agent(cmd) => {
            let engine = Engine::open(&cli.dir, None)?;
            sessions::agent(cmd, &BuilderClient::new(engine.runtime, engine.services), &who, &out).await
        }
        Command::Diagram => {
            output::line(kiln_core::builder::phase::mermaid());
            Ok(())
        }
        Command::Llm(cmd) => llm::run(cmd, &out).await,
        Command::Config(cmd) => config::run(cmd, &out),
    }
}

/// The CLI serves one tenant: the person at the terminal.
const LOCAL_TENANT: &str = "local";

/// The engine over the file store at `dir`, with the compiled component from the cache
/// and the LLM layer configured by `models` (offline without one).
struct Engine {
    runtime: Arc<Runtime>,
    services: Services,
    llm: Arc<LayerBackend>,
    /// No model in the chain: the rule-based path answers.
    offline: bool,
}

impl Engine {
    fn open(dir: &std::path::Path, models: Option<&std::path::Path>) -> Result<Self, Failure> {
        let store =
            FileStore::open(dir).with_context(|| format!("opening the store at {}", dir.display()))?;
        // One call at a time per CLI process: a small pool keeps start-up cheap.
        let options = RuntimeOptions {
            cache_dir: RuntimeOptions::default_cache_dir(),
            max_concurrent_calls: 2,
            ..Default::default()
        };
        let runtime = Runtime::new(&options).context("starting the engine")?;
        let config = llm::load_config(models)?;
        let layer =
            LlmLayer::new(config).map_err(|e| Failure { kind: "invalid-config", message: e.to_string() })?;
        // Only offline providers in the chain: the guest can skip the `llm` import.
        let offline = layer.chain().iter().all(|(_, kind, _)| *kind == ProviderKind::Offline);
        let llm = Arc::new(LayerBackend::new(layer));
        let mut services = Services::system(Arc::new(Blocking::new(store)));
        services.llm = Arc::clone(&llm) as Arc<dyn kiln::services::LlmBackend>;
        Ok(Self { runtime: Arc::new(runtime), services, llm, offline })
    }
}
