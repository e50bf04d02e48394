#!/usr/bin/env bash
# Builds the browser UI into web/dist/ (static files: index.html, dashboard.html, JS, CSS and
# pkg/ = the wasm-bindgen build of kiln-core). Reproducible: the wasm-bindgen CLI is pinned to
# the exact version of the wasm-bindgen crate (web/Cargo.toml) and installed into
# target/tools/ the first time (about 3 minutes). Safe to run from anywhere, any number of times.
set -euo pipefail
web="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$web")"
WASM_BINDGEN_VERSION=0.2.130
tools="$root/target/tools"
bindgen="$tools/bin/wasm-bindgen"
# Its own target dir: a build started from inside `cargo test` must not wait on the lock of
# the outer build, and the host's rustflags must not reach rust-lld.
target_dir="$root/target/web"
unset CARGO_ENCODED_RUSTFLAGS RUSTFLAGS RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_TARGET CARGO_TARGET_DIR

if [[ "$("$bindgen" --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
    echo "build.sh: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION into target/tools (once)" >&2
    # Not --locked: the CLI's own lockfile pins a crate that is no longer in the index.
    cargo install --quiet --root "$tools" --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi

locked=()
if [[ "${CI:-}" == "true" ]]; then locked=(--locked); fi
dist="$web/dist"
rm -rf "$dist"
mkdir -p "$dist"
# Two engines from the one crate, with one JavaScript glue: the page's (pkg/kiln_web_bg.wasm,
# no feature: it asks no model) and the online one (pkg/kiln_web_llm_bg.wasm, feature `llm`),
# which the page loads only when its server has models (docs/web.md, "Two engines"). Each
# build leaves its own kiln_web.wasm, so each is bound right after it is built; the online
# engine's glue must be the page's byte for byte (same exports and imports), or the page's
# glue could not run it.
for engine in kiln_web:"" kiln_web_llm:llm; do
    name="${engine%%:*}"
    features="${engine#*:}"
    out="$dist/pkg"
    if [[ -n "$features" ]]; then out="$target_dir/$name"; fi
    (cd "$root" && cargo build "${locked[@]}" --quiet -p kiln-web --features "$features" \
        --target wasm32-unknown-unknown --profile web --target-dir "$target_dir")
    "$bindgen" --target web --no-typescript --remove-name-section --remove-producers-section \
        --out-dir "$out" "$target_dir/wasm32-unknown-unknown/web/kiln_web.wasm"
    if [[ -n "$features" ]]; then
        if ! cmp -s "$out/kiln_web.js" "$dist/pkg/kiln_web.js"; then
            echo "build.sh: the $name engine's glue differs from the page's (an export or its docs differ by feature)" >&2
            exit 1
        fi
        mv "$out/kiln_web_bg.wasm" "$dist/pkg/${name}_bg.wasm"
    fi
done
cp -R "$web/site/." "$dist/"
# The builder page carries its stylesheet and its modules (app.js, server.js, the wasm-bindgen
# glue) inline: its first paint then waits on no request, and the modules, which as files ran
# only once Chromium's tasks for their loading got a turn behind the wasm's streaming compile,
# run when the document is parsed. esbuild (pinned in package.json) bundles and minifies the
# modules (less script for the parser and V8 before the page can start). The
# glue's fallback wasm URL (from import.meta.url) is never used: the page always hands it the
# module compiled by the <head> script.
esbuild="$web/node_modules/.bin/esbuild"
# npm ci when node_modules is missing or older than the lockfile (esbuild here; Zopfli for
# finish.mjs's gzip copies).
if [[ ! -x "$esbuild" || "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]]; then
    if ! command -v npm >/dev/null; then
        echo "build.sh: npm is missing (Node.js 20, as for the tests): it bundles the page's modules" >&2
        exit 1
    fi
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
fi
# The engine's phases, asked at build time: the builder page bundles them to draw its empty
# page before the engine has loaded.
node "$web/prerender.mjs" "$dist"
bundle="$dist/.app.bundle.js"
"$esbuild" "$dist/app.js" --bundle --minify --format=esm --log-level=warning \
    --external:./pkg/kiln_web.js?llm --outfile="$bundle"
# The stylesheet minified too (0.5 KB less to download, gzipped); the dashboard keeps the file.
css="$dist/.style.min.css"
"$esbuild" "$web/site/style.css" --minify --log-level=warning --outfile="$css"
if grep -qi '</script' "$bundle"; then
    echo "build.sh: the bundled modules contain \"</script\", which would end the inline script" >&2
    exit 1
fi
awk -v css="$css" -v js="$bundle" '
    function inline(opening, file, closing) {
        print opening; while ((getline line < file) > 0) print line; print closing; inlined++
    }
    /<link rel="stylesheet" href="style.css">/ { inline("  <style>", css, "  </style>"); next }
    /<link rel="modulepreload" href="(app\.js|server\.js|pkg\/kiln_web\.js)">/ { next }
    /<script type="module" src="app.js"><\/script>/ { inline("  <script type=\"module\">", js, "  </script>"); next }
    { print }
    END { if (inlined != 2) exit 1 }' "$web/site/index.html" > "$dist/index.html" || {
    echo "build.sh: web/site/index.html no longer has the stylesheet link or the app.js module tag; update the inlining above" >&2
    exit 1
}
# Only the builder page used app.js and phases.json; server.js (the dashboard's) and pkg/
# (the tests') stay.
rm "$bundle" "$css" "$dist/app.js" "$dist/phases.json"
# The engine named by its content (cacheable for a year), and .br/.gz copies for kiln serve.
node "$web/finish.mjs" "$dist"
echo "build.sh: wrote $dist" >&2
