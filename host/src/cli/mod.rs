//! Command-line parsing and dispatch. Every command prints text for people, or JSON with
//! `--json`; failures go to stderr (as `{"error": ...}` with `--json`) with exit status 1,
//! usage errors with status 2.

mod chat;
mod config;
mod conversations;
mod llm;
mod output;
mod serve;
mod sessions;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kiln::llm::{LayerBackend, StoreShared};
use kiln_engine::builder::BuilderClient;
use kiln_engine::journal::Journal;
use kiln_engine::runtime::ComponentSource;
use kiln_engine::{Imports, QueueClient, Runtime, RuntimeOptions};
use kiln_llm::{LlmLayer, ProviderKind};
use kiln_store::{OpenOptions, StoreChoice, StoreSpec};
use kiln_wire::builder::{Caller, TurnOptions};

use output::{Failure, Output};

/// Kiln: build automation agents by conversation, and queue conversations for later.
#[derive(Debug, Parser)]
#[command(name = "kiln", version, propagate_version = true)]
struct Cli {
    /// Store root directory.
    #[arg(long, global = true, env = "KILN_DIR", default_value = ".artificer", value_name = "DIR")]
    dir: PathBuf,

    /// The store, overriding --dir: `file:<dir>` or a directory, `memory`, or
    /// `redis://[:password@]host:port/db[?deployment=<name>]`.
    #[arg(long, global = true, env = "KILN_STORE", value_name = "SPEC")]
    store: Option<StoreSpec>,

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
    /// Serve the HTTP API (builder sessions with SSE, queue, OAuth, LLM proxy, metrics).
    Serve(serve::ServeArgs),
    /// Print the hash of an API key read from stdin, for `api_keys` in the server config.
    HashKey,
}

/// Parses the command line, runs the command, reports the outcome. `serve` gets a
/// multi-threaded runtime (a worker per core: turns run in parallel); every other command
/// runs on the current thread, which starts faster and needs no more.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output { json: cli.json };
    let mut builder = match cli.command {
        Command::Serve(_) => {
            let mut multi = tokio::runtime::Builder::new_multi_thread();
            multi.thread_name(SERVE_WORKER);
            multi
        }
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            out.failure(&anyhow::Error::new(e).context("starting the async runtime").into());
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
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
    let store = StoreChoice {
        spec: cli.store.clone().unwrap_or_else(|| StoreSpec::File(cli.dir.clone())),
        options: OpenOptions::new(std::time::Duration::from_millis(idle_timeout_ms)),
    };
    match cli.command {
        Command::Conversations(cmd) => {
            let host = Host::open(&store, None).await?;
            conversations::run(cmd, &QueueClient::new(host.runtime, host.imports), &out).await
        }
        Command::Chat(args) => {
            let host = Host::open(&store, cli.models.as_deref()).await?;
            let llm = Arc::clone(&host.llm);
            let offline = host.offline;
            let options = |session_id: &str| TurnOptions {
                context_on: llm.layer().flags().conversation_state(Some(session_id)),
                llm: !offline,
                idle_timeout_ms,
                ..TurnOptions::default()
            };
            let mut builder = BuilderClient::new(host.runtime, host.imports.clone());
            if args.record {
                builder = builder.recording(Arc::new(Journal::new(host.imports.store, None)));
            }
            chat::run(args, &builder, &who, &options, host.offline, &out).await
        }
        Command::Sessions(cmd) => {
            let host = Host::open(&store, None).await?;
            let builder = BuilderClient::new(Arc::clone(&host.runtime), host.imports.clone());
            let on = sessions::Sessions {
                builder: &builder,
                runtime: host.runtime,
                journal: Journal::new(host.imports.store, None),
                who: &who,
            };
            sessions::sessions(cmd, on, idle_timeout_ms, &out).await
        }
        Command::Agent(cmd) => {
            let host = Host::open(&store, None).await?;
            sessions::agent(cmd, &BuilderClient::new(host.runtime, host.imports), &who, &out).await
        }
        Command::Diagram => {
            // The guest's own table; no store of the person's is opened for it.
            let runtime = Runtime::new(&RuntimeOptions {
                cache_dir: RuntimeOptions::default_cache_dir(),
                max_concurrent_calls: 1,
                ..Default::default()
            })
            .context("starting the engine")?;
            let imports = Imports::system(Arc::new(kiln_store::MemoryStore::new()));
            let diagram = BuilderClient::new(Arc::new(runtime), imports)
                .diagram()
                .await
                .map_err(|e| Failure::builder(e, |k| k.to_owned()))?;
            output::line(diagram);
            Ok(())
        }
        Command::Llm(cmd) => llm::run(cmd, &store, &out).await,
        Command::Config(cmd) => config::run(cmd, &out),
        Command::Serve(args) => {
            let host = Host::open_with(&store, cli.models.as_deref(), args.max_concurrent_turns).await?;
            serve::run(args, host, idle_timeout_ms).await
        }
        Command::HashKey => serve::hash_key_from_stdin(&out),
    }
}

/// The name of `kiln serve`'s worker threads (one per core), as `ps -L` and profilers show it.
const SERVE_WORKER: &str = "kiln-serve";

/// The CLI serves one tenant: the person at the terminal.
const LOCAL_TENANT: &str = "local";

/// The host as one CLI command assembles it (its composition root): the runtime that runs
/// the engine, the imports it serves the engine from (the chosen store, the system clock and
/// randomness, the LLM layer configured by `models`, offline without one).
struct Host {
    runtime: Arc<Runtime>,
    imports: Imports,
    llm: Arc<LayerBackend>,
    /// No model in the chain: the rule-based path answers.
    offline: bool,
}

impl Host {
    async fn open(store: &StoreChoice, models: Option<&std::path::Path>) -> Result<Self, Failure> {
        // One call at a time per CLI process: a small pool keeps start-up cheap.
        Self::open_with(store, models, 2).await
    }

    /// [`Host::open`] with room for `calls` guest calls at once.
    async fn open_with(
        store: &StoreChoice,
        models: Option<&std::path::Path>,
        calls: u32,
    ) -> Result<Self, Failure> {
        // A Redis that does not answer a PING stops here, before anything else starts.
        let store = store.open().await.map_err(|e| Failure { kind: "store", message: e.to_string() })?;
        let options = RuntimeOptions {
            cache_dir: RuntimeOptions::default_cache_dir(),
            max_concurrent_calls: calls,
            ..Default::default()
        };
        let runtime = Runtime::new(&options).context("starting the engine")?;
        if let ComponentSource::Compiled { cache_refused: Some(why) } = runtime.source() {
            eprintln!("kiln: the engine was compiled without its cache: {why}");
        }
        let config = llm::load_config(models)?;
        let layer = LlmLayer::new(config)
            .map_err(|e| Failure { kind: "invalid-config", message: e.to_string() })?
            .with_shared_state(Arc::new(StoreShared::new(Arc::clone(&store))));
        // Only offline providers in the chain: the guest can skip the `llm` import.
        let offline = layer.chain().iter().all(|(_, kind, _)| *kind == ProviderKind::Offline);
        let llm = Arc::new(LayerBackend::new(layer));
        let mut imports = Imports::system(store);
        imports.llm = Arc::clone(&llm) as Arc<dyn kiln_engine::imports::LlmBackend>;
        Ok(Self { runtime: Arc::new(runtime), imports, llm, offline })
    }
}
