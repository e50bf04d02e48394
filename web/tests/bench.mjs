// Measures (not a test): the bundle size, and the time from page load to the first response
// rendered, offline, in headless Chromium. `node web/tests/bench.mjs` after web/build.sh;
// prints a Markdown table for docs/benchmarks.md.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { REQUEST, launch } from './lib.mjs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const RUNS = Number(process.env.RUNS || 15);
const dist = fileURLToPath(new URL('../dist/', import.meta.url));

async function size(files) {
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const bytes = await readFile(join(dist, f));
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gz };
}

const pkg = (await readdir(join(dist, 'pkg'))).map((f) => `pkg/${f}`);
const engine = await size(pkg);
const page = await size([...pkg, 'index.html', 'app.js', 'server.js', 'style.css']);

// The server in its own process, so serving files does not wait on this one's event loop.
const server = spawn(process.execPath, [fileURLToPath(new URL('serve.mjs', import.meta.url)), dist], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = await once(server.stdout, 'data');
const url = String(line).trim().replace(/^listening /, '');
const b = await launch();
const ready = [];
const chunks = [];
const text = [];
const turn = [];
const total = [];
try {
  for (let i = 0; i < RUNS + 2; i++) {
    const p = await b.context.newPage();
    await p.goto(url);
    await p.waitForSelector('body[data-ready="true"]');
    // Submitted by the page itself the moment it is ready, so no automation round trip counts.
    const t = await p.evaluate(async (text) => {
      const readyAt = performance.getEntriesByName('kiln:ready')[0].startTime;
      const box = document.getElementById('composer-text');
      box.value = text;
      const sent = performance.now();
      document.getElementById('composer').requestSubmit();
      await new Promise((resolve) => {
        const check = () => (performance.getEntriesByName('kiln:first-response').length ? resolve() : requestAnimationFrame(check));
        check();
      });
      const at = (name) => performance.getEntriesByName(name)[0].startTime - sent;
      const out = { readyAt, chunks: at('kiln:first-chunks'), text: at('kiln:first-text'), turn: at('kiln:first-response') };
      localStorage.clear();
      return out;
    }, REQUEST);
    await p.close();
    if (i >= 2) {
      ready.push(t.readyAt);
      chunks.push(t.chunks);
      text.push(t.text);
      turn.push(t.turn);
      total.push(t.readyAt + t.text);
    }
  }
} finally {
  await b.close();
  server.kill();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const ms = (x) => `${x.toFixed(1)} ms`;
console.log(`| figure | value |
| --- | --- |
| engine (pkg/: wasm + JS glue), raw / gzip -9 | ${kb(engine.raw)} / ${kb(engine.gz)} |
| whole page (engine + index.html, app.js, server.js, style.css), raw / gzip -9 | ${kb(page.raw)} / ${kb(page.gz)} |
| page load to ready (wasm compiled, session list drawn), median of ${RUNS} | ${ms(median(ready))} |
| first message to the guest's answer (the turn in wasm, stored in localStorage), median | ${ms(median(chunks))} |
| first message to the response's first text painted, median | ${ms(median(text))} |
| first message to the response fully streamed in, median | ${ms(median(turn))} |
| page load to first response rendered (ready + first text), median / worst | ${ms(median(total))} / ${ms(Math.max(...total))} |`);
