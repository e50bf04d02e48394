//! Builds the guest (`kiln-component`) for wasm32-unknown-unknown, wraps the core module into
//! the kiln.wasm component and leaves it in `OUT_DIR` for `include_bytes!`, so that a plain
//! `cargo build` yields a complete `kiln` binary. Then compiles the component ahead of time
//! for this (host) target with the runtime's own engine settings (`src/runtime/config.rs`),
//! so the binary's first run deserializes instead of JIT-compiling.
//!
//! `KILN_COMPONENT=/path/to/kiln.wasm` skips the nested build and embeds that file instead.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[path = "src/runtime/config.rs"]
mod config;
mod guest_build;

const GUEST_PACKAGE: &str = "kiln-component";

fn main() {
    if let Err(e) = run() {
        // A build script communicates failure by exit status; say what to do.
        eprintln!("error building the kiln.wasm component: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR")?);
    let workspace =
        manifest_dir.ancestors().nth(2).ok_or("host/engine/ has no workspace root above it")?.to_path_buf();
    let out_dir = PathBuf::from(env_var("OUT_DIR")?);

    println!("cargo:rerun-if-env-changed=KILN_COMPONENT");
    let component = match env::var_os("KILN_COMPONENT") {
        Some(prebuilt) => {
            println!("cargo:rerun-if-changed={}", Path::new(&prebuilt).display());
            fs::read(&prebuilt)
                .map_err(|e| format!("KILN_COMPONENT={}: {e}", Path::new(&prebuilt).display()))?
        }
        None => {
            for watched in ["guest", "wit", "Cargo.lock", "Cargo.toml"] {
                println!("cargo:rerun-if-changed={}", workspace.join(watched).display());
            }
            guest_build::component(&workspace, &out_dir, GUEST_PACKAGE, "kiln-guest")?
        }
    };

    fs::write(out_dir.join("kiln.wasm"), &component).map_err(|e| format!("writing kiln.wasm: {e}"))?;
    let digest = Sha256::digest(&component);
    let hex = digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    // The on-disk cache of the compiled component is keyed by this hash.
    println!("cargo:rustc-env=KILN_COMPONENT_SHA256={hex}");

    let (precompiled, key) = precompile(&component);
    fs::write(out_dir.join("kiln.cwasm"), precompiled).map_err(|e| format!("writing kiln.cwasm: {e}"))?;
    println!("cargo:rustc-env=KILN_PRECOMPILED_KEY={key}");
    Ok(())
}

/// The component compiled for this machine with the runtime's default engine settings, and
/// the engine's compatibility key. The build runs on the machine it builds for (no cross
/// target here), so these are the binary's own target and CPU features. Failing to
/// precompile is not fatal: the binary then compiles at run time (and caches on disk), as
/// the empty artifact with key `none` tells it.
fn precompile(component: &[u8]) -> (Vec<u8>, String) {
    let config =
        config::engine_config(true, config::DEFAULT_MEMORY_BYTES, config::DEFAULT_MAX_CONCURRENT_CALLS);
    let compiled = wasmtime::Engine::new(&config).and_then(|engine| {
        let bytes = engine.precompile_component(component)?;
        Ok((bytes, config::compatibility_key(&engine).to_string()))
    });
    compiled.unwrap_or_else(|e| {
        println!("cargo:warning=kiln.wasm not compiled ahead of time ({e:#}); the first run will compile it");
        (Vec::new(), "none".into())
    })
}

fn env_var(name: &str) -> Result<String, String> {
    env::var(name).map_err(|_| format!("cargo did not set {name}"))
}
