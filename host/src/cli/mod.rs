//! Command-line parsing and dispatch. Every command prints text for people, or JSON with
//! `--json`; failures go to stderr (as `{"error": ...}` with `--json`) with exit status 1,
//! usage errors with status 2.

mod conversations;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kiln::store::{Blocking, FileStore};
use kiln::{QueueClient, Runtime, RuntimeOptions, Services};

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

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The FIFO queue of conversations.
    #[command(subcommand)]
    Conversations(conversations::Command),
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
    match cli.command {
        Command::Conversations(cmd) => {
            let queue = open_queue(&cli.dir).map_err(Failure::from)?;
            conversations::run(cmd, &queue, &out).await
        }
    }
}

/// The queue in the file store at `dir`, through the (cached) component.
fn open_queue(dir: &std::path::Path) -> anyhow::Result<QueueClient> {
    let store = FileStore::open(dir).with_context(|| format!("opening the store at {}", dir.display()))?;
    // One call per CLI process: a small pool keeps start-up cheap.
    let options = RuntimeOptions {
        cache_dir: RuntimeOptions::default_cache_dir(),
        max_concurrent_calls: 2,
        ..Default::default()
    };
    let runtime = Runtime::new(&options).context("starting the engine")?;
    Ok(QueueClient::new(Arc::new(runtime), Services::system(Arc::new(Blocking::new(store)))))
}
