//! Building a guest crate into a component from a build script: shared by kiln-engine's
//! `build.rs` (kiln.wasm) and kiln-test-guests' (the hostile test guest), which includes
//! this file with `#[path]`.

use std::env;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

const GUEST_TARGET: &str = "wasm32-unknown-unknown";
const GUEST_PROFILE: &str = "guest";

/// The component of the guest crate `package`, built for wasm32-unknown-unknown with the
/// `guest` profile in `<target>/<target_name>` and wrapped by wit-component.
pub fn component(
    workspace: &Path,
    out_dir: &Path,
    package: &str,
    target_name: &str,
) -> Result<Vec<u8>, String> {
    wrap_component(&build_guest(workspace, out_dir, package, target_name)?)
}

/// Runs a nested cargo for the guest in its own target directory (sharing the outer one
/// deadlocks on its lock) with the outer build's flags scrubbed (host rustflags break the
/// wasm linker).
fn build_guest(
    workspace: &Path,
    out_dir: &Path,
    package: &str,
    target_name: &str,
) -> Result<Vec<u8>, String> {
    // `<target>/<profile>/build/<pkg>/out` -> `<target>/<target_name>`, shared by every
    // profile of the host so the guest is built once.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map(|target| target.join(target_name))
        .ok_or("unexpected OUT_DIR layout")?;
    ensure_wasm_target();
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--package", package, "--target", GUEST_TARGET, "--profile", GUEST_PROFILE])
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
            "`cargo build -p {package} --target {GUEST_TARGET}` failed ({status}); \
             is the target installed? run `rustup target add {GUEST_TARGET}`"
        ));
    }
    let module =
        target_dir.join(GUEST_TARGET).join(GUEST_PROFILE).join(format!("{}.wasm", package.replace('-', "_")));
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
