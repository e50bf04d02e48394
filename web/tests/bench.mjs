// Measures (not a test): the bundle size, and the time from page load to the first response
// rendered, offline, in headless Chromium. `node web/tests/bench.mjs` after web/build.sh;
// prints a Markdown table for docs/benchmarks.md. `node web/tests/bench.mjs DIR...` measures
// several builds of the site with their runs interleaved, so a change can be compared on a
// machine whose load moves (RUNS=n runs each after 2 warm-ups; default 21).
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { REQUEST, launch } from './lib.mjs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const RUNS = Number(process.env.RUNS || 21);
const WARMUPS = 2;
const dists = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : [fileURLToPath(new URL('../dist/', import.meta.url))];

async function size(dist, files) {
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const bytes = await readFile(join(dist, f));
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gz };
}

/** The static server for `dist` in its own process, so serving files does not wait on this one. */
async function serve(dist) {
  const server = spawn(process.execPath, [fileURLToPath(new URL('serve.mjs', import.meta.url)), dist], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(server.stdout, 'data');
  return { server, url: String(line).trim().replace(/^listening /, '') };
}

// Runs in every page before its own scripts: sends the first message the moment the page says
// it is ready (a microtask after `data-ready` is set, no automation round trip in between),
// and records when the response's text is painted (Element Timing: the frame's presentation,
// not just the DOM change). So the figure is navigation start -> first text on screen, with
// no gap between ready and sending where work could hide. The end is told with a console
// line: waiting with playwright's waitFor* would inject its ~300 KB helper script into the
// page, whose compilation (20-40 ms here) would land in the middle of what is measured.
function sendOnReady(text) {
  window.benchPaints = [];
  new PerformanceObserver((list) => window.benchPaints.push(...list.getEntries())).observe({ type: 'element', buffered: true });
  new PerformanceObserver((list) => {
    if (list.getEntriesByName('kiln:first-response').length) console.log('bench:done');
  }).observe({ type: 'mark' });
  const watch = new MutationObserver(() => {
    if (document.body.dataset.ready !== 'true') return;
    watch.disconnect();
    document.getElementById('composer-text').value = text;
    performance.mark('bench:sent');
    document.getElementById('composer').requestSubmit();
  });
  watch.observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
}

function collect() {
  const at = (name) => performance.getEntriesByName(name)[0].startTime;
  const nav = performance.getEntriesByType('navigation')[0];
  const sent = at('bench:sent');
  const painted = window.benchPaints.find((e) => e.identifier === 'kiln:text' && e.renderTime >= sent);
  const out = {
    html: nav.responseEnd,
    contentful: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    engine: at('kiln:engine'),
    ready: at('kiln:ready'),
    sent,
    chunks: at('kiln:first-chunks'),
    text: at('kiln:first-text'),
    painted: painted ? painted.renderTime : NaN,
    streamed: at('kiln:first-response'),
  };
  localStorage.clear();
  return out;
}

async function measure(runs) {
  const servers = await Promise.all(dists.map(serve));
  const b = await launch();
  await b.context.addInitScript(sendOnReady, REQUEST);
  try {
    for (let i = 0; i < RUNS + WARMUPS; i++) {
      // Each round starts with the next build: a page loaded right after another one runs
      // slower (10-25 ms here), which a fixed order would charge to the later builds.
      for (let j = 0; j < servers.length; j++) {
        const k = (i + j) % servers.length;
        const { url } = servers[k];
        const p = await b.context.newPage();
        const done = p.waitForEvent('console', (m) => m.text() === 'bench:done');
        await p.goto(url, { waitUntil: 'commit' });
        await done;
        const t = await p.evaluate(collect);
        await p.close();
        if (i >= WARMUPS) runs[k].push(t);
      }
    }
  } finally {
    await b.close();
    for (const { server } of servers) server.kill();
  }
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();
const runs = dists.map(() => []);
await measure(runs);
const loadAfter = load();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const ms = (x) => `${x.toFixed(1)} ms`;
for (const [k, dist] of dists.entries()) {
  const pkg = (await readdir(join(dist, 'pkg'))).map((f) => `pkg/${f}`);
  const engine = await size(dist, pkg);
  // What the builder page downloads: its HTML (stylesheet and modules inline) and the wasm,
  // plus the module files an older build of the page still loads by themselves.
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  const linked = ['app.js', 'server.js', 'pkg/kiln_web.js'].filter((f) => html.includes(`src="${f}"`) || html.includes(`href="${f}"`));
  const page = await size(dist, ['index.html', 'pkg/kiln_web_bg.wasm', ...linked]);
  const r = runs[k];
  const m = (f) => ms(median(r.map(f)));
  const total = r.map((t) => t.painted);
  console.log(`${dists.length > 1 ? `\n${dist}\n\n` : ''}| figure (medians of ${RUNS} runs; load average ${loadBefore} before, ${loadAfter} after) | value |
| --- | --- |
| engine (pkg/: wasm + JS glue), raw / gzip -9 | ${kb(engine.raw)} / ${kb(engine.gz)} |
| whole page (index.html with its stylesheet and modules inline, and the wasm), raw / gzip -9 | ${kb(page.raw)} / ${kb(page.gz)} |
| navigation start to the HTML received | ${m((t) => t.html)} |
| navigation start to the page's first contentful paint | ${m((t) => t.contentful)} |
| navigation start to the engine instantiated | ${m((t) => t.engine)} |
| navigation start to ready (engine instantiated, page drawn, one frame) | ${m((t) => t.ready)} |
| first message (sent on ready) to the guest's answer (the turn in wasm, stored in localStorage) | ${m((t) => t.chunks - t.sent)} |
| first message to its first text in the DOM | ${m((t) => t.text - t.sent)} |
| first message to its first text painted | ${m((t) => t.painted - t.sent)} |
| first message to the response fully streamed in | ${m((t) => t.streamed - t.sent)} |
| **page load to first response rendered** (navigation start to the first text painted), median / worst | **${ms(median(total))}** / ${ms(Math.max(...total))} |`);
}
