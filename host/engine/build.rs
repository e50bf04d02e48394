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
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

#[path = "src/runtime/config.rs"]
mod config;

const GUEST_PACKAGE: &str = "kiln-component";
const GUEST_TARGET: &str = "wasm32-unknown-unknown";
const GUEST_PROFILE: &str = "guest";

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
            let core_module = build_guest(&workspace, &out_dir)?;
            wrap_component(&core_module)?
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

/// Runs a nested cargo for the guest in its own target directory (sharing the outer one
/// deadlocks on its lock) with the outer build's flags scrubbed (host rustflags break the
/// wasm linker).
fn build_guest(workspace: &Path, out_dir: &Path) -> Result<Vec<u8>, String> {
    // `<target>/<profile>/build/<pkg>/out` -> `<target>/kiln-guest`, shared by every
    // profile of the host so the guest is built once.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map(|target| target.join("kiln-guest"))
        .ok_or("unexpected OUT_DIR layout")?;
    ensure_wasm_target();
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--package", GUEST_PACKAGE, "--target", GUEST_TARGET, "--profile", GUEST_PROFILE])
        .arg("--target-dir")
        .arg(&target_dir)
        // Keep the nested cargo's stdout off ours: a stray `cargo:` line would be obeyed.
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().map_err(|e| format!("could not run cargo for the guest: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`cargo build -p {GUEST_PACKAGE} --target {GUEST_TARGET}` failed ({status}); \
             is the target installed? run `rustup target add {GUEST_TARGET}`"
        ));
    }
    let module = target_dir.join(GUEST_TARGET).join(GUEST_PROFILE).join("kiln_component.wasm");
    fs::read(&module).map_err(|e| format!("reading {}: {e}", module.display()))
}

/// `rust-toolchain.toml` lists the wasm target, but with `RUSTUP_AUTO_INSTALL=0` rustup
/// does not install it; do it here so a fresh checkout builds with a plain `cargo build`.
fn ensure_wasm_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc).args(["--print", "sysroot"]).output();
    let installed = sysroot.ok().filter(|o| o.status.success()).is_some_and(|o| {
        let root = String::from_utf8_lossy(&o.stdout).trim().to_owned();
        Path::new(&root).join("lib/rustlib").join(GUEST_TARGET).is_dir()
    });
    if installed {
        return;
    }
    println!("cargo:warning=installing the {GUEST_TARGET} target with rustup (needed to build kiln.wasm)");
    // Failure shows up as a clear error from the nested build below.
    let _ = Command::new("rustup").args(["target", "add", GUEST_TARGET]).stdout(Stdio::null()).status();
}

/// Wraps the core module (which carries its WIT type in a custom section) into a component.
fn wrap_component(core_module: &[u8]) -> Result<Vec<u8>, String> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(core_module)
        .and_then(|encoder| encoder.encode())
        .map_err(|e| format!("wit-component could not wrap the guest module: {e:#}"))
}

fn env_var(name: &str) -> Result<String, String> {
    env::var(name).map_err(|_| format!("cargo did not set {name}"))
}
