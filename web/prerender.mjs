// A step of web/build.sh: `node web/prerender.mjs web/dist` writes dist/phases.json, the
// engine's own `phases()` asked at build time, which the builder page bundles: it draws its
// empty page (the stepper) and says it is ready without waiting for the engine, whose
// download and compile then overlap the page's first frame and the person's first message.
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.argv[2];
if (!dist) throw new Error('usage: node web/prerender.mjs <dist directory>');
const pkg = join(resolve(dist), 'pkg');
const { initSync, phases } = await import(pathToFileURL(join(pkg, 'kiln_web.js')).href);
initSync({ module: await readFile(join(pkg, 'kiln_web_bg.wasm')) });
await writeFile(join(dist, 'phases.json'), phases());
