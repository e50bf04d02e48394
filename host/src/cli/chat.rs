//! `kiln chat`: the builder conversation in a terminal, or as JSON Lines for scripts.

use std::io::{BufRead, Write};
use std::sync::Arc;

use clap::Args;
use kiln_engine::builder::{BuilderClient, BuilderFailure, TurnInput};
use kiln_engine::builder::{ChatChunk, simulated_connect_link};
use kiln_engine::imports::Event;
use kiln_wire::builder::Phase;
use kiln_wire::builder::{Caller, TurnOptions};

use super::output::{Failure, Output, line};

/// Options of `kiln chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Resume this session instead of starting a new one.
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Record each turn's imports (the clock, random bytes, the model's answers, what the
    /// turn read and wrote) to a journal in the store, for `kiln sessions replay`. The
    /// journal holds your words and the model's answers (docs/stores.md).
    #[arg(long, env = "KILN_RECORD")]
    pub record: bool,
}

const HELP: &str = "Commands: /approve and /deny answer the (simulated) account connection, /back, /reset (start over), \
                    /status, /export (print the draft agent), /help, /quit";

/// What one line of input asks for.
enum Line {
    Turn(TurnInput),
    Oauth(bool),
    Export,
    Help,
    Quit,
    Unknown(String),
}

fn parse_line(line: &str) -> Line {
    match line.trim() {
        "/approve" => Line::Oauth(true),
        "/deny" => Line::Oauth(false),
        "/back" => Line::Turn(TurnInput::Back),
        "/reset" => Line::Turn(TurnInput::Reset),
        "/status" => Line::Turn(TurnInput::Message("status".into())),
        "/export" => Line::Export,
        "/help" => Line::Help,
        "/quit" | "/exit" => Line::Quit,
        other if other.starts_with('/') => Line::Unknown(other.to_owned()),
        other => Line::Turn(TurnInput::Message(other.to_owned())),
    }
}

/// Prints a turn's events as they arrive: text for people, one JSON object per chunk
/// with `--json`.
fn printer(json: bool) -> Arc<dyn kiln_engine::imports::Emitter> {
    let last_phase = std::sync::Mutex::new(None::<Phase>);
    Arc::new(move |event: Event| {
        let mut out = std::io::stdout().lock();
        match event {
            // The CLI's connect link: the consent is simulated (/approve, /deny).
            Event::Chunk(mut chunk) if chunk.connect.is_some() => {
                let link = chunk.connect.as_ref().map(|c| simulated_connect_link(&chunk.session_id, c));
                Arc::make_mut(&mut chunk).oauth_url = link;
                show(&mut out, json, &last_phase, &chunk);
            }
            Event::Chunk(chunk) => show(&mut out, json, &last_phase, &chunk),
            Event::Progress { text, .. } if !json => {
                let _ = writeln!(out, "  … {text}");
            }
            // The raw model output is the engine's to validate; people and scripts get the
            // committed chunks.
            Event::Progress { .. } | Event::Token { .. } | Event::Discard { .. } => {}
        }
        let _ = out.flush();
    })
}

/// One chunk: a JSON line with `--json`, else text with the phase when it changed.
fn show(out: &mut impl Write, json: bool, last_phase: &std::sync::Mutex<Option<Phase>>, chunk: &ChatChunk) {
    if json {
        let _ = writeln!(out, "{}", serde_json::to_string(chunk).unwrap_or_default());
        return;
    }
    let mut last = last_phase.lock().unwrap_or_else(|p| p.into_inner());
    if *last != Some(chunk.phase) {
        let _ = writeln!(out, "\n[{}: {}]", chunk.phase.name(), chunk.phase.title());
        *last = Some(chunk.phase);
    }
    print_chunk(out, chunk);
}

fn print_chunk(out: &mut impl Write, chunk: &ChatChunk) {
    if !chunk.text.is_empty() {
        let mut lines = chunk.text.lines();
        if let Some(first) = lines.next() {
            let _ = writeln!(out, "kiln> {first}");
        }
        for line in lines {
            let _ = writeln!(out, "      {line}");
        }
    }
    if let Some(url) = &chunk.oauth_url {
        let _ =
            writeln!(out, "      connect: {url}  (offline: type /approve to grant access, /deny to refuse)");
    }
    if !chunk.actions.is_empty() {
        let labels: Vec<String> = chunk
            .actions
            .iter()
            .map(|a| {
                if a.value.is_empty() {
                    format!("[{}]", a.label)
                } else {
                    format!("[{}: \"{}\"]", a.label, a.value)
                }
            })
            .collect();
        let _ = writeln!(out, "      {}", labels.join("  "));
    }
}

/// Runs the conversation until /quit or the end of input.
pub async fn run(
    args: ChatArgs,
    builder: &BuilderClient,
    who: &Caller,
    options_for: &dyn Fn(&str) -> TurnOptions,
    offline: bool,
    out: &Output,
) -> Result<(), Failure> {
    let fail = |e: BuilderFailure| Failure::builder(e, |k| builder.locate(k));
    let session = match &args.session {
        Some(id) => builder.get_session(who, id).await.map_err(fail)?,
        None => builder.start_session(who).await.map_err(fail)?,
    };
    let id = session.session_id.clone();
    let options = options_for(&id);
    if !out.json {
        let how = if args.session.is_some() { "Resuming" } else { "New" };
        let mode = if offline {
            "Offline: rule-based understanding, no LLM configured"
        } else {
            "LLM providers from the models file, rule-based understanding as the fallback"
        };
        line(format!("{how} session {id} ({}). {mode}.", session.phase.name()));
        if args.record {
            line(format!("Recording its turns: replay them with `kiln sessions replay {id}`."));
        }
        line(HELP);
        if session.phase == Phase::Idle {
            line(
                "\nkiln> What should your agent do? For example: \"Every weekday at 9, summarise my unread Gmail and post it to Slack #team\".",
            );
        }
    }
    let emitter = printer(out.json);
    let stdin = std::io::stdin();
    let mut failed = false;
    loop {
        if !out.json {
            let mut stdout = std::io::stdout().lock();
            let _ = write!(stdout, "\nyou> ").and_then(|()| stdout.flush());
        }
        let mut input_line = String::new();
        match stdin.lock().read_line(&mut input_line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(Failure {
                    kind: "invalid-input",
                    message: format!("could not read a line from stdin: {e}"),
                });
            }
        }
        if input_line.trim().is_empty() {
            continue;
        }
        let input = match parse_line(&input_line) {
            Line::Quit => break,
            Line::Help => {
                out.note(HELP);
                continue;
            }
            Line::Unknown(cmd) => {
                out.report(&Failure {
                    kind: "invalid-input",
                    message: format!("unknown command {cmd}. {HELP}"),
                });
                continue;
            }
            Line::Export => {
                match builder.export_agent(who, &id).await {
                    Ok(spec) => line(spec),
                    Err(e) => out.report(&fail(e)),
                }
                continue;
            }
            Line::Oauth(approved) => match builder.get_session(who, &id).await.map_err(fail)?.pending_oauth {
                Some(p) => TurnInput::Oauth { state: p.state, approved },
                None => {
                    out.report(&Failure {
                        kind: "invalid-input",
                        message: "nothing is waiting for an account connection right now".into(),
                    });
                    continue;
                }
            },
            Line::Turn(input) => input,
        };
        match builder.turn(who, &id, input, options, Arc::clone(&emitter)).await {
            Ok(_) => {}
            Err(e) => {
                let failure = fail(e);
                let fatal = matches!(failure.kind, "expired" | "not-found" | "engine" | "store" | "corrupt");
                out.report(&failure);
                failed = true;
                if fatal {
                    return Err(Failure {
                        kind: failure.kind,
                        message: "the conversation cannot continue".into(),
                    });
                }
            }
        }
    }
    if !out.json {
        line(format!("\nSession {id} is saved; resume it with `kiln chat --session {id}`."));
    }
    // A script that fed turns which were refused learns it from the exit status.
    if failed {
        Err(Failure { kind: "error", message: "some turns were refused (see above)".into() })
    } else {
        Ok(())
    }
}
