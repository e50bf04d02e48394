//! `kiln config check`: validates a `models.yaml` and shows what Kiln makes of it.

use std::path::PathBuf;

use clap::Subcommand;
use kiln_llm::Flags;
use serde_json::json;

use super::output::{Failure, Output};

/// Configuration commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a models.yaml and show what Kiln makes of it.
    ///
    /// Rejects unknown keys, bad values and unknown provider names with the line and a
    /// hint; shows the fallback chain, the flags as the environment leaves them, and API
    /// key variables that are not set.
    Check {
        /// The file; default `$KILN_MODELS`. Without either, reports the offline default.
        #[arg(env = "KILN_MODELS", value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

/// Runs a configuration command.
pub fn run(cmd: Command, out: &Output) -> Result<(), Failure> {
    let Command::Check { file } = cmd;
    let config = super::llm::load_config(file.as_deref())?;
    let env = |name: &str| std::env::var(name).ok();
    let flags = Flags::resolve(&config.lovable_patterns, &env)
        .map_err(|e| Failure { kind: "invalid-config", message: e.to_string() })?;
    let chain: Vec<serde_json::Value> = config
        .chain()
        .iter()
        .filter_map(|name| config.providers.get(name).map(|p| (name, p)))
        .map(|(name, p)| {
            let remote = p.kind != kiln_llm::ProviderKind::Offline;
            json!({
                "name": name,
                "kind": p.kind.as_str(),
                "model": p.model,
                "base_url": remote.then(|| p.base_url_or_default()),
                "api_key_env": p.api_key_env,
                "context_window": p.context_window,
            })
        })
        .collect();
    let missing: Vec<serde_json::Value> = config
        .missing_keys(&env)
        .into_iter()
        .map(|(provider, var)| json!({"provider": provider, "env": var}))
        .collect();
    let flag_list: Vec<serde_json::Value> = flags
        .all()
        .iter()
        .map(|f| json!({"key": f.key, "env": f.env, "enabled": f.enabled, "rollout_percent": f.rollout_percent, "forced": f.forced}))
        .collect();
    let fb = &config.lovable_patterns.p2_fallback_chain;
    let value = json!({
        "file": file.as_ref().map(|f| f.display().to_string()),
        "valid": true,
        "chain": chain,
        "retry": {
            "max_attempts": config.retry.max_attempts, "base_delay_ms": config.retry.base_delay_ms,
            "max_delay_ms": config.retry.max_delay_ms, "deadline_ms": config.retry.deadline_ms,
            "fixed_delay_ms": config.retry.fixed_delay_ms,
        },
        "breaker": {"cooldown_ms": fb.cooldown_ms, "failure_threshold": fb.failure_threshold},
        "flags": flag_list,
        "missing_keys": missing,
    });
    out.print(&value, || {
        let mut lines = Vec::new();
        match &file {
            Some(f) => lines.push(format!("{}: valid", f.display())),
            None => lines.push("no models.yaml given (--config, KILN_MODELS): the embedded offline default".to_owned()),
        }
        let names: Vec<String> = config
            .chain()
            .iter()
            .filter_map(|name| config.providers.get(name).map(|p| (name, p)))
            .map(|(name, p)| match &p.model {
                Some(m) => format!("{name} ({} {m} at {})", p.kind.as_str(), p.base_url_or_default()),
                None => format!("{name} ({})", p.kind.as_str()),
            })
            .collect();
        lines.push(format!("chain: {}", if names.is_empty() { "offline".to_owned() } else { names.join(" -> ") }));
        let r = &config.retry;
        lines.push(format!(
            "retry: {} attempts per provider, backoff {}..{} ms, fixed {} ms when dynamic delays are off, deadline {} ms per call",
            r.max_attempts, r.base_delay_ms, r.max_delay_ms, r.fixed_delay_ms, r.deadline_ms
        ));
        lines.push(format!("breaker: opens after {} failures, cooldown {} ms", fb.failure_threshold, fb.cooldown_ms));
        for f in flags.all() {
            let state = match f.forced {
                Some(on) => format!("{} for every session ({} is set)", if on { "on" } else { "off" }, f.env),
                None if !f.enabled => "off (enabled: false)".to_owned(),
                None => format!("on for {}% of sessions", f.rollout_percent),
            };
            lines.push(format!("flag {}: {state}", f.key));
        }
        for (provider, var) in config.missing_keys(&env) {
            lines.push(format!("warning: provider `{provider}` needs the API key in {var}, which is not set"));
        }
        lines.join("\n")
    });
    Ok(())
}
