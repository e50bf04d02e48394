// Transpiles kiln.wasm into dist/ with the pinned jco. The component is the one the kiln binary
// embeds: $KILN_WASM if set, else host/kiln-wasm writes it from the workspace (needs cargo).
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const wasm =
  process.env.KILN_WASM ?? execFileSync(here('../../kiln-wasm'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const dist = here('../dist');
rmSync(dist, { recursive: true, force: true });
// --instantiation sync: the core modules are compiled once (async) by src/index.js, and an
// instance is then made synchronously, so a trapped instance is replaced within a sync call.
execFileSync(here('../node_modules/.bin/jco'), ['transpile', wasm, '-o', dist, '--name', 'kiln', '--instantiation', 'sync', '--quiet'], {
  stdio: 'inherit',
});
writeFileSync(`${dist}/package.json`, '{"type":"module"}\n');
console.log(`build.mjs: transpiled ${wasm} into dist/`);
