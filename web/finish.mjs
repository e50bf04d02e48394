// The last step of web/build.sh: `node web/finish.mjs web/dist`.
// 1. Names each engine by its content (pkg/kiln_web_bg.<16 hex of its SHA-256>.wasm, and
//    kiln_web_llm_bg.<hash>.wasm) and rewrites the pages and the glue that name it, so servers can cache it for a year
//    (kiln serve marks such names immutable; the HTML itself is revalidated each load).
// 2. Writes a Brotli (.br, quality 11) and a gzip (.gz) copy beside every file worth
//    compressing, which kiln serve sends to browsers that accept them: compressed once here
//    at the highest levels instead of on every request. The gzip copies are Zopfli's (npm
//    @gfx/zopfli, pinned in package.json): plain gzip that any client reads, 6.5% smaller
//    than zlib's level 9 for the engine (268.7 vs 287.3 KB), for ~5 s of build time.
import { createHash } from 'node:crypto';
import { readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { gzipAsync } from '@gfx/zopfli';

const dist = process.argv[2];
if (!dist) throw new Error('usage: node web/finish.mjs <dist directory>');

// Each engine and the files that name it: the builder page (its <head> fetch, the inline
// glue, app.js's online engine) and the glue file (the tests' way to the engine).
const ENGINES = [
  ['kiln_web_bg.wasm', ['index.html', 'pkg/kiln_web.js']],
  ['kiln_web_llm_bg.wasm', ['index.html']],
];
const named = [];
for (const [engine, namers] of ENGINES) {
  const wasm = await readFile(join(dist, 'pkg', engine));
  const hash = createHash('sha256').update(wasm).digest('hex').slice(0, 16);
  const hashed = engine.replace(/\.wasm$/, `.${hash}.wasm`);
  await rename(join(dist, 'pkg', engine), join(dist, 'pkg', hashed));
  for (const file of namers) {
    const text = await readFile(join(dist, file), 'utf8');
    if (!text.includes(engine)) throw new Error(`finish.mjs: ${file} no longer names ${engine}; update the renaming`);
    await writeFile(join(dist, file), text.replaceAll(engine, hashed));
  }
  named.push(hashed);
}

const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.wasm', '.svg', '.txt']);
async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (COMPRESSIBLE.has(extname(entry.name))) yield path;
  }
}
for await (const path of files(dist)) {
  const bytes = await readFile(path);
  await writeFile(`${path}.br`, brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [constants.BROTLI_PARAM_MODE]: extname(path) === '.wasm' ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
    },
  }));
  await writeFile(`${path}.gz`, await gzipAsync(bytes, {}));
}
console.error(`finish.mjs: engines named ${named.map((n) => `pkg/${n}`).join(', ')}; .br and .gz written`);
