//! Builds the hostile guest (`host/test-guests/hostile`, crate kiln-hostile-guest) into a
//! component in `OUT_DIR`, with kiln-engine's own guest build (same profile, same wrapping),
//! in `target/kiln-test-guests` so it never waits on kiln.wasm's nested build.

use std::path::PathBuf;

#[path = "../engine/guest_build.rs"]
mod guest_build;

fn main() {
    let env = |name: &str| std::env::var(name).map(PathBuf::from);
    let (Ok(manifest_dir), Ok(out_dir)) = (env("CARGO_MANIFEST_DIR"), env("OUT_DIR")) else {
        eprintln!("cargo did not set CARGO_MANIFEST_DIR and OUT_DIR");
        std::process::exit(1);
    };
    let Some(workspace) = manifest_dir.ancestors().nth(2) else {
        eprintln!("host/test-guests/ has no workspace root above it");
        std::process::exit(1);
    };
    for watched in ["host/test-guests/hostile", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace.join(watched).display());
    }
    let built = guest_build::component(workspace, &out_dir, "kiln-hostile-guest", "kiln-test-guests")
        .and_then(|c| std::fs::write(out_dir.join("hostile.wasm"), c).map_err(|e| e.to_string()));
    if let Err(e) = built {
        eprintln!("error building the hostile test guest: {e}");
        std::process::exit(1);
    }
}
